"""Batched statevector simulation: a whole batch of samples at once, NumPy only.

States have shape ``(n_samples, 2**n_qubits)``, little-endian (qubit 0 is the least significant
bit of the basis index). A gate never becomes a dense ``2**n x 2**n`` matrix: single-qubit gates
act on a ``(batch, left, 2, right)`` view with two multiply-adds per half, controlled gates on the
slice where their controls are 1, and diagonal blocks as one phase vector per sample.

While every gate so far was a single-qubit gate, the state is a product state and is kept as one
2-vector per qubit; it is expanded into the full vector only when an entangling gate comes (so
embedding layers and the first Hadamard layer cost ``O(n)`` per sample, not ``O(2**n)``).

Where the time goes, and what keeps it low (see ``benchmarks/``):

- Constant layers (Hadamards on every qubit) are one dense real matrix product per group of up
  to ``_LAYER_GROUP`` qubits (``H^{(x)a}`` acting on a reshaped ``(rows, 2**a, rest)`` view):
  BLAS speed, two passes over the state instead of ``n``.
- Sines and cosines cost far more than multiplications. A diagonal block over all qubits is
  split into low and high qubits (see :meth:`Plan.split_patterns`): its phase factor is built
  from the exponentials of ``O(2**(n/2) * n)`` phases per sample by doubling, the way the
  product state is expanded. Blocks on few qubits use their local ``2**k`` phases, broadcast.
- Two-qubit Pauli rotations (``rxx``, ``ryy``) mix only the pairs ``|00>, |11>`` and
  ``|01>, |10>``: two in-place 2x2 updates on strided views, no axis moves or copies.
"""

from __future__ import annotations

import numpy as np

from ..circuits._angle import overflow_error
from ..circuits._circuit import Circuit, Operation
from ..circuits._gates import gate_spec
from ._memory import check_states_fit, require_memory, rows_per_chunk, state_bytes
from ._observables import qubit_view_shape
from ._plan import (
    ConstantLayer,
    DiagonalBlock,
    Plan,
    SingleQubitStep,
    Step,
    compile_circuit,
    diagonal_route,
)

__all__ = [
    "WORKING_COPIES",
    "apply_plan",
    "check_inputs",
    "chunk_rows",
    "simulate",
    "simulate_probabilities",
]

# State-sized buffers per sample that a plan run needs besides the state itself: the
# scratch of the 2x2 updates (two half states), plus the largest transient of one step (a
# constant layer's product, a diagonal block's phase factor, a dense gate's moved copy and
# result, the last doubling of the product state). Callers count them per row in budgets.
WORKING_COPIES = 3
# Highest qubit whose 2x2 gates act as kron(m, I) on rows of 2**(q+1) amplitudes (a matrix
# of at most 16 x 16 complex entries); above it, on (2, 2**q) blocks. Measured at 10 qubits.
_KRON_MAX_QUBIT = 2

# Qubits per dense matrix in a constant layer: 2**6 = 64 wide matrices keep the products
# BLAS-efficient while costing 2 * 64 multiply-adds per amplitude and group.
_LAYER_GROUP = 6


def chunk_rows(
    plan: Plan,
    max_memory_mb: float | None,
    *,
    copies: float = 1 + WORKING_COPIES,
    fixed_bytes: float = 0,
    what: str = "simulating",
) -> int:
    """Samples per chunk when each holds ``copies`` states, beside the plan's phase tables.

    Raises :class:`SimulationMemoryError` (with the wide-circuit advice) when not even one
    sample fits.
    """
    n = plan.n_qubits
    return rows_per_chunk(
        copies * state_bytes(n),
        max_memory_mb,
        what=what,
        n_qubits=n,
        fixed_bytes=fixed_bytes + plan.table_bytes,
    )


