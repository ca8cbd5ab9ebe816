"""Tests for skqml.svm (QSVC, QSVR).

References: sklearn's ``SVC``/``SVR(kernel="precomputed")`` (and ``CalibratedClassifierCV``)
fitted on Gram matrices built from independent dense states (``tests/_reference.py``) or dense
Bloch vectors; the ad hoc data set, which a ZZ-feature-map kernel separates by construction.
"""

from __future__ import annotations

import pickle
import time
import warnings
from unittest import mock

import joblib
import numpy as np
import pytest
from _reference import circuit_unitary
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import make_blobs, make_moons
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import (
    GridSearchCV,
    StratifiedKFold,
    cross_val_score,
    train_test_split,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler
from sklearn.svm import SVC, SVR

from skqml.backends import StatevectorBackend
from skqml.backends import _base as backend_base
from skqml.circuits import AngleEmbedding, HeisenbergEmbedding, ZZFeatureMap
from skqml.datasets import make_ad_hoc
from skqml.kernels import FidelityQuantumKernel, ProjectedQuantumKernel
from skqml.simulator import SimulationMemoryError
from skqml.svm import QSVC, QSVR

PAULI = [
    np.array([[0, 1], [1, 0]], dtype=complex),
    np.array([[0, -1j], [1j, 0]]),
    np.array([[1, 0], [0, -1]], dtype=complex),
]


# --------------------------------------------------------------------------------------------
# Data and independent references
# --------------------------------------------------------------------------------------------
def _ad_hoc_split(n_samples=80, n_features=2, seed=0):
    X, y = make_ad_hoc(n_samples=n_samples, n_features=n_features, random_state=seed)
    return train_test_split(X, y, test_size=0.25, random_state=seed, stratify=y)


def _three_classes(seed=0):
    X, y = make_blobs(n_samples=60, centers=3, n_features=2, cluster_std=1.5, random_state=seed)
    X = MinMaxScaler((0, np.pi)).fit_transform(X)
    return train_test_split(X, y, test_size=0.25, random_state=seed, stratify=y)


def _regression(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, np.pi, size=(50, 2))
    y = np.sin(X[:, 0]) + np.cos(X[:, 1]) + 0.05 * rng.normal(size=50)
    return X[:40], X[40:], y[:40], y[40:]


def dense_states(feature_map, X):
    circuit = feature_map.build(X.shape[1])
    return np.array([circuit_unitary(circuit, x)[:, 0] for x in X])


def dense_fidelity(feature_map, X, Y):
    SX, SY = dense_states(feature_map, X), dense_states(feature_map, Y)
    return np.abs(SX.conj() @ SY.T) ** 2


def dense_bloch(states):
    """Bloch vectors (n_samples, n_qubits * 3) by explicit partial traces."""
    n = int(np.log2(states.shape[1]))
    out = []
    for psi in states:
        t = psi.reshape((2,) * n)
        row = []
        for q in range(n):
            m = np.moveaxis(t, n - 1 - q, 0).reshape(2, -1)
            rho = m @ m.conj().T
            row += [np.trace(rho @ p).real for p in PAULI]
        out.append(row)
    return np.array(out)


TOL = 1e-10  # libsvm tolerance for comparisons with precomputed-kernel SVMs


class _SimulationSpy:
    """Records the number of rows of every simulator call made through the backend."""

    def __init__(self):
        self.rows = []

    def __enter__(self):
        original = backend_base.simulate

        def simulate(circuit, X=None, *args, **kwargs):
            self.rows.append(np.shape(X)[0])
            return original(circuit, X, *args, **kwargs)

        self._patch = mock.patch.object(backend_base, "simulate", simulate)
        self._patch.start()
        return self

    def __exit__(self, *exc):
        self._patch.stop()


# --------------------------------------------------------------------------------------------
# Accuracy
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n_features", [2, 3])
def test_qsvc_ad_hoc_high_accuracy(n_features):
    Xtr, Xte, ytr, yte = _ad_hoc_split(n_features=n_features)
    clf = QSVC(bandwidth=1.0, C=1.0).fit(Xtr, ytr)
    assert clf.score(Xtr, ytr) == 1.0
    assert clf.score(Xte, yte) >= 0.9
    assert clf.n_qubits_ == n_features and clf.circuit_.n_qubits == n_features
    assert clf.n_features_in_ == n_features
    np.testing.assert_array_equal(clf.classes_, [0, 1])


def test_qsvc_ad_hoc_beats_wrong_kernel():
    # The data are labelled through the ZZ feature map: the angle embedding does much worse.
    Xtr, Xte, ytr, yte = _ad_hoc_split()
    good = QSVC(bandwidth=1.0, C=1.0).fit(Xtr, ytr).score(Xte, yte)
    bad = QSVC(AngleEmbedding(), bandwidth=1.0, C=1.0).fit(Xtr, ytr).score(Xte, yte)
    assert good - bad >= 0.2


# --------------------------------------------------------------------------------------------
# Agreement with precomputed-kernel sklearn SVMs on independent Gram matrices
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("C", [0.5, 10.0])
def test_qsvc_decision_function_equals_precomputed_svc(C):
    fm = ZZFeatureMap(reps=2)
    Xtr, Xte, ytr, _ = _ad_hoc_split(n_samples=60)
    clf = QSVC(fm, C=C, tol=TOL, bandwidth=1.0).fit(Xtr, ytr)
    ref = SVC(kernel="precomputed", C=C, tol=TOL).fit(dense_fidelity(fm, Xtr, Xtr), ytr)
    expected = ref.decision_function(dense_fidelity(fm, Xte, Xtr))
    np.testing.assert_allclose(clf.decision_function(Xte), expected, rtol=0, atol=1e-8)
    np.testing.assert_array_equal(clf.predict(Xte), ref.predict(dense_fidelity(fm, Xte, Xtr)))
    np.testing.assert_array_equal(clf.support_, ref.support_)
    np.testing.assert_allclose(clf.dual_coef_, ref.dual_coef_, rtol=0, atol=1e-8)
    np.testing.assert_allclose(clf.intercept_, ref.intercept_, rtol=0, atol=1e-8)


def test_qsvc_projected_scale_uses_training_gamma():
    fm = HeisenbergEmbedding(trotter_steps=2)
    Xtr, Xte, ytr, _ = _ad_hoc_split(n_samples=40)
    Xtr, Xte = Xtr / 3, Xte / 3
    clf = QSVC(fm, kernel="projected", gamma="scale", tol=TOL, bandwidth=1.0, C=1.0).fit(Xtr, ytr)
    Btr, Bte = dense_bloch(dense_states(fm, Xtr)), dense_bloch(dense_states(fm, Xte))
    gamma = 1.0 / np.var(Btr, axis=0).sum()  # the Bloch vectors' column variances, summed
    assert clf.kernel_.gamma == pytest.approx(gamma, rel=1e-10)
    assert clf.gamma == "scale"

    def rbf(A, B):
        return np.exp(-gamma * ((A[:, None, :] - B[None, :, :]) ** 2).sum(axis=2))

    ref = SVC(kernel="precomputed", tol=TOL).fit(rbf(Btr, Btr), ytr)
    expected = ref.decision_function(rbf(Bte, Btr))
    np.testing.assert_allclose(clf.decision_function(Xte), expected, rtol=0, atol=1e-8)


def test_qsvc_multiclass_predict_is_argmax_of_decision_function():
    fm = AngleEmbedding()
    Xtr, Xte, ytr, yte = _three_classes()
    labels = np.array(["ant", "bee", "cat"])
    clf = QSVC(fm, C=5.0, tol=TOL, bandwidth=1.0).fit(Xtr, labels[ytr])
    df = clf.decision_function(Xte)
    assert df.shape == (len(Xte), 3)
    np.testing.assert_array_equal(clf.classes_, labels)
    np.testing.assert_array_equal(clf.predict(Xte), clf.classes_[np.argmax(df, axis=1)])
    np.testing.assert_array_equal(
        clf.predict(Xtr), clf.classes_[clf.decision_function(Xtr).argmax(1)]
    )
    assert clf.score(Xte, labels[yte]) >= 0.8
    ref = SVC(kernel="precomputed", C=5.0, tol=TOL, break_ties=True).fit(
        dense_fidelity(fm, Xtr, Xtr), labels[ytr]
    )
    Kte = dense_fidelity(fm, Xte, Xtr)
    np.testing.assert_allclose(df, ref.decision_function(Kte), rtol=0, atol=1e-8)
    np.testing.assert_array_equal(clf.predict(Xte), ref.predict(Kte))
    ovo = QSVC(fm, C=5.0, decision_function_shape="ovo", bandwidth=1.0).fit(Xtr, ytr)
    assert ovo.decision_function(Xte).shape == (len(Xte), 3)


def test_qsvc_binary_predict_agrees_with_decision_function():
    Xtr, Xte, ytr, _ = _ad_hoc_split()
    clf = QSVC(C=0.3, bandwidth=1.0).fit(Xtr, ytr)
    X = np.vstack([Xtr, Xte])
    np.testing.assert_array_equal(
        clf.predict(X), clf.classes_[(clf.decision_function(X) > 0).astype(int)]
    )


def test_qsvc_sample_weight_equals_precomputed():
    fm = ZZFeatureMap(reps=1)
    Xtr, Xte, ytr, _ = _ad_hoc_split(n_samples=40)
    w = np.random.default_rng(0).uniform(0.2, 3.0, size=len(ytr))
    clf = QSVC(fm, tol=TOL, bandwidth=1.0, C=1.0).fit(Xtr, ytr, sample_weight=w)
    ref = SVC(kernel="precomputed", tol=TOL).fit(
        dense_fidelity(fm, Xtr, Xtr), ytr, sample_weight=w
    )
    np.testing.assert_allclose(
        clf.decision_function(Xte),
        ref.decision_function(dense_fidelity(fm, Xte, Xtr)),
        rtol=0,
        atol=1e-8,
    )


@pytest.mark.parametrize("kernel", ["fidelity", "projected"])
def test_qsvr_equals_precomputed_svr(kernel):
    fm = AngleEmbedding("Y")
    Xtr, Xte, ytr, yte = _regression()
    # libsvm stops at tol: with the default 1e-3, a 4e-16 change of the Gram matrix moves the
    # predictions by 8e-4. Tight tolerances make both solvers reach the same optimum.
    reg = QSVR(fm, kernel=kernel, C=3.0, epsilon=0.02, gamma=0.8, tol=TOL, bandwidth=1.0)
    reg = reg.fit(Xtr, ytr)
    if kernel == "fidelity":
        K, Kte = dense_fidelity(fm, Xtr, Xtr), dense_fidelity(fm, Xte, Xtr)
    else:
        Btr, Bte = dense_bloch(dense_states(fm, Xtr)), dense_bloch(dense_states(fm, Xte))
        K = np.exp(-0.8 * ((Btr[:, None] - Btr[None]) ** 2).sum(axis=2))
        Kte = np.exp(-0.8 * ((Bte[:, None] - Btr[None]) ** 2).sum(axis=2))
    ref = SVR(kernel="precomputed", C=3.0, epsilon=0.02, tol=TOL).fit(K, ytr)
    np.testing.assert_allclose(reg.predict(Xte), ref.predict(Kte), rtol=0, atol=1e-8)
    assert reg.score(Xte, yte) > 0.8
    assert reg.support_embedding_.shape[0] == len(reg.support_)


# --------------------------------------------------------------------------------------------
# Prediction simulates only the new samples
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kernel", ["fidelity", "projected"])
def test_predict_simulates_only_new_samples(kernel):
    Xtr, Xte, ytr, _ = _ad_hoc_split(n_samples=60)
    with _SimulationSpy() as spy:
        clf = QSVC(kernel=kernel).fit(Xtr, ytr)
    assert spy.rows == [len(Xtr)]
    with _SimulationSpy() as spy:
        clf.predict(Xte[:5])
    assert spy.rows == [5]
    with _SimulationSpy() as spy:
        clf.decision_function(Xte[:3])
        clf.score(Xte[:4], np.zeros(4, dtype=int))
    assert spy.rows == [3, 4]
    assert clf.support_embedding_.shape[0] == len(clf.support_)
    assert 0 < len(clf.support_) < len(Xtr)
    expected = clf.kernel_.embed(Xtr[np.sort(clf.support_)])  # kept in training order
    np.testing.assert_array_equal(clf.support_embedding_, expected)


def test_qsvr_predict_simulates_only_new_samples():
    Xtr, Xte, ytr, _ = _regression()
    reg = QSVR(AngleEmbedding(), bandwidth=1.0, C=1.0).fit(Xtr, ytr)
    with _SimulationSpy() as spy:
        reg.predict(Xte[:5])
    assert spy.rows == [5]


def test_predict_embeds_with_the_kernel_once():
    Xtr, Xte, ytr, _ = _ad_hoc_split(n_samples=40)
    clf = QSVC(bandwidth=1.0, C=1.0).fit(Xtr, ytr)
    with mock.patch.object(
        FidelityQuantumKernel, "embed", autospec=True, side_effect=FidelityQuantumKernel.embed
    ) as embed:
        clf.predict(Xte[:5])
    assert embed.call_count == 1
    assert embed.call_args.args[1].shape == (5, 2)


# --------------------------------------------------------------------------------------------
# The user story and model selection: identical for n_jobs 1 and 2
# --------------------------------------------------------------------------------------------
def _user_story_search(n_jobs):
    X, y = make_ad_hoc(n_samples=60, random_state=0)
    pipe = Pipeline(
        [
            ("scaler", MinMaxScaler((0, 3.14159))),
            ("qsvc", QSVC(feature_map=ZZFeatureMap(reps=2), bandwidth=1.0, C=1.0)),
        ]
    )
    grid = {
        "qsvc__feature_map__reps": [1, 2],
        "qsvc__feature_map__entanglement": ["linear", "full"],
        "qsvc__C": [0.1, 1],
    }
    return GridSearchCV(pipe, grid, cv=3, n_jobs=n_jobs).fit(X, y)


def test_user_story_grid_search_identical_for_n_jobs():
    serial, parallel = _user_story_search(1), _user_story_search(2)
    assert serial.best_params_ == parallel.best_params_
    np.testing.assert_array_equal(
        serial.cv_results_["mean_test_score"], parallel.cv_results_["mean_test_score"]
    )
    scores = serial.cv_results_["mean_test_score"]
    assert len(scores) == 8 and scores.max() > 0.6
    # reps matters (it changes the kernel); on 2 qubits "linear" and "full" are the same pair.
    params = serial.cv_results_["params"]
    by = {tuple(sorted(p.items())): s for p, s in zip(params, scores, strict=True)}
    assert len(set(np.round(scores, 12))) > 1
    for p, s in by.items():
        d = dict(p)
        d["qsvc__feature_map__entanglement"] = "full"
        assert by[tuple(sorted(d.items()))] == s
    best = serial.best_estimator_.named_steps["qsvc"]
    assert best.feature_map.reps == serial.best_params_["qsvc__feature_map__reps"]
    assert best.circuit_ == ZZFeatureMap(
        reps=serial.best_params_["qsvc__feature_map__reps"],
        entanglement=serial.best_params_["qsvc__feature_map__entanglement"],
    ).build(2)


def test_cross_val_score_identical_for_n_jobs():
    X, y = make_ad_hoc(n_samples=60, random_state=1)
    clf = QSVC(ZZFeatureMap(reps=1), C=0.5, bandwidth=1.0)
    s1 = cross_val_score(clf, X, y, cv=3, n_jobs=1)
    s2 = cross_val_score(clf, X, y, cv=3, n_jobs=2)
    np.testing.assert_array_equal(s1, s2)
    assert s1.mean() > 0.6


def test_kernel_n_jobs_does_not_change_results():
    Xtr, Xte, ytr, _ = _ad_hoc_split()
    d1 = QSVC(n_jobs=1, max_memory_mb=0.05).fit(Xtr, ytr).decision_function(Xte)
    with joblib.parallel_config(backend="threading"):
        d2 = QSVC(n_jobs=2, max_memory_mb=0.05).fit(Xtr, ytr).decision_function(Xte)
    np.testing.assert_array_equal(d1, d2)


def test_grid_over_kernel_and_backend_strings():
    X, y = make_ad_hoc(n_samples=45, random_state=2)
    pipe = Pipeline([("scaler", MinMaxScaler((0, np.pi))), ("qsvc", QSVC(gamma="scale"))])
    grid = {"qsvc__kernel": ["fidelity", "projected"], "qsvc__backend": ["statevector"]}
    search = GridSearchCV(pipe, grid, cv=3).fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    assert len(scores) == 2 and scores[0] != scores[1]
    best = search.best_estimator_.named_steps["qsvc"]
    expected_cls = {"fidelity": FidelityQuantumKernel, "projected": ProjectedQuantumKernel}
    assert type(best.kernel_) is expected_cls[search.best_params_["qsvc__kernel"]]
    assert isinstance(best.backend_, StatevectorBackend) and best.backend == "statevector"


# --------------------------------------------------------------------------------------------
# Persistence and probabilities
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "estimator",
    [QSVC(ZZFeatureMap(reps=1)), QSVC(kernel="projected", gamma="scale"), QSVR()],
    ids=repr,
)
def test_pickle_and_joblib_round_trip(estimator, tmp_path):
    Xtr, Xte, ytr, _ = _ad_hoc_split(n_samples=40)
    model = clone(estimator).fit(Xtr / 2, ytr)
    expected = model.predict(Xte / 2)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(Xte / 2), expected)
    path = tmp_path / "model.joblib"
    joblib.dump(model, path)
    loaded = joblib.load(path)
    np.testing.assert_array_equal(loaded.predict(Xte / 2), expected)
    if isinstance(model, QSVC):
        np.testing.assert_array_equal(
            loaded.decision_function(Xte / 2), model.decision_function(Xte / 2)
        )


