"""Variational quantum classifiers and regressors.

A model is a feature-map circuit followed by a trainable ansatz; its outputs are the
expectation values ``E`` of Pauli observables (default: Z on every qubit), mapped to the
outputs by a trainable affine read-out ``E @ W + b``: logits for classifiers (sigmoid or
softmax), predictions for regressors. All parameters (circuit weights, ``W``, ``b``) are
trained together by minimising cross-entropy or squared error plus an L2 penalty.

Gradients on the exact backend come from the adjoint method (all weights in about three
forward passes, for the whole batch); on other backends from the parameter-shift rule through
the backend's expectation values, or from SPSA when ``optimizer="spsa"``.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from sklearn.model_selection import train_test_split
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import check_is_fitted, validate_data

from .._optim import Adam, History, optimize, warn_if_not_converged
from ..backends import Backend, resolve_backend
from ..circuits import AngleEmbedding, Circuit, DataReuploading, RealAmplitudes
from ..simulator import expectation_vjp, expectations, parameter_shift_vjp

__all__ = ["VQC", "VQR", "DataReuploadingClassifier"]


def _check_label(label, n_qubits: int) -> str:
    if not isinstance(label, str) or len(label) != n_qubits or set(label.upper()) - set("IXYZ"):
        raise ValueError(
            f"observable {label!r} must be a Pauli string of {n_qubits} characters from "
            "I, X, Y, Z (rightmost on qubit 0)"
        )
    return label.upper()


def _check_observables(observables, n_qubits: int) -> tuple[list[dict], list[str], np.ndarray]:
    """Observables as Pauli sums, the distinct Pauli strings, and the coefficient matrix.

    Each observable is a Pauli string or a Pauli sum ``{label: coefficient}``. Returns the
    sums (``[{label: coeff}]``), the distinct labels ``L`` and ``C`` of shape
    ``(n_observables, len(L))`` with ``<O_k> = sum_l C[k, l] <P_l>``.
    """
    if observables is None:
        observables = ["I" * (n_qubits - 1 - q) + "Z" + "I" * q for q in range(n_qubits)]
    items = [observables] if isinstance(observables, str | dict) else list(observables)
    if not items:
        raise ValueError("observables must name at least one Pauli string or Pauli sum")
    sums: list[dict] = []
    for item in items:
        terms = item if isinstance(item, dict) else {item: 1.0}
        if not terms:
            raise ValueError("a Pauli sum needs at least one term")
        total: dict[str, float] = {}
        for label, coeff in terms.items():
            if isinstance(coeff, bool) or not isinstance(coeff, Real) or not np.isfinite(coeff):
                raise ValueError(f"coefficient of {label!r} must be a finite real number")
            key = _check_label(label, n_qubits)
            total[key] = total.get(key, 0.0) + float(coeff)
        sums.append(total)
    labels = sorted({label for total in sums for label in total})
    C = np.array([[total.get(label, 0.0) for label in labels] for total in sums])
    return sums, labels, C


class _VariationalModel(BaseEstimator):
    """Shared training machinery; subclasses define the outputs and the loss."""

    _parameter_constraints: dict = {
        "feature_map": [None, HasMethods(["build", "get_params"])],
        "ansatz": [None, HasMethods(["build", "n_weights", "initial_weights"])],
        "observables": [None, str, list, tuple, dict],
        "input_scaling": ["boolean"],
        "backend": [str, Backend],
        "optimizer": [StrOptions({"adam", "lbfgs", "spsa"})],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [None, Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "max_memory_mb": [None, Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        feature_map=None,
        ansatz=None,
        *,
        observables=None,
        input_scaling: bool = False,
        backend="statevector",
        optimizer: str = "adam",
        learning_rate: float = 0.05,
        batch_size: int | None = None,
        max_iter: int = 200,
        tol: float = 1e-4,
        n_iter_no_change: int = 10,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        alpha: float = 1e-4,
        warm_start: bool = False,
        random_state=None,
        verbose: int = 0,
        max_memory_mb: float | None = None,
    ):
        self.feature_map = feature_map
        self.ansatz = ansatz
        self.observables = observables
        self.input_scaling = input_scaling
        self.backend = backend
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.alpha = alpha
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        self.max_memory_mb = max_memory_mb

    # -- circuit ------------------------------------------------------------------------------
    def _build(self, n_features: int, rng: np.random.Generator) -> tuple[Circuit, np.ndarray]:
        fm = AngleEmbedding() if self.feature_map is None else clone(self.feature_map)
        ansatz = RealAmplitudes(reps=2) if self.ansatz is None else clone(self.ansatz)
        encoding = fm.build(n_features)
        if encoding.n_weights:
            raise ValueError("the feature map must not have trainable weights; use the ansatz")
        n_qubits = encoding.n_qubits
        theta0 = np.asarray(ansatz.initial_weights(n_qubits, rng), dtype=float)
        if self.input_scaling:
            # One trainable factor per feature, after the ansatz weights, starting at 1.
            encoding = encoding.with_input_scaling(offset=theta0.shape[0])
            theta0 = np.concatenate([theta0, np.ones(n_features)])
        return encoding.compose(ansatz.build(n_qubits)), theta0

    # -- parameters ---------------------------------------------------------------------------
    def _split(self, params: np.ndarray):
        n_w, k, o = self._n_circuit_weights, len(self.observables_), self._n_outputs
        return params[:n_w], params[n_w : n_w + k * o].reshape(k, o), params[n_w + k * o :]

    def _set_fitted(self, params: np.ndarray) -> None:
        theta, W, b = self._split(params)
        self.weights_ = theta.copy()
        self.readout_weights_ = W.copy()
        self.readout_bias_ = b.copy()

    # -- evaluation ---------------------------------------------------------------------------
    def _expectations(self, X: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """Expectation values of the observables (Pauli sums), shape (n_samples, K)."""
        return self._pauli_expectations(self.circuit_, X, theta) @ self._coefficients.T

    def _pauli_expectations(self, circuit, X, theta) -> np.ndarray:
        if self.backend_.exact:
            return expectations(circuit, self._labels, X, theta, max_memory_mb=self.max_memory_mb)
        return self.backend_.expectations(circuit, self._labels, X, theta)

    def _raw_outputs(self, X: np.ndarray) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        E = self._expectations(X, self.weights_)
        return E @ self.readout_weights_ + self.readout_bias_

    def _loss_grad(self, params: np.ndarray, rows: np.ndarray):
        theta, W, b = self._split(params)
        X, Y = self._X_train[rows], self._Y_train[rows]
        stash = {}

        C = self._coefficients

        def cotangent(E_paulis, sl):
            E = E_paulis @ C.T
            logits = E @ W + b
            loss, d_out = self._output_loss(logits, Y[sl])
            stash.setdefault("loss", 0.0)
            stash["loss"] += loss
            stash["gW"] = stash.get("gW", 0.0) + E.T @ d_out
            stash["gb"] = stash.get("gb", 0.0) + d_out.sum(axis=0)
            return (d_out @ W.T) @ C  # dL/d<P_l> through <O_k> = sum_l C[k, l] <P_l>

        if self.backend_.exact:
            _, g_theta = expectation_vjp(
                self.circuit_, self._labels, X, theta, cotangent, max_memory_mb=self.max_memory_mb
            )
        else:
            G = cotangent(self._pauli_expectations(self.circuit_, X, theta), slice(None))

            def run(circuit):
                return self._pauli_expectations(circuit, X, theta)

            g_theta = parameter_shift_vjp(run, self.circuit_, X, theta, G)
        n = len(rows)
        grad = np.concatenate([g_theta, np.ravel(stash["gW"]), stash["gb"]]) / n
        loss = stash["loss"] / n
        # L2 penalty as in sklearn's MLP: alpha / 2 * ||params||^2 / n_train_samples.
        penalty = self.alpha / self._X_train.shape[0]
        return loss + 0.5 * penalty * params @ params, grad + penalty * params

    def _loss(self, params: np.ndarray, rows: np.ndarray) -> float:
        theta, W, b = self._split(params)
        E = self._expectations(self._X_train[rows], theta)
        loss, _ = self._output_loss(E @ W + b, self._Y_train[rows])
        penalty = self.alpha / self._X_train.shape[0]
        return loss / len(rows) + 0.5 * penalty * params @ params

    # -- training -----------------------------------------------------------------------------
    def _fit(self, X: np.ndarray, Y: np.ndarray, *, incremental: bool, stratify=None):
        rng = np.random.default_rng(
            self.random_state
            if not isinstance(self.random_state, np.random.RandomState)
            else self.random_state.randint(2**31)
        )
        reuse = (incremental or self.warm_start) and hasattr(self, "params_")
        # Every fit runs on the backend set now, also when it continues from earlier weights
        # (set_params(backend=...) between warm-started fits takes effect).
        self.backend_ = resolve_backend(self.backend)
        if not reuse:
            self.circuit_, theta0 = self._build(X.shape[1], rng)
            self.n_qubits_ = self.circuit_.n_qubits
            self.observables_, self._labels, self._coefficients = _check_observables(
                self.observables, self.n_qubits_
            )
            self._n_circuit_weights = theta0.shape[0]
            k = len(self.observables_)
            W0 = rng.normal(scale=1.0 / np.sqrt(k), size=(k, self._n_outputs))
            self.params_ = np.concatenate([theta0, W0.ravel(), np.zeros(self._n_outputs)])
            self._adam = Adam()
            self.loss_curve_ = []
            self.n_iter_ = 0
        validation_fn = None
        if self.early_stopping and not incremental:
            X, X_val, Y, Y_val = train_test_split(
                X,
                Y,
                test_size=self.validation_fraction,
                random_state=int(rng.integers(2**31)),
                stratify=stratify,
            )

            def validation_fn(params):
                theta, W, b = self._split(params)
                E = self._expectations(X_val, theta)
                return self._validation_score(E @ W + b, Y_val)

        self._X_train, self._Y_train = X, Y
        history = History(self.tol, self.n_iter_no_change, self.verbose, validation_fn)
        # partial_fit is one epoch of Adam whatever the optimizer (as sklearn's MLP): L-BFGS
        # and SPSA keep no state that could carry over between calls.
        try:
            params = optimize(
                "adam" if incremental else self.optimizer,
                self._loss_grad,
                self.params_,
                X.shape[0],
                history,
                max_iter=1 if incremental else self.max_iter,
                learning_rate=self.learning_rate,
                batch_size=self.batch_size,
                rng=rng,
                adam=self._adam,
                # tol is both L-BFGS-B tolerances: "improvement below which an epoch counts
                # as no improvement" bounds the relative loss decrease and the gradient.
                gtol=self.tol,
                ftol=self.tol,
                loss=self._loss,
            )
        finally:
            del self._X_train, self._Y_train
        if self.early_stopping and history.best_params is not None and not incremental:
            params = history.best_params
            self.validation_scores_ = history.validation_scores
            self.best_validation_score_ = history.best_score
        self.params_ = params
        self._set_fitted(params)
        self.loss_curve_ = list(self.loss_curve_) + history.loss_curve
        self.n_iter_ += len(history.loss_curve)
        self.best_loss_ = min(self.loss_curve_) if self.loss_curve_ else np.inf
        if not incremental:
            # stacklevel 4: the user's call of fit (through _fit and the helper).
            warn_if_not_converged(
                history, type(self).__name__, self.max_iter, "raise max_iter or tol", stacklevel=4
            )
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags


_COMMON_DOC = """
    feature_map : FeatureMap, default=None
        Data encoding; ``None`` means ``AngleEmbedding()`` (one qubit per feature, RY).
    ansatz : Ansatz, default=None
        Trainable circuit after the encoding; ``None`` means ``RealAmplitudes(reps=2)``.
    observables : list of str or dict, default=None
        Observables whose expectation values feed the read-out: Pauli strings (Qiskit labels,
        rightmost character on qubit 0) or Pauli sums ``{label: coefficient}``; ``None``
        means Z on every qubit.
    input_scaling : bool, default=False
        Trainable input scaling: every feature ``x_i`` enters the feature map as
        ``s_i * x_i`` with a trainable ``s_i`` (initialised to 1, stored at the end of
        ``weights_``), as in data re-uploading models.
    backend : str or Backend, default="statevector"
        Where the circuits run. Exact backends train with adjoint gradients, others with
        parameter shift (or SPSA).
    optimizer : {"adam", "lbfgs", "spsa"}, default="adam"
        Mini-batch Adam, full-batch L-BFGS-B, or SPSA (two runs per step; for noisy
        backends).
    learning_rate : float, default=0.05
        Step size of Adam; initial gain of SPSA.
    batch_size : int, default=None
        Mini-batch size of Adam; ``None`` means the full batch.
    max_iter : int, default=200
        Epochs (Adam), iterations (L-BFGS, SPSA).
    tol : float, default=1e-4
        Improvement below which an epoch counts as no improvement.
    n_iter_no_change : int, default=10
        Epochs without improvement before stopping.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data and stop (and keep the best parameters)
        on its score.
    validation_fraction : float, default=0.1
        Held-out fraction for early stopping.
    alpha : float, default=1e-4
        L2 penalty on all parameters.
    warm_start : bool, default=False
        Continue from the previous fit's parameters.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, mini-batch order, validation split and SPSA.
    verbose : int, default=0
        Print iteration, loss and elapsed time.
    max_memory_mb : float, default=None
        Memory budget of the simulation.
