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

import hashlib
import numbers

import numpy as np
from scipy import stats

from ..circuits import Angle, Circuit, Operation, Term
from ..simulator import SimulationMemoryError, simulate
from ..simulator._memory import resolve_max_memory_mb, state_bytes
from ._base import Backend

__all__ = [
    "ShotsBackend",
    "apply_depolarizing",
    "apply_readout_error",
    "compute_uncompute",
]

# Domain tags in the spawn keys, so that no two kinds of draw ever share a stream.
_SAMPLE_TAG = 1
_OVERLAP_TAG = 2


class ShotsBackend(Backend):
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
        shots = self.shots
        if isinstance(shots, bool) or not isinstance(shots, numbers.Integral) or shots <= 0:
            raise ValueError(f"shots must be a positive integer, got {shots!r}")
        seed = self.seed
        if seed is not None and (
            isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0
        ):
            raise ValueError(f"seed must be None or a non-negative integer, got {seed!r}")
        e = _probability(self.readout_error, "readout_error", 0.5)
        p = _probability(self.depolarizing, "depolarizing", 1.0)
        return int(shots), e, p

    def _entropy(self) -> int:
        # One root per call: with seed=None every call (not every row) draws fresh entropy.
        return int(self.seed) if self.seed is not None else np.random.SeedSequence().entropy

    # -- exact distributions ---------------------------------------------------------------------
    def distribution(self, circuit: Circuit, X=None, weights=None, *, max_memory_mb=None):
        """Exact outcome probabilities after noise, shape ``(n_samples, 2**n_qubits)``.

        This is the distribution :meth:`probabilities` samples from.
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
        """
        _, e, p = self._checked()
        XA, XB = _check_features(circuit, XA, XB)
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
        # Rounding can leave tiny negatives or a sum a few ulps above 1: multinomial refuses.
        np.clip(dist, 0.0, None, out=dist)
        dist /= dist.sum(axis=1, keepdims=True)
        root = self._entropy()
        context = _digest(_circuit_text(circuit), _weights_bytes(weights))
        keys = _row_keys(_features_or_empty(X, dist.shape[0]))
        counts = np.empty(dist.shape)
        for i, key in enumerate(keys):
            words = _words([_SAMPLE_TAG, context, key])
            rng = np.random.Generator(
                np.random.PCG64(np.random.SeedSequence(root, spawn_key=words))
            )
            counts[i] = rng.multinomial(shots, dist[i])
        return counts / shots

    def expectations(
        self, circuit: Circuit, paulis, X=None, weights=None, *, max_memory_mb=None
    ) -> np.ndarray:
        """Pauli expectation values estimated from ``shots`` measurements per basis.

        Strings are grouped greedily into qubit-wise commuting sets; each set is measured
        with one circuit (``circuit`` plus basis changes: ``H`` for X, ``Sdg`` then ``H`` for
        Y), and each string's estimate is the mean of ``(-1)**parity`` of the measured bits
        on its support. Identity strings are exactly 1.

        Parameters
        ----------
        circuit : Circuit
            Circuit preparing the state.
        paulis : sequence of str
            Labels over ``I, X, Y, Z`` of length ``n_qubits``; the rightmost character acts
            on qubit 0 (Qiskit order).
        X, weights, max_memory_mb
            As in :meth:`probabilities`.

        Returns
        -------
        values : ndarray of shape (n_samples, len(paulis))
        """
        self._checked()
        n = circuit.n_qubits
        labels = _check_labels(paulis, n)
        n_samples = 1 if X is None else np.asarray(X).shape[0]
        out = np.ones((n_samples, len(labels)))
        for basis, members in _measurement_groups(labels):
            freqs = self.probabilities(
                circuit.compose(_basis_change(n, basis)), X, weights, max_memory_mb=max_memory_mb
            )
            for col in members:
                out[:, col] = freqs @ _parity_signs(n, labels[col])
        return out

    def overlaps(
        self,
        circuit: Circuit,
        XA,
        XB=None,
        symmetric: bool | None = None,
        weights=None,
        *,
        max_memory_mb=None,
    ) -> np.ndarray:
        """Compute-uncompute estimates of ``|<phi(b)|phi(a)>|^2`` for pairs of samples.

        Each pair runs ``U(b)^dagger U(a)`` from ``|0...0>`` for ``shots`` shots; the estimate
        is the frequency of the all-zeros outcome. Its exact probability comes from the
        states' overlap when there is no readout error (the all-zeros amplitude of
        ``U(b)^dagger U(a)|0>`` is ``<phi(b)|phi(a)>``), otherwise from the full outcome
        distribution of the compute-uncompute circuit, simulated in memory-bounded chunks of
        pairs. Each pair is run in a canonical orientation (by its rows' hashes), so the
        estimate is a symmetric function of the two samples.

        Parameters
        ----------
        circuit : Circuit
            Feature-map circuit ``U(x)``.
        XA : array-like of shape (n_a, n_features)
            First samples.
        XB : array-like of shape (n_b, n_features), optional
            Second samples. ``None``: ``XA`` against itself.
        symmetric : bool, optional
            Whether ``K(XA, XA)`` is meant (``XB`` None or equal to ``XA``): then only the
            pairs above the diagonal run, the diagonal is 1 without running, and the matrix
            is mirrored. Default: ``XB is None``.
        weights : array-like, optional
            Trainable weights of the circuit, shared by both halves.
        max_memory_mb : float, optional
            Memory budget of the simulation.

        Returns
        -------
        K : ndarray of shape (n_a, n_b)
            Multiples of ``1 / shots``.
        """
        shots, e, p = self._checked()
        if symmetric is None:
            symmetric = XB is None
        if symmetric and XB is not None and not np.array_equal(np.asarray(XA), np.asarray(XB)):
            raise ValueError("symmetric=True needs XB to be None or equal to XA")
        XA, XB = _check_features(circuit, XA, None if symmetric else XB)
        m = XA.shape[0]
        ia, ib, ka, kb, swap = _pairs(XA, XB, symmetric)
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
        u = _uniforms(self._entropy(), keys)
        counts = stats.binom.ppf(u, shots, probs)
        K = np.empty((m, XB.shape[0]))
        K[ia, ib] = counts / shots
        if symmetric:
            K[ib, ia] = K[ia, ib]
            np.fill_diagonal(K, 1.0)
        return K

    def _pair_probabilities(self, circuit, XA, XB, ia, ib, swap, weights, e, p, max_memory_mb):
        """Noisy all-zeros probability of each pair; ``swap`` runs ``U(a)^dagger U(b)``."""
        n = circuit.n_qubits
        if e == 0:
            # The fidelity is symmetric, so the orientation does not matter here.
            SA = simulate(circuit, XA, weights, max_memory_mb=max_memory_mb)
            SB = SA if XB is XA else simulate(circuit, XB, weights, max_memory_mb=max_memory_mb)
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
                a, b = XA[ia[s]], XB[ib[s]]
                flip = swap[s, None]
                pair_X = np.hstack([np.where(flip, b, a), np.where(flip, a, b)])
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


