"""Quanvolution: the study's random circuits (against PennyLane's RandomLayers), the lookup
table (against dense matrices built here), the patch indexing (against patches read by hand)
and scikit-learn's checks."""

from math import isqrt

import numpy as np
import pytest
from _reference import kron_single
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks
from sklearn.utils.validation import validate_data

from skqml.backends import ShotsBackend, resolve_backend
from skqml.preprocessing import Quanvolution
from skqml.simulator import SimulationMemoryError

# -- independent dense reference --------------------------------------------------------------
_X = np.array([[0, 1], [1, 0]], dtype=complex)
_P0 = np.diag([1.0, 0.0]).astype(complex)
_P1 = np.diag([0.0, 1.0]).astype(complex)


def _rx(t):
    c, s = np.cos(t / 2), np.sin(t / 2)
    return np.array([[c, -1j * s], [-1j * s, c]])


def _ry(t):
    c, s = np.cos(t / 2), np.sin(t / 2)
    return np.array([[c, -s], [s, c]], dtype=complex)


def _rz(t):
    return np.diag([np.exp(-0.5j * t), np.exp(0.5j * t)])


_ROTATION_MATRICES = {"rx": _rx, "ry": _ry, "rz": _rz}


def _apply_dense(op, states, patterns):
    """One gate of the circuit's list on the columns of ``states`` (one per patch), by
    Kronecker products of the gate matrices written above; a loading gate RY(pi * pixel)
    takes each column's own angle."""
    n = patterns.shape[1]
    if op.name == "cnot":
        control, target = op.qubits
        flipped = kron_single(_X, target, n) @ states
        return kron_single(_P0, control, n) @ states + kron_single(_P1, control, n) @ flipped
    (param,) = op.params
    rotation = _ROTATION_MATRICES[op.name]
    if param.features:
        angles = param.evaluate(patterns)
        return np.column_stack(
            [
                kron_single(rotation(a), op.qubits[0], n) @ states[:, i]
                for i, a in enumerate(angles)
            ]
        )
    return kron_single(rotation(param.value()), op.qubits[0], n) @ states


def _big_endian(probs, n):
    """Probabilities in PennyLane's order (qubit 0 the most significant bit)."""
    return probs.reshape((-1,) + (2,) * n).transpose(0, *range(n, 0, -1)).reshape(-1, 2**n)


def _dense_channel_values(circuit, patterns):
    """The study's value of each patch, from dense statevectors: the Hamming weight of the
    first most probable outcome in PennyLane's order, and the margin to the runner-up."""
    n = circuit.n_qubits
    states = np.zeros((2**n, patterns.shape[0]), dtype=complex)
    states[0] = 1.0
    for op in circuit.operations:
        states = _apply_dense(op, states, patterns)
    probs = _big_endian(np.abs(states.T) ** 2, n)
    values = [sum(np.unravel_index(np.argmax(p), (2,) * n)) for p in probs]
    top = np.sort(probs, axis=1)
    return np.array(values), top[:, -1] - top[:, -2]


def _patterns(n):
    """Every binary patch on n pixels, row p: pixel k is bit k of p."""
    return ((np.arange(2**n)[:, None] >> np.arange(n)) & 1).astype(float)


def _images(n_samples, side, seed):
    return np.random.default_rng(seed).normal(size=(n_samples, side * side))


@pytest.mark.parametrize("architecture_seed", [42, None])
def test_lookup_table_equals_dense_simulation_of_every_patch(architecture_seed):
    quanv = Quanvolution(n_qchannels=2, architecture_seed=architecture_seed, random_state=3)
    quanv.fit(_images(5, 4, seed=0))
    assert quanv.lookup_table_.shape == (2, 16)
    for channel, circuit in enumerate(quanv.circuits_):
        values, margins = _dense_channel_values(circuit, _patterns(4))
        assert margins.min() > 1e-6  # no near tie: the reference's argmax is unambiguous
        np.testing.assert_array_equal(quanv.lookup_table_[channel], values)


