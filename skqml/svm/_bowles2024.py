"""The kernel classifiers of Bowles, Ahmed and Schuld (2024), on skqml's kernels and QSVC,
and its quantum kitchen sinks (random quantum features for a linear model).

Each kernel classifier is the study's model with the study's hyperparameter names: the
features are scaled to ``[-pi/2, pi/2]`` by a ``MinMaxScaler`` fitted on the training set
(then multiplied by ``scaling``), and a :class:`~skqml.svm.QSVC` is fitted on the quantum
kernel the class defines. The kernels run on any backend (``backend``), like every skqml kernel.

Where the study's code departs from its paper, the class follows the paper and
``as_coded=True`` gives the code's behaviour (see each class).
"""

from __future__ import annotations

from math import pi
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import MinMaxScaler
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .._estimator import fit_context, set_fitted
from .._validation import MAX_MEMORY_MB_CONSTRAINT, N_JOBS_CONSTRAINT, check_integer
from ..backends import resolve_backend
from ..backends._registry import BACKEND_CONSTRAINT
from ..backends._seeding import _row_keys, _uniforms
from ..circuits import Circuit, FeatureMap, HeisenbergEmbedding, IQPEmbedding
from ..circuits._angle import feature
from ..circuits._feature_maps import _hyperparameter
from ..kernels import FidelityQuantumKernel, ProjectedQuantumKernel, QuantumKernel
from ..simulator._memory import remaining_budget_mb, rows_per_chunk
from ._classes import QSVC, probability_enabled

__all__ = [
    "IQPKernelClassifier",
    "ProjectedQuantumKernelClassifier",
    "QuantumKitchenSinks",
    "SeparableKernelClassifier",
]

# The study scales every feature to this range with its training minimum and maximum.
_FEATURE_RANGE = (-pi / 2, pi / 2)


