"""Compiled fidelity Gram blocks of small states (optional: ``skqml[numba]``).

For states of few amplitudes the cost of a Gram matrix is its assembly, not the simulation.
BLAS offers no product that returns ``|<a|b>|^2``: the complex product writes every overlap
as a complex number and a second pass squares the moduli (up to 4 qubits skqml used one real
product of ``dim**2`` density features instead, four times the multiply-adds of the complex
product). Here the overlaps of a tile of 4 rows against ``_COLS`` columns are accumulated
in a small buffer that stays in L1 cache, over the columns innermost (where LLVM
vectorises), and only ``|<a|b>|^2`` is written. The order of every sum is fixed, so a block
has the same bits on any thread.

``_gram.py`` imports this module only when numba imports.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["fidelity_tiles"]

# A tile: 4 rows of A against _COLS columns of B, whose overlaps (4 x 2 x 128 doubles,
# 8 KiB) stay in L1 cache; each pass over the columns reads two amplitudes of B for all four
# rows (32 multiply-adds per 12 loads and 8 stores). Against one row and one amplitude per
# pass (4 multiply-adds per 4 loads and 2 stores) this was 1.6x faster, and 1.2-1.7x faster
# than zherk with its squared moduli on one thread (16 to 64 amplitudes, 5000 states).
_COLS = 128


@numba.njit(cache=True, nogil=True, fastmath={"contract", "reassoc"})
def fidelity_tiles(a_re, a_im, b_re, b_im, symmetric, out):
    """``out[i, j] = |sum_k conj(a[k, i]) b[k, j]|^2`` from the real and imaginary parts of
    A (dim, m4) and B (dim, n or more), amplitude-major (samples contiguous), into ``out``
    (m, n); ``dim`` is even and A's columns are padded with zeros to m4, a multiple of 4. With
    ``symmetric`` (B is A) the upper triangle is computed and mirrored, so that ``out`` is
    exactly symmetric."""
    dim, m4 = a_re.shape
    m, n = out.shape
    acc = np.empty((8, _COLS))
    for i0 in range(0, m4, 4):
        for j0 in range(i0 if symmetric else 0, n, _COLS):
            cols = min(_COLS, n - j0)
            acc[:, :cols] = 0.0
            re0, im0, re1, im1 = acc[0], acc[1], acc[2], acc[3]
            re2, im2, re3, im3 = acc[4], acc[5], acc[6], acc[7]
            for k in range(0, dim, 2):
                # conj(a) b over amplitudes k (p: A's, x + iy: B's) and k + 1 (q, u + iv).
                p0r, p0i, q0r, q0i = a_re[k, i0], a_im[k, i0], a_re[k + 1, i0], a_im[k + 1, i0]
                i1 = i0 + 1
                p1r, p1i, q1r, q1i = a_re[k, i1], a_im[k, i1], a_re[k + 1, i1], a_im[k + 1, i1]
                i2 = i0 + 2
                p2r, p2i, q2r, q2i = a_re[k, i2], a_im[k, i2], a_re[k + 1, i2], a_im[k + 1, i2]
                i3 = i0 + 3
                p3r, p3i, q3r, q3i = a_re[k, i3], a_im[k, i3], a_re[k + 1, i3], a_im[k + 1, i3]
                xs, ys = b_re[k, j0 : j0 + cols], b_im[k, j0 : j0 + cols]
                us, vs = b_re[k + 1, j0 : j0 + cols], b_im[k + 1, j0 : j0 + cols]
                for j in range(cols):
                    x, y, u, v = xs[j], ys[j], us[j], vs[j]
                    re0[j] += p0r * x + p0i * y + q0r * u + q0i * v
                    im0[j] += p0r * y - p0i * x + q0r * v - q0i * u
                    re1[j] += p1r * x + p1i * y + q1r * u + q1i * v
                    im1[j] += p1r * y - p1i * x + q1r * v - q1i * u
                    re2[j] += p2r * x + p2i * y + q2r * u + q2i * v
                    im2[j] += p2r * y - p2i * x + q2r * v - q2i * u
                    re3[j] += p3r * x + p3i * y + q3r * u + q3i * v
                    im3[j] += p3r * y - p3i * x + q3r * v - q3i * u
            for r in range(min(4, m - i0)):
                row = out[i0 + r, j0 : j0 + cols]
                acc_re, acc_im = acc[2 * r], acc[2 * r + 1]
                for j in range(cols):
                    row[j] = acc_re[j] * acc_re[j] + acc_im[j] * acc_im[j]
    if symmetric:
        for i in range(m):
            for j in range(i):
                out[i, j] = out[j, i]
