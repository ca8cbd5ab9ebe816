"""One wide sample's compiled step in two parts of its state (see ``_split_jit``).

From ``SPLIT_MIN_QUBITS`` qubits, a chunk of one sample on the compiled sweeps (the Born
probabilities of one circuit: :class:`~skqml.boltzmann.BornMachine`'s step) runs as rounds
over two parts of its state, which two threads share when ``n_jobs`` gives two workers. The
split is chosen by the width alone, never by ``n_jobs``, so that every ``n_jobs`` gives the
same numbers.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np

from .._parallel import state_part_runner

__all__ = ["SPLIT_MIN_QUBITS", "split_chunk", "split_schedule"]

# Narrowest state run in two parts. BornMachine's step (10 layers, a tree of CNOTs), two
# threads against one: 0.9x at 14 qubits (rounds of ~0.1 ms, a thread hand-off costs tens of
# microseconds), 1.3-1.5x at 15, 1.5-1.8x at 16, 1.9x at 17, 2.1x at 18 (docs/benchmarks.md).
SPLIT_MIN_QUBITS = 15

# Forward codes: |0...0> (or the initial state), a run, a diagonal entangler, a permutation
# into the other buffer, a copy into the other buffer.
F_INIT, F_RUN, F_DIAG, F_GATHER, F_COPY = 0, 1, 2, 3, 4
# Backward codes: lambda = g psi, a diagonal entangler undone (and its angles' terms), a
# permutation undone into the other buffers, a run's cross density read and the run undone.
B_INIT, B_DIAG, B_GATHER, B_CROSS = 5, 6, 7, 8


class SplitSchedule(NamedTuple):
    """The rounds of a program's two sweeps: operation rows ``(code, slice, qubit,
    buffer)`` and rounds ``(first, stop, mode)``; the inverse permutations that the backward
    sweep gathers from."""

    forward_ops: np.ndarray
    forward_rounds: list
    backward_ops: np.ndarray
    backward_rounds: list
    inverse_src: np.ndarray
    inverse_phase: np.ndarray


class _Rounds:
    """Operations cut into rounds: a new round when the mode changes or a permutation's
    sources may lie in the other part."""

    def __init__(self, n_qubits: int):
        self.top = n_qubits - 1
        self.ops: list[tuple[int, int, int, int]] = []
        self.rounds: list[tuple[int, int, int]] = []
        self.start = 0
        self.mode = 0
        self.buffer = 0
        self.crossed = False  # a permutation in this round reads the other part

    def split(self) -> int:
        return self.top - self.mode

    def cut(self, mode: int) -> None:
        if len(self.ops) > self.start:
            self.rounds.append((self.start, len(self.ops), self.mode))
        self.start = len(self.ops)
        self.mode = mode
        self.crossed = False

    def add(self, code: int, s: int = 0, q: int = 0) -> None:
        self.ops.append((code, s, q, self.buffer))

    def runs(self, code: int, s: int, qubits: list[int]) -> None:
        # Every run but the split qubit's in this mode, then that one in the other mode.
        for q in qubits:
            if q != self.split():
                self.add(code, s, q)
        if self.split() in qubits:
            q = self.split()
            self.cut(1 - self.mode)
            self.add(code, s, q)

    def permutation(self, code: int, s: int, keeps_bit) -> None:
        # A permutation that crosses the parts reads the other part's indices: those must be
        # final (a new round), and no later permutation of the round may overwrite them
        # (writing back into the buffer read) while the other part still reads.
        if not keeps_bit(self.split()):
            other = 1 - self.mode
            self.cut(other if keeps_bit(self.top - other) else self.mode)
            self.crossed = not keeps_bit(self.split())
        elif self.crossed:
            self.cut(self.mode)
        self.add(code, s)
        self.buffer = 1 - self.buffer

    def done(self) -> tuple[np.ndarray, list]:
        self.cut(self.mode)
        return np.array(self.ops, dtype=np.intp).reshape(-1, 4), self.rounds


def split_schedule(sweep: tuple) -> SplitSchedule:
    """The rounds of the forward and backward sweeps of a program's slices, from the compiled
    sweeps' tables (``_small._SWEEP_TABLES``; slice kinds 0, 1 and permutations only)."""
    n_qubits, run_lengths, _, kinds, pos, _, _, const_src, const_phase, _ = sweep
    index = np.arange(2**n_qubits)

    def keeps(c):
        moved = const_src[c] ^ index
        return lambda bit: not np.any((moved >> bit) & 1)

    def qubits(s):
        return [q for q in range(n_qubits) if run_lengths[s, q]]

    fwd = _Rounds(n_qubits)
    fwd.add(F_INIT)
    for s in range(len(kinds)):
        fwd.runs(F_RUN, s, qubits(s))
        if kinds[s] == 1:
            fwd.add(F_DIAG, s)
        elif kinds[s] == 2:
            fwd.permutation(F_GATHER, s, keeps(pos[s]))
    if fwd.buffer == 1:  # the final state belongs in the first buffer
        fwd.permutation(F_COPY, 0, lambda bit: True)  # a copy: writes the other buffer too
    bwd = _Rounds(n_qubits)
    bwd.add(B_INIT)
    for s in range(len(kinds) - 1, -1, -1):
        if kinds[s] == 1:
            bwd.add(B_DIAG, s)
        elif kinds[s] == 2:
            bwd.permutation(B_GATHER, s, keeps(pos[s]))
        bwd.runs(B_CROSS, s, qubits(s))
    # U^H's permutation as a gather: (U^H x)[j] = conj(phase[i]) x[i] with src[i] = j.
    inverse_src = np.argsort(const_src, axis=1)
    phase = np.take_along_axis(const_phase, inverse_src[:, None, :], axis=2)
    phase[:, 1] *= -1
    return SplitSchedule(*fwd.done(), *bwd.done(), inverse_src, phase)


