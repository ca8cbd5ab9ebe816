"""The data re-uploading classifier of Bowles et al. (2024): its weighted fidelity read-out,
min-max feature scaling, separable variant and the study's training loop."""

import math
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import MinMaxScaler
from test_variational import ExpectationsOnly

from skqml._optim import Adam, History, interval_descent, optimize
from skqml.circuits import DataReuploading
from skqml.simulator import simulate
from skqml.studies.bowles2024 import GRIDS, MODELS, STUDY_DEFAULTS
from skqml.variational import DataReuploadingClassifier, SeparableDataReuploadingClassifier
from skqml.variational._models import _Objective, _one_hot


def data(n=24, d=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * np.arange(1, d + 1)  # unequal scales
    y = np.where(X[:, 0] + X[:, 1] / 2 > 0, 1, -1)
    return X, y


def study_model(**kw):
    params = {
        "n_layers": 2,
        "observable_type": "full",
        "feature_scaling": "minmax",
        "optimizer": "adam",
        "max_iter": 2,
        "random_state": 0,
    }
    return DataReuploadingClassifier(**{**params, **kw})


def fitted(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def z_expectations(states: np.ndarray, n_qubits: int) -> np.ndarray:
    """<Z_q> of every qubit from the statevectors (qubit q is bit q of the index)."""
    probs = np.abs(states) ** 2
    index = np.arange(2**n_qubits)
    signs = np.array([1 - 2 * ((index >> q) & 1) for q in range(n_qubits)])
    return probs @ signs.T


def study_loss(expvals: np.ndarray, alphas: np.ndarray, y: np.ndarray) -> float:
    """The study's loss as written in its code: labels in {-1, 1}, its "probs0" and "probs1"."""
    k = alphas.shape[1]
    y_mat = np.vstack([y for _ in range(k)]).T
    y_mat0, y_mat1 = (1 - y_mat) / 2, (1 + y_mat) / 2
    probs0 = (1 - expvals[:, :k]) / 2
    probs1 = (1 + expvals[:, :k]) / 2
    loss = 0.5 * np.sum((alphas[0] * probs0 - y_mat0) ** 2 + (alphas[1] * probs1 - y_mat1) ** 2)
    return loss / len(y)


@pytest.mark.parametrize(("observable_type", "k"), [("single", 1), ("half", 1), ("full", 3)])
def test_weighted_fidelity_loss_and_probabilities_equal_the_study(observable_type, k):
    X, y = data(d=8)  # 3 qubits
    est = fitted(study_model(observable_type=observable_type), X, y)
    assert est.n_qubits_ == 3 and est.class_weights_.shape == (2, k)
    assert not hasattr(est, "readout_weights_") and not hasattr(est, "readout_bias_")
    # The circuit on min-max scaled features, simulated densely, then the study's formulas.
    X_scaled = MinMaxScaler((-math.pi / 2, math.pi / 2)).fit(X).transform(X)
    ansatz = DataReuploading(n_layers=2)
    states = simulate(ansatz.build_for_features(8), X_scaled, est.weights_)
    expvals = z_expectations(states, 3)
    rng = np.random.default_rng(1)
    alphas = rng.uniform(0.5, 2.0, size=(2, k))
    params = np.concatenate([est.weights_, alphas.ravel()])
    objective = _Objective(est._fitted_structure(est.backend_), X, _one_hot(y, est.classes_), 0)
    assert objective.loss(params, np.arange(len(X))) == pytest.approx(
        study_loss(expvals, alphas, y), rel=1e-12
    )
    mean = expvals[:, :k].mean(axis=1)
    expected = np.column_stack([(1 - mean) / 2, (1 + mean) / 2])
    np.testing.assert_allclose(est.predict_proba(X), expected, atol=1e-12)
    np.testing.assert_allclose(est.decision_function(X), mean, atol=1e-12)
    np.testing.assert_array_equal(est.predict(X), est.classes_[np.argmax(expected, axis=1)])


@pytest.mark.parametrize("backend", ["statevector", "expectations-only"])
@pytest.mark.parametrize("observable_type", ["single", "full"])
def test_weighted_fidelity_gradient_matches_finite_differences(backend, observable_type):
    """Adjoint (exact backends) and parameter shift (others), through alpha and the angles."""
    X, y = data(d=7)
    backend = ExpectationsOnly() if backend == "expectations-only" else backend
    est = fitted(study_model(observable_type=observable_type, backend=backend), X, y)
    objective = _Objective(est._fitted_structure(est.backend_), X, _one_hot(y, est.classes_), 0)
    rng = np.random.default_rng(3)
    params = est.params_ + rng.normal(scale=0.3, size=est.params_.shape)
    rows = np.arange(len(X))
    loss, grad = objective.loss_grad(params, rows)
    assert loss == pytest.approx(objective.loss(params, rows), rel=1e-12)
    h = 1e-6
    numeric = [
        (objective.loss(params + h * e, rows) - objective.loss(params - h * e, rows)) / (2 * h)
        for e in np.eye(len(params))
    ]
    np.testing.assert_allclose(grad, numeric, atol=1e-7)
    # The gradient of the zero-padded features' input weights is zero (feature 7 of 9).
    assert grad[7] == 0.0


def test_minmax_scaling_is_sklearns_minmaxscaler():
    X, y = data(d=4)
    X[:, 2] = 3.0  # a constant feature goes to -angle, as in MinMaxScaler
    est = fitted(study_model(angle_scale=0.7), X, y)
    X_test = data(n=5, d=4, seed=9)[0]
    expected = simulate(
        DataReuploading(n_layers=2).build_for_features(4),
        MinMaxScaler((-0.7, 0.7)).fit(X).transform(X_test),
        est.weights_,
    )
    np.testing.assert_allclose(simulate(est.circuit_, X_test, est.weights_), expected, atol=1e-12)


def test_separable_variant_has_no_entanglers_and_factorises():
    X, y = data(d=6)  # two qubits, three features each
    est = fitted(SeparableDataReuploadingClassifier(n_layers=3, max_iter=2, random_state=0), X, y)
    assert "cz" not in est.circuit_.count_ops()
    entangled = fitted(DataReuploadingClassifier(n_layers=3, max_iter=2), X, y)
    assert "cz" in entangled.circuit_.count_ops()
    # A product state: the two-qubit state is the Kronecker product of its qubits' states.
    state = simulate(est.circuit_, X[:1], est.weights_)[0].reshape(2, 2)
    assert np.linalg.matrix_rank(state, tol=1e-10) == 1


def test_binary_only_and_exclusive_with_observables():
    X, y = data()
    y3 = np.arange(len(y)) % 3
    est = study_model()
    with pytest.raises(ValueError, match=r"Only binary classification.*observable_type=None"):
        est.fit(X, y3)
    assert not hasattr(est, "classes_")  # nothing half-fitted
    with pytest.raises(ValueError, match="observables must be None"):
        study_model(observables=["ZI"]).fit(X, y)
    assert DataReuploadingClassifier().__sklearn_tags__().classifier_tags.multi_class
    assert not est.__sklearn_tags__().classifier_tags.multi_class


def test_warm_start_refuses_another_readout_and_keeps_the_fit():
    X, y = data()
    est = fitted(study_model(observable_type="single", warm_start=True), X, y)
    params = est.params_.copy()
    est.set_params(observable_type="full")
    with pytest.raises(ValueError, match="warm_start=False"):
        est.fit(X, y)
    np.testing.assert_array_equal(est.params_, params)
    # Starting anew switches read-outs cleanly: no attribute of the other one is left.
    est.set_params(warm_start=False, observable_type=None)
    fitted(est, X, y)
    assert hasattr(est, "readout_weights_") and not hasattr(est, "class_weights_")


def test_interval_optimizer_is_the_study_loop():
    """optimize("interval") runs interval_descent: same steps, same parameters."""
    rng_y = np.random.default_rng(1).normal(3.0, 1.0, size=100)

    def fun(p, rows):
        r = p[0] - rng_y[rows]
        return float(np.mean(r**2)), np.array([2 * np.mean(r)])

    kw = {"learning_rate": 0.1, "batch_size": 16}
    run = interval_descent(
        fun,
        np.zeros(1),
        100,
        rule=Adam(),
        max_steps=3000,
        convergence_interval=40,
        rng=np.random.default_rng(0),
        **kw,
    )
    history = History(tol=0.0, n_iter_no_change=1)
    params = optimize(
        "interval",
        fun,
        np.zeros(1),
        100,
        history,
        max_iter=3000,
        convergence_interval=40,
        rng=np.random.default_rng(0),
        **kw,
    )
    assert run.converged and history.converged
    np.testing.assert_array_equal(params, run.params)
    assert history.loss_curve == run.loss_curve


def test_interval_optimizer_in_the_model():
    X, y = data(60, d=2)
    est = study_model(
        optimizer="interval", batch_size=8, learning_rate=0.1, max_iter=2000, n_iter_no_change=30
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.fit(X, y)
    # One loss per step: the test passed before max_iter steps.
    assert est.n_iter_ == len(est.loss_curve_) < 2000
    assert est.score(X, y) > 0.8
    with pytest.raises(ValueError, match="early_stopping=False"):
        study_model(optimizer="interval", early_stopping=True).fit(X, y)


def test_the_study_entry():
    assert MODELS["DataReuploadingClassifier"] is DataReuploadingClassifier
    assert MODELS["DataReuploadingClassifierSeparable"] is SeparableDataReuploadingClassifier
    for name in ("DataReuploadingClassifier", "DataReuploadingClassifierSeparable"):
        est = MODELS[name](**STUDY_DEFAULTS[name])
        grid = {key: values[0] for key, values in GRIDS[name].items()}
        params = est.set_params(**grid).get_params()
        assert params["optimizer"] == "interval" and params["max_iter"] == 10000
        assert params["n_iter_no_change"] == 200 and params["feature_scaling"] == "minmax"
