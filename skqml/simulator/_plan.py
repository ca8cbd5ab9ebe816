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

Phase tables are evaluated on the basis states they need only, with the bits of each index
read on the fly: no ``2**n`` table of bits or indices is ever built, and a block that splits
over low and high qubits (every block of one- and two-qubit gates) holds
``O(n 2**(n/2))`` numbers per gate. Their size is known before they are built
(:attr:`Plan.table_bytes`), so every call counts them in its memory budget.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
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

# Largest phase table (gates x columns of its route, doubles) one diagonal block may hold.
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
    ``n_low`` is the number of low qubits of the split form (see
    :meth:`Plan.split_patterns`); ``splits`` whether every gate keeps that form.
    """

    entries: dict[tuple, Angle] = field(default_factory=dict)
    const_ops: list[Operation] = field(default_factory=list)
    qubit_set: set[int] = field(default_factory=set)
    n_low: int = 0
    splits: bool = True

    @property
    def qubits(self) -> tuple[int, ...]:
        return tuple(sorted(self.qubit_set))

    def add(self, op: Operation) -> None:
        self.qubit_set.update(op.qubits)
        self.splits = self.splits and _keeps_split_form(op.qubits, self.n_low)
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


def _keeps_split_form(qubits: tuple[int, ...], n_low: int) -> bool:
    """A gate keeps ``f(b_L) + g(b_H) + sum_j b_j h_j(b_L)`` unless it couples two or more
    high qubits with a low one."""
    n_high = sum(q >= n_low for q in qubits)
    return n_high <= 1 or n_high == len(qubits)


def diagonal_route(block: DiagonalBlock, n_qubits: int) -> str:
    """How a block is applied to a full state: ``"local"``, ``"split"`` or ``"full"``."""
    return _route(n_qubits, len(block.qubit_set), block.size(), block.splits, block.n_low)


def _route(n_qubits: int, k: int, n_gates: int, splits: bool, n_low: int) -> str:
    """The route of a block of ``n_gates`` gates on ``k`` of ``n_qubits`` qubits.

    A block on few qubits broadcasts its ``2**k`` local phases; one whose local table would
    exceed ``_MAX_PATTERN_BYTES`` takes the split form when it has one (its table is
    ``O(n 2**(n/2))`` numbers per gate instead of ``2**k``).
    """
    split = n_qubits >= 4 and splits and n_low == n_qubits - n_qubits // 2
    if 4 * 2**k <= 2**n_qubits and not (split and (n_gates + 1) * 8 * 2**k > _MAX_PATTERN_BYTES):
        return "local"
    return "split" if split else "full"


def _split_columns(n_qubits: int, n_low: int) -> int:
    n_high = n_qubits - n_low
    return 2**n_low + 2**n_high + n_high * 2**n_low


def _table_columns(block: DiagonalBlock, n_qubits: int) -> int:
    """Columns of the phase table of a block's route (numbers per gate and sample)."""
    route = diagonal_route(block, n_qubits)
    if route == "local":
        return 2 ** len(block.qubit_set)
    if route == "split":
        return _split_columns(n_qubits, block.n_low)
    return 2**n_qubits


def _table_bytes(block: DiagonalBlock, n_qubits: int) -> int:
    """Bytes of a block's cached table, plus the index arrays alive while it is built."""
    columns = _table_columns(block, n_qubits)
    if diagonal_route(block, n_qubits) == "split":
        n_low = block.n_low
        rows_f, rows_g, rows_h = _split_rows(block, n_low)
        stored = len(rows_f) * 2**n_low + len(rows_g) * 2 ** (n_qubits - n_low)
        stored += sum(len(rows) for rows in rows_h.values()) * 2**n_low
        return 8 * (stored + (1 + 3) * columns)
    return 8 * (len(block.entries) + 1 + 3) * columns


