"""Kernel-target alignment: how well a Gram matrix matches the labels.

The alignment of two matrices is their cosine in the Frobenius inner product,
``A(K, T) = <K, T>_F / (||K||_F ||T||_F)``, with ``T`` the "ideal" kernel of the targets
(Cristianini et al. 2001). Centered alignment (Cortes, Mohri & Rostamizadeh 2012) first
centers both matrices in feature space, ``K_c = H K H`` with ``H = I - 1 1^T / n``, so that a
constant offset of the kernel (which an SVM's intercept absorbs) counts for nothing; it is
the criterion Hubregtsen et al. (2022) maximise to train quantum embedding kernels.
"""

from __future__ import annotations

from functools import partial

import numpy as np
from sklearn.base import clone
from sklearn.utils import check_array, column_or_1d
from sklearn.utils.multiclass import type_of_target

from .._optim import History, optimize
from ..backends import SamplingBackend, compute_uncompute, resolve_backend
from ..backends._sampling import gram_pair_rows
from ..circuits import bandwidth_as_weight
from ..simulator import parameter_shift_vjp, simulate, state_vjp

__all__ = ["kernel_alignment"]

_TASKS = ("auto", "classification", "regression")


def kernel_alignment(K, y, *, centered: bool = True, task: str = "auto") -> float:
    """Kernel-target alignment of a Gram matrix with the targets ``y``.

    ``A = <K_c, T_c>_F / (||K_c||_F ||T_c||_F)`` with ``K_c = H K H``, ``T_c = H T H`` and
    ``H = I - 1 1^T / n`` (centered alignment, Cortes, Mohri & Rostamizadeh 2012), or
    ``<K, T>_F / (||K||_F ||T||_F)`` with ``centered=False`` (Cristianini et al. 2001). The
    target matrix ``T`` is:

    - classification with ``c >= 2`` classes: ``T_ij = 1`` when ``y_i == y_j`` and
      ``-1 / (c - 1)`` otherwise. For two classes that is ``y y^T`` with the labels mapped
      to ``-1`` and ``+1`` (Cristianini et al.); for more, the multi-class target of
      Cortes et al. Centered, it gives the same alignment as the one-hot target ``Y Y^T``
      (the two differ by a constant matrix, which centering removes).
    - regression: ``T = z z^T`` with the standardised targets ``z = (y - mean(y)) /
      std(y)``.

    Parameters
    ----------
    K : array-like of shape (n_samples, n_samples)
        Gram matrix of the samples (symmetric).
    y : array-like of shape (n_samples,)
        Class labels or real targets.
    centered : bool, default=True
        Center ``K`` and ``T`` first (Cortes et al.); False gives the uncentered alignment
        of Cristianini et al.
    task : {"auto", "classification", "regression"}, default="auto"
        How to read ``y``. ``"auto"``: real-valued targets (sklearn's ``type_of_target``
        ``"continuous"``) are a regression, anything else (integers, strings) class labels.

    Returns
    -------
    alignment : float
        In ``[-1, 1]``; ``0.0`` when ``K`` (centered, with ``centered=True``) is zero: a
        constant kernel carries no information about the targets.

    Examples
    --------
    >>> import numpy as np
    >>> from skqml.kernels import kernel_alignment
    >>> y = np.array([0, 0, 1, 1])
    >>> ideal = np.equal.outer(y, y).astype(float)  # the best kernel for these labels
    >>> kernel_alignment(ideal, y)
    1.0
    >>> round(kernel_alignment(np.eye(4), y), 4)  # every sample its own class
    0.5774
    >>> round(kernel_alignment(np.ones((4, 4)) + np.eye(4), y, centered=False), 4)
    0.189
    """
    K, target = _check_inputs(K, y, task)
    return _alignment_and_gradient(K, target, centered, gradient=False)[0]


def _check_inputs(K, y, task: str) -> tuple[np.ndarray, np.ndarray]:
    """``K`` as a square float array, and the target matrix of ``y`` (see
    :func:`kernel_alignment`)."""
    K = check_array(K, dtype=np.float64, input_name="K")
    if K.shape[0] != K.shape[1]:
        raise ValueError(f"K must be a square Gram matrix, got shape {K.shape}")
    y = column_or_1d(y, warn=True)
    if y.shape[0] != K.shape[0]:
        raise ValueError(
            f"K and y must have the same number of samples, got K of shape {K.shape} and "
            f"{y.shape[0]} targets"
        )
    return K, target_matrix(y, task)


