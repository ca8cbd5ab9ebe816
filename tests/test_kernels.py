"""Tests for skqml.kernels.

References, all independent of skqml's simulator and Gram code:
- states from the dense gate-by-gate unitaries of ``tests/_reference.circuit_unitary``;
- overlaps as Python loops of ``np.vdot``;
- closed forms (angle embeddings, product feature maps built from 2 x 2 matrices);
- Bloch vectors from reduced density matrices obtained by an explicit partial trace;
- qiskit-machine-learning's ``FidelityStatevectorKernel`` (optional);
- sklearn estimators with ``kernel="precomputed"`` and the textbook GP mean formula.
"""

from __future__ import annotations

import pickle
import time
from unittest import mock

import joblib
import numpy as np
import pytest
from _reference import circuit_unitary
from scipy.linalg import expm
from sklearn.base import clone
from sklearn.decomposition import KernelPCA
from sklearn.gaussian_process import GaussianProcessClassifier, GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, WhiteKernel
from sklearn.kernel_approximation import Nystroem
from sklearn.kernel_ridge import KernelRidge
from sklearn.svm import SVC, SVR

from skqml.circuits import (
    AngleEmbedding,
    HeisenbergEmbedding,
    IQPEmbedding,
    PauliFeatureMap,
    ZZFeatureMap,
)
from skqml.kernels import FidelityQuantumKernel, ProjectedQuantumKernel, QuantumKernel
from skqml.simulator import SimulationMemoryError

PAULI = {
    "X": np.array([[0, 1], [1, 0]], dtype=complex),
    "Y": np.array([[0, -1j], [1j, 0]]),
    "Z": np.array([[1, 0], [0, -1]], dtype=complex),
}
HADAMARD = np.array([[1, 1], [1, -1]], dtype=complex) / np.sqrt(2)


def _data(n_samples, n_features, seed, low=0.0, high=np.pi):
    return np.random.default_rng(seed).uniform(low, high, size=(n_samples, n_features))


# --------------------------------------------------------------------------------------------
# Independent references
# --------------------------------------------------------------------------------------------
def dense_states(feature_map, X):
    """States from dense unitaries built gate by gate (tests/_reference.py)."""
    circuit = feature_map.build(X.shape[1])
    return np.array([circuit_unitary(circuit, x)[:, 0] for x in X])


def overlap_gram(SA, SB):
    """``|<a|b>|^2`` by a Python double loop of ``np.vdot``."""
    return np.array([[abs(np.vdot(a, b)) ** 2 for b in SB] for a in SA])


def dense_bloch(state):
    """Bloch vectors ``(n_qubits, 3)`` from one-qubit reduced density matrices.

    The partial trace is written out: the little-endian state reshaped to ``(2,) * n`` has
    qubit ``q`` on axis ``n - 1 - q``; moving it first and contracting the rest with the
    complex conjugate gives ``rho_q``.
    """
    n = int(np.log2(state.size))
    tensor = state.reshape((2,) * n)
    out = np.empty((n, 3))
    for q in range(n):
        m = np.moveaxis(tensor, n - 1 - q, 0).reshape(2, -1)
        rho = np.zeros((2, 2), dtype=complex)
        for a in range(2):
            for b in range(2):
                rho[a, b] = np.sum(m[a] * m[b].conj())
        assert abs(np.trace(rho) - 1) < 1e-12
        out[q] = [np.trace(rho @ PAULI[p]).real for p in "XYZ"]
    return out


def dense_projected(feature_map, X, Y, gamma, measurement="XYZ"):
    """Projected kernel from dense Bloch vectors; the gamma rules read Y's entries."""
    cols = ["XYZ".index(p) for p in measurement.upper()]
    BX = np.array([dense_bloch(s)[:, cols].ravel() for s in dense_states(feature_map, X)])
    BY = np.array([dense_bloch(s)[:, cols].ravel() for s in dense_states(feature_map, Y)])
    if gamma == "scale":  # column variances, summed, by explicit loops
        gamma = 1.0 / sum(np.mean((c - np.mean(c)) ** 2) for c in BY.T)
    elif gamma == "bowles2024":
        gamma = 1.0 / (X.shape[1] * np.var(BY))
    K = np.array([[np.exp(-gamma * np.sum((bx - by) ** 2)) for by in BY] for bx in BX])
    return K, gamma


# --------------------------------------------------------------------------------------------
# Gram matrix properties
# --------------------------------------------------------------------------------------------
GRAM_KERNELS = [
    FidelityQuantumKernel(),
    FidelityQuantumKernel(ZZFeatureMap(reps=1, entanglement="linear")),
    FidelityQuantumKernel(IQPEmbedding(n_repeats=2)),
    FidelityQuantumKernel(AngleEmbedding("X")),
    ProjectedQuantumKernel(),
    ProjectedQuantumKernel(ZZFeatureMap(), gamma="scale", measurement="XZ"),
]


@pytest.mark.parametrize("kernel", GRAM_KERNELS, ids=repr)
def test_gram_is_a_valid_kernel_matrix(kernel):
    X = _data(50, 4, seed=0)
    K = kernel(X)
    assert K.shape == (50, 50)
    assert K.dtype == np.float64
    np.testing.assert_array_equal(K, K.T)
    np.testing.assert_allclose(np.diag(K), 1.0, rtol=0, atol=1e-12)
    assert K.min() >= 0.0 and K.max() <= 1.0
    assert np.linalg.eigvalsh(K).min() >= -1e-10
    # Not trivially the identity or all ones.
    off = K[~np.eye(50, dtype=bool)]
    assert 0.0 < off.mean() < 0.95
    np.testing.assert_allclose(kernel.diag(X), np.diag(K), rtol=0, atol=1e-12)


# --------------------------------------------------------------------------------------------
# Fidelity kernel against dense states
# --------------------------------------------------------------------------------------------
FEATURE_MAPS = [
    ZZFeatureMap(),
    ZZFeatureMap(reps=1, entanglement="circular"),
    ZZFeatureMap(reps=3, entanglement="linear", alpha=1.3),
    PauliFeatureMap(paulis=("Z", "XX", "YZ"), reps=2),
    PauliFeatureMap(paulis=("Y", "ZZZ"), reps=1, entanglement="linear"),
    IQPEmbedding(n_repeats=2),
    IQPEmbedding(pattern=[(0, 2), (1, 3)]),
    AngleEmbedding("X"),
    AngleEmbedding("Z", hadamard=True),
    HeisenbergEmbedding(trotter_steps=2),
]


