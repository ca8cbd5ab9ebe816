"""
Quantum Boltzmann machines on a mixture of Bernoulli modes
==========================================================

The experiment of Amin et al. (PRX 2018, Fig. 3) at a size that runs in seconds: 8 visible
units, 8 random modes, each bit copied from its mode with probability 0.9. Three fully
visible models (no hidden units, all pairs coupled) are trained with L-BFGS on 20000 samples
and compared by the exact KL divergence ``KL(P || p_model)`` from the true mixture ``P``:

- a classical Boltzmann machine (``transverse_field=0``, exact likelihood);
- a bound-trained QBM (bQBM: the Golden-Thompson bound, fixed ``Gamma = 2``);
- a likelihood-trained QBM that learns one ``Gamma_a`` per qubit, starting from 1.

The paper's ordering is KL(BM) > KL(bQBM) > KL(QBM). The learned-Gamma QBM keeps improving
as all its parameters grow together (towards the zero-temperature limit, where the Gibbs state
becomes a ground state), so it never converges: its 200 iterations act as early stopping and
the ConvergenceWarning is expected.

The script also trains a ``QBMClassifier`` to tell the modes apart (3 label qubits) and
prints its test accuracy next to that of the Bayes-optimal classifier. With matplotlib
installed it saves a figure of the four distributions.
"""

import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from skqml.boltzmann import QBMClassifier, QuantumBoltzmannMachine
from skqml.datasets import make_bernoulli_mixture

N_VISIBLE, N_MODES, KEEP, SEED = 8, 8, 0.9, 0
X, modes = make_bernoulli_mixture(
    20000, n_features=N_VISIBLE, n_modes=N_MODES, p=KEEP, random_state=SEED
)

# The exact mixture: make_bernoulli_mixture draws the centres first from RandomState(seed).
centres = np.random.RandomState(SEED).randint(0, 2, size=(N_MODES, N_VISIBLE))
states = (np.arange(2**N_VISIBLE)[:, None] >> np.arange(N_VISIBLE - 1, -1, -1)) & 1
distance = (states[:, None, :] != centres[None]).sum(-1)
target = (KEEP ** (N_VISIBLE - distance) * (1 - KEEP) ** distance).mean(axis=1)

models = {
    "classical BM (Gamma = 0)": QuantumBoltzmannMachine(transverse_field=0.0),
    "bound-trained QBM (Gamma = 2)": QuantumBoltzmannMachine(
        transverse_field=2.0, objective="bound"
    ),
    "likelihood QBM, learned Gamma": QuantumBoltzmannMachine(
        transverse_field=1.0, learn_transverse_field=True
    ),
}
distributions = {}
for name, model in models.items():
    start = time.perf_counter()
    with warnings.catch_warnings():
        if "learned" in name:  # see the docstring: no finite optimum
            warnings.simplefilter("ignore", ConvergenceWarning)
        model.set_params(optimizer="lbfgs", max_iter=200, tol=1e-5, random_state=0).fit(X)
    log_p = model.score_samples(states)
    distributions[name] = np.exp(log_p)
    kl = target @ (np.log(target) - log_p)
    gamma = model.transverse_field_.mean()
    print(
        f"{name:31s} exact KL = {kl:.4f}   mean Gamma = {gamma:.2f}   "
        f"({model.n_iter_} iterations, {time.perf_counter() - start:.1f} s)"
    )

# Which mode produced a sample? Three label qubits encode the 8 modes.
X_train, X_test, y_train, y_test = train_test_split(
    X[:600], modes[:600], test_size=0.5, random_state=0
)
clf = QBMClassifier(n_hidden=0, optimizer="lbfgs", max_iter=500, random_state=0)
clf.fit(X_train, y_train)
print(
    f"QBMClassifier, {clf.n_qubits_} qubits: mode test accuracy: {clf.score(X_test, y_test):.3f}"
)
# Reference: the Bayes-optimal classifier, which knows the centres (two are 1 bit apart).
log_like = np.log(KEEP) * (N_VISIBLE - distance) + np.log(1 - KEEP) * distance
bayes = np.argmax(log_like[X_test @ (1 << np.arange(N_VISIBLE - 1, -1, -1))], axis=1)
print(f"Bayes-optimal classifier:    mode test accuracy: {np.mean(bayes == y_test):.3f}")

try:
    import matplotlib.pyplot as plt
except ImportError:
    plt = None
    print("matplotlib is not installed: no figure (pip install matplotlib to get one)")

if plt is not None:
    order = np.argsort(target)[::-1]
    fig, ax = plt.subplots(figsize=(10, 4))
    ax.plot(target[order], "k-", lw=2, label="true mixture")
    for name, p in distributions.items():
        ax.plot(p[order], lw=1, label=name)
    ax.set_yscale("log")
    ax.set_xlabel("visible state, by decreasing true probability")
    ax.set_ylabel("probability")
    ax.legend()
    fig.tight_layout()
    path = Path(tempfile.mkdtemp(prefix="skqml-")) / "qbm_bernoulli_mixture.png"
    fig.savefig(path, dpi=80)
    print(f"figure saved to {path}")