def target_matrix(y, task: str = "auto") -> np.ndarray:
    """The ideal kernel ``T`` of the targets ``y`` (see :func:`kernel_alignment`).

    Examples
    --------
    >>> from skqml.kernels._alignment import target_matrix
    >>> target_matrix([0, 1, 2]).round(2).tolist()
    [[1.0, -0.5, -0.5], [-0.5, 1.0, -0.5], [-0.5, -0.5, 1.0]]
    """
    if task not in _TASKS:
        raise ValueError(f"task must be one of {_TASKS}, got {task!r}")
    y = np.asarray(y)
    if task == "auto":
        task = "regression" if type_of_target(y) == "continuous" else "classification"
    if task == "regression":
        y = y.astype(np.float64)
        if not np.all(np.isfinite(y)):
            raise ValueError("the targets contain NaN or infinity")
        spread = y.std()
        if not spread > 0:
            raise ValueError("the alignment needs targets that vary: y is constant")
        z = (y - y.mean()) / spread
        return np.outer(z, z)
    classes, codes = np.unique(y, return_inverse=True)
    if classes.shape[0] < 2:
        raise ValueError(
            f"the alignment needs at least 2 classes, got 1 class: {classes.tolist()}"
        )
    same = codes[:, None] == codes[None, :]
    return np.where(same, 1.0, -1.0 / (classes.shape[0] - 1))


def _center(M: np.ndarray) -> np.ndarray:
    """``H M H`` with ``H = I - 1 1^T / n``, without forming ``H``."""
    return M - M.mean(axis=0)[None, :] - M.mean(axis=1)[:, None] + M.mean()


def _alignment_and_gradient(
    K: np.ndarray, target: np.ndarray, centered: bool, gradient: bool = True
) -> tuple[float, np.ndarray | None]:
    """The alignment and its gradient ``G = dA/dK`` (entries of ``K`` independent).

    With ``a = <K_c, T_c>``, ``b = ||K_c||``, ``c = ||T_c||``: ``<H K H, T_c> = <K, T_c>``
    and ``d ||H K H||^2 / dK = 2 H K H`` (``H`` is a symmetric projector), so
    ``G = T_c / (b c) - A K_c / b**2``. ``G`` is zero (and ``A`` is 0) when ``b`` is.
    """
    Kc, Tc = (_center(K), _center(target)) if centered else (K, target)
    b, c = np.linalg.norm(Kc), np.linalg.norm(Tc)
    if not b > 0:
        return 0.0, (np.zeros_like(K) if gradient else None)
    alignment = float(np.vdot(Kc, Tc) / (b * c))
    if not gradient:
        return alignment, None
    return alignment, Tc / (b * c) - alignment * Kc / b**2


# ----------------------------------------------------------------------------------------------
# Training a fidelity kernel by alignment
# ----------------------------------------------------------------------------------------------
def fidelity_objective(
    circuit, X: np.ndarray, params: np.ndarray, objective, *, max_memory_mb=None
) -> tuple[float, np.ndarray]:
    """A function of the fidelity Gram matrix of ``circuit`` at ``params``, and its gradient.

    ``K_ij = |a_ij|^2`` with ``a_ij = <psi_i|psi_j>``; ``objective(K) -> (value, G)`` gives
    the value and ``G = d value / dK`` (entries independent, ``G`` symmetric). The cotangent
    of state ``k`` is ``lambda_k = d value / d conj(psi_k) = 2 sum_i G_ik a_ik psi_i``, so
    ``d value / dtheta = sum_k 2 Re <lambda_k|dpsi_k/dtheta>``: one
    :func:`~skqml.simulator.state_vjp` sweep gives it for every parameter.

    Parameters
    ----------
    circuit : Circuit
        Encoding circuit whose weights are ``params``.
    X : ndarray of shape (n_samples, n_features)
        Samples.
    params : ndarray of shape (circuit.n_weights,)
        Weights.
    objective : callable
        ``objective(K) -> (value, G)``, ``K`` and ``G`` of shape ``(n_samples, n_samples)``.
    max_memory_mb : float, default=None
        Memory budget of the simulations.

    Returns
    -------
    value : float
    gradient : ndarray of shape (circuit.n_weights,)
    """
    states = simulate(circuit, X, params, max_memory_mb=max_memory_mb)
    amplitudes = states.conj() @ states.T  # a_ij = <psi_i|psi_j>
    K = amplitudes.real**2 + amplitudes.imag**2
    value, G = objective(K)
    weighted = G * amplitudes  # M_ik = G_ik a_ik

    def cotangent(chunk_states, rows):
        return 2.0 * (weighted[:, rows].T @ states)

    _, gradient = state_vjp(circuit, X, params, cotangent, max_memory_mb=max_memory_mb)
    return value, gradient


