"""Base class for the small sklearn-style parameter objects (feature maps, ansatzes, backends)."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator

__all__ = ["ParameterObject"]


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(np.asarray(a), np.asarray(b))
    return bool(a == b)


class ParameterObject(BaseEstimator):
    """Hyperparameters in an object: ``get_params``/``set_params``, ``clone``, equality.

    Subclasses store their constructor arguments unchanged, like sklearn estimators, so that
    nested grid searches (``feature_map__reps``) and ``clone`` work. Two objects are equal
    when they have the same type and parameters.
    """

    def __eq__(self, other) -> bool:
        if type(self) is not type(other):
            return NotImplemented
        mine, theirs = self.get_params(deep=False), other.get_params(deep=False)
        return mine.keys() == theirs.keys() and all(_same(mine[k], theirs[k]) for k in mine)

    def __hash__(self) -> int:
        return hash((type(self).__qualname__, repr(sorted(self.get_params(deep=False).items()))))
