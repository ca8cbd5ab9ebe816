"""Optimisers for variational models: Adam (mini-batch), L-BFGS (full batch), SPSA (noisy).

Each takes ``loss_grad(params, rows) -> (mean loss, mean gradient)`` over a subset of the
training rows (SPSA: ``loss(params, rows)``) and reports its progress through a
:class:`History`, which also implements sklearn-MLP-style stopping (``tol``,
``n_iter_no_change``, early stopping on a validation score).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize

__all__ = ["History", "adam", "lbfgs", "spsa"]


@dataclass
class History:
    """Loss curve, best parameters and the stopping rule."""

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
        """Record one iteration; returns True when training should stop."""
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


def _batches(n: int, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    order = rng.permutation(n)
    return [order[i : i + batch_size] for i in range(0, n, batch_size)]


def adam(
    loss_grad,
    params: np.ndarray,
    n_rows: int,
    history: History,
    *,
    learning_rate: float,
    batch_size: int,
    max_iter: int,
    rng: np.random.Generator,
    state: dict | None = None,
    beta1: float = 0.9,
    beta2: float = 0.999,
    epsilon: float = 1e-8,
) -> np.ndarray:
    """Mini-batch Adam; one iteration is one epoch over shuffled batches.

    ``state`` (moments and step count) is updated in place, so that ``partial_fit`` and
    ``warm_start`` continue where the last call stopped.
    """
    if state is None:
        state = {}
    if state.get("m") is None or state["m"].shape != params.shape:
        state.update(m=np.zeros_like(params), v=np.zeros_like(params), t=0)
    m, v, t = state["m"], state["v"], state["t"]
    for _ in range(max_iter):
        epoch_loss = 0.0
        for rows in _batches(n_rows, batch_size, rng):
            loss, grad = loss_grad(params, rows)
            epoch_loss += loss * len(rows)
            t += 1
            m = beta1 * m + (1 - beta1) * grad
            v = beta2 * v + (1 - beta2) * grad**2
            step = learning_rate * np.sqrt(1 - beta2**t) / (1 - beta1**t)
            params = params - step * m / (np.sqrt(v) + epsilon)
        state.update(m=m, v=v, t=t)
        if history.record(params, epoch_loss / n_rows):
            break
    return params


def lbfgs(loss_grad, params: np.ndarray, n_rows: int, history: History, *, max_iter: int):
    """scipy's L-BFGS-B on the full batch; ``tol`` is its ``ftol``-style stopping rule."""
    rows = np.arange(n_rows)

    def fun(p):
        loss, grad = loss_grad(p, rows)
        return loss, grad

    def callback(intermediate_result):
        history.record(intermediate_result.x, intermediate_result.fun)

    result = minimize(
        fun,
        params,
        jac=True,
        method="L-BFGS-B",
        callback=callback,
        options={"maxiter": max_iter, "ftol": history.tol, "gtol": history.tol},
    )
    # status 1: iteration limit reached; anything else ended by a convergence criterion.
    history.converged = result.status != 1
    if not history.loss_curve:
        history.record(result.x, result.fun)
    history.best_params = result.x.copy()
    history.best_loss = float(result.fun)
    return result.x


def spsa(
    loss,
    params: np.ndarray,
    n_rows: int,
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
    """
    rows = np.arange(n_rows)
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
