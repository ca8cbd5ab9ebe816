"""Support vector machines on quantum kernels: thin classes over one shared base."""

from __future__ import annotations

import copy
import inspect
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import SVC, SVR
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from .._estimator import fit_context, set_fitted
from .._optim import warn_if_not_converged
from .._validation import MAX_MEMORY_MB_CONSTRAINT, N_JOBS_CONSTRAINT
from ..backends import resolve_backend
from ..backends._registry import BACKEND_CONSTRAINT
from ..circuits import FeatureMap
from ..kernels import (
    FidelityQuantumKernel,
    ProjectedQuantumKernel,
    QuantumKernel,
    kernel_alignment,
)
from ..kernels._alignment import train_alignment
from ..kernels._mitigation import METHODS
from ..kernels._quantum_kernel import GAMMA_RULES

# C="scale" at the median rule's bandwidth: higher than SVC's default of 1, because there a
# quantum kernel is wider than SVC's RBF kernel (the median training pair near k = exp(-1)
# rather than exp(-2)) and its spectrum decays faster (Canatar et al. 2022).
SCALE_C = 10.0

__all__ = ["QSVC", "QSVR"]


def probability_enabled(estimator) -> bool:
    """The ``available_if`` check of ``predict_proba``: only with ``probability=True``."""
    if not estimator.probability:
        raise AttributeError("predict_proba is available only with probability=True")
    return True