def test_probability_rows_sum_to_one_and_reproducible():
    fm = AngleEmbedding()
    Xtr, Xte, ytr, _ = _three_classes()
    clf = QSVC(fm, probability=True, random_state=0, tol=TOL, bandwidth=1.0, C=1.0).fit(Xtr, ytr)
    proba = clf.predict_proba(Xte)
    assert proba.shape == (len(Xte), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert (proba >= 0).all() and proba.max() > 0.6
    np.testing.assert_allclose(clf.predict_log_proba(Xte), np.log(proba))
    again = (
        QSVC(fm, probability=True, random_state=0, tol=TOL, bandwidth=1.0, C=1.0)
        .fit(Xtr, ytr)
        .predict_proba(Xte)
    )
    np.testing.assert_array_equal(proba, again)
    # Reference: the documented calibration on an independent Gram matrix.
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    ref = CalibratedClassifierCV(
        SVC(kernel="precomputed", tol=TOL, break_ties=True), ensemble=False, cv=cv
    ).fit(dense_fidelity(fm, Xtr, Xtr), ytr)
    np.testing.assert_allclose(
        proba, ref.predict_proba(dense_fidelity(fm, Xte, Xtr)), rtol=0, atol=1e-8
    )
    other = QSVC(fm, probability=True, random_state=3, tol=TOL).fit(Xtr, ytr).predict_proba(Xte)
    assert np.abs(other - proba).max() > 1e-6
    assert not hasattr(QSVC(fm).fit(Xtr, ytr), "predict_proba")


# --------------------------------------------------------------------------------------------
# Hyperparameter hygiene
# --------------------------------------------------------------------------------------------
def test_set_params_then_fit_changes_behaviour():
    Xtr, Xte, ytr, _ = _ad_hoc_split(n_samples=40)
    clf = QSVC(ZZFeatureMap(reps=2)).fit(Xtr, ytr)
    d_before = clf.decision_function(Xte)
    clf.set_params(feature_map__reps=1, C=3.0).fit(Xtr, ytr)
    assert clf.circuit_ == ZZFeatureMap(reps=1).build(2)
    d_after = clf.decision_function(Xte)
    assert np.abs(d_after - d_before).max() > 1e-3
    fresh = QSVC(ZZFeatureMap(reps=1), C=3.0).fit(Xtr, ytr)
    np.testing.assert_array_equal(d_after, fresh.decision_function(Xte))
    clf.set_params(kernel="projected").fit(Xtr, ytr)
    assert isinstance(clf.kernel_, ProjectedQuantumKernel)
    clf.set_params(bandwidth=0.5).fit(Xtr, ytr)
    assert clf.kernel_.bandwidth == 0.5


@pytest.mark.parametrize(
    "estimator",
    [
        QSVC(),
        QSVC(ZZFeatureMap(reps=1), backend=StatevectorBackend(), bandwidth=0.4),
        QSVC(kernel=ProjectedQuantumKernel(gamma="scale"), probability=True, random_state=0),
        QSVC(kernel="projected", gamma="scale"),
        QSVR(AngleEmbedding(), epsilon=0.2),
        QSVR(kernel=FidelityQuantumKernel(ZZFeatureMap(reps=1), n_jobs=1)),
    ],
    ids=repr,
)
def test_fit_never_modifies_hyperparameters(estimator):
    Xtr, _, ytr, _ = _ad_hoc_split(n_samples=40)
    before = {k: repr(v) for k, v in estimator.get_params(deep=True).items()}
    objects = {k: v for k, v in estimator.get_params(deep=False).items()}
    estimator.fit(Xtr, ytr)
    after = {k: repr(v) for k, v in estimator.get_params(deep=True).items()}
    assert before == after
    for k, v in estimator.get_params(deep=False).items():
        assert v is objects[k]
    assert estimator.kernel_ is not estimator.kernel
    if estimator.feature_map is not None:
        assert estimator.kernel_.feature_map is not estimator.feature_map
    if isinstance(estimator.kernel, ProjectedQuantumKernel):
        assert estimator.kernel.gamma == "scale" and estimator.kernel_.gamma != "scale"


def test_backend_resolved_into_backend_():
    Xtr, _, ytr, _ = _ad_hoc_split(n_samples=40)
    backend = StatevectorBackend()
    clf = QSVC(backend=backend).fit(Xtr, ytr)
    assert clf.backend is backend
    assert isinstance(clf.backend_, StatevectorBackend) and clf.backend_ is not backend
    assert clf.backend_ == backend
    clf = QSVC().fit(Xtr, ytr)
    assert clf.backend == "statevector" and isinstance(clf.backend_, StatevectorBackend)
    clf = QSVC(backend="STATEVECTOR").fit(Xtr, ytr)
    assert clf.backend == "STATEVECTOR" and isinstance(clf.backend_, StatevectorBackend)


def test_clone_and_repr():
    clf = QSVC(ZZFeatureMap(reps=1), C=2.0)
    c = clone(clf)
    assert c.feature_map is not clf.feature_map and c.feature_map == clf.feature_map
    assert repr(clf) == "QSVC(C=2.0, feature_map=ZZFeatureMap(reps=1))"
    params = clf.get_params(deep=True)
    assert params["feature_map__reps"] == 1 and params["C"] == 2.0


# --------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [QSVC, QSVR])
@pytest.mark.parametrize(
    ("X", "match"),
    [
        (np.array([[0.1, np.nan], [0.2, 0.3]]), "NaN"),
        (np.array([[0.1, np.inf], [0.2, 0.3]]), "infinity"),
        (np.array([0.1, 0.2]), "2D array"),
        (np.empty((0, 2)), "0 sample"),
    ],
    ids=["nan", "inf", "1d", "empty"],
)
def test_bad_X_at_fit(cls, X, match):
    with pytest.raises(ValueError, match=match):
        cls().fit(X, np.arange(len(X)) % 2)


@pytest.mark.parametrize("cls", [QSVC, QSVR])
def test_bad_X_at_predict(cls):
    Xtr, Xte, ytr, _ = _ad_hoc_split(n_samples=40)
    model = cls(ZZFeatureMap(reps=1)).fit(Xtr, ytr)
    with pytest.raises(ValueError, match="features"):
        model.predict(np.ones((3, 3)))
    with pytest.raises(ValueError, match="NaN"):
        model.predict(np.array([[0.1, np.nan]]))
    with pytest.raises(ValueError, match="infinity"):
        model.predict(np.array([[0.1, np.inf]]))
    with pytest.raises(ValueError, match="2D array"):
        model.predict(Xte[0])
    with pytest.raises(NotFittedError):
        cls().predict(Xte)


def test_single_class():
    with pytest.raises(ValueError, match="class"):
        QSVC().fit(np.ones((5, 2)), np.zeros(5))


def test_unknown_backend_lists_known_names():
    Xtr, _, ytr, _ = _ad_hoc_split(n_samples=40)
    with pytest.raises(ValueError, match=r"unknown backend 'quantum_magic'.*statevector"):
        QSVC(backend="quantum_magic").fit(Xtr, ytr)
    with pytest.raises(ValueError, match="statevector"):
        QSVR(backend="nope").fit(Xtr, ytr.astype(float))


def test_unknown_kernel_string():
    Xtr, _, ytr, _ = _ad_hoc_split(n_samples=40)
    with pytest.raises(ValueError, match="kernel"):
        QSVC(kernel="rbf").fit(Xtr, ytr)


def test_feature_map_and_kernel_object_both_given():
    Xtr, _, ytr, _ = _ad_hoc_split(n_samples=40)
    with pytest.raises(ValueError, match="feature map inside the kernel"):
        QSVC(ZZFeatureMap(), kernel=FidelityQuantumKernel()).fit(Xtr, ytr)


def test_feature_map_not_a_feature_map():
    Xtr, _, ytr, _ = _ad_hoc_split(n_samples=40)
    with pytest.raises((TypeError, ValueError), match="feature_map"):
        QSVC(feature_map="zz").fit(Xtr, ytr)


@pytest.mark.parametrize("cls", [QSVC, QSVR])
def test_too_many_qubits_refused_quickly(cls):
    rng = np.random.default_rng(0)
    X, y = rng.uniform(size=(6, 30)), np.array([0, 1] * 3)
    start = time.perf_counter()
    with pytest.raises(SimulationMemoryError, match="30 qubits"):
        cls().fit(X, y)
    assert time.perf_counter() - start < 5.0


@pytest.mark.parametrize(
    "setting",
    [
        {"mitigation": "average"},
        {"backend": "shots"},
        {"bandwidth": 0.5},
        {"max_memory_mb": 10.0},
        {"n_jobs": 2},
    ],
)
def test_kernel_object_settings_are_not_silently_ignored(setting):
    from skqml.kernels import FidelityQuantumKernel

    X, y = make_ad_hoc(n_samples=10, n_features=2, random_state=0)
    kernel = FidelityQuantumKernel(ZZFeatureMap(reps=1))
    with pytest.raises(ValueError, match=f"{next(iter(setting))} must be set on the kernel"):
        QSVC(kernel=kernel, **setting).fit(X, y)
    # Set on the kernel object itself, the same setting is used.
    key, value = next(iter(setting.items()))
    if key != "n_jobs":
        fitted = QSVC(kernel=clone(kernel).set_params(**{key: value})).fit(X, y)
        assert fitted.kernel_.get_params()[key] == value


def test_enforce_psd_is_validated_on_every_backend():
    from sklearn.utils._param_validation import InvalidParameterError

    from skqml.kernels import FidelityQuantumKernel

    with pytest.raises(InvalidParameterError, match="enforce_psd"):
        FidelityQuantumKernel(enforce_psd="yes")(np.ones((2, 2)))


# --------------------------------------------------------------------------------------------
# Atomic fits: a failure leaves the estimator as it was
# --------------------------------------------------------------------------------------------
class _FailingBackend(StatevectorBackend):
    """An exact backend whose simulations fail, like a remote device that went away."""

    def statevectors(self, circuit, X=None, weights=None, *, max_memory_mb=None):
        raise RuntimeError("the device went away")


def _fail_in_gram(error):
    def inject(model, X, y):
        with mock.patch.object(FidelityQuantumKernel, "gram", side_effect=error("injected")):
            model.fit(X, y)

    return inject


def _fail_for_memory(model, X, y):
    # 14 qubits need 256 KiB per state: far beyond a 1 KiB budget, refused before allocating.
    wide = np.random.default_rng(0).uniform(size=(len(X), 14))
    model.set_params(max_memory_mb=1e-3).fit(wide, y)


def _fail_on_backend(model, X, y):
    model.set_params(backend=_FailingBackend()).fit(X, y)


FIT_FAILURES = [
    pytest.param(_fail_in_gram(RuntimeError), RuntimeError, id="gram-RuntimeError"),
    pytest.param(_fail_in_gram(KeyboardInterrupt), KeyboardInterrupt, id="gram-interrupt"),
    pytest.param(_fail_for_memory, SimulationMemoryError, id="memory"),
    pytest.param(_fail_on_backend, RuntimeError, id="backend"),
]


def _fitted_attributes(model) -> dict:
    return {k: v for k, v in vars(model).items() if k.endswith("_") and not k.startswith("_")}


@pytest.mark.parametrize("cls", [QSVC, QSVR])
@pytest.mark.parametrize(("inject", "error"), FIT_FAILURES)
def test_failed_fit_leaves_a_fresh_estimator_unfitted(cls, inject, error):
    Xtr, Xte, ytr, _ = _ad_hoc_split(n_samples=20)
    model = cls(ZZFeatureMap(reps=1))
    with pytest.raises(error):
        inject(model, Xtr, ytr)
    assert _fitted_attributes(model) == {}
    with pytest.raises(NotFittedError):
        model.predict(Xte)


@pytest.mark.parametrize("cls", [QSVC, QSVR])
@pytest.mark.parametrize(("inject", "error"), FIT_FAILURES)
def test_failed_refit_keeps_the_previous_model(cls, inject, error):
    Xtr, Xte, ytr, _ = _ad_hoc_split(n_samples=20)
    model = cls(ZZFeatureMap(reps=1)).fit(Xtr, ytr)
    fitted = _fitted_attributes(model)
    expected = model.predict(Xte)
    with pytest.raises(error):
        # Other data: a refit that got half way would change the model.
        inject(model, Xtr[:10], ytr[:10])
    after = _fitted_attributes(model)
    assert after.keys() == fitted.keys()
    assert all(after[k] is v for k, v in fitted.items())
    # Parameters set before the failed fit stay set (as in sklearn); predict uses the
    # current budget, so the memory case's tiny one goes first.
    model.set_params(max_memory_mb=None)
    np.testing.assert_array_equal(model.predict(Xte), expected)


def _fail_calibration_naturally(model, X, y):
    # One sample of a third class: the SVM fits, the cross-validated calibration cannot.
    model.fit(np.vstack([X, X[:1]]), np.append(y, 2))


def _interrupt_calibration(model, X, y):
    with mock.patch.object(CalibratedClassifierCV, "fit", side_effect=KeyboardInterrupt):
        model.fit(X[:10], y[:10])


CALIBRATION_FAILURES = [
    pytest.param(_fail_calibration_naturally, ValueError, id="too-few-samples"),
    pytest.param(_interrupt_calibration, KeyboardInterrupt, id="interrupt"),
]


@pytest.mark.parametrize(("inject", "error"), CALIBRATION_FAILURES)
def test_failed_calibration_leaves_the_estimator_as_it_was(inject, error):
    Xtr, Xte, ytr, _ = _ad_hoc_split(n_samples=20)
    fresh = QSVC(ZZFeatureMap(reps=1), probability=True, random_state=0)
    with pytest.raises(error):
        inject(fresh, Xtr, ytr)
    assert _fitted_attributes(fresh) == {}
    with pytest.raises(NotFittedError):
        fresh.predict_proba(Xte)

    model = clone(fresh).fit(Xtr, ytr)
    fitted = _fitted_attributes(model)
    expected = model.predict(Xte), model.predict_proba(Xte)
    with pytest.raises(error):
        inject(model, Xtr, ytr)
    assert all(_fitted_attributes(model)[k] is v for k, v in fitted.items())
    np.testing.assert_array_equal(model.predict(Xte), expected[0])
    np.testing.assert_array_equal(model.predict_proba(Xte), expected[1])


def test_calibration_error_names_the_class_and_the_fix():
    X, y = make_ad_hoc(n_samples=10, random_state=0)
    with pytest.raises(ValueError, match=r"QSVC\(probability=True\) needs at least 2 .*"):
        QSVC(probability=True).fit(np.vstack([X, X[:1]]), np.append(y, 2))


def test_refit_without_probability_drops_the_old_calibration():
    Xtr, _, ytr, _ = _ad_hoc_split(n_samples=20)
    clf = QSVC(ZZFeatureMap(reps=1), probability=True, random_state=0).fit(Xtr, ytr)
    assert hasattr(clf, "calibrated_")
    clf.set_params(probability=False).fit(Xtr, ytr)
    assert not hasattr(clf, "calibrated_")


# --------------------------------------------------------------------------------------------
# Hyperparameters: one validator per concept, NumPy scalars, backend=None
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [QSVC, QSVR])
@pytest.mark.parametrize("n_samples", [4, 40])
def test_n_jobs_zero_is_refused_whatever_the_data_size(cls, n_samples):
    from sklearn.utils._param_validation import InvalidParameterError

    X, y = make_ad_hoc(n_samples=n_samples, random_state=0)
    with pytest.raises(InvalidParameterError, match=f"'n_jobs' parameter of {cls.__name__}"):
        cls(n_jobs=0).fit(X, y)


