"""Finite-shot sampling with closed-form noise, on skqml's statevector simulator.

The exact outcome distribution of each circuit is computed by the simulator, the noise models
are applied to it in closed form, and the shots are drawn from the result: multinomially for
probabilities and expectation values, binomially (the all-zeros outcome) for the overlaps of
fidelity kernels. What a hardware run would do gate by gate (depolarise, misread bits) is here
one linear map on the distribution, so noise costs no extra simulation.

Random streams. Every row (or pair of rows, for overlaps) has its own stream,
``SeedSequence(seed, spawn_key=key)`` (the child ``SeedSequence(seed).spawn`` would give at
"index" ``key``), where ``key`` is a hash of what is run: the circuit, the weights, and the
row's features (for a pair, both rows' features, in a canonical order). Rows draw their
multinomial counts from a ``Generator`` on that stream. Pairs, which are many, each take one
uniform from their stream's first state word (the same hash computed for all pairs at once
by :func:`_seed_states`) and invert the binomial CDF with it.

Keying by content rather than by position makes results independent of ``n_jobs``, of how
rows are cut into blocks or tiles, of the order of the rows, and of which other rows share
the call: ``predict(X[:5])`` equals ``predict(X)[:5]``, as scikit-learn's estimator checks
demand (a positional key would break that). The price: a row repeated in a batch is
estimated with the same shots each time (given the seed, the estimate is a fixed function
of the input); use different seeds for independent repetitions.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from .._validation import check_integer, check_real
from ..circuits import Circuit
from ..simulator import simulate
from ..simulator._memory import rows_per_chunk, state_bytes
from ._base import check_pair_features
from ._sampling import (
    SamplingBackend,
    _pairs,
    compute_uncompute,
    pair_rows,
)
from ._seeding import (
    _OVERLAP_TAG,
    _circuit_text,
    _digest,
    _uniforms,
    _weights_bytes,
    root_entropy,
    sample_frequencies,
)

__all__ = ["ShotsBackend", "apply_depolarizing", "apply_readout_error"]


class ShotsBackend(SamplingBackend):
    """Finite-shot sampling on skqml's simulator, with readout and depolarizing noise.

    Parameters
    ----------
    shots : int, default=1024
        Measurements per circuit (per sample, per measurement basis, per kernel pair).
    seed : int or None, default=None
        Root of all random streams. ``None`` draws fresh entropy on every call. Each row
        (each pair, for kernels) gets its own stream keyed by a hash of the circuit, weights
        and features, so results do not depend on ``n_jobs``, block sizes or row order.
    readout_error : float in [0, 0.5], default=0.0
        Probability that a measured bit is flipped, independently per qubit and symmetric
        (``0 -> 1`` as likely as ``1 -> 0``).
    depolarizing : float in [0, 1], default=0.0
        Global depolarizing probability per circuit: the final state is replaced by the
        maximally mixed state with this probability, so outcome probabilities become
        ``(1 - p) * p_exact + p / 2**n_qubits``.

    Attributes
    ----------
    exact : bool
        False: kernels run overlap circuits on this backend instead of comparing states.

    Notes
    -----
    Noise acts on the outcome distribution, in closed form: depolarizing as above, then the
    readout confusion matrix ``[[1 - e, e], [e, 1 - e]]`` on each qubit's axis of the
    distribution reshaped to ``(2,) * n`` (never a ``2**n x 2**n`` matrix). Both maps are
    linear and readout maps the uniform distribution to itself, so their order does not
    matter. Pauli expectations are estimated from the counts of one circuit per
    qubit-wise-commuting group of Pauli strings, with basis changes appended (``H`` before
    measuring X, ``Sdg`` then ``H`` for Y), as on hardware; readout error biases them (a
    weight-``k`` string shrinks by ``(1 - 2e)**k``), and no mitigation is applied.

    Kernel overlaps (:meth:`overlaps`, :meth:`paired_overlaps`) sample each pair's all-zeros
    count (one binomial draw) from its exact probability: without readout error that is the
    fidelity from the two states (the all-zeros amplitude of ``U(b)^dagger U(a)|0>`` is
    ``<phi(b)|phi(a)>``), so no overlap circuit is simulated; with readout error the full
    outcome distribution of each overlap circuit is simulated, in memory-bounded chunks of
    pairs, because misread bits move probability into the all-zeros outcome from every
    other.

    Examples
    --------
    >>> import numpy as np
    >>> from skqml.backends import ShotsBackend
    >>> from skqml.circuits import Circuit
    >>> bell = Circuit(2).h(0).cnot(0, 1)
    >>> backend = ShotsBackend(shots=1000, seed=0)
    >>> p = backend.probabilities(bell)
    >>> p.shape, p[0, [1, 2]], float(p[0, [0, 3]].sum())  # only 00 and 11 are measured
    ((1, 4), array([0., 0.]), 1.0)
    >>> ShotsBackend(readout_error=0.1).distribution(bell).round(3)  # exact, with noise
    array([[0.41, 0.09, 0.09, 0.41]])
    >>> est = backend.expectations(bell, ["ZZ", "XX", "ZI"])  # exact: 1, 1, 0
    >>> est[0, :2], bool(abs(est[0, 2]) < 5 / np.sqrt(1000))
    (array([1., 1.]), True)
    """

    exact = False

    def __init__(
        self,
        shots: int = 1024,
        seed: int | None = None,
        readout_error: float = 0.0,
        depolarizing: float = 0.0,
    ):
        self.shots = shots
        self.seed = seed
        self.readout_error = readout_error
        self.depolarizing = depolarizing

    # -- validation -----------------------------------------------------------------------------
    def _checked(self) -> tuple[int, float, float]:
        shots = check_integer(self.shots, "shots", low=1)
        if self.seed is not None:
            check_integer(self.seed, "seed", low=0)
        e = check_real(self.readout_error, "readout_error", 0, high=0.5)
        p = check_real(self.depolarizing, "depolarizing", 0, high=1)
        return shots, e, p

    # -- exact distributions ---------------------------------------------------------------------
    def distribution(self, circuit: Circuit, X=None, weights=None, *, max_memory_mb=None):
        """Exact outcome probabilities after noise, shape ``(n_samples, 2**n_qubits)``.

        This is the distribution :meth:`probabilities` samples from.

        Parameters
        ----------
        circuit : Circuit
            Circuit to run, from ``|0...0>``.
        X : array-like of shape (n_samples, n_features), optional
            Features; without them the circuit runs once.
        weights : array-like of shape (n_weights,), optional
            Trainable weights, shared by all samples.
        max_memory_mb : float, optional
            Memory budget of the simulation.

        Returns
        -------
        probs : ndarray of shape (n_samples, 2**n_qubits)
            Rows sum to 1; little-endian basis order.
        """
        _, e, p = self._checked()
        states = simulate(circuit, X, weights, max_memory_mb=max_memory_mb)
        probs = states.real**2 + states.imag**2
        return apply_readout_error(apply_depolarizing(probs, p), e)

    def overlap_probabilities(
        self, circuit: Circuit, XA, XB=None, weights=None, *, max_memory_mb=None
    ) -> np.ndarray:
        """Exact all-zeros probability of each pair's overlap circuit after noise.

        This is what :meth:`overlaps` samples from, for all pairs ``(XA[i], XB[j])``
        (``XB=None``: ``XA``, diagonal included). Without noise it is the fidelity
        ``|<phi(b)|phi(a)>|^2``. With readout error it depends on which sample is computed
        and which uncomputed; each pair runs in the canonical orientation of
        :meth:`overlaps` (``U(b)^dagger U(a)`` with ``a`` the row of smaller hash).

        Parameters
        ----------
        circuit : Circuit
            Feature-map circuit ``U(x)``.
        XA : array-like of shape (n_a, n_features)
            First samples.
        XB : array-like of shape (n_b, n_features), optional
            Second samples. ``None``: ``XA``.
        weights : array-like, optional
            Trainable weights of the circuit, shared by both halves.
        max_memory_mb : float, optional
            Memory budget of the simulation.

        Returns
        -------
        probs : ndarray of shape (n_a, n_b)
        """
        _, e, p = self._checked()
        XA, XB = check_pair_features(circuit, XA, XB)
        ia, ib, _, _, swap = _pairs(XA, XB, symmetric=False)
        probs = self._pair_probabilities(
            circuit, XA, XB, ia, ib, swap, weights, e, p, max_memory_mb
        )
        return probs.reshape(XA.shape[0], XB.shape[0])

    # -- sampled estimates -----------------------------------------------------------------------
    def probabilities(self, circuit: Circuit, X=None, weights=None, *, max_memory_mb=None):
        """Outcome frequencies from ``shots`` measurements of each sample's circuit.

        Parameters
        ----------
        circuit : Circuit
            Circuit to run, from ``|0...0>``.
        X : array-like of shape (n_samples, n_features), optional
            Features; without them the circuit runs once.
        weights : array-like of shape (n_weights,), optional
            Trainable weights, shared by all samples.
        max_memory_mb : float, optional
            Memory budget of the simulation.

        Returns
        -------
        freqs : ndarray of shape (n_samples, 2**n_qubits)
            Multiples of ``1 / shots`` summing to 1 per row, little-endian basis order.
        """
        shots, _, _ = self._checked()
        dist = self.distribution(circuit, X, weights, max_memory_mb=max_memory_mb)
        return sample_frequencies(dist, shots, self.seed, circuit, X, weights)

    def _pair_estimates(self, circuit, XA, XB, pairs, weights, max_memory_mb) -> np.ndarray:
        shots, e, p = self._checked()
        ia, ib, ka, kb, swap = pairs
        probs = self._pair_probabilities(
            circuit, XA, XB, ia, ib, swap, weights, e, p, max_memory_mb
        )
        context = _digest(_circuit_text(circuit), _weights_bytes(weights))
        keys = np.column_stack(
            [
                np.full(len(ka), _OVERLAP_TAG, dtype=np.uint64),
                np.full(len(ka), context, dtype=np.uint64),
                np.minimum(ka, kb),
                np.maximum(ka, kb),
            ]
        )
        # One binomial draw per pair by inversion of its own uniform: vectorised over all
        # pairs, where one Generator per pair would cost ~30 us each.
        u = _uniforms(root_entropy(self.seed), keys)
        return stats.binom.ppf(u, shots, probs) / shots

    def _pair_probabilities(self, circuit, XA, XB, ia, ib, swap, weights, e, p, max_memory_mb):
        """Noisy all-zeros probability of each pair; ``swap`` runs ``U(a)^dagger U(b)``."""
        n = circuit.n_qubits
        if e == 0:
            # The fidelity is symmetric, so the orientation does not matter here.
            SA = simulate(circuit, XA, weights, max_memory_mb=max_memory_mb)
            SB = SA if XB is XA else simulate(circuit, XB, weights, max_memory_mb=max_memory_mb)
            if len(ia) <= max(SA.shape[0], SB.shape[0]):  # a list of pairs: row by row
                amp = np.einsum("ij,ij->i", SA[ia], SB[ib].conj())
                zero = amp.real**2 + amp.imag**2
            else:  # a grid of pairs: one matrix product
                amp = SA @ SB.conj().T
                zero = (amp.real**2 + amp.imag**2)[ia, ib]
        else:
            cu = compute_uncompute(circuit, XA.shape[1])
            # P(read 0...0 | outcome k) = e**|k| (1 - e)**(n - |k|): for symmetric flips the
            # same as P(read k | outcome 0...0), one row of the readout map.
            readout = apply_readout_error(np.eye(1, 2**n), e)[0]
            zero = np.empty(len(ia))
            step = _pairs_per_chunk(n, max_memory_mb)
            for start in range(0, len(ia), step):
                s = slice(start, start + step)
                pair_X = pair_rows(XA, XB, ia[s], ib[s], swap[s])
                states = simulate(cu, pair_X, weights, max_memory_mb=max_memory_mb)
                zero[s] = (states.real**2 + states.imag**2) @ readout
        return np.clip((1 - p) * zero + p / 2**n, 0.0, 1.0)


# --------------------------------------------------------------------------------------------
# Noise channels on outcome distributions
# --------------------------------------------------------------------------------------------
def apply_depolarizing(probs: np.ndarray, p: float) -> np.ndarray:
    """Outcome distribution after global depolarizing noise: ``(1 - p) probs + p / 2**n``.

    Examples
    --------
    >>> import numpy as np
    >>> from skqml.backends import apply_depolarizing
    >>> apply_depolarizing(np.array([[1.0, 0.0, 0.0, 0.0]]), 0.2)
    array([[0.85, 0.05, 0.05, 0.05]])
    """
    probs = np.asarray(probs, dtype=float)
    return probs.copy() if p == 0 else (1 - p) * probs + p / probs.shape[-1]


def apply_readout_error(probs: np.ndarray, e: float) -> np.ndarray:
    """Outcome distribution after independent symmetric bit flips with probability ``e``.

    The 2x2 confusion matrix ``[[1 - e, e], [e, 1 - e]]`` acts on each qubit's axis of the
    distribution (two multiply-adds per qubit), never as a ``2**n x 2**n`` matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from skqml.backends import apply_readout_error
    >>> apply_readout_error(np.array([[1.0, 0.0, 0.0, 0.0]]), 0.1).round(3)  # P(00) = 0.9**2
    array([[0.81, 0.09, 0.09, 0.01]])
    """
    probs = np.array(probs, dtype=float)
    if e == 0:
        return probs
    batch, dim = probs.shape
    n = dim.bit_length() - 1
    for q in range(n):
        v = probs.reshape(batch, 2 ** (n - q - 1), 2, 2**q)
        # Symmetric flips: the new distribution mixes each outcome with its bit-q partner.
        probs = ((1 - e) * v + e * v[:, :, ::-1, :]).reshape(batch, dim)
    return probs


def _pairs_per_chunk(n_qubits: int, max_memory_mb) -> int:
    # Compute-uncompute states of a chunk of pairs, with the simulator's working copies,
    # within a quarter of the budget.
    pairs = rows_per_chunk(
        6 * state_bytes(n_qubits),
        max_memory_mb,
        what="an overlap circuit",
        n_qubits=n_qubits,
        share=0.25,
    )
    return min(1024, pairs)