"""

_FITTED_DOC = """
    weights_ : ndarray of shape (n_weights,)
        Trained circuit weights.
    readout_weights_ : ndarray of shape (n_observables, n_outputs)
        Trained read-out matrix ``W``.
    readout_bias_ : ndarray of shape (n_outputs,)
        Trained read-out bias ``b``.
    circuit_ : Circuit
        Feature map followed by the ansatz.
    n_qubits_ : int
        Number of qubits.
    observables_ : list of dict
        The observables read out, as Pauli sums ``{label: coefficient}``.
    backend_ : Backend
        The resolved backend.
    loss_curve_ : list of float
        Training loss per iteration.
    best_loss_ : float
        Lowest training loss.
    n_iter_ : int
        Iterations run.
    n_features_in_ : int
        Number of features seen in fit.
"""


class VQC(ClassifierMixin, _VariationalModel):
    """Variational quantum classifier.

    Binary problems use one logit (sigmoid), multi-class problems one logit per class
    (softmax); the logits are the affine read-out ``E @ W + b`` of the observables'
    expectation values ``E``. Trained by minimising the cross-entropy.

    Parameters
    ----------%(common)s
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.%(fitted)s
    Examples
    --------
    >>> from sklearn.datasets import make_moons
    >>> from skqml.variational import VQC
    >>> X, y = make_moons(60, noise=0.1, random_state=0)
    >>> clf = VQC(optimizer="lbfgs", max_iter=100, random_state=0).fit(X, y)
    >>> clf.score(X, y) > 0.8
    True
    """

    @property
    def _n_outputs(self) -> int:
        return 1 if len(self.classes_) == 2 else len(self.classes_)

    def _encode(self, y: np.ndarray) -> np.ndarray:
        idx = np.searchsorted(self.classes_, y)
        if len(self.classes_) == 2:
            return idx.reshape(-1, 1).astype(float)
        return np.eye(len(self.classes_))[idx]

    @staticmethod
    def _output_loss(logits: np.ndarray, Y: np.ndarray):
        if logits.shape[1] == 1:
            z = logits
            loss = np.sum(np.logaddexp(0.0, z) - Y * z)
            return loss, 1.0 / (1.0 + np.exp(-z)) - Y
        z = logits - logits.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return -np.sum(Y * log_p), np.exp(log_p) - Y

    @staticmethod
    def _validation_score(logits, Y) -> float:
        if logits.shape[1] == 1:
            return float(np.mean((logits[:, 0] > 0) == (Y[:, 0] > 0.5)))
        return float(np.mean(np.argmax(logits, axis=1) == np.argmax(Y, axis=1)))

    def fit(self, X, y) -> VQC:
        """Train on ``X`` and class labels ``y``.

        Returns
        -------
        self : VQC
        """
        self._validate_params()
        reuse = self.warm_start and hasattr(self, "params_")
        X, y = validate_data(self, X, y, dtype=np.float64, reset=not reuse)
        check_classification_targets(y)
        classes = unique_labels(y)
        if len(classes) < 2:
            raise ValueError(f"VQC needs at least 2 classes in y, got {len(classes)} class")
        if not self.warm_start or not np.array_equal(classes, getattr(self, "classes_", None)):
            self.__dict__.pop("params_", None)
        self.classes_ = classes
        return self._fit(X, self._encode(y), incremental=False, stratify=y)

    def partial_fit(self, X, y, classes=None) -> VQC:
        """One epoch of Adam on ``(X, y)``; ``classes`` is required on the first call."""
        self._validate_params()
        first = not hasattr(self, "params_")
        X, y = validate_data(self, X, y, dtype=np.float64, reset=first)
        check_classification_targets(y)
        if first:
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit")
            self.classes_ = unique_labels(np.asarray(classes))
            if len(self.classes_) < 2:
                raise ValueError("partial_fit needs at least 2 classes")
        elif classes is not None and not np.array_equal(
            unique_labels(np.asarray(classes)), self.classes_
        ):
            raise ValueError(
                f"classes={list(classes)} differs from the classes of the first partial_fit "
                f"call, {list(self.classes_)}"
            )
        unknown = np.setdiff1d(unique_labels(y), self.classes_)
        if len(unknown):
            raise ValueError(
                f"y contains labels {list(unknown)} not in classes {list(self.classes_)}"
            )
        return self._fit(X, self._encode(y), incremental=True)

    def decision_function(self, X) -> np.ndarray:
        """Logits: shape (n_samples,) for binary problems, (n_samples, n_classes) otherwise."""
        out = self._raw_outputs(X)
        return out[:, 0] if out.shape[1] == 1 else out

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities (sigmoid or softmax of the logits)."""
        out = self._raw_outputs(X)
        if out.shape[1] == 1:
            p = 1.0 / (1.0 + np.exp(-out[:, 0]))
            return np.column_stack([1 - p, p])
        z = out - out.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X) -> np.ndarray:
        """Log of :meth:`predict_proba`."""
        return np.log(self.predict_proba(X))

    def predict(self, X) -> np.ndarray:
        """Predicted class labels (argmax of the logits)."""
        out = self._raw_outputs(X)
        idx = (out[:, 0] > 0).astype(int) if out.shape[1] == 1 else np.argmax(out, axis=1)
        return self.classes_[idx]


