"""Compile a circuit once into a short list of vectorised steps.

The steps keep the circuit's meaning but cost fewer passes over the state:

- Diagonal gates (RZ, P, CZ, CP, RZZ, MultiRZ, ...) commute with each other and with every gate
  on other qubits, so each one moves back to the nearest earlier diagonal block it can reach
  and joins it. A block applies all its gates as one phase vector per sample,
  ``exp(i * (const + angles @ patterns))``: one real matrix product, one complex exponential.
- Consecutive single-qubit gates on one qubit (with only other-qubit gates between them) fuse
  into one 2x2 matrix per sample.
- Controlled gates act only on the half (quarter, ...) of the state where the controls are 1.
- A single-qubit gate moves back to just after the last step on its qubit (or to the very start,
  inside the product-state prefix, when no earlier step touches it). Runs of parameter-free
  single-qubit steps on distinct qubits (a Hadamard layer) become one :class:`ConstantLayer`,
  applied as a few dense matrix products on groups of qubits instead of one pass per qubit.
- Once the state is entangled, a parametrised diagonal single-qubit gate (the ``P(x)`` after
  each Hadamard of a ZZ feature map) joins a diagonal block instead of turning a constant 2x2
  step into a per-sample one: the block's phase absorbs it for free, and the layer stays
  constant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from weakref import WeakKeyDictionary

import numpy as np

from ..circuits._angle import Angle
from ..circuits._circuit import Circuit, Operation
from ..circuits._gates import gate_spec

__all__ = [
    "ConstantLayer",
    "DiagonalBlock",
    "Plan",
    "SingleQubitStep",
    "Step",
    "compile_circuit",
]

# Largest pattern matrix (gates x 2**n doubles) one diagonal block may hold.
_MAX_PATTERN_BYTES = 128 * 1024**2


@dataclass
class Step:
    """A gate applied as is (controlled or dense multi-qubit)."""

    op: Operation

    @property
    def qubits(self) -> tuple[int, ...]:
        return self.op.qubits


@dataclass
class SingleQubitStep:
    """Single-qubit gates on one qubit, applied as one fused 2x2 matrix."""

    qubit: int
    ops: list[Operation] = field(default_factory=list)

    @property
    def qubits(self) -> tuple[int, ...]:
        return (self.qubit,)


@dataclass
class ConstantLayer:
    """Parameter-free single-qubit steps on distinct qubits, applied together."""

    steps: list[SingleQubitStep]

    @property
    def qubits(self) -> tuple[int, ...]:
        return tuple(step.qubit for step in self.steps)


@dataclass
class DiagonalBlock:
    """Diagonal gates applied as one phase vector.

    ``entries`` maps a phase pattern key ``(gate name, qubits, param index)`` to the angle
    that multiplies it (like terms added), ``const_ops`` are parameter-free diagonal gates.
    """

    entries: dict[tuple, Angle] = field(default_factory=dict)
    const_ops: list[Operation] = field(default_factory=list)
    qubit_set: set[int] = field(default_factory=set)

    @property
    def qubits(self) -> tuple[int, ...]:
        return tuple(sorted(self.qubit_set))

    def add(self, op: Operation) -> None:
        self.qubit_set.update(op.qubits)
        if not op.params:
            self.const_ops.append(op)
            return
        for p, angle in enumerate(op.params):
            key = (op.name, op.qubits, p)
            self.entries[key] = self.entries[key] + angle if key in self.entries else angle

    def single_qubit_only(self) -> bool:
        return all(len(q) == 1 for _, q, _ in self.entries) and all(
            len(op.qubits) == 1 for op in self.const_ops
        )

    def size(self) -> int:
        return len(self.entries) + len(self.const_ops)


@dataclass
class Plan:
    """Compiled steps of a circuit, plus cached full-basis phase patterns per block."""

    n_qubits: int
    steps: list
    _patterns: dict = field(default_factory=dict, repr=False)

    def block_patterns(self, block: DiagonalBlock) -> tuple[np.ndarray, np.ndarray, list]:
        """``(const, patterns, angles)``: the block's phases over the full 2**n basis."""
        key = ("full", id(block))
        if key not in self._patterns:
            self._patterns[key] = _full_patterns(block, _bits_full(self.n_qubits))
        return self._patterns[key]

    def local_patterns(self, block: DiagonalBlock) -> tuple[np.ndarray, np.ndarray, list]:
        """Like :meth:`block_patterns`, over the ``2**k`` basis of the block's own qubits.

        The local index is little-endian in the block's sorted qubits, so reshaped to
        ``(2,) * k`` its axes follow the ``(batch, 2, ..., 2)`` view of the state (highest
        qubit first).
        """
        key = ("local", id(block))
        if key not in self._patterns:
            qubits = block.qubits
            local_bits = _bits_full(len(qubits))
            bits = np.zeros((self.n_qubits, local_bits.shape[1]), dtype=np.int8)
            bits[list(qubits)] = local_bits
            self._patterns[key] = _full_patterns(block, bits)
        return self._patterns[key]

    def split_patterns(self, block: DiagonalBlock, n_low: int):
        """The block's phase split over low qubits ``L = [0, n_low)`` and high qubits ``H``.

        Returns ``None`` when the block's phase is not of the form
        ``phase(b) = f(b_L) + g(b_H) + sum_{j in H} b_j h_j(b_L)``, else
        ``(const, patterns, angles)`` with ``const``/``patterns`` of ``2**l + 2**h + h * 2**l``
        columns: ``f`` over ``b_L``, ``g`` over ``b_H`` (``g(0) = 0``), and each ``h_j``.
        This holds for every gate with at most one qubit in ``H`` (all one- and two-qubit
        gates), so ZZ/IQP blocks need sines and cosines of ``O(2**l * h + 2**h)`` phases per
        sample instead of ``2**n``.
        """
        key = ("split", id(block), n_low)
        if key not in self._patterns:
            self._patterns[key] = _split_patterns(*self.block_patterns(block), n_low)
        return self._patterns[key]


