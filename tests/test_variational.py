"""VQC, VQR and DataReuploadingClassifier: training, read-out, sklearn behaviour, bad input."""

import json
import pickle
import subprocess
import sys
import warnings
from math import ceil, pi

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler
from sklearn.utils.validation import check_is_fitted

from skqml.backends import Backend, ShotsBackend, StatevectorBackend
from skqml.circuits import (
    AngleEmbedding,
    Ansatz,
    Circuit,
    DataReuploading,
    FeatureMap,
    HardwareEfficient,
    RealAmplitudes,
    ZZFeatureMap,
    feature,
    weight,
)
from skqml.datasets import make_linearly_separable
from skqml.simulator import SimulationMemoryError, expectations, simulate
from skqml.variational import VQC, VQR, DataReuploadingClassifier, _models
from skqml.variational._models import _Objective, _one_hot

# Many fits below stop at max_iter on purpose; the warning itself is tested on its own.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def binary_data(n=40):
    X, y = make_blobs(n, n_features=2, centers=2, random_state=0)
    return MinMaxScaler((-1, 1)).fit_transform(X), y


def three_class_data(n=60):
    X, y = make_blobs(n, n_features=3, centers=3, random_state=1)
    return MinMaxScaler((-1, 1)).fit_transform(X), y


def regression_data(n=50):
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (n, 2))
    y = 100 * np.sin(1.5 * X[:, 0]) + 30 * X[:, 1] + 500  # far from the unit range
    Y = np.column_stack([y, -2 * np.cos(2 * X[:, 1]) + X[:, 0]])
    return X, y, Y


def small_vqc(**kw):
    params = {"ansatz": RealAmplitudes(reps=1), "random_state": 0, **kw}
    return VQC(**params)


class ExpectationsOnly(Backend):
    """A non-exact backend that returns exact expectation values (no states)."""

    exact = False
    runs: list = []  # shared by the clones the models make

    def expectations(self, circuit, paulis, X=None, weights=None, *, max_memory_mb=None):
        ExpectationsOnly.runs.append(circuit)
        return expectations(circuit, paulis, X, weights)


class TrainableFeatureMap(FeatureMap):
    def build(self, n_features):
        c = Circuit(n_features)
        for i in range(n_features):
            c = c.ry(weight(i) * feature(i), i)
        return c


# -- training ---------------------------------------------------------------------------------
def test_vqc_binary_trains_with_string_labels():
    X, y = binary_data()
    labels = np.array(["no", "yes"])[y]
    clf = small_vqc(optimizer="lbfgs", max_iter=100).fit(X, labels)
    assert list(clf.classes_) == ["no", "yes"]
    assert clf.score(X, labels) >= 0.95
    assert set(clf.predict(X)) <= {"no", "yes"}
    assert clf.decision_function(X).shape == (len(X),)
    assert clf.readout_weights_.shape == (2, 1) and clf.readout_bias_.shape == (1,)
    assert clf.n_qubits_ == 2 and clf.circuit_.n_qubits == 2
    # The ansatz's weights, then one trainable input scale per feature (input_scaling=True).
    assert clf.weights_.shape == (RealAmplitudes(reps=1).n_weights(2) + 2,)
    assert clf.n_iter_ == len(clf.loss_curve_)
    assert clf.best_loss_ == min(clf.loss_curve_)


def test_vqc_three_classes_trains():
    X, y = three_class_data()
    clf = small_vqc(optimizer="lbfgs", max_iter=100).fit(X, y)
    assert clf.score(X, y) >= 0.9
    assert clf.decision_function(X).shape == (len(X), 3)
    assert clf.readout_weights_.shape == (3, 3)
    assert clf.predict_proba(X).shape == (len(X), 3)


@pytest.mark.parametrize("data", [binary_data, three_class_data], ids=["binary", "3-class"])
def test_predict_is_argmax_of_decision_function(data):
    X, y = data()
    clf = small_vqc(max_iter=15, learning_rate=0.1).fit(X, y)
    scores = clf.decision_function(X)
    proba = clf.predict_proba(X)
    if scores.ndim == 1:
        expected = clf.classes_[(scores > 0).astype(int)]
        np.testing.assert_allclose(proba[:, 1], 1 / (1 + np.exp(-scores)), rtol=1e-12)
    else:
        expected = clf.classes_[np.argmax(scores, axis=1)]
    np.testing.assert_array_equal(clf.predict(X), expected)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[np.argmax(proba, axis=1)])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    assert np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(proba), rtol=1e-12)


def test_adam_loss_curve_decreases():
    X, y = binary_data()
    clf = small_vqc(learning_rate=0.1, batch_size=16, max_iter=30).fit(X, y)
    curve = np.asarray(clf.loss_curve_)
    assert clf.n_iter_ == len(curve) > 5
    assert curve[-1] < 0.5 * curve[0]
    assert np.mean(curve[-5:]) < np.mean(curve[:5])
    assert clf.score(X, y) >= 0.95


@pytest.mark.parametrize(
    ("optimizer", "learning_rate"), [("adam", 0.1), ("lbfgs", 0.05), ("spsa", 2.0)]
)
def test_optimizers_run_and_reduce_the_loss(optimizer, learning_rate):
    X, y = binary_data()
    clf = small_vqc(
        optimizer=optimizer, learning_rate=learning_rate, max_iter=60, n_iter_no_change=60
    ).fit(X, y)
    curve = np.asarray(clf.loss_curve_)
    assert np.all(np.isfinite(curve))
    assert clf.n_iter_ == len(curve) >= 1
    assert np.mean(curve[-3:]) < 0.9 * curve[0]
    assert clf.score(X, y) >= 0.8


def test_early_stopping_records_validation_scores():
    X, y = binary_data(60)
    clf = small_vqc(early_stopping=True, learning_rate=0.1, max_iter=40).fit(X, y)
    assert len(clf.validation_scores_) == clf.n_iter_ == len(clf.loss_curve_)
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert all(0 <= s <= 1 for s in clf.validation_scores_)
    assert not hasattr(small_vqc(max_iter=2).fit(X, y), "validation_scores_")


