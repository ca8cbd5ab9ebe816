"""Derivatives of the states themselves with respect to the trainable weights.

Fidelity kernels ``k(x, y) = |<psi(x)|psi(y)>|^2`` with trainable embeddings need the
derivatives of the states, not of expectation values. Two forms, for the two ways a loss
uses them:

- :func:`state_vjp`, the vector-Jacobian product ``sum_i 2 Re <lambda_i| dpsi_i/dtheta>``
  for a loss that is a sum over samples with ``lambda_i = dL/d conj(psi_i)``: the adjoint
  backward sweep of :mod:`._adjoint`, with ``lambda`` given directly instead of ``P psi``.
  One forward and one backward pass for all weights together (kernel-target alignment).
- :func:`state_jacobian`, every ``dpsi_i/dtheta_k`` (forward mode): what the gradient of a
  whole Gram matrix with respect to each weight needs (the ``eval_gradient`` of
  scikit-learn kernels). The states and their ``P`` derivatives go through the circuit
  together, segment by segment of the adjoint tape, as one batch of ``(P + 1) *
  n_samples`` rows; after each segment every trainable gate ``exp(-i t K)`` of it adds
  ``-i K psi dt/dtheta_k`` to ``dpsi_k``. That is exact because the tape groups trainable
  gates only with gates whose generators commute with theirs (one-qubit gates on distinct
  qubits), so the segment's derivative is ``-i K S`` whatever the order of its gates. A
  derivative is zero until the first gate that reads its weight, and is carried only from
  there: in a layered circuit that halves the work.

Global phase. The tape splits gates with several angles into one-angle gates; the split of
``U3(t, p, l)`` (``RZ(p) RY(t) RZ(l)``) drops the phase ``e^{i(p + l)/2}``, which depends
on the weights when ``p`` or ``l`` do. Both functions add that phase's derivative back
(``dpsi += i dphi/dtheta psi``), so their derivatives are exact derivatives of the states
they return, which are :func:`~skqml.simulator.simulate`'s, global phase included. The
dropped phase of each gate is read from the gate table's matrices (it is affine in the
gate's angles, which is checked).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, cached_property
from weakref import WeakKeyDictionary

import numpy as np

from ..circuits._angle import Angle
from ..circuits._circuit import Circuit
from ..circuits._gates import gate_spec
from ._adjoint import _Generator, _tape, adjoint_sweep, mask_slices
from ._memory import rows_per_chunk, state_bytes
from ._observables import apply_pauli, checked_cotangent, im_dot
from ._plan import Plan, compile_circuit
from ._statevector import WORKING_COPIES, apply_plan, check_inputs

__all__ = ["state_jacobian", "state_vjp"]

_FEWER_SAMPLES = "pass fewer samples at once or raise the limit"


def state_vjp(
    circuit: Circuit,
    X,
    weights,
    cotangent_fn: Callable[[np.ndarray, slice], np.ndarray],
    *,
    max_memory_mb: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """States and the gradient of a loss through them, in one forward-backward pass.

    For a real loss ``L`` that sums over samples, pass ``lambda_i = dL/d conj(psi_i)`` (the
    Wirtinger derivative, ``(dL/dRe psi + i dL/dIm psi) / 2``): the gradient is
    ``dL/dtheta_k = sum_i 2 Re <lambda_i| dpsi_i/dtheta_k>``. For instance, the fidelity
    ``|<a|psi>|^2`` has ``lambda = a <a|psi>``.

    Parameters
    ----------
    circuit : Circuit
        Circuit with trainable weights (and optionally data features).
    X : array-like of shape (n_samples, n_features) or None
        Data features (None: one run).
    weights : array-like of shape (n_weights,)
        Trainable weights.
    cotangent_fn : callable
        ``cotangent_fn(states, rows) -> lambda``: the complex cotangents (same shape as
        ``states``) of the samples ``rows`` (a slice; all samples unless memory requires
        chunks), given their states (read-only, little-endian). A loss that couples
        samples (a Gram matrix) computes a chunk's cotangents from all the states: simulate
        them first.
    max_memory_mb : float, optional
        Memory budget (MiB) of the call: the returned states, and psi and lambda of a
        chunk of samples with their working copies beside the plans' phase tables.
        Samples are processed in chunks that fit it; what cannot fit raises
        :class:`SimulationMemoryError` before anything large is allocated.

    Returns
    -------
    states : ndarray of shape (n_samples, 2**n_qubits), complex128
        The states, equal to :func:`simulate`'s (global phase included).
    gradient : ndarray of shape (n_weights,)
        ``sum_i 2 Re <lambda_i| dpsi_i/dweights>``, exact: the derivative of the returned
        states, global phase included (see Notes).

    See Also
    --------
    state_jacobian : every derivative of every state (forward mode).
    expectation_vjp : the same sweep for losses of Pauli expectation values.

    Notes
    -----
    Gates with several angles are differentiated through their split into one-angle
    gates. The split of ``U3(t, p, l)`` drops the global phase ``e^{i(p + l)/2}``; its
    derivative is added back, so the derivatives are those of the returned states, global
    phase included, and every function of the states gets exact gradients: fidelities
    ``|<psi_i|psi_j>|^2`` as well as phase-sensitive ones such as ``Re <lambda|psi>``.

    Examples
    --------
    The fidelity with ``|0>`` of ``RY(theta)|0>`` is ``cos(theta / 2)**2``, of derivative
    ``-sin(theta) / 2``:

    >>> import numpy as np
    >>> from skqml.circuits import Circuit, weight
    >>> from skqml.simulator import state_vjp
    >>> a = np.array([1.0, 0.0])
    >>> def cotangent(states, rows):  # lambda = a <a|psi>
    ...     return a * (states @ a.conj())[:, None]
    >>> states, g = state_vjp(Circuit(1).ry(weight(0), 0), None, [0.3], cotangent)
    >>> np.allclose(g, -np.sin(0.3) / 2)
    True
    """
    X, weights = check_inputs(circuit, X, weights)
    n_samples = 1 if X is None else X.shape[0]
    n = circuit.n_qubits
    phase = _forward_tape(circuit).dropped_phase
    states = None  # allocated once the sweep has refused what cannot fit

    def fill_lambda(psi, lam, rows, Xc, weights, grad):
        nonlocal states
        if states is None:
            states = np.empty((n_samples, 2**n), dtype=complex)
        given = states[rows]
        given[...] = psi
        given.flags.writeable = False  # this view only: the returned array stays writeable
        cotangent = checked_cotangent(cotangent_fn, given, rows, dtype=None)
        lam[...] = cotangent
        del cotangent, given
        if phase is not None and phase.weights:
            # psi = e^{i phi} psi_split: the sweep sees psi_split's derivative only, so add
            # 2 Re <lam| i dphi psi> = -2 dphi Im <lam|psi>.
            idx, dphi = phase.weight_gradient(Xc, weights, weights.shape[0])
            grad[idx] -= 2 * (dphi * im_dot(lam, psi)[None, :]).sum(axis=1)

    grad = adjoint_sweep(
        circuit,
        X,
        weights,
        fill_lambda,
        max_memory_mb=max_memory_mb,
        held_bytes=n_samples * state_bytes(n),
        what="state gradients",
        hint=_FEWER_SAMPLES,
    )
    if states is None:  # no samples: the sweep ran no chunk
        states = np.empty((n_samples, 2**n), dtype=complex)
    return states, grad


def state_jacobian(
    circuit: Circuit, X, weights, *, max_memory_mb: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """States and their derivatives with respect to every weight (forward mode).

    Costs at most ``n_weights + 1`` forward simulations of the batch, done as one: the
    states and their derivatives go through each segment of the circuit together (each
    derivative from the first gate that reads its weight).

    Parameters
    ----------
    circuit : Circuit
        Circuit with trainable weights (and optionally data features).
    X : array-like of shape (n_samples, n_features) or None
        Data features (None: one run).
    weights : array-like of shape (n_weights,)
        Trainable weights.
    max_memory_mb : float, optional
        Memory budget (MiB) of the call: the returned states and derivatives
        (``n_weights + 1`` states per sample), and a chunk of samples' ``n_weights + 1``
        states with their working copies beside the plans' phase tables. Samples are
        processed in chunks that fit it; what cannot fit raises
        :class:`SimulationMemoryError` before anything large is allocated.

    Returns
    -------
    states : ndarray of shape (n_samples, 2**n_qubits), complex128
        The states, equal to :func:`simulate`'s (global phase included).
    jacobian : ndarray of shape (n_weights, n_samples, 2**n_qubits), complex128
        ``jacobian[k, i] = dpsi_i/dweights[k]``, exact: the derivative of the returned
        states, global phase included (see Notes); zeros for weights the circuit does not
        read.

    See Also
    --------
    state_vjp : one vector-Jacobian product, at the cost of a few simulations.

    Notes
    -----
    Gates with several angles are differentiated through their split into one-angle
    gates. The split of ``U3(t, p, l)`` drops the global phase ``e^{i(p + l)/2}``; its
    derivative is added back, so the derivatives are those of the returned states, global
    phase included, and every function of the states gets exact gradients: fidelities
    ``|<psi_i|psi_j>|^2`` as well as phase-sensitive ones such as ``Re <lambda|psi>``.

    Examples
    --------
    >>> import numpy as np
    >>> from skqml.circuits import Circuit, feature, weight
    >>> from skqml.simulator import state_jacobian
    >>> c = Circuit(1).ry(weight(0) * feature(0), 0)  # (cos(w x / 2), sin(w x / 2))
    >>> states, jac = state_jacobian(c, [[1.0], [2.0]], [0.5])
    >>> jac.shape
    (1, 2, 2)
    >>> np.allclose(jac[0, 1].real, [-np.sin(0.5), np.cos(0.5)])  # x = 2: d/dw
    True
    """
    X, weights = check_inputs(circuit, X, weights)
    if weights is None:
        weights = np.zeros(0)
    n_samples = 1 if X is None else X.shape[0]
    n = circuit.n_qubits
    dim = 2**n
    forward = _forward_tape(circuit)
    carried = circuit.n_weights  # derivatives carried; more weights have zero ones
    blocks = carried + 1
    # Held: the results. Per sample: its blocks with the working copies of a plan run on
    # them, the generator's product K psi and one product term (or the block moved aside
    # while the blocks are put in weight order); fixed: the plans' tables and one Pauli
    # string's index and sign vectors.
    held = (weights.shape[0] + 1) * n_samples * state_bytes(n)
    fixed = held + forward.table_bytes + state_bytes(n)
    per_row = (blocks * WORKING_COPIES + 2) * state_bytes(n)

    def rows_within(row_bytes: float) -> int:
        return rows_per_chunk(
            row_bytes,
            max_memory_mb,
            what="state derivatives",
            n_qubits=n,
            fixed_bytes=fixed,
            hint=_FEWER_SAMPLES,
        )

    chunk = rows_within(per_row)
    in_place = chunk >= n_samples
    if not in_place:  # the chunks run in a buffer of their own, then are copied out
        chunk = rows_within(per_row + blocks * state_bytes(n))
    out = np.zeros((weights.shape[0] + 1, n_samples, dim), dtype=complex)
    buffer = None if in_place else np.empty((blocks * chunk, dim), dtype=complex)
    for start in range(0, n_samples, chunk):
        stop = min(start + chunk, n_samples)
        rows = stop - start
        Xc = None if X is None else X[start:stop]
        work = out[:blocks].reshape(blocks * rows, dim) if in_place else buffer[: blocks * rows]
        forward.run(work, rows, Xc, weights)
        # The run keeps the derivatives in the order the weights come into play.
        if in_place:
            _permute_blocks(out[1:blocks], forward.position)
        else:
            ordered = work.reshape(blocks, rows, dim)
            out[0, start:stop] = ordered[0]
            out[1 + forward.order, start:stop] = ordered[1:]
    return out[0], out[1:]


def _permute_blocks(blocks: np.ndarray, position: np.ndarray) -> None:
    """In place: ``blocks[k] <- blocks[position[k]]`` (a permutation), one block aside."""
    done = position == np.arange(position.shape[0])
    aside = None
    for start in np.flatnonzero(~done):
        if done[start]:
            continue
        if aside is None:
            aside = np.empty_like(blocks[0])
        aside[...] = blocks[start]
        k = start
        while position[k] != start:
            blocks[k] = blocks[position[k]]
            done[k] = True
            k = position[k]
        blocks[k] = aside
        done[k] = True


class _ForwardTape:
    """The adjoint tape of a circuit, run forwards: the parameter-free prefix as one plan,
    one plan per segment from the first trainable one, and the phase the tape's splits
    drop. Plans are compiled on first use (:func:`state_vjp` needs the phase only)."""

    def __init__(self, circuit: Circuit):
        tape = _tape(circuit)
        first = tape.first_trainable_segment
        first = len(tape.segments) if first is None else first
        self.n_qubits = circuit.n_qubits
        self._prefix = [tape.ops[i] for seg in tape.segments[:first] for i in seg.indices]
        self._segments = [[tape.ops[i] for i in seg.indices] for seg in tape.segments[first:]]
        # Per segment: its trainable gates' generators and angles.
        self.trainable: list[list[tuple[_Generator, Angle]]] = [
            [(tape.generators[i], tape.ops[i].params[0]) for i in trainable]
            for trainable in (
                [i for i in seg.indices if i in tape.generators] for seg in tape.segments[first:]
            )
        ]
        self.dropped_phase = _dropped_phase(circuit)
        # A derivative is zero until a gate reading its weight: the run propagates only the
        # derivatives already in play, kept first. order[j]: the weight of block 1 + j;
        # position[k]: the block (minus 1) of weight k; active[s]: derivatives that go
        # through segment s.
        n_segments = len(self.trainable)
        first_use = np.full(circuit.n_weights, n_segments)
        for s, gates in reversed(list(enumerate(self.trainable))):
            for _, angle in gates:
                first_use[sorted(angle.weights)] = s
        self.order = np.argsort(first_use, kind="stable")
        self.position = np.argsort(self.order)
        self.active = [int(np.sum(first_use < s)) for s in range(n_segments)]

    @cached_property
    def _circuits(self) -> list[Circuit]:
        # Kept alive with the tape: compiled plans are cached per circuit object.
        n = self.n_qubits
        return [Circuit(n, self._prefix)] + [Circuit(n, ops) for ops in self._segments]

    @property
    def prefix_plan(self) -> Plan:
        """The plan of the operations before the first trainable segment."""
        return compile_circuit(self._circuits[0])

    @property
    def segment_plans(self) -> list[Plan]:
        """The plans of the segments from the first trainable one."""
        return [compile_circuit(c) for c in self._circuits[1:]]

    @cached_property
    def table_bytes(self) -> int:
        """Bytes of the plans' phase tables."""
        return sum(compile_circuit(c).table_bytes for c in self._circuits)

    def run(self, work: np.ndarray, rows: int, X, weights: np.ndarray) -> None:
        """Fill ``work`` (``(n_weights + 1) * rows`` states) with the states of the samples
        ``X``, then the derivatives with respect to weights ``order[0], order[1], ...``."""
        blocks = work.shape[0] // rows
        psi = work[:rows]
        apply_plan(self.prefix_plan, X, weights, rows, out=psi)
        derivatives = work[rows:].reshape(blocks - 1, rows, work.shape[1])
        derivatives.fill(0)
        X_all = None if X is None else np.tile(X, (blocks, 1))
        segments = zip(self.segment_plans, self.trainable, self.active, strict=True)
        for plan, gates, active in segments:
            used = (1 + active) * rows
            X_used = None if X_all is None else X_all[:used]
            apply_plan(plan, X_used, weights, used, state=work[:used])
            for generator, angle in gates:
                # d/dt of exp(-i t K) S = -i K (exp(-i t K) S): K commutes with the rest of
                # the segment, so the term is read from the segment's output.
                kpsi = _apply_generator(generator, psi, self.n_qubits)
                idx, dangle = angle.weight_gradient(X, weights, weights.shape[0])
                for k, slope in zip(self.position[idx], dangle, strict=True):
                    derivatives[k] += kpsi * (-1j * slope)[:, None]
                del kpsi
        if self.dropped_phase is not None:
            # psi = e^{i phi} psi_split, dpsi = e^{i phi} dpsi_split + i dphi psi.
            phi = self.dropped_phase.evaluate(X, weights)
            work.reshape(blocks, rows, work.shape[1])[...] *= np.exp(1j * phi)[:, None]
            idx, dphi = self.dropped_phase.weight_gradient(X, weights, weights.shape[0])
            for k, slope in zip(self.position[idx], dphi, strict=True):
                derivatives[k] += psi * (1j * slope)[:, None]


