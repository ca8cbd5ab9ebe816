"""Batched statevector simulation: a whole batch of samples at once, NumPy only.

States have shape ``(n_samples, 2**n_qubits)``, little-endian (qubit 0 is the least significant
bit of the basis index). A gate never becomes a dense ``2**n x 2**n`` matrix: single-qubit gates
act on a ``(batch, left, 2, right)`` view with two multiply-adds per half, controlled gates on the
slice where their controls are 1, and diagonal blocks as one phase vector per sample.

While every gate so far was a single-qubit gate, the state is a product state and is kept as one
2-vector per qubit; it is expanded into the full vector only when an entangling gate comes (so
embedding layers and the first Hadamard layer cost ``O(n)`` per sample, not ``O(2**n)``).
"""

from __future__ import annotations

import numpy as np

from ..circuits._circuit import Circuit, Operation
from ..circuits._gates import gate_spec
from ._memory import SimulationMemoryError, resolve_max_memory_mb, state_bytes
from ._plan import DiagonalBlock, Plan, SingleQubitStep, Step, compile_circuit

__all__ = ["apply_plan", "check_inputs", "max_batch_size", "simulate"]

# Working copies of the state alive at once during simulation (state, temporaries, phases).
_WORKING_COPIES = 4


def max_batch_size(n_qubits: int, max_memory_mb: float | None, copies: int = _WORKING_COPIES):
    """Largest batch that fits the budget; raises :class:`SimulationMemoryError` if none."""
    budget = resolve_max_memory_mb(max_memory_mb) * 1024**2
    per_sample = copies * state_bytes(n_qubits)
    if per_sample > budget:
        raise SimulationMemoryError(
            f"simulating {n_qubits} qubits",
            per_sample / 1024**2,
            budget / 1024**2,
            hint="use fewer qubits (features) or raise the limit",
        )
    return max(1, int(budget // per_sample))


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
        if not np.all(np.isfinite(X)):
            raise ValueError("X contains NaN or infinity")
    elif circuit.n_features:
        raise ValueError(f"the circuit reads {circuit.n_features} features: pass X")
    if weights is not None:
        weights = np.asarray(weights, dtype=float).ravel()
        if weights.shape[0] < circuit.n_weights:
            raise ValueError(
                f"the circuit has {circuit.n_weights} weights, got {weights.shape[0]}"
            )
        if not np.all(np.isfinite(weights)):
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
        Memory budget; the batch is simulated in chunks that fit it. Default: half the
        available memory (or ``SKQML_MAX_MEMORY_MB``).
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
    dim = 2**circuit.n_qubits
    # The output itself must fit beside one working chunk.
    chunk = max_batch_size(circuit.n_qubits, max_memory_mb)
    total_mb = n_samples * state_bytes(circuit.n_qubits) / 1024**2
    budget = resolve_max_memory_mb(max_memory_mb)
    if out is None and total_mb > budget:
        raise SimulationMemoryError(
            f"the states of {n_samples} samples on {circuit.n_qubits} qubits",
            total_mb,
            budget,
            hint="pass fewer samples at once or raise the limit",
        )
    if out is None:
        out = np.empty((n_samples, dim), dtype=complex)
    elif out.shape != (n_samples, dim) or out.dtype != np.complex128:
        raise ValueError(f"out must be complex128 of shape {(n_samples, dim)}")
    plan = compile_circuit(circuit)
    for start in range(0, n_samples, chunk):
        stop = min(start + chunk, n_samples)
        Xc = None if X is None else X[start:stop]
        out[start:stop] = apply_plan(plan, Xc, weights, stop - start)
    return out


def apply_plan(
    plan: Plan, X, weights, n_samples: int, state: np.ndarray | None = None
) -> np.ndarray:
    """Run a compiled plan on a batch, from ``|0...0>`` or from ``state`` (modified in place)."""
    n = plan.n_qubits
    product = None
    if state is None:
        # Product state: one 2-vector per qubit, batch axis of size 1 until a gate needs more.
        product = [np.array([[1.0 + 0j, 0.0]]) for _ in range(n)]
    for step in plan.steps:
        if product is not None:
            if isinstance(step, SingleQubitStep):
                m = _fused_matrix(step.ops, X, weights)
                product[step.qubit] = np.matmul(m, product[step.qubit][:, :, None])[:, :, 0]
                continue
            if isinstance(step, DiagonalBlock) and step.single_qubit_only():
                _diag_on_product(step, product, X, weights)
                continue
            state = _expand_product(product, n_samples)
            product = None
        if isinstance(step, SingleQubitStep):
            _apply_1q(state, n, step.qubit, _fused_matrix(step.ops, X, weights))
        elif isinstance(step, DiagonalBlock):
            _apply_diagonal(plan, step, state, X, weights)
        else:
            _apply_gate(state, n, step, X, weights)
    if product is not None:
        state = _expand_product(product, n_samples)
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


def _expand_product(product: list[np.ndarray], n_samples: int) -> np.ndarray:
    """Kronecker product of per-qubit vectors, little-endian, shape (n_samples, 2**n)."""
    state = product[-1]
    for q in range(len(product) - 2, -1, -1):
        batch = max(state.shape[0], product[q].shape[0])
        state = (state[:, :, None] * product[q][:, None, :]).reshape(batch, -1)
    if state.shape[0] != n_samples:
        state = np.repeat(state, n_samples, axis=0)
    return np.ascontiguousarray(state)


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


def _apply_1q(state: np.ndarray, n: int, q: int, m: np.ndarray) -> None:
    """In place: 2x2 matrices ``m`` (batch or 1, 2, 2) on qubit ``q``."""
    batch = state.shape[0]
    v = state.reshape(batch, 2 ** (n - q - 1), 2, 2**q)
    a, b = v[:, :, 0, :], v[:, :, 1, :]
    _two_by_two(a, b, m)


def _two_by_two(a: np.ndarray, b: np.ndarray, m: np.ndarray) -> None:
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
            tmp = a.copy()
            np.multiply(b, m01, out=a)
            np.multiply(tmp, m10, out=b)
            return
    else:
        m00, m01, m10, m11 = (m[:, i, j].reshape((-1, *extra)) for i in (0, 1) for j in (0, 1))
    tmp = a.copy()
    a *= m00
    a += m01 * b
    b *= m11
    b += m10 * tmp


def _apply_diagonal(plan: Plan, block: DiagonalBlock, state, X, weights) -> None:
    const, patterns, angles = plan.block_patterns(block)
    if not angles:
        state *= np.exp(1j * const)[None, :]
        return
    batch = state.shape[0]
    values = np.stack([np.broadcast_to(a.evaluate(X, weights), (batch,)) for a in angles], axis=1)
    phase = values @ patterns
    phase += const[None, :]
    state *= np.exp(1j * phase)


def _apply_gate(state: np.ndarray, n: int, step: Step, X, weights) -> None:
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
            _two_by_two(a, b, m)
            return
    m = _op_matrix(op, X, weights)
    k = len(op.qubits)
    axes = [axis[q] for q in op.qubits]
    moved = np.moveaxis(v, axes, range(n + 1 - k, n + 1))
    shape = moved.shape
    flat = moved.reshape(batch, -1, 2**k)
    new = flat @ m[0].T if m.shape[0] == 1 else np.einsum("bij,brj->bri", m, flat)
    v[...] = np.moveaxis(new.reshape(shape), range(n + 1 - k, n + 1), axes)