class VQR(RegressorMixin, _VariationalModel):
    """Variational quantum regressor, single or multi-output.

    Predictions are the affine read-out ``E @ W + b`` of the observables' expectation values,
    in units of the standardised targets (``y`` is standardised in ``fit`` and predictions
    scaled back). Trained by minimising the squared error.

    Parameters
    ----------%(common)s
    Attributes
    ----------%(fitted)s
    Examples
    --------
    >>> import numpy as np
    >>> from skqml.variational import VQR
    >>> X = np.linspace(-1, 1, 30).reshape(-1, 1)
    >>> reg = VQR(optimizer="lbfgs", max_iter=200, random_state=0).fit(X, np.sin(2 * X[:, 0]))
    >>> reg.score(X, np.sin(2 * X[:, 0])) > 0.95
    True
    """

    @property
    def _n_outputs(self) -> int:
        return self._n_targets

    @staticmethod
    def _output_loss(out: np.ndarray, Y: np.ndarray):
        diff = out - Y
        return 0.5 * np.sum(diff**2), diff

    @staticmethod
    def _validation_score(out, Y) -> float:
        return -float(np.mean((out - Y) ** 2))

    def _targets(self, y: np.ndarray, first: bool) -> np.ndarray:
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        if first:
            self._y_1d = y.ndim == 1
            self._n_targets = Y.shape[1]
            self.y_mean_ = Y.mean(axis=0)
            scale = Y.std(axis=0)
            self.y_scale_ = np.where(scale > 0, scale, 1.0)
        elif Y.shape[1] != self._n_targets:
            raise ValueError(
                f"y has {Y.shape[1]} targets, the model was fitted with {self._n_targets}"
            )
        return (Y - self.y_mean_) / self.y_scale_

    def fit(self, X, y) -> VQR:
        """Train on ``X`` and targets ``y`` (shape (n_samples,) or (n_samples, n_targets)).

        Returns
        -------
        self : VQR
        """
        self._validate_params()
        reuse = self.warm_start and hasattr(self, "params_")
        X, y = validate_data(
            self, X, y, dtype=np.float64, multi_output=True, y_numeric=True, reset=not reuse
        )
        if not self.warm_start:
            self.__dict__.pop("params_", None)
        first = not hasattr(self, "params_")
        return self._fit(X, self._targets(y, first), incremental=False)

    def partial_fit(self, X, y) -> VQR:
        """One epoch of Adam on ``(X, y)``."""
        self._validate_params()
        first = not hasattr(self, "params_")
        X, y = validate_data(
            self, X, y, dtype=np.float64, multi_output=True, y_numeric=True, reset=first
        )
        return self._fit(X, self._targets(y, first), incremental=True)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def predict(self, X) -> np.ndarray:
        """Predicted targets."""
        out = self._raw_outputs(X) * self.y_scale_ + self.y_mean_
        return out[:, 0] if self._y_1d else out


