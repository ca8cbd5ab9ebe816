"""Depolarizing-noise mitigation of fidelity-kernel matrices (Hubregtsen et al. 2022).

Under global depolarizing noise of rate ``lambda`` the overlap circuit of a pair measures
``k~ = (1 - lambda) k + lambda / 2**n`` instead of the fidelity ``k``. A sample against itself
has ``k = 1``, so the measured diagonal ``k~(x, x) = 1 - lambda (2**n - 1) / 2**n`` tells the
noise rate, and the map inverts. Three estimates of the rate, as published in Section V of
Hubregtsen et al., "Training quantum embedding kernels on near-term quantum computers",
Phys. Rev. A 106, 042431 (2022), arXiv:2105.02276 (and as in PennyLane's
``qml.kernels.mitigate_depolarizing_noise``):

- ``"single"``: one rate for the whole device, from one measured diagonal entry;
- ``"average"``: one rate, the mean of the rates of all measured diagonal entries;
- ``"split_channel"``: one rate per sample, ``lambda_i``, from its own diagonal entry. The
  channel is split evenly between the two halves ``U(x_i)`` and ``U(x_j)^dagger`` of the
  circuit: each half depolarizes with ``1 - sqrt(1 - lambda_i)``, so the pair's rate is
  ``Lambda_ij = l_i + l_j - l_i l_j`` with ``l_i = 1 - sqrt(1 - lambda_i)``.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["METHODS", "mitigate_depolarizing_noise"]

METHODS = ("single", "average", "split_channel")


def mitigate_depolarizing_noise(K, n_qubits: int, method: str, *, diagonal=None) -> np.ndarray:
    """Undo global depolarizing noise in a measured fidelity-kernel matrix.

    Every entry becomes ``(K_ij - Lambda_ij / 2**n) / (1 - Lambda_ij)``, with the noise rate
    ``Lambda`` estimated from measured diagonal entries ``k~(x, x)`` (exactly 1 without
    noise): ``lambda = (1 - k~(x, x)) 2**n / (2**n - 1)``. This is the method of Hubregtsen
    et al. (Phys. Rev. A 106, 042431, 2022, Section V), and gives the same numbers as
    PennyLane's ``qml.kernels.mitigate_depolarizing_noise`` (whose ``use_entries`` is
    ``diagonal=np.diag(K)[use_entries]`` here). For noise that is exactly global
    depolarizing with one rate, every method recovers the noiseless matrix exactly.

    Parameters
    ----------
    K : array-like of shape (n_rows, n_cols)
        Measured kernel matrix: ``K(X, X)``, or ``K(X_test, X_train)``.
    n_qubits : int
        Number of qubits of the feature map.
    method : {"single", "average", "split_channel"}
        ``"single"``: one noise rate from the first value of ``diagonal``. ``"average"``:
        one noise rate, the mean over all values of ``diagonal``. ``"split_channel"``: one
        rate per sample; needs the diagonal entry of every row and every column.
    diagonal : array-like or tuple of two array-likes, default=None
        Measured ``k~(x, x)``. ``None``: ``np.diag(K)`` (``K`` square, its diagonal measured,
        as PennyLane). A 1-D array: the entries to estimate the rate from (``"single"``,
        ``"average"``; for a rectangular ``K(X_test, X_train)`` pass the training samples'
        values), or those of the rows of a square ``K`` (``"split_channel"``). A pair
        ``(diagonal_rows, diagonal_cols)``: ``"split_channel"`` on a rectangular ``K``.

    Returns
    -------
    K_mitigated : ndarray of shape (n_rows, n_cols)
        A new array; entries are not clipped, so they may leave ``[0, 1]`` by the shot noise
        that the division amplifies.

    Raises
    ------
    ValueError
        When a measured diagonal value used is at or below ``1 / 2**n`` (the fully
        depolarized value): the rate is then 1 and the map cannot be inverted.

    Examples
    --------
    Global depolarizing noise of rate 0.2 on 2 qubits, applied in closed form, is undone
    exactly by each method:

    >>> import numpy as np
    >>> from skqml.kernels import mitigate_depolarizing_noise
    >>> K = np.array([[1.0, 0.5], [0.5, 1.0]])
    >>> noisy = 0.8 * K + 0.2 / 4
    >>> noisy
    array([[0.85, 0.45],
           [0.45, 0.85]])
    >>> for method in ("single", "average", "split_channel"):
    ...     print(method, mitigate_depolarizing_noise(noisy, 2, method).round(12).tolist())
    single [[1.0, 0.5], [0.5, 1.0]]
    average [[1.0, 0.5], [0.5, 1.0]]
    split_channel [[1.0, 0.5], [0.5, 1.0]]

    A test/train rectangle, with the training samples' measured diagonal (and, for
    ``"split_channel"``, the test samples' too):

    >>> K_test = np.array([[0.45, 0.65]])
    >>> mitigate_depolarizing_noise(K_test, 2, "average", diagonal=[0.85, 0.85])
    array([[0.5 , 0.75]])
    >>> mitigate_depolarizing_noise(K_test, 2, "split_channel", diagonal=([0.85], [0.85, 0.85]))
    array([[0.5 , 0.75]])
    """
    K = np.asarray(K, dtype=np.float64)
    if K.ndim != 2:
        raise ValueError(f"K must be a 2-D kernel matrix, got shape {K.shape}")
    dim = _dimension(n_qubits)
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, METHODS))}; got {method!r}")
    if method == "split_channel":
        rows, cols = _split_diagonals(K, diagonal)
        return apply_noise_rate(K, pair_noise_rates(rows, cols, dim), dim)
    return apply_noise_rate(K, global_noise_rate(_one_diagonal(K, diagonal), method, dim), dim)


def global_noise_rate(diagonal, method: str, dim: int) -> float:
    """One depolarizing rate from measured diagonal entries (``"single"``: the first)."""
    diagonal = np.atleast_1d(np.asarray(diagonal, dtype=np.float64))
    if diagonal.ndim != 1 or diagonal.size == 0:
        raise ValueError("mitigation needs at least one measured diagonal entry k(x, x)")
    used = diagonal[:1] if method == "single" else diagonal
    if used.mean() <= 1 / dim:
        raise ValueError(
            f"cannot mitigate with method={method!r}: the measured diagonal "
            f"{'entry' if method == 'single' else 'mean'} {used.mean():.4g} is at or below "
            f"1/2**n_qubits = {1 / dim:.4g}, the fully depolarized value"
        )
    # The mean of the per-entry rates equals the rate of the mean entry (the map is affine).
    return float(np.mean((1.0 - used) * dim / (dim - 1)))


def split_noise_rates(diagonal, dim: int) -> np.ndarray:
    """Per-sample rate of one half of the overlap circuit, ``1 - sqrt(1 - lambda_i)``."""
    diagonal = np.asarray(diagonal, dtype=np.float64)
    if np.any(diagonal <= 1 / dim):
        raise ValueError(
            "cannot mitigate with method='split_channel': a measured diagonal entry "
            f"({diagonal.min():.4g}) is at or below 1/2**n_qubits = {1 / dim:.4g}, the fully "
            "depolarized value"
        )
    effective = np.clip((1.0 - diagonal) * dim / (dim - 1), 0.0, 1.0)
    return 1.0 - np.sqrt(1.0 - effective)


def pair_noise_rates(rows, cols, dim: int) -> np.ndarray:
    """``Lambda_ij = l_i + l_j - l_i l_j``: both halves' channels composed."""
    li, lj = split_noise_rates(rows, dim), split_noise_rates(cols, dim)
    return li[:, None] + lj[None, :] - np.outer(li, lj)