@pytest.mark.parametrize("feature_map", FEATURE_MAPS, ids=repr)
def test_fidelity_kernel_equals_dense_reference(feature_map):
    X, Y = _data(7, 4, seed=1), _data(5, 4, seed=2)
    SX, SY = dense_states(feature_map, X), dense_states(feature_map, Y)
    kernel = FidelityQuantumKernel(feature_map, bandwidth=1.0)
    np.testing.assert_allclose(kernel(X, Y), overlap_gram(SX, SY), rtol=0, atol=1e-12)
    np.testing.assert_allclose(kernel(X), overlap_gram(SX, SX), rtol=0, atol=1e-12)
    np.testing.assert_allclose(kernel(Y, X), overlap_gram(SY, SX), rtol=0, atol=1e-12)


def test_fidelity_embed_is_the_state():
    fm = ZZFeatureMap(reps=2)
    X = _data(6, 3, seed=3)
    states = FidelityQuantumKernel(fm, bandwidth=1.0).embed(X)
    assert states.shape == (6, 8) and states.dtype == np.complex128
    np.testing.assert_allclose(states, dense_states(fm, X), rtol=0, atol=1e-12)


@pytest.mark.parametrize("rotation", ["X", "Y"])
def test_angle_embedding_closed_form(rotation):
    X, Y = _data(9, 5, seed=4, low=-3, high=3), _data(6, 5, seed=5, low=-3, high=3)
    expected = np.prod(np.cos((X[:, None, :] - Y[None, :, :]) / 2) ** 2, axis=2)
    K = FidelityQuantumKernel(AngleEmbedding(rotation), bandwidth=1.0)(X, Y)
    np.testing.assert_allclose(K, expected, rtol=0, atol=1e-12)


def test_angle_embedding_z_without_hadamard_is_constant():
    # RZ on |0> only adds a phase: every state is |0...0> up to phase.
    X = _data(6, 3, seed=6)
    np.testing.assert_allclose(
        FidelityQuantumKernel(AngleEmbedding("Z"), bandwidth=1.0)(X), 1.0, atol=1e-12
    )


def test_product_feature_map_is_product_of_one_qubit_fidelities():
    # paulis ("Z", "X") have no multi-qubit term: the state is a product of one-qubit states
    # (H, exp(-i x Z), exp(-i x X)) ** reps, up to global phases.
    reps, alpha = 2, 2.0
    fm = PauliFeatureMap(paulis=("Z", "X"), reps=reps, alpha=alpha)

    def one_qubit_state(x):
        psi = np.array([1, 0], dtype=complex)
        for _ in range(reps):
            psi = HADAMARD @ psi
            psi = expm(-1j * alpha * x / 2 * PAULI["Z"]) @ psi
            psi = expm(-1j * alpha * x / 2 * PAULI["X"]) @ psi
        return psi

    X, Y = _data(6, 3, seed=7), _data(4, 3, seed=8)
    SX = [[one_qubit_state(v) for v in x] for x in X]
    SY = [[one_qubit_state(v) for v in y] for y in Y]
    expected = np.ones((6, 4))
    for i in range(6):
        for j in range(4):
            for q in range(3):
                expected[i, j] *= abs(np.vdot(SX[i][q], SY[j][q])) ** 2
    K = FidelityQuantumKernel(fm, bandwidth=1.0)(X, Y)
    np.testing.assert_allclose(K, expected, rtol=0, atol=1e-12)
    assert expected.std() > 0.05


# --------------------------------------------------------------------------------------------
# Projected kernel
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("measurement", ["XYZ", "Z", "XY", "yz"])
@pytest.mark.parametrize(
    "feature_map", [None, ZZFeatureMap(reps=1), IQPEmbedding()], ids=["default", "zz", "iqp"]
)
def test_projected_kernel_equals_dense_reference(feature_map, measurement):
    X, Y = _data(6, 3, seed=9), _data(4, 3, seed=10)
    reference_map = HeisenbergEmbedding() if feature_map is None else feature_map
    kernel = ProjectedQuantumKernel(feature_map, gamma=0.7, measurement=measurement, bandwidth=1.0)
    expected, _ = dense_projected(reference_map, X, Y, 0.7, measurement)
    np.testing.assert_allclose(kernel(X, Y), expected, rtol=0, atol=1e-12)
    expected_xx, _ = dense_projected(reference_map, X, X, 0.7, measurement)
    np.testing.assert_allclose(kernel(X), expected_xx, rtol=0, atol=1e-12)


def test_projected_embed_is_bloch_vectors():
    X = _data(5, 3, seed=11)
    fm = HeisenbergEmbedding()
    B = ProjectedQuantumKernel(fm, bandwidth=1.0, gamma=1.0).embed(X)
    expected = np.array([dense_bloch(s).ravel() for s in dense_states(fm, X)])
    assert B.shape == (5, 4 * 3)
    np.testing.assert_allclose(B, expected, rtol=0, atol=1e-12)
    Bz = ProjectedQuantumKernel(fm, measurement="Z", bandwidth=1.0, gamma=1.0).embed(X)
    np.testing.assert_allclose(Bz, expected.reshape(5, 4, 3)[:, :, 2], rtol=0, atol=1e-12)


@pytest.mark.parametrize("rule", ["scale", "bowles2024"])
@pytest.mark.parametrize("measurement", ["XYZ", "Z"])
def test_projected_scale_gamma(measurement, rule):
    X, Y = _data(8, 3, seed=12), _data(5, 3, seed=13)
    fm = HeisenbergEmbedding()
    kernel = ProjectedQuantumKernel(fm, gamma=rule, measurement=measurement, bandwidth=1.0)
    # Symmetric: gamma from X itself.
    expected, gamma_x = dense_projected(fm, X, X, rule, measurement)
    np.testing.assert_allclose(kernel(X), expected, rtol=0, atol=1e-12)
    # K(Y, X): gamma from the second argument X (the training set in sklearn's calls).
    expected, gamma_second = dense_projected(fm, Y, X, rule, measurement)
    assert gamma_second == pytest.approx(gamma_x)
    np.testing.assert_allclose(kernel(Y, X), expected, rtol=0, atol=1e-12)
    # ...and differs from using Y's own variance.
    _, gamma_y = dense_projected(fm, Y, Y, rule, measurement)
    assert abs(gamma_y - gamma_x) > 1e-3 * gamma_x
    # The scale value is not a no-op.
    assert abs(gamma_x - 1.0) > 0.05
    # Fixed on the training representation by bind_training.
    bound = kernel.bind_training(kernel.embed(X))
    assert bound.gamma == pytest.approx(gamma_x, rel=1e-12)
    assert kernel.gamma == rule


