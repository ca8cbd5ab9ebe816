"""Optimisers shared by every trained estimator: Adam, SGD, L-BFGS-B, SPSA and one stopping rule.

The variational models (``VQC``, ``VQR``, ``DataReuploadingClassifier``) and the generative
models (``QuantumBoltzmannMachine``, ``QBMClassifier``, ``BornMachine``) train through this
module only, so an optimiser or a stopping rule behaves the same in every estimator.

An objective is ``fun(params, rows) -> (mean loss, mean gradient)`` over the training rows
``rows`` (an integer index array; models without training rows, such as ``BornMachine``,
ignore it). :func:`optimize` dispatches on the estimator's ``optimizer`` name:

``"adam"``, ``"sgd"``
    :func:`descent`: epochs of mini-batch steps (batches reshuffled every epoch by ``rng``; a
    full batch is neither shuffled nor drawn from ``rng``) with the :class:`Adam` or
    :class:`SGD` rule. Adam is Kingma & Ba (2015) with bias correction in the form of
    scikit-learn's ``AdamOptimizer`` (the bias corrections folded into the step size, ``eps``
    added to ``sqrt(v)``). Its moments live in an :class:`Adam` object that the estimator
    keeps, so that ``partial_fit`` and ``warm_start`` continue where the last call stopped.
``"lbfgs"``
    :func:`lbfgs`: scipy's L-BFGS-B on the full batch.
``"spsa"``
    :func:`spsa`: simultaneous perturbation stochastic approximation (two loss evaluations a
    step, for noisy backends).
``"interval"``
    :func:`interval_descent`, the training loop of Bowles et al. (2024): Adam steps on
    mini-batches drawn with replacement, stopped when the mean loss of the last
    ``convergence_interval`` steps no longer differs from that of the interval before by
    more than its standard error. Its iterations are steps, and ``n_iter_no_change`` of an
    estimator is the ``convergence_interval``.

The models of the study train with that loop.

Every optimiser reports each iteration (an epoch of :func:`descent`) to a :class:`History`:
the loss curve, the best parameters, ``verbose`` printing and a stopping rule like
scikit-learn's MLP: stop once ``n_iter_no_change`` consecutive iterations have not improved
the best loss (or, with early stopping, the best validation score) by more than ``tol`` (an
improvement of exactly ``tol`` does not count, where the MLP counts it).
:func:`warn_if_not_converged` issues the :class:`~sklearn.exceptions.ConvergenceWarning`.

What each estimator uses:

============================  ======================  ==========================================
estimator                     optimizers              ``tol`` means
============================  ======================  ==========================================
VQC, VQR, DataReuploading     adam (default), lbfgs,  stopping rule; L-BFGS-B ``ftol`` and
                              spsa; DataReuploading:  ``gtol``; early stopping on a validation
                              also interval           score; ``partial_fit``: one Adam epoch
QuantumBoltzmannMachine       adam (default), sgd,    stopping rule; L-BFGS-B ``gtol``;
                              lbfgs                   ``partial_fit``: one epoch
QBMClassifier                 adam (default), sgd,    stopping rule; L-BFGS-B ``gtol``
                              lbfgs
BornMachine                   lbfgs (default), adam   stopping rule (``n_iter_no_change``,
                                                      full batch); L-BFGS-B ``gtol``
============================  ======================  ==========================================
"""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize
from sklearn.exceptions import ConvergenceWarning

__all__ = [
    "SGD",
    "Adam",
    "History",
    "descent",
    "interval_descent",
    "lbfgs",
    "optimize",
    "spsa",
    "warn_if_not_converged",
]