def check_inputs(circuit: Circuit, X, weights) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Validate the feature batch and weights a circuit needs."""
    if X is not None:
        X = np.asarray(X, dtype=float)
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {X.shape}")
        if X.shape[1] < circuit.n_features:
            raise ValueError(
                f"the circuit reads {circuit.n_features} features, X has {X.shape[1]}"
            )
        if not np.isfinite(X).all():
            raise ValueError("X contains NaN or infinity")
    elif circuit.n_features:
        raise ValueError(f"the circuit reads {circuit.n_features} features: pass X")
    if weights is not None:
        weights = np.asarray(weights, dtype=float).ravel()
        if weights.shape[0] < circuit.n_weights:
            raise ValueError(
                f"the circuit has {circuit.n_weights} weights, got {weights.shape[0]}"
            )
        if not np.isfinite(weights).all():
            raise ValueError("weights contain NaN or infinity")
    elif circuit.n_weights:
        raise ValueError(f"the circuit has {circuit.n_weights} trainable weights: pass weights")
    return X, weights


def simulate(
    circuit: Circuit,
    X=None,
    weights=None,
    *,
    max_memory_mb: float | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Final states of ``circuit`` for every row of ``X``, started from ``|0...0>``.

    Parameters
    ----------
    circuit : Circuit
        The circuit to run.
    X : array-like of shape (n_samples, n_features), optional
        One row of features per sample. Without it, one state is returned (shape ``(1, 2**n)``).
    weights : array-like of shape (n_weights,), optional
        Trainable weights, shared by all samples.
    max_memory_mb : float, optional
        Memory budget (MiB) of the call: the output states (unless ``out`` is given), the
        plan's phase tables and the working copies of a chunk of samples; the batch is
        simulated in chunks that fit it. What cannot fit raises
        :class:`SimulationMemoryError` before anything large is allocated. Default: half
        the available memory (or ``SKQML_MAX_MEMORY_MB``).
    out : ndarray of shape (n_samples, 2**n_qubits), complex128, optional
        Where to write the states.

    Returns
    -------
    states : ndarray of shape (n_samples, 2**n_qubits), complex128

    Examples
    --------
    >>> import numpy as np
    >>> from skqml.circuits import Circuit, feature
    >>> from skqml.simulator import simulate
    >>> bell = Circuit(2).h(0).cnot(0, 1)
    >>> np.round(simulate(bell), 3)
    array([[0.707+0.j, 0.   +0.j, 0.   +0.j, 0.707+0.j]])
    >>> simulate(Circuit(1).ry(feature(0), 0), [[0.0], [np.pi]]).real.round(3)
    array([[1., 0.],
           [0., 1.]])
    """
    X, weights = check_inputs(circuit, X, weights)
    n_samples = 1 if X is None else X.shape[0]
    n = circuit.n_qubits
    dim = 2**n
    plan = compile_circuit(circuit)
    working = WORKING_COPIES * state_bytes(n)
    if out is None:
        # The output and one sample's working copies (and the plan's tables) must fit.
        check_states_fit(n_samples, n, max_memory_mb, working_bytes=working + plan.table_bytes)
    elif out.shape != (n_samples, dim) or out.dtype != np.complex128:
        raise ValueError(f"out must be complex128 of shape {(n_samples, dim)}")
    held = n_samples * state_bytes(n) if out is None else 0
    chunk = chunk_rows(plan, max_memory_mb, copies=WORKING_COPIES, fixed_bytes=held)
    if out is None:
        out = np.empty((n_samples, dim), dtype=complex)
    for start in range(0, n_samples, chunk):
        stop = min(start + chunk, n_samples)
        Xc = None if X is None else X[start:stop]
        target = out[start:stop]
        if target.flags.c_contiguous:
            apply_plan(plan, Xc, weights, stop - start, out=target)
        else:  # the plan works on reshaped views: a copy for other layouts
            target[...] = apply_plan(plan, Xc, weights, stop - start)
    return out