def _bits_full(n: int) -> np.ndarray:
    idx = np.arange(2**n)
    return ((idx[None, :] >> np.arange(n)[:, None]) & 1).astype(np.int8)


def _local_index(bits: np.ndarray, qubits: tuple[int, ...]) -> np.ndarray:
    """Index into a gate's local basis (first listed qubit most significant) per basis state."""
    k = len(qubits)
    local = np.zeros(bits.shape[1], dtype=np.intp)
    for pos, q in enumerate(qubits):
        local |= bits[q].astype(np.intp) << (k - 1 - pos)
    return local


def _full_patterns(block: DiagonalBlock, bits: np.ndarray):
    """Phases of the block over the basis states whose qubit bits are the columns of ``bits``."""
    n_states = bits.shape[1]
    const = np.zeros(n_states)
    for op in block.const_ops:
        local_const, _ = op.spec.diagonal(len(op.qubits))
        const += local_const[_local_index(bits, op.qubits)]
    keys = list(block.entries)
    patterns = np.empty((len(keys), n_states))
    for row, (name, qubits, p) in enumerate(keys):
        local_const, local_patterns = gate_spec(name).diagonal(len(qubits))
        local = _local_index(bits, qubits)
        patterns[row] = local_patterns[p][local]
        # A parametrised diagonal gate's constant part is added once per gate: keep it in const.
        const += local_const[local]
    angles = [block.entries[k] for k in keys]
    return const, patterns, angles


def _split_patterns(const, patterns, angles, n_low: int):
    n_high = const.shape[0].bit_length() - 1 - n_low
    low, high = 2**n_low, 2**n_high
    bits_high = _bits_full(n_high).astype(float)  # (h, 2**h)
    parts = []
    for table in (const, patterns):
        t = table.reshape(*table.shape[:-1], high, low)  # [..., b_H, b_L]
        f = t[..., 0, :]  # phase(b_L, 0)
        g = t[..., :, 0] - t[..., :1, 0]  # phase(0, b_H) - phase(0, 0)
        # h_j(b_L): what setting bit j of H alone adds on top of f and g (h_j(0) = 0).
        h = np.stack([t[..., 2**j, :] - f - g[..., 2**j, None] for j in range(n_high)], -2)
        rebuilt = f[..., None, :] + g[..., :, None] + np.einsum("jb,...jl->...bl", bits_high, h)
        # Exact up to the rounding of constants such as multiples of pi, or not of this form.
        if not np.allclose(rebuilt, t, rtol=0, atol=1e-9):
            return None
        parts.append(np.concatenate([f, g, h.reshape(*h.shape[:-2], n_high * low)], axis=-1))
    return parts[0], parts[1], angles