def fidelity_objective_by_shifts(
    circuit,
    X: np.ndarray,
    params: np.ndarray,
    objective,
    backend,
    *,
    needed: np.ndarray | None = None,
    max_memory_mb=None,
) -> tuple[float, np.ndarray]:
    """:func:`fidelity_objective` from measurements, for backends without states.

    Each entry above the diagonal, ``K_ij`` with ``i < j``, is estimated as the sampling
    backends estimate kernels: the all-zeros frequency of the overlap circuit
    ``U(x_j)^dagger U(x_i)`` (:func:`~skqml.backends.compute_uncompute`); the diagonal is 1.
    A weight enters both halves of every overlap circuit, so ``dK_ij/dtheta`` comes from the
    parameter-shift rule applied to each of its gate occurrences in turn
    (:func:`~skqml.simulator.parameter_shift_vjp`), and ``d value / dtheta = sum_{i<j} 2 G_ij
    dK_ij/dtheta`` with ``G = d value / dK`` (symmetric). Every estimate, shifted or not, is
    one batch of the pairs through ``backend.zero_frequencies``.

    Parameters
    ----------
    circuit : Circuit
        Encoding circuit whose weights are ``params``.
    X : ndarray of shape (n_samples, n_features)
        Samples.
    params : ndarray of shape (circuit.n_weights,)
        Weights.
    objective : callable
        As in :func:`fidelity_objective`.
    backend : SamplingBackend
        Where the overlap circuits run.
    needed : ndarray of bool, shape (n_samples, n_samples), optional
        The entries above the diagonal that ``objective`` reads (and differentiates); the
        others are neither run nor estimated (they are 0 in ``K`` and their ``G`` must be
        0). Default: all.
    max_memory_mb : float, default=None
        Memory budget of the backend's local work.

    Returns
    -------
    value : float
    gradient : ndarray of shape (circuit.n_weights,)
    """
    ia, ib, pair_X = gram_pair_rows(X)
    if needed is not None:
        keep = np.asarray(needed, dtype=bool)[ia, ib]
        ia, ib, pair_X = ia[keep], ib[keep], pair_X[keep]
    overlap_circuit = compute_uncompute(circuit, X.shape[1])

    def estimates(run_circuit):  # one column of all-zeros frequencies, one row per pair
        run = backend.zero_frequencies(run_circuit, pair_X, params, max_memory_mb=max_memory_mb)
        return run[:, None]

    K = np.eye(X.shape[0])
    K[ia, ib] = K[ib, ia] = estimates(overlap_circuit)[:, 0]
    value, G = objective(K)
    cotangent = 2.0 * G[ia, ib][:, None]
    gradient = parameter_shift_vjp(estimates, overlap_circuit, pair_X, params, cotangent)
    return value, gradient


def alignment_and_gradient(
    circuit,
    X: np.ndarray,
    params: np.ndarray,
    target: np.ndarray,
    *,
    centered=True,
    max_memory_mb=None,
) -> tuple[float, np.ndarray]:
    """Alignment of the fidelity Gram matrix of ``circuit`` at ``params`` and its gradient
    (:func:`fidelity_objective` of :func:`kernel_alignment`).

    Parameters
    ----------
    circuit : Circuit
        Encoding circuit whose weights are ``params``.
    X : ndarray of shape (n_samples, n_features)
        Training samples.
    params : ndarray of shape (circuit.n_weights,)
        Weights.
    target : ndarray of shape (n_samples, n_samples)
        Target matrix (:func:`target_matrix`).
    centered : bool, default=True
        Centered alignment.
    max_memory_mb : float, default=None
        Memory budget of the simulations.

    Returns
    -------
    alignment : float
    gradient : ndarray of shape (circuit.n_weights,)
    """
    objective = partial(_alignment_and_gradient, target=target, centered=centered)
    return fidelity_objective(circuit, X, params, objective, max_memory_mb=max_memory_mb)


