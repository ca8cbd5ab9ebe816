"""Wide circuits as matrix product states, simulated by Qiskit Aer's MPS method.

A shallow circuit on many qubits (a feature map with nearest-neighbour entanglement, say)
keeps little entanglement across any cut of its qubits, so its state is a matrix product
state of small bond dimension: ``n`` tensors of shape ``(chi_left, 2, chi_right)`` instead of
``2**n`` amplitudes. :class:`MPSBackend` has Aer build each sample's MPS (``method=
"matrix_product_state"``, one parameterised circuit per structure, all rows of a call as
parameter bindings of one run) and answers every question from the tensors, exactly up to
the truncation it was allowed: kernel entries are overlaps ``|<a|b>|^2`` of two MPSs (one
sweep of transfer matrices, ``O(n chi^3)``), Pauli expectations are sweeps with the Pauli's
factors inserted, the all-zeros amplitude is a product of one matrix per qubit. Nothing is
sampled and no ``2**n`` vector is built (except by :meth:`MPSBackend.probabilities`, which
returns one, within the memory budget).

Why Aer's engine and not quimb's: measured on this machine (ZZ feature map, ``reps=2``,
linear entanglement), Aer built 40 states of 50 qubits in 1.4 s and their 780 overlaps took
0.5 s with the contraction below, where quimb's ``CircuitMPS`` (1.11.2, ``cutoff=1e-12``)
took 4.1 s and 5.1 s; at 12 qubits Aer's kernel matched the statevector to 3e-13 and
quimb's to 8e-11. Aer comes with ``skqml[qiskit]``; quimb would be a new dependency, and
its current releases require an ``autoray`` newer than the one PennyLane pins.

Truncation. ``max_bond_dimension`` caps every bond and ``cutoff`` drops Schmidt values whose
squares fall below it (Aer's ``matrix_product_state_truncation_threshold``); Aer renormalises
after each truncation. The discarded weight (the sum of the squared Schmidt values dropped,
over the whole circuit) is read from Aer's log for every state: the state's fidelity with
the exact one is at least about one minus it. :meth:`MPSBackend.truncation_errors` returns
it per sample, and ``max_truncation_error`` makes every call refuse results that discarded
more.
"""

from __future__ import annotations

import functools
import re
import threading
from collections import OrderedDict

import numpy as np

from .._optional import import_optional
from .._validation import check_integer, check_real
from ..circuits import GATES, Circuit
from ..simulator._memory import require_memory, resolve_max_memory_mb, rows_per_chunk
from ..simulator._statevector import check_inputs
from ._base import bound_lru, check_paired_features
from ._sampling import SamplingBackend, _check_labels, _check_masks, _check_overlap_args

__all__ = ["MPSBackend"]

_PURPOSE = "MPSBackend"
_MAX_TEMPLATES = 64
_PAULI = {
    "X": np.array([[0, 1], [1, 0]], dtype=complex),
    "Y": np.array([[0, -1j], [1j, 0]]),
    "Z": np.array([[1, 0], [0, -1]], dtype=complex),
}
_DISCARDED = re.compile(r"discarded_value=([-+0-9.eE]+)")
# A bond dimension no state reaches (Aer's "no cap" has to be explicit, see _engine).
_NO_CAP = 2**31 - 1
# Truncation below this (squared Schmidt values dropped per step) is rounding, not a cap:
# Aer's log is then not kept.
_EXACT_THRESHOLD = 1e-20
# Aer's MPS log is one text for the whole process, which grows with every experiment run
# with logging on: each result's log holds all earlier ones. The length already attributed
# to earlier experiments, under a lock around the runs that log.
_LOG_LOCK = threading.Lock()
_log_seen = 0


