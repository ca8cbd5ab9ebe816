"""Fitted models survive pickle, joblib and skops.io with identical outputs."""

from __future__ import annotations

import importlib
import io
import pickle
import warnings

import joblib
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

import skqml
from skqml.backends import ResourceCounter, ShotsBackend
from skqml.boltzmann import BornMachine, QBMClassifier, QuantumBoltzmannMachine
from skqml.circuits import ZZFeatureMap
from skqml.preprocessing import Quanvolution
from skqml.studies.bowles2024 import MODELS
from skqml.svm import QSVC, QSVR
from skqml.variational import VQC, VQR, DataReuploadingClassifier

RNG = np.random.default_rng(0)
X = RNG.uniform(0, np.pi, size=(12, 2))
Y_CLASS = (X[:, 0] > X[:, 1]).astype(int)
Y_REG = np.cos(X).sum(axis=1)
BITS = RNG.integers(0, 2, size=(12, 3))
SHOTS = ShotsBackend(seed=0)
NOISY = ShotsBackend(depolarizing=0.1, seed=0)

# (id, estimator, X, y): tiny fits, a few iterations each.
CASES = [
    ("QSVC", QSVC(ZZFeatureMap(reps=1)), X, Y_CLASS),
    ("QSVC-projected", QSVC(kernel="projected", gamma="scale"), X, Y_CLASS),
    ("QSVC-shots", QSVC(ZZFeatureMap(reps=1), backend=SHOTS), X, Y_CLASS),
    (
        "QSVC-shots-mitigated",
        QSVC(ZZFeatureMap(reps=1), backend=NOISY, mitigation="split_channel"),
        X,
        Y_CLASS,
    ),
    ("QSVC-proba", QSVC(ZZFeatureMap(reps=1), probability=True, random_state=0), X, Y_CLASS),
    (
        "QSVC-counted",
        QSVC(ZZFeatureMap(reps=1), backend=ResourceCounter(ShotsBackend(shots=200, seed=0))),
        X,
        Y_CLASS,
    ),
    ("QSVR", QSVR(ZZFeatureMap(reps=1)), X, Y_REG),
    ("QSVR-shots", QSVR(ZZFeatureMap(reps=1), backend=SHOTS), X, Y_REG),
    ("VQC", VQC(max_iter=3, random_state=0), X, Y_CLASS),
    ("VQC-shots", VQC(max_iter=2, backend=SHOTS, random_state=0), X[:6], Y_CLASS[:6]),
    ("VQR", VQR(max_iter=3, random_state=0), X, Y_REG),
    (
        "DataReuploadingClassifier",
        DataReuploadingClassifier(max_iter=3, random_state=0),
        X,
        Y_CLASS,
    ),
    ("QuantumBoltzmannMachine", QuantumBoltzmannMachine(max_iter=3, random_state=0), BITS, None),
    ("QBMClassifier", QBMClassifier(max_iter=3, random_state=0), X, Y_CLASS),
    ("BornMachine", BornMachine(max_iter=3, random_state=0), BITS, None),
    (
        "Pipeline-QSVC",
        make_pipeline(MinMaxScaler((0, np.pi)), QSVC(ZZFeatureMap(reps=1))),
        X,
        Y_CLASS,
    ),
]
CIRCUIT_MODELS = [
    case[0] for case in CASES if case[0] not in {"QuantumBoltzmannMachine", "QBMClassifier"}
]

# The study's models (skqml.studies.bowles2024.MODELS) hold their own fixed parts in fitted
# state: every one of them must load with get_trusted_types() alone.
X_STUDY = RNG.normal(size=(16, 4))
Y_STUDY = np.where(X_STUDY[:, 0] > 0, 1, -1)
IMAGES = RNG.uniform(size=(16, 16))  # 4 x 4 images
STUDY_FAST = {"max_iter": 3, "max_steps": 3, "n_episodes": 5, "batch_size": 8}


def _study_case(name, cls):
    estimator = cls()
    estimator.set_params(**{k: v for k, v in STUDY_FAST.items() if k in estimator.get_params()})
    return (f"study-{name}", estimator, IMAGES if name == "WeiNet" else X_STUDY, Y_STUDY)


CASES += [
    _study_case(name, cls) for name, cls in MODELS.items() if cls.__module__.startswith("skqml.")
]
CASES.append(("Quanvolution", Quanvolution(n_qchannels=2), IMAGES, None))
IDS = [case[0] for case in CASES]
# What QSVC(probability=True) holds beyond skqml types (sklearn's Platt scaling).
SKLEARN_CALIBRATION = {
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.model_selection._split.StratifiedKFold",
}
METHODS = ("predict", "decision_function", "predict_proba", "score_samples", "transform")


