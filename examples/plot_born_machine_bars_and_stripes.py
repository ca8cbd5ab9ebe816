"""
A circuit Born machine learns 3 x 3 bars and stripes
====================================================

The experiment of Liu & Wang (PRA 2018): a quantum circuit Born machine
``p(x) = |<x|U(theta)|0>|^2`` on 9 qubits learns the uniform distribution over the 14 bars
and stripes patterns of a 3 x 3 grid, by minimising the squared maximum mean discrepancy
(Gaussian kernel mixture, bandwidths 0.5, 1, 2, 4) with exact gradients and L-BFGS. The
default circuit is the paper's: 10 layers of rotations, each followed by CNOTs on the
Chow-Liu tree of the patterns (the maximum spanning tree of the pixels' mutual information,
which joins pixels of one row or one column).

It is compared with scikit-learn's ``BernoulliRBM`` (16 hidden units, persistent contrastive
divergence) trained on the same patterns; its settings had the lowest KL in a small grid
(8-32 hidden units, learning rates 0.01-0.2). Settings that put more mass on valid patterns
(up to 0.99) do it by dropping some patterns altogether: their KL is 2-8.

Both are scored exactly, by enumerating all ``2**9 = 512`` images: the probability mass
on valid patterns, the KL divergence ``KL(data || model)``, and the fraction of 1000 drawn
samples that are valid patterns ("sample accuracy"). The RBM's exact probabilities are
``exp(-F(v)) / Z`` with its free energy ``F`` and ``Z`` summed over the 512 images. With
matplotlib installed the script saves a figure of samples of both models.
"""

import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.special import logsumexp
from sklearn.neural_network import BernoulliRBM

from skqml.boltzmann import BornMachine
from skqml.datasets import bars_and_stripes_patterns

SEED = 0
patterns = bars_and_stripes_patterns(3, 3)  # (14, 9), rows flattened row by row
n_bits = patterns.shape[1]
# Column j is bit j of the basis index (skqml's little-endian order, as BornMachine).
images = (np.arange(2**n_bits)[:, None] >> np.arange(n_bits)) & 1
valid = np.zeros(2**n_bits, dtype=bool)
valid[patterns @ (1 << np.arange(n_bits))] = True
target = valid / valid.sum()


def report(name, p, samples, seconds):
    """Valid-pattern mass, exact KL(data || model) and the share of valid samples."""
    kl = float(np.sum(target[valid] * np.log(target[valid] / p[valid])))
    ok = valid[samples @ (1 << np.arange(n_bits))].mean()
    print(
        f"{name:<32} valid-pattern mass: {p[valid].sum():.4f}   KL(data || model): {kl:.4f}"
        f"   sample accuracy: {ok:.3f}   ({seconds:.1f} s)"
    )
    return samples


start = time.perf_counter()
born = BornMachine(random_state=SEED).fit(patterns)
born_time = time.perf_counter() - start
tree = [op.qubits for op in born.circuit_ if op.name == "cnot"][: n_bits - 1]
print(f"Born machine: {born.weights_.size} weights, {born.n_iter_} L-BFGS iterations")
print(f"CNOTs of each layer (Chow-Liu tree, pixel 3 * row + column): {tree}")
born_samples = report(
    "Born machine (MMD, L-BFGS)",
    born.probabilities_,
    born.sample(1000, random_state=SEED),
    born_time,
)

# The RBM sees every pattern equally often (50 copies each: persistent CD takes one Gibbs
# step per mini-batch, so it needs many mini-batches per epoch).
start = time.perf_counter()
rbm = BernoulliRBM(
    n_components=16, learning_rate=0.01, batch_size=10, n_iter=500, random_state=SEED
)
rbm.fit(np.repeat(patterns, 50, axis=0).astype(float))
log_unnorm = -rbm._free_energy(images.astype(float))
p_rbm = np.exp(log_unnorm - logsumexp(log_unnorm))
rbm_time = time.perf_counter() - start
rng = np.random.RandomState(SEED)
rbm_samples = images[rng.choice(images.shape[0], size=1000, p=p_rbm / p_rbm.sum())]
report("BernoulliRBM (16 hidden, PCD)", p_rbm, rbm_samples, rbm_time)

try:
    import matplotlib.pyplot as plt
except ImportError:  # the figure is optional
    plt = None

if plt is not None:
    fig, axes = plt.subplots(2, 12, figsize=(12, 2.4))
    for row, (name, samples) in enumerate(
        [("Born machine", born_samples), ("BernoulliRBM", rbm_samples)]
    ):
        for k, ax in enumerate(axes[row]):
            ax.imshow(samples[k].reshape(3, 3), cmap="gray_r", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[row, 0].set_ylabel(name, rotation=0, ha="right", va="center")
    fig.suptitle("Samples of models trained on 3 x 3 bars and stripes")
    path = Path(tempfile.gettempdir()) / "born_machine_bars_and_stripes.png"
    fig.savefig(path, dpi=100, bbox_inches="tight")
    print(f"figure saved to {path}")
