"""Exact Gibbs states of transverse-field Ising Hamiltonians and their derivatives.

Conventions shared by the Boltzmann models:

- Qubit ``a`` carries the Pauli operators ``Z_a`` and ``X_a``. A data bit ``v_a = 0`` is the
  basis state ``|0>``, with ``Z_a`` eigenvalue ``z_a = +1``; ``v_a = 1`` has ``z_a = -1``
  (``z = 1 - 2 v``).
- Basis index ``s`` of ``n`` qubits: qubit ``a`` is bit ``a`` (little-endian, as the
  circuits of :mod:`skqml.circuits`), ``s = sum_a v_a 2**a``. Visible qubits come first, so
  the index of a (visible, hidden) configuration is ``v_index + 2**n_visible * h_index`` and
  a vector over basis states reshapes to ``(2**n_hidden, 2**n_visible)``.
- Hamiltonians are written ``H = -sum_t theta_t O_t`` with ``O_t`` one of ``Z_a``,
  ``Z_a Z_b`` ("Z-type": diagonal, given by a table of their eigenvalues over basis states)
  or ``X_a``. Every ``H`` here is real symmetric.

Derivative of ``exp(-H)``: with ``H = U diag(E) U^T``, ``U^T d(e^{-H}) U = K o (U^T dH U)``
where ``K_ij = (e^{-E_i} - e^{-E_j}) / (E_i - E_j)`` and ``K_ii = -e^{-E_i}`` (Daleckii-Krein).
Hence ``Tr[M d(e^{-H})] = Tr[G dH]`` with ``G = U (K o (U^T M U)) U^T``, one ``eigh`` and two
matrix products for any fixed ``M``.
"""

from __future__ import annotations

from contextlib import nullcontext
from itertools import combinations

import numpy as np

from .._parallel import single_blas_thread
from ..simulator._memory import require_memory, rows_per_chunk

__all__ = [
    "MAX_QUBITS",
    "blas_threads",
    "check_dense_memory",
    "coupling_pairs",
    "dense_bytes",
    "derivative_kernel",
    "flip_permutations",
    "gibbs_chunk_rows",
    "gibbs_eigh",
    "hamiltonian",
    "spin_table",
    "table_bytes",
]

# eigh of a 2**14 x 2**14 matrix takes tens of minutes on a laptop core and 2 GiB per copy:
# beyond this a dense exact Gibbs state is not a tool, whatever the memory budget says.
MAX_QUBITS = 14
# float64 d x d matrices alive at once in a likelihood step: H, eigenvectors, the derivative
# kernel, two products, and LAPACK's divide-and-conquer workspace (about two more).
DENSE_MATRICES_PER_STEP = 7


# Up to this many qubits (matrices up to 4096 x 4096) BLAS and LAPACK run on one thread: for
# matrices this small, threads cost more in synchronisation than they gain, and much more on
# a shared machine (timings in docs/boltzmann.md, "Memory and time").
_SINGLE_THREAD_MAX_QUBITS = 12


def blas_threads(n_qubits: int):
    """Context limiting BLAS to one thread for small matrices (see above)."""
    if n_qubits <= _SINGLE_THREAD_MAX_QUBITS:
        return single_blas_thread()
    return nullcontext()


def dense_bytes(n_qubits: int, batch: int = 1) -> float:
    """Bytes of the float64 ``2**n x 2**n`` matrices of ``batch`` Gibbs-state steps."""
    return batch * DENSE_MATRICES_PER_STEP * 8 * 4.0**n_qubits


def table_bytes(n_qubits: int, n_z_terms: int) -> float:
    """Bytes of the per-basis-state tables: Z-term eigenvalues, spins and bit flips."""
    return 8.0 * 2**n_qubits * (n_z_terms + 2 * n_qubits)


