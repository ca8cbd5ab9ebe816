"""Synthetic classification and generative-modelling data sets.

The classification generators reproduce the benchmarks of Bowles, Ahmed and Schuld (2024),
"Better than classical? The subtle art of benchmarking quantum machine learning models"
(arXiv:2403.07059), as published in XanaduAI/qml-benchmarks (``qml_benchmarks/data``). They
draw their random numbers from a :class:`numpy.random.RandomState` in the same order as the
published code draws them from NumPy's global (legacy) generator, so that
``random_state=seed`` gives the published data of ``np.random.seed(seed)`` followed by one
call of the published function (up to rounding in the last bit of sums).
"""

from __future__ import annotations

import numpy as np
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state

from .._validation import check_integer, check_real

__all__ = [
    "bars_and_stripes_patterns",
    "make_bars_and_stripes",
    "make_bernoulli_mixture",
    "make_hidden_manifold",
    "make_hyperplanes_parity",
    "make_linearly_separable",
    "make_two_curves",
]

RandomStateLike = int | np.random.RandomState | None

# Rejection sampling draws batches until enough points are accepted; past this many drawn rows
# the acceptance rate is too small to be useful and we refuse instead of looping for minutes.
_MAX_REJECTION_DRAWS = 10_000_000
# Largest batch of candidate rows drawn at once (bounds memory in the rejection loops).
_MAX_BATCH_ROWS = 1 << 18
# bars_and_stripes_patterns builds 2**height + 2**width images; beyond this they do not fit.
_MAX_PATTERN_SIDE = 20


# --------------------------------------------------------------------------------------------
# Validation helpers (shared with _ad_hoc.py)
# --------------------------------------------------------------------------------------------
def _class_sizes(n_samples: int) -> tuple[int, int]:
    """Sizes of the first and second class: the first gets ``n_samples // 2`` (as make_moons)."""
    n_first = n_samples // 2
    return n_first, n_samples - n_first