def simulate_probabilities(
    circuit: Circuit, X=None, weights=None, *, max_memory_mb: float | None = None
) -> np.ndarray:
    """Born probabilities of the final states, simulated in chunks: no batch of states kept.

    Only the probabilities (8 bytes per amplitude, half a state) are held for every sample;
    the states exist one chunk at a time. Same numbers as ``probabilities(simulate(...))``.

    Parameters
    ----------
    circuit : Circuit
        The circuit to run, from ``|0...0>``.
    X : array-like of shape (n_samples, n_features), optional
        One row of features per sample.
    weights : array-like of shape (n_weights,), optional
        Trainable weights, shared by all samples.
    max_memory_mb : float, optional
        Memory budget (MiB) of the call: the probabilities, the plan's phase tables and a
        chunk of states with their working copies.

    Returns
    -------
    probabilities : ndarray of shape (n_samples, 2**n_qubits)
        Little-endian basis order (qubit 0 is the least significant bit).

    Examples
    --------
    >>> from skqml.circuits import Circuit
    >>> from skqml.simulator import simulate_probabilities
    >>> simulate_probabilities(Circuit(2).h(0).cnot(0, 1)).round(3)
    array([[0.5, 0. , 0. , 0.5]])
    """
    X, weights = check_inputs(circuit, X, weights)
    n_samples = 1 if X is None else X.shape[0]
    n = circuit.n_qubits
    plan = compile_circuit(circuit)
    held = 8 * 2**n * n_samples
    chunk_rows(plan, max_memory_mb, what="probabilities")  # one sample: else wide advice
    require_memory(
        held + (1 + WORKING_COPIES) * state_bytes(n) + plan.table_bytes,
        max_memory_mb,
        f"the probabilities of {n_samples} samples on {n} qubits",
        hint="pass fewer samples at once or raise the limit",
    )
    chunk = chunk_rows(plan, max_memory_mb, fixed_bytes=held, what="probabilities")
    buffer = np.empty((min(chunk, n_samples), 2**n), dtype=complex)
    probs = np.empty((n_samples, 2**n))
    for start in range(0, n_samples, chunk):
        stop = min(start + chunk, n_samples)
        Xc = None if X is None else X[start:stop]
        states = apply_plan(plan, Xc, weights, stop - start, out=buffer[: stop - start])
        P = probs[start:stop]
        np.square(states.real, out=P)
        P += np.square(states.imag)
    return probs


