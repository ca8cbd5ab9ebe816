"""Tests for trainable quantum kernels: alignment, trainable weights, training, GP hyperparameters.

References, independent of the code under test:
- the alignment from explicit centering matrices ``H = I - 1 1^T / n`` and explicit target
  matrices (one-hot, +-1 labels, standardised targets);
- derivatives by central finite differences;
- states from the dense gate-by-gate unitaries of ``tests/_reference.circuit_unitary``.
"""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
from _reference import circuit_unitary
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.svm import SVC

from skqml.backends import Backend, SamplingBackend, ShotsBackend, StatevectorBackend
from skqml.circuits import AngleEmbedding, HubregtsenEmbedding, ZZFeatureMap, bandwidth_as_weight
from skqml.kernels import FidelityQuantumKernel, ProjectedQuantumKernel, kernel_alignment
from skqml.kernels._alignment import (
    _alignment_and_gradient,
    alignment_and_gradient,
    alignment_and_gradient_by_shifts,
    target_matrix,
)
from skqml.simulator import simulate_probabilities
from skqml.svm import QSVC, QSVR


# ----------------------------------------------------------------------------------------------
# kernel_alignment
# ----------------------------------------------------------------------------------------------
def _dense_alignment(K, T, centered=True):
    n = K.shape[0]
    H = np.eye(n) - np.ones((n, n)) / n if centered else np.eye(n)
    Kc, Tc = H @ K @ H, H @ T @ H
    return np.sum(Kc * Tc) / np.sqrt(np.sum(Kc * Kc) * np.sum(Tc * Tc))


def _random_gram(rng, n=7, d=3):
    F = rng.normal(size=(n, d))
    return F @ F.T + 0.1 * np.eye(n)


@pytest.mark.parametrize("centered", [True, False])
def test_alignment_binary_matches_dense_reference(centered):
    rng = np.random.default_rng(0)
    K = _random_gram(rng)
    y = np.array(["a", "b", "a", "a", "b", "b", "a"])
    signs = np.where(y == "a", -1.0, 1.0)
    expected = _dense_alignment(K, np.outer(signs, signs), centered)
    assert kernel_alignment(K, y, centered=centered) == pytest.approx(expected, rel=1e-12)


def test_alignment_multiclass_centered_equals_one_hot():
    rng = np.random.default_rng(1)
    K = _random_gram(rng, n=9)
    y = np.array([0, 1, 2, 0, 1, 2, 2, 0, 1])
    one_hot = np.eye(3)[y]
    expected = _dense_alignment(K, one_hot @ one_hot.T)
    assert kernel_alignment(K, y) == pytest.approx(expected, rel=1e-12)
    # Uncentered: the Cortes et al. target 1 / -1/(c-1), written out by hand.
    T = np.array([[1.0 if a == b else -0.5 for b in y] for a in y])
    assert kernel_alignment(K, y, centered=False) == pytest.approx(
        _dense_alignment(K, T, centered=False), rel=1e-12
    )


def test_alignment_regression_standardised_targets():
    rng = np.random.default_rng(2)
    K = _random_gram(rng)
    y = rng.normal(size=7) * 3 + 5
    z = (y - y.mean()) / y.std()
    for centered in (True, False):
        assert kernel_alignment(K, y, centered=centered) == pytest.approx(
            _dense_alignment(K, np.outer(z, z), centered), rel=1e-12
        )
    # Integer targets read as classes unless the task says otherwise.
    yi = np.array([1, 2, 3, 4, 5, 6, 7])
    zi = (yi - yi.mean()) / yi.std()
    assert kernel_alignment(K, yi, task="regression") == pytest.approx(
        _dense_alignment(K, np.outer(zi, zi)), rel=1e-12
    )
    assert kernel_alignment(K, yi) != pytest.approx(kernel_alignment(K, yi, task="regression"))


def test_alignment_invariances():
    rng = np.random.default_rng(3)
    K = _random_gram(rng, n=8)
    y = np.array([0, 1, 1, 0, 1, 0, 0, 1])
    a = kernel_alignment(K, y)
    assert kernel_alignment(3.7 * K, y) == pytest.approx(a, rel=1e-12)
    perm = rng.permutation(8)
    assert kernel_alignment(K[np.ix_(perm, perm)], y[perm]) == pytest.approx(a, rel=1e-12)
    # Centered alignment ignores a constant offset of the kernel; uncentered does not.
    assert kernel_alignment(K + 5.0, y) == pytest.approx(a, rel=1e-10)
    assert kernel_alignment(K + 5.0, y, centered=False) != pytest.approx(
        kernel_alignment(K, y, centered=False)
    )
    # The ideal kernel aligns perfectly; a constant one carries nothing.
    assert kernel_alignment(target_matrix(y), y) == pytest.approx(1.0)
    assert kernel_alignment(np.ones((8, 8)), y) == 0.0


