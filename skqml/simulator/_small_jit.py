"""Compiled per-sample sweeps of the small-circuit engine (optional: ``skqml[numba]``).

On one to six qubits a training step of the NumPy engine (``_small.py``) is dominated by
NumPy's cost per call on tiny arrays (stacks of 2x2 matrices), not by arithmetic. With numba
installed, the engine hands its inner work to the functions below, compiled once and cached
on disk (``_small.py`` imports this module only when numba imports):

- ``angles``, ``slot_trig`` and ``chain_rule``: every angle of every gate from the angle
  program's term tables, the cosine and sine of every run slot, and the chain rule from the
  sweeps' terms back to the weights;
- ``forward``: for each sample, each slice's one-qubit runs multiplied into one 2x2 per
  qubit and applied in place to the ``2**n`` state, then the slice's entangler; then the
  expectation values of the Pauli strings (``P|b> = phase sign[b] |b ^ flip>``);
- ``backward``: the adjoint method, per sample. From ``lambda = sum_k g_k P_k psi`` it
  undoes the slices one by one (each is unitary, so the state before it is ``U^H`` times the
  state after it). A run's gradients come from one 2x2 cross density ``M = psi lambda^H``
  reduced to its qubit at the run's end, moved back through the run gate by gate
  (``M <- G^H M G``): a run slot's term is ``2 Im Tr(N M)`` for its axis
  ``N = nx X + ny Y + nz Z``; a diagonal angle's is ``-2 Im sum(conj(lambda) psi pattern)``,
  a multi-qubit rotation's ``2 Im <lambda| K psi>`` after the gate.

Gates are the engine's: a run slot (position ``j`` of the run of qubit ``q`` in slice ``s``,
index ``(j * S + s) * n + q``) is ``cos(a) I - i sin(a) N``; the engine multiplies each slot
term by its angle's scale. Qubit ``q`` is bit ``q`` of the basis index. Every function
releases the GIL, so the threads of ``n_jobs`` run them concurrently.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

__all__ = ["KERNELS", "CompiledKernels"]


# The sweeps are compiled once and cached on disk (numba's cache beside this file). The 2x2
# helpers are inlined: called per gate and sample, a call with array arguments (reference
# counts, struct passing) cost more than their arithmetic.
jit = numba.njit(cache=True, nogil=True)
helper = numba.njit(cache=True, nogil=True, inline="always")


@helper
def matvec(M, v, out, dagger):
    d = v.shape[0]
    for i in range(d):
        acc = 0.0j
        if dagger:
            for k in range(d):
                acc += M[k, i].conjugate() * v[k]
        else:
            for k in range(d):
                acc += M[i, k] * v[k]
        out[i] = acc


@helper
def entangle(state, tmp, s, r, kinds, pos, diag_factor, const_src, const_phase, const_mats,
             param_mats, dagger):  # fmt: skip
    kind = kinds[s]
    if kind == 1:
        f = diag_factor[pos[s], r if diag_factor.shape[1] > 1 else 0]
        for i in range(state.shape[0]):
            state[i] *= f[i].conjugate() if dagger else f[i]
    elif kind == 2 and const_src[pos[s], 0] >= 0:
        # A permutation with phases (CNOT, CZ, SWAP, ...): (M psi)[i] = ph[i] psi[src[i]].
        src = const_src[pos[s]]
        ph = const_phase[pos[s]]
        if dagger:
            for i in range(state.shape[0]):
                tmp[src[i]] = ph[i].conjugate() * state[i]
        else:
            for i in range(state.shape[0]):
                tmp[i] = ph[i] * state[src[i]]
        state[:] = tmp
    elif kind == 2:
        matvec(const_mats[pos[s]], state, tmp, dagger)
        state[:] = tmp
    elif kind == 3:
        matvec(param_mats[pos[s], r], state, tmp, dagger)
        state[:] = tmp


@helper
def apply_2x2(state, q, U, dagger):
    # U (or U^H) on qubit q, in place.
    if dagger:
        g00, g01 = U[0, 0].conjugate(), U[1, 0].conjugate()
        g10, g11 = U[0, 1].conjugate(), U[1, 1].conjugate()
    else:
        g00, g01, g10, g11 = U[0, 0], U[0, 1], U[1, 0], U[1, 1]
    stride = 1 << q
    d = state.shape[0]
    for base in range(0, d, 2 * stride):
        for i in range(base, base + stride):
            a0 = state[i]
            a1 = state[i + stride]
            state[i] = g00 * a0 + g01 * a1
            state[i + stride] = g10 * a0 + g11 * a1


@helper
def run_matrices(r, s, n_slices, run_lengths, trig, axis, runs):
    # runs[q] = G[m-1] ... G[0], the product of the run of every qubit q in slice s (in
    # scalars: 2x2 temporaries in arrays cost more than the arithmetic).
    for q in range(runs.shape[0]):
        u00, u01, u10, u11 = 1.0 + 0.0j, 0.0j, 0.0j, 1.0 + 0.0j
        for j in range(run_lengths[s, q]):
            slot = (j * n_slices + s) * runs.shape[0] + q
            c, sn = trig[0, r, slot], trig[1, r, slot]
            nx, ny, nz = axis[0, slot], axis[1, slot], axis[2, slot]
            g00, g01 = complex(c, -sn * nz), complex(-sn * ny, -sn * nx)
            g10, g11 = complex(sn * ny, -sn * nx), complex(c, sn * nz)
            u00, u01, u10, u11 = (
                g00 * u00 + g01 * u10,
                g00 * u01 + g01 * u11,
                g10 * u00 + g11 * u10,
                g10 * u01 + g11 * u11,
            )
        U = runs[q]
        U[0, 0], U[0, 1], U[1, 0], U[1, 1] = u00, u01, u10, u11


@jit
def forward(
    n_qubits, run_lengths, axis, kinds, pos, diag_factor, const_src, const_phase, const_mats,
    param_mats, flips, phases, signs, trig, out, E, run_store,
):  # fmt: skip
    # Final states into out (rows, d) and expectation values of the Paulis into E, from
    # the cosines and sines of every run slot's angle, trig (2, rows, slots); each run's
    # product into run_store (rows, slices, qubits, 2, 2) for the backward pass.
    rows, d = out.shape
    n_slices = kinds.shape[0]
    tmp = np.empty(d, dtype=np.complex128)
    for r in range(rows):
        state = out[r]
        state[:] = 0.0
        state[0] = 1.0
        for s in range(n_slices):
            runs = run_store[r, s]
            run_matrices(r, s, n_slices, run_lengths, trig, axis, runs)
            for q in range(n_qubits):
                if run_lengths[s, q]:
                    apply_2x2(state, q, runs[q], False)
            entangle(
                state, tmp, s, r, kinds, pos, diag_factor, const_src, const_phase, const_mats,
                param_mats, False,
            )  # fmt: skip
        for k in range(flips.shape[0]):
            # <psi| P |psi> with P|b> = phase sign[b] |b ^ flip>.
            acc = 0.0j
            for i in range(d):
                acc += state[i ^ flips[k]].conjugate() * signs[k, i] * state[i]
            E[r, k] = (phases[k] * acc).real


@jit
def backward(
    n_qubits, run_lengths, axis, kinds, pos, diag_factor, const_src, const_phase, const_mats,
    param_mats,
    flips, phases, signs, trig, run_store, final, cotangent, slot_trainable, diag_slice,
    diag_patterns, param_generators, param_trainable, slot_grad, diag_grad, param_grad,
):  # fmt: skip
    rows, d = final.shape
    n_slices = kinds.shape[0]
    psi = np.empty(d, dtype=np.complex128)
    lam = np.empty(d, dtype=np.complex128)
    tmp = np.empty(d, dtype=np.complex128)
    for r in range(rows):
        psi[:] = final[r]
        # lambda = sum_k g_k P_k psi: the cotangent state at the end of the circuit.
        lam[:] = 0.0
        for k in range(flips.shape[0]):
            g = cotangent[r, k] * phases[k]
            if g != 0.0:
                for i in range(d):
                    lam[i ^ flips[k]] += g * signs[k, i] * psi[i]
        for s in range(n_slices - 1, -1, -1):
            kind = kinds[s]
            if kind == 3 and param_trainable[pos[s]]:
                matvec(param_generators[pos[s]], psi, tmp, False)
                acc = 0.0j
                for i in range(d):
                    acc += lam[i].conjugate() * tmp[i]
                param_grad[r, pos[s]] = 2.0 * acc.imag
            if kind != 0:
                entangle(
                    psi, tmp, s, r, kinds, pos, diag_factor, const_src, const_phase,
                    const_mats, param_mats, True,
                )  # fmt: skip
                entangle(
                    lam, tmp, s, r, kinds, pos, diag_factor, const_src, const_phase,
                    const_mats, param_mats, True,
                )  # fmt: skip
            if kind == 1:
                for k in range(diag_slice.shape[0]):
                    if diag_slice[k] == s:
                        acc = 0.0j
                        for i in range(d):
                            acc += lam[i].conjugate() * psi[i] * diag_patterns[k, i]
                        diag_grad[r, k] = -2.0 * acc.imag
            runs = run_store[r, s]
            for q in range(n_qubits):
                m_q = run_lengths[s, q]
                if m_q == 0:
                    continue
                # M = psi lambda^H reduced to qubit q at the run's end (the other
                # qubits' runs commute with this qubit's gates and cancel).
                stride = 1 << q
                m00 = m01 = m10 = m11 = 0.0j
                for base in range(0, d, 2 * stride):
                    for i in range(base, base + stride):
                        p0, p1 = psi[i], psi[i + stride]
                        l0, l1 = lam[i].conjugate(), lam[i + stride].conjugate()
                        m00 += p0 * l0
                        m01 += p0 * l1
                        m10 += p1 * l0
                        m11 += p1 * l1
                for j in range(m_q - 1, -1, -1):
                    # (m00 .. m11) is the cross density just after gate j: the term is
                    # 2 Im Tr(N M); then M <- G_j^H M G_j, the density before it.
                    slot = (j * n_slices + s) * n_qubits + q
                    nx, ny, nz = axis[0, slot], axis[1, slot], axis[2, slot]
                    if slot_trainable[slot]:
                        trace = nz * (m00 - m11) + complex(nx, -ny) * m10 + complex(nx, ny) * m01
                        slot_grad[r, slot] = 2.0 * trace.imag
                    if j:
                        c, sn = trig[0, r, slot], trig[1, r, slot]
                        g00, g01 = complex(c, -sn * nz), complex(-sn * ny, -sn * nx)
                        g10, g11 = complex(sn * ny, -sn * nx), complex(c, sn * nz)
                        # K = M G, then M = G^H K.
                        k00, k01 = m00 * g00 + m01 * g10, m00 * g01 + m01 * g11
                        k10, k11 = m10 * g00 + m11 * g10, m10 * g01 + m11 * g11
                        h00, h01 = g00.conjugate(), g10.conjugate()
                        h10, h11 = g01.conjugate(), g11.conjugate()
                        m00, m01 = h00 * k00 + h01 * k10, h00 * k01 + h01 * k11
                        m10, m11 = h10 * k00 + h11 * k10, h10 * k01 + h11 * k11
                apply_2x2(psi, q, runs[q], True)
                apply_2x2(lam, q, runs[q], True)


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
def slot_trig(angles, slot_angle, slot_scale, slot_const, sample_slots, shared_slots, trig):
    # trig[0|1, r, slot] = cos|sin(scale * angle + const) of every run slot: per sample for
    # the slots whose angle reads features, once for the others.
    rows = trig.shape[1]
    for slot in shared_slots:
        a = angles[0, slot_angle[slot]] * slot_scale[slot] + slot_const[slot]
        c, sn = np.cos(a), np.sin(a)
        for r in range(rows):
            trig[0, r, slot] = c
            trig[1, r, slot] = sn
    for r in range(rows):
        for slot in sample_slots:
            a = angles[r, slot_angle[slot]] * slot_scale[slot] + slot_const[slot]
            trig[0, r, slot] = np.cos(a)
            trig[1, r, slot] = np.sin(a)


@jit
def chain_rule(
    slot_grad, grad_slots, grad_slot_angles, grad_slot_scales, diag_grad, diag_angles,
    param_grad, param_angles, parts, theta_ext, coeff, weight, angle_of_term, angle_grad, grad,
):  # fmt: skip
    # The angles' gradients from the sweeps' slot, diagonal and multi-qubit terms (into
    # angle_grad, rows x n_angles), then weight_gradient into grad. param_angles[k] < 0: a
    # fixed multi-qubit gate. With one row of feature parts (no features), the rows are
    # summed first.
    rows = slot_grad.shape[0]
    angle_grad[:, :] = 0.0
    for r in range(rows):
        out = angle_grad[r if parts.shape[0] > 1 else 0]
        for k in range(grad_slots.shape[0]):
            out[grad_slot_angles[k]] += slot_grad[r, grad_slots[k]] * grad_slot_scales[k]
        for k in range(diag_angles.shape[0]):
            out[diag_angles[k]] += diag_grad[r, k]
        for k in range(param_angles.shape[0]):
            if param_angles[k] >= 0:
                out[param_angles[k]] += param_grad[r, k]
    used = angle_grad[: rows if parts.shape[0] > 1 else 1]
    weight_gradient(used, parts, theta_ext, coeff, weight, angle_of_term, grad)


class CompiledKernels(NamedTuple):
    """The compiled functions: the angles and their cosines and sines, the two sweeps, and
    the chain rule back to the weights."""

    forward: object
    backward: object
    angles: object
    slot_trig: object
    chain_rule: object


KERNELS = CompiledKernels(forward, backward, angles, slot_trig, chain_rule)
