"""The shared optimisers (skqml._optim): update rules, loops and the stopping rule."""

import math
import warnings

import numpy as np
import pytest
from scipy.optimize import rosen, rosen_der
from sklearn.exceptions import ConvergenceWarning

from skqml._optim import (
    SGD,
    Adam,
    History,
    descent,
    lbfgs,
    optimize,
    spsa,
    warn_if_not_converged,
)

# f(x) = 1/2 sum_i a_i x_i^2: a quadratic with condition number 10.
CURVATURE = np.array([1.0, 10.0])


def quadratic(params, rows):
    return 0.5 * float(CURVATURE @ params**2), CURVATURE * params


def scripted(losses):
    """An objective whose loss at the k-th call is ``losses[k]`` (and whose gradient is 0)."""
    calls = iter(losses)

    def fun(params, rows):
        return next(calls), np.zeros_like(params)

    return fun


def never_stop():
    return History(tol=0.0, n_iter_no_change=10**6)


# -- Adam ---------------------------------------------------------------------------------------
def test_adam_first_steps_on_a_quadratic_match_the_formula_by_hand():
    """Kingma & Ba's update with bias correction, written out in plain floats per coordinate."""
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-8
    x0 = [1.0, -2.0]
    expected, x = [], list(x0)
    m, v = [0.0, 0.0], [0.0, 0.0]
    for t in (1, 2, 3):
        for i in range(2):
            g = CURVATURE[i] * x[i]
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g * g
            m_hat, v_hat = m[i] / (1 - b1**t), v[i] / (1 - b2**t)
            # sklearn's AdamOptimizer adds eps to sqrt(v), not to sqrt(v_hat): in terms of
            # the bias-corrected moments that is eps / sqrt(1 - b2**t).
            x[i] -= lr * m_hat / (math.sqrt(v_hat) + eps / math.sqrt(1 - b2**t))
        expected.append(list(x))
    # The first Adam step moves every coordinate by about lr, against its gradient's sign.
    np.testing.assert_allclose(expected[0], [0.9, -1.9], atol=1e-7)
    for n_steps in (1, 2, 3):
        history = never_stop()
        out = descent(
            quadratic,
            np.array(x0),
            1,
            history,
            rule=Adam(beta1=b1, beta2=b2, epsilon=eps),
            learning_rate=lr,
            batch_size=None,
            max_iter=n_steps,
            rng=None,
        )
        np.testing.assert_allclose(out, expected[n_steps - 1], rtol=1e-14)
    # The loss curve records the loss at the start of each (full-batch) epoch.
    start = [x0, *expected[:2]]
    np.testing.assert_allclose(
        history.loss_curve, [0.5 * CURVATURE @ np.square(p) for p in start], rtol=1e-14
    )


def test_adam_state_continues_across_calls():
    """Two runs of 3 epochs with one Adam object equal one run of 6 epochs."""
    adam = Adam()
    kw = {"learning_rate": 0.05, "batch_size": None, "rng": None}
    x = descent(quadratic, np.array([1.0, -2.0]), 1, never_stop(), rule=adam, max_iter=3, **kw)
    x = descent(quadratic, x, 1, never_stop(), rule=adam, max_iter=3, **kw)
    assert adam.t == 6
    straight = descent(
        quadratic, np.array([1.0, -2.0]), 1, never_stop(), rule=Adam(), max_iter=6, **kw
    )
    np.testing.assert_array_equal(x, straight)


def test_adam_resets_its_moments_for_parameters_of_another_shape():
    adam = Adam()
    adam.update(np.ones(3), 0.1)
    step = adam.update(np.ones(2), 0.1)
    assert adam.t == 1 and step.shape == (2,)


def test_sgd_step_and_adam_converges_on_the_quadratic():
    np.testing.assert_array_equal(SGD().update(np.array([2.0, -4.0]), 0.25), [0.5, -1.0])
    x = descent(
        quadratic,
        np.array([1.0, -2.0]),
        1,
        never_stop(),
        rule=Adam(),
        learning_rate=0.1,
        batch_size=None,
        max_iter=500,
        rng=None,
    )
    np.testing.assert_allclose(x, 0.0, atol=1e-10)