class Adam:
    """Adam update rule (Kingma & Ba 2015) with its moments, kept between calls.

    Step ``t`` with gradient ``g``::

        m = beta1 m + (1 - beta1) g
        v = beta2 v + (1 - beta2) g**2
        update = learning_rate sqrt(1 - beta2**t) / (1 - beta1**t) m / (sqrt(v) + epsilon)

    the form of scikit-learn's ``AdamOptimizer`` (Kingma & Ba, end of Section 2): the bias
    corrections of ``m`` and ``v`` folded into the step size.

    Parameters
    ----------
    beta1, beta2 : float, default=0.9, 0.999
        Decay rates of the first and second moment estimates.
    epsilon : float, default=1e-8
        Added to ``sqrt(v)`` for numerical stability.

    Attributes
    ----------
    m, v : ndarray or None
        First and second moment estimates (``None`` before the first step).
    t : int
        Number of steps taken.
    """

    def __init__(self, beta1: float = 0.9, beta2: float = 0.999, epsilon: float = 1e-8):
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.m: np.ndarray | None = None
        self.v: np.ndarray | None = None
        self.t = 0

    def update(self, grad: np.ndarray, learning_rate: float) -> np.ndarray:
        """Advance the moments by ``grad`` and return the step to subtract from the parameters.

        Parameters
        ----------
        grad : ndarray
            Gradient at the current parameters.
        learning_rate : float
            Base step size.

        Returns
        -------
        step : ndarray of the shape of ``grad``
        """
        if self.m is None or self.m.shape != grad.shape:
            # New (or resized) parameters: the old moments describe other parameters.
            self.m, self.v, self.t = np.zeros_like(grad), np.zeros_like(grad), 0
        self.t += 1
        self.m = self.beta1 * self.m + (1 - self.beta1) * grad
        self.v = self.beta2 * self.v + (1 - self.beta2) * grad**2
        step = learning_rate * np.sqrt(1 - self.beta2**self.t) / (1 - self.beta1**self.t)
        return step * self.m / (np.sqrt(self.v) + self.epsilon)


class SGD:
    """Plain gradient descent rule: the step is ``learning_rate * grad``."""

    def update(self, grad: np.ndarray, learning_rate: float) -> np.ndarray:
        """Return the step to subtract from the parameters.

        Parameters
        ----------
        grad : ndarray
            Gradient at the current parameters.
        learning_rate : float
            Step size.

        Returns
        -------
        step : ndarray of the shape of ``grad``
        """
        return learning_rate * grad


@dataclass
class History:
    """Loss curve, best parameters and the stopping rule of one training run.

    An iteration improves when its loss is below the best loss so far by more than ``tol``
    (with ``validation_fn``: when its validation score is above the best score by more than
    ``tol``); training stops after ``n_iter_no_change`` consecutive iterations without
    improvement (as scikit-learn's MLP, except that an improvement of exactly ``tol`` does
    not count here).

    Parameters
    ----------
    tol : float
        Improvement below which an iteration does not count as one.
    n_iter_no_change : int
        Iterations without improvement before stopping.
    verbose : int, default=0
        Print iteration, loss (and validation score) and elapsed time.
    validation_fn : callable, default=None
        ``validation_fn(params) -> score`` (higher is better). When given, the stopping rule
        and ``best_params`` follow the validation score instead of the loss.

    Attributes
    ----------
    loss_curve : list of float
        Loss of every iteration.
    validation_scores : list of float
        Validation score of every iteration (empty without ``validation_fn``).
    best_loss, best_score : float
        Lowest loss and highest validation score so far.
    best_params : ndarray or None
        Parameters of the best loss (with ``validation_fn``: of the best score).
    converged : bool
        Whether training ended by a convergence criterion rather than ``max_iter``.
    """

    tol: float
    n_iter_no_change: int
    verbose: int = 0
    validation_fn: Callable[[np.ndarray], float] | None = None
    loss_curve: list[float] = field(default_factory=list)
    validation_scores: list[float] = field(default_factory=list)
    best_loss: float = np.inf
    best_score: float = -np.inf
    best_params: np.ndarray | None = None
    converged: bool = False
    _no_improvement: int = 0
    _start: float = field(default_factory=time.perf_counter)

    def record(self, params: np.ndarray, loss: float) -> bool:
        """Record one iteration.

        Parameters
        ----------
        params : ndarray
            Parameters after the iteration.
        loss : float
            Training loss of the iteration.

        Returns
        -------
        stop : bool
            True when the stopping rule says to stop (``converged`` is then True).
        """
        self.loss_curve.append(float(loss))
        if self.validation_fn is not None:
            score = float(self.validation_fn(params))
            self.validation_scores.append(score)
            improved = score > self.best_score + self.tol
            if score > self.best_score:
                self.best_score, self.best_params = score, params.copy()
        else:
            improved = loss < self.best_loss - self.tol
        if loss < self.best_loss:
            self.best_loss = float(loss)
            if self.validation_fn is None:
                self.best_params = params.copy()
        self._no_improvement = 0 if improved else self._no_improvement + 1
        if self.verbose:
            elapsed = time.perf_counter() - self._start
            extra = (
                f", validation score = {self.validation_scores[-1]:.6f}"
                if self.validation_fn is not None
                else ""
            )
            print(
                f"Iteration {len(self.loss_curve)}, loss = {loss:.8f}{extra}, "
                f"elapsed {elapsed:.2f} s"
            )
        if self._no_improvement >= self.n_iter_no_change:
            self.converged = True
            return True
        return False


