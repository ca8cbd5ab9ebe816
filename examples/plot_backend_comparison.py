"""
Exact vs finite shots vs noisy backend
======================================

On hardware a fidelity-kernel entry ``|<phi(y)|phi(x)>|**2`` is not computed but estimated:
the compute-uncompute circuit ``U(y)^dagger U(x)`` is run ``shots`` times, and the share of
all-zeros outcomes is the estimate. ``ShotsBackend`` reproduces that on skqml's simulator,
seeded, with optional readout error and global depolarizing noise. Backends are
hyperparameters, so the same ``QSVC`` (a ``ZZFeatureMap(reps=2)`` on the 2-qubit "ad hoc" data
of Havlicek et al. 2019) runs on any of them.

The script prints and plots:

- the relative Frobenius error ``|K_shots - K_exact| / |K_exact|`` of the training Gram matrix
  against the number of shots. Each off-diagonal entry is a binomial frequency with variance
  ``k (1 - k) / shots``, so without noise the error falls as ``1 / sqrt(shots)``; the script
  prints the fitted slope and the error that this variance predicts. Readout error and
  depolarizing noise bias the entries, so their error stops falling at a floor;
- the test accuracy of the ``QSVC`` on each backend;
- a ``GridSearchCV`` whose grid holds backends, a string and backend objects, as a user would
  write it.

With matplotlib installed, the script saves both plots to a temporary directory.
"""

import tempfile
from pathlib import Path

import numpy as np
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split

from skqml.backends import ShotsBackend
from skqml.circuits import ZZFeatureMap
from skqml.datasets import make_ad_hoc
from skqml.kernels import FidelityQuantumKernel
from skqml.svm import QSVC

# The features are already angles in [0, 2 pi), the range the ZZ feature map acts on. A small
# gap between the classes makes the problem hard enough for shot noise to matter.
X, y = make_ad_hoc(n_samples=200, n_features=2, gap=0.1, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.5, stratify=y, random_state=0
)
feature_map = ZZFeatureMap(reps=2)
# bandwidth=1.0 keeps those angles as they are (the default, "scale", is for ordinary data).
BANDWIDTH = 1.0

# %%
# Gram-matrix error against shots. ``enforce_psd=False`` keeps the raw estimates; the
# default (``True``) then projects them onto the positive semidefinite cone, which can only
# bring them closer to the exact (positive semidefinite) matrix.
K_exact = FidelityQuantumKernel(feature_map, bandwidth=BANDWIDTH)(X_train)
norm = np.linalg.norm(K_exact)
off = ~np.eye(len(K_exact), dtype=bool)
shot_counts = [16, 64, 256, 1024, 4096, 16384]
settings = {
    "no noise, raw estimates": ({}, False),
    "no noise, PSD-projected": ({}, True),
    "readout_error=0.02": ({"readout_error": 0.02}, False),
    "depolarizing=0.05": ({"depolarizing": 0.05}, False),
}
errors = {name: [] for name in settings}
for shots in shot_counts:
    for name, (noise, psd) in settings.items():
        backend = ShotsBackend(shots=shots, seed=0, **noise)
        K = FidelityQuantumKernel(
            feature_map, backend=backend, enforce_psd=psd, bandwidth=BANDWIDTH
        )(X_train)
        errors[name].append(np.linalg.norm(K - K_exact) / norm)
predicted = [np.sqrt(np.sum(K_exact[off] * (1 - K_exact[off])) / s) / norm for s in shot_counts]

print(f"relative Frobenius error of the {len(K_exact)} x {len(K_exact)} training Gram matrix")
print("shots  " + "".join(f"{name:>25s}" for name in settings) + "  binomial prediction")
for i, shots in enumerate(shot_counts):
    cells = "".join(f"{errors[name][i]:25.4f}" for name in settings)
    print(f"{shots:5d}  {cells}  {predicted[i]:19.4f}")
slope = np.polyfit(np.log(shot_counts), np.log(errors["no noise, raw estimates"]), 1)[0]
print(f"log-log slope without noise: {slope:.3f} (1 / sqrt(shots) is -0.5)")

