"""Depolarizing-noise mitigation of fidelity-kernel matrices (Hubregtsen et al. 2022).

References: the closed-form global depolarizing channel (``k~ = (1 - p) k + p / 2**n``, the
noise model of ``ShotsBackend`` and ``skqml.backends.apply_depolarizing``), PennyLane's
``qml.kernels.mitigate_depolarizing_noise`` (optional), and the exact Gram matrix.
"""

from __future__ import annotations

import contextlib
from unittest import mock

import joblib
import numpy as np
import pytest
from sklearn.svm import SVC
from sklearn.utils._param_validation import InvalidParameterError

from skqml.backends import SamplingBackend, ShotsBackend, apply_depolarizing
from skqml.circuits import ZZFeatureMap
from skqml.kernels import FidelityQuantumKernel, mitigate_depolarizing_noise
from skqml.svm import QSVC, QSVR

METHODS = ("single", "average", "split_channel")
FM = ZZFeatureMap(reps=1)


def _data(n, d=3, seed=0):
    return np.random.default_rng(seed).uniform(0, np.pi, size=(n, d))


def _random_kernel(n, seed):
    """A random valid fidelity Gram matrix: overlaps of random normalised states."""
    rng = np.random.default_rng(seed)
    states = rng.normal(size=(n, 8)) + 1j * rng.normal(size=(n, 8))
    states /= np.linalg.norm(states, axis=1, keepdims=True)
    return np.abs(states @ states.conj().T) ** 2


def _depolarize(K, p, n_qubits):
    # The all-zeros probability of every overlap circuit under global depolarizing noise,
    # via the backend's own closed form on a distribution (all-zeros entry = k).
    dim = 2**n_qubits
    probs = np.zeros((K.size, dim))
    probs[:, 0] = K.ravel()
    probs[:, 1] = 1 - K.ravel()
    return apply_depolarizing(probs, p)[:, 0].reshape(K.shape)


# -- the function -------------------------------------------------------------------------------
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("p", [0.0, 0.05, 0.3, 0.9])
def test_closed_form_noise_is_undone_exactly(method, p):
    K = _random_kernel(12, seed=1)
    noisy = _depolarize(K, p, n_qubits=3)
    np.testing.assert_allclose(np.diag(noisy), (1 - p) + p / 8, atol=1e-15)
    np.testing.assert_allclose(mitigate_depolarizing_noise(noisy, 3, method), K, atol=1e-12)


@pytest.mark.parametrize("method", METHODS)
def test_rectangle_is_undone_exactly(method):
    K = _random_kernel(15, seed=2)
    noisy = _depolarize(K, 0.25, n_qubits=3)
    test, train = slice(0, 5), slice(5, 15)
    diag = np.diag(noisy)
    diagonal = (diag[test], diag[train]) if method == "split_channel" else diag[train]
    out = mitigate_depolarizing_noise(noisy[test, train], 3, method, diagonal=diagonal)
    np.testing.assert_allclose(out, K[test, train], atol=1e-12)


def test_split_channel_undoes_per_sample_noise():
    # Each embedding depolarizes with its own rate l_i: the pair's circuit with
    # 1 - (1 - l_i)(1 - l_j). Only split_channel models this.
    K = _random_kernel(10, seed=3)
    halves = np.linspace(0.02, 0.2, 10)
    rate = 1 - np.outer(1 - halves, 1 - halves)
    noisy = (1 - rate) * K + rate / 8
    np.testing.assert_allclose(
        mitigate_depolarizing_noise(noisy, 3, "split_channel"), K, atol=1e-12
    )
    assert np.abs(mitigate_depolarizing_noise(noisy, 3, "average") - K).max() > 1e-2


@pytest.mark.parametrize("method", METHODS)
def test_agrees_with_pennylane(method):
    qml = pytest.importorskip("pennylane")
    rng = np.random.default_rng(4)
    for n_qubits in (1, 2, 4):
        K = rng.uniform(0.1, 0.9, size=(7, 7))
        K = (K + K.T) / 2
        np.fill_diagonal(K, rng.uniform(0.6, 1.0, size=7))
        theirs = qml.kernels.mitigate_depolarizing_noise(K, n_qubits, method)
        ours = mitigate_depolarizing_noise(K, n_qubits, method)
        np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=1e-15)
    # PennyLane's use_entries is a choice of measured diagonal entries here.
    entries = [2, 5]
    theirs = qml.kernels.mitigate_depolarizing_noise(K, 4, "average", use_entries=entries)
    ours = mitigate_depolarizing_noise(K, 4, "average", diagonal=np.diag(K)[entries])
    np.testing.assert_allclose(ours, theirs, rtol=1e-13)


