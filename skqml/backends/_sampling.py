"""Backends that measure: expectations and kernel overlaps built on outcome frequencies.

Hardware, shot simulators and external SDKs all answer one question, the outcome
frequencies of a batch of circuits (:meth:`SamplingBackend.probabilities`). Everything the
estimators need beyond that is built here, once, for all of them: Pauli expectations from one
measured circuit per qubit-wise commuting group (basis changes appended, as on hardware) and
fidelity-kernel overlaps from compute-uncompute circuits, one per pair of samples, whole
tiles of pairs sent as one batch.
"""

from __future__ import annotations

import numpy as np

from ..circuits import Angle, Circuit, Operation, Term
from ..simulator import SimulationMemoryError
from ..simulator._memory import resolve_max_memory_mb, state_bytes
from ._base import Backend
from ._seeding import _row_keys

__all__ = ["SamplingBackend", "compute_uncompute"]


class SamplingBackend(Backend):
    """Base class of backends that return measured outcome frequencies.

    A subclass implements :meth:`probabilities`; :meth:`expectations` and :meth:`overlaps`
    come from it. Subclasses may override either with something faster that gives the
    same estimates in distribution (the shot simulator computes overlaps in closed form).

    Attributes
    ----------
    exact : bool
        False: kernels run overlap circuits, variational models use parameter shifts.

    Examples
    --------
    A backend that measures by sampling skqml's own simulator: implementing
    :meth:`probabilities` is all it takes to get expectations and kernel overlaps.

    >>> import numpy as np
    >>> from skqml.backends import SamplingBackend
    >>> from skqml.circuits import Circuit
    >>> from skqml.simulator import simulate
    >>> class MyDevice(SamplingBackend):
    ...     def __init__(self, shots=1000):
    ...         self.shots = shots
    ...
    ...     def probabilities(self, circuit, X=None, weights=None, *, max_memory_mb=None):
    ...         p = np.abs(simulate(circuit, X, weights)) ** 2
    ...         rng = np.random.default_rng(0)
    ...         return np.array([rng.multinomial(self.shots, r / r.sum()) for r in p]) / self.shots
    >>> MyDevice().expectations(Circuit(2).h(0).cnot(0, 1), ["ZZ", "XX"])
    array([[1., 1.]])
    """

    exact = False

    def probabilities(
        self, circuit: Circuit, X=None, weights=None, *, max_memory_mb=None
    ) -> np.ndarray:
        """Outcome frequencies of each sample's circuit, shape ``(n_samples, 2**n_qubits)``.

        Parameters
        ----------
        circuit : Circuit
            Circuit to run, from ``|0...0>``, measuring every qubit.
        X : array-like of shape (n_samples, n_features), optional
            Features; without them the circuit runs once.
        weights : array-like of shape (n_weights,), optional
            Trainable weights, shared by all samples.
        max_memory_mb : float, optional
            Memory budget, where the backend simulates locally.

        Returns
        -------
        freqs : ndarray of shape (n_samples, 2**n_qubits)
            Rows sum to 1; basis index ``sum_q b_q 2**q`` (little-endian, as Qiskit).
        """
        raise NotImplementedError(f"{type(self).__name__} does not measure circuits")

    def expectations(
        self, circuit: Circuit, paulis, X=None, weights=None, *, max_memory_mb=None
    ) -> np.ndarray:
        """Pauli expectation values estimated from measured frequencies.

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

        Each pair runs ``U(b)^dagger U(a)`` from ``|0...0>``; the estimate is the frequency
        of the all-zeros outcome. All pairs of the call go to :meth:`probabilities` as one
        batch. Each pair runs in a canonical orientation (``a`` the row of smaller content
        hash), so the pair's circuit does not depend on the argument order; on backends that
        key shots by content (``ShotsBackend``, ``PennyLaneBackend``) the estimate is then a
        symmetric function of the two samples.

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
            Memory budget, where the backend simulates locally.

        Returns
        -------
        K : ndarray of shape (n_a, n_b)
        """
        symmetric, XA, XB = _check_overlap_args(circuit, XA, XB, symmetric)
        pairs = _pairs(XA, XB, symmetric)
        K = np.empty((XA.shape[0], XB.shape[0]))
        ia, ib = pairs[:2]
        K[ia, ib] = self._pair_estimates(circuit, XA, XB, pairs, weights, max_memory_mb)
        if symmetric:
            K[ib, ia] = K[ia, ib]
            np.fill_diagonal(K, 1.0)
        return K

    def paired_overlaps(
        self, circuit: Circuit, XA, XB, weights=None, *, max_memory_mb=None
    ) -> np.ndarray:
        """Estimates of ``|<phi(b_i)|phi(a_i)>|^2`` for the row pairs ``(XA[i], XB[i])``.

        The same circuits and estimates as the corresponding entries of :meth:`overlaps`,
        for a list of pairs instead of a grid, in one batch: for instance the diagonal
        ``k(x, x)`` that noise mitigation measures is ``paired_overlaps(c, X, X)``.

        Returns
        -------
        values : ndarray of shape (n_pairs,)
        """
        XA, XB = _check_paired(circuit, XA, XB)
        pairs = _pairs(XA, XB, symmetric=False, paired=True)
        return self._pair_estimates(circuit, XA, XB, pairs, weights, max_memory_mb)

    def _pair_estimates(self, circuit, XA, XB, pairs, weights, max_memory_mb) -> np.ndarray:
        """One estimate per pair ``(XA[ia], XB[ib])``: one batch of overlap circuits."""
        ia, ib, _, _, swap = pairs
        cu = compute_uncompute(circuit, XA.shape[1])
        out = np.empty(len(ia))
        # probabilities() returns every outcome of every pair and only the all-zeros one is
        # kept: chunks of pairs keep those rows (and the backend's working set) in budget.
        step = _pairs_per_call(circuit.n_qubits, max_memory_mb)
        for start in range(0, len(ia), step):
            s = slice(start, start + step)
            a, b = XA[ia[s]], XB[ib[s]]
            flip = swap[s, None]
            pair_X = np.hstack([np.where(flip, b, a), np.where(flip, a, b)])
            freqs = self.probabilities(cu, pair_X, weights, max_memory_mb=max_memory_mb)
            out[s] = freqs[:, 0]
        return out


