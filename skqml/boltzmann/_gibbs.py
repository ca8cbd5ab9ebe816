"""Exact Gibbs states of transverse-field Ising Hamiltonians and their derivatives.

Conventions shared by the Boltzmann models:

- Qubit ``a`` carries the Pauli operators ``Z_a`` and ``X_a``. A data bit ``v_a = 0`` is the
  basis state ``|0>``, with ``Z_a`` eigenvalue ``z_a = +1``; ``v_a = 1`` has ``z_a = -1``
  (``z = 1 - 2 v``).
- Basis index ``s`` of ``n`` qubits: qubit 0 is the most significant bit. Visible qubits come
  first, so the index of a (visible, hidden) configuration is ``v_index * 2**n_hidden +
  h_index`` and a vector over basis states reshapes to ``(2**n_visible, 2**n_hidden)``.
  (This is internal: circuits in :mod:`skqml.circuits` are little-endian.)
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
from threadpoolctl import threadpool_limits

from ..simulator._memory import SimulationMemoryError

__all__ = [
    "MAX_QUBITS",
    "blas_threads",
    "check_dense_memory",
    "coupling_pairs",
    "derivative_kernel",
    "flip_permutations",
    "gibbs_eigh",
    "hamiltonian",
    "spin_table",
]

# eigh of a 2**14 x 2**14 matrix takes tens of minutes on a laptop core and 2 GiB per copy:
# beyond this a dense exact Gibbs state is not a tool, whatever the memory budget says.
MAX_QUBITS = 14
# float64 d x d matrices alive at once in a likelihood step: H, eigenvectors, the derivative
# kernel, two products, and LAPACK's divide-and-conquer workspace (about two more).
DENSE_MATRICES_PER_STEP = 7


# Up to this many qubits (matrices up to 4096 x 4096) BLAS and LAPACK run on one thread.
# Measured on the shared 2-core machine (load ~3): eigh of 256 x 256 took 0.31 s threaded
# against 0.01 s on one thread, 1024 x 1024 1.2 s against 0.4 s, 2048 x 2048 6.6 s against
# 2.6 s. On an idle machine two threads gain at most ~1.7x at the largest sizes.
_SINGLE_THREAD_MAX_QUBITS = 12


def blas_threads(n_qubits: int):
    """Context limiting BLAS to one thread for small matrices (see above)."""
    if n_qubits <= _SINGLE_THREAD_MAX_QUBITS:
        return threadpool_limits(limits=1, user_api="blas")
    return nullcontext()


def check_dense_memory(
    n_qubits: int, max_memory_mb: float, *, what: str, max_qubits: int = MAX_QUBITS, batch=1
):
    """Refuse, before allocating anything, a dense Gibbs state that is too large."""
    if n_qubits > max_qubits:
        raise ValueError(
            f"{what} has {n_qubits} qubits: the exact dense Gibbs state is limited to "
            f"{max_qubits} qubits (a 2**n x 2**n eigendecomposition per step; "
            f"{n_qubits} qubits would take hours)"
        )
    required = batch * DENSE_MATRICES_PER_STEP * 8 * 4.0**n_qubits / 1024**2
    if required > max_memory_mb:
        raise SimulationMemoryError(
            f"the exact Gibbs state of {what} ({n_qubits} qubits, dense 2**{n_qubits} x "
            f"2**{n_qubits} eigendecomposition)",
            required,
            max_memory_mb,
            hint="use fewer visible or hidden units",
        )


def spin_table(n_qubits: int) -> np.ndarray:
    """Z eigenvalues ``z_a(s)`` of every basis state, shape ``(2**n, n)``, qubit 0 first."""
    bits = (np.arange(2**n_qubits)[:, None] >> np.arange(n_qubits - 1, -1, -1)) & 1
    return (1 - 2 * bits).astype(np.float64)


def bits_to_index(bits: np.ndarray) -> np.ndarray:
    """Basis index of rows of 0/1 bits (first column most significant)."""
    n = bits.shape[1]
    weights = (1 << np.arange(n - 1, -1, -1)).astype(np.int64)
    return bits.astype(np.int64) @ weights


def index_to_bits(index: np.ndarray, n_bits: int) -> np.ndarray:
    """Rows of 0/1 bits of basis indices (inverse of :func:`bits_to_index`)."""
    return (np.asarray(index)[:, None] >> np.arange(n_bits - 1, -1, -1)) & 1


def flip_permutations(n_qubits: int) -> np.ndarray:
    """``perm[a, s]`` = index of ``s`` with qubit ``a`` flipped: where ``X_a`` sends it."""
    s = np.arange(2**n_qubits)
    masks = 1 << np.arange(n_qubits - 1, -1, -1)
    return s[None, :] ^ masks[:, None]


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
    lo = np.minimum(E[..., :, None], E[..., None, :])
    gap = np.abs(E[..., :, None] - E[..., None, :])
    ratio = np.ones_like(gap)
    nz = gap > 0
    ratio[nz] = -np.expm1(-gap[nz]) / gap[nz]
    return -np.exp(-lo) * ratio


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