def test_warm_start_continues_where_the_last_fit_stopped():
    """Full-batch Adam: 5 epochs, then 5 more with warm_start, equal 10 epochs in one go."""
    X, y = binary_data()
    kw = {"optimizer": "adam", "learning_rate": 0.1, "max_iter": 5, "n_iter_no_change": 50}
    clf = small_vqc(**kw).fit(X, y)
    first = list(clf.loss_curve_)
    clf.set_params(warm_start=True).fit(X, y)
    assert clf.n_iter_ == 10 and len(clf.loss_curve_) == 10
    assert clf.loss_curve_[:5] == first
    assert clf.loss_curve_[5] < first[-1] < first[0]
    straight = small_vqc(**{**kw, "max_iter": 10}).fit(X, y)
    np.testing.assert_allclose(clf.loss_curve_, straight.loss_curve_, rtol=1e-9)
    np.testing.assert_allclose(clf.weights_, straight.weights_, rtol=1e-9, atol=1e-12)
    # Without warm_start a new fit starts over.
    clf.set_params(warm_start=False).fit(X, y)
    assert clf.n_iter_ == 5
    np.testing.assert_allclose(clf.loss_curve_, first, rtol=1e-12)


def test_warm_start_with_other_feature_count_is_an_error():
    X, y = binary_data()
    clf = small_vqc(max_iter=2, warm_start=True).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        clf.fit(np.column_stack([X, -X[:, 0]]), y)


def test_partial_fit():
    X, y = binary_data()
    clf = small_vqc(learning_rate=0.1)
    with pytest.raises(ValueError, match="classes"):
        clf.partial_fit(X, y)
    for _ in range(8):
        clf.partial_fit(X, y, classes=[0, 1])
    assert clf.n_iter_ == len(clf.loss_curve_) == 8
    assert clf.loss_curve_[-1] < 0.8 * clf.loss_curve_[0]
    with pytest.raises(ValueError, match="not in classes"):
        clf.partial_fit(X, np.where(y == 1, 2, y))
    assert clf.n_iter_ == 8  # a refused call trains nothing
    # The first call's labels may be a subset of the classes.
    other = small_vqc().partial_fit(X[y == 0], y[y == 0], classes=[0, 1])
    assert list(other.classes_) == [0, 1]
    with pytest.raises(ValueError, match="not in classes"):
        small_vqc().partial_fit(X, y + 5, classes=[0, 1])


def test_partial_fit_with_other_classes_is_an_error():
    X, y = binary_data()
    clf = small_vqc().partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="classes"):
        clf.partial_fit(X, y, classes=[0, 1, 2])


def test_partial_fit_is_one_adam_epoch_whatever_the_optimizer():
    X, y = binary_data()
    adam = small_vqc(learning_rate=0.1).partial_fit(X, y, classes=[0, 1])
    lbfgs = small_vqc(learning_rate=0.1, optimizer="lbfgs").partial_fit(X, y, classes=[0, 1])
    np.testing.assert_allclose(lbfgs.weights_, adam.weights_)


def test_memory_budget_does_not_change_training():
    """A tiny max_memory_mb makes the adjoint pass run in chunks of a few samples."""
    X, y = binary_data()
    full = small_vqc(max_iter=5, learning_rate=0.1).fit(X, y)
    chunked = small_vqc(max_iter=5, learning_rate=0.1, max_memory_mb=0.002).fit(X, y)
    np.testing.assert_allclose(chunked.loss_curve_, full.loss_curve_, rtol=1e-12)
    np.testing.assert_allclose(chunked.weights_, full.weights_, rtol=1e-10, atol=1e-12)


def test_memory_budget_predicts_in_chunks():
    X, y = binary_data()
    full = small_vqc(max_iter=2).fit(X, y)
    chunked = small_vqc(max_iter=2, max_memory_mb=0.002).fit(X, y)
    np.testing.assert_allclose(chunked.predict_proba(X), full.predict_proba(X), rtol=1e-12)


def unit_range_vqr():
    """A VQR for the features of regression_data, which are angles in [-1, 1] already."""
    return VQR(angle_scale=None, random_state=0)


def test_vqr_single_output_in_original_units():
    X, y, _ = regression_data()
    reg = unit_range_vqr().fit(X, y)
    pred = reg.predict(X)
    assert pred.shape == y.shape
    assert reg.score(X, y) >= 0.95
    assert abs(pred.mean() - y.mean()) < 0.05 * y.std()
    # Targets are standardised: an affine change of units changes the predictions alike.
    other = unit_range_vqr().fit(X, 10 * y - 7)
    np.testing.assert_allclose(other.predict(X), 10 * pred - 7, rtol=1e-6)


def test_vqr_multi_output():
    X, _, Y = regression_data()
    reg = unit_range_vqr()
    pred = reg.fit(X, Y).predict(X)
    assert pred.shape == Y.shape
    assert reg.readout_weights_.shape == (2, 2)
    assert np.all(r2_score(Y, pred, multioutput="raw_values") >= 0.95)
    with pytest.raises(ValueError, match="targets"):
        reg.set_params(warm_start=True).fit(X, Y[:, 0])


def test_data_reuploading_classifier():
    X, y = binary_data()
    clf = DataReuploadingClassifier(n_layers=2, optimizer="lbfgs", max_iter=60, random_state=0)
    clf.fit(X, y)
    assert clf.score(X, y) >= 0.95
    assert clf.n_qubits_ == 1 and clf.circuit_.count_ops() == {"rot": 5}
    assert clf.weights_.shape == (6 * 3,)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


@pytest.mark.parametrize("n_features", [1, 3, 4, 7])
def test_data_reuploading_uses_a_third_of_the_features_as_qubits(n_features):
    rng = np.random.default_rng(n_features)
    X = rng.uniform(-1, 1, (12, n_features))
    y = (X.sum(axis=1) > 0).astype(int)
    clf = DataReuploadingClassifier(n_layers=1, max_iter=1, random_state=0).fit(X, y)
    assert clf.n_qubits_ == clf.circuit_.n_qubits == ceil(n_features / 3)
    assert clf.circuit_.n_features == n_features


def test_custom_observables_with_x_and_y():
    X, y = binary_data()
    clf = small_vqc(observables=["XI", "iz", "YY"], max_iter=3).fit(X, y)
    assert clf.observables_ == [{"XI": 1.0}, {"IZ": 1.0}, {"YY": 1.0}]
    assert clf.readout_weights_.shape == (3, 1)
    E = expectations(clf.circuit_, ["XI", "IZ", "YY"], X, clf.weights_)
    logits = E @ clf.readout_weights_ + clf.readout_bias_
    np.testing.assert_allclose(clf.decision_function(X), logits[:, 0], rtol=1e-12)