def _keep_rows(embedding: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The rows ``rows`` of ``embedding`` (in ascending order), without a second copy.

    The training states can be most of the memory budget: copying the support vectors out
    would hold them twice. Instead they are moved to the front in place (ascending, so a row
    is read before it is overwritten) and the array is shrunk, which gives the rest back.
    """
    order = np.sort(np.asarray(rows))
    if not (embedding.flags.owndata and embedding.flags.c_contiguous):
        return embedding[order]
    for position, row in enumerate(order):
        if position != row:
            embedding[position] = embedding[row]
    embedding.resize((len(order), *embedding.shape[1:]), refcheck=False)
    return embedding


class _QuantumSVM(BaseEstimator):
    """Shared logic: resolve the kernel, embed the training set, fit a precomputed-kernel SVM.

    Only the support vectors' embeddings are kept after ``fit``, so ``predict`` simulates the
    new samples and compares them with the support vectors only.

    ``fit`` computes every fitted attribute into locals and assigns them together at the end
    (and ``fit_context`` restores the previous state on any error): a failed fit leaves a
    fresh estimator unfitted and a fitted one with its previous model.
    """

    _parameter_constraints: dict = {
        "feature_map": [None, HasMethods(["build", "get_params"])],
        "kernel": [StrOptions({"fidelity", "projected"}), QuantumKernel],
        "backend": BACKEND_CONSTRAINT,
        "bandwidth": [Interval(Real, 0, None, closed="neither"), StrOptions({"scale"})],
        "gamma": [StrOptions(set(GAMMA_RULES)), Interval(Real, 0, None, closed="neither")],
        "C": [Interval(Real, 0, None, closed="neither"), StrOptions({"scale"})],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, -1, None, closed="left")],
        "n_jobs": N_JOBS_CONSTRAINT,
        "max_memory_mb": MAX_MEMORY_MB_CONSTRAINT,
        "mitigation": [None, StrOptions(set(METHODS))],
        "kernel_training": [None, StrOptions({"alignment"})],
        "kernel_training_optimizer": [StrOptions({"auto", "lbfgs", "adam"})],
        "kernel_training_max_iter": [Interval(Integral, 1, None, closed="left")],
        "kernel_training_learning_rate": [Interval(Real, 0, None, closed="neither")],
        "kernel_training_tol": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    # How kernel training reads the targets (see kernel_alignment's task).
    _alignment_task = "classification"

    def _make_svm(self, C: float):  # pragma: no cover - abstract
        raise NotImplementedError

    def _resolve_kernel(self) -> QuantumKernel:
        """A new kernel for this fit: the kernel object cloned, or one built from the settings.

        A string ``kernel`` is built with the SVM's ``feature_map``, ``backend``,
        ``bandwidth``, ``gamma``, ``mitigation``, ``n_jobs`` and ``max_memory_mb``.
        """
        name = type(self).__name__
        if isinstance(self.kernel, QuantumKernel):
            if self.feature_map is not None:
                raise ValueError(
                    f"{name}: pass the feature map inside the kernel object "
                    f"(kernel={type(self.kernel).__name__}(feature_map=...)), not both "
                    "feature_map= and a kernel object"
                )
            # The kernel object carries its own settings; the same settings given to the SVM
            # as well would be silently ignored.
            defaults = _init_defaults(type(self))
            clashes = [
                setting
                for setting in (
                    "backend",
                    "bandwidth",
                    "gamma",
                    "mitigation",
                    "n_jobs",
                    "max_memory_mb",
                )
                if setting in defaults
                and not _same_setting(setting, getattr(self, setting), defaults[setting])
            ]
            if clashes:
                raise ValueError(
                    f"{', '.join(clashes)} must be set on the kernel object, not on "
                    f"{name}, when kernel= is a kernel object"
                )
            kernel = clone(self.kernel)
            if self.verbose and "verbose" in kernel.get_params(deep=False):
                # An output setting, not part of the model: the SVM's verbose reaches the
                # (cloned) kernel object too, unless the kernel's own is higher.
                kernel.set_params(verbose=max(self.verbose, kernel.verbose))
            return kernel
        common = dict(
            backend=self.backend,
            bandwidth=self.bandwidth,
            n_jobs=self.n_jobs,
            max_memory_mb=self.max_memory_mb,
            verbose=self.verbose,
        )
        if self.feature_map is not None and not isinstance(self.feature_map, FeatureMap):
            raise TypeError(
                f"{name}'s feature_map must be a skqml FeatureMap (e.g. ZZFeatureMap()) or "
                f"None, got {self.feature_map!r}"
            )
        fm = None if self.feature_map is None else clone(self.feature_map)
        if self.kernel == "projected":
            return ProjectedQuantumKernel(fm, gamma=self.gamma, **common)
        return FidelityQuantumKernel(fm, mitigation=self.mitigation, **common)

    def _fit_svm(self, X, y, sample_weight) -> tuple[dict, np.ndarray]:
        """The fitted attributes shared by QSVC and QSVR, and the training Gram matrix.

        Nothing is assigned to ``self`` here: the caller sets all fitted attributes at once
        with :func:`~skqml._estimator.set_fitted` when every step has succeeded.
        """
        # Cheap checks first: simulation is the expensive part.
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X)
            if not np.any(sample_weight > 0):
                raise ValueError(
                    f"{type(self).__name__}: sample weights must contain at least one "
                    "positive weight"
                )
        kernel = self._with_initial_weights(self._resolve_kernel(), X.shape[1])
        kernel, median_rule = kernel.with_fixed_bandwidth(X, return_median_rule=True)
        backend = resolve_backend(kernel.backend)
        history = None
        if self.kernel_training is not None:
            kernel, history = self._train_kernel(kernel, X, y)
        C = self._resolved_C(kernel, median_rule)
        circuit = kernel.circuit(X.shape[1])
        embedding = kernel.embed(X)
        kernel = kernel.bind_training(embedding)
        gram = kernel.gram(embedding)
        svm = self._make_svm(C).fit(gram, y, sample_weight=sample_weight)
        training = {}
        if history is not None:
            training = {
                "kernel_alignment_": kernel_alignment(gram, y, task=self._alignment_task),
                "kernel_training_curve_": [-loss for loss in history.loss_curve],
            }
        fitted = {
            **training,
            "kernel_": kernel,
            "bandwidth_": kernel.bandwidth,
            "C_": C,
            "backend_": backend,
            "circuit_": circuit,
            "n_qubits_": circuit.n_qubits,
            "svm_": svm,
            "n_train_samples_": X.shape[0],
            "support_embedding_": _keep_rows(embedding, svm.support_),
        }
        return fitted, gram

    def _resolved_C(self, kernel: QuantumKernel, median_rule: float | None) -> float:
        """``C`` as a number: ``"scale"`` is ``SCALE_C``, times ``(median_rule /
        bandwidth)**2`` for a fidelity kernel whose ``"scale"`` bandwidth the fold cap
        lowered below the median rule.

        For a small bandwidth ``b`` a fidelity kernel is ``1 - b**2 q``: its constant part
        does not change the SVM (the dual's equality constraint removes it) and scaling its
        varying part by ``s`` is the same SVM as scaling ``C`` by ``s``. A cap that lowers
        ``b`` by a factor ``r`` therefore regularises ``1 / r**2`` times more than the median
        rule intends; ``C`` gives that back. A numeric bandwidth, a trained kernel and the
        projected kernel (whose ``gamma`` rescales it) keep ``SCALE_C``.
        """
        if not isinstance(self.C, str):
            return float(self.C)
        if (
            median_rule is None
            or self.kernel_training is not None
            or not isinstance(kernel, FidelityQuantumKernel)
        ):
            return SCALE_C
        return SCALE_C * (median_rule / kernel.bandwidth) ** 2

    def _with_initial_weights(self, kernel: QuantumKernel, n_features: int) -> QuantumKernel:
        """The kernel with explicit weights when its feature map has trainable weights that
        it does not fix itself (neither ``weights`` nor ``random_state``): the feature map's
        ``initial_weights`` drawn from the SVM's ``random_state``."""
        if (
            isinstance(kernel, FidelityQuantumKernel)
            and kernel.weights is None
            and kernel.random_state is None
            and kernel.circuit(n_features).n_weights
        ):
            rng = check_random_state(self.random_state)
            kernel.set_params(weights=kernel.feature_map_().initial_weights(n_features, rng))
        return kernel

    def _train_kernel(self, kernel, X, y):
        """The kernel trained by ``kernel_training`` on ``(X, y)``, and the run's history."""
        name = type(self).__name__
        if not isinstance(kernel, FidelityQuantumKernel):
            raise ValueError(
                f"{name}(kernel_training={self.kernel_training!r}) trains the fidelity "
                f"kernel's feature-map weights and bandwidth, not {type(kernel).__name__}: "
                "use kernel='fidelity'"
            )
        trained, history = train_alignment(
            kernel,
            X,
            y,
            task=self._alignment_task,
            optimizer=self.kernel_training_optimizer,
            max_iter=self.kernel_training_max_iter,
            learning_rate=self.kernel_training_learning_rate,
            tol=self.kernel_training_tol,
            verbose=self.verbose,
        )
        warn_if_not_converged(
            history,
            f"{name} kernel training",
            self.kernel_training_max_iter,
            "raise kernel_training_max_iter or kernel_training_tol",
        )
        return trained, history

    def _test_gram(self, X) -> np.ndarray:
        X = validate_data(self, X, reset=False, dtype=np.float64)
        gram = np.zeros((X.shape[0], self.n_train_samples_))
        if X.shape[0] and len(self.svm_.support_):
            # support_embedding_ holds the support vectors in ascending training order.
            kernel = self._prediction_kernel()
            gram[:, np.sort(self.svm_.support_)] = kernel.gram(
                kernel.embed(X), self.support_embedding_
            )
        return gram

    def _prediction_kernel(self) -> QuantumKernel:
        """``kernel_`` with the SVM's current ``n_jobs`` and ``max_memory_mb``: they say how
        to compute, not what, so ``set_params`` after fit reaches predict (as it does for
        the variational models). A kernel object keeps its own settings."""
        if isinstance(self.kernel, QuantumKernel):
            return self.kernel_
        return copy.copy(self.kernel_).set_params(
            n_jobs=self.n_jobs, max_memory_mb=self.max_memory_mb
        )

    def _svm_and_gram(self, X):
        check_is_fitted(self)
        return self.svm_, self._test_gram(X)

    @property
    def n_iter_(self):
        """Number of libsvm iterations (per pair of classes for QSVC)."""
        check_is_fitted(self)
        return self.svm_.n_iter_

    @property
    def support_(self) -> np.ndarray:
        """Indices of the support vectors in the training set."""
        check_is_fitted(self)
        return self.svm_.support_

    @property
    def dual_coef_(self) -> np.ndarray:
        """Dual coefficients of the support vectors."""
        check_is_fitted(self)
        return self.svm_.dual_coef_

    @property
    def intercept_(self) -> np.ndarray:
        """Constants in the decision function."""
        check_is_fitted(self)
        return self.svm_.intercept_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags


_C_DOC = """C : float or "scale", default="scale"
        Regularisation parameter. ``"scale"`` is 10, higher than ``%(svm)s``'s default of 1: at
        the ``"scale"`` bandwidth a quantum kernel is wider than ``%(svm)s``'s RBF kernel (the
        median training pair near ``k = exp(-1)`` rather than ``exp(-2)``) and its spectrum
        decays faster (Canatar et al. 2022), so weaker regularisation is needed to use it.
        Where the bandwidth's fold cap lowered a fidelity kernel's bandwidth ``b`` below the
        median rule ``b_m`` (few features, or features of unequal ranges), ``"scale"`` is
        ``10 * (b_m / b)**2``, which gives back the regularisation the cap added (see
        :doc:`/real_data`). The value used is ``C_``. A number is used as it is."""

_KERNEL_DOC = """
    feature_map : FeatureMap, default=None
        Encoding circuit for string kernels; ``None`` means the kernel's default
        (``ZZFeatureMap()`` for ``"fidelity"``, ``HeisenbergEmbedding()`` for ``"projected"``).
    kernel : {"fidelity", "projected"} or QuantumKernel, default="fidelity"
        Which quantum kernel. A kernel object is used as it is (cloned); ``feature_map``,
        ``backend``, ``bandwidth``, ``gamma``, ``mitigation``, ``n_jobs`` and
        ``max_memory_mb`` then belong inside it.
    backend : str, Backend or None, default="statevector"
        Where the circuits run (a hyperparameter like any other); ``None`` means the default
        exact ``"statevector"`` backend, as everywhere in skqml.
    bandwidth : float or "scale", default="scale"
        Features are multiplied by it before encoding. ``"scale"`` chooses it from the
        training data at fit, like ``SVC(gamma="scale")`` (the median heuristic in the
        kernel's own metric; see :ref:`the kernels page <bandwidth-scale>`); the value used is
        ``bandwidth_``. A number keeps the features as scaled by the user (``1.0``: as they
        come, the setting of published feature maps such as Havlicek et al.'s).
    gamma : float, "scale" or "bowles2024", default="scale"
        Width of the projected kernel (unused by ``"fidelity"``): ``"scale"`` is
        ``1 / sum_j Var(a_j)`` over the training set's Bloch-vector entries ``a_j``
        (sklearn's ``gamma="scale"`` on centred inputs), ``"bowles2024"`` the scaling of
        Bowles et al. (2024); both are fixed on the training set at fit.
    mitigation : {"single", "average", "split_channel"} or None, default=None
        Depolarizing-noise mitigation of the fidelity kernel's Gram matrices on a non-exact
        backend (unused by ``"projected"``, a no-op on exact backends); the noise rate is
        estimated on the training set at fit. See
        :class:`~skqml.kernels.FidelityQuantumKernel`.
    kernel_training : {"alignment"} or None, default=None
        Train the fidelity kernel before the SVM: ``"alignment"`` maximises the centered
        kernel-target alignment (:func:`~skqml.kernels.kernel_alignment`) of the training
        Gram matrix over the feature map's trainable weights (a trainable embedding such as
        :class:`~skqml.circuits.HubregtsenEmbedding`; Hubregtsen et al. 2022) and
        ``log(bandwidth)``, starting from the kernel's weights (or the feature map's
        ``initial_weights`` drawn from ``random_state``) and from the ``"scale"`` value or
        the given bandwidth. Gradients are exact on exact backends; on sampling backends
        (shots, noise, Qiskit, PennyLane) the training Gram matrix is estimated from
        overlap circuits and differentiated by the parameter-shift rule, which runs each
        pair's circuit twice (four times for controlled rotations) per gate occurrence of
        a weight or of the bandwidth. The trained weights and bandwidth are in ``kernel_``
        and ``bandwidth_``. ``None``: the kernel as it is.
    kernel_training_optimizer : {"auto", "lbfgs", "adam"}, default="auto"
        Optimiser of the kernel training: L-BFGS-B, or Adam (full batch). ``"auto"``:
        L-BFGS-B on an exact backend, Adam on a sampling one (L-BFGS-B's line search
        needs exact values).
    kernel_training_max_iter : int, default=50
        Maximum number of iterations of the kernel training.
    kernel_training_learning_rate : float, default=0.05
        Adam's step size (unused by L-BFGS-B).
    kernel_training_tol : float, default=1e-5
        L-BFGS-B's projected-gradient tolerance; for Adam, the alignment improvement below
        which an iteration does not count (10 such iterations in a row stop it).
"""


class QSVC(ClassifierMixin, _QuantumSVM):
    """Support vector classifier on a quantum kernel.

    sklearn's :class:`~sklearn.svm.SVC` on the Gram matrix of a quantum kernel: exact state
    overlaps on the ``"statevector"`` backend. Multi-class problems are handled one-vs-one
    inside libsvm, as in ``SVC``.

    Parameters
    ----------%(kernel_doc)s
    %(C_doc)s
    class_weight : dict or "balanced", default=None
        As in :class:`~sklearn.svm.SVC`.
    probability : bool, default=False
        Enable ``predict_proba``: Platt scaling fitted on 5-fold cross-validated decision
        values (``CalibratedClassifierCV(ensemble=False)``), folds shuffled by
        ``random_state``.
    tol : float, default=1e-3
        Stopping tolerance of libsvm.
    max_iter : int, default=-1
        Iteration limit of libsvm (-1: none).
    decision_function_shape : {"ovr", "ovo"}, default="ovr"
        As in :class:`~sklearn.svm.SVC`.
    break_ties : bool, default=True
        With ``"ovr"`` and more than two classes, break one-vs-one voting ties by the
        decision values, so that ``predict`` always equals the argmax of
        ``decision_function`` (sklearn's ``SVC`` defaults to False).
    random_state : int, RandomState instance or None, default=None
        Seed of the probability calibration, and of the initial weights of a trainable
        feature map (unless the kernel object sets ``weights`` or ``random_state``).
    n_jobs : int, default=None
        Parallel jobs for the kernel (simulation and Gram blocks): ``None`` or 1 for one,
        ``-1`` for all cores; 0 is refused, as in scikit-learn.
    max_memory_mb : float, default=None
        Memory budget of the simulation; default half the available memory.
    verbose : int, default=0
        Print the kernel's progress (Gram-matrix blocks, rate, time left) to stdout; ``0``
        is silent. With a kernel object, a non-zero value here applies to it as well.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    kernel_ : QuantumKernel
        The fitted kernel.
    bandwidth_ : float
        The bandwidth used (``bandwidth="scale"`` resolved on the training data).
    C_ : float
        The regularisation parameter used (``C="scale"`` resolved on the training data).
    backend_ : Backend
        The resolved backend.
    circuit_ : Circuit
        The encoding circuit.
    n_qubits_ : int
        Number of qubits of the circuit.
    svm_ : SVC
        The underlying SVC on the precomputed Gram matrix.
    calibrated_ : CalibratedClassifierCV
        Probability calibration (only with ``probability=True``).
    support_embedding_ : ndarray
        Quantum representation of the support vectors: states or Bloch vectors on exact
        backends, the (scaled) features on sampling backends; in ascending training order.
    kernel_alignment_ : float
        Centered alignment of the trained kernel's training Gram matrix with the labels
        (only with ``kernel_training``).
    kernel_training_curve_ : list of float
        Alignment of each iteration of the kernel training, as the optimiser reports it
        (L-BFGS-B: at the iterate; Adam: before the iteration's step); only with
        ``kernel_training``.
    n_features_in_ : int
        Number of features seen in fit.

    Examples
    --------
    On standardised data the defaults choose the bandwidth from the training set:

    >>> from sklearn.datasets import load_iris
    >>> from sklearn.model_selection import cross_val_score
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skqml.svm import QSVC
    >>> X, y = load_iris(return_X_y=True)
    >>> model = make_pipeline(StandardScaler(), QSVC())
    >>> round(float(cross_val_score(model, X, y, cv=5).mean()), 3)
    0.96
    >>> clf = model.fit(X, y)[-1]
    >>> clf.n_qubits_, round(clf.bandwidth_, 3), round(clf.C_, 1)
    (4, 0.046, 15.7)

    Data already scaled to the angles a feature map is defined on keep them with a number:

    >>> from skqml.datasets import make_ad_hoc
    >>> X, y = make_ad_hoc(n_samples=40, random_state=0)
    >>> QSVC(bandwidth=1.0).fit(X, y).score(X, y)
    1.0

    A trainable embedding, trained by kernel-target alignment before the SVM:

    >>> from skqml.circuits import HubregtsenEmbedding
    >>> from sklearn.datasets import make_moons
    >>> X, y = make_moons(30, noise=0.1, random_state=0)
    >>> clf = QSVC(
    ...     HubregtsenEmbedding(n_layers=2), kernel_training="alignment", random_state=0
    ... ).fit(X, y)
    >>> bool(clf.kernel_alignment_ > clf.kernel_training_curve_[0] - 1e-12)
    True
    """

    _parameter_constraints = {
        **_QuantumSVM._parameter_constraints,
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "probability": ["boolean"],
        "decision_function_shape": [StrOptions({"ovr", "ovo"})],
        "break_ties": ["boolean"],
    }

    def __init__(
        self,
        feature_map: FeatureMap | None = None,
        *,
        kernel="fidelity",
        backend="statevector",
        bandwidth: float | str = "scale",
        gamma: float | str = "scale",
        mitigation: str | None = None,
        kernel_training: str | None = None,
        kernel_training_optimizer: str = "auto",
        kernel_training_max_iter: int = 50,
        kernel_training_learning_rate: float = 0.05,
        kernel_training_tol: float = 1e-5,
        C: float | str = "scale",
        class_weight=None,
        probability: bool = False,
        tol: float = 1e-3,
        max_iter: int = -1,
        decision_function_shape: str = "ovr",
        break_ties: bool = True,
        random_state=None,
        n_jobs: int | None = None,
        max_memory_mb: float | None = None,
        verbose: int = 0,
    ):
        self.feature_map = feature_map
        self.kernel = kernel
        self.backend = backend
        self.bandwidth = bandwidth
        self.gamma = gamma
        self.mitigation = mitigation
        self.kernel_training = kernel_training
        self.kernel_training_optimizer = kernel_training_optimizer
        self.kernel_training_max_iter = kernel_training_max_iter
        self.kernel_training_learning_rate = kernel_training_learning_rate
        self.kernel_training_tol = kernel_training_tol
        self.C = C
        self.class_weight = class_weight
        self.probability = probability
        self.tol = tol
        self.max_iter = max_iter
        self.decision_function_shape = decision_function_shape
        self.break_ties = break_ties
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.max_memory_mb = max_memory_mb
        self.verbose = verbose

    def _make_svm(self, C: float) -> SVC:
        return SVC(
            kernel="precomputed",
            C=C,
            class_weight=self.class_weight,
            tol=self.tol,
            max_iter=self.max_iter,
            decision_function_shape=self.decision_function_shape,
            break_ties=bool(self.break_ties) and self.decision_function_shape == "ovr",
            random_state=self.random_state,
        )

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None) -> QSVC:
        """Fit the SVM on the quantum Gram matrix of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights, as in :class:`~sklearn.svm.SVC`.

        Returns
        -------
        self : QSVC
            The fitted estimator. If fitting fails, the estimator is left as it was before the
            call (unfitted, or with its previous model).
        """
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        fitted, gram = self._fit_svm(X, y, sample_weight)
        fitted["classes_"] = fitted["svm_"].classes_
        if self.probability:
            fitted["calibrated_"] = self._fit_calibration(fitted["svm_"], gram, y, sample_weight)
        # Without probability=True, a calibration from an earlier fit would describe
        # another model.
        set_fitted(self, fitted, stale=("calibrated_", *_TRAINING_ATTRIBUTES))
        return self

    def _fit_calibration(self, svm, gram, y, sample_weight):
        # Platt scaling on cross-validated decision values (what SVC(probability=True) did,
        # and what sklearn now recommends instead of it), on the same training Gram matrix.
        counts = np.unique(y, return_counts=True)[1]
        if counts.min() < 2:
            raise ValueError(
                f"{type(self).__name__}(probability=True) needs at least 2 samples of every "
                "class for its cross-validated calibration; add samples or set "
                "probability=False"
            )
        cv = StratifiedKFold(min(5, counts.min()), shuffle=True, random_state=self.random_state)
        calibrated = CalibratedClassifierCV(clone(svm), ensemble=False, cv=cv)
        return calibrated.fit(gram, y, sample_weight=sample_weight)

    def decision_function(self, X) -> np.ndarray:
        """Signed distance to the separating hyperplane(s), as :meth:`SVC.decision_function`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples, with the features seen in fit.

        Returns
        -------
        decision : ndarray of shape (n_samples,) or (n_samples, n_columns)
            For two classes one value per sample, positive for ``classes_[1]``; otherwise one
            column per class (``"ovr"``) or per pair of classes (``"ovo"``).
        """
        svm, gram = self._svm_and_gram(X)
        return svm.decision_function(gram)

    def predict(self, X) -> np.ndarray:
        """Predicted class labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples, with the features seen in fit.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        svm, gram = self._svm_and_gram(X)
        return svm.predict(gram)

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
            Probabilities of the classes in the order of ``classes_``; rows sum to one.
        """
        _, gram = self._svm_and_gram(X)
        return self.calibrated_.predict_proba(gram)

    @available_if(probability_enabled)
    def predict_log_proba(self, X) -> np.ndarray:
        """Log of :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples, with the features seen in fit.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities of the classes in the order of ``classes_``.
        """
        return np.log(self.predict_proba(X))


class QSVR(RegressorMixin, _QuantumSVM):
    """Support vector regression on a quantum kernel.

    sklearn's :class:`~sklearn.svm.SVR` on the Gram matrix of a quantum kernel.

    Parameters
    ----------%(kernel_doc)s
    %(C_doc)s
    epsilon : float, default=0.1
        Width of the epsilon-insensitive tube.
    tol : float, default=1e-3
        Stopping tolerance of libsvm.
    max_iter : int, default=-1
        Iteration limit of libsvm (-1: none).
    random_state : int, RandomState instance or None, default=None
        Seed of the initial weights of a trainable feature map (unless the kernel object
        sets ``weights`` or ``random_state``).
    n_jobs : int, default=None
        Parallel jobs for the kernel: ``None`` or 1 for one, ``-1`` for all cores; 0 is
        refused, as in scikit-learn.
    max_memory_mb : float, default=None
        Memory budget of the simulation in MiB; default half the available memory.
    verbose : int, default=0
        Print the kernel's progress (Gram-matrix blocks, rate, time left) to stdout; ``0``
        is silent. With a kernel object, a non-zero value here applies to it as well.

    Attributes
    ----------
    kernel_ : QuantumKernel
        The fitted kernel.
    bandwidth_ : float
        The bandwidth used (``bandwidth="scale"`` resolved on the training data).
    C_ : float
        The regularisation parameter used (``C="scale"`` resolved on the training data).
    backend_ : Backend
        The resolved backend.
    circuit_ : Circuit
        The encoding circuit.
    n_qubits_ : int
        Number of qubits of the circuit.
    svm_ : SVR
        The underlying SVR on the precomputed Gram matrix.
    kernel_alignment_ : float
        Centered alignment of the trained kernel's training Gram matrix with the
        standardised targets (only with ``kernel_training``).
    kernel_training_curve_ : list of float
        Alignment of each iteration of the kernel training, as the optimiser reports it
        (L-BFGS-B: at the iterate; Adam: before the iteration's step); only with
        ``kernel_training``.
    n_features_in_ : int
        Number of features seen in fit.

    Examples
    --------
    >>> import numpy as np
    >>> from skqml.svm import QSVR
    >>> X = np.linspace(0, np.pi, 20).reshape(-1, 1)
    >>> from skqml.circuits import AngleEmbedding
    >>> reg = QSVR(AngleEmbedding(), C=10.0, epsilon=0.01).fit(X, np.cos(X).ravel())
    >>> round(reg.score(X, np.cos(X).ravel()), 2)
    1.0
    """

    _parameter_constraints = {
        **_QuantumSVM._parameter_constraints,
        "epsilon": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        feature_map: FeatureMap | None = None,
        *,
        kernel="fidelity",
        backend="statevector",
        bandwidth: float | str = "scale",
        gamma: float | str = "scale",
        mitigation: str | None = None,
        kernel_training: str | None = None,
        kernel_training_optimizer: str = "auto",
        kernel_training_max_iter: int = 50,
        kernel_training_learning_rate: float = 0.05,
        kernel_training_tol: float = 1e-5,
        C: float | str = "scale",
        epsilon: float = 0.1,
        tol: float = 1e-3,
        max_iter: int = -1,
        random_state=None,
        n_jobs: int | None = None,
        max_memory_mb: float | None = None,
        verbose: int = 0,
    ):
        self.feature_map = feature_map
        self.kernel = kernel
        self.backend = backend
        self.bandwidth = bandwidth
        self.gamma = gamma
        self.mitigation = mitigation
        self.kernel_training = kernel_training
        self.kernel_training_optimizer = kernel_training_optimizer
        self.kernel_training_max_iter = kernel_training_max_iter
        self.kernel_training_learning_rate = kernel_training_learning_rate
        self.kernel_training_tol = kernel_training_tol
        self.C = C
        self.epsilon = epsilon
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.max_memory_mb = max_memory_mb
        self.verbose = verbose

    _alignment_task = "regression"

    def _make_svm(self, C: float) -> SVR:
        return SVR(
            kernel="precomputed",
            C=C,
            epsilon=self.epsilon,
            tol=self.tol,
            max_iter=self.max_iter,
        )

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None) -> QSVR:
        """Fit the SVR on the quantum Gram matrix of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights.

        Returns
        -------
        self : QSVR
            The fitted estimator. If fitting fails, the estimator is left as it was before the
            call (unfitted, or with its previous model).
        """
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True)
        fitted, _ = self._fit_svm(X, y, sample_weight)
        set_fitted(self, fitted, stale=_TRAINING_ATTRIBUTES)
        return self

    def predict(self, X) -> np.ndarray:
        """Predicted targets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples, with the features seen in fit.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted values.
        """
        svm, gram = self._svm_and_gram(X)
        return svm.predict(gram)


QSVC.__doc__ = QSVC.__doc__ % {"kernel_doc": _KERNEL_DOC, "C_doc": _C_DOC % {"svm": "SVC"}}
QSVR.__doc__ = QSVR.__doc__ % {"kernel_doc": _KERNEL_DOC, "C_doc": _C_DOC % {"svm": "SVR"}}


# Fitted attributes of kernel training: dropped by a fit without it.
_TRAINING_ATTRIBUTES = ("kernel_alignment_", "kernel_training_curve_")


def _init_defaults(cls) -> dict:
    """Constructor parameter -> default value."""
    return {k: v.default for k, v in inspect.signature(cls.__init__).parameters.items()}


def _same_setting(name: str, value, default) -> bool:
    """Whether an SVM kernel setting still has its default (so a kernel object may own it)."""
    if name == "backend" and value is None:
        return True  # None means the default backend, as everywhere
    if _is_number(value) and _is_number(default):
        return bool(value == default)  # np.float64(1.0) is the default 1.0, as 1 is
    return type(value) is type(default) and value == default


def _is_number(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool | np.bool_)