@pytest.fixture(scope="module")
def fitted():
    models = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a few iterations on purpose
        for name, estimator, X_fit, y_fit in CASES:
            models[name] = estimator.fit(X_fit) if y_fit is None else estimator.fit(X_fit, y_fit)
    return models


def _outputs(model, X_in) -> dict:
    out = {}
    for method in METHODS:
        if hasattr(model, method):
            out[method] = getattr(model, method)(X_in)
    assert out, f"{model!r} has none of {METHODS}"
    return out


def _assert_same_outputs(original, loaded, X_in):
    assert type(loaded) is type(original)
    expected, got = _outputs(original, X_in), _outputs(loaded, X_in)
    assert expected.keys() == got.keys()
    for method in expected:
        np.testing.assert_array_equal(got[method], expected[method], err_msg=method)


def _data_of(name):
    return next(X_fit for case_name, _, X_fit, _ in CASES if case_name == name)


@pytest.mark.parametrize("name", IDS)
def test_pickle_round_trip(fitted, name):
    model = fitted[name]
    _assert_same_outputs(model, pickle.loads(pickle.dumps(model)), _data_of(name))


@pytest.mark.parametrize("name", IDS)
def test_joblib_round_trip(fitted, name, tmp_path):
    model = fitted[name]
    path = tmp_path / "model.joblib"
    joblib.dump(model, path)
    _assert_same_outputs(model, joblib.load(path), _data_of(name))


@pytest.mark.parametrize("name", IDS)
def test_skops_round_trip(fitted, name, tmp_path):
    sio = pytest.importorskip("skops.io")
    model = fitted[name]
    path = tmp_path / "model.skops"
    sio.dump(model, path)
    untrusted = sio.get_untrusted_types(file=path)
    trusted = skqml.get_trusted_types()
    # Only our own types, except sklearn's calibration helpers that skops does not trust by
    # default (a plain sklearn CalibratedClassifierCV needs them too): docs/persistence.md.
    sklearn_extra = SKLEARN_CALIBRATION if name == "QSVC-proba" else set()
    assert set(untrusted) - set(trusted) == sklearn_extra
    _assert_same_outputs(
        model, sio.load(path, trusted=trusted + sorted(sklearn_extra)), _data_of(name)
    )
    # Loading without trusting refuses (skops' safety): nothing of ours is trusted by default.
    if untrusted:
        with pytest.raises(Exception, match=r"[Uu]ntrusted"):
            sio.load(path)


def test_trusted_types_are_ours_and_cover_the_public_classes():
    names = skqml.get_trusted_types()
    assert names == sorted(set(names))
    assert all(n.startswith("skqml.") and not n.split(".")[-1].startswith("_") for n in names)
    for package in map(
        importlib.import_module,
        [
            "skqml.backends",
            "skqml.boltzmann",
            "skqml.circuits",
            "skqml.kernels",
            "skqml.preprocessing",
            "skqml.svm",
            "skqml.variational",
        ],
    ):
        for public in package.__all__:
            obj = getattr(package, public)
            if isinstance(obj, type) and not issubclass(obj, BaseException):
                assert f"{obj.__module__}.{obj.__name__}" in names, obj
    assert skqml.get_trusted_types() is not skqml.get_trusted_types()  # a fresh list each call


# -- the fitted circuit: drawn, exported ---------------------------------------------------


@pytest.mark.parametrize("name", CIRCUIT_MODELS)
def test_fitted_circuit_draws_and_exports(fitted, name):
    model = fitted[name]
    model = model[-1] if hasattr(model, "steps") else model
    circuit = model.circuit_
    drawing = str(circuit)
    assert drawing.count("q0:") == 1 and f"q{circuit.n_qubits - 1}:" in drawing
    buffer = io.StringIO()
    print(circuit, file=buffer)
    assert buffer.getvalue() == drawing + "\n"
    x = _data_of(name)[0][: circuit.n_features] if circuit.n_features else None
    weights = getattr(model, "weights_", None)
    for version in (2, 3):
        qasm = circuit.to_qasm(x, weights if circuit.n_weights else None, version=version)
        assert qasm.startswith(f"OPENQASM {version}")


# -- repr in grid-search results ----------------------------------------------------------
def test_repr_is_short_and_readable():
    model = QSVC(feature_map=ZZFeatureMap(reps=2), backend=ShotsBackend(shots=100))
    # Only the parameters that differ from their defaults (sklearn's print_changed_only),
    # nested objects too: reps=2 is ZZFeatureMap's default.
    assert repr(model) == "QSVC(backend=ShotsBackend(shots=100), feature_map=ZZFeatureMap())"
    model = QSVC(ZZFeatureMap(reps=1), mitigation="average", verbose=1)
    assert repr(model) == "QSVC(feature_map=ZZFeatureMap(reps=1), mitigation='average', verbose=1)"
