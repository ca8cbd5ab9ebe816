"""Compile a circuit once into a short list of vectorised steps.

The steps keep the circuit's meaning but cost fewer passes over the state:

- Diagonal gates (RZ, P, CZ, CP, RZZ, MultiRZ, ...) commute with each other and with every gate
  on other qubits, so each one moves back to the nearest earlier diagonal block it can reach
  and joins it. A block applies all its gates as one phase vector per sample,
  ``exp(i * (const + angles @ patterns))``: one real matrix product, one complex exponential.
- Consecutive single-qubit gates on one qubit (with only other-qubit gates between them) fuse
  into one 2x2 matrix per sample.
- Controlled gates act only on the half (quarter, ...) of the state where the controls are 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from weakref import WeakKeyDictionary

import numpy as np

from ..circuits._angle import Angle
from ..circuits._circuit import Circuit, Operation
from ..circuits._gates import gate_spec

__all__ = ["DiagonalBlock", "Plan", "SingleQubitStep", "Step", "compile_circuit"]

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
        key = id(block)
        if key not in self._patterns:
            self._patterns[key] = _full_patterns(block, self.n_qubits)
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


def _full_patterns(block: DiagonalBlock, n: int):
    bits = _bits_full(n)
    const = np.zeros(2**n)
    for op in block.const_ops:
        local_const, _ = op.spec.diagonal(len(op.qubits))
        const += local_const[_local_index(bits, op.qubits)]
    keys = list(block.entries)
    patterns = np.empty((len(keys), 2**n))
    for row, (name, qubits, p) in enumerate(keys):
        local_const, local_patterns = gate_spec(name).diagonal(len(qubits))
        local = _local_index(bits, qubits)
        patterns[row] = local_patterns[p][local]
        # A parametrised diagonal gate's constant part is added once per gate: keep it in const.
        const += local_const[local]
    angles = [block.entries[k] for k in keys]
    return const, patterns, angles


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
            for step in reversed(steps):
                if isinstance(step, DiagonalBlock) and _new_block_allowed(step, n):
                    step.add(op)
                    break
                if qs & set(step.qubits):
                    if isinstance(step, SingleQubitStep) and len(op.qubits) == 1:
                        step.ops.append(op)
                    else:
                        _append_block(steps, op)
                    break
            else:
                _append_block(steps, op)
        elif len(op.qubits) == 1 and op.spec.n_controls == 0:
            for step in reversed(steps):
                if qs & set(step.qubits):
                    if isinstance(step, SingleQubitStep):
                        step.ops.append(op)
                    else:
                        steps.append(SingleQubitStep(op.qubits[0], [op]))
                    break
            else:
                steps.append(SingleQubitStep(op.qubits[0], [op]))
        else:
            steps.append(Step(op))
    return steps


def _append_block(steps: list, op: Operation) -> None:
    block = DiagonalBlock()
    block.add(op)
    steps.append(block)