def test_projected_bloch_vectors_of_known_states():
    # RY(x)|0> has Bloch vector (sin x, 0, cos x); two qubits, independent.
    X = np.array([[0.0, np.pi / 2], [np.pi, 0.3]])
    B = (
        ProjectedQuantumKernel(AngleEmbedding("Y"), bandwidth=1.0, gamma=1.0)
        .embed(X)
        .reshape(2, 2, 3)
    )
    expected = np.stack([np.sin(X), np.zeros_like(X), np.cos(X)], axis=2)
    np.testing.assert_allclose(B, expected, rtol=0, atol=1e-12)
    K = ProjectedQuantumKernel(AngleEmbedding("Y"), gamma=0.5, bandwidth=1.0)(X)
    d2 = np.sum((expected[0] - expected[1]) ** 2)
    assert K[0, 1] == pytest.approx(np.exp(-0.5 * d2), abs=1e-12)


# --------------------------------------------------------------------------------------------
# Bandwidth
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [FidelityQuantumKernel, ProjectedQuantumKernel])
def test_bandwidth_scales_inputs(cls):
    fm = ZZFeatureMap(reps=2)
    X, Y = _data(6, 3, seed=14), _data(4, 3, seed=15)
    scaled = cls(fm, bandwidth=0.3)
    plain = cls(fm, bandwidth=1.0)
    np.testing.assert_allclose(scaled(X, Y), plain(0.3 * X, 0.3 * Y), rtol=0, atol=1e-13)
    np.testing.assert_allclose(scaled(X), plain(0.3 * X), rtol=0, atol=1e-13)
    assert np.abs(scaled(X, Y) - plain(X, Y)).max() > 1e-2
    if cls is FidelityQuantumKernel:
        expected = overlap_gram(dense_states(fm, 0.3 * X), dense_states(fm, 0.3 * Y))
        np.testing.assert_allclose(scaled(X, Y), expected, rtol=0, atol=1e-12)


# --------------------------------------------------------------------------------------------
# Agreement with qiskit-machine-learning
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n_features", [2, 3, 5])
def test_agrees_with_qiskit_machine_learning(n_features):
    pytest.importorskip("qiskit")
    qml_kernels = pytest.importorskip("qiskit_machine_learning.kernels")
    from qiskit.circuit.library import zz_feature_map

    X, Y = _data(8, n_features, seed=16), _data(5, n_features, seed=17)
    theirs = qml_kernels.FidelityStatevectorKernel(
        feature_map=zz_feature_map(n_features), enforce_psd=False
    )
    ours = FidelityQuantumKernel(ZZFeatureMap(), bandwidth=1.0)
    np.testing.assert_allclose(ours(X, Y), theirs.evaluate(X, Y), rtol=0, atol=1e-10)
    np.testing.assert_allclose(ours(X), theirs.evaluate(X), rtol=0, atol=1e-10)


def test_agrees_with_qiskit_linear_entanglement():
    pytest.importorskip("qiskit")
    qml_kernels = pytest.importorskip("qiskit_machine_learning.kernels")
    from qiskit.circuit.library import zz_feature_map

    X, Y = _data(8, 4, seed=18), _data(5, 4, seed=19)
    theirs = qml_kernels.FidelityStatevectorKernel(
        feature_map=zz_feature_map(4, reps=1, entanglement="linear"), enforce_psd=False
    )
    ours = FidelityQuantumKernel(ZZFeatureMap(reps=1, entanglement="linear"), bandwidth=1.0)
    np.testing.assert_allclose(ours(X, Y), theirs.evaluate(X, Y), rtol=0, atol=1e-10)


# --------------------------------------------------------------------------------------------
# Blocks and parallelism
# --------------------------------------------------------------------------------------------
# A quarter of it, beside 80 states of 3 qubits and their Gram matrix: 6-row Gram blocks.
SMALL_MEMORY_MB = 0.2


@pytest.mark.parametrize(
    "make_kernel",
    [
        lambda **kw: FidelityQuantumKernel(ZZFeatureMap(reps=1), bandwidth=1.0, **kw),
        lambda **kw: ProjectedQuantumKernel(ZZFeatureMap(reps=1), bandwidth=1.0, **kw),
    ],
    ids=["fidelity", "projected"],
)
def test_n_jobs_gives_identical_gram(make_kernel):
    X, Y = _data(80, 3, seed=20), _data(33, 3, seed=21)
    serial = make_kernel(n_jobs=1, max_memory_mb=SMALL_MEMORY_MB)
    parallel = make_kernel(n_jobs=2, max_memory_mb=SMALL_MEMORY_MB)
    rows = serial._block_rows(serial.embed(X), None)
    assert 1 <= rows <= 80 // 4  # several row blocks
    K1, K2 = serial(X), parallel(X)
    np.testing.assert_array_equal(K1, K2)
    np.testing.assert_array_equal(serial(Y, X), parallel(Y, X))
    with joblib.parallel_config(backend="threading"):
        np.testing.assert_array_equal(parallel(X), K1)
        np.testing.assert_array_equal(parallel(Y, X), serial(Y, X))
    # Blocked equals one block (up to rounding: zherk vs zgemm on different tiles).
    whole = make_kernel()
    assert whole._block_rows(whole.embed(X), None) >= 80
    np.testing.assert_allclose(whole(X), K1, rtol=0, atol=1e-13)
    np.testing.assert_array_equal(K1, K1.T)