@pytest.mark.parametrize("method", METHODS)
def test_fully_depolarized_diagonal_is_refused(method):
    K = np.full((3, 3), 0.5)
    np.fill_diagonal(K, 0.25)  # = 1 / 2**2: noise rate 1
    with pytest.raises(ValueError, match="fully depolarized"):
        mitigate_depolarizing_noise(K, 2, method)


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ((np.eye(2), 2, "median"), {}, "method must be one of"),
        ((np.eye(2), 0, "single"), {}, "n_qubits"),
        ((np.ones(3), 2, "single"), {}, "2-D"),
        ((np.ones((2, 3)), 2, "average"), {}, "not square"),
        ((np.ones((2, 3)), 2, "split_channel"), {"diagonal": [1, 1, 1]}, r"diagonal=\(rows"),
        ((np.ones((2, 3)), 2, "split_channel"), {"diagonal": ([1], [1, 1, 1])}, "do not match"),
        ((np.ones((2, 2)), 2, "single"), {"diagonal": ([1], [1])}, "split_channel"),
    ],
)
def test_bad_arguments(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        mitigate_depolarizing_noise(*args, **kwargs)


# -- the kernel ---------------------------------------------------------------------------------
def _kernel(backend, mitigation, **kw):
    return FidelityQuantumKernel(FM, backend=backend, mitigation=mitigation, **kw)


def test_mitigated_gram_is_much_closer_to_exact():
    """p = 0.2, 3 qubits, 100k shots, 25 samples: the error drops 30-fold.

    Measured max |K - K_exact|: 0.116 unmitigated; 0.0039 with each method (relative
    Frobenius error 0.094 -> 0.0044): the bias (1 - p) k + p / 8 is gone, shot noise is left.
    """
    X = _data(25)
    exact = FidelityQuantumKernel(FM)(X)
    backend = ShotsBackend(shots=100_000, depolarizing=0.2, seed=0)
    raw = np.abs(_kernel(backend, None, enforce_psd=False)(X) - exact).max()
    assert raw > 0.1
    for method in METHODS:
        K = _kernel(backend, method, enforce_psd=False)(X)
        err = np.abs(K - exact).max()
        assert err < raw / 20, (method, err, raw)
        np.testing.assert_array_equal(np.diag(K), 1.0)
        # The PSD projection after mitigation keeps it close.
        assert np.abs(_kernel(backend, method)(X) - exact).max() < raw / 20


@pytest.mark.parametrize("method", METHODS)
def test_rectangle_mitigated_too(method):
    X, Y = _data(20), _data(6, seed=1)
    exact = FidelityQuantumKernel(FM)(Y, X)
    backend = ShotsBackend(shots=100_000, depolarizing=0.3, seed=0)
    raw = np.abs(_kernel(backend, None)(Y, X) - exact).max()
    err = np.abs(_kernel(backend, method)(Y, X) - exact).max()
    assert raw > 0.1 and err < raw / 10


@pytest.mark.parametrize("method", METHODS)
def test_exact_backend_is_untouched(method):
    X = _data(8)
    np.testing.assert_array_equal(
        _kernel("statevector", method)(X), _kernel("statevector", None)(X)
    )
    kernel = _kernel("statevector", method)
    assert kernel.bind_training(X) is kernel


def test_no_noise_no_change():
    # Without depolarizing noise the measured diagonal is exactly 1: rate 0, identity map.
    X = _data(10)
    backend = ShotsBackend(shots=500, seed=0)
    K = _kernel(backend, None, enforce_psd=False)(X)
    for method in METHODS:
        np.testing.assert_allclose(_kernel(backend, method, enforce_psd=False)(X), K, atol=1e-12)


def test_bound_kernel_reuses_training_estimate():
    X, Y = _data(15), _data(5, seed=1)
    backend = ShotsBackend(shots=2000, depolarizing=0.2, seed=0)
    for method in METHODS:
        kernel = _kernel(backend, method)
        bound = kernel.bind_training(X)
        assert bound is not kernel and "noise_rate_" not in vars(kernel)
        assert abs(bound.noise_rate_ - 0.2) < 0.05
        # The same Gram matrix as the unbound kernel: the stored diagonal is the measured one.
        np.testing.assert_array_equal(bound.gram(X), kernel.gram(X))
        # Rectangles against any subset of the training set use the training estimate.
        with np_calls_counted(backend) as (tiles, diagonal_rows):
            K_sub = bound.gram(Y, X[[3, 7]])
        assert tiles.call_count == 1, method
        assert sum(diagonal_rows) == (len(Y) if method == "split_channel" else 0), method
        if method != "split_channel":
            dim = 8
            raw = _kernel(backend, None).gram(Y, X[[3, 7]])
            rate = bound.noise_rate_
            np.testing.assert_allclose(K_sub, (raw - rate / dim) / (1 - rate), rtol=1e-12)


@contextlib.contextmanager
def np_calls_counted(backend):
    """Count ``overlaps`` calls (one per tile) and the rows of ``paired_overlaps`` calls
    (the diagonal entries ``k(x, x)`` measured) on the backend's class.

    Patched on the class: kernels resolve (clone) their backend before running it.
    """
    cls = type(backend)
    rows = []

    def paired(self, circuit, XA, XB, *args, **kwargs):
        rows.append(len(XA))
        return original_paired(self, circuit, XA, XB, *args, **kwargs)

    original_paired = cls.paired_overlaps
    with (
        mock.patch.object(cls, "overlaps", autospec=True, side_effect=cls.overlaps) as tiles,
        mock.patch.object(cls, "paired_overlaps", paired),
    ):
        yield tiles, rows


def test_single_runs_one_diagonal_circuit_average_all():
    X = _data(12)
    for method, runs in (("single", 1), ("average", 12), ("split_channel", 12)):
        backend = ShotsBackend(shots=100, depolarizing=0.1, seed=0)
        kernel = _kernel(backend, method)
        with np_calls_counted(backend) as (tiles, diagonal_rows):
            kernel(X)
        assert tiles.call_count == 1, method  # one 12-row tile
        assert sum(diagonal_rows) == runs, method  # the diagonal circuits, in one batch
        assert len(diagonal_rows) == 1, method


def test_results_do_not_depend_on_n_jobs():
    # 70 rows: two chunks of diagonal entries; a small budget: several overlap tiles.
    X = _data(70)
    backend = ShotsBackend(shots=300, depolarizing=0.1, seed=0)
    for method in ("average", "split_channel"):
        K1 = _kernel(backend, method, n_jobs=1, max_memory_mb=0.1)(X[:20], X)
        # Threads: the same joblib code path without the workers' start-up time.
        with joblib.parallel_config(backend="threading"):
            K2 = _kernel(backend, method, n_jobs=2, max_memory_mb=0.1)(X[:20], X)
        np.testing.assert_array_equal(K1, K2)


def test_bad_mitigation_rejected():
    with pytest.raises(InvalidParameterError, match="mitigation"):
        _kernel("statevector", "twirl")(_data(3))
    with pytest.raises(InvalidParameterError, match="mitigation"):
        QSVC(mitigation="twirl").fit(_data(4), [0, 1, 0, 1])


class _FullyDepolarized(SamplingBackend):
    """Every outcome equally likely, exactly: a device that has lost all coherence.

    (Finite shots of such a device put the measured diagonal above or below ``1/2**n`` by
    chance, and only at or below it is the rate ``p = 1`` certain.)
    """

    def probabilities(self, circuit, X=None, weights=None, *, max_memory_mb=None):
        n_rows = 1 if X is None else np.asarray(X).shape[0]
        return np.full((n_rows, 2**circuit.n_qubits), 1.0 / 2**circuit.n_qubits)


def test_fully_depolarized_training_set_refused():
    with pytest.raises(ValueError, match="fully depolarized"):
        QSVC(FM, backend=_FullyDepolarized(), mitigation="average").fit(_data(6), [0, 1] * 3)


# -- estimators ---------------------------------------------------------------------------------
@pytest.mark.parametrize("method", METHODS)
def test_qsvc_with_mitigation_decides_like_the_exact_model(method):
    X = _data(40, d=2)
    y = (np.sin(X[:, 0]) * np.cos(X[:, 1]) > 0).astype(int)
    X_test = _data(15, d=2, seed=5)
    exact = QSVC(FM, C=10).fit(X, y)
    noisy = ShotsBackend(shots=20_000, depolarizing=0.4, seed=0)
    raw = QSVC(FM, C=10, backend=noisy).fit(X, y)
    mitigated = QSVC(FM, C=10, backend=noisy, mitigation=method).fit(X, y)
    assert abs(mitigated.kernel_.noise_rate_ - 0.4) < 0.02
    d_exact = exact.decision_function(X_test)
    err_raw = np.abs(raw.decision_function(X_test) - d_exact).max()
    err_mit = np.abs(mitigated.decision_function(X_test) - d_exact).max()
    assert err_mit < err_raw / 3, (err_mit, err_raw)
    # Same as an sklearn SVC on the same (unbound) kernel: the training estimate is
    # reproduced because the backend's estimates are keyed by content.
    kernel = _kernel(noisy, method)
    svc = SVC(kernel=kernel, C=10).fit(X, y)
    np.testing.assert_allclose(svc.decision_function(X_test), mitigated.decision_function(X_test))


def test_qsvr_passes_mitigation():
    X = _data(12, d=2)
    model = QSVR(FM, backend=ShotsBackend(depolarizing=0.1, seed=0), mitigation="single")
    model.fit(X, X.sum(axis=1))
    assert model.kernel_.mitigation == "single" and 0 < model.kernel_.noise_rate_ < 0.2
    assert repr(QSVR(mitigation="average")) == "QSVR(mitigation='average')"