def test_lookup_table_of_3x3_patches_equals_dense_simulation():
    quanv = Quanvolution(qkernel_shape=3, rand_depth=3, random_state=1)
    quanv.fit(_images(5, 4, seed=0))
    assert quanv.n_qubits_ == 9 and quanv.lookup_table_.shape == (1, 512)
    chosen = np.random.default_rng(0).choice(512, size=6, replace=False)
    values, margins = _dense_channel_values(quanv.circuits_[0], _patterns(9)[chosen])
    assert margins.min() > 1e-6
    np.testing.assert_array_equal(quanv.lookup_table_[0, chosen], values)


# -- the study's circuits: PennyLane's RandomLayers -----------------------------------------
def _pennylane_probabilities(weights, seed, patterns):
    """The study's circuit: RY(pi * pixel) on each wire, RandomLayers, qml.probs."""
    qml = pytest.importorskip("pennylane")
    n = patterns.shape[1]
    dev = qml.device("default.qubit", wires=n)

    @qml.qnode(dev)
    def circuit(x):
        for i in range(n):
            qml.RY(x[:, i] * np.pi, wires=i)
        qml.RandomLayers(weights, wires=range(n), seed=seed)
        return qml.probs(wires=range(n))

    return np.asarray(circuit(patterns))


@pytest.mark.parametrize(
    ("qkernel_shape", "architecture_seed"), [(2, 42), (2, None), (1, None), (3, 7)]
)
def test_random_circuits_are_pennylanes_random_layers(qkernel_shape, architecture_seed):
    qml = pytest.importorskip("pennylane")
    quanv = Quanvolution(
        qkernel_shape=qkernel_shape,
        n_qchannels=2,
        rand_depth=3,
        rand_rot=5,
        architecture_seed=architecture_seed,
        random_state=0,
    ).fit(_images(3, 3, seed=1))
    n = quanv.n_qubits_
    for channel, circuit in enumerate(quanv.circuits_):
        weights = quanv.weights_[channel]
        seed = int(quanv.architecture_seeds_[channel])
        layers = qml.RandomLayers(weights, wires=range(n), seed=seed).decomposition()
        ours = circuit.operations[n:]  # after the loading RY gates
        assert [(op.name.lower(), tuple(op.wires)) for op in layers] == [
            (op.name, op.qubits) for op in ours
        ]
        np.testing.assert_allclose(
            [float(p) for op in layers for p in op.parameters],
            [p.value() for op in ours for p in op.params],
            atol=1e-15,
        )


def test_lookup_table_equals_the_studys_computation_in_pennylane():
    pytest.importorskip("pennylane")
    quanv = Quanvolution(n_qchannels=3, random_state=5).fit(_images(3, 4, seed=2))
    backend = resolve_backend("statevector")
    patterns = _patterns(4)
    for channel, circuit in enumerate(quanv.circuits_):
        probs = _pennylane_probabilities(quanv.weights_[channel], 42, patterns)
        np.testing.assert_allclose(
            _big_endian(backend.probabilities(circuit, patterns), 4), probs, atol=1e-12
        )
        # The study's read-out: argmax over qml.probs, unravelled, bits summed.
        study = [sum(np.unravel_index(np.argmax(p), (2,) * 4)) for p in probs]
        np.testing.assert_array_equal(quanv.lookup_table_[channel], study)


def test_default_architecture_is_shared_by_all_channels_as_in_the_study():
    quanv = Quanvolution(n_qchannels=3, random_state=0).fit(_images(3, 4, seed=0))
    layouts = [[(op.name, op.qubits) for op in c.operations] for c in quanv.circuits_]
    assert layouts[0] == layouts[1] == layouts[2]
    assert not np.allclose(quanv.weights_[0], quanv.weights_[1])
    np.testing.assert_array_equal(quanv.architecture_seeds_, [42, 42, 42])
    drawn = Quanvolution(n_qchannels=3, architecture_seed=None, random_state=0)
    drawn.fit(_images(3, 4, seed=0))
    layouts = [[(op.name, op.qubits) for op in c.operations] for c in drawn.circuits_]
    assert layouts[0] != layouts[1]
    # The weights do not depend on how the architectures are chosen.
    np.testing.assert_array_equal(drawn.weights_, quanv.weights_)


