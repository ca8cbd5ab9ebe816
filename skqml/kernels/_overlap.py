"""Kernels on non-exact backends: overlap circuits in tiles, and PSD projection.

An exact backend gives states, and a Gram matrix is one matrix product of them. A sampling or
hardware backend gives estimates only: every pair of samples runs its own compute-uncompute
circuit. The pairs are cut into tiles of the upper triangle (``K(X, X)``; the diagonal is 1
and never run) or of the test/train rectangle, and the tiles go through the same
:func:`gram_matrix` / joblib machinery as exact Gram blocks.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from .._parallel import single_blas_thread
from ..simulator._memory import SimulationMemoryError, rows_per_chunk, state_bytes
from ..simulator._statevector import WORKING_COPIES
from ._gram import gram_matrix

__all__ = ["overlap_gram", "project_psd"]

# Rows per tile: a 128 x 128 tile is ~16k overlap estimates, enough work to amortise a joblib
# task, small enough that a few hundred samples still give several tasks to parallelise.
_TILE_ROWS = 128


def overlap_gram(
    backend,
    circuit,
    A,
    B=None,
    *,
    n_jobs=None,
    max_memory_mb=None,
    verbose: int = 0,
    name: str = "Gram matrix",
) -> np.ndarray:
    """``K[i, j]`` estimated by ``backend.overlaps`` on tiles; ``B=None``: ``K(A, A)``.

    The backend's random streams are keyed per pair of samples, so the tiling, ``n_jobs``
    and ``verbose`` (progress lines, see :func:`gram_matrix`) never change the numbers.
    """
    block = partial(_overlap_tile, backend, circuit, max_memory_mb)
    row_bytes = getattr(backend, "overlap_row_bytes", None)
    rows = _tile_rows(
        circuit.n_qubits, max_memory_mb, None if row_bytes is None else row_bytes(circuit)
    )
    return gram_matrix(
        block, A, B, block_rows=rows, n_jobs=n_jobs, threads=False, verbose=verbose, name=name
    )


def _overlap_tile(backend, circuit, max_memory_mb, a, b):
    if b is None:
        return backend.overlaps(circuit, a, None, symmetric=True, max_memory_mb=max_memory_mb)
    return backend.overlaps(circuit, a, b, symmetric=False, max_memory_mb=max_memory_mb)


def _tile_rows(n_qubits: int, max_memory_mb, row_bytes: int | None = None) -> int:
    # A tile simulated locally (ShotsBackend) holds its row and column states plus the
    # simulator's working copies: within a quarter of the budget. A backend that holds
    # states in another form says how many bytes a tile row costs it (``row_bytes``, from
    # its ``overlap_row_bytes(circuit)``: the MPS backend's tensors). A backend that measures
    # elsewhere (hardware) needs no states, so a tile is never refused here: each backend
    # refuses what it cannot run itself, naming what does not fit.
    if row_bytes is None:
        row_bytes = 2 * (1 + WORKING_COPIES) * state_bytes(n_qubits)
    try:
        rows = rows_per_chunk(
            row_bytes,
            max_memory_mb,
            what="an overlap tile",
            n_qubits=n_qubits,
            share=0.25,
        )
    except SimulationMemoryError:
        rows = 1
    return min(_TILE_ROWS, rows)


def project_psd(K: np.ndarray) -> np.ndarray:
    """The nearest positive semidefinite matrix to a symmetric ``K`` (Frobenius norm).

    Negative eigenvalues are set to zero: ``V max(w, 0) V^T`` from ``K = V w V^T``
    (Higham 1988). A matrix without negative eigenvalues is returned unchanged. Shot noise
    makes Gram matrices indefinite, and libsvm can fail to converge (or hang) on them.

    Examples
    --------
    >>> import numpy as np
    >>> from skqml.kernels._overlap import project_psd
    >>> K = np.array([[1.0, 1.2], [1.2, 1.0]])  # eigenvalues 2.2 and -0.2
    >>> project_psd(K)
    array([[1.1, 1.1],
           [1.1, 1.1]])
    >>> bool(np.array_equal(project_psd(np.eye(2)), np.eye(2)))  # PSD already: unchanged
    True
    """
    K = np.asarray(K, dtype=float)
    # Threaded LAPACK eigh is erratic on this kind of machine (a 1000 x 1000 matrix: 7.7 s
    # on 2 OpenBLAS threads, 0.3 s on one), and joblib workers already use the cores.
    with single_blas_thread():
        w, V = np.linalg.eigh(K)
        if w.size == 0 or w[0] >= 0:
            return K
        P = (V * np.maximum(w, 0.0)) @ V.T
    # The product is symmetric only up to rounding; libsvm and eigh expect exact symmetry.
    return (P + P.T) / 2