# Freed with their circuit, like compiled plans and tapes (see the cache policy in
# ``_memory``): they hold plans, whose tables every call counts in its budget.
_FORWARD_TAPES: WeakKeyDictionary = WeakKeyDictionary()


def _forward_tape(circuit: Circuit) -> _ForwardTape:
    forward = _FORWARD_TAPES.get(circuit)
    if forward is None:
        forward = _FORWARD_TAPES[circuit] = _ForwardTape(circuit)
    return forward


def _apply_generator(generator: _Generator, psi: np.ndarray, n: int) -> np.ndarray:
    """``K psi`` for a one-angle gate's generator ``K = coeff * mask * P`` (a new array)."""
    out = psi.copy() if generator.pauli is None else apply_pauli(psi, generator.pauli)
    if generator.mask_qubits:
        shape, zeros = mask_slices(n, generator.mask_qubits, generator.mask_kind, value=0)
        view = out.reshape(out.shape[0], *shape)
        for index in zeros:
            view[index] = 0
    out *= generator.coeff
    return out


def _dropped_phase(circuit: Circuit) -> Angle | None:
    """The global phase ``phi`` with ``circuit = e^{i phi} (its split for gradients)``, as
    an angle in the features and weights (None: the split is exact)."""
    total = Angle()
    for op in circuit.operations:
        phase = _split_phase(op.name, len(op.qubits))
        if phase is not None:
            const, slopes = phase
            total = total + const
            for slope, angle in zip(slopes, op.params, strict=True):
                if slope:
                    total = total + slope * angle
    return total if total.terms else None


