"""Tests for skqml.datasets.

Where a generator has a published definition, the test recomputes it independently (dense
Kronecker products for the ad hoc data, plain per-sample loops for the Bowles et al. benchmarks)
from the same seed, relying only on the documented order of random draws.
"""

from __future__ import annotations

from functools import reduce
from itertools import combinations

import numpy as np
import pytest
from scipy.linalg import expm
from sklearn.utils._param_validation import InvalidParameterError

from skqml.datasets import (
    bars_and_stripes_patterns,
    make_ad_hoc,
    make_bars_and_stripes,
    make_bernoulli_mixture,
    make_hidden_manifold,
    make_hyperplanes_parity,
    make_linearly_separable,
    make_two_curves,
)

# (generator, keyword arguments small enough to be fast, number of features, label set)
CLASSIFIERS = [
    (make_ad_hoc, {"n_features": 2}, 2, {0, 1}),
    (make_ad_hoc, {"n_features": 3}, 3, {0, 1}),
    (make_linearly_separable, {"n_features": 5}, 5, {-1, 1}),
    (make_hidden_manifold, {"n_features": 7, "manifold_dimension": 3}, 7, {-1, 1}),
    (make_two_curves, {"n_features": 4}, 4, {-1, 1}),
    (make_hyperplanes_parity, {"n_features": 6, "n_hyperplanes": 3}, 6, {-1, 1}),
    (make_bars_and_stripes, {"height": 3, "width": 5}, 15, {-1, 1}),
]
CLASSIFIER_IDS = [f"{gen.__name__}-{d}" for gen, _, d, _ in CLASSIFIERS]


# --------------------------------------------------------------------------------------------
# Common behaviour
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("generator", "kwargs", "n_features", "labels"), CLASSIFIERS, ids=CLASSIFIER_IDS
)
def test_shapes_dtypes_labels(generator, kwargs, n_features, labels):
    X, y = generator(60, **kwargs, random_state=0)
    assert isinstance(X, np.ndarray) and isinstance(y, np.ndarray)
    assert X.shape == (60, n_features)
    assert y.shape == (60,)
    assert X.dtype == np.float64
    assert np.issubdtype(y.dtype, np.integer)
    assert set(np.unique(y).tolist()) == labels
    assert np.isfinite(X).all()


@pytest.mark.parametrize(
    ("generator", "kwargs", "n_features", "labels"), CLASSIFIERS, ids=CLASSIFIER_IDS
)
def test_reproducible_with_random_state(generator, kwargs, n_features, labels):
    X1, y1 = generator(40, **kwargs, random_state=3)
    X2, y2 = generator(40, **kwargs, random_state=3)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    X3, _ = generator(40, **kwargs, random_state=4)
    assert not np.array_equal(X1, X3)
    # A RandomState instance is consumed like the integer seed that created it.
    X4, y4 = generator(40, **kwargs, random_state=np.random.RandomState(3))
    np.testing.assert_array_equal(X1, X4)
    np.testing.assert_array_equal(y1, y4)