def descent(
    fun,
    params: np.ndarray,
    n_samples: int,
    history: History,
    *,
    rule: Adam | SGD,
    learning_rate: float,
    batch_size: int | None,
    max_iter: int,
    rng,
) -> np.ndarray:
    """Mini-batch gradient descent; one iteration is one epoch.

    Parameters
    ----------
    fun : callable
        ``fun(params, rows) -> (mean loss, mean gradient)`` over the rows ``rows``.
    params : ndarray
        Starting parameters (not modified).
    n_samples : int
        Number of training rows.
    history : History
        Receives the epoch loss, the size-weighted mean of the mini-batch losses.
    rule : Adam or SGD
        Update rule; an :class:`Adam` keeps its moments for the next call.
    learning_rate : float
        Step size.
    batch_size : int or None
        Mini-batch size; ``None`` (or at least ``n_samples``): the full batch, in order.
    max_iter : int
        Maximum number of epochs.
    rng : numpy Generator or RandomState
        Shuffles the rows every epoch (not used for a full batch).

    Returns
    -------
    params : ndarray
    """
    params = np.array(params, dtype=np.float64)
    full = batch_size is None or batch_size >= n_samples
    all_rows = np.arange(n_samples)
    for _ in range(max_iter):
        if full:
            batches = [all_rows]
        else:
            order = rng.permutation(n_samples)
            batches = [order[i : i + batch_size] for i in range(0, n_samples, batch_size)]
        total = 0.0
        for rows in batches:
            loss, grad = fun(params, rows)
            total += loss * len(rows)
            params = params - rule.update(grad, learning_rate)
        if history.record(params, total / n_samples):
            break
    return params


@dataclass
class IntervalRun:
    """The outcome of :func:`interval_descent`."""

    params: np.ndarray
    loss_curve: list[float]
    converged: bool


def interval_descent(
    fun,
    params: np.ndarray,
    n_samples: int,
    *,
    rule: Adam,
    learning_rate: float,
    batch_size: int,
    max_steps: int,
    convergence_interval: int,
    rng: np.random.Generator,
) -> IntervalRun:
    """The training loop of Bowles et al. (2024) (``model_utils.train`` of their code).

    Each step draws ``batch_size`` rows with replacement, evaluates ``fun(params, rows) ->
    (mean loss, mean gradient)`` and takes a step of ``rule``; the loss curve holds each
    step's mini-batch loss (at the parameters before the step). After more than
    ``2 * convergence_interval`` steps, training stops when the means ``m1`` of the last
    interval's losses and ``m2`` of the interval before satisfy
    ``|m2 - m1| <= std(last interval) / sqrt(convergence_interval) / 2``. A loss that is not
    finite stops it unconverged.

    Parameters
    ----------
    fun : callable
        ``fun(params, rows) -> (mean loss, mean gradient)``.
    params : ndarray
        Starting parameters (not modified).
    n_samples : int
        Number of training rows.
    rule : Adam
        Update rule.
    learning_rate : float
        Step size.
    batch_size : int
        Rows per step, drawn with replacement.
    max_steps : int
        Maximum number of steps.
    convergence_interval : int
        Steps per interval of the convergence test.
    rng : numpy Generator
        Draws the mini-batches.

    Returns
    -------
    IntervalRun
        ``params``, ``loss_curve`` and whether the test was passed (``converged``).

    Examples
    --------
    >>> import numpy as np
    >>> from skqml._optim import Adam, interval_descent
    >>> y = np.random.default_rng(1).normal(3.0, 1.0, size=200)
    >>> def fun(p, rows):  # the mean squared distance of p to the rows' targets
    ...     r = p[0] - y[rows]
    ...     return float(np.mean(r**2)), np.array([2 * np.mean(r)])
    >>> run = interval_descent(fun, np.zeros(1), 200, rule=Adam(), learning_rate=0.1,
    ...                        batch_size=32, max_steps=5000, convergence_interval=50,
    ...                        rng=np.random.default_rng(0))
    >>> run.converged, bool(abs(run.params[0] - y.mean()) < 0.2), len(run.loss_curve) < 5000
    (True, True, True)
    """
    params = np.array(params, dtype=np.float64)
    losses: list[float] = []
    k = convergence_interval
    for step in range(max_steps):
        rows = rng.integers(0, n_samples, size=batch_size)
        loss, grad = fun(params, rows)
        losses.append(float(loss))
        if not np.isfinite(loss):
            return IntervalRun(params, losses, False)
        params = params - rule.update(grad, learning_rate)
        if step > 2 * k:
            last, before = np.asarray(losses[-k:]), np.asarray(losses[-2 * k : -k])
            if abs(before.mean() - last.mean()) <= last.std() / np.sqrt(k) / 2:
                return IntervalRun(params, losses, True)
    return IntervalRun(params, losses, False)


