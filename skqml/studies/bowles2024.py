"""The benchmark study of Bowles, Ahmed and Schuld (2024), as its files hold it.

"Better than classical? The subtle art of benchmarking quantum machine learning models"
(arXiv:2403.07059) fits quantum and classical classifiers on families of synthetic data
sets. Its scripts generate every data set of a family in one loop under one global NumPy
seed, and split each with ``train_test_split(X, y, test_size=0.2)`` drawing from that same
global generator: a data set depends on all the data sets generated before it.
:func:`load_dataset` replays that loop with a ``RandomState`` and skqml's generators (which
draw in the published order), and returns the training and test sets the study used.

Families available so far (the others of the study follow):

- ``"linearly_separable_{d}d"``, ``d`` from 2 to 20: ``np.random.seed(42)``, then for every
  ``d`` in order 300 points of :func:`~skqml.datasets.make_linearly_separable` with the
  relative margin 0.02, split 240/60.
"""

from __future__ import annotations

import re

import numpy as np
from sklearn.model_selection import train_test_split

from ..datasets import make_linearly_separable

__all__ = ["DATASETS", "load_dataset"]

_N_SAMPLES = 300
_TEST_SIZE = 0.2
_LINEARLY_SEPARABLE = re.compile(r"linearly_separable_(\d+)d")
_LINEARLY_SEPARABLE_DIMENSIONS = range(2, 21)

#: The study's data-set names that :func:`load_dataset` knows.
DATASETS: tuple[str, ...] = tuple(
    f"linearly_separable_{d}d" for d in _LINEARLY_SEPARABLE_DIMENSIONS
)


def load_dataset(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The training and test sets of one of the study's data sets.

    Parameters
    ----------
    name : str
        The study's name of the data set (its file stem without ``_train``/``_test``), one of
        :data:`DATASETS`, e.g. ``"linearly_separable_10d"``.

    Returns
    -------
    X_train : ndarray of shape (240, n_features)
    y_train : ndarray of shape (240,)
        Labels in ``{-1, +1}``.
    X_test : ndarray of shape (60, n_features)
    y_test : ndarray of shape (60,)

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
            f"{', '.join(DATASETS)} (the study's other families are not available yet)"
        )
    target = int(_LINEARLY_SEPARABLE.fullmatch(name).group(1))
    # The study's loop: every earlier data set and split draws from the same generator.
    rng = np.random.RandomState(42)
    for n_features in _LINEARLY_SEPARABLE_DIMENSIONS:
        X, y = make_linearly_separable(
            _N_SAMPLES, n_features=n_features, margin=0.02, random_state=rng
        )
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=_TEST_SIZE, random_state=rng
        )
        if n_features == target:
            return X_train, y_train, X_test, y_test
    raise AssertionError("unreachable: the name was checked against DATASETS")  # pragma: no cover