# -- transform: patches and their order -----------------------------------------------------
_HAND_IMAGE = np.array(
    [
        [1, 0, 0, 1],
        [0, 1, 1, 0],
        [0, 0, 1, 1],
        [1, 1, 0, 0],
    ]
)
# Patch (i, j) of _HAND_IMAGE read by hand: bit 0 = pixel (i, j), bit 1 = (i, j + 1),
# bit 2 = (i + 1, j), bit 3 = (i + 1, j + 1).
_HAND_PATCHES = np.array(
    [
        [9, 12, 6],
        [2, 11, 13],
        [12, 6, 3],
    ]
)


def test_transform_of_a_hand_made_image():
    # Training pixels span [0, 1], so a pixel is 1 after binarising exactly when above 0.5.
    train = np.vstack([np.zeros(16), np.ones(16)])
    quanv = Quanvolution(n_qchannels=2, random_state=0).fit(train)
    out = quanv.transform(_HAND_IMAGE.reshape(1, 16) * 0.9 + 0.05)
    assert out.shape == (1, 18) and quanv.output_shape_ == (3, 3, 2)
    maps = out.reshape(-1, *quanv.output_shape_)[0]
    for channel in range(2):
        np.testing.assert_array_equal(
            maps[:, :, channel], quanv.lookup_table_[channel][_HAND_PATCHES]
        )
    # The order of the columns is the order of the feature names.
    names = quanv.get_feature_names_out()
    assert names[0] == "quanvolution_r0_c0_ch0" and names[1] == "quanvolution_r0_c0_ch1"
    assert names[2 * (1 * 3 + 2) + 1] == "quanvolution_r1_c2_ch1"


def test_pandas_output_takes_the_feature_names():
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(_images(3, 3, seed=0), columns=[f"pixel{k}" for k in range(9)])
    quanv = Quanvolution(random_state=0).set_output(transform="pandas").fit(X)
    out = quanv.transform(X)
    assert out.shape == (3, 4)
    assert list(out.columns) == ["quanvolution_r0_c0_ch0", "quanvolution_r0_c1_ch0",
                                 "quanvolution_r1_c0_ch0", "quanvolution_r1_c1_ch0"]  # fmt: skip
    with pytest.raises(ValueError, match="input_features"):
        quanv.get_feature_names_out([f"x{k}" for k in range(9)])


def test_binarisation_threshold_on_scaled_pixels():
    train = np.vstack([np.zeros(4), np.ones(4)])
    quanv = Quanvolution(random_state=0).fit(train)  # one 2x2 patch
    table = quanv.lookup_table_[0]
    # 0.5 scales to exactly 0: not above the threshold 0, so the pixel is 0.
    assert quanv.transform([[0.5, 0.51, 0.49, 1.0]])[0, 0] == table[0b1010]
    quanv.set_params(threshold=-1.0)  # pi*x - pi/2 > -1 for x > 0.18...
    assert quanv.transform([[0.5, 0.51, 0.1, 0.2]])[0, 0] == table[0b1011]