def lbfgs(
    fun,
    params: np.ndarray,
    n_samples: int,
    history: History,
    *,
    max_iter: int,
    gtol: float,
    ftol: float | None = None,
) -> np.ndarray:
    """scipy's L-BFGS-B on the full batch; ``history`` records every iterate.

    Parameters
    ----------
    fun : callable
        ``fun(params, rows) -> (mean loss, mean gradient)``; called with all rows.
    params : ndarray
        Starting parameters.
    n_samples : int
        Number of training rows.
    history : History
        Receives every iterate's loss (its stopping rule does not stop L-BFGS-B, whose own
        criteria and ``max_iter`` decide ``history.converged``).
    max_iter : int
        Maximum number of iterations.
    gtol : float
        Projected-gradient tolerance of L-BFGS-B.
    ftol : float, default=None
        Relative loss-reduction tolerance; ``None``: scipy's default.

    Returns
    -------
    params : ndarray
    """
    rows = np.arange(n_samples)

    def callback(intermediate_result):
        history.record(intermediate_result.x, intermediate_result.fun)

    options = {"maxiter": max_iter, "gtol": gtol}
    if ftol is not None:
        options["ftol"] = ftol
    result = minimize(
        lambda p: fun(p, rows),
        params,
        jac=True,
        method="L-BFGS-B",
        callback=callback,
        options=options,
    )
    # status 1: iteration limit reached; anything else ended by a convergence criterion
    # (2, an abnormal line search, happens at a flat optimum).
    history.converged = result.status != 1
    if not history.loss_curve:
        history.record(result.x, result.fun)
    # L-BFGS-B's own result is the parameters to keep, whatever the validation score says.
    history.best_params = result.x.copy()
    history.best_loss = float(result.fun)
    return result.x


def spsa(
    loss,
    params: np.ndarray,
    n_samples: int,
    history: History,
    *,
    learning_rate: float,
    max_iter: int,
    rng: np.random.Generator,
    perturbation: float = 0.1,
    alpha: float = 0.602,
    gamma: float = 0.101,
    stability: float | None = None,
) -> np.ndarray:
    """Simultaneous perturbation stochastic approximation (Spall 1998).

    Two loss evaluations per iteration whatever the number of parameters, and robust to shot
    noise: the gains ``a_k = learning_rate / (k + 1 + A)^alpha`` and
    ``c_k = perturbation / (k + 1)^gamma`` use Spall's recommended exponents, ``A`` = 10% of
    ``max_iter``.

    Parameters
    ----------
    loss : callable
        ``loss(params, rows) -> mean loss``; called with all rows.
    params : ndarray
        Starting parameters.
    n_samples : int
        Number of training rows.
    history : History
        Receives the mean of the two perturbed losses of every iteration.
    learning_rate : float
        ``a``, the numerator of the step gain.
    max_iter : int
        Maximum number of iterations.
    rng : numpy Generator
        Draws the perturbation directions.
    perturbation, alpha, gamma : float, default=0.1, 0.602, 0.101
        Spall's ``c``, ``alpha`` and ``gamma``.
    stability : float, default=None
        Spall's ``A``; ``None``: 10% of ``max_iter``.

    Returns
    -------
    params : ndarray
    """
    rows = np.arange(n_samples)
    big_a = 0.1 * max_iter if stability is None else stability
    for k in range(max_iter):
        a_k = learning_rate / (k + 1 + big_a) ** alpha
        c_k = perturbation / (k + 1) ** gamma
        delta = rng.choice([-1.0, 1.0], size=params.shape)
        plus = loss(params + c_k * delta, rows)
        minus = loss(params - c_k * delta, rows)
        params = params - a_k * (plus - minus) / (2 * c_k) * delta
        if history.record(params, 0.5 * (plus + minus)):
            break
    return params