@pytest.mark.parametrize("cls", [QSVC, QSVR])
def test_max_memory_mb_is_validated_at_fit(cls):
    from sklearn.utils._param_validation import InvalidParameterError

    X, y = make_ad_hoc(n_samples=6, random_state=0)
    for bad in (0, -1.0, "500"):
        with pytest.raises(InvalidParameterError, match="max_memory_mb"):
            cls(max_memory_mb=bad).fit(X, y)


def test_numpy_scalar_hyperparameters():
    X, y = make_ad_hoc(n_samples=20, random_state=0)
    numpy = QSVC(max_memory_mb=np.int64(500), C=np.float32(1), bandwidth=np.float64(0.5))
    plain = QSVC(max_memory_mb=500, C=1.0, bandwidth=0.5)
    np.testing.assert_array_equal(
        numpy.fit(X, y).decision_function(X), plain.fit(X, y).decision_function(X)
    )
    reg = QSVR(
        AngleEmbedding(), epsilon=np.float32(0.1), max_iter=np.int64(1000), tol=np.float64(1e-3)
    )
    ref = QSVR(AngleEmbedding(), epsilon=float(np.float32(0.1)), max_iter=1000, tol=1e-3)
    np.testing.assert_array_equal(reg.fit(X, y).predict(X), ref.fit(X, y).predict(X))