def _pairs_per_call(n_qubits: int, max_memory_mb) -> int:
    """Pairs per probabilities() call: their outcome rows and working states in a quarter
    of the budget (8 bytes per outcome, about four complex states per row)."""
    budget = resolve_max_memory_mb(max_memory_mb) * 1024**2 / 4
    per_pair = 8 * 2**n_qubits + 4 * state_bytes(n_qubits)
    if per_pair > budget:
        raise SimulationMemoryError(
            f"the overlap circuit of one pair of samples on {n_qubits} qubits",
            per_pair / 1024**2,
            budget / 1024**2,
            hint="use fewer qubits or raise the limit",
        )
    return int(budget // per_pair)


def _check_overlap_args(circuit, XA, XB, symmetric):
    if symmetric is None:
        symmetric = XB is None
    if symmetric and XB is not None and not np.array_equal(np.asarray(XA), np.asarray(XB)):
        raise ValueError("symmetric=True needs XB to be None or equal to XA")
    XA, XB = _check_features(circuit, XA, None if symmetric else XB)
    return symmetric, XA, XB


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


def _check_paired(circuit: Circuit, XA, XB):
    XA, XB = _check_features(circuit, XA, XB)
    if XA.shape[0] != XB.shape[0]:
        raise ValueError(
            f"paired overlaps need as many rows in XB as in XA, got {XB.shape[0]} and "
            f"{XA.shape[0]}"
        )
    return XA, XB


def _pairs(XA: np.ndarray, XB: np.ndarray, symmetric: bool, paired: bool = False):
    """Pair indices, their rows' keys, and which pairs run swapped.

    Pairs: row ``i`` with row ``i`` (``paired``), the upper triangle (``symmetric``), or all.
    A pair runs ``U(b)^dagger U(a)`` with ``a`` the row of smaller key, so that its circuit
    and its stream do not depend on which argument, or which position, a sample came in.
    """
    if paired:
        ia = ib = np.arange(XA.shape[0])
    elif symmetric:
        ia, ib = np.triu_indices(XA.shape[0], 1)
    else:
        ia, ib = (g.ravel() for g in np.indices((XA.shape[0], XB.shape[0])))
    keys_a = np.array(_row_keys(XA), dtype=np.uint64)
    keys_b = keys_a if symmetric else np.array(_row_keys(XB), dtype=np.uint64)
    ka, kb = keys_a[ia], keys_b[ib]
    return ia, ib, ka, kb, ka > kb


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