def _is_diagonal(op: Operation) -> bool:
    return op.spec.diagonal is not None


def _new_block_allowed(block: DiagonalBlock, n_qubits: int) -> bool:
    return (block.size() + 1) * 8 * 2**n_qubits <= _MAX_PATTERN_BYTES


def compile_circuit(circuit: Circuit) -> Plan:
    """Compile (and cache) the execution plan of a circuit."""
    plan = _CACHE.get(circuit)
    if plan is None:
        plan = Plan(circuit.n_qubits, _build_steps(circuit))
        _CACHE[circuit] = plan
    return plan


_CACHE: WeakKeyDictionary = WeakKeyDictionary()


def _build_steps(circuit: Circuit) -> list:
    steps: list = []
    n = circuit.n_qubits
    for op in circuit.operations:
        qs = set(op.qubits)
        if _is_diagonal(op):
            # Move back past steps on other qubits to the nearest diagonal block or 1q step.
            for i in range(len(steps) - 1, -1, -1):
                step = steps[i]
                if isinstance(step, DiagonalBlock) and _new_block_allowed(step, n):
                    step.add(op)
                    break
                if qs & set(step.qubits):
                    if (
                        isinstance(step, SingleQubitStep)
                        and len(op.qubits) == 1
                        and not _keep_constant(step, op, steps, i)
                    ):
                        step.ops.append(op)
                    else:
                        _append_block(steps, op)
                    break
            else:
                _append_block(steps, op)
        elif len(op.qubits) == 1 and op.spec.n_controls == 0:
            # Move back to just after the last step on this qubit (the start if none): runs of
            # Hadamards on different qubits end up next to each other, and a gate on a qubit
            # nothing touched yet stays in the cheap product-state prefix.
            for i in range(len(steps) - 1, -1, -1):
                step = steps[i]
                if qs & set(step.qubits):
                    if isinstance(step, SingleQubitStep):
                        step.ops.append(op)
                    else:
                        steps.insert(i + 1, SingleQubitStep(op.qubits[0], [op]))
                    break
            else:
                steps.insert(0, SingleQubitStep(op.qubits[0], [op]))
        else:
            steps.append(Step(op))
    return _group_constant_layers(steps)


def _is_product_step(step) -> bool:
    return isinstance(step, SingleQubitStep) or (
        isinstance(step, DiagonalBlock) and step.single_qubit_only()
    )


def _keep_constant(step: SingleQubitStep, op: Operation, steps: list, index: int) -> bool:
    """Whether the diagonal ``op`` should not fuse into the parameter-free 1q ``step``.

    In the product-state prefix fusing is nearly free (2x2 on one 2-vector per qubit). After
    it, fusing a parametrised phase would turn a constant gate (a Hadamard, applied in a
    :class:`ConstantLayer`) into a per-sample 2x2 pass, while a diagonal block takes the
    phase at no extra pass.
    """
    if not op.params or any(o.params for o in step.ops):
        return False
    return not all(_is_product_step(s) for s in steps[: index + 1])


def _is_constant_1q(step) -> bool:
    # Same 2x2 matrix for every sample: no data features (trainable weights are shared).
    return isinstance(step, SingleQubitStep) and not any(
        p.features for op in step.ops for p in op.params
    )


def _group_constant_layers(steps: list) -> list:
    """Merge runs of feature-free single-qubit steps on distinct qubits."""
    out: list = []
    run: list = []
    for step in [*steps, None]:
        if _is_constant_1q(step) and step.qubit not in {s.qubit for s in run}:
            run.append(step)
            continue
        out.extend([ConstantLayer(run)] if len(run) > 1 else run)
        run = [step] if _is_constant_1q(step) else []
        if step is not None and not run:
            out.append(step)
    return out


def _append_block(steps: list, op: Operation) -> None:
    block = DiagonalBlock()
    block.add(op)
    steps.append(block)