def test_grid_search_over_numpy_array_grids():
    X, y = make_ad_hoc(n_samples=20, random_state=0)
    grid = {
        "C": np.array([0.5, 2.0]),
        "bandwidth": np.array([0.5, 1.0]),
        "feature_map__reps": np.array([1, 2]),
    }
    search = GridSearchCV(QSVC(ZZFeatureMap()), grid, cv=2).fit(X, y)
    lists = GridSearchCV(QSVC(ZZFeatureMap()), {k: v.tolist() for k, v in grid.items()}, cv=2)
    np.testing.assert_array_equal(
        search.cv_results_["mean_test_score"], lists.fit(X, y).cv_results_["mean_test_score"]
    )
    assert isinstance(search.best_params_["feature_map__reps"], np.integer)


def test_backend_none_means_the_default_backend():
    X, y = make_ad_hoc(n_samples=20, random_state=0)
    clf = QSVC(backend=None).fit(X, y)
    assert clf.backend is None and type(clf.backend_) is StatevectorBackend
    np.testing.assert_array_equal(clf.decision_function(X), QSVC().fit(X, y).decision_function(X))
    assert type(QSVR(backend=None).fit(X, y).backend_) is StatevectorBackend
    # None is the default, not a setting a kernel object would silently ignore; nor is a
    # NumPy scalar equal to the default.
    kernel = FidelityQuantumKernel(ZZFeatureMap(reps=1))
    QSVC(kernel=kernel, backend=None, bandwidth="scale").fit(X, y)
    with pytest.raises(ValueError, match="bandwidth must be set on the kernel object"):
        QSVC(kernel=kernel, bandwidth=np.float64(0.5)).fit(X, y)