def test_block_rows_follow_memory_not_n_jobs():
    from skqml.kernels._gram import fidelity_input_row_bytes

    A = np.zeros((80, 8), dtype=complex)
    # A quarter of the budget left beside the states (80 x 8 complex), what the blocks
    # multiply besides them (density features of 8**2 doubles per row, or with numba the
    # compiled tiles' real and imaginary copies) and the 80 x 80 Gram matrix, for rows of 32
    # bytes per entry.
    assert fidelity_input_row_bytes(8) in (8 * 8**2, 16 * 8)
    held = A.nbytes + 80 * fidelity_input_row_bytes(8) + 8 * 80 * 80
    per_row = 32 * 80
    expected = int((SMALL_MEMORY_MB * 1024**2 - held) / 4 // per_row)
    assert 1 <= expected < 80
    for n_jobs in (None, 1, 2, 4):
        k = FidelityQuantumKernel(n_jobs=n_jobs, max_memory_mb=SMALL_MEMORY_MB, bandwidth=1.0)
        assert k._block_rows(A, None) == expected
    assert FidelityQuantumKernel(bandwidth=1.0)._block_rows(A, None) == 256  # the largest block


def test_parallel_simulation_blocks_identical():
    # More than 256 rows: the simulation itself runs in 256-row blocks through joblib. 257
    # leaves a 1-row block, which the simulator rounds differently from the same row inside a
    # larger batch; the blocks must therefore not depend on n_jobs.
    X = _data(257, 6, seed=22)
    fm = ZZFeatureMap()
    serial = FidelityQuantumKernel(fm, n_jobs=1, bandwidth=1.0)
    states = serial.embed(X)
    K1 = serial(X)
    with joblib.parallel_config(backend="threading"):
        parallel = FidelityQuantumKernel(fm, n_jobs=2, bandwidth=1.0)
        np.testing.assert_array_equal(parallel.embed(X), states)
        np.testing.assert_array_equal(parallel(X), K1)
        np.testing.assert_array_equal(parallel(X[:10], X), serial(X[:10], X))
    np.testing.assert_array_equal(FidelityQuantumKernel(fm, bandwidth=1.0).embed(X), states)
    np.testing.assert_allclose(states[-1:], dense_states(fm, X[-1:]), rtol=0, atol=1e-12)


def test_parallel_simulation_keeps_memory_guard():
    X = _data(300, 6, seed=23)  # 300 states of 1 KiB: 0.29 MiB
    with pytest.raises(SimulationMemoryError, match="the states of 300 samples"):
        FidelityQuantumKernel(
            ZZFeatureMap(reps=1), n_jobs=2, max_memory_mb=0.2, bandwidth=1.0
        ).embed(X)
    with pytest.raises(SimulationMemoryError, match="the states of 300 samples"):
        FidelityQuantumKernel(ZZFeatureMap(reps=1), max_memory_mb=0.2, bandwidth=1.0).embed(X)


# --------------------------------------------------------------------------------------------
# Memory guard
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [FidelityQuantumKernel, ProjectedQuantumKernel])
def test_too_many_qubits_refused_quickly(cls):
    X = _data(3, 30, seed=23)
    start = time.perf_counter()
    with pytest.raises(SimulationMemoryError, match="qubits"):
        cls()(X)
    assert time.perf_counter() - start < 5.0


def test_gram_block_memory_guard():
    k = FidelityQuantumKernel(ZZFeatureMap(reps=1), bandwidth=1.0)
    A = k.embed(_data(40, 2, seed=24))
    k.set_params(max_memory_mb=1e-4)
    with pytest.raises(SimulationMemoryError, match="Gram matrix block"):
        k.gram(A)


@pytest.mark.parametrize("value", [-1.0, 0, "big", True])
def test_bad_max_memory(value):
    with pytest.raises(ValueError, match="max_memory_mb"):
        FidelityQuantumKernel(max_memory_mb=value, bandwidth=1.0)(_data(3, 2, seed=0))


# --------------------------------------------------------------------------------------------
# Input validation
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [FidelityQuantumKernel, ProjectedQuantumKernel])
@pytest.mark.parametrize(
    ("X", "match"),
    [
        (np.array([[0.1, np.nan]]), "NaN"),
        (np.array([[0.1, np.inf]]), "infinity"),
        (np.array([0.1, 0.2]), "2D array"),
        (np.empty((0, 2)), "0 sample"),
        (np.array([["a", "b"]]), "convert"),
    ],
    ids=["nan", "inf", "1d", "empty", "strings"],
)
def test_bad_X(cls, X, match):
    with pytest.raises(ValueError, match=match):
        cls(ZZFeatureMap(reps=1))(X)
    with pytest.raises(ValueError, match=match):
        cls(ZZFeatureMap(reps=1))(np.ones((2, 2)), X)


@pytest.mark.parametrize("cls", [FidelityQuantumKernel, ProjectedQuantumKernel])
def test_mismatched_feature_counts(cls):
    with pytest.raises(ValueError, match="same number of features, got 2 and 3"):
        cls()(np.ones((2, 2)), np.ones((2, 3)))


@pytest.mark.parametrize("gamma", ["auto", -1.0, 0.0, True, None, np.nan])
def test_bad_gamma(gamma):
    with pytest.raises(ValueError, match="gamma"):
        ProjectedQuantumKernel(gamma=gamma, bandwidth=1.0)(_data(3, 2, seed=0))


@pytest.mark.parametrize("measurement", ["", "XW", "A", 3, None])
def test_bad_measurement(measurement):
    with pytest.raises(ValueError, match="measurement"):
        ProjectedQuantumKernel(measurement=measurement, bandwidth=1.0, gamma=1.0)(
            _data(3, 2, seed=0)
        )


@pytest.mark.parametrize("cls", [FidelityQuantumKernel, ProjectedQuantumKernel])
@pytest.mark.parametrize("bandwidth", [0, -1.0, np.nan, np.inf, "1", None, True])
def test_bad_bandwidth(cls, bandwidth):
    with pytest.raises(ValueError, match="bandwidth"):
        cls(bandwidth=bandwidth)(_data(3, 2, seed=0))


@pytest.mark.parametrize("cls", [FidelityQuantumKernel, ProjectedQuantumKernel])
@pytest.mark.parametrize("feature_map", ["zz", 3, ZZFeatureMap])
def test_feature_map_must_be_a_feature_map(cls, feature_map):
    with pytest.raises(TypeError, match="FeatureMap"):
        cls(feature_map)(_data(3, 2, seed=0))