# --------------------------------------------------------------------------------------------
# Circuits
# --------------------------------------------------------------------------------------------
def compute_uncompute(circuit: Circuit, n_features: int) -> Circuit:
    """The overlap circuit ``U(b)^dagger U(a)``, reading ``a = x[:n]`` and ``b = x[n:2n]``.

    Run on the concatenated features ``[a, b]``; its all-zeros amplitude is
    ``<phi(b)|phi(a)>``.

    Examples
    --------
    >>> import numpy as np
    >>> from skqml.backends import compute_uncompute
    >>> from skqml.circuits import Circuit, feature
    >>> from skqml.simulator import simulate
    >>> cu = compute_uncompute(Circuit(1).ry(feature(0), 0), 1)
    >>> print(cu)
    q0: ─RY(x[0])──RY(-x[1])──
    >>> abs(simulate(cu, [[0.3, 0.3]])[:, 0]).round(12)  # a == b: back to |0>
    array([1.])
    """

    def shifted(angle: Angle) -> Angle:
        return Angle(
            Term(t.coeff, tuple((i + n_features, o, s) for i, o, s in t.factors), t.weights)
            for t in angle.terms
        )

    uncompute = (
        Operation(op.name, op.qubits, tuple(shifted(a) for a in op.params))
        for op in circuit.inverse()
    )
    return Circuit(circuit.n_qubits, (*circuit.operations, *uncompute))