@pytest.mark.parametrize("centered", [True, False])
@pytest.mark.parametrize("y", [np.array([0, 1, 1, 0, 2, 0]), np.linspace(-1, 2, 6) ** 2])
def test_alignment_gradient_finite_differences(centered, y):
    rng = np.random.default_rng(4)
    K = _random_gram(rng, n=6)
    T = target_matrix(y)
    _, G = _alignment_and_gradient(K, T, centered)
    eps = 1e-6
    for i, j in [(0, 0), (1, 3), (3, 1), (5, 2), (4, 4)]:
        Kp, Km = K.copy(), K.copy()
        Kp[i, j] += eps
        Km[i, j] -= eps
        fd = (
            _alignment_and_gradient(Kp, T, centered, False)[0]
            - _alignment_and_gradient(Km, T, centered, False)[0]
        ) / (2 * eps)
        assert G[i, j] == pytest.approx(fd, rel=1e-6, abs=1e-9)


def test_alignment_errors():
    K = np.eye(4)
    with pytest.raises(ValueError, match="same number of samples"):
        kernel_alignment(K, [0, 1, 0])
    with pytest.raises(ValueError, match="square"):
        kernel_alignment(np.ones((4, 3)), [0, 1, 0, 1])
    with pytest.raises(ValueError, match="at least 2 classes"):
        kernel_alignment(K, [1, 1, 1, 1])
    with pytest.raises(ValueError, match="constant"):
        kernel_alignment(K, [0.5, 0.5, 0.5, 0.5])
    with pytest.raises(ValueError, match="task must be"):
        kernel_alignment(K, [0, 1, 0, 1], task="ranking")


# ----------------------------------------------------------------------------------------------
# Trainable weights in FidelityQuantumKernel
# ----------------------------------------------------------------------------------------------
def _dense_states(circuit, X, weights):
    zero = np.zeros(2**circuit.n_qubits)
    zero[0] = 1.0
    return np.array([circuit_unitary(circuit, x, weights) @ zero for x in X])


def _dense_gram(circuit, X, weights, Y=None):
    A = _dense_states(circuit, X, weights)
    B = A if Y is None else _dense_states(circuit, Y, weights)
    return np.abs(A.conj() @ B.T) ** 2


def _data(n=6, d=2, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d))


def test_weighted_kernel_matches_dense_reference():
    fm = HubregtsenEmbedding(n_layers=2)
    X, Y = _data(), _data(3, seed=1)
    weights = fm.initial_weights(2, random_state=3)
    kernel = FidelityQuantumKernel(fm, weights=weights, bandwidth=0.7)
    circuit = fm.build(2)
    states = kernel.embed(X)
    dense = _dense_states(circuit, 0.7 * X, weights)
    # The same states up to a global phase each.
    overlaps = np.abs(np.einsum("ij,ij->i", states.conj(), dense))
    np.testing.assert_allclose(overlaps, 1.0, atol=1e-12)
    np.testing.assert_allclose(kernel(X), _dense_gram(circuit, 0.7 * X, weights), atol=1e-12)
    np.testing.assert_allclose(
        kernel(X, Y), _dense_gram(circuit, 0.7 * X, weights, 0.7 * Y), atol=1e-12
    )
    # Other weights, another kernel: the weights are used.
    other = FidelityQuantumKernel(fm, weights=weights + 0.5, bandwidth=0.7)
    assert np.abs(other(X) - kernel(X)).max() > 1e-2
    # random_state: the feature map's initial weights with that seed.
    seeded = FidelityQuantumKernel(fm, random_state=3, bandwidth=0.7)
    np.testing.assert_array_equal(seeded(X), kernel(X))


def test_weighted_kernel_on_sampling_backend():
    # Two layers: the weights of the last layer act after all the data, so that one layer's
    # weights cancel in every fidelity.
    fm = HubregtsenEmbedding(n_layers=2)
    X = _data(5)
    weights = fm.initial_weights(2, random_state=0)
    exact = _dense_gram(fm.build(2), X, weights)
    kernel = FidelityQuantumKernel(
        fm, weights=weights, bandwidth=1.0, backend=ShotsBackend(shots=4000, seed=0)
    )
    K = kernel(X)
    assert np.abs(K - exact).max() < 5 / np.sqrt(4000)
    # Estimates differ from other weights' exact values by more than the shot noise.
    other = _dense_gram(fm.build(2), X, fm.initial_weights(2, random_state=1))
    assert np.abs(K - other).max() > 0.1