def test_bad_backend():
    with pytest.raises(ValueError, match="statevector"):
        FidelityQuantumKernel(backend="nope", bandwidth=1.0)(_data(3, 2, seed=0))
    with pytest.raises(TypeError, match="backend"):
        FidelityQuantumKernel(backend=3, bandwidth=1.0)(_data(3, 2, seed=0))


def test_eval_gradient():
    X = _data(5, 2, seed=25)
    fixed = FidelityQuantumKernel(ZZFeatureMap(reps=1), bandwidth=1.0, bandwidth_bounds="fixed")
    K, grad = fixed(X, eval_gradient=True)
    np.testing.assert_array_equal(K, fixed(X))
    assert grad.shape == (5, 5, 0)
    # By default a numeric bandwidth is a hyperparameter: d/d log(bandwidth).
    k = FidelityQuantumKernel(ZZFeatureMap(reps=1), bandwidth=1.0)
    K, grad = k(X, eval_gradient=True)
    np.testing.assert_allclose(K, k(X), atol=1e-12)
    eps = 1e-6
    plus, minus = (k.clone_with_theta(k.theta + s)(X) for s in (eps, -eps))
    np.testing.assert_allclose(grad[:, :, 0], (plus - minus) / (2 * eps), atol=1e-7)
    with pytest.raises(ValueError, match="gradient"):
        k(X, X[:2], eval_gradient=True)


# --------------------------------------------------------------------------------------------
# Parameters, clone, pickle, repr
# --------------------------------------------------------------------------------------------
def test_get_params_deep_and_nested_set_params():
    k = FidelityQuantumKernel(ZZFeatureMap(reps=2), bandwidth=0.5)
    params = k.get_params(deep=True)
    assert params["feature_map__reps"] == 2
    assert params["feature_map__entanglement"] == "full"
    assert params["bandwidth"] == 0.5
    assert "feature_map__reps" not in k.get_params(deep=False)

    X = _data(5, 3, seed=26)
    before = k(X)
    assert k.set_params(feature_map__reps=1, feature_map__entanglement="linear") is k
    assert k.feature_map.reps == 1 and k.feature_map.entanglement == "linear"
    after = k(X)  # the cached circuit must follow the new parameters
    fm = ZZFeatureMap(reps=1, entanglement="linear")
    expected = overlap_gram(dense_states(fm, 0.5 * X), dense_states(fm, 0.5 * X))
    np.testing.assert_allclose(after, expected, rtol=0, atol=1e-12)
    assert np.abs(after - before).max() > 1e-2

    p = ProjectedQuantumKernel(HeisenbergEmbedding(trotter_steps=3), bandwidth=1.0, gamma=1.0)
    assert p.get_params()["feature_map__trotter_steps"] == 3
    p.set_params(feature_map__trotter_steps=1, gamma=0.2)
    assert p.feature_map.trotter_steps == 1 and p.gamma == 0.2


def test_set_params_rejects_unknown():
    with pytest.raises(ValueError):
        FidelityQuantumKernel(bandwidth=1.0).set_params(nonsense=1)


def test_clone_is_independent():
    k = FidelityQuantumKernel(ZZFeatureMap(reps=3), bandwidth=0.2, n_jobs=2)
    c = clone(k)
    assert c is not k and c.feature_map is not k.feature_map
    assert c.get_params() == k.get_params()
    c.set_params(feature_map__reps=1)
    assert k.feature_map.reps == 3
    assert k == clone(k)
    assert k != c


@pytest.mark.parametrize(
    "kernel",
    [
        FidelityQuantumKernel(ZZFeatureMap(reps=1), bandwidth=0.7),
        ProjectedQuantumKernel(gamma="scale", measurement="XZ", bandwidth=1.0),
    ],
    ids=repr,
)
def test_pickle_round_trip(kernel):
    X, Y = _data(6, 3, seed=27), _data(4, 3, seed=28)
    fresh = pickle.loads(pickle.dumps(kernel))
    np.testing.assert_array_equal(fresh(X, Y), kernel(X, Y))
    used = pickle.loads(pickle.dumps(kernel))  # kernel now carries its circuit cache
    np.testing.assert_array_equal(used(Y, X), kernel(Y, X))
    assert used.get_params() == kernel.get_params()


def test_repr_is_short():
    assert repr(FidelityQuantumKernel()) == "FidelityQuantumKernel()"
    assert repr(ProjectedQuantumKernel()) == "ProjectedQuantumKernel()"
    r = repr(FidelityQuantumKernel(ZZFeatureMap(reps=1), bandwidth=0.5))
    assert r == "FidelityQuantumKernel(feature_map=ZZFeatureMap(reps=1), bandwidth=0.5)"
    assert repr(ProjectedQuantumKernel(gamma=0.5)) == "ProjectedQuantumKernel(gamma=0.5)"
    assert repr(FidelityQuantumKernel(bandwidth=1.0)) == "FidelityQuantumKernel(bandwidth=1.0)"


def test_kernel_flags():
    k = FidelityQuantumKernel()
    assert isinstance(k, QuantumKernel)
    assert k.requires_vector_input and not k.is_stationary()
    assert k.n_dims == 0 and k.hyperparameters == []


# --------------------------------------------------------------------------------------------
# Use in scikit-learn without precomputing: once per Gram matrix, never per pair
# --------------------------------------------------------------------------------------------
class _Spy:
    """Counts kernel calls and the rows the simulator is asked for."""

    def __init__(self):
        self.calls = []
        self.simulated_rows = []

    def __enter__(self):
        from skqml.backends import _base

        original_call = QuantumKernel.__call__
        original_simulate = _base.simulate

        def call(kernel, X, Y=None, eval_gradient=False):
            self.calls.append((np.shape(X)[0], None if Y is None else np.shape(Y)[0]))
            return original_call(kernel, X, Y, eval_gradient)

        def simulate(circuit, X=None, *args, **kwargs):
            self.simulated_rows.append(np.shape(X)[0])
            return original_simulate(circuit, X, *args, **kwargs)

        self._patches = [
            mock.patch.object(QuantumKernel, "__call__", call),
            mock.patch.object(_base, "simulate", simulate),
        ]
        for p in self._patches:
            p.start()
        return self

    def __exit__(self, *exc):
        for p in self._patches:
            p.stop()