def apply_plan(
    plan: Plan,
    X,
    weights,
    n_samples: int,
    state: np.ndarray | None = None,
    *,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Run a compiled plan on a batch, from ``|0...0>`` or from ``state`` (modified in place).

    From ``|0...0>`` the states are written to ``out`` (a C-contiguous complex array of
    shape ``(n_samples, 2**n)``) when given. Scratch buffers belong to this call.
    """
    n = plan.n_qubits
    product = None
    scratch = _Scratch()
    if state is None:
        # Product state: one 2-vector per qubit, batch axis of size 1 until a gate needs more.
        product = [np.array([[1.0 + 0j, 0.0]]) for _ in range(n)]
    for step in plan.steps:
        if product is not None:
            if isinstance(step, SingleQubitStep | ConstantLayer):
                for sub in step.steps if isinstance(step, ConstantLayer) else [step]:
                    m = _fused_matrix(sub.ops, X, weights)
                    product[sub.qubit] = np.matmul(m, product[sub.qubit][:, :, None])[:, :, 0]
                continue
            if isinstance(step, DiagonalBlock) and step.single_qubit_only():
                _diag_on_product(step, product, X, weights)
                continue
            state = _expand_product(product, n_samples, out)
            product = None
        if isinstance(step, SingleQubitStep):
            _apply_1q(state, n, step.qubit, _fused_matrix(step.ops, X, weights), scratch)
        elif isinstance(step, ConstantLayer):
            _apply_layer(state, n, step, X, weights, scratch)
        elif isinstance(step, DiagonalBlock):
            _apply_diagonal(plan, step, state, X, weights)
        else:
            _apply_gate(state, n, step, X, weights, scratch)
    if product is not None:
        state = _expand_product(product, n_samples, out)
    return state


def _angles(op: Operation, X, weights) -> list[np.ndarray]:
    return [p.evaluate(X, weights) for p in op.params]


def _op_matrix(op: Operation, X, weights) -> np.ndarray:
    return op.spec.matrix(*_angles(op, X, weights), n_qubits=len(op.qubits))


def _fused_matrix(ops: list[Operation], X, weights) -> np.ndarray:
    m = _op_matrix(ops[0], X, weights)
    for op in ops[1:]:
        m = np.matmul(_op_matrix(op, X, weights), m)
    return m


def _expand_product(
    product: list[np.ndarray], n_samples: int, out: np.ndarray | None = None
) -> np.ndarray:
    """Kronecker product of per-qubit vectors, little-endian, shape (n_samples, 2**n).

    Built from qubit 0 up, so that each step multiplies the long, contiguous lower part by two
    scalars per sample (inner loops over ``2**q`` amplitudes, not over 2). The last step
    writes into ``out`` (or a new array), broadcasting a batch of one to every sample.
    """
    if out is None:
        out = np.empty((n_samples, 2 ** len(product)), dtype=complex)
    state = product[0]
    for q in range(1, len(product) - 1):
        batch = max(state.shape[0], product[q].shape[0])
        state = (product[q][:, :, None] * state[:, None, :]).reshape(batch, -1)
    if len(product) == 1:
        out[...] = state
    else:
        top = out.reshape(n_samples, 2, -1)
        np.multiply(product[-1][:, :, None], state[:, None, :], out=top)
    return out


def _diag_on_product(block: DiagonalBlock, product, X, weights) -> None:
    for op in block.const_ops:
        const, _ = op.spec.diagonal(1)
        q = op.qubits[0]
        product[q] = product[q] * np.exp(1j * const)[None, :]
    for (name, qubits, p), angle in block.entries.items():
        const, patterns = gate_spec(name).diagonal(1)
        a = angle.evaluate(X, weights)
        q = qubits[0]
        product[q] = product[q] * np.exp(1j * (const[None, :] + a[:, None] * patterns[p][None]))


def _apply_1q(state: np.ndarray, n: int, q: int, m: np.ndarray, scratch: _Scratch) -> None:
    """In place: 2x2 matrices ``m`` (batch or 1, 2, 2) on qubit ``q``."""
    batch = state.shape[0]
    if _by_products(state, q, m):
        _matmul_1q(state, q, m[0], scratch)
        return
    v = state.reshape(batch, 2 ** (n - q - 1), 2, 2**q)
    a, b = v[:, :, 0, :], v[:, :, 1, :]
    _two_by_two(a, b, m, scratch)


def _by_products(state: np.ndarray, q: int, m: np.ndarray) -> bool:
    """Whether :func:`_matmul_1q` serves ``m`` on qubit ``q``: one matrix for every row that
    mixes the two basis states (diagonal and anti-diagonal ones cost less elementwise), on a
    C-contiguous state of at least two blocks. A complex matrix on qubit 0 stays elementwise,
    where its adjacent pairs are fast (measured: 120 us against 180 us at 10 qubits, 32
    rows; the products win on every other qubit, by up to 4x)."""
    if m.shape[0] != 1 or not state.flags.c_contiguous or state.size < 4 << q:
        return False
    m = m[0]
    if (m[0, 1] == 0 and m[1, 0] == 0) or (m[0, 0] == 0 and m[1, 1] == 0):
        return False
    return q > 0 or not np.any(m.imag)


def _matmul_1q(state: np.ndarray, q: int, m: np.ndarray, scratch: _Scratch) -> None:
    """In place: one 2x2 matrix ``m`` on qubit ``q`` of a C-contiguous state, as matrix
    products on at most half of its rows at a time (a half state of scratch, as
    :func:`_two_by_two`).

    Elementwise updates of the ``(a, b)`` halves run over inner axes of ``2**q`` amplitudes,
    which NumPy walks slowly for low qubits; products do not. Up to ``_KRON_MAX_QUBIT`` the
    matrix acts on rows of ``2**(q+1)`` contiguous amplitudes as ``kron(m, I)``, above it on
    ``(2, 2**q)`` blocks. A real matrix acts on the ``(re, im)`` pairs: real products, half
    the arithmetic."""
    real = not np.any(m.imag)
    values = state.view(np.float64) if real else state
    width = 2 ** (q + 1) * (2 if real else 1)  # one block's entries in ``values``
    matrix = m.real if real else m
    if q <= _KRON_MAX_QUBIT:
        blocks = values.reshape(-1, width)
        operator = np.ascontiguousarray(np.kron(matrix, np.eye(width // 2)).T)
    else:
        blocks = values.reshape(-1, 2, width // 2)
        operator = matrix
    chunk = blocks.shape[0] // 2
    for start in range(0, blocks.shape[0], chunk):
        part = blocks[start : start + chunk]
        out = scratch.buffer(part.shape, part.dtype, 0)
        if q <= _KRON_MAX_QUBIT:
            np.matmul(part, operator, out=out)
        else:
            np.matmul(operator, part, out=out)
        part[...] = out


def _two_by_two(a: np.ndarray, b: np.ndarray, m: np.ndarray, scratch: _Scratch) -> None:
    """In place ``(a, b) <- m @ (a, b)`` with ``m`` of shape (batch or 1, 2, 2)."""
    extra = (1,) * (a.ndim - 1)
    if m.shape[0] == 1:
        m00, m01, m10, m11 = m[0, 0, 0], m[0, 0, 1], m[0, 1, 0], m[0, 1, 1]
        if m01 == 0 and m10 == 0:
            if m00 != 1:
                a *= m00
            if m11 != 1:
                b *= m11
            return
        if m00 == 0 and m11 == 0:
            tmp = scratch.buffer(a.shape, a.dtype, 0)
            np.copyto(tmp, a)
            np.multiply(b, m01, out=a)
            np.multiply(tmp, m10, out=b)
            return
        if not np.any(m.imag) and a.strides[-1] == a.itemsize:
            # A real matrix (RY, H, ...): real arithmetic on (re, im) pairs, half the work.
            a, b = a.view(np.float64), b.view(np.float64)
            m00, m01, m10, m11 = m00.real, m01.real, m10.real, m11.real
    else:
        m00, m01, m10, m11 = (m[:, i, j].reshape((-1, *extra)) for i in (0, 1) for j in (0, 1))
    # Two reusable scratch buffers: large temporaries would be fresh pages on every gate.
    t1 = np.multiply(b, m01, out=scratch.buffer(a.shape, a.dtype, 0))
    t2 = np.multiply(a, m10, out=scratch.buffer(a.shape, a.dtype, 1))
    a *= m00
    a += t1
    b *= m11
    b += t2


class _Scratch:
    """Reusable buffers of one plan run (contents undefined), freed with it.

    Large temporaries would be fresh pages on every gate; one buffer per slot, viewed as
    whatever dtype a step needs, is allocated once per run and grows to the largest request.
    """

    def __init__(self):
        self._buffers: dict[int, np.ndarray] = {}

    def buffer(self, shape: tuple, dtype, slot: int) -> np.ndarray:
        dtype = np.dtype(dtype)
        nbytes = int(np.prod(shape)) * dtype.itemsize
        buf = self._buffers.get(slot)
        if buf is None or buf.nbytes < nbytes:
            # complex128 storage: aligned for every dtype a step views it as.
            buf = self._buffers[slot] = np.empty(-(-nbytes // 16), dtype=complex)
        return buf.view(np.uint8)[:nbytes].view(dtype).reshape(shape)


def _apply_layer(
    state: np.ndarray, n: int, layer: ConstantLayer, X, weights, scratch: _Scratch
) -> None:
    """In place: parameter-free 2x2 matrices on distinct qubits, by groups of qubits.

    Qubits ``[lo, lo + a)`` of one group get the Kronecker product ``M`` of their matrices
    (identity for untouched ones in between), applied to the ``(rows, 2**a, 2**lo)`` view:
    one matrix product per group rather than one pass over the state per qubit.
    """
    mats = {sub.qubit: _fused_matrix(sub.ops, X, weights)[0] for sub in layer.steps}
    original, other = state, None
    for start in range(0, n, _LAYER_GROUP):
        group = [q for q in range(start, min(start + _LAYER_GROUP, n)) if q in mats]
        if len(group) < 2:
            for q in group:
                _apply_1q(state, n, q, mats[q][None], scratch)
            continue
        lo, a = group[0], group[-1] - group[0] + 1
        m = np.ones((1, 1), dtype=complex)
        for q in range(lo + a - 1, lo - 1, -1):  # most significant qubit first
            m = np.kron(m, mats.get(q, np.eye(2)))
        real = not np.any(m.imag)
        if lo and not real:
            # A batched complex product with small matrices is slow in NumPy: go per qubit.
            for q in group:
                _apply_1q(state, n, q, mats[q][None], scratch)
            continue
        if other is None:
            other = np.empty_like(state)
        if lo == 0:
            # Lowest qubits: rows of 2**a contiguous amplitudes, one (complex) BLAS product.
            np.matmul(state.reshape(-1, 2**a), m.T, out=other.reshape(-1, 2**a))
        else:
            # Higher qubits: M (real) times (2**a, 2**lo) blocks; viewing complex numbers as
            # (re, im) pairs of doubles makes it a real product with half the arithmetic.
            shape = (-1, 2**a, 2 ** (lo + 1))
            np.matmul(
                m.real, state.view(float).reshape(shape), out=other.view(float).reshape(shape)
            )
        state, other = other, state
    if state is not original:  # an odd number of products: the result is in the other
        original[...] = state


def _phase_factors(const, patterns, angles, batch: int, X, weights) -> np.ndarray:
    """``exp(i * (const + values @ patterns))``, shape (batch or 1, columns).

    ``patterns`` is a dense ``(gates, columns)`` table, or the block-sparse parts of a split
    block: ``(start, stop, rows, table)`` with ``values[:, rows] @ table`` on those columns.
    """
    if not angles:
        return np.exp(1j * const)[None, :]
    values = np.stack([np.broadcast_to(a.evaluate(X, weights), (batch,)) for a in angles], axis=1)
    if isinstance(patterns, np.ndarray):
        phase = values @ patterns
        phase += const[None, :]
    else:
        phase = np.empty((batch, const.shape[0]))
        phase[...] = const
        for start, stop, rows, table in patterns:
            phase[:, start:stop] += values[:, rows] @ table
    # Patterns are at most 1 in magnitude: the sum of finite angles can only overflow when
    # they are enormous, and then the phases are checked exactly.
    if np.abs(values).max(initial=0.0) > 1e300 / len(angles) and not np.isfinite(phase).all():
        sample = int(np.flatnonzero(~np.isfinite(phase).all(axis=1))[0])
        largest = int(np.argmax(np.abs(values[sample])))
        raise overflow_error(
            f"the phase of diagonal gates with angles up to {angles[largest]}",
            np.inf,
            angles[largest],
            X,
            sample,
        )
    # cos + i sin written straight into a complex array: no complex temporaries.
    out = np.empty(phase.shape, dtype=complex)
    np.cos(phase, out=out.real)
    np.sin(phase, out=out.imag)
    return out


def _apply_diagonal(plan: Plan, block: DiagonalBlock, state, X, weights) -> None:
    """In place: a diagonal block, by the cheapest exact route its structure allows."""
    n = plan.n_qubits
    batch = state.shape[0]
    route = diagonal_route(block, n)
    if route == "local":
        _apply_local_diagonal(plan, block, state, X, weights)
        return
    if route == "full":
        state *= _phase_factors(*plan.block_patterns(block), batch, X, weights)
        return
    n_low = block.n_low
    split = plan.split_patterns(block, n_low)
    # phase(b) = f(b_L) + g(b_H) + sum_j b_j h_j(b_L): exponentials of f, g and every h_j,
    # then the full factor by doubling over the high qubits (as a product state expands).
    low, n_high = 2**n_low, n - n_low
    high = 2**n_high
    e = _phase_factors(*split, batch, X, weights)
    e_low, e_high = e[:, :low], e[:, low : low + high]
    u = e[:, low + high :].reshape(-1, n_high, low)
    factor = np.empty((batch, high, low), dtype=complex)
    factor[:, 0, :] = e_low
    for j in range(n_high):
        np.multiply(factor[:, : 2**j], u[:, j, None, :], out=factor[:, 2**j : 2 ** (j + 1)])
    factor *= e_high[:, :, None]
    state *= factor.reshape(batch, -1)


def _apply_local_diagonal(plan: Plan, block: DiagonalBlock, state, X, weights) -> None:
    """A block on few qubits: its ``2**k`` local phase factors, broadcast over the others."""
    n = plan.n_qubits
    e = _phase_factors(*plan.local_patterns(block), state.shape[0], X, weights)
    # View the state with one axis per block qubit and one per run of other qubits (highest
    # first), so that broadcasting multiplies long contiguous runs by one factor.
    shape, axis = qubit_view_shape(n, block.qubit_set)
    factor_shape = [e.shape[0]] + [1] * len(shape)
    for a in axis.values():
        factor_shape[a] = 2
    view = state.reshape(state.shape[0], *shape)
    view *= e.reshape(factor_shape)


# Entries of a two-qubit matrix that couple the pair (|00>, |11>) to the pair (|01>, |10>).
_CROSS_ROWS = [0, 0, 3, 3, 1, 1, 2, 2]
_CROSS_COLS = [1, 2, 1, 2, 0, 3, 0, 3]


def _apply_gate(state: np.ndarray, n: int, step: Step, X, weights, scratch: _Scratch) -> None:
    op = step.op
    spec = op.spec
    batch = state.shape[0]
    v = state.reshape((batch,) + (2,) * n)
    axis = {q: n - q for q in op.qubits}  # qubit q lives on axis n - q of the (batch, 2...) view
    if spec.n_controls:
        controls, targets = op.qubits[: spec.n_controls], op.qubits[spec.n_controls :]
        sub = gate_spec(spec.target)
        m = sub.matrix(*_angles(op, X, weights), n_qubits=len(targets))
        if len(targets) == 1:
            idx = [slice(None)] * (n + 1)
            for c in controls:
                idx[axis[c]] = 1
            idx[axis[targets[0]]] = 0
            a = v[tuple(idx)]
            idx[axis[targets[0]]] = 1
            b = v[tuple(idx)]
            _two_by_two(a, b, m, scratch)
            return
    m = _op_matrix(op, X, weights)
    k = len(op.qubits)
    if k == 2 and not np.any(m[:, _CROSS_ROWS, _CROSS_COLS]):
        # rxx, ryy, swap...: only |00> <-> |11> and |01> <-> |10> mix (local index
        # 2 * b(q0) + b(q1)), so two in-place 2x2 updates on strided views do it.
        for i, j in ((0, 3), (1, 2)):
            idx = [slice(None)] * (n + 1)
            idx[axis[op.qubits[0]]], idx[axis[op.qubits[1]]] = i >> 1, i & 1
            a = v[tuple(idx)]
            idx[axis[op.qubits[0]]], idx[axis[op.qubits[1]]] = j >> 1, j & 1
            b = v[tuple(idx)]
            _two_by_two(a, b, m[:, [[i, i], [j, j]], [[i, j], [i, j]]], scratch)
        return
    axes = [axis[q] for q in op.qubits]
    moved = np.moveaxis(v, axes, range(n + 1 - k, n + 1))
    shape = moved.shape
    flat = moved.reshape(batch, -1, 2**k)
    new = flat @ m[0].T if m.shape[0] == 1 else np.einsum("bij,brj->bri", m, flat)
    v[...] = np.moveaxis(new.reshape(shape), range(n + 1 - k, n + 1), axes)
