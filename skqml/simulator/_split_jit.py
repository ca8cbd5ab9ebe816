"""Compiled rounds of one wide state's sweeps, in two parts that two threads can run at once.

One sample's state on the compiled sweeps (``_small_jit``) is one sequential pass per gate;
from about 15 qubits a pass is long enough to share between two threads. The state is held
by quarters of its indices (the values of its two top qubits), each a ``(2, m)`` array of
real and imaginary parts as the one-pass sweeps hold a whole state, so that their helpers
run on them unchanged (on views sliced at run time the same passes were 1.5 times slower).
A part owns two quarters: those with the top qubit's bit equal to the part (``mode`` 0) or
the next qubit's (``mode`` 1). A one-qubit run on any qubit but that bit's, a diagonal
entangler, and a permutation entangler that keeps the bit, act on each part alone; the
others need the other mode, so the schedule (``_split.py``) cuts the sweep into rounds of
such operations, all in one mode, with both parts done between rounds. A permutation writes
into the second buffer (its sources may lie in the other part), so the buffer that holds
the state alternates, as the schedule records.

A round's reductions (the backward sweep's cross densities and diagonal gradient terms) are
kept per part and added in a fixed order afterwards: the numbers do not depend on whether
the parts ran on one thread or two.

Operation rows ``(code, slice, qubit, buffer)``; codes in ``_split.py``.
"""

from __future__ import annotations

import numba
import numpy as np

from ._small_jit import (
    _FASTMATH,
    apply_2x2,
    chain_rule,
    cross_and_undo,
    rotate_pair,
    run_parts,
    run_quaternions,
    run_terms,
    sweep_inputs,
    undo_pair,
)
from ._split import B_CROSS, B_DIAG, B_GATHER, B_INIT, F_COPY, F_DIAG, F_GATHER, F_INIT, F_RUN

__all__ = ["SPLIT_KERNELS"]

jit = numba.njit(cache=True, nogil=True, fastmath=_FASTMATH)
helper = numba.njit(cache=True, nogil=True, fastmath=_FASTMATH, inline="always")


@helper
def owned(mode, part):
    # The two quarters that part owns in mode: the first with the other split bit 0.
    return (2 * part, 2 * part + 1) if mode == 0 else (part, part + 2)


@helper
def diag_factor(diag_shared, diag_rows, diag_row_of, k):
    # The phases (2, d) of the k-th diagonal slice (one sample: row 0).
    return diag_shared[k] if diag_row_of[k] < 0 else diag_rows[diag_row_of[k], 0]


@helper
def multiply_phases(quarter, fr, fi, offset, sign):
    # quarter (2, m) times the phases fr + i fi at indices offset..offset + m.
    re, im = quarter[0], quarter[1]
    for i in range(re.shape[0]):
        a, b = re[i], im[i]
        c, e = fr[offset + i], sign * fi[offset + i]
        re[i] = a * c - b * e
        im[i] = a * e + b * c


@helper
def gather(source, out, src, pr, pi, b, shift):
    # Quarter b of out = phase[i] x[src[i]] (both held as quarters (4, 2, m), m = 2**shift).
    m = out.shape[2]
    mask = m - 1
    for k in range(m):
        i = b * m + k
        j = src[i]
        a, c = source[j >> shift, 0, j & mask], source[j >> shift, 1, j & mask]
        out[b, 0, k] = pr[i] * a - pi[i] * c
        out[b, 1, k] = pr[i] * c + pi[i] * a


@jit
def forward_round(
    ops, lo, hi, mode, part, n_qubits, pos, diag_shared, diag_rows, diag_row_of, const_src,
    const_phase, run_store, initial, buffer0, buffer1,
):  # fmt: skip
    # Operations lo..hi of the forward schedule on the quarters that part owns in mode;
    # buffers (4, 2, m) hold the state by quarters of its indices.
    m = buffer0.shape[2]
    shift = n_qubits - 2
    pair_qubit = n_qubits - 2 + mode  # the qubit whose pairs join part's two quarters
    owned_quarters = owned(mode, part)
    for k in range(lo, hi):
        code, s, q = ops[k, 0], ops[k, 1], ops[k, 2]
        state = buffer0 if ops[k, 3] == 0 else buffer1
        other = buffer1 if ops[k, 3] == 0 else buffer0
        if code == F_RUN and q == pair_qubit:
            g = run_parts(run_store, s, q, 0, False)
            x0, x1 = state[owned_quarters[0]], state[owned_quarters[1]]
            r0, i0, r1, i1 = x0[0], x0[1], x1[0], x1[1]
            for i in range(m):
                rotate_pair(r0, i0, r1, i1, i, i, g)
            continue
        for b in owned_quarters:
            quarter = state[b]
            if code == F_INIT:
                if initial.shape[0]:
                    quarter[0, :] = initial[0, 0, b * m : (b + 1) * m]
                    quarter[1, :] = initial[0, 1, b * m : (b + 1) * m]
                else:
                    quarter[:, :] = 0.0
                    if b == 0:
                        quarter[0, 0] = 1.0
            elif code == F_RUN:
                apply_2x2(quarter, q, run_parts(run_store, s, q, 0, False))
            elif code == F_DIAG:
                f = diag_factor(diag_shared, diag_rows, diag_row_of, pos[s])
                multiply_phases(quarter, f[0], f[1], b * m, 1.0)
            elif code == F_GATHER:
                c = pos[s]
                gather(state, other, const_src[c], const_phase[c, 0], const_phase[c, 1], b, shift)
            elif code == F_COPY:
                other[b, :, :] = quarter