class DataReuploadingClassifier(VQC):
    """Data re-uploading classifier (Perez-Salinas et al. 2020), as in Bowles et al. (2024).

    The circuit is :class:`~skqml.circuits.DataReuploading`: every layer uploads the
    features again through trainable input weights (``Rot(w * x)`` then ``Rot(theta)``),
    three features per qubit, with CZ entanglers; the read-out is the VQC read-out. Features
    are used as given: scale them (e.g. ``MinMaxScaler((-pi/2, pi/2))``, as Bowles et al.).

    Parameters
    ----------
    n_layers : int, default=3
        Number of re-uploading layers.
    observables, backend, optimizer, learning_rate, batch_size, max_iter, tol, \
n_iter_no_change, early_stopping, validation_fraction, alpha, warm_start, random_state, \
verbose, max_memory_mb
        As in :class:`VQC`.

    Attributes
    ----------
    classes_, weights_, readout_weights_, readout_bias_, circuit_, n_qubits_, observables_, \
backend_, loss_curve_, best_loss_, n_iter_, n_features_in_
        As in :class:`VQC`.

    Examples
    --------
    >>> from sklearn.datasets import make_moons
    >>> from skqml.variational import DataReuploadingClassifier
    >>> X, y = make_moons(60, noise=0.1, random_state=0)
    >>> clf = DataReuploadingClassifier(n_layers=2, optimizer="lbfgs", random_state=0)
    >>> clf.fit(X, y).score(X, y) > 0.8
    True
    """

    _parameter_constraints = {
        **{
            k: v
            for k, v in _VariationalModel._parameter_constraints.items()
            if k not in ("feature_map", "ansatz", "input_scaling")
        },
        "n_layers": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(
        self,
        n_layers: int = 3,
        *,
        observables=None,
        backend="statevector",
        optimizer: str = "adam",
        learning_rate: float = 0.05,
        batch_size: int | None = None,
        max_iter: int = 200,
        tol: float = 1e-4,
        n_iter_no_change: int = 10,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        alpha: float = 1e-4,
        warm_start: bool = False,
        random_state=None,
        verbose: int = 0,
        max_memory_mb: float | None = None,
    ):
        self.n_layers = n_layers
        self.observables = observables
        self.backend = backend
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.alpha = alpha
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        self.max_memory_mb = max_memory_mb

    def _build(self, n_features: int, rng: np.random.Generator):
        ansatz = DataReuploading(n_layers=self.n_layers)
        n_qubits = ansatz.n_qubits(n_features)
        circuit = ansatz.build_for_features(n_features)
        return circuit, np.asarray(ansatz.initial_weights(n_qubits, rng), dtype=float)


VQC.__doc__ = VQC.__doc__ % {"common": _COMMON_DOC, "fitted": _FITTED_DOC}
VQR.__doc__ = VQR.__doc__ % {"common": _COMMON_DOC, "fitted": _FITTED_DOC}
