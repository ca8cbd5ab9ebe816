"""
Pricing a grid search before running it on hardware
===================================================

On a quantum device every kernel entry is a circuit run ``shots`` times, and a grid search
fits many models. :class:`~skqml.backends.ResourceCounter` counts what a model asks a
backend for; with ``dry_run=True`` it sends nothing and answers from the exact simulator, so
the whole search runs here, in seconds, and reports what it would have cost on the device.

Here a ``QSVC`` with a ``ZZFeatureMap`` is grid-searched over ``reps`` and ``C`` on the
standardised wine data reduced to 4 features, as if on IBM's Brisbane device (its fake twin,
``fake_brisbane``: qubits, gates and timings of the real device), with 1024 shots per
circuit. The script prints the circuits, shots and jobs the search would submit, per kind of
request, and an estimate of the device time from what the device reports: per circuit the
duration of the transpiled overlap circuit plus the device's default repetition delay
between shots, times the shots. That is a lower bound: queueing, compilation and the
runtime's own overheads come on top.

It also shows where the circuits go: the grid over ``C`` refits the same kernel, so each of
its values pays for the Gram matrices again.
"""

import numpy as np
from sklearn.datasets import load_wine
from sklearn.decomposition import PCA
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skqml.backends import QiskitBackend, ResourceCounter, compute_uncompute
from skqml.circuits import ZZFeatureMap
from skqml.svm import QSVC

X, y = load_wine(return_X_y=True)
X, y = X[y < 2], y[y < 2]  # two classes: 130 samples

device = QiskitBackend(device="fake_brisbane", shots=1024)
counter = ResourceCounter(device, dry_run=True)
model = make_pipeline(StandardScaler(), PCA(4), QSVC(ZZFeatureMap(), backend=counter))
grid = {"qsvc__feature_map__reps": [1, 2], "qsvc__C": [1.0, 10.0, 100.0]}
cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
# n_jobs=1: the counts are kept in this process (see ResourceCounter's notes).
search = GridSearchCV(model, grid, cv=cv, n_jobs=1).fit(X, y)
print(f"best: {search.best_params_}, mean CV accuracy: {search.best_score_:.3f}")

# %%
# What the search would have submitted, per kind of request.
print(f"\n{'request':<18}{'qubits':>7}{'circuits':>11}{'shots':>14}{'jobs':>7}")
kinds: dict[tuple[str, int], np.ndarray] = {}
for r in counter.requests_:
    key = (r.method, r.n_qubits)
    kinds[key] = kinds.get(key, 0) + np.array([r.n_circuits, r.n_shots, r.n_submissions])
for (method, width), (circuits, shots, jobs) in kinds.items():
    print(f"{method:<18}{width:>7}{circuits:>11,}{shots:>14,}{jobs:>7,}")
total = (counter.n_circuits_, counter.n_shots_, counter.n_submissions_)
print(f"{'total':<25}{total[0]:>11,}{total[1]:>14,}{total[2]:>7,}")
n_fits = len(search.cv_results_["params"]) * cv.get_n_splits() + 1
print(f"{n_fits} fits, each computing its Gram matrices again, whatever C is")

# %%
# Device time, from what the device reports: the duration of the transpiled overlap
# circuit and the default delay between shots, times the shots. The two ``reps`` run
# different circuits: their requests are counted apart by cross-validating each ``reps``
# alone (``refit=False``), and the refit of the best model once more.
try:
    from qiskit import QuantumCircuit, transpile
    from qiskit_ibm_runtime.fake_provider import FakeBrisbane
except ImportError:  # the qiskit extra is not installed: the counts only
    print("\nno device time estimate: skqml[qiskit] is not installed")
else:
    brisbane = FakeBrisbane()
    rep_delay = brisbane.configuration().default_rep_delay  # seconds
    print(f"\nfake_brisbane: {rep_delay * 1e6:.0f} us between shots")
    angles = np.full(8, 0.5)  # the gates, so the duration, do not depend on the angles
    best_reps = search.best_params_["qsvc__feature_map__reps"]
    device_seconds, shots_counted = 0.0, 0
    for reps in grid["qsvc__feature_map__reps"]:
        overlap = compute_uncompute(ZZFeatureMap(reps=reps).build(4), 4)
        qasm = overlap.to_qasm(angles)
        qc = transpile(QuantumCircuit.from_qasm_str(qasm), brisbane, seed_transpiler=0)
        duration = qc.estimate_duration(brisbane.target, unit="s")
        part = ResourceCounter(device, dry_run=True)
        alone = {**grid, "qsvc__feature_map__reps": [reps]}
        GridSearchCV(model.set_params(qsvc__backend=part), alone, cv=cv, refit=False).fit(X, y)
        if reps == best_reps:
            model.set_params(**search.best_params_).fit(X, y)  # the search's refit
        seconds = part.n_shots_ * (duration + rep_delay)
        device_seconds += seconds
        shots_counted += part.n_shots_
        print(
            f"reps={reps}: overlap circuit {duration * 1e6:.1f} us, "
            f"{part.n_shots_:,} shots, about {seconds / 3600:.1f} h on the device"
        )
    assert shots_counted == counter.n_shots_  # the parts add up to the whole search
    print(f"the whole search: at least {device_seconds / 3600:.1f} h of device time")