def test_weighted_kernel_scale_bandwidth_uses_the_weights():
    fm = HubregtsenEmbedding(n_layers=2)
    X = _data(8)
    a = FidelityQuantumKernel(fm, random_state=0).with_fixed_bandwidth(X).bandwidth
    b = FidelityQuantumKernel(fm, random_state=1).with_fixed_bandwidth(X).bandwidth
    assert np.isfinite(a) and a > 0 and a != b


def test_weighted_kernel_refuses_ambiguous_or_wrong_weights():
    fm = HubregtsenEmbedding(n_layers=1)
    X = _data(4)
    with pytest.raises(ValueError, match=r"same in every call: pass weights=\.\.\. or an integer"):
        FidelityQuantumKernel(fm, bandwidth=1.0)(X)
    with pytest.raises(ValueError, match=r"weights has 3 values.*4 trainable weights"):
        FidelityQuantumKernel(fm, weights=[0.1, 0.2, 0.3], bandwidth=1.0)(X)
    with pytest.raises(ValueError, match=r"weights has 2 values.*0 trainable weights"):
        FidelityQuantumKernel(ZZFeatureMap(reps=1), weights=[0.1, 0.2], bandwidth=1.0)(X)
    with pytest.raises(ValueError, match="NaN"):
        FidelityQuantumKernel(fm, weights=[0.1, np.nan, 0.3, 0.4], bandwidth=1.0)(X)
    with pytest.raises(ValueError, match="random_state"):
        FidelityQuantumKernel(fm, random_state=np.random.RandomState(0), bandwidth=1.0)(X)
    with pytest.raises(ValueError, match="no trainable weights"):
        ProjectedQuantumKernel(fm, bandwidth=1.0)(X)


def test_weighted_kernel_clone_and_pickle():
    fm = HubregtsenEmbedding(n_layers=1)
    X = _data(4)
    weights = np.array([0.1, 0.2, 0.3, 0.4])
    kernel = FidelityQuantumKernel(fm, weights=weights, bandwidth=1.0)
    copy = clone(kernel)
    assert copy.weights is not weights
    np.testing.assert_array_equal(copy.weights, weights)
    restored = pickle.loads(pickle.dumps(kernel))
    np.testing.assert_array_equal(restored(X), kernel(X))
    assert "weights=array" in repr(kernel)


# ----------------------------------------------------------------------------------------------
# Kernel training by alignment (QSVC / QSVR)
# ----------------------------------------------------------------------------------------------
def _moons(n=24):
    from sklearn.datasets import make_moons

    return make_moons(n, noise=0.15, random_state=0)