# --------------------------------------------------------------------------------------------
# Bowles, Ahmed & Schuld (2024) benchmarks
# --------------------------------------------------------------------------------------------
def make_linearly_separable(
    n_samples: int = 300,
    *,
    n_features: int = 4,
    margin: float = 0.02,
    random_state: RandomStateLike = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Generate the "linearly separable" benchmark of Bowles et al. (2024).

    Points are drawn uniformly from the hypercube ``[-1, 1]^n_features``; those within
    ``margin * n_features`` of the hyperplane ``sum(x) = 0`` are rejected. The label is the
    side of the hyperplane with the normal vector ``(1, ..., 1)``.

    Parameters
    ----------
    n_samples : int, default=300
        Number of samples.
    n_features : int, default=4
        Dimension ``d`` of the inputs.
    margin : float, default=0.02
        Relative margin ``m`` in ``[0, 1)``: points with ``|sum(x)| <= m * d`` are dropped. The
        paper's benchmarks use ``m = 0.02`` for every ``d``.
    random_state : int, RandomState instance or None, default=None
        Seed or generator for reproducible output.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        Inputs in ``[-1, 1]``.
    y : ndarray of shape (n_samples,)
        Labels in ``{-1, +1}``: ``-1`` if ``sum(x) > 0``, else ``+1`` (the published
        convention). The classes are not forced to be balanced.

    Notes
    -----
    Published code: ``qml_benchmarks/data/linearly_separable.py`` with the absolute margin
    ``0.02 * n_features`` set in ``paper/benchmarks/generate_linearly_separable.py``. The first
    ``2 * n_samples`` candidates are drawn in one batch as published; unlike the published code,
    further batches are drawn when fewer than ``n_samples`` candidates survive, so exactly
    ``n_samples`` points are always returned.

    Examples
    --------
    >>> from skqml.datasets import make_linearly_separable
    >>> X, y = make_linearly_separable(50, n_features=3, random_state=0)
    >>> X.shape, y.shape
    ((50, 3), (50,))
    >>> bool(((X.sum(axis=1) > 0) == (y == -1)).all())
    True
    """
    n_samples = check_integer(n_samples, "n_samples", low=1)
    n_features = check_integer(n_features, "n_features", low=1)
    margin = check_real(margin, "margin", 0, high=1, strict_high=True)
    rng = check_random_state(random_state)

    threshold = margin * n_features
    normal = np.ones(n_features)
    kept: list[np.ndarray] = []
    kept_sums: list[np.ndarray] = []
    n_kept = n_drawn = 0
    # The published code draws 2 * n_samples candidates once; keep that first batch identical.
    batch = 2 * n_samples
    while n_kept < n_samples:
        if n_drawn >= _MAX_REJECTION_DRAWS:
            raise ValueError(
                f"margin={margin} leaves too few points: only {n_kept} of {n_drawn} uniform "
                f"candidates in {n_features} dimensions lie outside the margin. Use a smaller "
                "margin."
            )
        candidates = 2 * rng.random_sample((batch, n_features)) - 1
        sums = candidates @ normal
        outside = np.abs(sums) > threshold
        kept.append(candidates[outside])
        kept_sums.append(sums[outside])
        n_kept += int(outside.sum())
        n_drawn += batch
        # Later batches grow, since a low acceptance rate is what made us need them.
        batch = min(4 * batch, max(_MAX_BATCH_ROWS // n_features, 1))
    X = np.concatenate(kept)[:n_samples]
    y = np.where(np.concatenate(kept_sums)[:n_samples] > 0, -1, 1)
    return X, y


def make_hidden_manifold(
    n_samples: int = 300,
    *,
    n_features: int = 10,
    manifold_dimension: int = 6,
    random_state: RandomStateLike = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Generate the "hidden manifold" benchmark of Bowles et al. (2024).

    Latent points ``c ~ N(0, I_m)`` on an ``m``-dimensional manifold are embedded as
    ``x = tanh(c F / sqrt(m) - b)`` with ``F ~ N(0, 1)^{m x d}`` and ``b ~ U(-1, 1)^d``. The
    label comes from a random one-hidden-layer teacher network on the latent point,
    ``f(c) = v . tanh(W c) / sqrt(m)`` with ``W ~ N(0, 1)^{m x m}`` and ``v ~ N(0, 1)^m``,
    thresholded at its median so that the classes are balanced.

    Parameters
    ----------
    n_samples : int, default=300
        Number of samples.
    n_features : int, default=10
        Dimension ``d`` of the inputs.
    manifold_dimension : int, default=6
        Dimension ``m`` of the hidden manifold.
    random_state : int, RandomState instance or None, default=None
        Seed or generator for reproducible output.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        Inputs in ``(-1, 1)``.
    y : ndarray of shape (n_samples,)
        Labels in ``{-1, +1}``: ``-1`` where ``f(c)`` is below its median. ``n_samples // 2``
        samples are labelled ``-1`` (for odd ``n_samples`` the median sample is labelled
        ``+1``).

    Notes
    -----
    Published code: ``qml_benchmarks/data/hidden_manifold.py``. Random numbers are drawn in
    the published order: ``F``, the latent points, ``b``, ``W``, ``v``.

    Examples
    --------
    >>> import numpy as np
    >>> from skqml.datasets import make_hidden_manifold
    >>> X, y = make_hidden_manifold(40, n_features=5, manifold_dimension=3, random_state=0)
    >>> X.shape
    (40, 5)
    >>> np.unique(y, return_counts=True)[1]
    array([20, 20])
    """
    n_samples = check_integer(n_samples, "n_samples", low=1)
    n_features = check_integer(n_features, "n_features", low=1)
    manifold_dimension = check_integer(manifold_dimension, "manifold_dimension", low=1)
    rng = check_random_state(random_state)

    m = manifold_dimension
    embedding = rng.normal(size=(m, n_features))
    latent = rng.normal(loc=0.0, scale=1.0, size=(n_samples, m))
    biases = 2 * rng.uniform(size=(n_features,)) - 1
    X = np.tanh(latent @ embedding / np.sqrt(m) - biases)

    # Teacher network on the latent coordinates (not on X): the labels are a smooth function
    # of the manifold, which is the point of this benchmark.
    hidden_weights = rng.normal(size=(m, m))
    output_weights = rng.normal(size=(m,))
    teacher = (np.tanh(latent @ hidden_weights.T) / np.sqrt(m)) @ output_weights
    teacher = teacher - np.median(teacher)
    y = np.where(teacher < 0, -1, 1)
    return X, y


def make_two_curves(
    n_samples: int = 300,
    *,
    n_features: int = 10,
    degree: int = 5,
    offset: float = 0.1,
    noise: float = 0.01,
    random_state: RandomStateLike = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Generate the "two curves" benchmark of Bowles et al. (2024).

    A curve in ``R^d`` is parametrised by ``t`` in ``[0, 1)``: coordinate ``i`` is the Fourier
    series ``a_i0 + b_i0 + sum_{k=1}^{degree} a_ik cos(k pi t) + b_ik sin(k pi t)`` with
    coefficients drawn from ``U(0, 1)`` and then divided by the Frobenius norm of all
    coefficients together. Class ``-1`` samples points on this curve, class ``+1`` on the same
    curve shifted by ``offset`` in every coordinate; both get Gaussian noise of standard
    deviation ``noise`` per coordinate. Finally all features are standardised (zero mean, unit
    variance).

    Parameters
    ----------
    n_samples : int, default=300
        Number of samples.
    n_features : int, default=10
        Dimension ``d`` of the inputs.
    degree : int, default=5
        Highest frequency of the Fourier series.
    offset : float, default=0.1
        Shift of the second curve, added to every coordinate (before standardisation).
    noise : float, default=0.01
        Standard deviation of the Gaussian noise added to every coordinate.
    random_state : int, RandomState instance or None, default=None
        Seed or generator for reproducible output.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        Standardised inputs.
    y : ndarray of shape (n_samples,)
        Labels in ``{-1, +1}``; the first ``n_samples // 2`` samples are class ``-1`` (first
        curve), the rest class ``+1`` (shifted curve). Shuffle before splitting.

    Notes
    -----
    Published code: ``qml_benchmarks/data/two_curves.py``. The paper's "two curves diff"
    benchmark uses ``offset = 1 / (2 * degree)``. Random numbers are drawn in the published
    order (coefficients, then per sample ``t`` followed by the ``d`` noise values). For odd
    ``n_samples`` the published code returns ``n_samples - 1`` points; here the second class
    gets the extra point.

    Examples
    --------
    >>> from skqml.datasets import make_two_curves
    >>> X, y = make_two_curves(20, n_features=4, random_state=0)
    >>> X.shape, y.tolist()[:3], y.tolist()[-3:]
    ((20, 4), [-1, -1, -1], [1, 1, 1])
    """
    n_samples = check_integer(n_samples, "n_samples", low=1)
    n_features = check_integer(n_features, "n_features", low=1)
    degree = check_integer(degree, "degree", low=1)
    offset = check_real(offset, "offset")
    noise = check_real(noise, "noise", 0)
    rng = check_random_state(random_state)

    coefficients = rng.uniform(size=(n_features, degree + 1, 2))
    coefficients = coefficients / np.linalg.norm(coefficients)

    def sample_curve(n_points: int) -> np.ndarray:
        t = np.empty(n_points)
        eps = np.empty((n_points, n_features))
        # One t, then that point's noise values: the published interleaving of draws.
        for s in range(n_points):
            t[s] = rng.random_sample()
            eps[s] = rng.normal(loc=0.0, scale=noise, size=n_features)
        constant = coefficients[:, 0, 0] + coefficients[:, 0, 1]
        points = np.broadcast_to(constant, (n_points, n_features))
        for k in range(1, degree + 1):
            angle = (k * np.pi) * t[:, None]
            points = points + (
                coefficients[:, k, 0] * np.cos(angle) + coefficients[:, k, 1] * np.sin(angle)
            )
        return points + eps

    n_first, n_second = _class_sizes(n_samples)
    first = sample_curve(n_first)
    second = sample_curve(n_second) + offset
    X = StandardScaler().fit_transform(np.concatenate([first, second]))
    y = np.concatenate([np.full(n_first, -1), np.full(n_second, 1)])
    return X, y


def make_hyperplanes_parity(
    n_samples: int = 300,
    *,
    n_features: int = 10,
    n_hyperplanes: int = 2,
    dim_hyperplanes: int = 3,
    random_state: RandomStateLike = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Generate the "hyperplanes and parity" benchmark of Bowles et al. (2024).

    Latent points ``z ~ N(0, I_k)`` (``k = dim_hyperplanes``) are classified by the parity
    of the number of hyperplanes ``w_j . z + b_j > 0`` they lie above (``w_j ~ U(0, 1)^k``,
    ``b_j ~ U(0, 1)``). Equal numbers of each class are kept, then embedded in
    ``R^n_features`` by a matrix ``E ~ U(0, 1)^{k x n_features}``, ``x = z E``, and
    standardised.

    Parameters
    ----------
    n_samples : int, default=300
        Number of samples.
    n_features : int, default=10
        Dimension of the inputs.
    n_hyperplanes : int, default=2
        Number of hyperplanes whose parity defines the label.
    dim_hyperplanes : int, default=3
        Dimension ``k`` of the latent space in which the hyperplanes live.
    random_state : int, RandomState instance or None, default=None
        Seed or generator for reproducible output.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        Standardised inputs.
    y : ndarray of shape (n_samples,)
        Labels in ``{-1, +1}``: ``-1`` if the latent point lies above an **even** number of
        hyperplanes, ``+1`` if odd. This is what the published generator outputs (its helper
        ``predict`` returns ``+1`` for even parity, but the classes are then relabelled). The
        first ``n_samples // 2`` samples are class ``-1``, the rest class ``+1``: shuffle
        before splitting.

    Notes
    -----
    Published code: ``qml_benchmarks/data/hyperplanes.py``. Random numbers are drawn in the
    published order: ``w``, ``b``, ``4 * n_samples`` latent candidates, ``E``. If the first
    candidates hold too few points of a class (where the published code fails an assertion),
    more are drawn before ``E``.

    Examples
    --------
    >>> import numpy as np
    >>> from skqml.datasets import make_hyperplanes_parity
    >>> X, y = make_hyperplanes_parity(30, n_features=6, random_state=0)
    >>> X.shape
    (30, 6)
    >>> np.unique(y, return_counts=True)[1]
    array([15, 15])
    """
    n_samples = check_integer(n_samples, "n_samples", low=1)
    n_features = check_integer(n_features, "n_features", low=1)
    n_hyperplanes = check_integer(n_hyperplanes, "n_hyperplanes", low=1)
    dim_hyperplanes = check_integer(dim_hyperplanes, "dim_hyperplanes", low=1)
    rng = check_random_state(random_state)

    weights = rng.uniform(size=(n_hyperplanes, dim_hyperplanes))
    biases = rng.uniform(size=(n_hyperplanes,))

    n_first, n_second = _class_sizes(n_samples)
    even: list[np.ndarray] = []
    odd: list[np.ndarray] = []
    n_even = n_odd = n_drawn = 0
    while n_even < n_first or n_odd < n_second:
        if n_drawn >= _MAX_REJECTION_DRAWS:
            raise ValueError(
                "hyperplanes too unbalanced: after drawing "
                f"{n_drawn} latent points, found {n_even} of even and {n_odd} of odd parity."
            )
        batch = 4 * n_samples
        latent = rng.normal(size=(batch, dim_hyperplanes))
        n_above = np.count_nonzero(latent @ weights.T + biases > 0, axis=1)
        is_even = n_above % 2 == 0
        even.append(latent[is_even])
        odd.append(latent[~is_even])
        n_even += int(is_even.sum())
        n_odd += int((~is_even).sum())
        n_drawn += batch
    latent = np.concatenate(
        [np.concatenate(even)[:n_first], np.concatenate(odd)[:n_second]], axis=0
    )
    y = np.concatenate([np.full(n_first, -1), np.full(n_second, 1)])

    embedding = rng.uniform(size=(dim_hyperplanes, n_features))
    X = StandardScaler().fit_transform(latent @ embedding)
    return X, y


def make_bars_and_stripes(
    n_samples: int = 300,
    *,
    height: int = 4,
    width: int = 4,
    noise_std: float = 0.5,
    random_state: RandomStateLike = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Generate the noisy "bars and stripes" classification benchmark of Bowles et al. (2024).

    Each image starts with every pixel at ``-1``. With probability 1/2 it is a *stripes* image:
    every row is switched to ``+1`` independently with probability 1/2 (label ``+1``);
    otherwise it is a *bars* image, with columns switched instead (label ``-1``). Gaussian
    noise of standard deviation ``noise_std`` is then added to every pixel.

    Parameters
    ----------
    n_samples : int, default=300
        Number of images.
    height, width : int, default=4
        Image size in pixels.
    noise_std : float, default=0.5
        Standard deviation of the pixel noise.
    random_state : int, RandomState instance or None, default=None
        Seed or generator for reproducible output.

    Returns
    -------
    X : ndarray of shape (n_samples, height * width)
        Images flattened row by row (``X.reshape(-1, height, width)`` restores them).
    y : ndarray of shape (n_samples,)
        Labels in ``{-1, +1}``: ``+1`` for stripes (rows), ``-1`` for bars (columns). The
        classes are balanced only on average. Blank and full images occur in both classes.

    Notes
    -----
    Published code: ``qml_benchmarks/data/bars_and_stripes.py`` (after its July 2024 fix; the
    first version labelled row images ``-1``). The published images have shape
    ``(n_samples, 1, height, width)``; here they are flattened for scikit-learn. For
    generative models, see :func:`bars_and_stripes_patterns`.

    Examples
    --------
    >>> from skqml.datasets import make_bars_and_stripes
    >>> X, y = make_bars_and_stripes(10, height=3, width=3, noise_std=0.0, random_state=1)
    >>> X.shape
    (10, 9)
    >>> X[0].reshape(3, 3), int(y[0])
    (array([[ 1., -1., -1.],
           [ 1., -1., -1.],
           [ 1., -1., -1.]]), -1)
    """
    n_samples = check_integer(n_samples, "n_samples", low=1)
    height = check_integer(height, "height", low=1)
    width = check_integer(width, "width", low=1)
    noise_std = check_real(noise_std, "noise_std", 0)
    rng = check_random_state(random_state)

    images = -np.ones((n_samples, height, width))
    y = np.empty(n_samples, dtype=np.int64)
    # A Python loop over samples keeps the published order of random draws (class, lines,
    # noise for each image in turn); it costs microseconds per image.
    for i in range(n_samples):
        if rng.random_sample() > 0.5:
            rows = rng.random_sample(height) > 0.5
            images[i, rows, :] = 1.0
            y[i] = 1
        else:
            columns = rng.random_sample(width) > 0.5
            images[i, :, columns] = 1.0
            y[i] = -1
        images[i] += rng.normal(0.0, noise_std, size=(height, width))
    return images.reshape(n_samples, height * width), y


# --------------------------------------------------------------------------------------------
# Binary data for generative models
# --------------------------------------------------------------------------------------------
def bars_and_stripes_patterns(height: int = 3, width: int = 3) -> np.ndarray:
    """Return every distinct binary bars-and-stripes pattern of a ``height x width`` grid.

    A pattern has some rows all set to 1 and the rest 0 (stripes), or some columns all set
    to 1 and the rest 0 (bars). The blank and the full image are both, so there are
    ``2**height + 2**width - 2`` distinct patterns (14 for 3 x 3). The uniform distribution
    over them is the usual target of generative models (Liu & Wang 2018).

    Parameters
    ----------
    height, width : int, default=3
        Grid size, each between 1 and 20.

    Returns
    -------
    patterns : ndarray of shape (2**height + 2**width - 2, height * width), dtype int64
        The 0/1 patterns flattened row by row, in lexicographic order of the flattened rows.

    Examples
    --------
    >>> from skqml.datasets import bars_and_stripes_patterns
    >>> patterns = bars_and_stripes_patterns(2, 2)
    >>> patterns
    array([[0, 0, 0, 0],
           [0, 0, 1, 1],
           [0, 1, 0, 1],
           [1, 0, 1, 0],
           [1, 1, 0, 0],
           [1, 1, 1, 1]])
    >>> bars_and_stripes_patterns().shape
    (14, 9)
    """
    height = check_integer(height, "height", low=1, high=_MAX_PATTERN_SIDE)
    width = check_integer(width, "width", low=1, high=_MAX_PATTERN_SIDE)

    def subsets(n: int) -> np.ndarray:
        # Row r of the result is the binary expansion of r: every subset of n lines once.
        return (np.arange(2**n)[:, None] >> np.arange(n)) & 1

    stripes = np.broadcast_to(subsets(height)[:, :, None], (2**height, height, width))
    bars = np.broadcast_to(subsets(width)[:, None, :], (2**width, height, width))
    patterns = np.concatenate([stripes, bars]).reshape(-1, height * width)
    # The blank and full images appear in both families; unique() drops the duplicates.
    return np.unique(patterns, axis=0).astype(np.int64, copy=False)


def make_bernoulli_mixture(
    n_samples: int,
    *,
    n_features: int = 8,
    n_modes: int = 8,
    p: float = 0.9,
    random_state: RandomStateLike = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Generate binary data from a mixture of Bernoulli modes (Amin et al. 2018).

    ``n_modes`` centres are drawn uniformly from ``{0, 1}^n_features``. Each sample picks a
    centre uniformly at random and copies it, keeping each bit with probability ``p`` and
    flipping it otherwise, so that
    ``P(v) = (1 / M) sum_k p^(N - d_k(v)) (1 - p)^d_k(v)`` with ``d_k`` the Hamming distance
    to centre ``k``.

    Parameters
    ----------
    n_samples : int
        Number of samples.
    n_features : int, default=8
        Number of bits ``N``.
    n_modes : int, default=8
        Number of centres ``M``. Centres are independent and may coincide.
    p : float, default=0.9
        Probability of keeping each bit of the centre, in ``[0, 1]``.
    random_state : int, RandomState instance or None, default=None
        Seed or generator for reproducible output.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), dtype int64
        Binary (0/1) samples.
    y : ndarray of shape (n_samples,), dtype int64
        Index of the mode each sample was drawn from.

    Notes
    -----
    Random numbers are drawn in this order: the centres, the mode of every sample, then the
    keep/flip decisions.

    Examples
    --------
    >>> from skqml.datasets import make_bernoulli_mixture
    >>> X, y = make_bernoulli_mixture(5, n_features=6, n_modes=2, random_state=0)
    >>> X.shape, X.dtype, sorted(set(X.ravel().tolist())) <= [0, 1]
    ((5, 6), dtype('int64'), True)
    """
    n_samples = check_integer(n_samples, "n_samples", low=1)
    n_features = check_integer(n_features, "n_features", low=1)
    n_modes = check_integer(n_modes, "n_modes", low=1)
    p = check_real(p, "p", 0, high=1)
    rng = check_random_state(random_state)

    centres = rng.randint(0, 2, size=(n_modes, n_features)).astype(np.int64)
    modes = rng.randint(0, n_modes, size=n_samples).astype(np.int64)
    keep = rng.random_sample((n_samples, n_features)) < p
    copied = centres[modes]
    X = np.where(keep, copied, 1 - copied)
    return X, modes