def test_mini_batches_cover_every_row_once_per_epoch_and_weight_the_epoch_loss():
    seen = []

    def fun(params, rows):
        seen.append(np.sort(rows))
        return float(len(rows)), np.zeros_like(params)  # a batch's mean loss: its size

    history = never_stop()
    descent(
        fun,
        np.zeros(1),
        10,
        history,
        rule=SGD(),
        learning_rate=0.1,
        batch_size=4,
        max_iter=2,
        rng=np.random.RandomState(0),
    )
    assert [len(rows) for rows in seen] == [4, 4, 2] * 2
    for epoch in (seen[:3], seen[3:]):
        np.testing.assert_array_equal(np.sort(np.concatenate(epoch)), np.arange(10))
    assert seen[0].tolist() != [0, 1, 2, 3] or seen[3].tolist() != [0, 1, 2, 3]  # shuffled
    # Size-weighted mean of the batch losses: (4 * 4 + 4 * 4 + 2 * 2) / 10.
    assert history.loss_curve == [3.6, 3.6]


# -- L-BFGS-B and SPSA --------------------------------------------------------------------------
def test_lbfgs_converges_on_rosenbrock():
    history = History(tol=0.0, n_iter_no_change=10)
    x = lbfgs(
        lambda p, rows: (rosen(p), rosen_der(p)),
        np.array([-1.2, 1.0]),
        1,
        history,
        max_iter=500,
        gtol=1e-10,
        ftol=1e-15,  # scipy's default ftol (2.2e-9) would stop about 1e-6 from the optimum
    )
    np.testing.assert_allclose(x, [1.0, 1.0], atol=1e-8)
    assert history.converged
    assert history.loss_curve[-1] < 1e-12
    # L-BFGS-B's line search accepts only decreasing iterates.
    assert np.all(np.diff(history.loss_curve) <= 0)
    np.testing.assert_array_equal(history.best_params, x)


def test_lbfgs_hitting_max_iter_is_not_converged_and_warns():
    history = History(tol=0.0, n_iter_no_change=10)
    lbfgs(
        lambda p, rows: (rosen(p), rosen_der(p)),
        np.array([-1.2, 1.0]),
        1,
        history,
        max_iter=3,
        gtol=1e-10,
    )
    assert len(history.loss_curve) == 3 and not history.converged
    with pytest.warns(ConvergenceWarning, match=r"Rosenbrock did not converge in max_iter=3"):
        warn_if_not_converged(history, "Rosenbrock", 3)


def test_spsa_decreases_a_quadratic_with_a_fixed_seed():
    def loss(params, rows):
        return float(params @ params)

    kw = {"learning_rate": 0.5, "max_iter": 200}
    x0 = np.ones(6)
    history = never_stop()
    x = spsa(loss, x0, 1, history, rng=np.random.default_rng(0), **kw)
    assert loss(x, None) < 1e-3 * loss(x0, None)
    assert len(history.loss_curve) == 200
    again = spsa(loss, x0, 1, never_stop(), rng=np.random.default_rng(0), **kw)
    np.testing.assert_array_equal(again, x)


# -- stopping rule ------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["adam", "sgd"])
def test_stops_after_n_iter_no_change_epochs_without_improvement_by_more_than_tol(method):
    # Improvements: 10 (first), 9 (by 1 > tol); then 8.8, 8.6 and 8.4 each improve on the
    # best loss by less than tol = 0.5, so the third of them is the third epoch without one.
    history = History(tol=0.5, n_iter_no_change=3)
    optimize(
        method,
        scripted([10.0, 9.0, 8.8, 8.6, 8.4, 1.0, 1.0]),
        np.zeros(2),
        1,
        history,
        max_iter=100,
        learning_rate=0.1,
    )
    assert history.loss_curve == [10.0, 9.0, 8.8, 8.6, 8.4]
    assert history.converged and history.best_loss == 8.4


