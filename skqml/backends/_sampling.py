"""Backends that measure: expectations and kernel overlaps built on outcome frequencies.

Hardware, shot simulators and external SDKs all answer one question, the outcome
frequencies of a batch of circuits (:meth:`SamplingBackend.probabilities`). Everything the
estimators need beyond that is built here, once, for all of them: Pauli expectations from one
measured circuit per qubit-wise commuting group (basis changes appended, as on hardware) and
fidelity-kernel overlaps from compute-uncompute circuits, one per pair of samples, whole
tiles of pairs sent as one batch.

Both reduce a measured circuit to a few numbers per row, through two hooks:
:meth:`SamplingBackend.zero_frequencies` (the all-zeros outcome, for overlaps) and
:meth:`SamplingBackend.parity_expectations` (mean parities of the measured bits, for Pauli
strings). Their default implementations read them off :meth:`SamplingBackend.probabilities`,
which needs ``2**n_qubits`` numbers per row; a backend holding the shots themselves overrides
them to read them off the shots, so that wide circuits never need that memory.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_integer, check_pauli_label
from ..circuits import Angle, Circuit, Operation, Term
from ..simulator._memory import rows_per_chunk, state_bytes
from ._base import Backend, check_pair_features, check_paired_features
from ._seeding import _row_keys

__all__ = ["SamplingBackend", "compute_uncompute"]


class SamplingBackend(Backend):
    """Base class of backends that return measured outcome frequencies.

    A subclass implements :meth:`probabilities`; :meth:`expectations` and :meth:`overlaps`
    come from it, through two hooks: :meth:`overlaps` needs only :meth:`zero_frequencies`
    (the frequency of the all-zeros outcome) and :meth:`expectations` only
    :meth:`parity_expectations` (mean parities of measured bits). Their defaults compute
    every outcome's frequency with :meth:`probabilities`, ``2**n_qubits`` numbers per row; a
    backend that holds the measured shots (hardware, a shot simulator's bit strings) should
    override both to count from the shots instead, in memory proportional to the shots, so
    that circuits too wide for ``2**n_qubits`` numbers still run. Subclasses may also
    override :meth:`expectations` or :meth:`overlaps` with something faster that gives the
    same estimates in distribution (the shot simulator computes overlaps in closed form).

    Live SDK objects (devices, sessions, compiled circuits) belong in the instance attribute
    ``_cache``, under the policy of :class:`Backend`: bounded, never pickled nor cloned,
    rebuilt on first use.

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
            out[:, members] = self.parity_expectations(
                circuit.compose(_basis_change(n, basis)),
                [_support_mask(labels[col]) for col in members],
                X,
                weights,
                max_memory_mb=max_memory_mb,
            )
        return out

    def parity_expectations(
        self, circuit: Circuit, masks, X=None, weights=None, *, max_memory_mb=None
    ) -> np.ndarray:
        """Mean of ``(-1)**popcount(outcome & mask)`` over each row's measured outcomes.

        The estimate of a Pauli string's expectation once ``circuit`` includes the basis
        changes of its measurement group: a Z string on the qubits of ``mask``. The default
        weights :meth:`probabilities` by the parity signs of all ``2**n_qubits`` outcomes;
        override it to count parities from the measured shots instead.

        Parameters
        ----------
        circuit : Circuit
            Circuit to measure (state preparation and basis changes), every qubit measured.
        masks : sequence of int
            Qubit masks: bit ``q`` set means qubit ``q`` is in the parity (so ``1 << q`` is
            ``Z`` on qubit ``q``). Python integers, any number of bits.
        X, weights, max_memory_mb
            As in :meth:`probabilities`.

        Returns
        -------
        values : ndarray of shape (n_samples, len(masks))
            Each in ``[-1, 1]``; a zero mask gives 1.

        Examples
        --------
        >>> import numpy as np
        >>> from skqml.backends import ShotsBackend
        >>> from skqml.circuits import Circuit
        >>> bell = Circuit(2).h(0).cnot(0, 1)
        >>> backend = ShotsBackend(shots=1000, seed=0)
        >>> backend.parity_expectations(bell, [0b11, 0b01, 0])  # ZZ, IZ, II: exactly 1, 0, 1
        array([[1.   , 0.038, 1.   ]])
        >>> backend.expectations(bell, ["ZZ", "IZ", "II"])  # the same measured circuit
        array([[1.   , 0.038, 1.   ]])
        """
        n = circuit.n_qubits
        masks = _check_masks(masks, n)
        freqs = self.probabilities(circuit, X, weights, max_memory_mb=max_memory_mb)
        out = np.empty((freqs.shape[0], len(masks)))
        for col, mask in enumerate(masks):
            # One product per mask (not one with a stacked 2**n x k sign matrix): that
            # would be k rows of 2**n more memory, for the same sums. An empty mask is
            # exactly 1, not a sum of frequencies rounded to a few ulps from it.
            out[:, col] = freqs @ _parity_signs(n, mask) if mask else 1.0
        return out

    def zero_frequencies(
        self, circuit: Circuit, X=None, weights=None, *, max_memory_mb=None
    ) -> np.ndarray:
        """Frequency of the all-zeros outcome of each row's circuit.

        What a compute-uncompute circuit estimates a kernel entry by (:meth:`overlaps`).
        The default keeps column 0 of :meth:`probabilities`, run in chunks of rows whose
        ``2**n_qubits`` outcomes fit the budget; override it to count all-zeros shots
        directly.

        Parameters
        ----------
        circuit : Circuit
            Circuit to run, from ``|0...0>``, measuring every qubit.
        X, weights, max_memory_mb
            As in :meth:`probabilities`.

        Returns
        -------
        freqs : ndarray of shape (n_samples,)

        Raises
        ------
        SimulationMemoryError
            When the outcomes of a single row do not fit ``max_memory_mb``.

        Examples
        --------
        >>> import numpy as np
        >>> from skqml.backends import ShotsBackend
        >>> from skqml.circuits import Circuit, feature
        >>> circuit = Circuit(1).ry(feature(0), 0)
        >>> ShotsBackend(shots=1000, seed=0).zero_frequencies(circuit, [[0.0], [np.pi]])
        array([1., 0.])
        """
        n_rows = 1 if X is None else np.asarray(X).shape[0]
        out = np.empty(n_rows)
        # probabilities() returns every outcome of every row and only the all-zeros one is
        # kept: chunks of rows keep those rows (and the backend's working set) in budget.
        step = _rows_per_call(circuit.n_qubits, max_memory_mb)
        for start in range(0, n_rows, step):
            s = slice(start, start + step)
            rows = None if X is None else np.asarray(X)[s]
            out[s] = self.probabilities(circuit, rows, weights, max_memory_mb=max_memory_mb)[:, 0]
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

        Parameters
        ----------
        circuit : Circuit
            Feature-map circuit ``U(x)``.
        XA, XB : array-like of shape (n_pairs, n_features)
            The two samples of each pair.
        weights : array-like, optional
            Trainable weights of the circuit, shared by both halves.
        max_memory_mb : float, optional
            Memory budget, where the backend simulates locally.

        Returns
        -------
        values : ndarray of shape (n_pairs,)
        """
        XA, XB = check_paired_features(circuit, XA, XB)
        pairs = _pairs(XA, XB, symmetric=False, paired=True)
        return self._pair_estimates(circuit, XA, XB, pairs, weights, max_memory_mb)

    def _pair_estimates(self, circuit, XA, XB, pairs, weights, max_memory_mb) -> np.ndarray:
        """One estimate per pair ``(XA[ia], XB[ib])``: one batch of overlap circuits."""
        ia, ib, _, _, swap = pairs
        if len(ia) == 0:
            return np.empty(0)
        cu = compute_uncompute(circuit, XA.shape[1])
        # One row of 2 * n_features numbers per pair: small next to anything a backend
        # computes for it, so all pairs of the call go to the hook at once.
        pair_X = pair_rows(XA, XB, ia, ib, swap)
        return self.zero_frequencies(cu, pair_X, weights, max_memory_mb=max_memory_mb)


def _rows_per_call(n_qubits: int, max_memory_mb) -> int:
    """Rows per probabilities() call of the default hooks: their outcome rows and working
    states in a quarter of the budget (8 bytes per outcome, about four complex states per
    row). A row is one sample, or for kernel entries the overlap circuit of one pair."""
    return rows_per_chunk(
        8 * 2**n_qubits + 4 * state_bytes(n_qubits),
        max_memory_mb,
        what="the outcome frequencies of a sample or of a pair's overlap circuit",
        n_qubits=n_qubits,
        share=0.25,
    )


def _check_overlap_args(circuit, XA, XB, symmetric):
    if symmetric is None:
        symmetric = XB is None
    if symmetric and XB is not None and not np.array_equal(np.asarray(XA), np.asarray(XB)):
        raise ValueError("symmetric=True needs XB to be None or equal to XA")
    XA, XB = check_pair_features(circuit, XA, None if symmetric else XB)
    return symmetric, XA, XB


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


def pair_rows(XA: np.ndarray, XB: np.ndarray, ia, ib, swap) -> np.ndarray:
    """The input rows ``[a, b]`` of the overlap circuits (:func:`compute_uncompute`) of the
    pairs ``(XA[ia], XB[ib])``, each in its canonical orientation (``swap``: ``[b, a]``)."""
    a, b = XA[ia], XB[ib]
    flip = np.asarray(swap)[:, None]
    return np.hstack([np.where(flip, b, a), np.where(flip, a, b)])


def gram_pair_rows(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs above the diagonal of ``K(X, X)`` (``ia < ib``) and the input rows of their
    overlap circuits, in the canonical orientation :meth:`SamplingBackend.overlaps` runs."""
    ia, ib, _, _, swap = _pairs(X, X, symmetric=True)
    return ia, ib, pair_rows(X, X, ia, ib, swap)


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
    return [check_pauli_label(label, n) for label in paulis]


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


def _support_mask(label: str) -> int:
    """Qubit mask of a Pauli label's support (bit ``q``: qubit ``q``, rightmost character)."""
    return sum(1 << q for q, ch in enumerate(reversed(label)) if ch != "I")


def _check_masks(masks, n: int) -> list[int]:
    """Masks as Python ints (any width: hardware registers exceed 64 bits), within ``n``."""
    if isinstance(masks, int | np.integer):
        raise TypeError("masks must be a sequence of qubit masks, e.g. [0b11, 0b01]")
    out = []
    for mask in masks:
        mask = check_integer(mask, "a qubit mask", low=0)
        if mask >> n:
            raise ValueError(f"qubit mask {mask:#b} must select among {n} qubits")
        out.append(mask)
    return out


def _parity_signs(n: int, mask: int) -> np.ndarray:
    """``(-1)**(number of set bits of k & mask)`` for every outcome k."""
    bits = np.arange(2**n) & mask
    parity = np.zeros(2**n, dtype=np.int64)
    for q in range(n):
        parity ^= (bits >> q) & 1
    return 1.0 - 2.0 * parity