def test_pauli_sum_observables():
    # <O> of a Pauli sum is the same linear combination of the strings' expectation values.
    X, y = binary_data()
    sums = [{"ZZ": 0.5, "XI": -2.0, "zz": 0.25}, "IZ"]
    clf = small_vqc(observables=sums, max_iter=3).fit(X, y)
    assert clf.observables_ == [{"ZZ": 0.75, "XI": -2.0}, {"IZ": 1.0}]
    E = expectations(clf.circuit_, ["ZZ", "XI", "IZ"], X, clf.weights_)
    O = np.column_stack([0.75 * E[:, 0] - 2.0 * E[:, 1], E[:, 2]])
    logits = O @ clf.readout_weights_ + clf.readout_bias_
    np.testing.assert_allclose(clf.decision_function(X), logits[:, 0], rtol=1e-12)


def training_objective(clf, X, y):
    """The training loss of a fitted classifier's model on ``(X, y)``, built as fit builds it."""
    return _Objective(clf._fitted_structure(clf.backend_), X, _one_hot(y, clf.classes_), clf.alpha)


def assert_gradient_matches_finite_differences(objective, params):
    rows = np.arange(objective.X.shape[0])
    _, grad = objective.loss_grad(params, rows)
    eps = 1e-6
    fd = [
        (
            objective.loss_grad(params + eps * e, rows)[0]
            - objective.loss_grad(params - eps * e, rows)[0]
        )
        / (2 * eps)
        for e in np.eye(params.size)
    ]
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-8)


def test_pauli_sum_gradient_matches_finite_differences():
    X, y = binary_data()
    clf = small_vqc(observables=[{"ZZ": 0.5, "XY": 1.5}], max_iter=1).fit(X, y)
    assert_gradient_matches_finite_differences(training_objective(clf, X, y), clf.params_ + 0.1)


@pytest.mark.parametrize(
    "observables", [[{"ZZ": "a"}], [{"ZQ": 1.0}], [{}], [{"ZZ": float("nan")}], []]
)
def test_bad_pauli_sums(observables):
    X, y = binary_data()
    with pytest.raises(ValueError, match=r"observable|coefficient|Pauli"):
        small_vqc(observables=observables, max_iter=1).fit(X, y)


def test_alpha_shrinks_the_parameters():
    X, y = binary_data()
    norms = []
    for alpha in (0.0, 200.0):
        clf = small_vqc(optimizer="lbfgs", alpha=alpha, max_iter=50).fit(X, y)
        norms.append(np.linalg.norm(clf.readout_weights_))
    assert norms[1] < 0.5 * norms[0]


def test_verbose_reports_progress(capsys):
    X, y = binary_data()
    small_vqc(max_iter=2, verbose=1).fit(X, y)
    out = capsys.readouterr().out
    assert "Iteration 1, loss = " in out and "Iteration 2" in out and "elapsed" in out


# -- sklearn behaviour ------------------------------------------------------------------------
@pytest.mark.parametrize(("optimizer", "batch_size"), [("adam", 8), ("spsa", None)])
def test_reproducible_given_random_state(optimizer, batch_size):
    X, y = binary_data()
    kw = {"optimizer": optimizer, "batch_size": batch_size, "max_iter": 4}
    a = small_vqc(**kw).fit(X, y)
    b = small_vqc(**kw).fit(X, y)
    c = small_vqc(**{**kw, "random_state": 1}).fit(X, y)
    np.testing.assert_array_equal(a.weights_, b.weights_)
    np.testing.assert_array_equal(a.readout_weights_, b.readout_weights_)
    assert a.loss_curve_ == b.loss_curve_
    assert not np.allclose(a.weights_, c.weights_)


def test_set_params_changes_the_circuit():
    X, y = binary_data()
    clf = small_vqc(max_iter=2).fit(X, y)
    n_before = clf.weights_.shape[0]
    clf.set_params(ansatz__reps=3).fit(X, y)
    assert clf.weights_.shape[0] == RealAmplitudes(reps=3).n_weights(2) + 2 > n_before
    clf.set_params(ansatz=HardwareEfficient(n_layers=1)).fit(X, y)
    assert clf.circuit_.count_ops()["rz"] == 2


def test_grid_search_same_for_one_and_two_jobs():
    X, y = binary_data(36)
    grid = {"ansatz__reps": [1, 2], "learning_rate": [0.01, 0.1]}
    results = []
    for n_jobs in (1, 2):
        est = small_vqc(optimizer="adam", max_iter=8)
        search = GridSearchCV(est, grid, cv=3, n_jobs=n_jobs).fit(X, y)
        results.append(search)
    a, b = results
    assert a.best_params_ == b.best_params_
    np.testing.assert_array_equal(
        a.cv_results_["mean_test_score"], b.cv_results_["mean_test_score"]
    )
    np.testing.assert_array_equal(a.best_estimator_.weights_, b.best_estimator_.weights_)
    assert a.best_estimator_.ansatz.reps == a.best_params_["ansatz__reps"]
    assert len(set(a.cv_results_["mean_test_score"])) > 1  # the grid makes a difference


def test_pipeline_with_min_max_scaler():
    X, y = make_blobs(40, n_features=2, centers=2, random_state=0)
    X = 50 * X + 300  # far outside one rotation period: scaling is needed
    pipe = make_pipeline(MinMaxScaler((-pi / 2, pi / 2)), small_vqc(optimizer="lbfgs"))
    assert pipe.fit(X, y).score(X, y) >= 0.95


@pytest.mark.parametrize("model", ["VQC", "VQR", "DRC"])
def test_pickle_round_trip_predicts_the_same(model):
    X, y, _ = regression_data(30)
    if model == "VQR":
        est = VQR(ansatz=RealAmplitudes(reps=1), max_iter=3, random_state=0).fit(X, y)
        method = "predict"
    else:
        cls = small_vqc if model == "VQC" else DataReuploadingClassifier
        est = cls(max_iter=3, random_state=0).fit(X, (y > np.median(y)).astype(int))
        method = "predict_proba"
    clone = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(getattr(clone, method)(X), getattr(est, method)(X))
    np.testing.assert_array_equal(clone.weights_, est.weights_)


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs", "spsa"])
def test_convergence_warning_when_max_iter_is_tiny(optimizer):
    X, y = binary_data()
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        clf = small_vqc(optimizer=optimizer, max_iter=1).fit(X, y)
    assert clf.n_iter_ == 1
    assert clf.predict(X).shape == y.shape