class MPSBackend(SamplingBackend):
    """Exact (or truncated) matrix-product-state simulation of wide, shallow circuits.

    Parameters
    ----------
    max_bond_dimension : int or None, default=None
        Largest bond dimension kept (None: no cap; the bonds grow as the circuit's
        entanglement needs, up to ``2**(n/2)``).
    cutoff : float, default=1e-12
        Schmidt values whose squares are below ``cutoff`` are dropped after every two-qubit
        gate (Aer's ``matrix_product_state_truncation_threshold``).
    max_truncation_error : float or None, default=None
        Refuse (``ValueError``) any state whose discarded weight exceeds this: the bond
        dimension is too small for the accuracy asked. None: never refuse (see
        :meth:`truncation_errors`).

    Attributes
    ----------
    exact : bool
        False: estimators reach it through overlaps and expectation values (parameter
        shifts for gradients), which it answers from the MPS without sampling.

    Notes
    -----
    Needs ``skqml[qiskit]`` (Qiskit Aer). The memory of a call is bounded before Aer runs:
    a bond's dimension is at most ``min(2**k, 2**(n - k), max_bond_dimension)`` across the
    cut after ``k`` qubits and at most the product of the operator Schmidt ranks of the
    multi-qubit gates that cross it (4 for a two-qubit gate), and the tensors of a chunk of
    rows within that bound must fit ``max_memory_mb`` (:class:`SimulationMemoryError`
    otherwise, before anything runs). Aer runs on one thread; ``n_jobs`` parallelises.

    Examples
    --------
    >>> import numpy as np
    >>> from skqml.backends import MPSBackend
    >>> from skqml.circuits import ZZFeatureMap
    >>> from skqml.kernels import FidelityQuantumKernel
    >>> X = np.random.default_rng(0).uniform(0, np.pi, (4, 40))  # 40 qubits
    >>> fmap = ZZFeatureMap(reps=2, entanglement="linear")
    >>> K = FidelityQuantumKernel(fmap, backend=MPSBackend(), bandwidth=0.05)(X)
    >>> K.shape, bool(np.allclose(np.diag(K), 1.0))
    ((4, 4), True)
    >>> float(MPSBackend().truncation_errors(fmap.build(40), X).max())  # nothing discarded
    0.0
    """

    exact = False

    def __init__(
        self,
        max_bond_dimension: int | None = None,
        cutoff: float = 1e-12,
        max_truncation_error: float | None = None,
    ):
        self.max_bond_dimension = max_bond_dimension
        self.cutoff = cutoff
        self.max_truncation_error = max_truncation_error

    # -- validation and live objects -----------------------------------------------------------
    def _checked(self) -> tuple[int | None, float, float | None]:
        bond = self.max_bond_dimension
        bond = None if bond is None else check_integer(bond, "max_bond_dimension", low=1)
        cutoff = check_real(self.cutoff, "cutoff", 0)
        limit = self.max_truncation_error
        limit = None if limit is None else check_real(limit, "max_truncation_error", 0)
        return bond, cutoff, limit

    def _engine(self):
        """Aer's MPS simulator and the transpiled templates (per thread, cached)."""
        local = self.__dict__.get("_cache")
        if local is None:
            local = self.__dict__.setdefault("_cache", threading.local())
        bond, cutoff, _ = self._checked()
        key = (bond, cutoff)
        if getattr(local, "key", None) != key:
            aer = import_optional("qiskit_aer", "mps", _PURPOSE)
            local.logged = bond is not None or cutoff**2 > _EXACT_THRESHOLD
            options = {
                "method": "matrix_product_state",
                "max_parallel_threads": 1,
                "matrix_product_state_truncation_threshold": cutoff**2,
                "mps_log_data": local.logged,
            }
            # Always set: Aer keeps its MPS truncation settings between runs of the process,
            # so a simulator without a cap would inherit the last capped run's.
            options["matrix_product_state_max_bond_dimension"] = _NO_CAP if bond is None else bond
            local.key, local.simulator = key, aer.AerSimulator(**options)
            local.templates = OrderedDict()
        return local

    def _template(self, engine, circuit: Circuit):
        from ._qiskit import _to_qiskit

        structure = (circuit.n_qubits, tuple((op.name, op.qubits) for op in circuit))
        template = engine.templates.get(structure)
        if template is None:
            qiskit = import_optional("qiskit", "mps", _PURPOSE)
            qc = _to_qiskit(circuit, measure=False)
            qc.save_matrix_product_state(label="mps")
            # No coupling map: the transpiler keeps every qubit where it is (qubit q is site q).
            transpiled = qiskit.transpile(qc, engine.simulator, optimization_level=0)
            vector = sorted(qc.parameters, key=lambda p: p.index)
            template = engine.templates[structure] = (transpiled, vector)
            bound_lru(engine.templates, _MAX_TEMPLATES)
        else:
            engine.templates.move_to_end(structure)
        return template

    # -- the states ----------------------------------------------------------------------------
    def _state_bytes(self, circuit: Circuit) -> int:
        """An upper bound of one sample's tensors (with Aer's copy and ours)."""
        bond, _, _ = self._checked()
        n = circuit.n_qubits
        ranks = [1.0] * max(n - 1, 0)  # product of the gates' operator Schmidt ranks per cut
        for op in circuit:
            qubits = sorted(op.qubits)
            if len(qubits) < 2:
                continue
            for cut in range(qubits[0], qubits[-1]):
                left = tuple(q <= cut for q in op.qubits)
                ranks[cut] = min(ranks[cut] * _operator_rank(op.name, left), 2.0**n)
        dims = [1.0]
        for cut in range(n - 1):
            chi = min(ranks[cut], 2.0 ** (cut + 1), 2.0 ** (n - cut - 1))
            dims.append(chi if bond is None else min(chi, bond))
        dims.append(1.0)
        return int(3 * sum(2 * 16 * dims[q] * dims[q + 1] for q in range(n)))

    def _mps(self, circuit: Circuit, X, weights, max_memory_mb):
        """Each row's MPS as a list of ``(chi_l, 2, chi_r)`` tensors (qubit ``q`` is site
        ``q``), and each row's discarded weight."""
        from ._qiskit import _angle_values

        _, _, limit = self._checked()
        X, weights = check_inputs(circuit, X, weights)
        n_rows = 1 if X is None else X.shape[0]
        chunk = rows_per_chunk(
            self._state_bytes(circuit),
            max_memory_mb,
            what=f"the matrix product state of a sample on {circuit.n_qubits} qubits",
            hint="cap max_bond_dimension, use fewer qubits or raise the limit",
        )
        engine = self._engine()
        template, vector = self._template(engine, circuit)
        values = _angle_values(circuit, X, weights, n_rows)
        states, discarded = [], np.zeros(n_rows)
        for start in range(0, n_rows, chunk):
            rows = values[start : start + chunk]
            # A circuit without angles runs once; its state serves every row.
            runs = len(rows) if vector else 1
            binds = [{p: rows[:, k].tolist() for k, p in enumerate(vector)}] if vector else None
            if engine.logged:
                with _LOG_LOCK:
                    result = engine.simulator.run(template, parameter_binds=binds).result()
                    weights_dropped = _discarded_weights(result, runs)
            else:  # exact up to rounding: nothing to log
                result = engine.simulator.run(template, parameter_binds=binds).result()
                weights_dropped = [0.0] * runs
            for i in range(len(rows)):
                gammas, lambdas = result.data(i if vector else 0)["mps"]
                states.append(_tensors(gammas, lambdas))
                discarded[start + i] = weights_dropped[i if vector else 0]
        if limit is not None and n_rows and discarded.max() > limit:
            raise ValueError(
                f"MPSBackend: a state discarded weight {discarded.max():.3g} in truncation, "
                f"more than max_truncation_error={limit:g}: max_bond_dimension="
                f"{self.max_bond_dimension!r} is too small for this circuit; raise it (or "
                "leave it None) or lower the accuracy asked"
            )
        return states, discarded

    def overlap_row_bytes(self, circuit: Circuit) -> int:
        """Bytes a row of an overlap tile costs: the MPS of its sample and of its column's.

        Kernels size their tiles by it, instead of by ``2**n`` amplitudes.

        Parameters
        ----------
        circuit : Circuit
            The feature map's circuit.

        Returns
        -------
        nbytes : int
            An upper bound (see the class notes).
        """
        return 2 * self._state_bytes(circuit)

    def truncation_errors(self, circuit: Circuit, X=None, weights=None, *, max_memory_mb=None):
        """The weight each sample's state discarded in truncation (0 when exact).

        Parameters
        ----------
        circuit : Circuit
            Circuit to run, from ``|0...0>``.
        X : array-like of shape (n_samples, n_features), optional
            Features; without them the circuit runs once.
        weights : array-like of shape (n_weights,), optional
            Trainable weights, shared by all samples.
        max_memory_mb : float, optional
            Memory budget in MiB.

        Returns
        -------
        discarded : ndarray of shape (n_samples,)
            Sums of the squared Schmidt values dropped; the state's fidelity with the exact
            one is at least about ``1 - discarded``.
        """
        return self._mps(circuit, X, weights, max_memory_mb)[1]

    # -- the backend interface -----------------------------------------------------------------
    def probabilities(self, circuit, X=None, weights=None, *, max_memory_mb=None):
        n = circuit.n_qubits
        what = f"the {2**n:,} outcome probabilities per sample on {n} qubits"
        hint = "wide circuits: ask for overlaps or expectation values, not probabilities"
        # The output alone first, before any state is built (a wide circuit is refused at
        # once); then with the contraction's amplitudes, whose size needs the bond dimension.
        checked_X, _ = check_inputs(circuit, X, weights)
        n_rows = 1 if checked_X is None else checked_X.shape[0]
        require_memory(n_rows * 8 * 2**n, max_memory_mb, what, hint=hint)
        states, _ = self._mps(circuit, X, weights, max_memory_mb)
        require_memory(
            len(states) * 8 * 2**n + 2 * 16 * 2**n * max(_max_bond(s) for s in states or [[]]),
            max_memory_mb,
            what,
            hint=hint,
        )
        out = np.empty((len(states), 2**n))
        for r, tensors in enumerate(states):
            amplitudes = _dense(tensors)
            out[r] = amplitudes.real**2 + amplitudes.imag**2
        return out

    def zero_frequencies(self, circuit, X=None, weights=None, *, max_memory_mb=None):
        states, _ = self._mps(circuit, X, weights, max_memory_mb)
        out = np.empty(len(states))
        for r, tensors in enumerate(states):
            v = np.ones(1, dtype=complex)
            for A in tensors:
                v = v @ A[:, 0, :]
            out[r] = abs(v[0]) ** 2
        return out

    def expectations(self, circuit, paulis, X=None, weights=None, *, max_memory_mb=None):
        labels = _check_labels(paulis, circuit.n_qubits)
        states, _ = self._mps(circuit, X, weights, max_memory_mb)
        out = np.ones((len(states), len(labels)))
        # One-qubit strings (the projected kernel's Bloch vectors) come from each qubit's
        # reduced density matrix, all qubits in two sweeps; the others from a sweep each.
        single = {}
        for k, label in enumerate(labels):
            support = [q for q, f in enumerate(label[::-1]) if f != "I"]
            if len(support) == 1:
                single[k] = (support[0], label[::-1][support[0]])
        for r, tensors in enumerate(states):
            rdm = _one_qubit_matrices(tensors) if single else None
            for k, label in enumerate(labels):
                if k in single:
                    q, f = single[k]
                    out[r, k] = float(np.sum(_PAULI[f] * rdm[q]).real)
                elif set(label) != {"I"}:
                    out[r, k] = _expectation(tensors, label[::-1])
        return out

    def parity_expectations(self, circuit, masks, X=None, weights=None, *, max_memory_mb=None):
        n = circuit.n_qubits
        masks = _check_masks(masks, n)
        labels = ["".join("Z" if m >> q & 1 else "I" for q in reversed(range(n))) for m in masks]
        return self.expectations(circuit, labels, X, weights, max_memory_mb=max_memory_mb)

    def overlaps(self, circuit, XA, XB=None, symmetric=None, weights=None, *, max_memory_mb=None):
        symmetric, XA, XB = _check_overlap_args(circuit, XA, XB, symmetric)
        A, _ = self._mps(circuit, XA, weights, _half(max_memory_mb))
        B = A if symmetric else self._mps(circuit, XB, weights, _half(max_memory_mb))[0]
        stacked = _stack(B)
        K = np.empty((len(A), len(B)))
        for i, tensors in enumerate(A):
            K[i] = np.abs(_overlaps_one_to_many(tensors, stacked)) ** 2
        K = np.clip(K, 0.0, 1.0)
        if symmetric:  # exactly symmetric with a unit diagonal, as the other backends give
            K = (K + K.T) / 2
            np.fill_diagonal(K, 1.0)
        return K

    def paired_overlaps(self, circuit, XA, XB, weights=None, *, max_memory_mb=None):
        XA, XB = check_paired_features(circuit, XA, XB)
        A, _ = self._mps(circuit, XA, weights, _half(max_memory_mb))
        B, _ = self._mps(circuit, XB, weights, _half(max_memory_mb))
        values = [abs(_overlap(a, b)) ** 2 for a, b in zip(A, B, strict=True)]
        return np.clip(np.array(values, dtype=float), 0.0, 1.0)