def test_an_equal_loss_is_no_improvement_even_with_tol_zero():
    """A loss that stays exactly the same stops training (improvement must be strict)."""
    history = History(tol=0.0, n_iter_no_change=4)
    optimize(
        "sgd", scripted([1.0] * 100), np.zeros(2), 1, history, max_iter=100, learning_rate=0.1
    )
    assert len(history.loss_curve) == 5  # the first epoch improves on +inf, 4 more do not
    assert history.converged


def test_validation_score_drives_stopping_and_best_parameters():
    scores = iter([0.5, 0.7, 0.7, 0.69, 0.9])
    history = History(tol=0.0, n_iter_no_change=2, validation_fn=lambda p: next(scores))
    for k in range(5):
        if history.record(np.array([float(k)]), 1.0 / (k + 1)):
            break
    assert history.validation_scores == [0.5, 0.7, 0.7, 0.69]
    assert history.best_score == 0.7
    np.testing.assert_array_equal(history.best_params, [1.0])  # the first 0.7
    assert history.converged


def test_convergence_warning_when_max_iter_is_hit():
    history = History(tol=1e-4, n_iter_no_change=10)
    x = optimize(
        "adam", quadratic, np.array([1.0, -2.0]), 1, history, max_iter=3, learning_rate=0.1
    )
    assert len(history.loss_curve) == 3 and not history.converged
    assert quadratic(x, None)[0] < history.loss_curve[0]
    with pytest.warns(ConvergenceWarning, match=r"max_iter=3 iterations; raise max_iter"):
        warn_if_not_converged(history, "Model", 3, "raise max_iter")


def test_no_convergence_warning_once_converged():
    history = History(tol=0.0, n_iter_no_change=1)
    optimize("sgd", scripted([1.0, 1.0]), np.zeros(1), 1, history, max_iter=10, learning_rate=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        warn_if_not_converged(history, "Model", 10)


def test_verbose_prints_every_iteration(capsys):
    history = History(tol=0.0, n_iter_no_change=10, verbose=1)
    optimize("sgd", quadratic, np.array([1.0, -2.0]), 1, history, max_iter=2, learning_rate=0.1)
    out = capsys.readouterr().out
    assert "Iteration 1, loss = 20.50000000" in out and "Iteration 2" in out
    assert "elapsed" in out


# -- dispatch -----------------------------------------------------------------------------------
def test_optimize_dispatches_by_name():
    x0 = np.array([1.0, -2.0])
    by_name = optimize("sgd", quadratic, x0, 1, never_stop(), max_iter=2, learning_rate=0.05)
    # Two SGD steps by hand: x <- x - lr * a * x, i.e. x * (1 - lr * a)**2.
    np.testing.assert_allclose(by_name, x0 * (1 - 0.05 * CURVATURE) ** 2, rtol=1e-15)
    adam = Adam()
    optimize("adam", quadratic, x0, 1, never_stop(), max_iter=2, learning_rate=0.1, adam=adam)
    assert adam.t == 2  # the caller's state was used and advanced
    history = History(tol=0.0, n_iter_no_change=10)
    out = optimize(
        "lbfgs", lambda p, r: (rosen(p), rosen_der(p)), np.zeros(2), 1, history, max_iter=200
    )
    np.testing.assert_allclose(out, [1.0, 1.0], atol=1e-4)
    # SPSA without a separate loss function uses the loss of fun.
    history = never_stop()
    optimize(
        "spsa", quadratic, x0, 1, history, max_iter=5, learning_rate=0.1,
        rng=np.random.default_rng(0),
    )  # fmt: skip
    assert len(history.loss_curve) == 5
    with pytest.raises(ValueError, match="unknown optimizer 'newton'"):
        optimize("newton", quadratic, x0, 1, never_stop(), max_iter=1)