def optimize(
    method: str,
    fun,
    params: np.ndarray,
    n_samples: int,
    history: History,
    *,
    max_iter: int,
    learning_rate: float | None = None,
    batch_size: int | None = None,
    rng=None,
    adam: Adam | None = None,
    gtol: float = 1e-5,
    ftol: float | None = None,
    loss=None,
    convergence_interval: int | None = None,
) -> np.ndarray:
    """Run the optimiser named by an estimator's ``optimizer`` parameter.

    Parameters
    ----------
    method : {"adam", "sgd", "lbfgs", "spsa", "interval"}
        The optimiser (see the module docstring).
    fun : callable
        ``fun(params, rows) -> (mean loss, mean gradient)``.
    params : ndarray
        Starting parameters.
    n_samples : int
        Number of training rows.
    history : History
        Records the iterations and holds the stopping rule.
    max_iter : int
        Maximum number of iterations (epochs of ``"adam"`` and ``"sgd"``, steps of
        ``"interval"``).
    learning_rate : float, default=None
        Step size of ``"adam"`` and ``"sgd"``, gain of ``"spsa"``.
    batch_size : int, default=None
        Mini-batch size of ``"adam"``, ``"sgd"`` and ``"interval"``; ``None``: full batch
        (``"interval"``: ``n_samples`` rows drawn with replacement).
    rng : numpy Generator or RandomState, default=None
        Mini-batch order; SPSA directions (a Generator).
    adam : Adam, default=None
        Adam state to continue (updated in place); ``None``: a fresh one.
    gtol, ftol : float
        L-BFGS-B tolerances (see :func:`lbfgs`).
    loss : callable, default=None
        ``loss(params, rows) -> mean loss`` for SPSA, when cheaper than ``fun``; ``None``:
        the loss of ``fun``.
    convergence_interval : int, default=None
        Steps per interval of the convergence test of ``"interval"`` (required there).

    Returns
    -------
    params : ndarray
    """
    if method == "lbfgs":
        return lbfgs(fun, params, n_samples, history, max_iter=max_iter, gtol=gtol, ftol=ftol)
    if method == "spsa":
        if loss is None:

            def loss(p, rows):
                return fun(p, rows)[0]

        return spsa(
            loss,
            params,
            n_samples,
            history,
            learning_rate=learning_rate,
            max_iter=max_iter,
            rng=rng,
        )
    if method == "interval":
        run = interval_descent(
            fun,
            params,
            n_samples,
            rule=Adam() if adam is None else adam,
            learning_rate=learning_rate,
            batch_size=n_samples if batch_size is None else batch_size,
            max_steps=max_iter,
            convergence_interval=convergence_interval,
            rng=rng,
        )
        history.loss_curve.extend(run.loss_curve)
        history.best_loss = min(run.loss_curve, default=np.inf)
        history.converged = run.converged
        return run.params
    if method == "adam":
        rule = Adam() if adam is None else adam
    elif method == "sgd":
        rule = SGD()
    else:
        raise ValueError(f"unknown optimizer {method!r}")
    return descent(
        fun,
        params,
        n_samples,
        history,
        rule=rule,
        learning_rate=learning_rate,
        batch_size=batch_size,
        max_iter=max_iter,
        rng=rng,
    )


def warn_if_not_converged(
    history: History, who: str, max_iter: int, advice: str = "increase max_iter"
) -> None:
    """Issue a :class:`~sklearn.exceptions.ConvergenceWarning` if training hit ``max_iter``.

    The warning points at the user's line: the first caller outside skqml and scikit-learn
    (whatever wrappers and helpers lie between).

    Parameters
    ----------
    history : History
        The finished run.
    who : str
        Name of the estimator, for the message.
    max_iter : int
        The limit that was reached.
    advice : str, default="increase max_iter"
        What the user can do about it.
    """
    if not history.converged:
        warnings.warn(
            f"{who} did not converge in max_iter={max_iter} iterations; {advice}",
            ConvergenceWarning,
            stacklevel=_user_stacklevel(),
        )


def _user_stacklevel() -> int:
    """``stacklevel`` of the first frame outside skqml and scikit-learn, for the caller of
    :func:`warn_if_not_converged` (so that it names the user's ``fit`` line)."""
    import os

    import sklearn

    inside = (
        os.path.dirname(os.path.abspath(__file__)) + os.sep,
        os.path.dirname(os.path.abspath(sklearn.__file__)) + os.sep,
    )
    frame, level = sys._getframe(2), 2  # the caller of warn_if_not_converged
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(inside):
        frame, level = frame.f_back, level + 1
    return level