def _train_test(seed=30):
    X = _data(24, 3, seed=seed)
    Xt = _data(7, 3, seed=seed + 1)
    y_reg = np.sin(X).sum(axis=1)
    y_clf = (X[:, 0] + X[:, 1] > np.pi).astype(int)
    return X, Xt, y_reg, y_clf


@pytest.mark.parametrize("kernel_cls", [FidelityQuantumKernel, ProjectedQuantumKernel])
def test_svc_and_svr_equal_precomputed(kernel_cls):
    kernel = kernel_cls(ZZFeatureMap(reps=1), bandwidth=1.0)
    X, Xt, y_reg, y_clf = _train_test()
    K, Kt = kernel(X), kernel(Xt, X)
    with _Spy() as spy:
        svc = SVC(kernel=kernel).fit(X, y_clf)
        df = svc.decision_function(Xt)
    ref = SVC(kernel="precomputed").fit(K, y_clf)
    np.testing.assert_allclose(df, ref.decision_function(Kt), rtol=0, atol=1e-10)
    assert spy.calls == [(24, 24), (7, 24)]
    assert spy.simulated_rows == [24, 7, 24]

    with _Spy() as spy:
        svr = SVR(kernel=kernel, C=3.0).fit(X, y_reg)
        pred = svr.predict(Xt)
    ref = SVR(kernel="precomputed", C=3.0).fit(K, y_reg)
    np.testing.assert_allclose(pred, ref.predict(Kt), rtol=0, atol=1e-10)
    assert spy.calls == [(24, 24), (7, 24)]


def test_kernel_ridge_equals_precomputed_and_closed_form():
    kernel = FidelityQuantumKernel(ZZFeatureMap(reps=1), bandwidth=1.0)
    X, Xt, y, _ = _train_test()
    K, Kt = kernel(X), kernel(Xt, X)
    with _Spy() as spy:
        pred = KernelRidge(kernel=kernel, alpha=0.1).fit(X, y).predict(Xt)
    expected = Kt @ np.linalg.solve(K + 0.1 * np.eye(24), y)
    np.testing.assert_allclose(pred, expected, rtol=0, atol=1e-9)
    assert len(spy.calls) == 2 and all(rows in (7, 24) for rows, _ in spy.calls)
    assert sum(spy.simulated_rows) == 24 + 7 + 24


def test_kernel_pca_equals_precomputed():
    kernel = ProjectedQuantumKernel(ZZFeatureMap(reps=1), gamma="scale", bandwidth=1.0)
    X, Xt, _, _ = _train_test()
    K, Kt = kernel(X), kernel(Xt, X)
    with _Spy() as spy:
        kpca = KernelPCA(n_components=3, kernel=kernel, eigen_solver="dense").fit(X)
        Z = kpca.transform(Xt)
    ref = KernelPCA(n_components=3, kernel="precomputed", eigen_solver="dense").fit(K)
    np.testing.assert_allclose(np.abs(Z), np.abs(ref.transform(Kt)), rtol=0, atol=1e-9)
    assert len(spy.calls) == 2 and all(rows in (7, 24) for rows, _ in spy.calls)
    assert sum(spy.simulated_rows) <= 2 * 24 + 7


def test_nystroem_reproduces_gram():
    kernel = FidelityQuantumKernel(ZZFeatureMap(reps=1), bandwidth=1.0)
    X, Xt, _, _ = _train_test()
    with _Spy() as spy:
        ny = Nystroem(kernel=kernel, n_components=24, random_state=0).fit(X)
        Z, Zt = ny.transform(X), ny.transform(Xt)
    # With all training points as landmarks, Z Z^T = K K^+ K = K.
    np.testing.assert_allclose(Z @ Z.T, kernel(X), rtol=0, atol=1e-8)
    np.testing.assert_allclose(Zt @ Z.T, kernel(Xt, X), rtol=0, atol=1e-8)
    assert all(rows in (7, 24) for rows, _ in spy.calls) and len(spy.calls) == 3
    assert max(spy.simulated_rows) == 24 and len(spy.simulated_rows) <= 6


def test_gaussian_process_regressor_mean_formula():
    # The bandwidth held fixed: the posterior must be that of this very kernel.
    kernel = FidelityQuantumKernel(ZZFeatureMap(reps=1), bandwidth=1.0, bandwidth_bounds="fixed")
    X, Xt, y, _ = _train_test()
    with _Spy() as spy:
        gpr = GaussianProcessRegressor(kernel=kernel, alpha=1e-2).fit(X, y)
        mean, std = gpr.predict(Xt, return_std=True)
    K, Kt = kernel(X), kernel(Xt, X)
    expected = Kt @ np.linalg.solve(K + 1e-2 * np.eye(24), y)
    np.testing.assert_allclose(mean, expected, rtol=0, atol=1e-8)
    var = 1.0 - np.einsum("ij,ji->i", Kt, np.linalg.solve(K + 1e-2 * np.eye(24), Kt.T))
    np.testing.assert_allclose(std, np.sqrt(np.maximum(var, 0)), rtol=0, atol=1e-7)
    assert all(rows in (7, 24) for rows, _ in spy.calls) and len(spy.calls) <= 3


def test_gaussian_process_classifier_runs_on_whole_matrices():
    kernel = FidelityQuantumKernel(AngleEmbedding("Y"), bandwidth=0.5, bandwidth_bounds="fixed")
    X, Xt, _, y = _train_test()
    with _Spy() as spy:
        gpc = GaussianProcessClassifier(kernel=kernel).fit(X, y)
        proba = gpc.predict_proba(Xt)
    assert all(rows in (7, 24) for rows, _ in spy.calls) and len(spy.calls) <= 4
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert gpc.score(X, y) >= 0.9