def alignment_and_gradient_by_shifts(
    circuit,
    X: np.ndarray,
    params: np.ndarray,
    target: np.ndarray,
    backend,
    *,
    centered=True,
    max_memory_mb=None,
) -> tuple[float, np.ndarray]:
    """:func:`alignment_and_gradient` from overlap-circuit estimates and parameter shifts
    (:func:`fidelity_objective_by_shifts`), for backends without states.

    Parameters
    ----------
    circuit : Circuit
        Encoding circuit whose weights are ``params``.
    X : ndarray of shape (n_samples, n_features)
        Training samples.
    params : ndarray of shape (circuit.n_weights,)
        Weights.
    target : ndarray of shape (n_samples, n_samples)
        Target matrix (:func:`target_matrix`).
    backend : SamplingBackend
        Where the overlap circuits run.
    centered : bool, default=True
        Centered alignment.
    max_memory_mb : float, default=None
        Memory budget of the backend's local work.

    Returns
    -------
    alignment : float
    gradient : ndarray of shape (circuit.n_weights,)
    """
    objective = partial(_alignment_and_gradient, target=target, centered=centered)
    return fidelity_objective_by_shifts(
        circuit, X, params, objective, backend, max_memory_mb=max_memory_mb
    )


def train_alignment(
    kernel,
    X: np.ndarray,
    y,
    *,
    task: str,
    optimizer: str = "auto",
    max_iter: int = 50,
    learning_rate: float = 0.05,
    tol: float = 1e-5,
    n_iter_no_change: int = 10,
    verbose: int = 0,
):
    """A copy of ``kernel`` whose weights and bandwidth maximise the centered alignment of
    its training Gram matrix ``K(X, X)`` with ``y`` (Hubregtsen et al. 2022).

    The parameters are the feature map's weights and ``log(bandwidth)`` (positive, scale
    free), starting from the kernel's weights and numeric bandwidth. On an exact backend the
    gradients are exact (:func:`alignment_and_gradient` on ``bandwidth_as_weight`` of the
    circuit); on a sampling backend the Gram matrix is estimated from overlap circuits on
    the backend and differentiated by parameter shift
    (:func:`alignment_and_gradient_by_shifts`).

    Parameters
    ----------
    kernel : FidelityQuantumKernel
        With a numeric bandwidth (see ``with_fixed_bandwidth``) and resolvable weights.
    X : ndarray of shape (n_samples, n_features)
        Training samples.
    y : array-like of shape (n_samples,)
        Targets.
    task : {"classification", "regression"}
        How to read ``y`` (see :func:`kernel_alignment`).
    optimizer : {"auto", "lbfgs", "adam"}, default="auto"
        Optimiser of :mod:`skqml._optim`; ``"auto"``: L-BFGS-B on an exact backend, Adam
        on a sampling one (whose estimates are noisy).
    max_iter : int, default=50
        Maximum number of iterations.
    learning_rate : float, default=0.05
        Adam's step size.
    tol : float, default=1e-5
        L-BFGS-B's ``gtol``; for Adam, the alignment improvement that counts in the
        stopping rule (``n_iter_no_change`` iterations without one stop it).
    n_iter_no_change : int, default=10
        Adam's stopping rule.
    verbose : int, default=0
        Print every iteration.

    Returns
    -------
    kernel : FidelityQuantumKernel
        A copy with ``weights`` (when the feature map has any) and ``bandwidth`` trained.
    history : skqml._optim.History
        The iterations; its losses are minus the alignment.
    """
    n_features = X.shape[1]
    weights = kernel.circuit_weights(n_features)
    circuit = bandwidth_as_weight(kernel.circuit(n_features))
    target = target_matrix(y, task)
    bandwidth = float(kernel.bandwidth)
    budget = kernel.max_memory_mb
    backend = resolve_backend(kernel.backend)
    if backend.exact:
        value_and_gradient = alignment_and_gradient
    elif isinstance(backend, SamplingBackend):
        value_and_gradient = partial(alignment_and_gradient_by_shifts, backend=backend)
    else:
        raise ValueError(
            f"kernel training needs state gradients or overlap-circuit estimates, and "
            f"{backend!r} gives neither: use an exact backend or a SamplingBackend"
        )
    if optimizer == "auto":
        optimizer = "lbfgs" if backend.exact else "adam"

    def fun(params, rows=None):
        point = np.append(params[:-1], np.exp(params[-1]))
        alignment, grad = value_and_gradient(circuit, X, point, target, max_memory_mb=budget)
        grad[-1] *= point[-1]  # d/d log(b) = b d/db
        return -alignment, -grad

    start = np.append(weights, np.log(bandwidth))
    history = History(tol, n_iter_no_change, verbose)
    params = optimize(
        optimizer,
        fun,
        start,
        X.shape[0],
        history,
        max_iter=max_iter,
        learning_rate=learning_rate,
        gtol=tol,
    )
    trained = clone(kernel).set_params(bandwidth=float(np.exp(params[-1])))
    if weights.size:
        trained.set_params(weights=np.array(params[:-1]))
    return trained, history