# %%
# The same QSVC on each backend: a backend object carries its shots, seed and noise.
# Depolarizing noise maps each estimated off-diagonal entry ``k`` to ``(1 - p) k + p / 4`` on
# 2 qubits (the diagonal of K(X, X) stays 1): a constant, which the SVM's dual constraint
# ``sum_i alpha_i y_i = 0`` cancels, a factor, which amounts to another ``C``, and a term on
# the diagonal. It mainly makes the data part of each entry smaller next to the shot noise.
# Readout error is not of that form: misread bits move probability into the all-zeros outcome
# from every other outcome of the overlap circuit.
backends = {
    "statevector (exact)": "statevector",
    **{f"{s} shots": ShotsBackend(shots=s, seed=0) for s in (16, 64, 256, 1024, 4096)},
    "1024 shots, readout 0.02": ShotsBackend(shots=1024, seed=0, readout_error=0.02),
    "1024 shots, depolarizing 0.05": ShotsBackend(shots=1024, seed=0, depolarizing=0.05),
}
accuracies = {}
print()
for name, backend in backends.items():
    clf = QSVC(feature_map, backend=backend, bandwidth=BANDWIDTH).fit(X_train, y_train)
    accuracies[name] = clf.score(X_test, y_test)
    print(f"{name:30s} test accuracy: {accuracies[name]:.3f}")

# %%
# Backends in a grid search. The string "shots" would also work, but it names an unseeded
# ShotsBackend (fresh random numbers on every call); seeded objects give repeatable scores.
grid = {
    "backend": [
        "statevector",
        ShotsBackend(shots=64, seed=0),
        ShotsBackend(shots=256, seed=0),
        ShotsBackend(shots=256, seed=0, readout_error=0.02, depolarizing=0.05),
    ]
}
cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
qsvc = QSVC(feature_map, bandwidth=BANDWIDTH)
search = GridSearchCV(qsvc, grid, cv=cv, n_jobs=2).fit(X_train, y_train)
print("\nGridSearchCV over backends, mean CV accuracy on the training set")
results = search.cv_results_
labels = [repr(backend) for backend in results["param_backend"]]
width = max(len(label) for label in labels)
for label, mean, std, rank in zip(
    labels,
    results["mean_test_score"],
    results["std_test_score"],
    results["rank_test_score"],
    strict=True,
):
    print(f"  {label:{width}s}  CV accuracy: {mean:.3f} ± {std:.3f}  (rank {rank})")
print(f"best backend: {search.best_params_['backend']!r}")
print(f"held-out test accuracy of the refitted best model: {search.score(X_test, y_test):.3f}")

try:
    import matplotlib.pyplot as plt
except ImportError:
    plt = None
    print("matplotlib is not installed: no figure (pip install matplotlib to get one)")

if plt is not None:
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    for name, values in errors.items():
        ax1.loglog(shot_counts, values, "o-", ms=4, label=name)
    ax1.loglog(shot_counts, predicted, "k--", label="binomial prediction ∝ 1/sqrt(shots)")
    ax1.set_xlabel("shots per kernel entry")
    ax1.set_ylabel("relative Frobenius error of the Gram matrix")
    ax1.set_title(f"Training Gram matrix ({len(K_exact)} samples, 2 qubits)")
    ax1.legend(fontsize=8)
    names = list(accuracies)
    ax2.barh(names, [accuracies[n] for n in names], color="tab:blue")
    for k, name in enumerate(names):
        ax2.text(accuracies[name] + 0.005, k, f"{accuracies[name]:.2f}", va="center")
    ax2.set_xlim(0.5, 1.05)
    ax2.invert_yaxis()
    ax2.set_xlabel("test accuracy")
    ax2.set_title("QSVC, ZZFeatureMap(reps=2), by backend")
    fig.tight_layout()
    path = Path(tempfile.mkdtemp(prefix="skqml-")) / "backend_comparison.png"
    fig.savefig(path, dpi=80)
    print(f"figure saved to {path}")