@pytest.mark.parametrize(
    "generator",
    [make_ad_hoc, make_hidden_manifold, make_two_curves, make_hyperplanes_parity],
)
@pytest.mark.parametrize("n_samples", [20, 21])
def test_balanced_classes(generator, n_samples):
    _, y = generator(n_samples, random_state=1)
    counts = np.unique(y, return_counts=True)[1]
    # The first class gets n_samples // 2, the second the rest.
    assert counts.tolist() == [n_samples // 2, n_samples - n_samples // 2]


def test_default_sizes():
    assert make_ad_hoc(random_state=0)[0].shape == (100, 2)
    assert make_linearly_separable(random_state=0)[0].shape == (300, 4)
    assert make_hidden_manifold(random_state=0)[0].shape == (300, 10)
    assert make_two_curves(random_state=0)[0].shape == (300, 10)
    assert make_hyperplanes_parity(random_state=0)[0].shape == (300, 10)
    assert make_bars_and_stripes(random_state=0)[0].shape == (300, 16)
    assert bars_and_stripes_patterns().shape == (14, 9)


# --------------------------------------------------------------------------------------------
# Ad hoc data (Havlicek et al. 2019, qiskit-machine-learning's definition)
# --------------------------------------------------------------------------------------------
def _reference_ad_hoc_unitary(n_qubits, seed):
    """V as documented: eigenvectors of A^dagger A (A uniform complex), decreasing order."""
    rng = np.random.RandomState(seed)
    dim = 2**n_qubits
    a = rng.random_sample((dim, dim)) + 1j * rng.random_sample((dim, dim))
    eigvals, eigvecs = np.linalg.eig(a.conj().T @ a)
    return eigvecs[:, np.argsort(eigvals.real)[::-1]]


def _reference_ad_hoc_value(x, unitary):
    """<Phi(x)| V^dag Z..Z V |Phi(x)> with dense matrices, qubit 0 leftmost in the kron."""
    n = len(x)
    eye, z = np.eye(2), np.diag([1.0, -1.0])
    h = np.array([[1.0, 1.0], [1.0, -1.0]]) / np.sqrt(2)
    z_on = [reduce(np.kron, [z if k == i else eye for k in range(n)]) for i in range(n)]
    generator = sum(x[i] * z_on[i] for i in range(n))
    for i, j in combinations(range(n), 2):
        generator = generator + (np.pi - x[i]) * (np.pi - x[j]) * z_on[i] @ z_on[j]
    u_phi = expm(1j * generator)
    h_n = reduce(np.kron, [h] * n)
    zero = np.zeros(2**n)
    zero[0] = 1.0
    psi = u_phi @ h_n @ u_phi @ h_n @ zero
    observable = unitary.conj().T @ reduce(np.kron, [z] * n) @ unitary
    return float(np.real(psi.conj() @ observable @ psi))


@pytest.mark.parametrize("n_features", [2, 3])
def test_ad_hoc_labels_match_dense_expectation(n_features):
    seed, gap = 5, 0.3
    X, y = make_ad_hoc(30, n_features=n_features, gap=gap, random_state=seed)
    unitary = _reference_ad_hoc_unitary(n_features, seed)
    values = np.array([_reference_ad_hoc_value(x, unitary) for x in X])
    # Label 0 <-> positive expectation, label 1 <-> negative; never inside the gap.
    np.testing.assert_array_equal(np.sign(values), 1 - 2 * y)
    assert np.all(np.abs(values) > gap)


@pytest.mark.parametrize(
    ("n_features", "grid_size", "resolution"), [(2, None, 100), (3, None, 20), (2, 7, 7)]
)
def test_ad_hoc_points_on_grid(n_features, grid_size, resolution):
    # Default resolutions are qiskit-machine-learning's: 100 per axis for 2 features, 20 for 3.
    X, _ = make_ad_hoc(50, n_features=n_features, grid_size=grid_size, random_state=0)
    steps = X / (2 * np.pi / resolution)
    np.testing.assert_allclose(steps, np.round(steps), atol=1e-9)
    assert X.min() >= 0 and X.max() < 2 * np.pi


def test_ad_hoc_larger_gap_gives_larger_margin():
    seed = 2
    unitary = _reference_ad_hoc_unitary(2, seed)
    X, _ = make_ad_hoc(20, gap=0.6, random_state=seed)
    values = np.array([_reference_ad_hoc_value(x, unitary) for x in X])
    assert np.all(np.abs(values) > 0.6)


def test_ad_hoc_agrees_with_qiskit_machine_learning():
    qml_datasets = pytest.importorskip("qiskit_machine_learning.datasets")
    from qiskit_machine_learning.utils import algorithm_globals

    from skqml.datasets._ad_hoc import _ad_hoc_expectation

    seed, gap = 11, 0.3
    previous_seed = algorithm_globals.random_seed
    algorithm_globals.random_seed = seed
    try:
        x_train, y_train, _, _ = qml_datasets.ad_hoc_data(
            training_size=20, test_size=0, n=2, gap=gap, one_hot=False
        )
    finally:
        algorithm_globals.random_seed = previous_seed
    # Rebuild Qiskit's V from its generator (V is its first random draw) and label with ours.
    rng = np.random.default_rng(seed)
    a = rng.random((4, 4)) + 1j * rng.random((4, 4))
    eigvals, eigvecs = np.linalg.eig(a.conj().T @ a)
    unitary = eigvecs[:, eigvals.argsort()[::-1]]
    values = _ad_hoc_expectation(np.asarray(x_train, dtype=float), unitary)
    assert np.all(values[y_train == 0] > gap)
    assert np.all(values[y_train == 1] < -gap)


# --------------------------------------------------------------------------------------------
# Bowles, Ahmed & Schuld (2024) benchmarks
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("n_features", "margin"), [(2, 0.02), (4, 0.02), (10, 0.1)])
def test_linearly_separable_margin_and_rule(n_features, margin):
    X, y = make_linearly_separable(200, n_features=n_features, margin=margin, random_state=0)
    sums = X.sum(axis=1)
    assert np.all(np.abs(sums) > margin * n_features)
    assert np.all((X >= -1) & (X <= 1))
    np.testing.assert_array_equal(y, np.where(sums > 0, -1, 1))


