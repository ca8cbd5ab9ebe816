"""The fit contract shared by every skqml estimator and kernel: validated, atomic fits.

``fit_context`` replaces scikit-learn's ``_fit_context`` on every ``fit`` and ``partial_fit``.
It validates the hyperparameters (``_parameter_constraints``) like scikit-learn's decorator,
and makes the call atomic: if it raises anything (a bad input, a
:class:`~skqml.simulator.SimulationMemoryError`, a backend error, ``KeyboardInterrupt``), the
estimator's attributes are restored to what they were before the call. A fresh estimator stays
unfitted; a fitted one (``warm_start``, ``partial_fit``, a refit) keeps its previous fitted
state, so ``predict`` still works and ``check_is_fitted`` never passes on half a model.

The restore is shallow: fit methods build new fitted objects instead of mutating the previous
ones in place (for example they copy an optimizer's state before continuing from it).
"""

from __future__ import annotations

import functools

from sklearn.base import _fit_context

__all__ = ["fit_context", "set_fitted"]


def fit_context(*, prefer_skip_nested_validation: bool = True):
    """Decorate a ``fit``/``partial_fit`` method: validate parameters, then fit atomically.

    Examples
    --------
    >>> from sklearn.base import BaseEstimator
    >>> from skqml._estimator import fit_context
    >>> class Model(BaseEstimator):
    ...     _parameter_constraints = {}
    ...     @fit_context()
    ...     def fit(self, X, y=None):
    ...         self.coef_ = 1.0
    ...         raise RuntimeError("the backend went away")
    >>> model = Model()
    >>> try:
    ...     model.fit([[0.0]])
    ... except RuntimeError:
    ...     pass
    >>> hasattr(model, "coef_")
    False
    """

    def decorator(fit_method):
        validated = _fit_context(prefer_skip_nested_validation=prefer_skip_nested_validation)(
            fit_method
        )

        @functools.wraps(fit_method)
        def wrapper(estimator, *args, **kwargs):
            before = dict(vars(estimator))
            try:
                return validated(estimator, *args, **kwargs)
            except BaseException:
                # Put back what changed and drop what was added, never emptying the state
                # in between (a second interrupt here leaves the hyperparameters in place).
                state = vars(estimator)
                state.update(before)
                for name in [name for name in state if name not in before]:
                    del state[name]
                raise

        return wrapper

    return decorator


def set_fitted(estimator, fitted: dict, stale=()) -> None:
    """Assign a fit's attributes together at its end, dropping ``stale`` ones of an earlier
    fit that would not describe this one.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from skqml._estimator import set_fitted
    >>> model = SimpleNamespace(calibrated_=object())
    >>> set_fitted(model, {"coef_": 1.0}, stale=("calibrated_",))
    >>> vars(model)
    {'coef_': 1.0}
    """
    state = vars(estimator)
    for name in stale:
        state.pop(name, None)
    state.update(fitted)