def check_dense_memory(
    n_qubits: int,
    max_memory_mb: float | None,
    *,
    what: str,
    max_qubits: int = MAX_QUBITS,
    batch: int = 1,
    extra_bytes: float = 0,
) -> None:
    """Refuse, before allocating anything, a dense Gibbs state that is too large.

    ``batch`` Gibbs states of ``n_qubits`` qubits, plus ``extra_bytes`` held at the same time,
    are counted against ``max_memory_mb``.
    """
    if n_qubits > max_qubits:
        raise ValueError(
            f"{what} has {n_qubits} qubits: the exact dense Gibbs state is limited to "
            f"{max_qubits} qubits (a 2**n x 2**n eigendecomposition per step; "
            f"{n_qubits} qubits would take hours)"
        )
    require_memory(
        dense_bytes(n_qubits, batch) + extra_bytes,
        max_memory_mb,
        f"the exact Gibbs state of {what} ({n_qubits} qubits, dense 2**{n_qubits} x "
        f"2**{n_qubits} eigendecomposition)",
        hint="use fewer visible or hidden units",
    )


def gibbs_chunk_rows(
    n_qubits: int, n_z_terms: int, max_memory_mb: float | None, *, what: str, max_qubits: int
) -> int:
    """Samples per batch of Gibbs states (one dense ``2**n`` eigendecomposition each) within
    the memory budget, beside the per-basis-state tables; refused up front if none fits."""
    tables = table_bytes(n_qubits, n_z_terms)
    check_dense_memory(
        n_qubits, max_memory_mb, what=what, max_qubits=max_qubits, extra_bytes=tables
    )
    return rows_per_chunk(
        dense_bytes(n_qubits),
        max_memory_mb,
        what=f"the Gibbs states of {what}",
        n_qubits=n_qubits,
        fixed_bytes=tables,
    )


def spin_table(n_qubits: int) -> np.ndarray:
    """Z eigenvalues ``z_a(s)`` of every basis state (bit ``a`` of ``s``), shape ``(2**n, n)``."""
    return (1 - 2 * index_to_bits(np.arange(2**n_qubits), n_qubits)).astype(np.float64)


def bits_to_index(bits: np.ndarray) -> np.ndarray:
    """Basis index ``sum_a bits[:, a] 2**a`` of rows of 0/1 bits (column ``a`` is bit ``a``)."""
    n = bits.shape[1]
    return bits.astype(np.int64) @ (np.int64(1) << np.arange(n, dtype=np.int64))


def index_to_bits(index: np.ndarray, n_bits: int) -> np.ndarray:
    """Rows of 0/1 bits of basis indices (inverse of :func:`bits_to_index`)."""
    return (np.asarray(index, dtype=np.int64)[:, None] >> np.arange(n_bits)) & 1


def flip_permutations(n_qubits: int) -> np.ndarray:
    """``perm[a, s]`` = index of ``s`` with qubit ``a`` flipped: where ``X_a`` sends it."""
    s = np.arange(2**n_qubits)
    return s[None, :] ^ (1 << np.arange(n_qubits))[:, None]


def coupling_pairs(n_visible: int, n_hidden: int, connectivity: str) -> np.ndarray:
    """Pairs ``(a, b)``, ``a < b``, that carry a coupling ``w_ab``; shape ``(n_pairs, 2)``."""
    n = n_visible + n_hidden
    if connectivity == "restricted":
        pairs = [(a, b) for a in range(n_visible) for b in range(n_visible, n)]
    else:
        pairs = list(combinations(range(n), 2))
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)


