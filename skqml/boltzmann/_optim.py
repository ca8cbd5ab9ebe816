"""First-order optimisation loops shared by the Boltzmann models (Adam, SGD, L-BFGS)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize


@dataclass
class AdamState:
    """Moments of Adam, kept between ``partial_fit`` calls."""

    m: np.ndarray
    v: np.ndarray
    t: int = 0
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8

    def step(self, grad: np.ndarray, learning_rate: float) -> np.ndarray:
        self.t += 1
        self.m = self.beta1 * self.m + (1 - self.beta1) * grad
        self.v = self.beta2 * self.v + (1 - self.beta2) * grad**2
        m_hat = self.m / (1 - self.beta1**self.t)
        v_hat = self.v / (1 - self.beta2**self.t)
        return learning_rate * m_hat / (np.sqrt(v_hat) + self.eps)


@dataclass
class TrainResult:
    theta: np.ndarray
    losses: list = field(default_factory=list)
    converged: bool = False


def stochastic_epochs(
    fun,
    theta: np.ndarray,
    n_samples: int,
    *,
    optimizer: str,
    learning_rate: float,
    batch_size: int | None,
    n_epochs: int,
    tol: float,
    n_iter_no_change: int,
    rng: np.random.RandomState,
    state: AdamState | None,
    verbose: int = 0,
    name: str = "",
):
    """Run up to ``n_epochs`` passes; stop when the epoch loss stalls (as MLPClassifier).

    ``fun(theta, idx)`` returns ``(loss, grad)`` on the samples ``idx`` (``None``: all). The
    epoch loss is the size-weighted mean of its mini-batch losses. Training has converged when
    the loss has not improved by more than ``tol`` on ``n_iter_no_change`` consecutive epochs.
    """
    if optimizer == "adam" and state is None:
        state = AdamState(np.zeros_like(theta), np.zeros_like(theta))
    full = batch_size is None or batch_size >= n_samples
    result = TrainResult(theta.copy())
    best, stalled = np.inf, 0
    for epoch in range(n_epochs):
        if full:
            batches = [None]
        else:
            order = rng.permutation(n_samples)
            batches = [order[i : i + batch_size] for i in range(0, n_samples, batch_size)]
        total = 0.0
        for idx in batches:
            loss, grad = fun(result.theta, idx)
            total += loss * (n_samples if idx is None else len(idx))
            if optimizer == "adam":
                result.theta -= state.step(grad, learning_rate)
            else:
                result.theta -= learning_rate * grad
        epoch_loss = total / n_samples
        result.losses.append(epoch_loss)
        if verbose:
            print(f"{name} epoch {epoch + 1}: loss = {epoch_loss:.8f}")
        if epoch_loss > best - tol:
            stalled += 1
        else:
            stalled = 0
        best = min(best, epoch_loss)
        if stalled >= n_iter_no_change:
            result.converged = True
            break
    return result, state


def lbfgs(fun, theta: np.ndarray, *, max_iter: int, tol: float, verbose: int = 0, name=""):
    """Full-batch L-BFGS-B (scipy), ``gtol = tol``; the loss curve records every iterate."""
    losses: list[float] = []

    def callback(intermediate_result):
        losses.append(float(intermediate_result.fun))
        if verbose:
            print(f"{name} iteration {len(losses)}: loss = {losses[-1]:.8f}")

    res = minimize(
        lambda t: fun(t, None),
        theta,
        jac=True,
        method="L-BFGS-B",
        callback=callback,
        options={"maxiter": max_iter, "gtol": tol},
    )
    # status 1: iteration limit reached; 2 (abnormal line search) happens at a flat optimum.
    return TrainResult(res.x, losses or [float(res.fun)], converged=res.status != 1), None