def _basis_change(n: int, basis: str) -> Circuit:
    """Gates that turn measuring ``basis`` (Qiskit-order label) into measuring Z."""
    c = Circuit(n)
    for q, ch in enumerate(reversed(basis)):
        if ch == "X":
            c = c.h(q)
        elif ch == "Y":
            c = c.append("sdg", q).h(q)
    return c


def _check_labels(paulis, n: int) -> list[str]:
    if isinstance(paulis, str):
        raise TypeError("paulis must be a sequence of labels, e.g. ['ZI', 'XX']")
    labels = [str(p).upper() for p in paulis]
    for label in labels:
        if len(label) != n or set(label) - set("IXYZ"):
            raise ValueError(f"Pauli label {label!r} must have {n} characters from I, X, Y, Z")
    return labels


def _measurement_groups(labels: list[str]) -> list[tuple[str, list[int]]]:
    """Greedy qubit-wise commuting groups: ``(basis label, member indices)``."""
    groups: list[tuple[list[str], list[int]]] = []
    for col, label in enumerate(labels):
        if set(label) == {"I"}:
            continue  # exactly 1, nothing to measure
        for basis, members in groups:
            if all(c == "I" or b in ("I", c) for c, b in zip(label, basis, strict=True)):
                basis[:] = [b if c == "I" else c for c, b in zip(label, basis, strict=True)]
                members.append(col)
                break
        else:
            groups.append((list(label), [col]))
    return [("".join(basis).replace("I", "Z"), members) for basis, members in groups]


def _parity_signs(n: int, label: str) -> np.ndarray:
    """``(-1)**(number of set bits of k on the label's support)`` for every outcome k."""
    mask = sum(1 << q for q, ch in enumerate(reversed(label)) if ch != "I")
    bits = np.arange(2**n) & mask
    parity = np.zeros(2**n, dtype=np.int64)
    for q in range(n):
        parity ^= (bits >> q) & 1
    return 1.0 - 2.0 * parity


# --------------------------------------------------------------------------------------------
# Inputs, keys and streams
# --------------------------------------------------------------------------------------------
def _probability(value, name: str, upper: float) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not 0.0 <= float(value) <= upper
    ):
        raise ValueError(f"{name} must be a number in [0, {upper}], got {value!r}")
    return float(value)


def _check_features(circuit: Circuit, XA, XB):
    XA = np.asarray(XA, dtype=float)
    if XA.ndim != 2 or XA.shape[1] < circuit.n_features:
        raise ValueError(
            f"XA must be 2-D with at least {circuit.n_features} features, got shape {XA.shape}"
        )
    if XB is None:
        return XA, XA
    XB = np.asarray(XB, dtype=float)
    if XB.ndim != 2 or XB.shape[1] != XA.shape[1]:
        raise ValueError(f"XB must be 2-D with {XA.shape[1]} features, got shape {XB.shape}")
    return XA, XB


def _pairs(XA: np.ndarray, XB: np.ndarray, symmetric: bool):
    """Pair indices (upper triangle or all), their rows' keys, and which run swapped.

    A pair runs ``U(b)^dagger U(a)`` with ``a`` the row of smaller key, so that its circuit
    and its stream do not depend on which argument, or which position, a sample came in.
    """
    if symmetric:
        ia, ib = np.triu_indices(XA.shape[0], 1)
    else:
        ia, ib = (g.ravel() for g in np.indices((XA.shape[0], XB.shape[0])))
    keys_a = np.array(_row_keys(XA), dtype=np.uint64)
    keys_b = keys_a if symmetric else np.array(_row_keys(XB), dtype=np.uint64)
    ka, kb = keys_a[ia], keys_b[ib]
    return ia, ib, ka, kb, ka > kb