@pytest.mark.parametrize(("centered", "regression"), [(True, False), (False, True)])
def test_alignment_gradient_through_simulator_matches_finite_differences(centered, regression):
    fm = HubregtsenEmbedding(n_layers=2)
    X, y = _moons(10)
    if regression:
        y = X[:, 0] + np.sin(X[:, 1])
    target = target_matrix(y)
    circuit = bandwidth_as_weight(fm.build(2))
    weights, bandwidth = fm.initial_weights(2, random_state=1), 0.8
    alignment, grad = alignment_and_gradient(
        circuit, X, np.append(weights, bandwidth), target, centered=centered
    )

    def reference(w, log_b):  # the public pieces only: kernel, then alignment
        K = FidelityQuantumKernel(fm, weights=w, bandwidth=float(np.exp(log_b)))(X)
        return kernel_alignment(K, y, centered=centered)

    log_b = np.log(bandwidth)
    assert alignment == pytest.approx(reference(weights, log_b), abs=1e-12)
    eps = 1e-5
    for k in range(weights.size):
        step = np.zeros_like(weights)
        step[k] = eps
        fd = (reference(weights + step, log_b) - reference(weights - step, log_b)) / (2 * eps)
        assert grad[k] == pytest.approx(fd, rel=1e-5, abs=1e-8)
    fd = (reference(weights, log_b + eps) - reference(weights, log_b - eps)) / (2 * eps)
    assert bandwidth * grad[-1] == pytest.approx(fd, rel=1e-5, abs=1e-8)
    assert np.abs(grad).max() > 1e-3  # a real test: the gradient is not all zeros


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_qsvc_alignment_training_increases_alignment(optimizer):
    X, y = _moons()
    fm = HubregtsenEmbedding(n_layers=2)
    clf = QSVC(
        fm,
        kernel_training="alignment",
        kernel_training_optimizer=optimizer,
        kernel_training_max_iter=15,
        kernel_training_learning_rate=0.1,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    # The starting point: the same initial weights, the "scale" bandwidth.
    initial = FidelityQuantumKernel(
        fm, weights=fm.initial_weights(2, np.random.RandomState(0))
    ).with_fixed_bandwidth(X)
    before = kernel_alignment(initial(X), y)
    assert clf.kernel_alignment_ > before + 0.02
    assert clf.kernel_alignment_ == pytest.approx(kernel_alignment(clf.kernel_(X), y))
    if optimizer == "lbfgs":  # the curve holds the iterates' alignments
        assert clf.kernel_alignment_ == pytest.approx(clf.kernel_training_curve_[-1])
    assert clf.bandwidth_ == clf.kernel_.bandwidth != initial.bandwidth
    assert not np.allclose(clf.kernel_.weights, initial.weights)
    # The SVM uses the trained kernel.
    reference = SVC(kernel="precomputed", C=clf.C_).fit(clf.kernel_(X), y)
    np.testing.assert_allclose(
        clf.decision_function(X), reference.decision_function(clf.kernel_(X, X)), atol=1e-6
    )


def test_kernel_training_reproducible_and_independent_of_n_jobs():
    X, y = _moons()
    kwargs = dict(kernel_training="alignment", kernel_training_max_iter=5, random_state=3)
    fm = HubregtsenEmbedding(n_layers=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = QSVC(fm, **kwargs).fit(X, y)
        b = QSVC(fm, **kwargs).fit(X, y)
        c = QSVC(fm, n_jobs=2, **kwargs).fit(X, y)
    for other in (b, c):
        np.testing.assert_array_equal(other.kernel_.weights, a.kernel_.weights)
        assert other.bandwidth_ == a.bandwidth_
        np.testing.assert_array_equal(other.decision_function(X), a.decision_function(X))
    # Another seed, other initial weights.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        d = QSVC(fm, **{**kwargs, "random_state": 4}).fit(X, y)
    assert not np.allclose(d.kernel_.weights, a.kernel_.weights)


def test_qsvr_alignment_training_and_bandwidth_only():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(20, 1))
    y = np.sin(2 * X[:, 0])
    reg = QSVR(AngleEmbedding(), kernel_training="alignment", kernel_training_max_iter=20).fit(
        X, y
    )
    start = FidelityQuantumKernel(AngleEmbedding()).with_fixed_bandwidth(X)
    before = kernel_alignment(start(X), y, task="regression")
    assert reg.kernel_alignment_ >= before - 1e-12
    assert reg.kernel_.weights is None  # no weights to train: the bandwidth only
    assert reg.bandwidth_ != start.bandwidth
    # A later fit without training drops the training attributes.
    reg.set_params(kernel_training=None).fit(X, y)
    assert not hasattr(reg, "kernel_alignment_")


class _ExactSampling(SamplingBackend):
    """A measuring backend with exact probabilities: parameter shift is then exact too."""

    def probabilities(self, circuit, X=None, weights=None, *, max_memory_mb=None):
        return simulate_probabilities(circuit, X, weights, max_memory_mb=max_memory_mb)


@pytest.mark.parametrize(
    ("feature_map", "centered", "regression"),
    [
        (HubregtsenEmbedding(n_layers=2), True, False),  # RZ, RY and CRZ (four-term rule)
        (HubregtsenEmbedding(n_layers=1), False, True),
        (ZZFeatureMap(reps=1), True, False),  # the bandwidth only, in products of features
    ],
)
def test_alignment_gradient_by_shifts_equals_exact_gradient(feature_map, centered, regression):
    X, y = _moons(7)
    if regression:
        y = X[:, 0] + np.sin(X[:, 1])
    target = target_matrix(y)
    circuit = bandwidth_as_weight(feature_map.build(2))
    weights = feature_map.initial_weights(2, random_state=2)
    params = np.append(weights, 0.7)
    exact = alignment_and_gradient(circuit, X, params, target, centered=centered)
    shifted = alignment_and_gradient_by_shifts(
        circuit, X, params, target, _ExactSampling(), centered=centered
    )
    assert shifted[0] == pytest.approx(exact[0], abs=1e-12)
    np.testing.assert_allclose(shifted[1], exact[1], atol=1e-10)
    assert np.abs(exact[1]).max() > 1e-3  # a real test: the gradient is not all zeros


def test_qsvc_alignment_training_on_shots():
    X, y = _moons(12)
    fm = HubregtsenEmbedding(n_layers=1)
    kwargs = dict(
        backend=ShotsBackend(shots=4000, seed=0),
        kernel_training="alignment",
        kernel_training_max_iter=8,
        kernel_training_learning_rate=0.2,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = QSVC(fm, **kwargs).fit(X, y)
        again = QSVC(fm, **kwargs).fit(X, y)
    np.testing.assert_array_equal(clf.kernel_.weights, again.kernel_.weights)
    assert clf.bandwidth_ == again.bandwidth_
    assert len(clf.kernel_training_curve_) == 8  # Adam, the default on sampling backends
    # The trained kernel aligns better with the labels than the start, measured exactly.
    initial = FidelityQuantumKernel(
        fm, weights=fm.initial_weights(2, np.random.RandomState(0))
    ).with_fixed_bandwidth(X)
    trained = clone(clf.kernel_).set_params(backend="statevector")
    assert kernel_alignment(trained(X), y) > kernel_alignment(initial(X), y) + 0.02
    assert clf.kernel_.backend == kwargs["backend"]  # the SVM's Gram on the shots backend


def test_kernel_training_refusals():
    X, y = _moons(8)
    fm = HubregtsenEmbedding(n_layers=2)

    class OverlapsOnly(Backend):  # neither states nor overlap-circuit estimates
        def overlaps(self, circuit, XA, XB=None, symmetric=None, weights=None, **kw):
            return StatevectorBackend().overlaps(circuit, XA, XB, symmetric, weights)

    with pytest.raises(ValueError, match="gives neither"):
        QSVC(fm, backend=OverlapsOnly(), kernel_training="alignment").fit(X, y)
    with pytest.raises(ValueError, match="use kernel='fidelity'"):
        QSVC(kernel="projected", kernel_training="alignment").fit(X, y)
    with pytest.raises(ValueError, match="kernel_training"):
        QSVC(fm, kernel_training="target").fit(X, y)
    with pytest.raises(ValueError, match="at least 2 classes"):
        QSVC(fm, kernel_training="alignment", random_state=0).fit(X, np.zeros(8))


# ----------------------------------------------------------------------------------------------
# Gaussian-process hyperparameters: log(bandwidth) and the weights
# ----------------------------------------------------------------------------------------------
def _gp_kernel(**kwargs):
    fm = HubregtsenEmbedding(n_layers=2)
    params = dict(weights=fm.initial_weights(2, random_state=0), bandwidth=0.7)
    params.update(bandwidth_bounds=(1e-2, 1e1))
    params.update(kwargs)
    return FidelityQuantumKernel(fm, **params)


def test_theta_layout_bounds_and_clone_with_theta():
    kernel = _gp_kernel()
    weights = kernel.weights
    assert [h.name for h in kernel.hyperparameters] == ["bandwidth", "weights"]
    np.testing.assert_array_equal(kernel.theta, np.r_[np.log(0.7), weights])
    assert kernel.n_dims == 9
    np.testing.assert_allclose(kernel.bounds[0], np.log([1e-2, 1e1]))
    np.testing.assert_allclose(kernel.bounds[1:], [[-4 * np.pi, 4 * np.pi]] * 8)
    theta = kernel.theta + 0.1
    other = kernel.clone_with_theta(theta)
    assert other.bandwidth == pytest.approx(0.7 * np.exp(0.1))
    np.testing.assert_allclose(other.weights, weights + 0.1)
    np.testing.assert_array_equal(kernel.theta[1:], weights)  # the original is unchanged
    # Nothing numeric to tune: an empty theta, as before.
    assert FidelityQuantumKernel().n_dims == 0
    assert FidelityQuantumKernel(bandwidth=1.0, bandwidth_bounds="fixed").n_dims == 0
    # A numeric bandwidth is tuned by default, as RBF's length scale.
    default = FidelityQuantumKernel(bandwidth=1.0)
    assert [h.name for h in default.hyperparameters] == ["bandwidth"]
    np.testing.assert_allclose(default.bounds, np.log([[1e-3, 1e3]]))
    assert _gp_kernel(bandwidth="scale").n_dims == 8
    assert _gp_kernel(weights_bounds="fixed").n_dims == 1
    assert _gp_kernel(weights=None, random_state=0).n_dims == 1
    with pytest.raises(ValueError, match="theta has shape"):
        kernel.theta = np.zeros(3)


@pytest.mark.parametrize(
    "kwargs", [{}, {"bandwidth": "scale"}, {"weights_bounds": "fixed"}], ids=["all", "scale", "b"]
)
def test_eval_gradient_matches_finite_differences(kwargs):
    kernel = _gp_kernel(**kwargs)
    X = _data(6)
    K, grad = kernel(X, eval_gradient=True)
    np.testing.assert_allclose(K, kernel(X), atol=1e-12)
    assert grad.shape == (6, 6, kernel.n_dims)
    # bandwidth="scale" is fixed on X at each call, its dependence on the weights not
    # differentiated: the reference holds it fixed too.
    reference = kernel
    if kernel.bandwidth == "scale":
        reference = kernel.with_fixed_bandwidth(X).set_params(bandwidth_bounds="fixed")
    theta, eps = reference.theta, 1e-6
    assert theta.shape == (kernel.n_dims,)
    for k in range(kernel.n_dims):
        step = np.zeros_like(theta)
        step[k] = eps
        plus, minus = (
            reference.clone_with_theta(theta + step),
            reference.clone_with_theta(theta - step),
        )
        fd = plus(X) - minus(X)
        np.testing.assert_allclose(grad[:, :, k], fd / (2 * eps), atol=1e-7)
    assert np.abs(grad).max() > 1e-2
    with pytest.raises(ValueError, match="gradient"):
        kernel(X, X[:2], eval_gradient=True)


def test_eval_gradient_refused_on_sampling_backend():
    kernel = _gp_kernel(backend=ShotsBackend(seed=0))
    with pytest.raises(ValueError, match="eval_gradient needs exact states"):
        kernel(_data(4), eval_gradient=True)


def test_gpr_marginal_likelihood_improves_with_composition():
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import ConstantKernel, WhiteKernel

    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(25, 2))
    y = np.sin(2 * X[:, 0]) * np.cos(X[:, 1]) + 0.05 * rng.normal(size=25)
    kernel = ConstantKernel(1.0) * _gp_kernel(bandwidth=1.0) + WhiteKernel(0.1)
    gpr = GaussianProcessRegressor(kernel, random_state=0).fit(X, y)
    before = gpr.log_marginal_likelihood(kernel.theta)
    assert gpr.log_marginal_likelihood_value_ > before + 10
    fitted = gpr.kernel_.k1.k2
    assert fitted.bandwidth != 1.0
    assert not np.allclose(fitted.weights, kernel.k1.k2.weights)
    # The fitted composition is what predict uses.
    c, noise = gpr.kernel_.k1.k1.constant_value, gpr.kernel_.k2.noise_level
    np.testing.assert_allclose(gpr.kernel_(X), c * fitted(X) + noise * np.eye(25), atol=1e-10)
    assert kernel.get_params()["k1__k2__feature_map__n_layers"] == 2


def test_gpc_fits_the_bandwidth():
    from sklearn.gaussian_process import GaussianProcessClassifier

    X, y = _moons(20)
    kernel = FidelityQuantumKernel(AngleEmbedding(), bandwidth=1.0)  # default bounds
    gpc = GaussianProcessClassifier(kernel).fit(X, y)
    assert gpc.kernel_.bandwidth != 1.0
    assert gpc.log_marginal_likelihood_value_ > gpc.log_marginal_likelihood(kernel.theta)
    assert gpc.score(X, y) >= 0.75  # noisy moons, 20 samples


def test_trained_qsvc_pickles_and_untrained_weights_follow_random_state():
    X, y = _moons(16)
    fm = HubregtsenEmbedding(n_layers=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = QSVC(
            fm, kernel_training="alignment", kernel_training_max_iter=3, random_state=0
        ).fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.decision_function(X), clf.decision_function(X))
    np.testing.assert_array_equal(restored.kernel_.weights, clf.kernel_.weights)
    # Without training, a trainable map keeps the initial weights drawn from random_state.
    plain = QSVC(fm, random_state=0).fit(X, y)
    np.testing.assert_array_equal(
        plain.kernel_.weights, fm.initial_weights(2, np.random.RandomState(0))
    )
    assert plain.kernel_.weights.shape == clf.kernel_.weights.shape