class _StudyKernelClassifier(ClassifierMixin, BaseEstimator):
    """Shared logic: the study's scaling, then a QSVC on the kernel of :meth:`_kernel`.

    Fitted attributes: ``scaler_`` (the ``MinMaxScaler``), ``qsvc_`` (the fitted
    :class:`QSVC`), ``classes_``, ``n_qubits_``, ``n_features_in_``.
    """

    _parameter_constraints: dict = {
        "C": [Interval(Real, 0, None, closed="neither")],
        "scaling": [Interval(Real, 0, None, closed="neither")],
        "probability": ["boolean"],
        "backend": BACKEND_CONSTRAINT,
        "random_state": ["random_state"],
        "n_jobs": N_JOBS_CONSTRAINT,
        "max_memory_mb": MAX_MEMORY_MB_CONSTRAINT,
    }

    def _kernel(self, n_features: int, rng: np.random.Generator) -> QuantumKernel:
        """The kernel for ``n_features`` features (``rng``: the fit's randomness)."""
        raise NotImplementedError  # pragma: no cover - abstract

    def _kernel_settings(self) -> dict:
        return dict(backend=self.backend, n_jobs=self.n_jobs, max_memory_mb=self.max_memory_mb)

    def _scaled(self, scaler: MinMaxScaler, X: np.ndarray) -> np.ndarray:
        return scaler.transform(X) * self.scaling

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Scale the features as the study does, then fit the SVM on the quantum kernel.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        self
            The fitted estimator. If fitting fails, it is left as it was before the call.
        """
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        rng = np.random.default_rng(self.random_state)
        # The study draws the SVM's seed first; it seeds only the probability calibration.
        svm_seed = int(rng.integers(100000))
        scaler = MinMaxScaler(feature_range=_FEATURE_RANGE).fit(X)
        qsvc = QSVC(
            kernel=self._kernel(X.shape[1], rng),
            C=self.C,
            probability=self.probability,
            random_state=svm_seed,
        ).fit(self._scaled(scaler, X), y)
        set_fitted(
            self,
            {
                "scaler_": scaler,
                "qsvc_": qsvc,
                "classes_": qsvc.classes_,
                "n_qubits_": qsvc.n_qubits_,
            },
        )
        return self

    def _fitted_input(self, X) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return self._scaled(self.scaler_, X)

    def decision_function(self, X) -> np.ndarray:
        """Signed distance to the separating hyperplane, positive for ``classes_[1]``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples, with the features seen in fit.

        Returns
        -------
        decision : ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        X = self._fitted_input(X)  # checks that the model is fitted first
        return self.qsvc_.decision_function(X)

    def predict(self, X) -> np.ndarray:
        """Predicted class labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples, with the features seen in fit.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        X = self._fitted_input(X)  # checks that the model is fitted first
        return self.qsvc_.predict(X)

    @available_if(probability_enabled)
    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities (Platt scaling; needs ``probability=True``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples, with the features seen in fit.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        X = self._fitted_input(X)  # checks that the model is fitted first
        return self.qsvc_.predict_proba(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags


class IQPKernelClassifier(_StudyKernelClassifier):
    """The IQP kernel classifier of Bowles et al. (2024) (after Havlicek et al. 2019).

    The fidelity kernel ``k(x, x') = |<0|U(x')^dagger U(x)|0>|^2`` of
    :class:`~skqml.circuits.IQPEmbedding` with ``n_repeats=repeats``, on one qubit per
    feature, after the study's scaling; an SVM on it.

    Parameters
    ----------
    repeats : int, default=2
        Repetitions of the IQP layer.
    C : float, default=1.0
        Regularisation of the SVM.
    scaling : float, default=1.0
        Factor applied to the features after their scaling to ``[-pi/2, pi/2]``.
    probability : bool, default=False
        Fit a Platt calibration for :meth:`predict_proba` (the study's SVM always does;
        predictions and decision values do not depend on it).
    backend : str, Backend or None, default="statevector"
        Where the circuits run.
    random_state : int, Generator or None, default=None
        Seeds the probability calibration.
    n_jobs : int, default=None
        Parallel jobs of the Gram matrices.
    max_memory_mb : float, default=None
        Memory budget of the simulation (MiB).

    Attributes
    ----------
    scaler_ : MinMaxScaler
        The scaling to ``[-pi/2, pi/2]``, fitted on the training set.
    qsvc_ : QSVC
        The fitted SVM on the quantum kernel (its ``kernel_`` is the kernel used).
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_qubits_ : int
        Number of qubits of the kernel's circuit.
    n_features_in_ : int
        Number of features seen in fit.

    Examples
    --------
    >>> from skqml.studies.bowles2024 import load_dataset
    >>> from skqml.svm import IQPKernelClassifier
    >>> X_train, y_train, X_test, y_test = load_dataset("linearly_separable_5d")
    >>> clf = IQPKernelClassifier(repeats=1, C=1.0).fit(X_train, y_train)
    >>> round(clf.score(X_test, y_test) * 60)  # the study's published 56 of 60
    56
    """

    _parameter_constraints = {
        **_StudyKernelClassifier._parameter_constraints,
        "repeats": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        repeats: int = 2,
        C: float = 1.0,
        *,
        scaling: float = 1.0,
        probability: bool = False,
        backend="statevector",
        random_state=None,
        n_jobs: int | None = None,
        max_memory_mb: float | None = None,
    ):
        self.repeats = repeats
        self.C = C
        self.scaling = scaling
        self.probability = probability
        self.backend = backend
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.max_memory_mb = max_memory_mb

    def _kernel(self, n_features, rng):
        return FidelityQuantumKernel(
            IQPEmbedding(n_repeats=self.repeats), bandwidth=1.0, **self._kernel_settings()
        )


class SeparableLayers(FeatureMap):
    """One qubit per feature, each independently: ``encoding_layers`` times ``RY(x_i)`` then
    ``RX(pi/4)`` (``as_coded``: ``RX(-pi/4)`` then ``RY(-x_i)``, the state whose overlaps the
    study's code computes)."""

    def __init__(self, encoding_layers: int = 1, as_coded: bool = False):
        self.encoding_layers = encoding_layers
        self.as_coded = as_coded

    def build(self, n_features: int) -> Circuit:
        n = check_integer(n_features, "n_features", low=1)
        layers = check_integer(
            self.encoding_layers, _hyperparameter(self, "encoding_layers"), low=1
        )
        circuit = Circuit(n)
        for i in range(n):
            for _ in range(layers):
                if self.as_coded:
                    circuit = circuit.rx(-pi / 4, i).ry(-1.0 * feature(i), i)
                else:
                    circuit = circuit.ry(feature(i), i).rx(pi / 4, i)
        return circuit


class SeparableKernelClassifier(_StudyKernelClassifier):
    """The separable kernel classifier of Bowles et al. (2024).

    Every feature on its own qubit, encoded by ``encoding_layers`` layers of ``RY(x_i)``
    then ``RX(pi/4)``; the kernel is the fidelity of these product states, the product of
    one-qubit fidelities, after the study's scaling; an SVM on it.

    The study's code computes ``|<0|U(x') U(x)^dagger|0>|^2`` per qubit instead of the
    paper's ``|<0|U(x')^dagger U(x)|0>|^2``: the fidelity of ``U(x)^dagger |0>``, whose
    layers are ``RX(-pi/4)`` then ``RY(-x_i)``. The kernels differ (with one layer the
    paper's is ``cos^2((x_i - x'_i)/2)`` per qubit, the code's
    ``3/4 + cos(x_i - x'_i)/4``), and so do the results: ``as_coded=True`` gives the
    code's kernel, the one behind the study's published numbers.

    Parameters
    ----------
    encoding_layers : int, default=1
        Layers of the encoding.
    C, scaling, probability, backend, random_state, n_jobs, max_memory_mb
        As in :class:`IQPKernelClassifier`.
    as_coded : bool, default=False
        The study's code's kernel instead of the paper's (see above).

    Attributes
    ----------
    scaler_, qsvc_, classes_, n_qubits_, n_features_in_
        As in :class:`IQPKernelClassifier`.

    Examples
    --------
    >>> import numpy as np
    >>> from skqml.svm import SeparableKernelClassifier
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [0.1, 0.9], [0.9, 0.2]])
    >>> y = np.array([-1, 1, -1, 1])
    >>> SeparableKernelClassifier(C=10.0).fit(X, y).predict([[0.05, 0.95]])
    array([-1])
    """

    _parameter_constraints = {
        **_StudyKernelClassifier._parameter_constraints,
        "encoding_layers": [Interval(Integral, 1, None, closed="left")],
        "as_coded": ["boolean"],
    }

    def __init__(
        self,
        encoding_layers: int = 1,
        C: float = 1.0,
        *,
        scaling: float = 1.0,
        probability: bool = False,
        as_coded: bool = False,
        backend="statevector",
        random_state=None,
        n_jobs: int | None = None,
        max_memory_mb: float | None = None,
    ):
        self.encoding_layers = encoding_layers
        self.C = C
        self.scaling = scaling
        self.probability = probability
        self.as_coded = as_coded
        self.backend = backend
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.max_memory_mb = max_memory_mb

    def _kernel(self, n_features, rng):
        return FidelityQuantumKernel(
            SeparableLayers(self.encoding_layers, self.as_coded),
            bandwidth=1.0,
            **self._kernel_settings(),
        )


class StudyProjectedKernel(ProjectedQuantumKernel):
    """The study's projected kernel: ``gamma = gamma_factor / (n_features * Var)`` with
    ``Var`` the variance of all Bloch-vector entries of the training set; ``as_coded``: of
    the rows' samples of every Gram matrix (at predict time, the samples predicted)."""

    def __init__(
        self,
        feature_map=None,
        *,
        gamma_factor: float = 1.0,
        as_coded: bool = False,
        gamma="bowles2024",
        backend="statevector",
        n_jobs: int | None = None,
        max_memory_mb: float | None = None,
    ):
        self.feature_map = feature_map
        self.gamma_factor = gamma_factor
        self.as_coded = as_coded
        self.gamma = gamma
        self.backend = backend
        self.n_jobs = n_jobs
        self.max_memory_mb = max_memory_mb

    # The projected kernel's other settings, fixed for the study.
    measurement = "XYZ"
    bandwidth = 1.0
    verbose = 0

    def _gamma(self, reference):
        gamma = super()._gamma(reference)
        return self.gamma_factor * gamma if isinstance(self.gamma, str) else gamma

    def _gamma_reference(self, A, B):
        return A if self.as_coded else super()._gamma_reference(A, B)

    def bind_training(self, A):
        # As coded, the width is read again from every Gram matrix's rows.
        return self if self.as_coded else super().bind_training(A)


class ProjectedQuantumKernelClassifier(_StudyKernelClassifier):
    """The projected quantum kernel classifier of Bowles et al. (2024) (after Huang et al.
    2021); the study calls it ``ProjectedQuantumKernel``.

    On ``n_features + 1`` qubits, the study's Hamiltonian embedding
    (:class:`~skqml.circuits.HeisenbergEmbedding`: random ``Rot`` on every qubit, then
    ``trotter_steps`` Trotter steps of ``IsingXX``, ``IsingYY``, ``IsingZZ`` with angle
    ``x_j t n_features / trotter_steps`` on ``(j, j + 1)``), after the study's scaling. The
    kernel is ``exp(-gamma sum_q sum_P (<P_q>_x - <P_q>_x')^2)`` over the one-qubit ``X``,
    ``Y``, ``Z`` expectations, with ``gamma = gamma_factor / (n_features * Var)`` and
    ``Var`` the variance of all those expectations over the training set; an SVM on it.

    The study's code computes ``Var`` from the first argument of every kernel matrix, which
    at predict time is the set of samples being predicted: predictions then depend on which
    other samples are predicted with them. ``as_coded=True`` reproduces that.

    Parameters
    ----------
    gamma_factor : float, default=1.0
        Factor of the kernel width.
    C : float, default=1.0
        Regularisation of the SVM.
    t : float, default=1/3
        Evolution time.
    trotter_steps : int, default=5
        Trotter steps.
    scaling, probability, backend, n_jobs, max_memory_mb
        As in :class:`IQPKernelClassifier`.
    random_state : int, Generator or None, default=None
        Seeds the random rotations of the embedding and the probability calibration, in
        the study's order: ``numpy.random.default_rng(random_state)`` draws the SVM's seed
        (``integers(100000)``), then the rotations (``uniform(size=(n_qubits, 3)) * 2 pi``).
    as_coded : bool, default=False
        The width from the samples predicted at predict time (see above).

    Attributes
    ----------
    scaler_, qsvc_, classes_, n_qubits_, n_features_in_
        As in :class:`IQPKernelClassifier`.

    Examples
    --------
    >>> from skqml.studies.bowles2024 import load_dataset
    >>> from skqml.svm import ProjectedQuantumKernelClassifier
    >>> X_train, y_train, X_test, y_test = load_dataset("linearly_separable_2d")
    >>> clf = ProjectedQuantumKernelClassifier(C=10.0, random_state=0)
    >>> clf.fit(X_train, y_train).n_qubits_
    3
    """

    _parameter_constraints = {
        **_StudyKernelClassifier._parameter_constraints,
        "gamma_factor": [Interval(Real, 0, None, closed="neither")],
        "t": [Interval(Real, None, None, closed="neither")],
        "trotter_steps": [Interval(Integral, 1, None, closed="left")],
        "as_coded": ["boolean"],
    }

    def __init__(
        self,
        gamma_factor: float = 1.0,
        C: float = 1.0,
        t: float = 1 / 3,
        trotter_steps: int = 5,
        *,
        scaling: float = 1.0,
        probability: bool = False,
        as_coded: bool = False,
        backend="statevector",
        random_state=None,
        n_jobs: int | None = None,
        max_memory_mb: float | None = None,
    ):
        self.gamma_factor = gamma_factor
        self.C = C
        self.t = t
        self.trotter_steps = trotter_steps
        self.scaling = scaling
        self.probability = probability
        self.as_coded = as_coded
        self.backend = backend
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.max_memory_mb = max_memory_mb

    def _kernel(self, n_features, rng):
        rotations = rng.uniform(size=(n_features + 1, 3)) * 2 * pi
        embedding = HeisenbergEmbedding(
            trotter_steps=self.trotter_steps, evolution_time=self.t, rotations=rotations
        )
        return StudyProjectedKernel(
            embedding,
            gamma_factor=self.gamma_factor,
            as_coded=self.as_coded,
            **self._kernel_settings(),
        )


def _kitchen_sink_circuit(n_qubits: int) -> Circuit:
    """``RX(x_k)`` on every qubit ``k``, then CNOT on ``(0, 1), (2, 3), ...`` and on every
    ``(i, i + 2)``: the study's generalisation of Wilson et al.'s Fig. 2(c) circuit."""
    circuit = Circuit(n_qubits)
    for k in range(n_qubits):
        circuit = circuit.rx(feature(k), k)
    for i in range(0, n_qubits - 1, 2):
        circuit = circuit.cx(i, i + 1)
    for i in range(n_qubits - 2):
        circuit = circuit.cx(i, i + 2)
    return circuit


class QuantumKitchenSinks(ClassifierMixin, BaseEstimator):
    """Quantum kitchen sinks (Wilson et al. 2018), as in Bowles et al. (2024).

    Random quantum features for a linear model. The features are scaled to ``[-1, 1]``
    (a ``MinMaxScaler`` fitted on the training set, then ``scaling``). Each of
    ``n_episodes`` episodes has a fixed random affine map ``x -> omega x + beta``
    (``omega`` Gaussian of variance ``var``, of shape ``(n_qubits, n_features)``; ``beta``
    uniform in ``[0, 2 pi)``) whose outputs are the angles of ``RX`` gates on the qubits,
    followed by CNOTs on ``(0, 1), (2, 3), ...`` and on every ``(i, i + 2)``; one shot of
    the circuit gives one bit per qubit. The bits of all episodes are the features of an
    unpenalised logistic regression (the study's ``LogisticRegression(penalty=None,
    tol=1e-3)``).

    The shot of a sample in an episode is drawn from the circuit's outcome distribution on
    ``backend`` (exact probabilities, or a sampling backend's measured frequencies, so that
    on a device with one shot it is that shot) with a random number keyed by the model's
    seed and the circuit's angles: the same sample gets the same bits in fit and predict,
    whatever else is predicted with it. (The study's code draws new shots at predict time
    from a JAX key; its random maps come from JAX, so its seeds are not reproduced here.)

    Parameters
    ----------
    n_episodes : int, default=100
        Number of episodes (random circuits); ``n_episodes * n_qubits_`` binary features.
    n_qfeatures : {"full", "half"} or int, default="full"
        Qubits per circuit: one per feature, half as many (rounded up), or a number.
    var : float, default=1.0
        Variance of the entries of ``omega``.
    scaling : float, default=1.0
        Factor applied to the features after their scaling to ``[-1, 1]``.
    backend : str, Backend or None, default="statevector"
        Where the circuits run.
    random_state : int or None, default=None
        Seeds the random maps and the shots.
    max_memory_mb : float, default=None
        Memory budget of the simulation (MiB); episodes are run in chunks within it.

    Attributes
    ----------
    scaler_ : MinMaxScaler
        The scaling to ``[-1, 1]``, fitted on the training set.
    omegas_ : ndarray of shape (n_episodes, n_qubits, n_features)
    betas_ : ndarray of shape (n_episodes, n_qubits)
        The random affine maps of the episodes.
    linear_model_ : LogisticRegression
        The fitted linear model on the bits.
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_qubits_ : int
        Qubits per circuit.
    n_features_in_ : int
        Number of features seen in fit.

    Examples
    --------
    >>> from skqml.studies.bowles2024 import load_dataset
    >>> from skqml.svm import QuantumKitchenSinks
    >>> X_train, y_train, X_test, y_test = load_dataset("linearly_separable_2d")
    >>> clf = QuantumKitchenSinks(n_episodes=50, random_state=0).fit(X_train, y_train)
    >>> clf.n_qubits_, bool(clf.score(X_test, y_test) > 0.8)
    (2, True)
    """

    _parameter_constraints: dict = {
        "n_episodes": [Interval(Integral, 1, None, closed="left")],
        "n_qfeatures": [StrOptions({"full", "half"}), Interval(Integral, 1, None, closed="left")],
        "var": [Interval(Real, 0, None, closed="neither")],
        "scaling": [Interval(Real, 0, None, closed="neither")],
        "backend": BACKEND_CONSTRAINT,
        "random_state": [None, Interval(Integral, 0, None, closed="left")],
        "max_memory_mb": MAX_MEMORY_MB_CONSTRAINT,
    }

    def __init__(
        self,
        n_episodes: int = 100,
        n_qfeatures="full",
        var: float = 1.0,
        *,
        scaling: float = 1.0,
        backend="statevector",
        random_state: int | None = None,
        max_memory_mb: float | None = None,
    ):
        self.n_episodes = n_episodes
        self.n_qfeatures = n_qfeatures
        self.var = var
        self.scaling = scaling
        self.backend = backend
        self.random_state = random_state
        self.max_memory_mb = max_memory_mb

    def _n_qubits(self, n_features: int) -> int:
        if self.n_qfeatures == "full":
            return n_features
        if self.n_qfeatures == "half":
            return -(-n_features // 2)
        return int(self.n_qfeatures)

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Draw the random maps, compute the training set's bits and fit the linear model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        self
            The fitted estimator. If fitting fails, it is left as it was before the call.
        """
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        n_qubits = self._n_qubits(X.shape[1])
        rng = np.random.default_rng(self.random_state)
        omegas = rng.normal(size=(self.n_episodes, n_qubits, X.shape[1])) * np.sqrt(self.var)
        betas = 2 * pi * rng.uniform(size=(self.n_episodes, n_qubits))
        # The root of the shots' random numbers: fixed at fit, so predict draws alike.
        shot_seed = int(rng.integers(2**63))
        scaler = MinMaxScaler(feature_range=(-1, 1)).fit(X)
        backend = resolve_backend(self.backend)
        bits = _kitchen_sink_bits(
            backend, scaler.transform(X) * self.scaling, omegas, betas, shot_seed,
            self.max_memory_mb,
        )  # fmt: skip
        # Unpenalised (the study's penalty=None, spelt C=inf since scikit-learn 1.8).
        linear_model = LogisticRegression(C=np.inf, tol=1e-3).fit(bits, y)
        set_fitted(
            self,
            {
                "scaler_": scaler,
                "omegas_": omegas,
                "betas_": betas,
                "linear_model_": linear_model,
                "classes_": linear_model.classes_,
                "n_qubits_": n_qubits,
                "backend_": backend,
                "_shot_seed": shot_seed,
            },
        )
        return self

    def quantum_features(self, X) -> np.ndarray:
        """The binary quantum features of ``X``: ``n_episodes * n_qubits_`` bits per sample
        (episode-major, qubit-minor).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples, with the features seen in fit.

        Returns
        -------
        bits : ndarray of shape (n_samples, n_episodes * n_qubits)
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return _kitchen_sink_bits(
            self.backend_, self.scaler_.transform(X) * self.scaling, self.omegas_,
            self.betas_, self._shot_seed, self.max_memory_mb,
        )  # fmt: skip

    def decision_function(self, X) -> np.ndarray:
        """The linear model's decision values on the quantum features.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        decision : ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        bits = self.quantum_features(X)  # checks that the model is fitted first
        return self.linear_model_.decision_function(bits)

    def predict(self, X) -> np.ndarray:
        """Predicted class labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        bits = self.quantum_features(X)  # checks that the model is fitted first
        return self.linear_model_.predict(bits)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities of the logistic regression.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        bits = self.quantum_features(X)  # checks that the model is fitted first
        return self.linear_model_.predict_proba(bits)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags


def _kitchen_sink_bits(backend, X, omegas, betas, shot_seed, max_memory_mb) -> np.ndarray:
    """One shot per sample and episode, as bits (n_samples, n_episodes * n_qubits)."""
    n_episodes, n_qubits, _ = omegas.shape
    n = X.shape[0]
    circuit = _kitchen_sink_circuit(n_qubits)
    held = 8.0 * n * n_episodes * n_qubits
    # A row (sample, episode): its outcome probabilities and their cumulative sums, in half
    # the budget; the backend simulates them in what is left.
    per_episode = 2 * 8.0 * 2**n_qubits * max(n, 1)
    episodes = rows_per_chunk(
        per_episode, max_memory_mb, what="quantum kitchen sinks", n_qubits=n_qubits,
        fixed_bytes=held, share=0.5,
    )  # fmt: skip
    bits = np.empty((n, n_episodes, n_qubits))
    for start in range(0, n_episodes, episodes):
        stop = min(start + episodes, n_episodes)
        # Angles (episode, sample, qubit): omega_e x + beta_e.
        angles = np.einsum("eqf,nf->enq", omegas[start:stop], X) + betas[start:stop, None, :]
        angles = angles.reshape(-1, n_qubits)
        left = remaining_budget_mb(
            max_memory_mb, held + (stop - start) * per_episode, "quantum kitchen sinks"
        )
        probs = backend.probabilities(circuit, angles, max_memory_mb=left)
        # One uniform per row, keyed by the seed and the row's angles (which identify the
        # sample and the episode): inverse-CDF sampling of one outcome.
        keys = np.array(_row_keys(angles), dtype=np.uint64)[:, None]
        u = _uniforms(shot_seed, keys)
        cdf = np.cumsum(probs, axis=1)
        outcome = np.minimum((cdf < (u * cdf[:, -1])[:, None]).sum(axis=1), 2**n_qubits - 1)
        outcome_bits = (outcome[:, None] >> np.arange(n_qubits)) & 1  # qubit k is bit k
        bits[:, start:stop] = outcome_bits.reshape(stop - start, n, n_qubits).swapaxes(0, 1)
    return bits.reshape(n, n_episodes * n_qubits)