def apply_noise_rate(K: np.ndarray, rate, dim: int) -> np.ndarray:
    return (K - rate / dim) / (1.0 - rate)


def _dimension(n_qubits) -> int:
    if (
        isinstance(n_qubits, bool)
        or not isinstance(n_qubits, numbers.Integral | np.integer)
        or n_qubits < 1
    ):
        raise ValueError(f"n_qubits must be a positive integer, got {n_qubits!r}")
    return 2 ** int(n_qubits)


def _one_diagonal(K: np.ndarray, diagonal) -> np.ndarray:
    if diagonal is None:
        return _square_diagonal(K)
    if isinstance(diagonal, tuple):
        raise ValueError(
            "a (rows, cols) pair of diagonals is for method='split_channel'; 'single' and "
            "'average' take one 1-D array of measured k(x, x)"
        )
    diagonal = np.asarray(diagonal, dtype=np.float64)
    if diagonal.ndim != 1:
        raise ValueError(f"diagonal must be 1-D, got shape {diagonal.shape}")
    return diagonal


def _split_diagonals(K: np.ndarray, diagonal) -> tuple[np.ndarray, np.ndarray]:
    if diagonal is None:
        rows = cols = _square_diagonal(K)
    elif isinstance(diagonal, tuple):
        if len(diagonal) != 2:
            raise ValueError("diagonal must be one array or a (rows, cols) pair of arrays")
        rows, cols = (np.asarray(d, dtype=np.float64) for d in diagonal)
    else:
        if K.shape[0] != K.shape[1]:
            raise ValueError(
                "method='split_channel' on a rectangular K needs diagonal=(rows, cols): the "
                "measured k(x, x) of the row samples and of the column samples"
            )
        rows = cols = np.asarray(diagonal, dtype=np.float64)
    if rows.shape != (K.shape[0],) or cols.shape != (K.shape[1],):
        raise ValueError(
            f"diagonal shapes {rows.shape} and {cols.shape} do not match K of shape {K.shape}"
        )
    return rows, cols


def _square_diagonal(K: np.ndarray) -> np.ndarray:
    if K.shape[0] != K.shape[1]:
        raise ValueError(
            f"K of shape {K.shape} is not square: pass the measured k(x, x) as diagonal="
        )
    return np.diag(K).copy()