def _pairs_per_chunk(n_qubits: int, max_memory_mb) -> int:
    # Compute-uncompute states of a chunk of pairs, with the simulator's working copies,
    # within a quarter of the budget.
    budget = resolve_max_memory_mb(max_memory_mb) * 1024**2 / 4
    per_pair = 6 * state_bytes(n_qubits)
    if per_pair > budget:
        raise SimulationMemoryError(
            f"an overlap circuit on {n_qubits} qubits", per_pair / 1024**2, budget / 1024**2
        )
    return int(min(1024, budget // per_pair))


def _features_or_empty(X, n_rows: int) -> np.ndarray:
    return np.empty((n_rows, 0)) if X is None else np.asarray(X, dtype=float)


def _row_keys(X: np.ndarray) -> list[int]:
    """A 64-bit hash of each row's features (``-0.0`` and ``0.0`` hash alike)."""
    X = np.ascontiguousarray(X, dtype=float) + 0.0
    return [
        int.from_bytes(hashlib.blake2b(row.tobytes(), digest_size=8).digest(), "little")
        for row in X
    ]


def _circuit_text(circuit: Circuit) -> bytes:
    # Terms are frozen dataclasses of floats and ints: their repr is exact and stable across
    # processes (unlike hash(), which is salted per process for strings).
    ops = [(op.name, op.qubits, [a.terms for a in op.params]) for op in circuit]
    return repr((circuit.n_qubits, ops)).encode()


def _weights_bytes(weights) -> bytes:
    return b"" if weights is None else np.asarray(weights, dtype=float).ravel().tobytes()


def _digest(*parts: bytes) -> int:
    h = hashlib.blake2b(digest_size=8)
    for part in parts:
        h.update(len(part).to_bytes(8, "little"))
        h.update(part)
    return int.from_bytes(h.digest(), "little")


def _words(values) -> tuple[int, ...]:
    """64-bit key parts as fixed-width 32-bit words (low word first), as SeedSequence reads."""
    return tuple(w for v in values for w in (int(v) & _MASK32, int(v) >> 32))


# numpy's SeedSequence constants (numpy/random/bit_generator.pyx; fixed by its stability
# policy, and checked against SeedSequence itself in tests/test_shots.py).
_INIT_A, _MULT_A = 0x43B0D7E5, 0x931E8875
_INIT_B, _MULT_B = 0x8B51F9DD, 0x58F38DED
_MIX_MULT_L, _MIX_MULT_R = 0xCA01F9DD, 0x4973F715
_MASK32, _POOL_SIZE = 0xFFFFFFFF, 4


def _seed_states(root: int, keys: np.ndarray) -> np.ndarray:
    """``SeedSequence(root, spawn_key=_words(k)).generate_state(1, np.uint64)`` per row k.

    The same hash as numpy's SeedSequence, vectorised over rows (its mixing constants
    evolve identically for every key of the same length, so each step is one array
    operation): each key gets the stream that ``SeedSequence.spawn`` would give the child
    at that "index", without building one Python object per kernel pair.
    """
    keys = np.asarray(keys, dtype=np.uint64)
    m = keys.shape[0]
    run = [
        int(root) >> (32 * i) & _MASK32 for i in range(max(1, -(-int(root).bit_length() // 32)))
    ]
    run += [0] * (_POOL_SIZE - len(run))
    entropy = [np.full(m, w, dtype=np.uint32) for w in run]
    for col in keys.T:
        entropy += [(col & _MASK32).astype(np.uint32), (col >> 32).astype(np.uint32)]
    hash_const = _INIT_A

    def hashmix(value):
        nonlocal hash_const
        value = value ^ np.uint32(hash_const)
        hash_const = hash_const * _MULT_A & _MASK32
        value = value * np.uint32(hash_const)
        return value ^ (value >> np.uint32(16))

    def mix(x, y):
        result = np.uint32(_MIX_MULT_L) * x - np.uint32(_MIX_MULT_R) * y
        return result ^ (result >> np.uint32(16))

    pool = [hashmix(entropy[i]) for i in range(_POOL_SIZE)]
    for i_src in range(_POOL_SIZE):
        for i_dst in range(_POOL_SIZE):
            if i_src != i_dst:
                pool[i_dst] = mix(pool[i_dst], hashmix(pool[i_src]))
    for word in entropy[_POOL_SIZE:]:
        for i_dst in range(_POOL_SIZE):
            pool[i_dst] = mix(pool[i_dst], hashmix(word))
    state, hash_const = [], _INIT_B
    for word in pool[:2]:
        value = word ^ np.uint32(hash_const)
        hash_const = hash_const * _MULT_B & _MASK32
        value = value * np.uint32(hash_const)
        state.append((value ^ (value >> np.uint32(16))).astype(np.uint64))
    return state[0] | (state[1] << np.uint64(32))


def _uniforms(root: int, keys: np.ndarray) -> np.ndarray:
    """One uniform in (0, 1) per key, from the top 53 bits of its seed state."""
    return ((_seed_states(root, keys) >> np.uint64(11)).astype(float) + 0.5) * 2.0**-53