def test_transform_equals_simulating_every_patch_and_the_studys_layout():
    """Every patch of random images run through the backend, without the table; and the
    study's CNN input, indexed as its code does, is the documented transpose."""
    backend = resolve_backend("statevector")
    for q in (2, 3):
        quanv = Quanvolution(qkernel_shape=q, n_qchannels=2, random_state=q)
        X = _images(4, 5, seed=q)
        out = quanv.fit(X).transform(X).reshape(-1, *quanv.output_shape_)
        m = 5 - q + 1
        pixels = (quanv.scaler_.transform(X) > 0).reshape(-1, 5, 5).astype(float)
        for s in range(X.shape[0]):
            patches = np.array(
                [pixels[s, i : i + q, j : j + q].ravel() for i in range(m) for j in range(m)]
            )
            for c, circuit in enumerate(quanv.circuits_):
                probs = _big_endian(backend.probabilities(circuit, patches), q * q)
                expected = [sum(np.unravel_index(np.argmax(p), (2,) * q * q)) for p in probs]
                np.testing.assert_array_equal(out[s, :, :, c].ravel(), expected)
        # The study's code: windows listed column offset first, then reshaped row-major.
        study_windows = [(j, k) for k in range(m) for j in range(m)]  # (row, column)
        study = np.array(
            [[out[s, j, k] for j, k in study_windows] for s in range(X.shape[0])]
        ).reshape(X.shape[0], m, m, 2)
        np.testing.assert_array_equal(study, out.transpose(0, 2, 1, 3))


def test_sampling_backend_reads_the_most_frequent_outcome():
    X = _images(5, 4, seed=0)
    exact = Quanvolution(n_qchannels=2, random_state=0).fit(X)
    shots = Quanvolution(
        n_qchannels=2, backend=ShotsBackend(shots=20000, seed=0), random_state=0
    ).fit(X)
    again = Quanvolution(
        n_qchannels=2, backend=ShotsBackend(shots=20000, seed=0), random_state=0
    ).fit(X)
    np.testing.assert_array_equal(shots.lookup_table_, again.lookup_table_)
    # Where the exact winner leads by 3 points, 20000 shots find it (6 standard errors).
    backend = resolve_backend("statevector")
    for channel, circuit in enumerate(exact.circuits_):
        probs = np.sort(backend.probabilities(circuit, _patterns(4)), axis=1)
        clear = probs[:, -1] - probs[:, -2] > 0.03
        assert clear.sum() >= 8
        np.testing.assert_array_equal(
            shots.lookup_table_[channel, clear], exact.lookup_table_[channel, clear]
        )
    # One shot: the table holds the weight of that one outcome, a number in 0..4.
    one = Quanvolution(backend=ShotsBackend(shots=1, seed=0), random_state=0).fit(X)
    assert set(np.unique(one.lookup_table_)) <= set(range(5))


# -- reproducibility and errors -------------------------------------------------------------
def test_random_state_reproduces_the_transformer():
    X = _images(6, 6, seed=0)
    a = Quanvolution(n_qchannels=2, architecture_seed=None, random_state=7).fit(X)
    b = Quanvolution(n_qchannels=2, architecture_seed=None, random_state=7).fit(X)
    c = Quanvolution(n_qchannels=2, architecture_seed=None, random_state=8).fit(X)
    assert a.circuits_ == b.circuits_ and a.circuits_ != c.circuits_
    np.testing.assert_array_equal(a.lookup_table_, b.lookup_table_)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    assert not np.array_equal(a.weights_, c.weights_)
    fresh = [Quanvolution(random_state=None).fit(X).weights_ for _ in range(2)]
    assert not np.array_equal(*fresh)


@pytest.mark.parametrize(
    ("params", "n_features", "match"),
    [
        ({}, 10, "n_features=10, which is not a perfect square"),
        ({}, 1, r"n_features=1 \(1x1 pixels\).*qkernel_shape <= 1"),
        ({"qkernel_shape": 3}, 4, "qkernel_shape <= 2 or larger images"),
        ({"qkernel_shape": 4}, 64, "use qkernel_shape <= 3"),
    ],
)
def test_clear_errors(params, n_features, match):
    with pytest.raises(ValueError, match=match):
        Quanvolution(**params).fit(np.zeros((3, n_features)))


def test_wrong_image_size_and_unfitted_transform():
    with pytest.raises(NotFittedError):
        Quanvolution().transform(np.zeros((1, 16)))
    quanv = Quanvolution(random_state=0).fit(_images(3, 4, seed=0))
    with pytest.raises(ValueError, match="16 features"):
        quanv.transform(np.zeros((1, 25)))