@functools.lru_cache(maxsize=256)
def _operator_rank(name: str, left: tuple[bool, ...]) -> int:
    """The operator Schmidt rank of a gate across a cut (``left[i]``: whether its qubit ``i``
    is left of it), at generic angles: by how much it can multiply that bond's dimension
    (2 for CNOT, CZ and diagonal two-qubit rotations, 4 for SWAP)."""
    k = len(left)
    spec = GATES[name]
    rng = np.random.default_rng(0)
    angles = [np.array([a]) for a in rng.uniform(0.3, 2.8, spec.n_params)]
    U = np.asarray(spec.matrix(*angles, n_qubits=k)).reshape((2,) * (2 * k))
    # Rows: the output and input bits of the qubits left of the cut; columns: the others.
    # The matrix's first listed qubit is its most significant bit.
    mine = [i for i in range(k) if left[i]]
    rest = [i for i in range(k) if not left[i]]
    axes = [*mine, *(k + i for i in mine), *rest, *(k + i for i in rest)]
    M = U.transpose(axes).reshape(4 ** len(mine), -1)
    return int(np.sum(np.linalg.svd(M, compute_uv=False) > 1e-10))


def _discarded_weights(result, n_experiments: int) -> list[float]:
    """Each experiment's discarded weight, from the part of Aer's cumulative MPS log that
    it added (call under ``_LOG_LOCK``)."""
    global _log_seen
    out = []
    for i in range(n_experiments):
        log = str(result.results[i].metadata.get("MPS_log_data", ""))
        new = log[_log_seen:] if len(log) >= _log_seen else log
        _log_seen = len(log)
        out.append(sum(float(v) for v in _DISCARDED.findall(new)))
    return out