@cache
def _split_phase(name: str, n_qubits: int) -> tuple[float, tuple[float, ...]] | None:
    """The phase a gate's gradient split drops, ``const + sum_j slopes[j] * angle_j``.

    Read from the gate table: ``U = e^{i phi} S`` with ``S`` the product of the split's
    matrices, so ``tr(S^H U) = 2**k e^{i phi}``. The phase is probed at zero and along each
    angle, then checked at other angles to be affine in them. None when the split is exact.
    """
    spec = gate_spec(name)
    if not spec.gradient_split:
        return None  # the split is the table's exact decomposition

    def phase(angles) -> float:
        values = [np.array([float(a)]) for a in angles]
        product = np.eye(2**n_qubits, dtype=complex)
        for sub, j in spec.split:
            product = gate_spec(sub).matrix(values[j], n_qubits=n_qubits)[0] @ product
        unitary = spec.matrix(*values, n_qubits=n_qubits)[0]
        return float(np.angle(np.trace(product.conj().T @ unitary)))

    def wrapped(a: float) -> float:
        return float((a + np.pi) % (2 * np.pi) - np.pi)

    const = phase(np.zeros(spec.n_params))
    step = 0.25  # a probe short enough that no slope below 4 pi wraps
    slopes = tuple(
        wrapped(phase(step * np.eye(spec.n_params)[j]) - const) / step
        for j in range(spec.n_params)
    )
    for angles in np.random.default_rng(0).uniform(-4, 4, (3, spec.n_params)):
        if abs(wrapped(phase(angles) - const - np.dot(slopes, angles))) > 1e-9:
            raise NotImplementedError(
                f"gate {name!r}: the global phase its gradient split drops is not affine "
                "in its angles"
            )
    if abs(const) < 1e-12 and not any(abs(s) > 1e-12 for s in slopes):
        return None
    return const, tuple(s if abs(s) > 1e-12 else 0.0 for s in slopes)