def test_no_convergence_warning_when_converged():
    X, y = binary_data()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        small_vqc(optimizer="lbfgs", max_iter=200).fit(X, y)
        small_vqc(max_iter=500, tol=0.5, n_iter_no_change=2).fit(X, y)


# -- bad input --------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_input(bad):
    X, y = binary_data()
    X = X.copy()
    X[3, 1] = bad
    with pytest.raises(ValueError, match=r"NaN|infinity"):
        small_vqc(max_iter=1).fit(X, y)
    Xr, yr, _ = regression_data(20)
    yr = yr.copy()
    yr[0] = bad
    with pytest.raises(ValueError, match=r"NaN|infinity"):
        VQR(max_iter=1).fit(Xr, yr)


def test_bad_shapes_and_labels():
    X, y = binary_data()
    with pytest.raises(ValueError, match="2D array"):
        small_vqc(max_iter=1).fit(X[:, 0], y)
    with pytest.raises(ValueError, match="2 classes"):
        small_vqc(max_iter=1).fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="continuous"):
        small_vqc(max_iter=1).fit(X, np.linspace(0, 1, len(X)))
    clf = small_vqc(max_iter=1).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        clf.predict(np.column_stack([X, X]))
    with pytest.raises(ValueError, match="2D array"):
        clf.predict(X[0])


@pytest.mark.parametrize("observables", ["ZZZ", ["ZI", "Z"], ["ZA"], ["XQ", "ZZ"], []])
def test_bad_observables(observables):
    X, y = binary_data()
    with pytest.raises(ValueError, match="observable"):
        small_vqc(observables=observables, max_iter=1).fit(X, y)


def test_feature_map_with_trainable_weights_is_refused():
    X, y = binary_data()
    with pytest.raises(ValueError, match="trainable weights"):
        VQC(feature_map=TrainableFeatureMap(), max_iter=1).fit(X, y)


def test_unknown_backend():
    X, y = binary_data()
    with pytest.raises(ValueError, match="unknown backend 'nope'"):
        small_vqc(backend="nope", max_iter=1).fit(X, y)


def test_unfitted_model():
    X, _ = binary_data()
    with pytest.raises(Exception, match="not fitted"):
        small_vqc().predict(X)


# -- other backends ---------------------------------------------------------------------------
def test_parameter_shift_path_equals_adjoint_path():
    """Non-exact backends train with parameter shift; with exact values it is the adjoint."""
    X, y = binary_data()
    kw = {
        "ansatz": HardwareEfficient(n_layers=1),
        "optimizer": "adam",
        "max_iter": 4,
        "learning_rate": 0.1,
    }
    exact = VQC(**kw, random_state=0).fit(X, y)
    ExpectationsOnly.runs.clear()
    shifted = VQC(**kw, backend=ExpectationsOnly(), random_state=0).fit(X, y)
    # Per epoch: one run, plus two shifted runs per trainable angle (all two-term rules here):
    # the ansatz's angles and the two input scales.
    n_angles = HardwareEfficient(n_layers=1).n_weights(2) + 2
    assert len(ExpectationsOnly.runs) == 4 * (1 + 2 * n_angles)
    assert len(set(ExpectationsOnly.runs)) == 1 + 2 * n_angles
    np.testing.assert_allclose(shifted.loss_curve_, exact.loss_curve_, rtol=1e-10)
    np.testing.assert_allclose(shifted.weights_, exact.weights_, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize(
    ("optimizer", "learning_rate", "max_iter"), [("spsa", 1.0, 60), ("adam", 0.1, 15)]
)
def test_shots_backend_trains_and_is_reproducible(optimizer, learning_rate, max_iter):
    X, y = binary_data(30)
    kw = {
        "backend": ShotsBackend(shots=256, seed=0),
        "optimizer": optimizer,
        "learning_rate": learning_rate,
        "max_iter": max_iter,
        "n_iter_no_change": max_iter,
    }
    a = small_vqc(**kw).fit(X, y)
    b = small_vqc(**kw).fit(X, y)
    np.testing.assert_array_equal(a.weights_, b.weights_)
    assert a.loss_curve_ == b.loss_curve_
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert np.mean(a.loss_curve_[-5:]) < 0.9 * np.mean(a.loss_curve_[:5])
    assert a.score(X, y) >= 0.8
    # Shot noise: the exact backend would train to other weights.
    exact = small_vqc(**{**kw, "backend": "statevector"}).fit(X, y)
    assert not np.allclose(a.weights_, exact.weights_)


# -- benchmark data (Bowles, Ahmed, Schuld 2024) ------------------------------------------------
def test_linearly_separable_benchmark_accuracy():
    X, y = make_linearly_separable(200, n_features=4, random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, train_size=100, random_state=0, stratify=y
    )
    clf = VQC(
        feature_map=AngleEmbedding(),
        ansatz=RealAmplitudes(reps=2),
        optimizer="lbfgs",
        max_iter=100,
        random_state=0,
    ).fit(X_train, y_train)
    assert clf.score(X_test, y_test) >= 0.9


def test_input_scaling_starts_as_the_plain_model_and_trains_its_factors():
    X, y = binary_data()
    plain = small_vqc(max_iter=1, input_scaling=False).fit(X, y)
    scaled = small_vqc(max_iter=1, input_scaling=True)
    scaled.fit(X, y)
    n_scale = X.shape[1]
    assert scaled.weights_.shape[0] == plain.weights_.shape[0] + n_scale
    # With every scaling factor at 1 the circuit equals the unscaled one.
    theta = np.concatenate([plain.weights_, np.ones(n_scale)])
    np.testing.assert_allclose(
        simulate(scaled.circuit_, X, theta),
        simulate(plain.circuit_, X, plain.weights_),
        atol=1e-12,
    )
    # The factors are trained: their gradient matches finite differences and they move.
    objective = training_objective(scaled, X, y)
    assert_gradient_matches_finite_differences(objective, scaled.params_ + 0.05)
    longer = small_vqc(max_iter=30, input_scaling=True, optimizer="lbfgs").fit(X, y)
    assert not np.allclose(longer.weights_[-n_scale:], 1.0)


def test_input_scaling_of_an_expanded_feature_map():
    # ZZ-map angles (pi - x_i)(pi - x_j) become (pi - s_i x_i)(pi - s_j x_j), exactly.
    circuit = ZZFeatureMap(reps=1).build(2).with_input_scaling(offset=0)
    X = np.array([[0.3, 1.1]])
    s = np.array([2.0, 0.5])
    np.testing.assert_allclose(
        simulate(circuit, X, s), simulate(ZZFeatureMap(reps=1).build(2), X * s), atol=1e-12
    )


def test_warm_start_uses_the_backend_set_now():
    X, y = make_blobs(n_samples=12, centers=2, n_features=2, random_state=0)
    clf = VQC(warm_start=True, max_iter=1, backend=ShotsBackend(shots=100, seed=0))
    clf.fit(X, y)
    weights = clf.weights_.copy()
    clf.set_params(backend__shots=5000).fit(X, y)
    assert clf.backend_.shots == 5000
    assert not np.array_equal(clf.weights_, weights)  # continued training from them


# -- one estimator contract: atomic, guarded, consistent (issue #10) ---------------------------
MODELS = ["VQC", "VQR", "DataReuploadingClassifier"]


def make_model(name, **kw):
    """A small model of each class; mini-batch Adam so that an epoch takes several steps."""
    kw = {
        "optimizer": "adam",
        "max_iter": 3,
        "batch_size": 10,
        "learning_rate": 0.1,
        "random_state": 0,
        **kw,
    }
    if name == "VQC":
        return VQC(ansatz=RealAmplitudes(reps=1), **kw)
    if name == "VQR":
        return VQR(ansatz=RealAmplitudes(reps=1), **kw)
    return DataReuploadingClassifier(n_layers=1, **kw)


def model_data(name):
    X, y = binary_data()
    return (X, X[:, 0] - 0.5 * X[:, 1]) if name == "VQR" else (X, y)


def train(est, how, X, y):
    """One training call: ``fit``, or ``partial_fit`` (with the classes of a classifier)."""
    if how == "fit":
        return est.fit(X, y)
    return est.partial_fit(X, y) if isinstance(est, VQR) else est.partial_fit(X, y, classes=[0, 1])


def outputs(est, X):
    return est.predict(X) if isinstance(est, VQR) else est.predict_proba(X)


class BrokenBackend(Backend):
    """A backend whose device went away."""

    def expectations(self, circuit, paulis, X=None, weights=None, *, max_memory_mb=None):
        raise RuntimeError("device offline")


def fail_on_call(monkeypatch, error, n_ok):
    """Make the gradient pass raise ``error`` after ``n_ok`` successful calls (mid-fit)."""
    real = _models.expectation_vjp
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) > n_ok:
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(_models, "expectation_vjp", flaky)
    return calls