def _round(kernel, ops, lo, hi, mode, tables, part):
    """One part of one round: ``kernel(ops, lo, hi, mode, part, *tables)``."""
    kernel(ops, lo, hi, mode, part, *tables)


def split_chunk(program, kernels, Xc, weights, cotangent, rows_slice, values, initial, n_jobs):
    """:func:`~skqml.simulator._small._compiled_chunk` for one sample's Born probabilities,
    in rounds over two parts of the state (see the module docstring)."""
    from ._small import _compiled_array, checked_cotangent, compiled_inputs

    t = program.jit_tables
    sched = program.split_schedule
    a = program.angles
    X, buf, initial_parts = compiled_inputs(program, Xc, weights, 1, initial)
    theta_ext = buf.theta_ext
    n_qubits, run_lengths, axis, kinds, pos, diag_shared, diag_row_of = t["sweep"][:7]
    const_src, const_phase = t["sweep"][7:9]
    k = kernels
    if not k["sweep_inputs"](
        X, theta_ext, t["angle"], t["trig"], t["diag"], buf.angles, buf.parts, buf.diag_rows,
        buf.trig, False,
    ):  # fmt: skip
        a.raise_overflow(Xc, weights)
    k["run_quaternions"](n_qubits, run_lengths, buf.trig, axis, buf.run_store)
    # The state by quarters of its indices (4, 2, m), in the chunk's final state and work
    # arrays (psi, lambda and scratch of the one-pass sweeps).
    m = 2 ** (n_qubits - 2)
    final = buf.final[0].reshape(4, 2, m)
    work = buf.work.reshape(3, 4, 2, m)
    tables = (n_qubits, pos, diag_shared, buf.diag_rows, diag_row_of)
    forward = (*tables, const_src, const_phase, buf.run_store, initial_parts, final, work[2])
    with state_part_runner(n_jobs) as run:
        for lo, hi, mode in sched.forward_rounds:
            run(
                functools.partial(
                    _round, k["forward_round"], sched.forward_ops, lo, hi, mode, forward
                )
            )
        P = values[0].reshape(4, m)
        np.square(final[:, 0], out=P)
        P += np.square(final[:, 1])
        if cotangent is None:
            return None
        g = _compiled_array(checked_cotangent(cotangent, values, rows_slice))
        diag_slice, diag_patterns = t["grad"][1:3]
        run_k_parts = np.zeros((2, len(kinds), n_qubits, 3))
        diag_parts = np.zeros((2, diag_slice.shape[0]))
        # psi starts as the final state (no longer needed after this step), lambda in work.
        backward = (
            *tables, sched.inverse_src, sched.inverse_phase, buf.run_store, g, diag_slice,
            diag_patterns, final, work[0], work[1], work[2], run_k_parts, diag_parts,
        )  # fmt: skip
        for lo, hi, mode in sched.backward_rounds:
            run(
                functools.partial(
                    _round, k["backward_round"], sched.backward_ops, lo, hi, mode, backward
                )
            )
    grad = np.zeros(a.n_weights + 1)
    coeff, _, _, _, weight, angle_of_term = t["angle"]
    k["backward_finish"](
        run_k_parts, diag_parts, n_qubits, run_lengths, axis, buf.trig, t["grad"][0], t["chain"],
        buf.parts, theta_ext, coeff, weight, angle_of_term, buf.slot_grad, buf.diag_grad,
        buf.param_grad, buf.angle_grad, grad,
    )  # fmt: skip
    return grad[: a.n_weights]