def test_kernel_errors_name_the_svm_class():
    X, y = make_ad_hoc(n_samples=10, random_state=0)
    with pytest.raises(ValueError, match=r"QSVR: pass the feature map inside the kernel"):
        QSVR(ZZFeatureMap(), kernel=FidelityQuantumKernel()).fit(X, y)
    with pytest.raises(ValueError, match="must be set on the kernel object, not on QSVR"):
        QSVR(kernel=FidelityQuantumKernel(), bandwidth=0.5).fit(X, y)
    with pytest.raises(ValueError, match="QSVC: sample weights must contain at least one pos"):
        QSVC().fit(X, y, sample_weight=-np.ones(len(y)))


# --------------------------------------------------------------------------------------------
# bandwidth="scale"
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("Model", [QSVC, QSVR])
def test_scale_bandwidth_is_fixed_at_fit_and_exposed(Model):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 4)), np.arange(40) % 2
    model = Model(bandwidth="scale").fit(X, y)
    expected = FidelityQuantumKernel(bandwidth="scale").with_fixed_bandwidth(X).bandwidth
    assert model.bandwidth_ == model.kernel_.bandwidth == expected
    assert model.bandwidth == "scale"
    explicit = Model(bandwidth=expected, C=model.C_).fit(X, y)
    X_new = rng.normal(scale=5.0, size=(9, 4))  # predictions never re-scale on new data
    np.testing.assert_array_equal(model.predict(X_new), explicit.predict(X_new))
    assert Model().fit(X, y).bandwidth_ == expected  # the default
    assert Model(bandwidth=1.0).fit(X, y).bandwidth_ == 1.0