def test_gp_kernel_composition():
    q = FidelityQuantumKernel(ZZFeatureMap(reps=1), bandwidth=0.3, bandwidth_bounds="fixed")
    X, Xt = _data(40, 3, seed=40), _data(7, 3, seed=41)
    y = np.sin(X).sum(axis=1) + 0.3 * np.random.default_rng(0).normal(size=40)
    K, Kt = q(X), q(Xt, X)
    kernel = ConstantKernel(1.0) * q + WhiteKernel(0.1)
    gpr = GaussianProcessRegressor(kernel=kernel, random_state=0).fit(X, y)
    c = gpr.kernel_.k1.k1.constant_value
    noise = gpr.kernel_.k2.noise_level
    assert c != pytest.approx(1.0, abs=0.05)  # optimised
    assert 0.005 < noise < 0.2  # the noise variance is 0.09, fitted from 40 samples
    np.testing.assert_allclose(gpr.kernel_(X), c * K + noise * np.eye(40), rtol=0, atol=1e-10)
    A = c * K + noise * np.eye(40) + 1e-10 * np.eye(40)
    expected = c * Kt @ np.linalg.solve(A, y)
    np.testing.assert_allclose(gpr.predict(Xt), expected, rtol=0, atol=1e-6)
    # Nested parameters through the composition.
    params = kernel.get_params()
    assert params["k1__k2__feature_map__reps"] == 1
    kernel.set_params(k1__k2__feature_map__reps=2)
    assert q.feature_map.reps == 2


def test_projected_scale_gamma_on_a_fresh_clone():
    # "scale" needs only the representation, not a kernel that has embedded data before.
    X = np.random.default_rng(3).uniform(0, np.pi, size=(6, 3))
    kernel = ProjectedQuantumKernel(gamma="scale", bandwidth=1.0)
    A = kernel.embed(X)
    gamma = 1 / np.var(A, axis=0).sum()  # "scale": the column variances, summed
    expected = np.exp(-gamma * ((A[:, None, :] - A[None, :, :]) ** 2).sum(-1))
    np.testing.assert_allclose(clone(kernel).gram(A), expected, atol=1e-12)


@pytest.mark.parametrize(
    "bad",
    [{"n_jobs": 1.5}, {"max_memory_mb": -1}, {"max_memory_mb": "lots"}, {"backend": 3}],
)
def test_kernel_parameters_are_validated(bad):
    from sklearn.utils._param_validation import InvalidParameterError

    with pytest.raises(InvalidParameterError, match=next(iter(bad))):
        FidelityQuantumKernel(**bad)(np.zeros((2, 2)))


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("dim", [2, 8, 16, 32, 64, 128])
def test_fidelity_block_every_form_matches_squared_overlaps(dim, compiled, monkeypatch):
    """``fidelity_block`` of ``fidelity_inputs``, in each of its forms: with numba the
    compiled tiles up to 64 amplitudes; without, a real product of density features up to
    16 and the complex product above. Each equals |A B^H|^2 (blocks of sizes that are not
    multiples of the tiles), and the symmetric block is exactly symmetric."""
    from skqml.kernels import _gram

    if compiled:
        pytest.importorskip("numba")
    monkeypatch.setattr(_gram, "USE_COMPILED", compiled)
    rng = np.random.default_rng(dim)
    A, B = (rng.normal(size=(rows, dim)) + 1j * rng.normal(size=(rows, dim)) for rows in (37, 301))
    A /= np.linalg.norm(A, axis=1, keepdims=True)
    B /= np.linalg.norm(B, axis=1, keepdims=True)
    tiles = _gram._compiled_tiles(dim) is not None
    assert tiles == (compiled and dim <= 64)
    A_in, B_in = _gram.fidelity_inputs(A), _gram.fidelity_inputs(B)
    assert np.iscomplexobj(A_in) == (tiles or dim > 16)
    np.testing.assert_allclose(
        _gram.fidelity_block(A_in, B_in), np.abs(A @ B.conj().T) ** 2, atol=1e-14
    )
    for X, X_in in ((A, A_in), (B, B_in)):
        K = _gram.fidelity_block(X_in, None)
        np.testing.assert_allclose(K, np.abs(X @ X.conj().T) ** 2, atol=1e-14)
        np.testing.assert_array_equal(K, K.T)


# --------------------------------------------------------------------------------------------
# One contract: validation, numerics, no hidden state
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [FidelityQuantumKernel, ProjectedQuantumKernel])
@pytest.mark.parametrize("n_samples", [2, 300])
def test_n_jobs_zero_is_refused_whatever_the_data_size(cls, n_samples):
    from sklearn.utils._param_validation import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="n_jobs"):
        cls(n_jobs=0)(_data(n_samples, 2, seed=0))


@pytest.mark.parametrize("cls", [FidelityQuantumKernel, ProjectedQuantumKernel])
def test_numpy_scalars_are_accepted_for_numeric_parameters(cls):
    X = _data(5, 3, seed=31)
    plain = cls(ZZFeatureMap(reps=1), bandwidth=0.5, n_jobs=1, max_memory_mb=500)
    numpy = cls(
        ZZFeatureMap(reps=1),
        bandwidth=np.float32(0.5),
        n_jobs=np.int64(1),
        max_memory_mb=np.int64(500),
    )
    if cls is ProjectedQuantumKernel:
        plain.set_params(gamma=0.25)
        numpy.set_params(gamma=np.float32(0.25))
    np.testing.assert_array_equal(numpy(X), plain(X))


@pytest.mark.parametrize("bandwidth", [0, -1.0, np.inf, np.nan, "1", True])
def test_bad_bandwidth_is_refused(bandwidth):
    with pytest.raises(ValueError, match="bandwidth"):
        FidelityQuantumKernel(bandwidth=bandwidth)(_data(3, 2, seed=0))


@pytest.mark.parametrize("gamma", [0, -1.0, np.inf, "auto", True])
def test_bad_gamma_is_refused(gamma):
    with pytest.raises(ValueError, match="gamma"):
        ProjectedQuantumKernel(gamma=gamma, bandwidth=1.0)(_data(3, 2, seed=0))


@pytest.mark.filterwarnings("ignore:overflow encountered")
@pytest.mark.parametrize("cls", [FidelityQuantumKernel, ProjectedQuantumKernel])
def test_large_finite_features_raise_a_clear_error(cls):
    """1e155 overflows the ZZ angle (pi - x)(pi - y): a ValueError naming the feature and
    the fix, not a Gram matrix of NaN (which SVC reports as NaN in the user's X)."""
    X = _data(4, 3, seed=32)
    X[2, 1:] = 1e155
    with pytest.raises(ValueError, match=r"overflows.*x\[1\] = 1e\+155.*MinMaxScaler"):
        cls(ZZFeatureMap(reps=1), bandwidth=1.0)(X)
    # Large values that do not overflow give a finite kernel with its exact diagonal.
    X[2, 1:] = 1e100
    K = cls(ZZFeatureMap(reps=1), bandwidth=1.0)(X)
    assert np.all(np.isfinite(K))
    np.testing.assert_allclose(np.diag(K), 1.0, atol=1e-12)