# ----------------------------------------------------------------------------------------------
# Tensor algebra
# ----------------------------------------------------------------------------------------------
def _tensors(gammas, lambdas) -> list[np.ndarray]:
    """Aer's Vidal form (``Gamma_q`` as its two ``(chi_l, chi_r)`` slices, ``lambda_q`` on the
    bond after qubit ``q``) as left-to-right tensors ``A_q = Gamma_q lambda_q``."""
    out = []
    for q, (g0, g1) in enumerate(gammas):
        A = np.stack([np.asarray(g0), np.asarray(g1)], axis=1)
        if q < len(lambdas):
            A = A * np.asarray(lambdas[q])[None, None, :]
        out.append(np.ascontiguousarray(A, dtype=complex))
    return out


def _max_bond(tensors) -> int:
    return max((A.shape[2] for A in tensors), default=1)


def _dense(tensors) -> np.ndarray:
    """The ``2**n`` amplitudes, basis index ``sum_q b_q 2**q``."""
    v = np.ones((1, 1), dtype=complex)  # (lower bits, bond)
    for A in tensors:
        v = np.einsum("ia,asb->sib", v, A).reshape(-1, A.shape[2])
    return v[:, 0]


def _transfer(E: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``E'[c, d] = sum E[a, b] conj(A[a, s, c]) B[b, s, d]``, in two ``chi^3`` products."""
    return np.tensordot(A.conj(), np.tensordot(E, B, axes=(1, 0)), axes=([0, 1], [0, 1]))


def _overlap(a, b) -> complex:
    """``<a|b>`` of two MPSs."""
    E = np.ones((1, 1), dtype=complex)
    for A, B in zip(a, b, strict=True):
        E = _transfer(E, A, B)
    return complex(E[0, 0])


def _one_qubit_matrices(tensors) -> np.ndarray:
    """``M_q[t, s] = <psi| (|s><t|)_q |psi>`` for every qubit (so ``<P_q> = sum P * M_q``),
    from the environments of all cuts: two sweeps."""
    n = len(tensors)
    left = [np.ones((1, 1), dtype=complex)]
    for A in tensors[:-1]:
        left.append(_transfer(left[-1], A, A))
    out = np.empty((n, 2, 2), dtype=complex)
    right = np.ones((1, 1), dtype=complex)
    for q in range(n - 1, -1, -1):
        A = tensors[q]
        # sum L[a, b] conj(A[a, t, c]) A[b, s, d] R[c, d]
        LA = np.tensordot(left[q], A, axes=(1, 0))  # (a, s, d)
        AR = np.tensordot(A.conj(), right, axes=(2, 0))  # (a, t, d)
        out[q] = np.einsum("atd,asd->ts", AR, LA)
        # R[a, b] = sum conj(A[a, s, c]) A[b, s, d] R[c, d]: the environment right of q - 1
        right = np.tensordot(
            A.conj(), np.tensordot(A, right.T, axes=(2, 0)), axes=([1, 2], [1, 2])
        )
    return out


def _stack(states) -> list[np.ndarray]:
    """The tensors of many states per site, zero-padded to common bond dimensions (which
    leaves every overlap unchanged): ``(n_states, chi_l, 2, chi_r)`` per site."""
    if not states:
        return []
    out = []
    for q in range(len(states[0])):
        left = max(s[q].shape[0] for s in states)
        right = max(s[q].shape[2] for s in states)
        T = np.zeros((len(states), left, 2, right), dtype=complex)
        for k, s in enumerate(states):
            T[k, : s[q].shape[0], :, : s[q].shape[2]] = s[q]
        out.append(T)
    return out


def _overlaps_one_to_many(a, stacked) -> np.ndarray:
    """``<a|b_j>`` for every state ``b_j`` of a :func:`_stack`."""
    if not stacked:
        return np.empty(0, dtype=complex)
    E = np.ones((stacked[0].shape[0], 1, 1), dtype=complex)
    for A, B in zip(a, stacked, strict=True):
        EB = np.einsum("jab,jbsd->jasd", E, B)
        E = np.tensordot(EB, A.conj(), axes=([1, 2], [0, 1])).transpose(0, 2, 1)
    return E[:, 0, 0]


def _expectation(tensors, factors: str) -> float:
    """``<psi| P |psi>`` for the Pauli factors of qubits ``0, 1, ...`` (``factors[q]``)."""
    E = np.ones((1, 1), dtype=complex)
    for A, f in zip(tensors, factors, strict=True):
        B = A if f == "I" else np.einsum("st,atb->asb", _PAULI[f], A)
        E = _transfer(E, A, B)
    return float(E[0, 0].real)


def _half(max_memory_mb) -> float:
    """Half the budget (each argument's states of an overlap grid get one half)."""
    return resolve_max_memory_mb(max_memory_mb) / 2
