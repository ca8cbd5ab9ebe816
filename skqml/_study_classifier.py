"""The contract of the trained classifiers of Bowles, Ahmed and Schuld (2024).

Every trained model of the study (variational circuits, the Gibbs-state classifier) scales
its features, takes binary labels, trains with the study's loop
(:func:`~skqml._optim.interval_descent`) and reads out one number ``f`` per sample; the
families (``skqml.variational``, ``skqml.boltzmann``) define the models.
"""

from __future__ import annotations

import warnings
from math import pi
from numbers import Integral, Real

import numpy as np
from scipy.special import expit, log_expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import MinMaxScaler
from sklearn.utils._param_validation import Interval
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ._estimator import fit_context, set_fitted
from ._optim import Adam, _user_stacklevel, interval_descent
from ._validation import MAX_MEMORY_MB_CONSTRAINT

__all__ = ["FEATURE_RANGE", "LogitOutput", "StudyClassifier", "sigmoid_cross_entropy"]

# The study scales the features of most of its models to this range (a MinMaxScaler).
FEATURE_RANGE = (-pi / 2, pi / 2)


def sigmoid_cross_entropy(z: np.ndarray, t: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean sigmoid cross-entropy of the logits ``z`` for targets ``t`` in ``{0, 1}``, and
    its gradient with respect to ``z``."""
    loss = -np.mean(t * log_expit(z) + (1 - t) * log_expit(-z))
    return float(loss), (expit(z) - t) / len(t)


class LogitOutput:
    """The read-out of study models whose output ``f`` is a logit: ``P(classes_[1]) =
    sigmoid(f)``, trained by the sigmoid cross-entropy (mix in before
    :class:`StudyClassifier`)."""

    def _loss(self, f, t):
        return sigmoid_cross_entropy(f, t)

    def _decision(self, f):
        return f

    def _probability(self, f):
        return expit(f)


class StudyClassifier(ClassifierMixin, BaseEstimator):
    """The contract of the study's trained classifiers: feature scaling, binary labels, the
    study's training loop (:func:`~skqml._optim.interval_descent`) and the read-out.

    A subclass defines :meth:`_setup` (the model's fixed parts for ``n_features`` features,
    kept as ``_model``, and the initial parameters), :meth:`_output` (the output ``f`` of
    each sample and, given ``dL/df``, the gradient with respect to the parameters),
    :meth:`_loss` (mean loss and ``dL/df`` on targets in ``{0, 1}``), and :meth:`_decision`
    and :meth:`_probability` of ``classes_[1]``; :meth:`_scaler` when the features are not
    min-max scaled to ``[-pi/2, pi/2]``. A model whose loss does not sum over samples (it
    couples pairs of them) defines :meth:`_objective` instead of :meth:`_loss`, and one that
    keeps training samples for its predictions takes them in :meth:`_with_training_set`.
    """

    _parameter_constraints: dict = {
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_steps": [Interval(Integral, 1, None, closed="left")],
        "convergence_interval": [Interval(Integral, 1, None, closed="left")],
        "scaling": [Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
        "max_memory_mb": MAX_MEMORY_MB_CONSTRAINT,
    }

    # -- the model (subclasses) -------------------------------------------------------------
    def _scaler(self):
        return MinMaxScaler(feature_range=FEATURE_RANGE)

    def _setup(self, n_features: int, rng) -> tuple[object, np.ndarray, int]:
        """The model's fixed parts, its initial parameters and its number of qubits."""
        raise NotImplementedError  # pragma: no cover - abstract

    def _output(self, model, X_scaled: np.ndarray, theta: np.ndarray, cotangent=None):
        """``(f, grad)``: ``f`` per sample; with ``cotangent(f) -> dL/df``, ``grad`` is
        ``dL/dtheta`` (else None)."""
        raise NotImplementedError  # pragma: no cover - abstract

    def _loss(self, f: np.ndarray, t: np.ndarray) -> tuple[float, np.ndarray]:
        """Mean loss and ``dL/df`` for targets ``t`` in ``{0, 1}`` (1: ``classes_[1]``)."""
        raise NotImplementedError  # pragma: no cover - abstract

    def _decision(self, f: np.ndarray) -> np.ndarray:
        raise NotImplementedError  # pragma: no cover - abstract

    def _probability(self, f: np.ndarray) -> np.ndarray:
        raise NotImplementedError  # pragma: no cover - abstract

    # -- shared -----------------------------------------------------------------------------
    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Train the model's parameters with the study's loop.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Two class labels.

        Returns
        -------
        self
            The fitted estimator. If fitting fails, it is left as it was before the call.
        """
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        classes = np.unique(y)
        if classes.shape[0] != 2:
            raise ValueError(
                f"Only binary classification is supported. {type(self).__name__} is binary, "
                f"as in the study; y has {classes.shape[0]} classes (for more, wrap it in "
                "sklearn.multiclass.OneVsRestClassifier)"
            )
        target = (y == classes[1]).astype(float)
        rng = np.random.default_rng(self.random_state)
        model, theta0, n_qubits = self._setup(X.shape[1], rng)
        scaler = self._scaler().fit(X)
        X_scaled = scaler.transform(X) * self.scaling
        model = self._with_training_set(model, X_scaled, target, rng)
        loss_grad, n_rows = self._objective(model, X_scaled, target)
        run = interval_descent(
            loss_grad,
            theta0,
            n_rows,
            rule=Adam(),
            learning_rate=self.learning_rate,
            batch_size=self.batch_size,
            max_steps=self.max_steps,
            convergence_interval=self.convergence_interval,
            rng=rng,
        )
        set_fitted(
            self,
            {
                "weights_": run.params,
                "loss_curve_": run.loss_curve,
                "converged_": run.converged,
                "n_iter_": len(run.loss_curve),
                "scaler_": scaler,
                "classes_": classes,
                "n_qubits_": n_qubits,
                "_model": model,
                **self._model_attributes(model),
            },
        )
        if not run.converged:
            warnings.warn(
                f"{type(self).__name__} did not pass the convergence test within max_steps="
                f"{self.max_steps} steps; raise max_steps or learning_rate",
                ConvergenceWarning,
                stacklevel=_user_stacklevel(),
            )
        return self

    def _with_training_set(self, model, X_scaled: np.ndarray, target: np.ndarray, rng):
        """The model to keep, given the scaled training set (a model that predicts from
        stored training samples takes them here); by default ``model`` itself."""
        return model

    def _objective(self, model, X_scaled: np.ndarray, target: np.ndarray):
        """``(fun, n_rows)``: the objective ``fun(theta, rows) -> (mean loss, gradient)`` of
        :func:`~skqml._optim.interval_descent` and the number of rows its mini-batches are
        drawn from. By default the mean of :meth:`_loss` over the drawn training samples."""

        def loss_grad(theta, rows):
            t = target[rows]
            f, grad = self._output(model, X_scaled[rows], theta, lambda f: self._loss(f, t)[1])
            return self._loss(f, t)[0], grad

        return loss_grad, X_scaled.shape[0]

    def _model_attributes(self, model) -> dict:
        """Public fitted attributes describing the model (e.g. ``circuit_``)."""
        return {}

    def _fitted_output(self, X) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        X_scaled = self.scaler_.transform(X) * self.scaling
        return self._output(self._model, X_scaled, self.weights_)[0]

    def decision_function(self, X) -> np.ndarray:
        """Decision values, positive for ``classes_[1]``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        decision : ndarray of shape (n_samples,)
        """
        return self._decision(self._fitted_output(X))

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, 2)
        """
        p = self._probability(self._fitted_output(X))
        return np.column_stack([1 - p, p])

    def predict(self, X) -> np.ndarray:
        """Predicted class labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        positive = self.decision_function(X) > 0  # checks that the model is fitted first
        return self.classes_[positive.astype(int)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.classifier_tags.multi_class = False
        return tags