@pytest.mark.parametrize("cls", [FidelityQuantumKernel, ProjectedQuantumKernel])
def test_kernels_keep_no_state_on_themselves(cls):
    """Evaluating a kernel writes nothing into it; equal settings share one circuit."""
    kernel = cls(ZZFeatureMap(reps=1))
    params = set(kernel.get_params(deep=False))
    kernel(_data(4, 3, seed=33))
    assert set(vars(kernel)) == params
    assert kernel.circuit(3) is clone(kernel).circuit(3)
    other = clone(kernel).set_params(feature_map__reps=2)
    assert other.circuit(3) is not kernel.circuit(3)
    assert other.circuit(3).count_ops() != kernel.circuit(3).count_ops()


def test_wide_kernel_advice_is_fewer_features():
    X = _data(2, 30, seed=34)
    for kernel in (FidelityQuantumKernel(), ProjectedQuantumKernel(ZZFeatureMap())):
        with pytest.raises(SimulationMemoryError, match="30 qubits") as info:
            kernel.set_params(max_memory_mb=4096)(X)
        assert "fewer features" in str(info.value)
        assert "fewer samples at once would not help" in str(info.value)


# --------------------------------------------------------------------------------------------
# bandwidth="scale": the median heuristic in the kernel's own metric
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n_features", [3, 8])
def test_scale_bandwidth_on_a_product_map_by_hand(n_features):
    """For one-qubit rotations k = prod cos^2(b (x_i - y_i) / 2), so q = ||x - y||^2 / 4: the
    median rule is b = 2 / sqrt(median ||x - y||^2) (the classical median heuristic), and
    the fold cap along feature j is b * range_j <= pi. On 3 standardised features the cap
    binds, on 8 the median rule does."""
    from skqml.kernels._bandwidth import scale_bandwidths

    X = np.random.default_rng(3).normal(size=(40, n_features))
    d2 = ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)[np.triu_indices(40, 1)]
    median_rule = 2 / np.sqrt(np.median(d2))
    fold_cap = np.pi / np.ptp(X, axis=0).max()
    expected = min(median_rule, fold_cap)
    assert (fold_cap < median_rule) == (n_features == 3)
    got, got_median_rule = scale_bandwidths(AngleEmbedding().build(n_features), X)
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    np.testing.assert_allclose(got_median_rule, median_rule, rtol=1e-5)


@pytest.mark.parametrize("feature_map", [ZZFeatureMap(), AngleEmbedding(), IQPEmbedding()])
def test_scale_bandwidth_folds_no_feature(feature_map):
    """On one or two features the median pair is a large part of a feature's range: the
    bandwidth keeps the two ends of every feature's range apart (no wrap-around to k ~ 1)."""
    X = np.random.default_rng(4).normal(size=(60, 2))
    kernel = FidelityQuantumKernel(feature_map).with_fixed_bandwidth(X)
    b_median = 1 / np.sqrt(
        np.median(
            1 - FidelityQuantumKernel(feature_map, bandwidth=1e-3)(X)[np.triu_indices(60, 1)]
        )
        / 1e-6
    )
    assert kernel.bandwidth <= b_median * (1 + 1e-6)
    for j in range(2):
        low, high = X.copy(), X.copy()
        low[:, j], high[:, j] = X[:, j].min(), X[:, j].max()
        ends = np.diag(kernel(low, high))
        assert ends.max() < 0.6, (j, ends.max())


def test_scale_bandwidth_is_fixed_on_the_columns_samples():
    X_train = np.random.default_rng(0).normal(size=(30, 4))
    X_test = np.random.default_rng(1).normal(scale=3.0, size=(7, 4))
    kernel = FidelityQuantumKernel(ZZFeatureMap(reps=1), bandwidth="scale")
    fixed = kernel.with_fixed_bandwidth(X_train)
    assert isinstance(fixed.bandwidth, float) and 0 < fixed.bandwidth < 1
    assert kernel.bandwidth == "scale"  # the original is not modified
    np.testing.assert_array_equal(kernel(X_test, X_train), fixed(X_test, X_train))
    np.testing.assert_array_equal(kernel(X_train), fixed(X_train))
    assert fixed.with_fixed_bandwidth(X_test) is fixed


def test_scale_bandwidth_undoes_concentration_on_standardised_data():
    """At bandwidth 1 eight standardised features give an almost diagonal Gram matrix (mean
    off-diagonal near 2**-8); "scale" brings the median pair back to a useful similarity."""
    X = np.random.default_rng(0).normal(size=(60, 8))
    off = np.triu_indices(60, 1)
    K1 = FidelityQuantumKernel(bandwidth=1.0)(X)[off]
    Ks = FidelityQuantumKernel(bandwidth="scale")(X)[off]
    assert np.median(K1) < 0.02
    assert 0.1 < np.median(Ks) < 0.7


@pytest.mark.parametrize("bad", ["auto", "Scale", 0.0, -1.0])
def test_bad_bandwidth_names_the_choices(bad):
    X = np.zeros((3, 2))
    with pytest.raises(ValueError, match="bandwidth"):
        FidelityQuantumKernel(bandwidth=bad)(X)


def test_scale_bandwidth_uses_fewer_pairs_rather_than_refusing():
    """Under a budget that holds the kernel's work but not 200 probe states, the rule takes
    fewer rows instead of refusing with advice that fewer samples cannot follow."""
    X = np.random.default_rng(0).normal(size=(60, 16))
    budget = 20
    fixed = ProjectedQuantumKernel(AngleEmbedding(), max_memory_mb=budget)
    scaled = ProjectedQuantumKernel(AngleEmbedding(), bandwidth="scale", max_memory_mb=budget)
    fixed(X)
    K = scaled(X)
    assert K.shape == (60, 60) and np.all(np.isfinite(K))


def test_overflowing_bandwidth_names_the_bandwidth():
    X = np.array([[0.5, 2.0], [1.0, -1.0]])
    with pytest.raises(ValueError, match=r"bandwidth=1e\+308 .*overflows") as info:
        FidelityQuantumKernel(bandwidth=1e308)(X)
    assert "NaN" not in str(info.value)