@jit
def backward_round(
    ops, lo, hi, mode, part, n_qubits, pos, diag_shared, diag_rows, diag_row_of,
    inverse_src, inverse_phase, run_store, prob_cotangent, diag_slice, diag_patterns,
    psi0, psi1, lam0, lam1, run_k_parts, diag_parts,
):  # fmt: skip
    # Operations lo..hi of the backward schedule on the quarters that part owns in mode;
    # this part's share of each run's k into run_k_parts[part] and of each diagonal angle's
    # term into diag_parts[part] (its quarters' sums, in order).
    m = psi0.shape[2]
    shift = n_qubits - 2
    pair_qubit = n_qubits - 2 + mode
    owned_quarters = owned(mode, part)
    for k in range(lo, hi):
        code, s, q = ops[k, 0], ops[k, 1], ops[k, 2]
        psi = psi0 if ops[k, 3] == 0 else psi1
        lam = lam0 if ops[k, 3] == 0 else lam1
        if code == B_CROSS:
            h = run_parts(run_store, s, q, 0, True)
            if q == pair_qubit:
                tx = ty = tz = 0.0
                p0, p1 = psi[owned_quarters[0]], psi[owned_quarters[1]]
                l0, l1 = lam[owned_quarters[0]], lam[owned_quarters[1]]
                p0r, p0i, p1r, p1i = p0[0], p0[1], p1[0], p1[1]
                l0r, l0i, l1r, l1i = l0[0], l0[1], l1[0], l1[1]
                for i in range(m):
                    t = undo_pair(p0r, p0i, p1r, p1i, l0r, l0i, l1r, l1i, i, i, h)
                    tx, ty, tz = tx + t[0], ty + t[1], tz + t[2]
                tx, ty, tz = 0.5 * tx, 0.5 * ty, 0.5 * tz
            else:
                b0, b1 = owned_quarters
                t0 = cross_and_undo(psi[b0], lam[b0], q, h)
                t1 = cross_and_undo(psi[b1], lam[b1], q, h)
                tx, ty, tz = t0[0] + t1[0], t0[1] + t1[1], t0[2] + t1[2]
            run_k_parts[part, s, q, 0] = tx
            run_k_parts[part, s, q, 1] = ty
            run_k_parts[part, s, q, 2] = tz
            continue
        for b in owned_quarters:
            if code == B_INIT:
                x, y = psi[b], lam[b]
                for i in range(m):
                    y[0, i] = prob_cotangent[0, b * m + i] * x[0, i]
                    y[1, i] = prob_cotangent[0, b * m + i] * x[1, i]
            elif code == B_DIAG:
                f = diag_factor(diag_shared, diag_rows, diag_row_of, pos[s])
                multiply_phases(psi[b], f[0], f[1], b * m, -1.0)
                multiply_phases(lam[b], f[0], f[1], b * m, -1.0)
                x, y = psi[b], lam[b]
                for j in range(diag_slice.shape[0]):
                    if diag_slice[j] == s:
                        pattern = diag_patterns[j]
                        acc = 0.0
                        for i in range(m):  # Im(conj(lambda) psi) * pattern
                            acc += (y[0, i] * x[1, i] - y[1, i] * x[0, i]) * pattern[b * m + i]
                        diag_parts[part, j] += -2.0 * acc
            elif code == B_GATHER:
                c = pos[s]
                psi_out = psi1 if ops[k, 3] == 0 else psi0
                lam_out = lam1 if ops[k, 3] == 0 else lam0
                src, ir, ii = inverse_src[c], inverse_phase[c, 0], inverse_phase[c, 1]
                gather(psi, psi_out, src, ir, ii, b, shift)
                gather(lam, lam_out, src, ir, ii, b, shift)


@jit
def backward_finish(
    run_k_parts, diag_parts, n_qubits, run_lengths, axis, trig, slot_trainable, chain_tables,
    parts, theta_ext, coeff, weight, angle_of_term, slot_grad, diag_grad, param_grad,
    angle_grad, grad,
):  # fmt: skip
    # The parts' shares added (part 0, then part 1), then the run slots' terms and the
    # chain rule to the weights, as backward_step ends.
    n_slices = run_lengths.shape[0]
    run_k = np.empty((n_slices, n_qubits, 3, 1))
    for s in range(n_slices):
        for q in range(n_qubits):
            for c in range(3):
                run_k[s, q, c, 0] = run_k_parts[0, s, q, c] + run_k_parts[1, s, q, c]
    for j in range(diag_grad.shape[1]):
        diag_grad[0, j] = diag_parts[0, j] + diag_parts[1, j]
    slot_grad[:, :] = 0.0
    param_grad[:, :] = 0.0
    run_terms(n_qubits, run_lengths, axis, trig, slot_trainable, run_k, slot_grad)
    chain_rule(
        slot_grad, diag_grad, param_grad, chain_tables, parts, theta_ext, coeff, weight,
        angle_of_term, angle_grad, grad,
    )  # fmt: skip


SPLIT_KERNELS = {
    # What the sweep reads, computed as for the one-pass sweeps, and the runs' quaternions.
    "sweep_inputs": sweep_inputs,
    "run_quaternions": run_quaternions,
    "forward_round": forward_round,
    "backward_round": backward_round,
    "backward_finish": backward_finish,
}