def z_terms(spins: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Eigenvalue table of the Z-type terms ``[Z_0..Z_{n-1}, Z_a Z_b for pairs]``."""
    return np.concatenate([spins, spins[:, pairs[:, 0]] * spins[:, pairs[:, 1]]], axis=1)


def hamiltonian(z_coef: np.ndarray, z_table: np.ndarray, gamma: np.ndarray, perms: np.ndarray):
    """Dense ``H = -sum_t z_coef_t O_t - sum_a gamma_a X_a``, batched over leading axes.

    ``z_coef`` has shape ``(..., n_z_terms)`` and ``gamma`` ``(..., n_qubits)``; the result
    ``(..., d, d)``. The diagonal is one matrix product over all basis states; each ``X_a``
    is a single fancy-indexed assignment (its matrix elements are the bit flips).
    """
    d = z_table.shape[0]
    batch = z_coef.shape[:-1]
    H = np.zeros((*batch, d, d))
    idx = np.arange(d)
    H[..., idx, idx] = -(z_coef @ z_table.T)
    for a in range(perms.shape[0]):
        H[..., idx, perms[a]] = -gamma[..., a, None]
    return H


def gibbs_eigh(H: np.ndarray):
    """Eigendecomposition of ``H`` (batched), spectrum shifted by its minimum.

    Returns ``(E, U, w, log_norm)`` with ``E >= 0`` the shifted energies, ``w = exp(-E)``
    (largest weight exactly 1, so nothing overflows) and ``log_norm = -E_min`` so that
    ``exp(-H) = exp(log_norm) U diag(w) U^T`` and ``log Tr exp(-H) = log_norm + log sum(w)``.
    """
    E, U = np.linalg.eigh(H)
    e_min = E[..., :1]
    E = E - e_min
    return E, U, np.exp(-E), -e_min[..., 0]


def derivative_kernel(E: np.ndarray) -> np.ndarray:
    """``K_ij = (e^{-E_i} - e^{-E_j}) / (E_i - E_j)``, ``-e^{-E_i}`` when ``E_i = E_j``.

    Written as ``-e^{-min(E_i, E_j)} (1 - e^{-|E_i - E_j|}) / |E_i - E_j|`` with ``expm1``:
    no cancellation for nearly degenerate pairs, no overflow, exact limit at degeneracy.
    """
    gap = np.abs(E[..., :, None] - E[..., None, :])
    ratio = np.ones_like(gap)
    np.divide(-np.expm1(-gap), gap, out=ratio, where=gap > 0)
    # e^{-min(E_i, E_j)} is the larger of the two weights: O(d) exponentials, not O(d**2).
    w = np.exp(-E)
    ratio *= np.maximum(w[..., :, None], w[..., None, :])
    return np.negative(ratio, out=ratio)


def weighted_traces(C: np.ndarray, U: np.ndarray, z_table: np.ndarray, perms: np.ndarray):
    """Traces of ``G = C U^T`` with every term: ``Tr[G O_t]`` (Z-type) and ``Tr[G X_a]``.

    Never forms ``G``: its diagonal is ``sum_l C[s, l] U[s, l]`` and the elements ``X_a``
    picks are ``G[s, flip_a(s)] = sum_l C[s, l] U[flip_a(s), l]``. Batched over leading axes.
    """
    diag = np.einsum("...sl,...sl->...s", C, U)
    tz = diag @ z_table
    tx = np.stack(
        [np.einsum("...sl,...sl->...", C, U[..., perms[a], :]) for a in range(perms.shape[0])],
        axis=-1,
    )
    return tz, tx


def gradient_traces(M: np.ndarray, E, U, z_table, perms, *, need_x: bool = True):
    """``Tr[G O_t]`` for ``G = U (K o (U^T diag(M) U)) U^T`` (``M`` diagonal, batched)."""
    B = np.swapaxes(U, -1, -2) @ (M[..., :, None] * U)
    B *= derivative_kernel(E)
    C = U @ B
    if need_x:
        return weighted_traces(C, U, z_table, perms)
    diag = np.einsum("...sl,...sl->...s", C, U)
    return diag @ z_table, None


def basis_weights(U: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Diagonal of ``U diag(w) U^T``: unnormalised probabilities of the basis states."""
    return np.einsum("...sk,...k->...s", U * U, w)