@dataclass
class Plan:
    """Compiled steps of a circuit, plus cached phase patterns per diagonal block.

    The tables are computed on first use and live as long as the plan (that is, as long as
    the circuit, see :func:`compile_circuit`). Their size is known up front:
    :attr:`table_bytes`, which every call that runs the plan counts in its memory budget.
    """

    n_qubits: int
    steps: list
    _patterns: dict = field(default_factory=dict, repr=False)

    @cached_property
    def table_bytes(self) -> int:
        """Bytes of all phase tables this plan may hold (an upper bound)."""
        return sum(
            _table_bytes(step, self.n_qubits)
            for step in self.steps
            if isinstance(step, DiagonalBlock)
        )

    def block_patterns(self, block: DiagonalBlock) -> tuple[np.ndarray, np.ndarray, list]:
        """``(const, patterns, angles)``: the block's phases over the full 2**n basis."""
        key = ("full", id(block))
        if key not in self._patterns:
            self._patterns[key] = _patterns_at(block, np.arange(2**self.n_qubits))
        return self._patterns[key]

    def local_patterns(self, block: DiagonalBlock) -> tuple[np.ndarray, np.ndarray, list]:
        """Like :meth:`block_patterns`, over the ``2**k`` basis of the block's own qubits.

        The local index is little-endian in the block's sorted qubits, so reshaped to
        ``(2,) * k`` its axes follow the ``(batch, 2, ..., 2)`` view of the state (highest
        qubit first).
        """
        key = ("local", id(block))
        if key not in self._patterns:
            local = np.arange(2 ** len(block.qubit_set))
            index = np.zeros_like(local)
            for i, q in enumerate(block.qubits):
                index |= ((local >> i) & 1) << q
            self._patterns[key] = _patterns_at(block, index)
        return self._patterns[key]

    def split_patterns(self, block: DiagonalBlock, n_low: int):
        """The block's phase split over low qubits ``L = [0, n_low)`` and high qubits ``H``.

        Returns ``None`` when the block's phase is not of the form
        ``phase(b) = f(b_L) + g(b_H) + sum_{j in H} b_j h_j(b_L)``, else
        ``(const, patterns, angles)`` with ``const``/``patterns`` of ``2**l + 2**h + h * 2**l``
        columns: ``f`` over ``b_L``, ``g`` over ``b_H`` (``g(0) = 0``), and each ``h_j``.
        This holds for every gate with at most one qubit in ``H`` or all of them in ``H``
        (all one- and two-qubit gates), so ZZ/IQP blocks need sines and cosines of
        ``O(2**l * h + 2**h)`` phases per sample instead of ``2**n``. The columns are
        evaluated on those basis states only: the full ``2**n`` table is never built.
        """
        if not block.splits or block.n_low != n_low:
            return None
        key = ("split", id(block), n_low)
        if key not in self._patterns:
            self._patterns[key] = _split_patterns(block, self.n_qubits, n_low)
        return self._patterns[key]


def _local_index(index: np.ndarray, qubits: tuple[int, ...]) -> np.ndarray:
    """Index into a gate's local basis (first listed qubit most significant) per basis state.

    ``index`` holds global basis indices; their bits are read on the fly.
    """
    k = len(qubits)
    local = np.zeros(index.shape, dtype=np.intp)
    for pos, q in enumerate(qubits):
        local |= ((index >> q) & 1) << (k - 1 - pos)
    return local


def _patterns_at(block: DiagonalBlock, index: np.ndarray, rows=None):
    """Phases of the block over the basis states ``index`` (global indices).

    ``(const, patterns, angles)``: the constant phase of all gates, and the pattern of each
    gate in ``rows`` (positions in ``block.entries``; all when None).
    """
    n_states = index.shape[0]
    const = np.zeros(n_states)
    for op in block.const_ops:
        local_const, _ = op.spec.diagonal(len(op.qubits))
        const += local_const[_local_index(index, op.qubits)]
    keys = list(block.entries)
    wanted = set(range(len(keys)) if rows is None else rows)
    patterns = np.empty((len(wanted), n_states))
    out_row = 0
    for row, (name, qubits, p) in enumerate(keys):
        local_const, local_patterns = gate_spec(name).diagonal(len(qubits))
        local = _local_index(index, qubits)
        if row in wanted:
            patterns[out_row] = local_patterns[p][local]
            out_row += 1
        # A parametrised diagonal gate's constant part is added once per gate: keep it in const.
        const += local_const[local]
    angles = [block.entries[k] for k in keys]
    return const, patterns, angles


