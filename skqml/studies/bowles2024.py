"""The benchmark study of Bowles, Ahmed and Schuld (2024), as its files hold it.

"Better than classical? The subtle art of benchmarking quantum machine learning models"
(arXiv:2403.07059) fits quantum and classical classifiers on families of synthetic data
sets. Its scripts (``paper/benchmarks/generate_*.py`` of the qml-benchmarks code, paper
version v0.1) generate every data set of a family in one loop under one global NumPy seed,
and split each with ``train_test_split(X, y, test_size=0.2)`` drawing from that same global
generator: a data set depends on every data set generated before it. :func:`load_dataset`
replays those loops with a ``RandomState`` and skqml's generators (which draw in the
published order) and returns the training and test sets the study used; its published scores
are reproduced exactly on them (see the tests).

The families, in the order of the study's scripts (300 samples split 240/60 unless noted):

- ``"linearly_separable_{d}d"``, ``d`` = 2..20: seed 42,
  :func:`~skqml.datasets.make_linearly_separable` with the relative margin 0.02.
- ``"hidden_manifold-6manifold-{d}d"``, ``d`` = 2..20, then
  ``"hidden_manifold-10d-{m}manifold"``, ``m`` = 2..20, in one stream: seed 3,
  :func:`~skqml.datasets.make_hidden_manifold`.
- ``"two_curves-5degree-0.1offset-{d}d"``, ``d`` = 2..20 (degree 5, offset 0.1), then
  ``"two_curves-10d-{k}degree"``, ``k`` = 2..20 (offset ``1 / (2 k)``), in one stream: seed 3,
  :func:`~skqml.datasets.make_two_curves` with noise 0.01.
- ``"hyperplanes-10d-from3d-{k}n"``, ``k`` = 2..20 hyperplanes: seed 1,
  :func:`~skqml.datasets.make_hyperplanes_parity`.
- ``"bars_and_stripes_{s}_x_{s}_0.5noise"``, ``s`` in 4, 8, 16, 32: seed 42 for each size,
  1000 training then 200 test images of :func:`~skqml.datasets.make_bars_and_stripes`
  (no split). The study's v0.1 code labelled row images ``-1``, the opposite of
  ``make_bars_and_stripes`` (which follows the code's later fix); the labels here are the
  study's.

The MNIST data sets of the study are not generated (they come from MNIST itself).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
from sklearn.model_selection import train_test_split

from ..datasets import (
    make_bars_and_stripes,
    make_hidden_manifold,
    make_hyperplanes_parity,
    make_linearly_separable,
    make_two_curves,
)

__all__ = ["DATASETS", "load_dataset"]

_N_SAMPLES = 300
_TEST_SIZE = 0.2
_RANGE = range(2, 21)  # every family's loop variable
_BARS_AND_STRIPES_SIZES = (4, 8, 16, 32)

# A script: its seed and its data sets in generation order, each a name and a function of
# the generator returning (X, y) to be split.
_Script = tuple[int, list[tuple[str, Callable]]]


def _scripts() -> list[_Script]:
    n = _N_SAMPLES
    return [
        (
            42,
            [
                (
                    f"linearly_separable_{d}d",
                    lambda rng, d=d: make_linearly_separable(
                        n, n_features=d, margin=0.02, random_state=rng
                    ),
                )
                for d in _RANGE
            ],
        ),
        (
            3,
            [
                (
                    f"hidden_manifold-6manifold-{d}d",
                    lambda rng, d=d: make_hidden_manifold(
                        n, n_features=d, manifold_dimension=6, random_state=rng
                    ),
                )
                for d in _RANGE
            ]
            + [
                (
                    f"hidden_manifold-10d-{m}manifold",
                    lambda rng, m=m: make_hidden_manifold(
                        n, n_features=10, manifold_dimension=m, random_state=rng
                    ),
                )
                for m in _RANGE
            ],
        ),
        (
            3,
            [
                (
                    f"two_curves-5degree-0.1offset-{d}d",
                    lambda rng, d=d: make_two_curves(
                        n, n_features=d, degree=5, offset=0.1, noise=0.01, random_state=rng
                    ),
                )
                for d in _RANGE
            ]
            + [
                (
                    f"two_curves-10d-{k}degree",
                    lambda rng, k=k: make_two_curves(
                        n,
                        n_features=10,
                        degree=k,
                        offset=1 / (2 * k),
                        noise=0.01,
                        random_state=rng,
                    ),
                )
                for k in _RANGE
            ],
        ),
        (
            1,
            [
                (
                    f"hyperplanes-10d-from3d-{k}n",
                    lambda rng, k=k: make_hyperplanes_parity(
                        n, n_features=10, n_hyperplanes=k, dim_hyperplanes=3, random_state=rng
                    ),
                )
                for k in _RANGE
            ],
        ),
    ]


def _bars_and_stripes_name(size: int) -> str:
    return f"bars_and_stripes_{size}_x_{size}_0.5noise"


def _names() -> Iterator[str]:
    for _, entries in _scripts():
        yield from (name for name, _ in entries)
    yield from (_bars_and_stripes_name(s) for s in _BARS_AND_STRIPES_SIZES)


#: The study's data-set names that :func:`load_dataset` knows.
DATASETS: tuple[str, ...] = tuple(_names())


def load_dataset(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The training and test sets of one of the study's data sets.

    Parameters
    ----------
    name : str
        The study's name of the data set (its file stem without ``_train``/``_test``), one of
        :data:`DATASETS`, e.g. ``"linearly_separable_10d"`` or
        ``"hidden_manifold-6manifold-5d"``.

    Returns
    -------
    X_train : ndarray of shape (n_train, n_features)
    y_train : ndarray of shape (n_train,)
        Labels in ``{-1, +1}``.
    X_test : ndarray of shape (n_test, n_features)
    y_test : ndarray of shape (n_test,)
        240 and 60 samples; 1000 and 200 images for bars and stripes.

    Raises
    ------
    ValueError
        For a name that is not one of :data:`DATASETS`.

    Examples
    --------
    >>> from sklearn.svm import SVC
    >>> from skqml.studies.bowles2024 import load_dataset
    >>> X_train, y_train, X_test, y_test = load_dataset("linearly_separable_10d")
    >>> X_train.shape, X_test.shape
    ((240, 10), (60, 10))
    >>> # The study's best SVC on this data set scores 59 of its 60 test points:
    >>> SVC(C=100, gamma=0.001).fit(X_train, y_train).score(X_test, y_test) * 60
    59.0
    """
    if not isinstance(name, str) or name not in DATASETS:
        raise ValueError(
            f"unknown data set {name!r} of Bowles et al. (2024); the names available are "
            f"skqml.studies.bowles2024.DATASETS, e.g. 'linearly_separable_10d', "
            f"'hidden_manifold-6manifold-5d', 'two_curves-5degree-0.1offset-6d', "
            f"'hyperplanes-10d-from3d-5n', 'bars_and_stripes_4_x_4_0.5noise'"
        )
    for size in _BARS_AND_STRIPES_SIZES:
        if name == _bars_and_stripes_name(size):
            rng = np.random.RandomState(42)
            kwargs = {"height": size, "width": size, "noise_std": 0.5, "random_state": rng}
            X_train, y_train = make_bars_and_stripes(1000, **kwargs)
            X_test, y_test = make_bars_and_stripes(200, **kwargs)
            return X_train, -y_train, X_test, -y_test  # the study's v0.1 labels
    for seed, entries in _scripts():
        if name not in (entry for entry, _ in entries):
            continue
        # The study's loop: every earlier data set and split draws from the same generator.
        rng = np.random.RandomState(seed)
        for entry, generate in entries:
            X, y = generate(rng)
            X_train, X_test, y_train, y_test = train_test_split(
                X, y, test_size=_TEST_SIZE, random_state=rng
            )
            if entry == name:
                return X_train, y_train, X_test, y_test
    raise AssertionError(f"unreachable: {name!r} is in DATASETS")  # pragma: no cover