def test_memory_budget_refuses_the_table_up_front_and_keeps_the_fit():
    X = _images(3, 4, seed=0)
    quanv = Quanvolution(qkernel_shape=3, max_memory_mb=0.001)
    with pytest.raises(SimulationMemoryError, match="lookup table"):
        quanv.fit(X)
    assert not hasattr(quanv, "lookup_table_")
    quanv.set_params(qkernel_shape=2, max_memory_mb=None, random_state=0).fit(X)
    table = quanv.lookup_table_
    with pytest.raises(SimulationMemoryError):
        quanv.set_params(qkernel_shape=3, max_memory_mb=0.001).fit(X)
    assert quanv.lookup_table_ is table and quanv.n_qubits_ == 4


# -- scikit-learn's checks ------------------------------------------------------------------
def _pad_to_square(X):
    """Zero pixels appended up to the next square image of side >= 2."""
    X = np.asarray(X)
    side = max(2, isqrt(X.shape[1] - 1) + 1)
    return np.pad(X, ((0, 0), (0, side * side - X.shape[1])))


class PadToSquare(TransformerMixin, BaseEstimator):
    """:func:`_pad_to_square` as a transformer whose repr is stable across processes (a
    FunctionTransformer's shows its function's address, which would give each pytest-xdist
    worker other test ids)."""

    def fit(self, X, y=None):
        validate_data(self, X)
        return self

    def transform(self, X):
        return _pad_to_square(validate_data(self, X, reset=False))

    def get_feature_names_out(self, input_features=None):
        side = max(2, isqrt(self.n_features_in_ - 1) + 1)
        return np.array([f"pixel{i}" for i in range(side * side)], dtype=object)


_NOT_SQUARE = (
    "the check's data have a number of features that is not a square of at least 4, which "
    "Quanvolution refuses by design with a ValueError; it passes on the pipeline below that "
    "pads the pixels to a square image"
)
_NOT_SQUARE_CHECKS = [
    "check_fit_score_takes_y",
    "check_estimators_overwrite_params",
    "check_dont_overwrite_parameters",
    "check_estimators_fit_returns_self",
    "check_readonly_memmap_input",
    "check_estimators_dtypes",
    "check_dtype_object",
    "check_pipeline_consistency",
    "check_estimators_nan_inf",
    "check_estimators_pickle",
    "check_estimators_pickle(readonly_memmap=True)",
    "check_f_contiguous_array_estimator",
    "check_transformer_data_not_an_array",
    "check_transformer_general",
    "check_transformer_general(readonly_memmap=True)",
    "check_transformer_preserve_dtypes",
    "check_methods_sample_order_invariance",
    "check_methods_subset_invariance",
    "check_fit2d_1sample",
    "check_dict_unchanged",
    "check_fit_idempotent",
    "check_fit_check_is_fitted",
    "check_n_features_in",
    "check_fit2d_predict1d",
]
_PIPELINE_STEPS = (
    "fit fits the estimators in Pipeline.steps in place, which these generic checks count as "
    "mutating a parameter; every Pipeline fails them"
)


def _expected_failed_checks(estimator):
    if isinstance(estimator, Quanvolution):
        return dict.fromkeys(_NOT_SQUARE_CHECKS, _NOT_SQUARE)
    return dict.fromkeys(
        ["check_estimators_overwrite_params", "check_dont_overwrite_parameters"],
        _PIPELINE_STEPS,
    )


# Two random layers keep the checks' many fits fast (15 ms each instead of 60).
@parametrize_with_checks(
    [
        Quanvolution(rand_depth=2, random_state=0),
        make_pipeline(
            PadToSquare(),
            Quanvolution(rand_depth=2, random_state=0),
        ),
        make_pipeline(
            PadToSquare(),
            Quanvolution(
                n_qchannels=2,
                rand_depth=2,
                architecture_seed=None,
                backend=ShotsBackend(seed=0),
                random_state=0,
            ),
        ),
    ],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