def _split_rows(block: DiagonalBlock, n_low: int):
    """Which gates (positions in ``block.entries``) can be non-zero in each split table.

    ``f`` (``b_H = 0``): gates on a low qubit, and high-only gates whose phase pattern at
    ``|0...0>`` is not zero; ``g`` (``g(0) = 0``): gates on a high qubit; ``h_j``: gates on
    high qubit ``j`` and a low qubit. Every other row is exactly zero, so it is not stored.
    """
    rows_f: list[int] = []
    rows_g: list[int] = []
    rows_h: dict[int, list[int]] = {}
    for row, (name, qubits, p) in enumerate(block.entries):
        on_low = any(q < n_low for q in qubits)
        high = [q - n_low for q in qubits if q >= n_low]
        if on_low or gate_spec(name).diagonal(len(qubits))[1][p][0] != 0:
            rows_f.append(row)
        if high:
            rows_g.append(row)
        if on_low:
            for j in high:
                rows_h.setdefault(j, []).append(row)
    return rows_f, rows_g, rows_h


def _split_patterns(block: DiagonalBlock, n_qubits: int, n_low: int):
    """Block-sparse split tables: ``(const, parts, angles)``.

    ``const`` covers every column; ``parts`` is a list of ``(start, stop, rows, table)``:
    the phase of columns ``[start, stop)`` is ``const + values[:, rows] @ table``.
    """
    n_high = n_qubits - n_low
    low, high = 2**n_low, 2**n_high
    rows_f, rows_g, rows_h = _split_rows(block, n_low)
    low_index = np.arange(low)
    # f: phase(b_L, 0); g: phase(0, b_H) - phase(0, 0); h_j: what setting bit j of H alone
    # adds on top of f and g (h_j(0) = 0).
    f_const, f_table, angles = _patterns_at(block, low_index, rows_f)
    g_const, g_table, _ = _patterns_at(block, np.arange(high) << n_low, rows_g)
    g_const = g_const - g_const[:1]
    g_table = g_table - g_table[:, :1]
    f_pos = {row: i for i, row in enumerate(rows_f)}
    g_pos = {row: i for i, row in enumerate(rows_g)}
    consts = [f_const, g_const]
    parts = [(0, low, rows_f, f_table), (low, low + high, rows_g, g_table)]
    for j in range(n_high):
        rows = rows_h.get(j, [])
        e_const, e_table, _ = _patterns_at(block, low_index | (1 << (n_low + j)), rows)
        consts.append(e_const - f_const - g_const[2**j])
        f_rows = f_table[[f_pos[r] for r in rows]]
        g_col = g_table[[g_pos[r] for r in rows], 2**j]
        start = low + high + j * low
        parts.append((start, start + low, rows, e_table - f_rows - g_col[:, None]))
    parts = [(a, b, np.asarray(r, dtype=np.intp), t) for a, b, r, t in parts if len(r)]
    return np.concatenate(consts), parts, angles


def _is_diagonal(op: Operation) -> bool:
    return op.spec.diagonal is not None


def _new_block_allowed(block: DiagonalBlock, op: Operation, n_qubits: int) -> bool:
    # The table the block would need with ``op`` in it, by the route it would then take.
    k = len(block.qubit_set | set(op.qubits))
    splits = block.splits and _keeps_split_form(op.qubits, block.n_low)
    route = _route(n_qubits, k, block.size() + 1, splits, block.n_low)
    columns = {"local": 2**k, "split": _split_columns(n_qubits, block.n_low)}
    return (block.size() + 1) * 8 * columns.get(route, 2**n_qubits) <= _MAX_PATTERN_BYTES


def compile_circuit(circuit: Circuit) -> Plan:
    """Compile (and cache) the execution plan of a circuit.

    Plans are cached per circuit in a ``WeakKeyDictionary``: a plan and its phase tables go
    away with the circuit (the cache policy is described in ``skqml.simulator._memory``).

    Parameters
    ----------
    circuit : Circuit
        The circuit to compile.
    """
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
                if isinstance(step, DiagonalBlock) and _new_block_allowed(step, op, n):
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
                        _append_block(steps, op, n)
                    break
            else:
                _append_block(steps, op, n)
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


def _append_block(steps: list, op: Operation, n_qubits: int) -> None:
    block = DiagonalBlock(n_low=n_qubits - n_qubits // 2)
    block.add(op)
    steps.append(block)