FAILURES = ["RuntimeError", "KeyboardInterrupt", "memory", "backend"]


def break_next_fit(est, failure, monkeypatch):
    """Arrange for the next training call of ``est`` to fail, and return the expected error."""
    if failure == "memory":
        est.set_params(max_memory_mb=1e-5)  # not even one sample's states fit
        return SimulationMemoryError
    if failure == "backend":
        est.set_params(backend=BrokenBackend())
        return RuntimeError
    error = RuntimeError("lost") if failure == "RuntimeError" else KeyboardInterrupt()
    fail_on_call(monkeypatch, error, n_ok=2)  # after two Adam steps
    return type(error)


@pytest.mark.parametrize("failure", FAILURES)
@pytest.mark.parametrize("how", ["fit", "partial_fit"])
@pytest.mark.parametrize("name", MODELS)
def test_failed_first_fit_leaves_the_model_unfitted(name, how, failure, monkeypatch):
    X, y = model_data(name)
    est = make_model(name)
    expected = break_next_fit(est, failure, monkeypatch)
    params = est.get_params(deep=False)
    with pytest.raises(expected):
        train(est, how, X, y)
    with pytest.raises(NotFittedError):
        check_is_fitted(est)
    assert sorted(vars(est)) == sorted(params)  # no attribute set, none left behind
    assert est.get_params(deep=False) == params


@pytest.mark.parametrize("failure", FAILURES)
@pytest.mark.parametrize("how", ["warm_start", "refit", "partial_fit"])
@pytest.mark.parametrize("name", MODELS)
def test_failed_later_fit_keeps_the_previous_fit(name, how, failure, monkeypatch):
    """Fitted state (Adam's moments included) and predictions are exactly those before."""
    X, y = model_data(name)
    est = make_model(name, warm_start=how == "warm_start")
    train(est, "partial_fit" if how == "partial_fit" else "fit", X, y)
    params, before = est.get_params(deep=False), outputs(est, X)
    expected = break_next_fit(est, failure, monkeypatch)
    state = pickle.dumps(vars(est))
    with pytest.raises(expected):
        train(est, "partial_fit" if how == "partial_fit" else "fit", X, y)
    assert pickle.dumps(vars(est)) == state
    monkeypatch.undo()  # the simulator works again, for the predictions
    est.set_params(**params)
    np.testing.assert_array_equal(outputs(est, X), before)


@pytest.mark.parametrize("name", MODELS)
def test_warm_start_and_partial_fit_do_not_change_the_previous_adam_state(name):
    X, y = model_data(name)
    est = make_model(name, warm_start=True)
    train(est, "fit", X, y)
    adam = est._adam
    moments = (adam.m.copy(), adam.v.copy(), adam.t)
    train(est, "fit", X, y)
    train(est, "partial_fit", X, y)
    # 4 batches an epoch: 3 epochs of fit, then 1 of partial_fit.
    assert est._adam is not adam and est._adam.t == moments[2] + 3 * 4 + 4
    np.testing.assert_array_equal(adam.m, moments[0])
    np.testing.assert_array_equal(adam.v, moments[1])
    assert adam.t == moments[2]


@pytest.mark.parametrize("name", MODELS)
def test_nothing_is_stashed_on_the_estimator_during_training(name, monkeypatch):
    """The loss gets the training data and the model as arguments: while it runs, the
    estimator holds its hyperparameters and n_features_in_ only (no _X_train, no half model)."""
    X, y = model_data(name)
    est = make_model(name)
    seen = []
    real = _models.expectation_vjp

    def spy(*args, **kwargs):
        seen.append(sorted(vars(est)))
        return real(*args, **kwargs)

    monkeypatch.setattr(_models, "expectation_vjp", spy)
    train(est, "fit", X, y)
    assert seen and all(
        attrs == sorted([*est.get_params(deep=False), "n_features_in_"]) for attrs in seen
    )
    assert not any(hasattr(est, name) for name in ("_X_train", "_Y_train"))


