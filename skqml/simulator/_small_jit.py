"""Compiled per-sample sweeps of the small-circuit engine (optional: ``skqml[numba]``).

On one to six qubits a training step of the NumPy engine (``_small.py``) is dominated by
NumPy's cost per call on tiny arrays (stacks of 2x2 matrices), not by arithmetic; on ten and
more, by passes over all samples' states, one per fused gate. With numba installed, the
engine hands its inner work to the functions below, compiled once and cached on disk
(``_small.py`` imports this module only when numba imports); they hold one sample's state
at a time, which stays in cache up to about 16 qubits:

- ``forward_step`` (one call per chunk): every angle of every gate from the angle program's
  term tables (``angles``), the diagonal entanglers' phases, the cosine and sine of every
  run slot (``slot_trig``, by a vectorised ``sincos``: libm's calls are not vectorised),
  every run's product as a unit quaternion for all samples at once, then ``forward``: for
  each sample, each slice's runs applied in place to the ``2**n`` state, then the slice's
  entangler; then the expectation values of the Pauli strings
  (``P|b> = phase (-1)^|b & zmask| |b ^ flip>``);
- ``backward_step`` (one call): ``backward``, the adjoint method, per sample. From
  ``lambda = sum_k g_k P_k psi`` (or ``g * psi`` elementwise for the cotangents ``g`` of
  the Born probabilities) it undoes the slices one by one (each is unitary, so the
  state before it is ``U^H`` times the state after it). A run's gradients come from the 2x2
  cross density ``M = psi lambda^H`` reduced to its qubit at the run's end, of which they
  read only the vector ``k`` of its anti-Hermitian part: a run slot's term
  ``2 Im Tr(N M)`` for its axis ``N = n.sigma`` is ``4 n.k``, and moving ``M`` back through
  a gate rotates ``k`` (``run_terms``, all samples at once). A diagonal angle's term is
  ``-2 Im sum(conj(lambda) psi pattern)``, a multi-qubit rotation's
  ``2 Im <lambda| K psi>`` after the gate. Then ``chain_rule``: from the terms back to the
  weights.

The per-sample state passes run one sample at a time; what is per gate (products, rotations,
cosines) runs over the samples innermost, where LLVM vectorises it.

Gates are the engine's: a run slot (position ``j`` of the run of qubit ``q`` in slice ``s``,
index ``(j * S + s) * n + q``) is ``cos(a) I - i sin(a) N``; the engine multiplies each slot
term by its angle's scale. Qubit ``q`` is bit ``q`` of the basis index. Every function
releases the GIL, so the threads of ``n_jobs`` run them concurrently.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba
import numpy as np

__all__ = ["KERNELS", "CompiledKernels"]


# The sweeps are compiled once and cached on disk (numba's cache beside this file). The 2x2
# helpers are inlined: called per gate and sample, a call with array arguments (reference
# counts, struct passing) cost more than their arithmetic. States are held as separate real
# and imaginary parts (shape (2, d)): on interleaved complex numbers LLVM did not vectorise
# the loops (1.3-1.5 ns per amplitude and one-qubit gate), on separate parts it does with
# FMA (0.7-0.8 ns). Floating-point contraction and reassociation (FMA, vectorised sums) are
# the only fast-math flags: finiteness checks must stay.
_FASTMATH = {"contract", "reassoc"}
# One-qubit passes on qubits whose pairs lie closer than this read the amplitudes by index;
# from here on through views of each block's two halves (vectorised). Shorter blocks cost
# more through views than by index (VQC 4 qubits: backward 0.79 ms at 8, 0.65 ms at 16);
# 16 to 32 made no difference at 10 to 12 qubits.
_VIEW_MIN_STRIDE = 16
jit = numba.njit(cache=True, nogil=True, fastmath=_FASTMATH)
helper = numba.njit(cache=True, nogil=True, fastmath=_FASTMATH, inline="always")


# sincos: pi/2 in three parts (33, 33 and 53 bits; k * the first two is exact for |k| <
# 2**20), so that x - k pi/2 is reduced to [-pi/4, pi/4] without cancellation error, and
# the Taylor coefficients of sin and cos there (the first terms left out are below 1e-19).
_PIO2_PARTS = (
    float.fromhex("0x1.921fb544p+0"),
    float.fromhex("0x1.0b4611a6p-34"),
    float.fromhex("0x1.3198a2e037073p-69"),
)
_TWO_OVER_PI = 2.0 / math.pi
_SINCOS_MAX = 1e6  # beyond: libm (k exceeds 2**20 near 1.6e6)
_SIN = tuple((-1) ** k / math.factorial(2 * k + 1) for k in range(9))
_COS = tuple((-1) ** k / math.factorial(2 * k) for k in range(10))


@jit
def sincos(x, cos_out, sin_out):
    # cos and sin of every entry of x (1-D), to 2 ulp. libm's calls are not vectorised (15
    # ns per pair here); this loop is, branch-free (about 3 ns): one reduction by pi/2, two
    # polynomials, the quadrant's swap and signs as selects. The outputs must not overlap
    # x: LLVM's run-time overlap check would then take its scalar loop (3x slower).
    n = x.shape[0]
    for i in range(n):
        if not abs(x[i]) <= _SINCOS_MAX:  # large, inf or NaN: libm for all
            for j in range(n):
                v = x[j]
                sin_out[j] = np.sin(v)
                cos_out[j] = np.cos(v)
            return
    p1, p2, p3 = _PIO2_PARTS
    s0, s1, s2, s3, s4, s5, s6, s7, s8 = _SIN
    c0, c1, c2, c3, c4, c5, c6, c7, c8, c9 = _COS
    for i in range(n):
        v = x[i]
        k = np.rint(v * _TWO_OVER_PI)
        r = ((v - k * p1) - k * p2) - k * p3
        r2 = r * r
        sr = s7 + r2 * s8
        sr = s0 + r2 * (s1 + r2 * (s2 + r2 * (s3 + r2 * (s4 + r2 * (s5 + r2 * (s6 + r2 * sr))))))
        sr *= r
        cr = c8 + r2 * c9
        cr = c0 + r2 * (
            c1 + r2 * (c2 + r2 * (c3 + r2 * (c4 + r2 * (c5 + r2 * (c6 + r2 * (c7 + r2 * cr))))))
        )
        q = k - 4.0 * np.floor(0.25 * k)  # the quadrant, 0 to 3
        odd = q == 1.0 or q == 3.0
        sv = cr if odd else sr
        cv = sr if odd else cr
        sin_out[i] = -sv if q >= 2.0 else sv
        cos_out[i] = -cv if (q == 1.0 or q == 2.0) else cv


@helper
def matvec(M, re, im, out_re, out_im, dagger):
    # A dense matrix (complex) on a state held as parts (up to SMALL_MAX_QUBITS only).
    d = re.shape[0]
    for i in range(d):
        acc = 0.0j
        for k in range(d):
            m = M[k, i].conjugate() if dagger else M[i, k]
            acc += m * complex(re[k], im[k])
        out_re[i] = acc.real
        out_im[i] = acc.imag


@helper
def entangle(state, tmp, s, r, kinds, pos, diag_shared, diag_rows, diag_row_of, const_src,
             const_phase, const_mats, param_mats, dagger):  # fmt: skip
    # The entangler of slice s (or its inverse) on state (2, d), in place; tmp (2, d). A
    # diagonal slice's factor is diag_rows[diag_row_of[k], r] when it differs between
    # samples, else diag_shared[k] (k its position among the diagonal slices).
    kind = kinds[s]
    re, im = state[0], state[1]
    d = re.shape[0]
    if kind == 1:
        k = pos[s]
        f = diag_shared[k] if diag_row_of[k] < 0 else diag_rows[diag_row_of[k], r]
        fr, fi = f[0], f[1]
        sign = -1.0 if dagger else 1.0
        for i in range(d):
            a, b = re[i], im[i]
            c, e = fr[i], sign * fi[i]
            re[i] = a * c - b * e
            im[i] = a * e + b * c
    elif kind == 2 and const_src[pos[s], 0] >= 0:
        # A permutation with phases (CNOT, CZ, SWAP, ...): (M psi)[i] = ph[i] psi[src[i]].
        src = const_src[pos[s]]
        pr, pi = const_phase[pos[s], 0], const_phase[pos[s], 1]
        tr, ti = tmp[0], tmp[1]
        if dagger:
            for i in range(d):
                a, b = re[i], im[i]
                tr[src[i]] = pr[i] * a + pi[i] * b
                ti[src[i]] = pr[i] * b - pi[i] * a
        else:
            for i in range(d):
                a, b = re[src[i]], im[src[i]]
                tr[i] = pr[i] * a - pi[i] * b
                ti[i] = pr[i] * b + pi[i] * a
        re[:] = tr
        im[:] = ti
    elif kind == 2:
        matvec(const_mats[pos[s]], re, im, tmp[0], tmp[1], dagger)
        state[:, :] = tmp
    elif kind == 3:
        matvec(param_mats[pos[s], r], re, im, tmp[0], tmp[1], dagger)
        state[:, :] = tmp


@helper
def parity(x):
    # The parity of the set bits of x (x < 2**64): the sign of a Z string on basis state b
    # is (-1)^parity(b & zmask), so no table of 2**n signs per Pauli string is stored.
    x ^= x >> 32
    x ^= x >> 16
    x ^= x >> 8
    x ^= x >> 4
    x ^= x >> 2
    x ^= x >> 1
    return x & 1


@helper
def run_parts(run_store, s, q, r, dagger):
    # The run (s, q) of sample r, w I - i (x X + y Y + z Z) from its quaternion in
    # run_store (slices, qubits, 4, rows), or its inverse, as the real and imaginary parts
    # of its entries row by row: [[w - iz, -y - ix], [y - ix, w + iz]].
    w, x, y, z = (
        run_store[s, q, 0, r],
        run_store[s, q, 1, r],
        run_store[s, q, 2, r],
        run_store[s, q, 3, r],
    )
    if dagger:
        return w, z, y, x, -y, x, w, -z
    return w, -z, -y, -x, y, -x, w, z


@helper
def rotate_pair(r0, i0, r1, i1, k0, k1, g):
    # The 2x2 matrix g (run_parts) on the amplitude pair (k0 of the 0 half, k1 of the 1
    # half), in place; returns the pair as it was (x0r, x0i, x1r, x1i).
    ar, ai, br, bi, cr, ci, dr, di = g
    x0r, x0i, x1r, x1i = r0[k0], i0[k0], r1[k1], i1[k1]
    r0[k0] = ar * x0r - ai * x0i + br * x1r - bi * x1i
    i0[k0] = ar * x0i + ai * x0r + br * x1i + bi * x1r
    r1[k1] = cr * x0r - ci * x0i + dr * x1r - di * x1i
    i1[k1] = cr * x0i + ci * x0r + dr * x1i + di * x1r
    return x0r, x0i, x1r, x1i


@helper
def apply_2x2(state, q, g):
    # The 2x2 matrix g (run_parts) on qubit q of state (2, d), in place; the amplitude
    # pairs (i, i + stride) are read through four views per block, which LLVM vectorises.
    stride = 1 << q
    re, im = state[0], state[1]
    if stride < _VIEW_MIN_STRIDE:  # short blocks: plain indices (views cost more)
        for base in range(0, re.shape[0], 2 * stride):
            for i in range(base, base + stride):
                rotate_pair(re, im, re, im, i, i + stride, g)
        return
    for base in range(0, re.shape[0], 2 * stride):
        r0, r1 = re[base : base + stride], re[base + stride : base + 2 * stride]
        i0, i1 = im[base : base + stride], im[base + stride : base + 2 * stride]
        for k in range(stride):
            rotate_pair(r0, i0, r1, i1, k, k, g)


@helper
def run_quaternions(n_qubits, run_lengths, trig, axis, run_store):
    # run_store[s, q, :, r] = G[m-1] ... G[0], the product of the run of qubit q in slice
    # s for sample r, as a quaternion. A gate cos(a) I - i sin(a) N is the unit quaternion
    # (w, v) = (cos a, sin a n), and (w1, v1)(w2, v2) = (w1 w2 - v1.v2, w1 v2 + w2 v1 +
    # v1 x v2): 16 products against a 2x2 complex product's 32. The loops run over the
    # samples innermost (trig is (2, slots, rows)), so that they are vectorised.
    n_slices, rows = run_lengths.shape[0], run_store.shape[3]
    for s in range(n_slices):
        for q in range(n_qubits):
            w, x, y, z = (
                run_store[s, q, 0],
                run_store[s, q, 1],
                run_store[s, q, 2],
                run_store[s, q, 3],
            )
            w[:] = 1.0
            x[:] = 0.0
            y[:] = 0.0
            z[:] = 0.0
            for j in range(run_lengths[s, q]):
                slot = (j * n_slices + s) * n_qubits + q
                cos, sin = trig[0, slot], trig[1, slot]
                nx, ny, nz = axis[0, slot], axis[1, slot], axis[2, slot]
                for r in range(rows):
                    c, gx, gy, gz = cos[r], sin[r] * nx, sin[r] * ny, sin[r] * nz
                    w0, x0, y0, z0 = w[r], x[r], y[r], z[r]
                    w[r] = c * w0 - gx * x0 - gy * y0 - gz * z0
                    x[r] = c * x0 + w0 * gx + gy * z0 - gz * y0
                    y[r] = c * y0 + w0 * gy + gz * x0 - gx * z0
                    z[r] = c * z0 + w0 * gz + gx * y0 - gy * x0


@jit
def forward(
    sweep, diag_rows, param_mats, flips, phases, zmasks, trig, initial, out, E, run_store, work
):  # fmt: skip
    # Final states into out (rows, 2, d) (real and imaginary parts) and expectation values
    # of the Paulis into E, from the cosines and sines of every run slot's angle, trig
    # (2, slots, rows); each run's product into run_store (slices, qubits, 4, rows) for
    # the backward pass; work (3, 2, d) is scratch. sweep: the program's tables (see
    # _small._SWEEP_TABLES). The states start from initial (rows, 2, d), or from |0...0>
    # when it has no rows.
    n_qubits, run_lengths, axis, kinds, pos, diag_shared, diag_row_of = sweep[:7]
    const_src, const_phase, const_mats = sweep[7:]
    rows, d = out.shape[0], out.shape[2]
    n_slices = kinds.shape[0]
    tmp = work[2]
    run_quaternions(n_qubits, run_lengths, trig, axis, run_store)
    for r in range(rows):
        state = out[r]
        if initial.shape[0]:
            state[:, :] = initial[r]
        else:
            state[0, :] = 0.0
            state[1, :] = 0.0
            state[0, 0] = 1.0
        for s in range(n_slices):
            for q in range(n_qubits):
                if run_lengths[s, q]:
                    apply_2x2(state, q, run_parts(run_store, s, q, r, False))
            entangle(
                state, tmp, s, r, kinds, pos, diag_shared, diag_rows, diag_row_of, const_src,
                const_phase, const_mats, param_mats, False,
            )  # fmt: skip
        re, im = state[0], state[1]
        for k in range(flips.shape[0]):
            # <psi| P |psi> with P|b> = phase (-1)^|b & zmask| |b ^ flip>:
            # sum_b conj(psi[b ^ flip]) sign[b] psi[b], then times the phase.
            acc_re = acc_im = 0.0
            for i in range(d):
                j = i ^ flips[k]
                sign = 1.0 - 2.0 * parity(i & zmasks[k])
                acc_re += sign * (re[j] * re[i] + im[j] * im[i])
                acc_im += sign * (re[j] * im[i] - im[j] * re[i])
            E[r, k] = phases[k].real * acc_re - phases[k].imag * acc_im


@helper
def undo_pair(p0r, p0i, p1r, p1i, l0r, l0i, l1r, l1i, k0, k1, h):
    # One amplitude pair (k0 of the 0 halves, k1 of the 1 halves) of cross_and_undo: U^H
    # (run_parts h) on psi's and lambda's pair, in place; returns the pair's terms of
    # 2 (kx, ky, kz) (see cross_and_undo) from x = psi's pair and y = lambda's:
    # Im(x0 y1* + x1 y0*), Re(x0 y1* - x1 y0*), Im(x0 y0* - x1 y1*).
    x0r, x0i, x1r, x1i = rotate_pair(p0r, p0i, p1r, p1i, k0, k1, h)
    y0r, y0i, y1r, y1i = rotate_pair(l0r, l0i, l1r, l1i, k0, k1, h)
    return (
        (x0i * y1r - x0r * y1i) + (x1i * y0r - x1r * y0i),
        (x0r * y1r + x0i * y1i) - (x1r * y0r + x1i * y0i),
        (x0i * y0r - x0r * y0i) - (x1i * y1r - x1r * y1i),
    )


@helper
def cross_and_undo(psi, lam, q, h):
    # On qubit q, the part of the cross density M = psi lambda^H reduced to the qubit
    # (M[b, a] = sum_rest psi_(b, rest) conj(lambda_(a, rest))) that gradients read,
    # K = (M - M^H) / 2i = k0 I + kx X + ky Y + kz Z, as (kx, ky, kz); and U^H applied to
    # psi and lambda on qubit q, in the same pass (h: the parts of U^H; blocks as in
    # apply_2x2).
    tx = ty = tz = 0.0
    stride = 1 << q
    d = psi.shape[1]
    if stride < _VIEW_MIN_STRIDE:
        pr, pi, lr, li = psi[0], psi[1], lam[0], lam[1]
        for base in range(0, d, 2 * stride):
            for i in range(base, base + stride):
                t = undo_pair(pr, pi, pr, pi, lr, li, lr, li, i, i + stride, h)
                tx, ty, tz = tx + t[0], ty + t[1], tz + t[2]
        return 0.5 * tx, 0.5 * ty, 0.5 * tz
    for base in range(0, d, 2 * stride):
        lo, hi = slice(base, base + stride), slice(base + stride, base + 2 * stride)
        p0r, p1r, p0i, p1i = psi[0, lo], psi[0, hi], psi[1, lo], psi[1, hi]
        l0r, l1r, l0i, l1i = lam[0, lo], lam[0, hi], lam[1, lo], lam[1, hi]
        for k in range(stride):
            t = undo_pair(p0r, p0i, p1r, p1i, l0r, l0i, l1r, l1i, k, k, h)
            tx, ty, tz = tx + t[0], ty + t[1], tz + t[2]
    return 0.5 * tx, 0.5 * ty, 0.5 * tz


@jit
def backward(
    sweep, diag_rows, param_mats, flips, phases, zmasks, trig, run_store, final, cotangent,
    prob_cotangent, grad_tables, slot_grad, diag_grad, param_grad, work,
):  # fmt: skip
    # The gradient terms of every run slot (slot_grad, slots x rows), trainable diagonal
    # angle (diag_grad) and multi-qubit gate (param_grad) of each sample, from the final
    # states and the cotangents (rows, k) of the expectation values, or, when it has rows,
    # prob_cotangent (rows, d): the cotangents of the Born probabilities (lambda = g psi
    # elementwise). grad_tables: see _small._GRAD_TABLES.
    n_qubits, run_lengths, axis, kinds, pos, diag_shared, diag_row_of = sweep[:7]
    const_src, const_phase, const_mats = sweep[7:]
    slot_trainable, diag_slice, diag_patterns, param_generators, param_trainable = grad_tables
    rows, d = final.shape[0], final.shape[2]
    n_slices = kinds.shape[0]
    psi, lam, tmp = work[0], work[1], work[2]
    run_k = np.empty((n_slices, n_qubits, 3, rows))
    for r in range(rows):
        psi[0, :] = final[r, 0]
        psi[1, :] = final[r, 1]
        # lambda = sum_k g_k P_k psi: the cotangent state at the end of the circuit.
        lam[0, :] = 0.0
        lam[1, :] = 0.0
        if prob_cotangent.shape[0]:  # |b><b| for every b: lambda_b = g_b psi_b
            for i in range(d):
                lam[0, i] = prob_cotangent[r, i] * psi[0, i]
                lam[1, i] = prob_cotangent[r, i] * psi[1, i]
        for k in range(flips.shape[0]):
            g = cotangent[r, k] * phases[k]
            if g != 0.0:
                gr, gi = g.real, g.imag
                for i in range(d):
                    a, b = psi[0, i], psi[1, i]
                    sign = 1.0 - 2.0 * parity(i & zmasks[k])
                    j = i ^ flips[k]
                    lam[0, j] += sign * (gr * a - gi * b)
                    lam[1, j] += sign * (gr * b + gi * a)
        for s in range(n_slices - 1, -1, -1):
            kind = kinds[s]
            if kind == 3 and param_trainable[pos[s]]:
                matvec(param_generators[pos[s]], psi[0], psi[1], tmp[0], tmp[1], False)
                acc = 0.0
                for i in range(d):  # Im(conj(lambda) K psi)
                    acc += lam[0, i] * tmp[1, i] - lam[1, i] * tmp[0, i]
                param_grad[r, pos[s]] = 2.0 * acc
            if kind != 0:
                entangle(
                    psi, tmp, s, r, kinds, pos, diag_shared, diag_rows, diag_row_of, const_src,
                    const_phase, const_mats, param_mats, True,
                )  # fmt: skip
                entangle(
                    lam, tmp, s, r, kinds, pos, diag_shared, diag_rows, diag_row_of, const_src,
                    const_phase, const_mats, param_mats, True,
                )  # fmt: skip
            if kind == 1:
                for k in range(diag_slice.shape[0]):
                    if diag_slice[k] == s:
                        acc = 0.0
                        pattern = diag_patterns[k]
                        for i in range(d):  # Im(conj(lambda) psi) * pattern
                            acc += (lam[0, i] * psi[1, i] - lam[1, i] * psi[0, i]) * pattern[i]
                        diag_grad[r, k] = -2.0 * acc
            for q in range(n_qubits):
                if run_lengths[s, q]:
                    # The run's cross density, read in the same pass that undoes it on
                    # psi and lambda; its gates' terms follow for all samples at once.
                    kx, ky, kz = cross_and_undo(psi, lam, q, run_parts(run_store, s, q, r, True))
                    run_k[s, q, 0, r], run_k[s, q, 1, r], run_k[s, q, 2, r] = kx, ky, kz
    run_terms(n_qubits, run_lengths, axis, trig, slot_trainable, run_k, slot_grad)


@helper
def run_terms(n_qubits, run_lengths, axis, trig, slot_trainable, run_k, slot_grad):
    # The run slots' terms slot_grad (slots, rows) from each run's k at its end, run_k
    # (slices, qubits, 3, rows). M = psi lambda^H reduced to the run's qubit (the other
    # qubits' runs commute with its gates and cancel); a slot's term 2 Im Tr(N M)
    # (N = n.sigma) reads only K = (M - M^H) / 2i = k0 I + k.sigma: it is 4 n.k. Moving M
    # back through gate j (M <- G^H M G) rotates k about n by -2a: cos 2a = c^2 - s^2,
    # sin 2a = 2 c s (Rodrigues), 15 products against two 2x2 complex products. The
    # samples are the inner loop (vectorised).
    n_slices, rows = run_lengths.shape[0], run_k.shape[3]
    for s in range(n_slices):
        for q in range(n_qubits):
            kx, ky, kz = run_k[s, q, 0], run_k[s, q, 1], run_k[s, q, 2]
            for j in range(run_lengths[s, q] - 1, -1, -1):
                slot = (j * n_slices + s) * n_qubits + q
                nx, ny, nz = axis[0, slot], axis[1, slot], axis[2, slot]
                if slot_trainable[slot]:
                    out = slot_grad[slot]
                    for r in range(rows):
                        out[r] = 4.0 * (nx * kx[r] + ny * ky[r] + nz * kz[r])
                if j:
                    cos, sin = trig[0, slot], trig[1, slot]
                    for r in range(rows):
                        c, sn = cos[r], sin[r]
                        x, y, z = kx[r], ky[r], kz[r]
                        cos2, sin2 = c * c - sn * sn, 2.0 * c * sn
                        along = 2.0 * sn * sn * (nx * x + ny * y + nz * z)
                        kx[r] = x * cos2 - (ny * z - nz * y) * sin2 + nx * along
                        ky[r] = y * cos2 - (nz * x - nx * z) * sin2 + ny * along
                        kz[r] = z * cos2 - (nx * y - ny * x) * sin2 + nz * along


@jit
def angles(X, theta_ext, coeff, feature, offset, scale, weight, angle_of_term, out, parts):
    # out[r, a] = sum over the terms t of angle a of coeff[t] * prod_f (offset + scale
    # x[feature]) * prod_w theta_ext[weight]; parts[r, t] the feature product of term t.
    rows = out.shape[0]
    n_terms, n_factors = feature.shape
    out[:, :] = 0.0
    for t in range(n_terms):
        w = coeff[t]
        for k in range(weight.shape[1]):
            w *= theta_ext[weight[t, k]]
        a = angle_of_term[t]
        for r in range(rows):
            f = 1.0
            for k in range(n_factors):
                if scale[t, k] != 0.0:  # padded factors (1) may index no column
                    f *= offset[t, k] + scale[t, k] * X[r, feature[t, k]]
                else:
                    f *= offset[t, k]
            parts[r, t] = f
            out[r, a] += f * w
    finite = True
    for r in range(rows):
        for a in range(out.shape[1]):
            if not np.isfinite(out[r, a]):
                finite = False
    return finite


@jit
def weight_gradient(angle_grad, parts, theta_ext, coeff, weight, angle_of_term, grad):
    # grad[j] += sum_r angle_grad[r, a(t)] * parts[r, t] * d(coeff prod theta)/d theta_j.
    rows = angle_grad.shape[0]
    n_terms, n_slots = weight.shape
    for t in range(n_terms):
        a = angle_of_term[t]
        total = 0.0
        for r in range(rows):
            total += angle_grad[r, a] * parts[r, t]
        total *= coeff[t]
        for k in range(n_slots):
            others = total
            for k2 in range(n_slots):
                if k2 != k:
                    others *= theta_ext[weight[t, k2]]
            grad[weight[t, k]] += others


@jit
def slot_trig(angle_values, slot_angle, slot_scale, slot_const, sample_slots, shared_slots, trig):
    # trig[0|1, slot, r] = cos|sin(scale * angle + const) of every run slot: the arguments
    # first (per sample for the slots whose angle reads features, else from the one row of
    # angles), then one vectorised sincos over all of them.
    rows = trig.shape[2]
    args = np.empty((trig.shape[1], rows))  # not trig[0]: sincos's output must not alias it
    for slot in shared_slots:
        args[slot, :] = angle_values[0, slot_angle[slot]] * slot_scale[slot] + slot_const[slot]
    for slot in sample_slots:
        a, scale, const = slot_angle[slot], slot_scale[slot], slot_const[slot]
        for r in range(rows):
            args[slot, r] = angle_values[r, a] * scale + const
    sincos(args.reshape(-1), trig[0].reshape(-1), trig[1].reshape(-1))


@jit
def chain_rule(
    slot_grad, diag_grad, param_grad, chain_tables, parts, theta_ext, coeff, weight,
    angle_of_term, angle_grad, grad,
):  # fmt: skip
    # The angles' gradients from the sweeps' slot, diagonal and multi-qubit terms (into
    # angle_grad, rows x n_angles), then weight_gradient into grad. param_angles[k] < 0: a
    # fixed multi-qubit gate. With one row of feature parts (no features), the rows are
    # summed first. chain_tables: see _small._CHAIN_TABLES.
    grad_slots, grad_slot_angles, grad_slot_scales, diag_angles, param_angles = chain_tables
    rows = slot_grad.shape[1]
    angle_grad[:, :] = 0.0
    for r in range(rows):
        out = angle_grad[r if parts.shape[0] > 1 else 0]
        for k in range(grad_slots.shape[0]):
            out[grad_slot_angles[k]] += slot_grad[grad_slots[k], r] * grad_slot_scales[k]
        for k in range(diag_angles.shape[0]):
            out[diag_angles[k]] += diag_grad[r, k]
        for k in range(param_angles.shape[0]):
            if param_angles[k] >= 0:
                out[param_angles[k]] += param_grad[r, k]
    used = angle_grad[: rows if parts.shape[0] > 1 else 1]
    weight_gradient(used, parts, theta_ext, coeff, weight, angle_of_term, grad)


@jit
def diag_phases(angle_values, diag_tables, parts):
    # parts[k, r] = cos and sin of the phase of the k-th diagonal slice with angles, for
    # sample r: its constant phase plus sum_p angle_p(r) pattern_p over the slice's angles
    # p. diag_tables: see _small._DIAG_TABLES.
    param_angle, param_row, patterns, const, row_of = diag_tables
    rows, d = parts.shape[1], parts.shape[3]
    phase = np.empty(d)
    for s in range(row_of.shape[0]):
        k = row_of[s]
        if k < 0:
            continue
        for r in range(rows):
            phase[:] = const[s]
            for p in range(param_angle.shape[0]):
                if param_row[p] == s:
                    a = angle_values[r if angle_values.shape[0] > 1 else 0, param_angle[p]]
                    pattern = patterns[p]
                    for i in range(d):
                        phase[i] += a * pattern[i]
            sincos(phase, parts[k, r, 0], parts[k, r, 1])


@jit
def sweep_inputs(
    X, theta_ext, angle_tables, trig_tables, diag_tables, angle_values, parts, diag_rows, trig,
    angles_ready,
):  # fmt: skip
    # The angles (unless angles_ready: then angle_values and parts hold them), the diagonal
    # slices' phases and the run slots' cosines and sines. False: an angle is not finite.
    if not angles_ready:
        coeff, feature, offset, scale, weight, angle_of_term = angle_tables
        finite = angles(
            X, theta_ext, coeff, feature, offset, scale, weight, angle_of_term, angle_values,
            parts,
        )  # fmt: skip
        if not finite:
            return False
    if diag_rows.shape[0]:
        diag_phases(angle_values, diag_tables, diag_rows)
    slot_angle, slot_scale, slot_const, sample_slots, shared_slots = trig_tables
    slot_trig(angle_values, slot_angle, slot_scale, slot_const, sample_slots, shared_slots, trig)
    return True


@jit
def forward_step(
    X, theta_ext, angle_tables, trig_tables, diag_tables, sweep, param_mats, flips, phases,
    zmasks, angle_values, parts, diag_rows, trig, initial, out, E, run_store, work, angles_ready,
):  # fmt: skip
    # A step's forward pass in one call: what the sweep reads (sweep_inputs), then the sweep
    # (forward). False: an angle is not finite (nothing else is computed).
    if not sweep_inputs(
        X, theta_ext, angle_tables, trig_tables, diag_tables, angle_values, parts, diag_rows,
        trig, angles_ready,
    ):  # fmt: skip
        return False
    forward(
        sweep, diag_rows, param_mats, flips, phases, zmasks, trig, initial, out, E, run_store,
        work,
    )  # fmt: skip
    return True


@jit
def backward_step(
    sweep, diag_rows, param_mats, flips, phases, zmasks, trig, run_store, final, cotangent,
    prob_cotangent, grad_tables, chain_tables, angle_tables, parts, theta_ext, slot_grad,
    diag_grad, param_grad, angle_grad, grad, work,
):  # fmt: skip
    # A step's backward pass in one call: the sweep's terms (backward), then the chain rule
    # to the weights, added to grad (n_weights + 1).
    slot_grad[:, :] = 0.0
    diag_grad[:, :] = 0.0
    param_grad[:, :] = 0.0
    backward(
        sweep, diag_rows, param_mats, flips, phases, zmasks, trig, run_store, final, cotangent,
        prob_cotangent, grad_tables, slot_grad, diag_grad, param_grad, work,
    )  # fmt: skip
    coeff, _, _, _, weight, angle_of_term = angle_tables
    chain_rule(
        slot_grad, diag_grad, param_grad, chain_tables, parts, theta_ext, coeff, weight,
        angle_of_term, angle_grad, grad,
    )  # fmt: skip


class CompiledKernels(NamedTuple):
    """The compiled functions: a step's forward and backward passes, and the angles alone
    (for the circuits whose multi-qubit gate matrices are built from them in NumPy)."""

    forward_step: object
    backward_step: object
    angles: object


KERNELS = CompiledKernels(forward_step, backward_step, angles)
