"""Exact gradients of expectation values by adjoint differentiation, vectorised over samples.

For a loss that depends on the expectation values ``E[i, k] = <psi_i| P_k |psi_i>`` of Pauli
strings ``P_k``, the gradient with respect to the trainable weights is a vector-Jacobian
product with the cotangent ``G[i, k] = dL/dE[i, k]``. It equals
``sum_i 2 Re <lambda_i| dpsi_i/dtheta>`` with ``lambda_i = (sum_k G[i, k] P_k) psi_i``: one
backward sweep through the circuit carries ``psi`` and ``lambda`` back gate by gate (undoing
each gate on both), and at every trainable gate ``U = exp(-i t K)`` adds
``2 Im <lambda| K psi> * dt/dtheta``. The cost is about three forward passes for all weights
together, whatever their number, for the whole batch at once.

Gates with several angles are split into one-angle gates first (``Rot(a, b, c)`` into
``RZ(a) RY(b) RZ(c)``, ``U3`` into ``RZ RY RZ`` up to a global phase, which expectation values
do not see). Every one-angle gate has a generator ``K`` with ``dU/dt = -i K U``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from weakref import WeakKeyDictionary

import numpy as np

from .._validation import check_pauli_label
from ..circuits._circuit import Circuit, Operation
from ..circuits._inverse import inverse_operation
from ._memory import _MIB, resolve_max_memory_mb, rows_per_chunk, state_bytes
from ._observables import (
    apply_pauli,
    checked_cotangent,
    im_dot,
    pauli_expectations,
    qubit_view_shape,
    re_dot,
    weighted_pauli_sum,
)
from ._plan import compile_circuit
from ._small import (
    n_outputs,
    small_chunk_rows,
    small_circuit_program,
    small_expectation_vjp,
    small_expectations,
)
from ._statevector import WORKING_COPIES, apply_plan, check_inputs, chunk_rows

__all__ = ["adjoint_rows", "expectation_vjp", "expectations", "probability_vjp"]


@dataclass(frozen=True)
class _Generator:
    """``K = coeff * mask * P``: a Pauli string ``P`` (Qiskit label) and a 0/1 basis mask.

    ``single``: ``(qubit, letter)`` of a one-qubit rotation's Pauli, read without building
    ``P psi``.
    """

    coeff: float
    pauli: str | None
    mask_qubits: tuple[int, ...] = ()
    mask_kind: str = "all"  # "all": product of the bits; "parity": odd parity
    single: tuple[int, str] | None = None


def _label(n: int, paulis: dict[int, str]) -> str:
    return "".join(paulis.get(q, "I") for q in range(n - 1, -1, -1))


def _generator(op: Operation, n: int) -> _Generator:
    """The generator of a one-angle gate on ``n`` qubits, from the gate table."""
    spec, q = op.spec, op.qubits
    gen = spec.generator
    if gen is None or "adjoint" in spec.unsupported:
        raise NotImplementedError(f"gate {op.name!r} has no generator for adjoint gradients")
    paulis: dict[int, str] = {}
    if gen.pauli:
        # One letter on a gate of any arity: the same Pauli on every qubit.
        letters = gen.pauli * len(q) if len(gen.pauli) == 1 else gen.pauli
        paulis = {qubit: p for qubit, p in zip(q, letters, strict=True) if p != "I"}
    mask = q if gen.mask is None else tuple(q[i] for i in gen.mask)
    single = None
    if spec.n_qubits == 1 and len(paulis) == 1 and not mask:
        single = (q[0], paulis[q[0]].lower())
    label = _label(n, paulis) if paulis else None
    return _Generator(gen.coeff, label, mask, gen.mask_kind, single)


def _split(op: Operation) -> list[Operation]:
    """One-angle gates with the same action on expectation values (the table's split)."""
    return [Operation(sub, op.qubits, (op.params[i],)) for sub, i in op.spec.split] or [op]


class _Segment:
    """Consecutive operations undone together in the backward sweep.

    Either no operation is trainable, or all are one-qubit gates on distinct qubits: then
    every trainable gate's generator commutes with the gates after it in the segment, so all
    their gradient terms can be read at the segment's end, before undoing it in one plan.
    """

    def __init__(self):
        self.indices: list[int] = []
        self.qubits: set[int] = set()
        self.single_distinct = True
        self.trainable = False

    def accepts(self, op: Operation, trainable: bool) -> bool:
        if not self.indices:
            return True
        one_qubit = len(op.qubits) == 1 and op.spec.n_controls == 0
        if self.single_distinct and one_qubit and op.qubits[0] not in self.qubits:
            return True
        return not trainable and not self.trainable

    def add(self, index: int, op: Operation, trainable: bool) -> None:
        one_qubit = len(op.qubits) == 1 and op.spec.n_controls == 0
        self.single_distinct = (
            self.single_distinct and one_qubit and op.qubits[0] not in self.qubits
        )
        self.qubits.update(op.qubits)
        self.indices.append(index)
        self.trainable = self.trainable or trainable


class _Tape:
    """The split operations of a circuit, grouped into segments with inverse plans."""

    def __init__(self, circuit: Circuit):
        n = circuit.n_qubits
        self.n_qubits = n
        self.ops = [s for op in circuit.operations for s in _split(op)]
        trainable = [any(p.weights for p in op.params) for op in self.ops]
        self.segments: list[_Segment] = []
        for i, op in enumerate(self.ops):
            if not self.segments or not self.segments[-1].accepts(op, trainable[i]):
                self.segments.append(_Segment())
            self.segments[-1].add(i, op, trainable[i])
        # Keep the inverse circuits alive: compiled plans are cached per circuit object.
        self._inverse_circuits = [
            Circuit(n, [inverse_operation(self.ops[i]) for i in reversed(seg.indices)])
            for seg in self.segments
        ]
        self.inverse_plans = [compile_circuit(c) for c in self._inverse_circuits]
        self.generators = {i: _generator(self.ops[i], n) for i, t in enumerate(trainable) if t}
        self.first_trainable_segment = next(
            (k for k, seg in enumerate(self.segments) if seg.trainable), None
        )

    @cached_property
    def table_bytes(self) -> int:
        """Bytes of the inverse plans' phase tables (the tape holds no ``2**n`` arrays)."""
        return sum(plan.table_bytes for plan in self.inverse_plans)


# Freed with their circuit, like compiled plans (see the cache policy in ``_memory``).
_TAPES: WeakKeyDictionary = WeakKeyDictionary()


def _tape(circuit: Circuit) -> _Tape:
    tape = _TAPES.get(circuit)
    if tape is None:
        tape = _TAPES[circuit] = _Tape(circuit)
    return tape


def _labels(circuit: Circuit, paulis: Sequence[str]) -> list[str]:
    return [check_pauli_label(label, circuit.n_qubits) for label in paulis]


def expectations(
    circuit: Circuit,
    paulis: Sequence[str],
    X=None,
    weights=None,
    *,
    max_memory_mb=None,
    initial_states=None,
):
    """Expectation values of Pauli strings for every sample: shape ``(n_samples, len(paulis))``.

    The budget ``max_memory_mb`` (MiB) bounds a chunk of states with their working copies,
    beside the plan's phase tables; chunks of samples are simulated one after another.
    ``initial_states`` (complex, shape ``(n_samples, 2**n_qubits)``, normalised, qubit 0 the
    least significant bit of the index): the circuit runs from these states instead of
    ``|0...0>``, one per sample (they are not modified, and held beside the budget's chunk).

    Examples
    --------
    >>> import numpy as np
    >>> from skqml.circuits import Circuit, feature
    >>> from skqml.simulator import expectations
    >>> c = Circuit(1).ry(feature(0), 0)
    >>> expectations(c, ["Z", "X"], [[0.0], [np.pi / 2]]).round(6)
    array([[1., 0.],
           [0., 1.]])
    """
    X, weights = check_inputs(circuit, X, weights)
    labels = _labels(circuit, paulis)
    initial_states = _checked_initial_states(circuit, X, initial_states)
    n_samples = _n_samples(X, initial_states)
    program, small_chunk = _small_engine(circuit, max_memory_mb, n_samples, labels, initial_states)
    if small_chunk:
        # Few qubits: the small-circuit engine's forward pass (the values its gradients
        # are the derivatives of).
        return small_expectations(
            program, labels, X, weights, chunk=small_chunk, initial_states=initial_states
        )
    # Chunks of samples, so that only one chunk's states exist at a time: the states and the
    # simulator's working copies (or one Pauli string applied to them), beside one Pauli's
    # index and sign vectors.
    plan = compile_circuit(circuit)
    chunk = chunk_rows(
        plan,
        max_memory_mb,
        fixed_bytes=state_bytes(circuit.n_qubits),
        what="expectation values",
    )
    buffer = np.empty((min(chunk, n_samples), 2**circuit.n_qubits), dtype=complex)
    out = np.empty((n_samples, len(labels)))
    for start in range(0, n_samples, chunk):
        stop = min(start + chunk, n_samples)
        Xc = None if X is None else X[start:stop]
        states = buffer[: stop - start]
        _run_chunk(plan, Xc, weights, states, initial_states, slice(start, stop))
        out[start:stop] = pauli_expectations(states, labels)
    return out


def _small_engine(circuit, max_memory_mb, n_samples: int, labels, initial_states):
    """``(program, chunk)`` of the small-circuit engine for this call: ``chunk`` samples at a
    time, or 0 when the engine does not take the circuit or the budget (then the general
    path runs). ``labels`` None: the read-out is the Born probabilities."""
    program = small_circuit_program(circuit, max_memory_mb)
    if program is None:
        return None, 0
    initial = initial_states is not None
    n_values = n_outputs(program, labels)
    return program, small_chunk_rows(program, max_memory_mb, n_samples, n_values, initial)


def _checked_initial_states(circuit: Circuit, X, initial_states) -> np.ndarray | None:
    """``initial_states`` as a complex array of one state per sample, or None."""
    if initial_states is None:
        return None
    states = np.asarray(initial_states, dtype=complex)
    size = 2**circuit.n_qubits
    if states.ndim != 2 or states.shape[1] != size:
        raise ValueError(
            f"initial_states must have shape (n_samples, {size}) for {circuit.n_qubits} "
            f"qubits, got {states.shape}"
        )
    if X is not None and X.shape[0] != states.shape[0]:
        raise ValueError(
            f"initial_states has {states.shape[0]} rows but X has {X.shape[0]}: one state "
            "per sample"
        )
    return states


def _run_chunk(plan, Xc, weights, states: np.ndarray, initial_states, rows: slice) -> None:
    """Simulate the chunk ``rows`` into ``states``: from ``|0...0>``, or from its initial
    states (copied in, so that they stay unmodified)."""
    if initial_states is None:
        apply_plan(plan, Xc, weights, states.shape[0], out=states)
    else:
        states[...] = initial_states[rows]
        apply_plan(plan, Xc, weights, states.shape[0], state=states)


def _n_samples(X, initial_states) -> int:
    if initial_states is not None:
        return initial_states.shape[0]
    return 1 if X is None else X.shape[0]


def expectation_vjp(
    circuit: Circuit,
    paulis: Sequence[str],
    X,
    weights,
    cotangent_fn,
    *,
    max_memory_mb: float | None = None,
    initial_states=None,
) -> tuple[np.ndarray, np.ndarray]:
    """Expectation values and the gradient of a loss through them, in one forward-backward pass.

    Parameters
    ----------
    circuit : Circuit
        Circuit with trainable weights (and optionally data features).
    paulis : sequence of str
        Pauli strings (Qiskit labels, rightmost character on qubit 0).
    X : array-like of shape (n_samples, n_features) or None
        Data features.
    weights : array-like of shape (n_weights,)
        Trainable weights.
    cotangent_fn : callable
        ``cotangent_fn(E, rows) -> G`` maps the expectation values ``E`` of the samples
        ``rows`` (a slice; all samples unless memory requires chunks) to ``dL/dE`` of the same
        shape. The loss must be a sum over samples.
    max_memory_mb : float, optional
        Memory budget (MiB) of the call: psi and lambda of a chunk of samples with their
        working copies, the plans' phase tables and one Pauli string's index vectors.
        Samples are processed in chunks that fit it; when one sample cannot fit,
        :class:`SimulationMemoryError` is raised before anything large is allocated.
    initial_states : array-like of shape (n_samples, 2**n_qubits), optional
        One initial state per sample instead of ``|0...0>`` (as in :func:`expectations`);
        the gradient is with respect to the circuit's weights only.

    Returns
    -------
    values : ndarray of shape (n_samples, len(paulis))
        The expectation values.
    gradient : ndarray of shape (n_weights,)
        ``sum_{i,k} G[i, k] * dE[i, k]/dweights``.

    Examples
    --------
    >>> import numpy as np
    >>> from skqml.circuits import Circuit, weight
    >>> from skqml.simulator import expectation_vjp
    >>> c = Circuit(1).ry(weight(0), 0)  # <Z> = cos(theta)
    >>> E, g = expectation_vjp(c, ["Z"], None, [0.3], lambda E, rows: np.ones_like(E))
    >>> np.allclose(E, np.cos(0.3)), np.allclose(g, -np.sin(0.3))
    (True, True)
    """
    X, weights = check_inputs(circuit, X, weights)
    labels = _labels(circuit, paulis)
    initial_states = _checked_initial_states(circuit, X, initial_states)
    n_samples = _n_samples(X, initial_states)
    program, chunk = _small_engine(circuit, max_memory_mb, n_samples, labels, initial_states)
    if chunk:
        # Few qubits: the compiled small-circuit engine (see _small.py for the rule).
        return small_expectation_vjp(
            program, labels, X, weights, cotangent_fn, chunk=chunk, initial_states=initial_states
        )
    return general_expectation_vjp(
        circuit, labels, X, weights, cotangent_fn, max_memory_mb, initial_states
    )


def general_expectation_vjp(
    circuit, labels, X, weights, cotangent_fn, max_memory_mb, initial_states=None
):
    """:func:`expectation_vjp` by the general adjoint sweep (inputs and labels checked)."""
    n_samples = _n_samples(X, initial_states)
    values = np.empty((n_samples, len(labels)))

    def fill_lambda(psi, lam, rows, Xc, weights, grad):
        E = pauli_expectations(psi, labels)
        values[rows] = E
        weighted_pauli_sum(psi, labels, checked_cotangent(cotangent_fn, E, rows), lam)

    grad = adjoint_sweep(
        circuit,
        X,
        weights,
        fill_lambda,
        max_memory_mb=max_memory_mb,
        what="expectation gradients",
        initial_states=initial_states,
    )
    return values, grad


def adjoint_rows(
    circuit: Circuit,
    max_memory_mb: float | None,
    *,
    held_bytes: float = 0,
    what: str = "adjoint gradients",
) -> int:
    """Samples per chunk of :func:`expectation_vjp` within the budget (``held_bytes``: what
    the caller holds besides); :class:`SimulationMemoryError` when not even one sample fits.

    The up-front check of a model trained with adjoint gradients: the same arithmetic as
    the gradient call itself (``probability_vjp`` also holds its probabilities: pass them
    as ``held_bytes``).

    Examples
    --------
    >>> from skqml.circuits import Circuit, weight
    >>> from skqml.simulator._adjoint import adjoint_rows
    >>> adjoint_rows(Circuit(10).ry(weight(0), 0).cnot(0, 9), 8) >= 1
    True
    >>> adjoint_rows(Circuit(24).ry(weight(0), 0), 1024)
    Traceback (most recent call last):
    ...
    skqml.simulator._memory.SimulationMemoryError: adjoint gradients (24 qubits, one sample ...
    """
    plan, tape = compile_circuit(circuit), _tape(circuit)
    return _adjoint_chunk(plan, tape, max_memory_mb, held_bytes, what)


def _adjoint_chunk(plan, tape, max_memory_mb, held_bytes: float, what: str, hint: str = "") -> int:
    """Samples per chunk of a backward sweep within the budget.

    Per sample: psi and lambda side by side, and the simulator's working copies of both
    while a plan runs on them. Fixed: the forward and inverse plans' tables, one Pauli
    string's index and sign vectors, and what the caller holds (``held_bytes``). ``hint``:
    the advice when one sample alone would fit but not beside ``held_bytes``.
    """
    n = plan.n_qubits
    return rows_per_chunk(
        2 * (1 + WORKING_COPIES) * state_bytes(n),
        max_memory_mb,
        what=what,
        n_qubits=n,
        fixed_bytes=held_bytes + tape.table_bytes + state_bytes(n) + plan.table_bytes,
        hint=hint,
    )


def probability_vjp(
    circuit: Circuit,
    X,
    weights,
    cotangent_fn,
    *,
    max_memory_mb: float | None = None,
    n_jobs: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Born probabilities and the gradient of a loss through them, by the adjoint method.

    The probability of basis state ``b`` is the expectation of the projector ``|b><b|``, so
    ``lambda = G * psi`` elementwise (``G = dL/dP``) and the backward sweep is that of
    :func:`expectation_vjp`.

    Parameters
    ----------
    circuit : Circuit
        Circuit with trainable weights.
    X : array-like of shape (n_samples, n_features) or None
        Data features (None: one run).
    weights : array-like of shape (n_weights,)
        Trainable weights.
    cotangent_fn : callable
        ``cotangent_fn(P, rows) -> G``: ``dL/dP`` for the probabilities ``P`` of shape
        ``(n_rows, 2**n_qubits)`` of the samples ``rows``.
    max_memory_mb : float, optional
        Memory budget (MiB) of the call, the returned probabilities included (see
        :func:`expectation_vjp`).
    n_jobs : int, default=None
        Threads sharing one sample's sweeps, from 15 qubits on the compiled engine (its
        state in two parts); elsewhere one thread. The same numbers for every ``n_jobs``.

    Returns
    -------
    probabilities : ndarray of shape (n_samples, 2**n_qubits)
    gradient : ndarray of shape (n_weights,)

    Examples
    --------
    >>> import numpy as np
    >>> from skqml.circuits import Circuit, weight
    >>> from skqml.simulator import probability_vjp
    >>> c = Circuit(1).ry(weight(0), 0)  # p(1) = sin(theta / 2)^2
    >>> P, g = probability_vjp(c, None, [0.3], lambda P, rows: np.array([[0.0, 1.0]]))
    >>> np.allclose(g, 0.5 * np.sin(0.3))
    True
    """
    X, weights = check_inputs(circuit, X, weights)
    n_samples = 1 if X is None else X.shape[0]
    dim = 2**circuit.n_qubits
    probs_bytes = 8 * dim * n_samples
    # The small-circuit engine, within what the returned probabilities leave of the budget.
    room = resolve_max_memory_mb(max_memory_mb) - probs_bytes / _MIB
    if room > 0:
        program, chunk = _small_engine(circuit, room, n_samples, None, None)
        if chunk:
            return small_expectation_vjp(
                program, None, X, weights, cotangent_fn, chunk=chunk, n_jobs=n_jobs
            )
    probs = None  # allocated once the sweep has refused what cannot fit

    def fill_lambda(psi, lam, rows, Xc, weights, grad):
        nonlocal probs
        if probs is None:
            probs = np.empty((n_samples, dim))
        P = probs[rows]
        np.square(psi.real, out=P)
        P += np.square(psi.imag)
        np.multiply(psi, checked_cotangent(cotangent_fn, P, rows), out=lam)

    grad = adjoint_sweep(
        circuit,
        X,
        weights,
        fill_lambda,
        max_memory_mb=max_memory_mb,
        held_bytes=probs_bytes,
        what="probability gradients",
    )
    if probs is None:  # no samples: the sweep ran no chunk
        probs = np.empty((n_samples, dim))
    return probs, grad


# Amplitudes per state array of one chunk of the sweep (2 MiB of complex numbers): the sweep
# passes over psi and lambda a few times per gate, and chunks that stay in cache were
# 2.3x faster than one chunk of 200 samples on 12 qubits (32 rows) and 2.5x on 14 qubits
# (8 rows); on 10 qubits (128 rows) the same as 200.
_SWEEP_CACHE_AMPLITUDES = 2**17


def adjoint_sweep(
    circuit: Circuit,
    X,
    weights,
    fill_lambda,
    *,
    max_memory_mb: float | None,
    held_bytes: float = 0,
    what: str,
    hint: str = "",
    initial_states: np.ndarray | None = None,
) -> np.ndarray:
    """The chunked forward and backward sweep that every adjoint vector-Jacobian product
    shares: ``sum_i 2 Re <lambda_i| dpsi_i/dtheta>`` over all samples.

    For each chunk of samples (sized within ``max_memory_mb`` beside ``held_bytes`` that the
    caller holds), the states ``psi`` are simulated, ``fill_lambda(psi, lam, rows, Xc,
    weights, grad)`` writes the cotangent states into ``lam`` (``rows``: the chunk's slice of
    the samples; it may also store outputs or add terms to ``grad``), then the backward
    sweep adds the chunk's gradient. ``X`` and ``weights`` come from ``check_inputs``.
    ``initial_states`` (checked, one per sample; the caller holds them, beside the budget):
    the states the circuit starts from instead of ``|0...0>``.
    Returns the gradient, of length ``len(weights)``.
    """
    if weights is None:
        weights = np.zeros(0)
    n_samples = _n_samples(X, initial_states)
    tape = _tape(circuit)
    plan = compile_circuit(circuit)
    chunk = min(
        _adjoint_chunk(plan, tape, max_memory_mb, held_bytes, what, hint=hint),
        max(1, _SWEEP_CACHE_AMPLITUDES >> circuit.n_qubits),
    )
    both = np.empty((2 * min(chunk, n_samples), 2**circuit.n_qubits), dtype=complex)
    grad = np.zeros(max(circuit.n_weights, weights.shape[0]))
    for start in range(0, n_samples, chunk):
        stop = min(start + chunk, n_samples)
        rows = stop - start
        Xc = None if X is None else X[start:stop]
        work = both[: 2 * rows]
        psi, lam = work[:rows], work[rows:]
        _run_chunk(plan, Xc, weights, psi, initial_states, slice(start, stop))
        fill_lambda(psi, lam, slice(start, stop), Xc, weights, grad)
        _backward(tape, work, rows, Xc, weights, grad)
    return grad[: weights.shape[0]]


def _backward(tape: _Tape, both: np.ndarray, batch: int, X, weights, grad) -> None:
    """The backward sweep from ``both = [psi; lambda]`` (``lambda = dL/d<psi| ...``) at the
    circuit's end; ``both`` is undone in place, segment by segment."""
    if tape.first_trainable_segment is None:
        return
    # psi and lambda side by side: every segment is undone on both in one plan run.
    X2 = None if X is None else np.concatenate([X, X])
    for s in range(len(tape.segments) - 1, tape.first_trainable_segment - 1, -1):
        seg = tape.segments[s]
        psi, lam = both[:batch], both[batch:]
        for i in seg.indices:
            if i in tape.generators:
                _accumulate(tape, i, psi, lam, X, weights, grad)
        if s == tape.first_trainable_segment:
            break
        apply_plan(tape.inverse_plans[s], X2, weights, 2 * batch, state=both)


def _accumulate(tape: _Tape, i: int, psi, lam, X, weights, grad) -> None:
    """Add one trainable gate's term: d<E>/dt = 2 Re <lam| -i K psi> = 2 Im <lam| K psi>."""
    op = tape.ops[i]
    gen = tape.generators[i]
    if gen.single is not None:
        im = _im_single_pauli(lam, psi, tape.n_qubits, *gen.single)
    else:
        kpsi = psi if gen.pauli is None else apply_pauli(psi, gen.pauli)
        if gen.mask_qubits:
            im = _im_masked(lam, kpsi, tape.n_qubits, gen.mask_qubits, gen.mask_kind)
        else:
            im = im_dot(lam, kpsi)
    per_sample = 2 * gen.coeff * im
    (angle,) = op.params
    idx, dangle = angle.weight_gradient(X, weights, weights.shape[0])
    grad[idx] += (dangle * per_sample[None, :]).sum(axis=1)


def _im_masked(lam, kpsi, n: int, qubits: tuple[int, ...], kind: str) -> np.ndarray:
    """``Im <lam| mask kpsi>`` with a 0/1 mask over the bits of ``qubits`` (all ones, or odd
    parity), summed over the slices where it is 1: no ``2**n`` mask is built."""
    shape, slices = mask_slices(n, qubits, kind, value=1)
    lv, kv = lam.reshape(lam.shape[0], *shape), kpsi.reshape(kpsi.shape[0], *shape)
    total = np.zeros(lam.shape[0])
    for index in slices:
        total += im_dot(lv[index], kv[index])
    return total


def mask_slices(
    n: int, qubits: tuple[int, ...], kind: str, value: int
) -> tuple[list[int], list[tuple]]:
    """Where a generator's 0/1 basis mask over the bits of ``qubits`` equals ``value``.

    The mask is 1 where all those bits are 1 (``kind="all"``) or where their parity is odd
    (``"parity"``). Returns the shape of a state view after its batch axis (one axis per
    listed qubit, see :func:`qubit_view_shape`) and the index tuples of that view's slices
    where the mask equals ``value``.
    """
    shape, axis = qubit_view_shape(n, qubits)
    slices = []
    for bits in itertools.product((0, 1), repeat=len(qubits)):
        on = sum(bits) % 2 == 1 if kind == "parity" else all(bits)
        if on != bool(value):
            continue
        index: list = [slice(None)] * (len(shape) + 1)
        for q, bit in zip(qubits, bits, strict=True):
            index[axis[q]] = bit
        slices.append(tuple(index))
    return shape, slices


def _im_single_pauli(lam, psi, n: int, q: int, pauli: str) -> np.ndarray:
    """``Im <lam| P_q psi>`` per sample for a one-qubit Pauli, on the two halves of qubit q."""
    batch = psi.shape[0]
    shape = (batch, 2 ** (n - q - 1), 2, 2**q)
    lv, pv = lam.reshape(shape), psi.reshape(shape)
    l0, l1, p0, p1 = lv[:, :, 0], lv[:, :, 1], pv[:, :, 0], pv[:, :, 1]
    if pauli == "z":
        return im_dot(l0, p0) - im_dot(l1, p1)
    if pauli == "x":
        return im_dot(l0, p1) + im_dot(l1, p0)
    # Y psi = (-i psi_1, i psi_0): Im(-i z) = -Re z, Im(i z) = Re z.
    return re_dot(l1, p0) - re_dot(l0, p1)