@pytest.mark.parametrize("Model", [QSVC, QSVR])
@pytest.mark.parametrize("n_features", [3, 8])
def test_scale_C_gives_back_what_the_fold_cap_takes(Model, n_features):
    """C="scale" is 10 times (median rule / bandwidth)**2: computed by hand for one-qubit
    rotations (q = ||x - y||**2 / 4, fold cap pi / range). On 3 standardised features the
    cap binds (C_ > 10), on 8 it does not (C_ = 10)."""
    X = np.random.default_rng(3).normal(size=(40, n_features))
    y = (X[:, 0] > 0).astype(int) if Model is QSVC else X[:, 0]
    d2 = ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)[np.triu_indices(40, 1)]
    median_rule = 2 / np.sqrt(np.median(d2))
    bandwidth = min(median_rule, np.pi / np.ptp(X, axis=0).max())
    model = Model(AngleEmbedding()).fit(X, y)
    np.testing.assert_allclose(model.bandwidth_, bandwidth, rtol=1e-5)
    np.testing.assert_allclose(model.C_, 10 * (median_rule / bandwidth) ** 2, rtol=1e-5)
    assert (model.C_ > 10.5) == (n_features == 3)
    assert model.svm_.C == model.C_
    # A number is used as it is; a numeric bandwidth, the projected kernel and a trained
    # kernel keep the median rule's C of 10.
    assert Model(AngleEmbedding(), C=2.5).fit(X, y).C_ == 2.5
    assert Model(AngleEmbedding(), bandwidth=0.3).fit(X, y).C_ == 10.0
    assert Model(kernel="projected").fit(X, y).C_ == 10.0
    trained = Model(AngleEmbedding(), kernel_training="alignment", kernel_training_max_iter=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert trained.fit(X, y).C_ == 10.0


def test_scale_C_with_probability_calibrates_the_fitted_svm():
    X, y = make_moons(60, noise=0.2, random_state=0)
    model = QSVC(probability=True, random_state=0).fit(X, y)
    assert model.C_ > 10  # two features: the cap binds
    assert model.calibrated_.estimator.C == model.C_


def test_scale_bandwidth_on_standardised_wine():
    """The issue's case: QSVC() after StandardScaler + PCA(8) on wine scores 0.39 at
    bandwidth 1 (kernel concentration); with "scale" it is within reach of SVC() (0.977)."""
    from sklearn.datasets import load_wine
    from sklearn.decomposition import PCA
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = load_wine(return_X_y=True)
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    model = make_pipeline(StandardScaler(), PCA(8), QSVC(bandwidth="scale"))
    assert cross_val_score(model, X, y, cv=cv).mean() > 0.93


def test_scale_bandwidth_is_refused_as_a_typo():
    with pytest.raises(ValueError, match="bandwidth"):
        QSVC(bandwidth="auto").fit(np.zeros((4, 2)), [0, 1, 0, 1])


def test_runtime_settings_set_after_fit_reach_predict():
    X, y = make_blobs(60, n_features=2, centers=2, random_state=0)
    clf = QSVC(ZZFeatureMap(reps=1)).fit(X, y)
    expected = clf.decision_function(X)
    fitted_kernel = clf.kernel_
    clf.set_params(n_jobs=2)
    np.testing.assert_array_equal(clf.decision_function(X), expected)
    clf.set_params(max_memory_mb=1e-4)  # the new budget is the one predict keeps to
    with pytest.raises(SimulationMemoryError):
        clf.predict(X)
    assert clf.kernel_ is fitted_kernel and clf.kernel_.max_memory_mb is None  # untouched