@pytest.mark.parametrize("name", ["VQC", "DataReuploadingClassifier"])
def test_messages_name_the_class_called(name):
    X, y = binary_data()
    with pytest.raises(ValueError, match=f"^{name} needs at least 2 classes in y"):
        make_model(name).fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match=f"^{name}.partial_fit needs classes="):
        make_model(name).partial_fit(X, y)
    with pytest.raises(ValueError, match=f"^{name} needs at least 2 classes"):
        make_model(name).partial_fit(X, y * 0, classes=[0])
    with pytest.raises(ValueError, match=f"first {name}.partial_fit call"):
        make_model(name).partial_fit(X, y, classes=[0, 1]).partial_fit(X, y, classes=[0, 1, 2])


@pytest.mark.parametrize("name", MODELS)
def test_memory_message_names_the_class_called(name):
    X, y = model_data(name)
    with pytest.raises(SimulationMemoryError, match=f"training {name} with adjoint gradients"):
        make_model(name, max_memory_mb=1e-5).fit(X, y)


def test_convergence_warning_points_at_the_callers_line():
    X, y = binary_data()
    with pytest.warns(ConvergenceWarning) as record:
        small_vqc(max_iter=1).fit(X, y)
    assert record[0].filename == __file__


# -- defaults: standardised angles, input scaling, read-out penalty, optimizer (issue #11) -----
def default_model(name, **kw):
    """Each class with its defaults (a small re-uploading model)."""
    kw = {"random_state": 0, **kw}
    if name == "VQC":
        return VQC(**kw)
    if name == "VQR":
        return VQR(**kw)
    return DataReuploadingClassifier(n_layers=1, **kw)


