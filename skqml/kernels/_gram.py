"""Gram matrices from embeddings, in row blocks through joblib.

Blocks are fixed by size and memory, never by ``n_jobs``, so every ``n_jobs`` (and any joblib
backend: loky, threads, dask, ray) computes the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.linalg import blas

from .._parallel import block_slices, map_blocks
from .._progress import ProgressReporter

__all__ = [
    "GRAM_BYTES_PER_ENTRY",
    "block_slices",
    "fidelity_block",
    "fidelity_input_row_bytes",
    "fidelity_inputs",
    "gram_matrix",
]

# Bytes per entry of a Gram block while it is computed: the complex overlaps (16), their
# squared moduli (8) and the block returned (8); an RBF block needs no more.
GRAM_BYTES_PER_ENTRY = 32


def fidelity_block(A: np.ndarray, B: np.ndarray | None) -> np.ndarray:
    """``|<a|b>|^2`` for all rows of A against all rows of B (B=None: A against itself).

    With numba and up to 64 amplitudes, the compiled tiles of ``_gram_jit.py``, which write
    only the squared moduli. Otherwise one BLAS call: SciPy's ``zherk`` (half the work) for
    the symmetric block, NumPy's complex product ``conj(A) B^T`` (the conjugate of
    ``A B^H``, the same modulus) otherwise; for real rows (the :func:`density_features`
    that :func:`fidelity_inputs` makes of up to 4 qubits' states) one real product. The
    off-diagonal blocks, most of a Gram matrix, go through NumPy's BLAS because SciPy's
    OpenBLAS serialises calls from concurrent threads (two ``zgemm`` of 512 x 4096 states
    on two threads took as long as on one): ``n_jobs`` threads would wait on each other.
    States are C-ordered ``(n, dim)``, so ``A.T`` is the Fortran-ordered ``(dim, n)``
    matrix that ``zherk`` wants without a copy.
    """
    tiles = _compiled_tiles(A.shape[1]) if np.iscomplexobj(A) else None
    if tiles is not None:  # few amplitudes, numba: only |<a|b>|^2 is written
        return _tiled_block(tiles, A, B)
    if not np.iscomplexobj(A):
        # Few qubits: density-matrix features from fidelity_inputs, one real product and no
        # element-wise passes. numpy computes X @ X.T with syrk and mirrors it: exactly
        # symmetric.
        return A @ A.T if B is None else A @ B.T
    if B is None:
        # zherk: half the work of a product. It leaves the lower triangle zero: |upper|^2
        # plus its transpose is the whole symmetric matrix once the doubled diagonal is
        # restored.
        upper = _squared_modulus(blas.zherk(1.0, A.T, trans=2, lower=0))
        K = upper + upper.T
        np.fill_diagonal(K, np.diagonal(upper))
        return K
    return _squared_modulus(A.conj() @ B.T)


# Without numba: up to 4 qubits (dim**2 = 256 real features) the real form was 1.3-3x faster
# than the complex product and its squared moduli on 2048-row blocks; at 5 qubits it was 2x
# slower.
_REAL_FORM_MAX_DIM = 16
# With numba, states of up to this many amplitudes go through the compiled tiles
# (_gram_jit.py): on one thread, 5000 states, 1.2-1.7x faster than zherk with its squared
# moduli at 16 to 64 amplitudes, and 1.5x faster than the density features' product at 16.
_COMPILED_MAX_DIM = 64
# Off: never the compiled tiles (the tests compare both).
USE_COMPILED = True
_TILES = None  # the compiled function once imported (False: numba is not installed)


def _compiled_tiles(dim: int):
    """The compiled tile function when it serves states of ``dim`` amplitudes, else None."""
    global _TILES
    if not USE_COMPILED or dim > _COMPILED_MAX_DIM:
        return None
    if _TILES is None:
        try:
            from ._gram_jit import fidelity_tiles as _TILES
        except ImportError:  # numba is not installed
            _TILES = False
    return _TILES or None


def _tiled_block(tiles, A: np.ndarray, B: np.ndarray | None) -> np.ndarray:
    """:func:`fidelity_block` by the compiled tiles: both sides as amplitude-major real and
    imaginary parts (a copy of the block's rows, small beside the block)."""
    m, dim = A.shape
    # A's rows padded with zeros to a multiple of the tiles' 4 rows.
    a_re, a_im = np.zeros((2, dim, -(-m // 4) * 4))
    a_re[:, :m], a_im[:, :m] = A.real.T, A.imag.T
    if B is None:
        b_re, b_im = a_re, a_im
    else:
        b_re, b_im = (np.ascontiguousarray(part.T) for part in (B.real, B.imag))
    out = np.empty((m, m if B is None else B.shape[0]))
    tiles(a_re, a_im, b_re, b_im, B is None, out)
    return out


def fidelity_inputs(states: np.ndarray) -> np.ndarray:
    """What :func:`fidelity_block` multiplies: the states, or up to 4 qubits without the
    compiled tiles their real :func:`density_features` (computed once for the whole
    matrix, not per block)."""
    dim = states.shape[1]
    if dim <= _REAL_FORM_MAX_DIM and _compiled_tiles(dim) is None:
        return density_features(states)
    return states


def fidelity_input_row_bytes(dim: int) -> int:
    """Bytes per row that :func:`fidelity_inputs` and the blocks add beside states of
    ``dim`` amplitudes: the compiled tiles' real and imaginary copies (16 bytes per
    amplitude), else ``dim**2`` doubles of density features up to 4 qubits, else 0."""
    if _compiled_tiles(dim) is not None:
        return 16 * dim
    return 8 * dim**2 if dim <= _REAL_FORM_MAX_DIM else 0


def density_features(states: np.ndarray) -> np.ndarray:
    """Real features ``f(psi)`` with ``f(a) . f(b) = |<a|b>|^2``, shape ``(n, dim**2)``.

    ``|<a|b>|^2 = Tr(rho_a rho_b)`` with ``rho = |psi><psi|``: the diagonal ``|psi_j|^2``,
    and ``sqrt(2)`` times the real and imaginary parts of ``psi_j conj(psi_k)`` for
    ``j < k`` (each off-diagonal pair appears twice in the trace).

    Examples
    --------
    >>> import numpy as np
    >>> from skqml.kernels._gram import density_features
    >>> a, b = np.array([[1, 1j]]) / np.sqrt(2), np.array([[1, 0]], dtype=complex)
    >>> (density_features(a) @ density_features(b).T).round(12)  # |<a|b>|^2
    array([[0.5]])
    """
    j, k = np.triu_indices(states.shape[1], 1)
    off = states[:, j] * states[:, k].conj()
    off *= np.sqrt(2.0)
    return np.concatenate([states.real**2 + states.imag**2, off.real, off.imag], axis=1)


def _squared_modulus(z: np.ndarray) -> np.ndarray:
    out = np.square(z.real)
    out += np.square(z.imag)
    return out


def gram_matrix(
    block_fn: Callable[[np.ndarray, np.ndarray | None], np.ndarray],
    A: np.ndarray,
    B: np.ndarray | None = None,
    *,
    block_rows: int = 1024,
    n_jobs: int | None = None,
    threads: bool = True,
    panels: bool = False,
    verbose: int = 0,
    name: str = "Gram matrix",
) -> np.ndarray:
    """Assemble ``K[i, j] = k(A_i, B_j)`` from blocks; ``B=None`` computes the upper triangle.

    ``block_fn(A_block, B_block)`` returns one block; with ``B_block=None`` it must return
    the symmetric block of ``A_block`` against itself. With ``verbose > 0`` a throttled
    progress line (blocks done, rate, elapsed and estimated time left) is printed as blocks
    finish; each block is written to its own place in ``K``, so the result does not depend
    on ``verbose``, ``n_jobs`` or the order in which blocks finish. ``threads``: the blocks
    work on states in memory (see :mod:`skqml._parallel`); False for blocks that run
    circuits on a backend. ``panels``: each task is ``block_rows`` rows against every
    column (right of the diagonal when symmetric), one long product instead of many square
    ones: for products of small rows the square blocks' fixed costs dominated (n=4,
    N=5000: 0.66 s in 256-row blocks against 0.30 s for one product, on one thread).
    """
    rows = block_slices(A.shape[0], block_rows)
    symmetric = B is None
    n_cols = A.shape[0] if symmetric else B.shape[0]
    if panels:
        tasks = [(r, slice(r.start if symmetric else 0, n_cols)) for r in rows]
    elif symmetric:
        tasks = [(r, c) for i, r in enumerate(rows) for c in rows[i:]]
    else:
        tasks = [(r, c) for r in rows for c in block_slices(n_cols, block_rows)]
    K = np.empty((A.shape[0], n_cols))
    progress = ProgressReporter(
        len(tasks),
        verbose,
        name,
        unit="blocks",
        total_work=sum(_size(r) * _size(c) for r, c in tasks),
    )
    progress.message(
        f"Gram matrix {K.shape[0]} x {K.shape[1]}: {len(tasks)} blocks, n_jobs={n_jobs}"
    )
    other = A if symmetric else B
    # Results arrive in task order while later blocks still run: each is placed (and
    # freed) at once, and progress is reported as they come.
    results = map_blocks(
        _block,
        [(block_fn, A, other, r, c, symmetric) for r, c in tasks],
        n_jobs,
        threads=threads,
        lazy=True,
    )
    for (r, c), parts in zip(tasks, results, strict=True):
        for block, cols in parts:
            K[r, cols] = block
            if symmetric and cols.start >= r.stop:
                K[cols, r] = block.T
        progress.update(work=_size(r) * _size(c))
    return K


def _size(s: slice) -> int:
    return s.stop - s.start


def _block(block_fn, A, B, r, c, symmetric) -> list[tuple[np.ndarray, slice]]:
    """The block ``(r, c)`` as ``(block, columns)`` parts: a symmetric panel's diagonal
    block (symmetric by construction) and the rest of the panel."""
    if symmetric and r.start == c.start:
        parts = [(block_fn(A[r], None), r)]
        if c.stop > r.stop:
            rest = slice(r.stop, c.stop)
            parts.append((block_fn(A[r], B[rest]), rest))
        return parts
    return [(block_fn(A[r], B[c]), c)]