def test_linearly_separable_large_margin_still_returns_n_samples():
    # Acceptance ~3 %: the published single batch of 2 * n_samples would come up short.
    X, y = make_linearly_separable(100, n_features=4, margin=0.6, random_state=0)
    assert X.shape == (100, 4) and y.shape == (100,)
    assert np.all(np.abs(X.sum(axis=1)) > 0.6 * 4)


def test_hidden_manifold_matches_definition():
    n, d, m, seed = 50, 7, 3, 4
    X, y = make_hidden_manifold(n, n_features=d, manifold_dimension=m, random_state=seed)
    rng = np.random.RandomState(seed)
    embedding = rng.normal(size=(m, d))
    latent = rng.normal(size=(n, m))
    biases = 2 * rng.uniform(size=d) - 1
    hidden = rng.normal(size=(m, m))
    out = rng.normal(size=m)
    np.testing.assert_allclose(X, np.tanh(latent @ embedding / np.sqrt(m) - biases), atol=1e-12)
    teacher = np.array([out @ np.tanh(hidden @ c) / np.sqrt(m) for c in latent])
    np.testing.assert_array_equal(y, np.where(teacher < np.median(teacher), -1, 1))


def test_two_curves_matches_definition():
    n, d, degree, offset, noise, seed = 12, 3, 4, 0.2, 0.05, 6
    X, y = make_two_curves(
        n, n_features=d, degree=degree, offset=offset, noise=noise, random_state=seed
    )
    rng = np.random.RandomState(seed)
    coef = rng.uniform(size=(d, degree + 1, 2))
    coef /= np.sqrt((coef**2).sum())
    raw = np.zeros((n, d))
    for s in range(n):
        t = rng.random_sample()
        for i in range(d):
            value = coef[i, 0, 0] + coef[i, 0, 1]
            for k in range(1, degree + 1):
                value += coef[i, k, 0] * np.cos(k * np.pi * t) + coef[i, k, 1] * np.sin(
                    k * np.pi * t
                )
            raw[s, i] = value + rng.normal(0.0, noise)
    raw[n // 2 :] += offset
    expected = (raw - raw.mean(axis=0)) / raw.std(axis=0)
    np.testing.assert_allclose(X, expected, atol=1e-10)
    np.testing.assert_array_equal(y, [-1] * (n // 2) + [1] * (n - n // 2))


def test_two_curves_is_standardised():
    X, _ = make_two_curves(100, random_state=0)
    np.testing.assert_allclose(X.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(X.std(axis=0), 1, atol=1e-12)


def test_hyperplanes_parity_label_rule():
    n, d, k, dim, seed = 40, 5, 3, 2, 8
    X, y = make_hyperplanes_parity(
        n, n_features=d, n_hyperplanes=k, dim_hyperplanes=dim, random_state=seed
    )
    rng = np.random.RandomState(seed)
    weights = rng.uniform(size=(k, dim))
    biases = rng.uniform(size=k)
    candidates = rng.normal(size=(4 * n, dim))
    embedding = rng.uniform(size=(dim, d))
    # Parity rule, one point and one hyperplane at a time.
    n_above = np.array(
        [sum(w @ z + b > 0 for w, b in zip(weights, biases, strict=True)) for z in candidates]
    )
    latent = np.concatenate(
        [candidates[n_above % 2 == 0][: n // 2], candidates[n_above % 2 == 1][: n // 2]]
    )
    raw = latent @ embedding
    np.testing.assert_allclose(X, (raw - raw.mean(axis=0)) / raw.std(axis=0), atol=1e-10)
    np.testing.assert_array_equal(y, [-1] * (n // 2) + [1] * (n // 2))


def test_bars_and_stripes_structure_and_noise():
    n, h, w = 400, 3, 4
    clean, y = make_bars_and_stripes(n, height=h, width=w, noise_std=0.0, random_state=0)
    images = clean.reshape(n, h, w)
    assert set(np.unique(clean).tolist()) <= {-1.0, 1.0}
    stripes = images[y == 1]
    bars = images[y == -1]
    # Stripes: every row constant. Bars: every column constant.
    assert np.all(stripes == stripes[:, :, :1])
    assert np.all(bars == bars[:, :1, :])
    assert 0.4 < np.mean(y == 1) < 0.6
    # The noise is drawn after the lines, so the same seed gives the same clean images.
    noisy, y_noisy = make_bars_and_stripes(n, height=h, width=w, noise_std=0.5, random_state=0)
    np.testing.assert_array_equal(y, y_noisy)
    residual = noisy - clean
    assert abs(residual.mean()) < 0.05
    assert abs(residual.std() - 0.5) < 0.03


# --------------------------------------------------------------------------------------------
# Binary data for generative models
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("height", "width"), [(3, 3), (1, 1), (2, 3), (4, 2), (1, 4)])
def test_bars_and_stripes_patterns(height, width):
    patterns = bars_and_stripes_patterns(height, width)
    assert patterns.shape == (2**height + 2**width - 2, height * width)
    assert np.issubdtype(patterns.dtype, np.integer)
    assert set(np.unique(patterns).tolist()) <= {0, 1}
    assert len(np.unique(patterns, axis=0)) == len(patterns)
    images = patterns.reshape(-1, height, width)
    rows_constant = np.all(images == images[:, :, :1], axis=(1, 2))
    columns_constant = np.all(images == images[:, :1, :], axis=(1, 2))
    assert np.all(rows_constant | columns_constant)


def test_bars_and_stripes_patterns_3x3_count():
    patterns = bars_and_stripes_patterns(3, 3)
    assert len(patterns) == 14
    assert [0] * 9 in patterns.tolist() and [1] * 9 in patterns.tolist()


def test_bernoulli_mixture_agreement_with_centres():
    n, n_features, n_modes, p = 4000, 10, 4, 0.9
    X, y = make_bernoulli_mixture(n, n_features=n_features, n_modes=n_modes, p=p, random_state=0)
    assert X.shape == (n, n_features) and y.shape == (n,)
    assert np.issubdtype(X.dtype, np.integer) and np.issubdtype(y.dtype, np.integer)
    assert set(np.unique(X).tolist()) <= {0, 1}
    assert set(np.unique(y).tolist()) <= set(range(n_modes))
    agreement = []
    for mode in np.unique(y):
        members = X[y == mode]
        centre = (members.mean(axis=0) > 0.5).astype(int)  # majority vote recovers the centre
        agreement.append(members == centre)
    frequency = np.concatenate(agreement).mean()
    assert abs(frequency - p) < 0.01


@pytest.mark.parametrize("p", [0.0, 1.0])
def test_bernoulli_mixture_extreme_p(p):
    X, y = make_bernoulli_mixture(200, n_features=6, n_modes=3, p=p, random_state=1)
    for mode in np.unique(y):
        members = X[y == mode]
        # p = 1 copies the centre, p = 0 its complement: all members of a mode are equal.
        assert np.all(members == members[0])


def test_bernoulli_mixture_reproducible():
    X1, y1 = make_bernoulli_mixture(50, random_state=3)
    X2, y2 = make_bernoulli_mixture(50, random_state=3)
    X3, _ = make_bernoulli_mixture(50, random_state=4)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


# --------------------------------------------------------------------------------------------
# Parameter validation
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: make_ad_hoc(n_features=5), ValueError, "n_features must be 2 or 3"),
        (lambda: make_ad_hoc(n_features=1), ValueError, "n_features must be 2 or 3"),
        (lambda: make_ad_hoc(-1), ValueError, "n_samples must be an integer >= 1"),
        (lambda: make_ad_hoc(gap=-0.1), ValueError, "gap must be a finite real number >= 0"),
        (lambda: make_ad_hoc(gap=1.0), ValueError, "gap must be .* and < 1"),
        (lambda: make_ad_hoc(gap=0.999, random_state=0), ValueError, "leaves no grid point"),
        (lambda: make_ad_hoc(grid_size=1), ValueError, r"grid_size must be an integer in \[2, "),
        (lambda: make_ad_hoc(10.0), TypeError, "n_samples must be an integer"),
        (lambda: make_ad_hoc(gap="0.3"), TypeError, "gap must be a finite real number"),
        (lambda: make_linearly_separable(0), ValueError, "n_samples must be an integer >= 1"),
        (lambda: make_linearly_separable(margin=1.0), ValueError, "margin must be .* and < 1"),
        (
            lambda: make_linearly_separable(margin=np.nan),
            ValueError,
            "margin must be a finite real number",
        ),
        (
            lambda: make_linearly_separable(n_features=0),
            ValueError,
            "n_features must be an integer >= 1",
        ),
        (lambda: make_hidden_manifold(manifold_dimension=0), ValueError, "manifold_dimension"),
        (
            lambda: make_two_curves(noise=-1.0),
            ValueError,
            "noise must be a finite real number >= 0",
        ),
        (lambda: make_two_curves(degree=0), ValueError, "degree must be an integer >= 1"),
        (lambda: make_hyperplanes_parity(n_hyperplanes=0), ValueError, "n_hyperplanes"),
        (lambda: make_hyperplanes_parity(dim_hyperplanes=1.5), TypeError, "dim_hyperplanes"),
        (lambda: make_bars_and_stripes(height=0), ValueError, "height must be an integer >= 1"),
        (
            lambda: make_bars_and_stripes(noise_std=-0.5),
            ValueError,
            "noise_std must be a finite real number >= 0",
        ),
        (
            lambda: bars_and_stripes_patterns(0, 3),
            ValueError,
            r"height must be an integer in \[1, 20\], got 0",
        ),
        (
            lambda: bars_and_stripes_patterns(3, 64),
            ValueError,
            r"width must be an integer in \[1, 20\], got 64",
        ),
        (lambda: make_bernoulli_mixture(-5), ValueError, "n_samples must be an integer >= 1"),
        (lambda: make_bernoulli_mixture(10, p=1.5), ValueError, "p must be .* and <= 1"),
        (
            lambda: make_bernoulli_mixture(10, n_modes=0),
            ValueError,
            "n_modes must be an integer >= 1",
        ),
        (lambda: make_bernoulli_mixture(True), TypeError, "n_samples must be an integer"),
    ],
)
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_n_samples_is_keyword_boundary():
    # Options after n_samples are keyword-only, as in scikit-learn's make_* functions.
    with pytest.raises(TypeError):
        make_linearly_separable(10, 3)


def test_errors_are_sklearn_parameter_errors_and_numpy_scalars_work():
    # One validator for every generator: a bad value is both a ValueError and a TypeError
    # (sklearn's InvalidParameterError), and NumPy scalars pass like Python numbers.
    with pytest.raises(InvalidParameterError, match="n_samples must be an integer >= 1"):
        make_two_curves(np.int64(0))
    with pytest.raises(InvalidParameterError, match=r"p must be .* and <= 1, got .*1\.5"):
        make_bernoulli_mixture(3, p=np.float32(1.5))
    X, _ = make_linearly_separable(
        np.int64(12), n_features=np.int32(3), margin=np.float32(0.1), random_state=0
    )
    np.testing.assert_array_equal(
        X,
        make_linearly_separable(12, n_features=3, margin=float(np.float32(0.1)), random_state=0)[
            0
        ],
    )
    X, _ = make_ad_hoc(np.int64(6), n_features=np.int64(2), gap=np.float64(0.3), random_state=0)
    assert X.shape == (6, 2)