def unequal_scales(n=40, seed=0):
    """Three features far from the unit range, on scales that differ by 10**4."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)) * [20.0, 0.05, 300.0] + [5.0, -2.0, 1000.0]
    return X, (X[:, 0] / 20 + (X[:, 1] + 2) / 0.05 > 0).astype(int)


def targets_of(name, X, y):
    return X[:, 0] / 20 - X[:, 2] / 300 if name == "VQR" else y


@pytest.mark.parametrize("name", MODELS)
def test_angle_scale_auto_standardises_the_features(name):
    """The fitted circuit on the raw features is the unstandardised circuit on
    (x - mean) / std * angle, mean and std computed here with NumPy."""
    X, y = unequal_scales()
    t = targets_of(name, X, y)
    est = default_model(name, max_iter=2).fit(X, t)
    raw = default_model(name, max_iter=2, angle_scale=None).fit(X, t)
    angle = pi / 2  # VQC and VQR; DataReuploadingClassifier: pi / (n_layers + 1), n_layers=1
    Z = (X - X.mean(axis=0)) / X.std(axis=0) * angle
    np.testing.assert_allclose(est.x_mean_, X.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(est.x_scale_, X.std(axis=0) / angle, rtol=1e-12)
    np.testing.assert_array_equal(raw.x_mean_, 0.0)
    np.testing.assert_array_equal(raw.x_scale_, 1.0)
    theta = np.random.default_rng(1).uniform(-2, 2, est.weights_.shape)
    np.testing.assert_allclose(
        simulate(est.circuit_, X, theta), simulate(raw.circuit_, Z, theta), atol=1e-10
    )


def test_angle_scale_of_data_reuploading_follows_its_layers():
    X, y = unequal_scales()
    for n_layers in (0, 3):
        clf = DataReuploadingClassifier(n_layers=n_layers, max_iter=1, random_state=0).fit(X, y)
        np.testing.assert_allclose(clf.x_scale_, X.std(axis=0) / (pi / (n_layers + 1)))


def test_angle_scale_number_and_none():
    X, y = unequal_scales()
    clf = small_vqc(angle_scale=2.0, max_iter=1).fit(X, y)
    np.testing.assert_allclose(clf.x_scale_, X.std(axis=0) / 2.0, rtol=1e-12)
    plain = small_vqc(angle_scale=None, input_scaling=False, max_iter=1).fit(X, y)
    # None: the circuit is the feature map followed by the ansatz, reading x as given.
    assert plain.circuit_ == AngleEmbedding().build(3).compose(RealAmplitudes(reps=1).build(3))


def test_constant_feature_is_read_as_zero():
    X, y = unequal_scales()
    X = np.column_stack([X, np.full(len(X), 7.0)])
    clf = small_vqc(max_iter=3).fit(X, y)
    assert clf.x_mean_[3] == 7.0 and clf.x_scale_[3] == pytest.approx(1 / (pi / 2))
    # A new value of the constant feature is read as 123 * pi / 2: the model stays finite.
    new_value = np.column_stack([X[:, :3], np.full(len(X), 7.0 + 123.0)])
    assert np.all(np.isfinite(clf.predict_proba(new_value)))
    # On the training data the constant feature is read as 0, as a column of zeros is.
    theta = clf.weights_
    Z = np.column_stack([X[:, :3], np.zeros(len(X))])
    shifted = small_vqc(max_iter=3).fit(Z, y)
    np.testing.assert_allclose(
        simulate(clf.circuit_, X, theta), simulate(shifted.circuit_, Z, theta), atol=1e-10
    )


@pytest.mark.parametrize("name", MODELS)
def test_predictions_do_not_depend_on_the_units_of_the_features(name):
    """Standardised angles: a change of units (and origin) of every feature changes nothing."""
    X, y = unequal_scales()
    t = targets_of(name, X, y)
    a = default_model(name, max_iter=15).fit(X, t)
    X2 = X * [3.0, 1e3, 0.01] + [1.0, 2.0, -50.0]
    b = default_model(name, max_iter=15).fit(X2, t)
    np.testing.assert_allclose(outputs(b, X2), outputs(a, X), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(b.weights_, a.weights_, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", ["VQC", "DataReuploadingClassifier"])
def test_default_angles_train_where_raw_features_do_not(name):
    X, y = make_blobs(160, n_features=4, centers=2, cluster_std=3.0, random_state=0)
    X = X * [20.0, 0.05, 1.0, 300.0] + [5.0, -2.0, 0.0, 1000.0]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5, random_state=0)
    scaled = default_model(name).fit(X_train, y_train).score(X_test, y_test)
    raw = default_model(name, angle_scale=None).fit(X_train, y_train).score(X_test, y_test)
    assert scaled >= 0.85 and scaled >= raw + 0.1, (scaled, raw)


@pytest.mark.parametrize("how", ["warm_start", "partial_fit"])
def test_later_fits_keep_the_first_standardisation(how):
    X, y = unequal_scales()
    if how == "warm_start":
        clf = small_vqc(max_iter=2, warm_start=True).fit(X, y)
        first = (clf.x_mean_.copy(), clf.x_scale_.copy(), clf.circuit_)
        clf.fit(3 * X + 1, y)
    else:
        clf = small_vqc().partial_fit(X[:20], y[:20], classes=[0, 1])
        np.testing.assert_allclose(clf.x_mean_, X[:20].mean(axis=0), rtol=1e-12)
        first = (clf.x_mean_.copy(), clf.x_scale_.copy(), clf.circuit_)
        clf.partial_fit(X[20:], y[20:])
    np.testing.assert_array_equal(clf.x_mean_, first[0])
    np.testing.assert_array_equal(clf.x_scale_, first[1])
    assert clf.circuit_ == first[2]


def model_objective(est, X, t):
    """The training objective of a fitted model on ``(X, t)``, built as fit builds it."""
    if isinstance(est, VQR):
        Y = ((t - est.y_mean_) / est.y_scale_).reshape(-1, 1)
    else:
        Y = _one_hot(t, est.classes_)
    return _Objective(est._fitted_structure(est.backend_), X, Y, est.alpha)


@pytest.mark.parametrize("name", MODELS)
def test_gradient_with_defaults_matches_finite_differences(name):
    """Standardised angles, input scales (or input weights) and the read-out penalty."""
    X, y = unequal_scales(20)
    t = targets_of(name, X, y)
    est = default_model(name, max_iter=1, alpha=5.0).fit(X, t)
    params = est.params_ + np.random.default_rng(2).normal(scale=0.3, size=est.params_.shape)
    assert_gradient_matches_finite_differences(model_objective(est, X, t), params)


def test_penalty_is_on_the_readout_weights_only():
    X, y = unequal_scales(20)
    est = small_vqc(max_iter=1, alpha=3.0).fit(X, y)
    with_penalty = model_objective(est, X, y)
    without = _Objective(with_penalty.structure, X, with_penalty.Y, 0.0)
    params = np.random.default_rng(3).normal(size=est.params_.shape)
    rows = np.arange(len(X))
    loss_a, grad_a = with_penalty.loss_grad(params, rows)
    loss_0, grad_0 = without.loss_grad(params, rows)
    W, _ = with_penalty.structure.readout.split(with_penalty.structure.split(params)[1])
    # alpha / (2 n) ||W||^2, LogisticRegression(C=1)'s penalty at alpha=1.
    assert loss_a - loss_0 == pytest.approx(3.0 / (2 * len(X)) * np.sum(W**2), rel=1e-12)
    expected = np.zeros_like(params)
    expected[est.weights_.shape[0] : est.weights_.shape[0] + W.size] = 3.0 / len(X) * W.ravel()
    np.testing.assert_allclose(grad_a - grad_0, expected, atol=1e-12)
    assert with_penalty.loss(params, rows) == pytest.approx(loss_a, rel=1e-12)


def test_penalty_equals_logistic_regression_on_a_fixed_circuit():
    """With the circuit frozen, VQC's read-out is LogisticRegression(C=1) on the <Z_i>."""
    from scipy.optimize import minimize
    from sklearn.linear_model import LogisticRegression

    X, y = unequal_scales(40)
    est = small_vqc(max_iter=1).fit(X, y)
    objective = model_objective(est, X, y)
    theta = est.weights_
    n_w = theta.shape[0]
    rows = np.arange(len(X))

    def readout_only(wb):
        loss, grad = objective.loss_grad(np.concatenate([theta, wb]), rows)
        return loss, grad[n_w:]

    start = np.zeros(est.params_.shape[0] - n_w)
    options = {"gtol": 1e-12, "ftol": 1e-15}
    fitted = minimize(readout_only, start, jac=True, method="L-BFGS-B", options=options)
    E = expectations(est.circuit_, ["IIZ", "IZI", "ZII"], X, theta)
    lr = LogisticRegression(C=1.0, tol=1e-12, max_iter=10_000).fit(E, y)
    np.testing.assert_allclose(fitted.x[:-1], lr.coef_[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fitted.x[-1], lr.intercept_[0], rtol=1e-5, atol=1e-6)


def test_optimizer_auto_is_lbfgs_on_exact_backends_and_adam_on_others():
    X, y = binary_data()
    kw = {"ansatz": HardwareEfficient(n_layers=1), "max_iter": 3, "random_state": 0}
    fits = {}
    for backend, method in ((None, "lbfgs"), (ExpectationsOnly(), "adam")):
        auto = VQC(backend=backend, **kw).fit(X, y)
        fits[method] = VQC(backend=backend, optimizer=method, **kw).fit(X, y)
        np.testing.assert_array_equal(auto.params_, fits[method].params_)
        assert auto.loss_curve_ == fits[method].loss_curve_
    # Adam and L-BFGS do take different paths here.
    assert not np.allclose(fits["adam"].params_, fits["lbfgs"].params_)


@pytest.mark.parametrize("angle_scale", [0, -1.0, np.inf, np.nan, "scale", "1"])
@pytest.mark.parametrize("name", MODELS)
def test_bad_angle_scale_is_refused(name, angle_scale):
    X, y = unequal_scales()
    est = default_model(name, angle_scale=angle_scale)
    with pytest.raises(ValueError, match="angle_scale"):
        est.fit(X, targets_of(name, X, y))
    assert not hasattr(est, "x_mean_")


def test_default_hyperparameters():
    """The defaults of issue #11 (old values: angle_scale did not exist, input_scaling=False,
    optimizer="adam", alpha=1e-4 on every parameter)."""
    for cls in (VQC, VQR):
        params = cls().get_params()
        assert params["angle_scale"] == "auto" and params["input_scaling"] is True
        assert params["optimizer"] == "auto" and params["alpha"] == 1.0
        assert params["learning_rate"] == 0.05 and params["max_iter"] == 200
    params = DataReuploadingClassifier().get_params()
    assert params["angle_scale"] == "auto" and "input_scaling" not in params
    assert params["optimizer"] == "auto" and params["alpha"] == 1.0 and params["n_layers"] == 3


# -- ansatzes of another width ----------------------------------------------------------------
class WiderAnsatz(Ansatz):
    """Builds a circuit one qubit wider than asked."""

    def n_weights(self, n_qubits):
        return 1

    def build(self, n_qubits, offset=0):
        return Circuit(n_qubits + 1).ry(weight(offset), n_qubits)


class ShortInitialWeights(Ansatz):
    """One RY per qubit, but one initial weight too few."""

    def n_weights(self, n_qubits):
        return n_qubits

    def build(self, n_qubits, offset=0):
        circuit = Circuit(n_qubits)
        for q in range(n_qubits):
            circuit = circuit.ry(weight(offset + q), q)
        return circuit

    def initial_weights(self, n_qubits, random_state=None):
        return np.zeros(n_qubits - 1)


@pytest.mark.parametrize("cls", [VQC, VQR])
def test_ansatz_of_another_width_or_weight_count_is_refused_by_name(cls):
    X, y = binary_data()
    name = cls.__name__
    with pytest.raises(ValueError, match=rf"{name} runs on 2 qubits.*WiderAnsatz built a 3-qubit"):
        cls(ansatz=WiderAnsatz()).fit(X, y)
    with pytest.raises(
        ValueError, match=r"ShortInitialWeights.initial_weights\(2\) must return 2"
    ):
        cls(ansatz=ShortInitialWeights()).fit(X, y)
    with pytest.raises(ValueError, match=f"{name} needs an ansatz of weights only"):
        cls(ansatz=DataReuploading(n_layers=1)).fit(X, y)
    assert not hasattr(cls(ansatz=WiderAnsatz()), "circuit_")


# -- memory guard first -----------------------------------------------------------------------
_WIDE_FIT_SCRIPT = """
import json, os, resource, sys
import numpy as np

limit = 3 * 1024**3
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
os.environ.pop("SKQML_MAX_MEMORY_MB", None)
# The default budget is half the memory available; make it the 3 GiB this process may use.
real_sysconf = os.sysconf
os.sysconf = lambda name: (
    limit // real_sysconf("SC_PAGE_SIZE") if name == "SC_AVPHYS_PAGES" else real_sysconf(name)
)
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted
from skqml.simulator import SimulationMemoryError
from skqml.variational import VQC

results = []
for n_features, max_memory_mb in [(24, 100), (40, 100), (24, None), (40, None)]:
    X = np.random.default_rng(0).uniform(-1, 1, (20, n_features))
    clf = VQC(max_memory_mb=max_memory_mb, random_state=0)
    try:
        clf.fit(X, np.arange(20) % 2)
        outcome = "fitted"
    except SimulationMemoryError as exc:
        outcome = str(exc)
    try:
        check_is_fitted(clf)
        fitted = True
    except NotFittedError:
        fitted = False
    results.append([n_features, max_memory_mb, outcome, fitted])
print(json.dumps(results))
"""


def test_wide_circuits_are_refused_before_any_large_allocation():
    """24 and 40 features (qubits): refused up front, in a process of 3 GiB address space."""
    run = subprocess.run(
        [sys.executable, "-c", _WIDE_FIT_SCRIPT],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    results = json.loads(run.stdout.strip().splitlines()[-1])
    assert len(results) == 4
    for n_features, _, message, fitted in results:
        assert f"training VQC with adjoint gradients ({n_features} qubits" in message
        assert "use fewer features" in message
        assert not fitted


# -- same names, same meaning -----------------------------------------------------------------
@pytest.mark.parametrize("name", MODELS)
def test_numpy_scalars_for_every_numeric_hyperparameter(name):
    X, y = model_data(name)
    grid = {
        "max_iter": np.array([1, 2]),
        "learning_rate": np.array([0.05, 0.1]),
        "max_memory_mb": [np.float64(100.0), np.float32(50.0)],
        "batch_size": [np.int64(16)],
        "tol": [np.float32(1e-3)],
        "n_iter_no_change": [np.int32(5)],
        "alpha": [np.float64(1e-3)],
    }
    if name == "DataReuploadingClassifier":
        grid["n_layers"] = np.array([0, 1])
    search = GridSearchCV(make_model(name), grid, cv=2).fit(X, y)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    est = make_model(name).set_params(**{k: v[-1] for k, v in grid.items()})
    est.set_params(early_stopping=np.bool_(True), validation_fraction=np.float64(0.25))
    assert est.fit(X, y).n_iter_ >= 1


def test_backend_none_means_statevector():
    X, y = binary_data()
    clf = small_vqc(backend=None, max_iter=2).fit(X, y)
    assert clf.backend_ == StatevectorBackend()
    np.testing.assert_array_equal(clf.weights_, small_vqc(max_iter=2).fit(X, y).weights_)


def test_random_state_instance_is_consumed_and_int_seeds_reproduce():
    X, y = binary_data()
    a = small_vqc(max_iter=2, random_state=np.random.RandomState(0)).fit(X, y)
    b = small_vqc(max_iter=2, random_state=np.random.RandomState(0)).fit(X, y)
    np.testing.assert_array_equal(a.weights_, b.weights_)  # equal instances, equal fits
    before = a.weights_.copy()
    a.fit(X, y)  # the instance has moved on: other initial weights
    assert not np.allclose(a.weights_, before)
    seeded = small_vqc(max_iter=2, random_state=np.int64(3)).fit(X, y)
    np.testing.assert_array_equal(
        seeded.weights_, small_vqc(max_iter=2, random_state=3).fit(X, y).weights_
    )


def test_observable_labels_use_the_shared_pauli_check():
    X, y = binary_data()
    with pytest.raises(ValueError, match=r"^observable 'ZA' must be 2 characters from I, X, Y, Z"):
        small_vqc(observables=["ZA"]).fit(X, y)
    with pytest.raises(ValueError, match="coefficient of observable 'ZZ' must be a finite real"):
        small_vqc(observables=[{"ZZ": np.inf}]).fit(X, y)
    clf = small_vqc(observables=[{"zz": np.float32(0.5)}], max_iter=1).fit(X, y)
    assert clf.observables_ == [{"ZZ": 0.5}]


@pytest.mark.parametrize("cls", [VQC, VQR, DataReuploadingClassifier])
def test_public_methods_have_numpydoc_parameters_and_returns(cls):
    for method in (
        "fit",
        "partial_fit",
        "predict",
        "predict_proba",
        "predict_log_proba",
        "decision_function",
    ):
        if hasattr(cls, method):
            doc = getattr(cls, method).__doc__
            assert "Parameters\n" in doc and "Returns\n" in doc, f"{cls.__name__}.{method}"
