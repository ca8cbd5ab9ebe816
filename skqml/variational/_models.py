"""Variational quantum classifiers and regressors.

A model is a feature-map circuit followed by a trainable ansatz; its outputs are the
expectation values ``E`` of Pauli observables (default: Z on every qubit), mapped to the
outputs by a trainable affine read-out ``E @ W + b``: logits for classifiers (sigmoid or
softmax), predictions for regressors. All parameters (circuit weights, ``W``, ``b``) are
trained together by minimising cross-entropy or squared error plus an L2 penalty on ``W``.

Features are rotation angles: by default the circuit reads them standardised with the
training mean and standard deviation and scaled to a fixed angle per standard deviation
(``angle_scale``), the rewrite being part of the fitted circuit's angles. Exact backends train
with full-batch L-BFGS-B by default, sampling backends with Adam.

Gradients on the exact backend come from the adjoint method (all weights in about three
forward passes, for the whole batch); on other backends from the parameter-shift rule through
the backend's expectation values, or from SPSA when ``optimizer="spsa"``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from math import pi
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import check_is_fitted, validate_data

from .._estimator import fit_context, set_fitted
from .._optim import Adam, History, optimize, warn_if_not_converged
from .._parallel import CONCURRENT_BLOCKS, block_slices, even_block, map_blocks, n_workers
from .._validation import (
    MAX_MEMORY_MB_CONSTRAINT,
    N_JOBS_CONSTRAINT,
    check_pauli_label,
    check_real,
)
from ..backends import Backend, resolve_backend
from ..backends._registry import BACKEND_CONSTRAINT
from ..circuits import (
    Angle,
    AngleEmbedding,
    Circuit,
    DataReuploading,
    Operation,
    RealAmplitudes,
    Term,
)
from ..circuits._ansatzes import build_ansatz
from ..simulator import expectation_vjp, expectations, parameter_shift_vjp
from ..simulator._adjoint import adjoint_rows
from ..simulator._memory import resolve_max_memory_mb

__all__ = ["VQC", "VQR", "DataReuploadingClassifier", "SeparableDataReuploadingClassifier"]


def _z_labels(n_qubits: int) -> list[str]:
    """``Z_q`` for every qubit ``q``, as Pauli labels (rightmost character on qubit 0)."""
    return ["I" * (n_qubits - 1 - q) + "Z" + "I" * q for q in range(n_qubits)]


def _check_observables(observables, n_qubits: int) -> tuple[list[dict], list[str], np.ndarray]:
    """Observables as Pauli sums, the distinct Pauli strings, and the coefficient matrix.

    Each observable is a Pauli string or a Pauli sum ``{label: coefficient}``. Returns the
    sums (``[{label: coeff}]``), the distinct labels ``L`` and ``C`` of shape
    ``(n_observables, len(L))`` with ``<O_k> = sum_l C[k, l] <P_l>``.
    """
    if observables is None:
        observables = _z_labels(n_qubits)
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
            coeff = check_real(coeff, f"coefficient of observable {label!r}")
            key = check_pauli_label(label, n_qubits, name="observable")
            total[key] = total.get(key, 0.0) + coeff
        sums.append(total)
    labels = sorted({label for total in sums for label in total})
    C = np.array([[total.get(label, 0.0) for label in labels] for total in sums])
    return sums, labels, C


# Rows per block of a batched gradient: 2**19 amplitudes (8 MiB of states), so that a large
# batch makes several blocks for n_jobs (VQC on 14 qubits and 400 samples: 13 blocks) while
# a small circuit's batch stays one block. At most CONCURRENT_BLOCKS blocks run at once.
_GRADIENT_BLOCK_AMPLITUDES = 2**19


def _gradient_block_rows(n_qubits: int) -> int:
    return max(1, _GRADIENT_BLOCK_AMPLITUDES >> n_qubits)


def _gradient_block_budget(circuit, max_memory_mb, block_rows: int, n_blocks: int):
    """How many gradient blocks may run at once, and the budget (MiB) of each.

    Up to ``CONCURRENT_BLOCKS`` whole blocks that fit the budget together, at
    least one: a number fixed by the circuit, the budget and the blocks, never by
    ``n_jobs``, so that the simulator cuts each block the same way for every ``n_jobs``.
    """
    budget = resolve_max_memory_mb(max_memory_mb)
    fit = adjoint_rows(circuit, budget) // block_rows
    concurrent = max(1, min(CONCURRENT_BLOCKS, n_blocks, fit))
    return concurrent, budget / concurrent


def _training_rng(random_state) -> np.random.Generator:
    """The generator of one fit, from an int, None or a ``RandomState`` (``random_state``).

    An int (or None) seeds a NumPy ``Generator``, so an int gives the same fit every time. A
    ``RandomState`` instance is consumed, as scikit-learn's ``check_random_state`` instances
    are: a seed is drawn from it at every fit, so repeated fits differ.
    """
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(2**31))
    return np.random.default_rng(random_state)


def _standardized(circuit: Circuit, mean: np.ndarray, scale: np.ndarray) -> Circuit:
    """``circuit`` reading ``(x[i] - mean[i]) / scale[i]`` wherever it reads ``x[i]``.

    Every affine feature factor ``o + k * x[i]`` of every angle becomes
    ``(o - k * mean[i] / scale[i]) + (k / scale[i]) * x[i]``: the same form, so the rewrite is
    exact and the circuit runs on the raw features on every backend.
    """

    def angle(a: Angle) -> Angle:
        return Angle(
            Term(
                t.coeff,
                tuple((i, o - k * mean[i] / scale[i], k / scale[i]) for i, o, k in t.factors),
                t.weights,
            )
            for t in a.terms
        )

    operations = (
        Operation(op.name, op.qubits, tuple(angle(p) for p in op.params))
        for op in circuit.operations
    )
    return Circuit(circuit.n_qubits, operations)


def _pauli_expectations(
    backend, circuit, paulis, X, theta, max_memory_mb, initial_states=None
) -> np.ndarray:
    """Expectation values of the Pauli strings ``paulis``, shape ``(n_samples, len(paulis))``.

    ``initial_states`` (exact backends only): the circuit starts from these, one per sample.
    """
    if backend.exact:
        # The simulator's own values: those the adjoint gradients are the derivatives of.
        return expectations(
            circuit, paulis, X, theta, max_memory_mb=max_memory_mb, initial_states=initial_states
        )
    if initial_states is not None:
        raise ValueError("initial states need an exact backend")  # pragma: no cover - internal
    return backend.expectations(circuit, paulis, X, theta, max_memory_mb=max_memory_mb)


def _cross_entropy(logits: np.ndarray, Y: np.ndarray) -> tuple[float, np.ndarray]:
    """Summed cross-entropy of one logit (sigmoid) or one per class (softmax), and its
    gradient with respect to the logits."""
    if logits.shape[1] == 1:
        z = logits
        loss = np.sum(np.logaddexp(0.0, z) - Y * z)
        return loss, 1.0 / (1.0 + np.exp(-z)) - Y
    z = logits - logits.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -np.sum(Y * log_p), np.exp(log_p) - Y


def _squared_error(out: np.ndarray, Y: np.ndarray) -> tuple[float, np.ndarray]:
    """Half the summed squared error, and its gradient with respect to the outputs."""
    diff = out - Y
    return 0.5 * np.sum(diff**2), diff


# By name, so that a fitted model holds no function (skops loads it as plain data).
_OUTPUT_LOSSES = {"cross_entropy": _cross_entropy, "squared_error": _squared_error}


@dataclass(frozen=True)
class LinearReadout:
    """The affine read-out ``E @ W + b`` of the observables' expectation values ``E``.

    Its parameters are ``W`` of shape ``(n_observables, n_outputs)`` (C order), then ``b``;
    its outputs are logits (classifiers) or predictions (regressors), trained by the loss
    named ``output_loss`` (a key of ``_OUTPUT_LOSSES``: ``(outputs, Y) -> (summed loss,
    d loss / d outputs)``). ``W`` carries the L2 penalty of scikit-learn's linear models.
    """

    n_observables: int
    n_outputs: int
    output_loss: str

    def initial(self, rng: np.random.Generator) -> np.ndarray:
        k, o = self.n_observables, self.n_outputs
        W0 = rng.normal(scale=1.0 / np.sqrt(k), size=(k, o))
        return np.concatenate([W0.ravel(), np.zeros(o)])

    def split(self, params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Views ``W, b`` of the read-out parameters."""
        k, o = self.n_observables, self.n_outputs
        return params[: k * o].reshape(k, o), params[k * o :]

    def outputs(self, E: np.ndarray, params: np.ndarray) -> np.ndarray:
        W, b = self.split(params)
        return E @ W + b

    def loss(self, E, params, Y) -> tuple[float, np.ndarray, np.ndarray]:
        """Summed loss, its gradient with respect to the parameters, and ``dL/dE``."""
        W, b = self.split(params)
        loss, d_out = _OUTPUT_LOSSES[self.output_loss](E @ W + b, Y)
        return loss, np.concatenate([np.ravel(E.T @ d_out), d_out.sum(axis=0)]), d_out @ W.T

    def penalty(self, params: np.ndarray, strength: float) -> tuple[float, np.ndarray]:
        """``strength / 2 * ||W||^2`` and its gradient (zero on ``b``)."""
        W, _ = self.split(params)
        grad = np.zeros_like(params)
        grad[: W.size] = strength * W.ravel()
        return 0.5 * strength * float(np.sum(W**2)), grad

    def attributes(self, params: np.ndarray) -> dict:
        W, b = self.split(params)
        return {"readout_weights_": W.copy(), "readout_bias_": b.copy()}


@dataclass(frozen=True)
class WeightedFidelityReadout:
    """The weighted fidelity cost of Perez-Salinas et al. (2020, eq. 23), two classes.

    The observables are Z on ``k`` qubits, ``E[:, j] = <Z_j>``. Class 1 (``classes_[1]``)
    is the qubit state ``|0>``, whose fidelity is ``F1_j = (1 + E_j) / 2``; class 0 is
    ``|1>``, ``F0_j = (1 - E_j) / 2``. With trainable class weights ``alpha`` of shape
    ``(2, k)`` (C order, starting at 1) and targets ``t`` in ``{0, 1}``, the summed loss is
    ``1/2 sum_samples sum_j (alpha[0, j] F0_j - (1 - t))**2 + (alpha[1, j] F1_j - t)**2``.
    The output is the mean of ``E`` over the ``k`` qubits (the class weights do not enter
    it): positive for class 1, ``P(class 1) = (1 + output) / 2``.
    """

    n_observables: int

    def initial(self, rng: np.random.Generator) -> np.ndarray:
        return np.ones(2 * self.n_observables)

    def outputs(self, E: np.ndarray, params: np.ndarray) -> np.ndarray:
        return E.mean(axis=1, keepdims=True)

    def loss(self, E, params, Y) -> tuple[float, np.ndarray, np.ndarray]:
        """Summed loss, its gradient with respect to ``alpha``, and ``dL/dE``."""
        alpha0, alpha1 = params.reshape(2, self.n_observables)
        t = Y[:, :1]
        F0, F1 = (1.0 - E) / 2.0, (1.0 + E) / 2.0
        r0, r1 = alpha0 * F0 - (1.0 - t), alpha1 * F1 - t
        loss = 0.5 * float(np.sum(r0**2) + np.sum(r1**2))
        grad = np.concatenate([np.sum(r0 * F0, axis=0), np.sum(r1 * F1, axis=0)])
        return loss, grad, (r1 * alpha1 - r0 * alpha0) / 2.0

    def penalty(self, params: np.ndarray, strength: float) -> tuple[float, np.ndarray]:
        return 0.0, np.zeros_like(params)

    def attributes(self, params: np.ndarray) -> dict:
        return {"class_weights_": params.reshape(2, self.n_observables).copy()}


@dataclass(frozen=True, eq=False)
class _Structure:
    """What a model's outputs depend on besides its parameters, fixed for one fit.

    The parameter vector is the circuit weights, then the read-out's parameters.
    """

    circuit: Circuit
    paulis: list[str]  # the distinct Pauli strings measured
    coefficients: np.ndarray  # (n_observables, len(paulis)): <O_k> = sum_l C[k, l] <P_l>
    n_circuit_weights: int
    readout: LinearReadout | WeightedFidelityReadout
    backend: Backend
    max_memory_mb: float | None
    n_jobs: int | None = None

    def split(self, params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Views ``theta`` (circuit weights) and the read-out's parameters."""
        return params[: self.n_circuit_weights], params[self.n_circuit_weights :]

    def pauli_expectations(self, X, theta, circuit: Circuit | None = None) -> np.ndarray:
        """``<P_l>`` for every sample, of ``circuit`` (default: the model's circuit)."""
        circuit = self.circuit if circuit is None else circuit
        return _pauli_expectations(
            self.backend, circuit, self.paulis, X, theta, self.max_memory_mb
        )

    def outputs(self, X, params: np.ndarray) -> np.ndarray:
        """The read-out's outputs for the samples ``X``."""
        theta, p = self.split(params)
        return self.readout.outputs(self.pauli_expectations(X, theta) @ self.coefficients.T, p)


@dataclass(frozen=True, eq=False)
class _Objective:
    """Mean loss (and gradient) of a model over rows of its training data, with L2 penalty.

    The penalty is ``alpha / (2 n_train) * ||W||^2`` on the linear read-out's weights ``W``
    only, the penalty of scikit-learn's linear models on their coefficients: ``alpha=1`` is
    that of ``LogisticRegression(C=1)`` for the cross-entropy and of ``Ridge(alpha=1)`` for
    half the squared error. Circuit weights (periodic rotation angles, input weights), the
    read-out bias and the class weights of the weighted fidelity cost are not penalised.
    """

    structure: _Structure
    X: np.ndarray
    Y: np.ndarray
    alpha: float

    def penalty(self, params: np.ndarray) -> tuple[float, np.ndarray]:
        """The L2 penalty and its gradient (zero off the read-out weights)."""
        n_w = self.structure.n_circuit_weights
        value, grad_p = self.structure.readout.penalty(params[n_w:], self.alpha / self.X.shape[0])
        return value, np.concatenate([np.zeros(n_w), grad_p])

    def loss_grad(self, params: np.ndarray, rows: np.ndarray) -> tuple[float, np.ndarray]:
        model = self.structure
        theta, p = model.split(params)
        X, Y = self.X[rows], self.Y[rows]
        if model.backend.exact:
            # Fixed blocks of rows (never cut by n_jobs), summed in order: the same numbers
            # for every n_jobs.
            block_rows = _gradient_block_rows(model.circuit.n_qubits)
            blocks = block_slices(len(rows), even_block(len(rows), block_rows))
            concurrent, budget = _gradient_block_budget(
                model.circuit, model.max_memory_mb, block_rows, len(blocks)
            )
            parts = map_blocks(
                self._exact_block,
                [(theta, p, X[s], Y[s], budget) for s in blocks],
                min(n_workers(model.n_jobs, len(blocks)), concurrent),
            )
            loss = sum(part[0] for part in parts)
            g_theta, g_p = (sum(part[k] for part in parts) for k in (1, 2))
        else:
            loss, g_p, G = self._readout(model.pauli_expectations(X, theta), p, Y)

            def run(circuit):
                return model.pauli_expectations(X, theta, circuit)

            g_theta = parameter_shift_vjp(run, model.circuit, X, theta, G)
        n = len(rows)
        grad = np.concatenate([g_theta, g_p]) / n
        penalty, penalty_grad = self.penalty(params)
        return loss / n + penalty, grad + penalty_grad

    def _readout(self, E_paulis, p, Y):
        """Summed loss, its gradient with respect to the read-out's parameters, and
        ``dL/d<P_l>``."""
        C = self.structure.coefficients
        loss, g_p, d_E = self.structure.readout.loss(E_paulis @ C.T, p, Y)
        # dL/d<P_l> through <O_k> = sum_l C[k, l] <P_l>.
        return loss, g_p, d_E @ C

    def _exact_block(self, theta, p, X, Y, max_memory_mb):
        """Summed loss and gradients of one block of rows, by the adjoint method."""
        totals = {"loss": 0.0, "gp": 0.0}

        def cotangent(E_paulis, sl):
            loss, g_p, G = self._readout(E_paulis, p, Y[sl])
            totals["loss"] += loss
            totals["gp"] = totals["gp"] + g_p
            return G

        model = self.structure
        _, g_theta = expectation_vjp(
            model.circuit, model.paulis, X, theta, cotangent, max_memory_mb=max_memory_mb
        )
        return totals["loss"], g_theta, totals["gp"]

    def loss(self, params: np.ndarray, rows: np.ndarray) -> float:
        model = self.structure
        theta, p = model.split(params)
        E = model.pauli_expectations(self.X[rows], theta) @ model.coefficients.T
        return model.readout.loss(E, p, self.Y[rows])[0] / len(rows) + self.penalty(params)[0]


class _VariationalModel(BaseEstimator):
    """Shared training machinery; subclasses define the outputs and the loss.

    A subclass names the loss of the linear read-out in ``_output_loss`` (a key of
    ``_OUTPUT_LOSSES``) and ``_validation_score(outputs, Y) -> score`` (higher is better) on
    the encoded targets ``Y`` of shape ``(n_samples, n_outputs)``, and calls :meth:`_fit`; it
    may read out otherwise (:meth:`_new_readout`, :meth:`_observables_spec`).
    """

    _parameter_constraints: dict = {
        "feature_map": [None, HasMethods(["build", "get_params"])],
        "ansatz": [None, HasMethods(["build", "n_weights", "initial_weights"])],
        "observables": [None, str, list, tuple, dict],
        "angle_scale": [None, StrOptions({"auto"}), Interval(Real, 0, None, closed="neither")],
        "input_scaling": ["boolean"],
        "backend": BACKEND_CONSTRAINT,
        "optimizer": [StrOptions({"auto", "adam", "lbfgs", "spsa", "interval"})],
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
        "max_memory_mb": MAX_MEMORY_MB_CONSTRAINT,
        "n_jobs": N_JOBS_CONSTRAINT,
    }

    def __init__(
        self,
        feature_map=None,
        ansatz=None,
        *,
        observables=None,
        angle_scale="auto",
        input_scaling: bool = True,
        backend="statevector",
        optimizer: str = "auto",
        learning_rate: float = 0.05,
        batch_size: int | None = None,
        max_iter: int = 200,
        tol: float = 1e-4,
        n_iter_no_change: int = 10,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        alpha: float = 1.0,
        warm_start: bool = False,
        random_state=None,
        verbose: int = 0,
        max_memory_mb: float | None = None,
        n_jobs: int | None = None,
    ):
        self.feature_map = feature_map
        self.ansatz = ansatz
        self.observables = observables
        self.angle_scale = angle_scale
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
        self.n_jobs = n_jobs

    # -- circuit ------------------------------------------------------------------------------
    def _build(self, n_features: int, rng: np.random.Generator) -> tuple[Circuit, np.ndarray]:
        """The model's circuit for ``n_features`` features and its initial weights."""
        who = type(self).__name__
        feature_map = AngleEmbedding() if self.feature_map is None else clone(self.feature_map)
        ansatz = RealAmplitudes(reps=2) if self.ansatz is None else clone(self.ansatz)
        encoding = feature_map.build(n_features)
        if encoding.n_weights:
            raise ValueError(
                f"{who}: the feature map must not have trainable weights; use the ansatz"
            )
        trainable, theta0 = build_ansatz(ansatz, encoding.n_qubits, rng, who=who)
        if self.input_scaling:
            # One trainable factor per feature, after the ansatz weights, starting at 1.
            encoding = encoding.with_input_scaling(offset=theta0.shape[0])
            theta0 = np.concatenate([theta0, np.ones(n_features)])
        return encoding.compose(trainable), theta0

    def _auto_angle_scale(self) -> float:
        """``angle_scale="auto"``: pi/2, for circuits that read each feature once."""
        return pi / 2

    def _observables_spec(self, n_qubits: int):
        """The observables to read out, as ``observables`` takes them."""
        return self.observables

    def _new_readout(self, n_observables: int, n_outputs: int):
        """The read-out of a new fit: by default the linear one, trained by ``_output_loss``."""
        return LinearReadout(n_observables, n_outputs, self._output_loss)

    def _input_standardization(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``x_mean_, x_scale_`` of a new fit: the circuit reads ``(x - x_mean_) / x_scale_``.

        The centre and unit of :meth:`_feature_center_and_unit`, the unit divided by the
        angle it becomes; ``angle_scale=None``: the features as given (0 and 1).
        """
        if self.angle_scale is None:
            return np.zeros(X.shape[1]), np.ones(X.shape[1])
        angle = self._auto_angle_scale() if self.angle_scale == "auto" else self.angle_scale
        center, unit = self._feature_center_and_unit(X)
        return center, unit / float(angle)

    def _feature_center_and_unit(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The feature values read as angle 0 and the distance from them read as
        ``angle_scale``: the training mean and standard deviation (1 for a constant feature,
        as in scikit-learn's ``StandardScaler``)."""
        scaler = StandardScaler().fit(X)
        return scaler.mean_, scaler.scale_

    def _fitted_structure(self, backend: Backend) -> _Structure:
        """The structure of the fitted model, run on ``backend``."""
        return _Structure(
            self.circuit_,
            self._paulis,
            self._coefficients,
            self.weights_.shape[0],
            self._readout,
            backend,
            self.max_memory_mb,
            self.n_jobs,
        )

    # -- evaluation ---------------------------------------------------------------------------
    def _raw_outputs(self, X) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        E = _pauli_expectations(
            self.backend_, self.circuit_, self._paulis, X, self.weights_, self.max_memory_mb
        )
        n_w = self.weights_.shape[0]
        return self._readout.outputs(E @ self._coefficients.T, self.params_[n_w:])

    # -- training -----------------------------------------------------------------------------
    def _fit(
        self,
        X: np.ndarray,
        Y: np.ndarray,
        *,
        reuse: bool,
        incremental: bool,
        stratify=None,
        **fitted,
    ):
        """Train on ``X`` and encoded targets ``Y``; set every fitted attribute at the end.

        ``reuse``: continue from the fitted parameters (warm start, ``partial_fit``);
        ``incremental``: one Adam epoch (``partial_fit``); ``fitted``: the subclass's own
        fitted attributes, set with the others.
        """
        who = type(self).__name__
        rng = _training_rng(self.random_state)
        # Every fit runs on the backend set now, also when it continues from earlier weights
        # (set_params(backend=...) between warm-started fits takes effect).
        backend = resolve_backend(self.backend)
        if reuse:
            structure = self._fitted_structure(backend)
            observables, params = self.observables_, self.params_
            x_mean, x_scale = self.x_mean_, self.x_scale_
            # A copy: the previous fit's state must survive a failure of this one.
            adam, loss_curve, n_iter = (
                copy.deepcopy(self._adam),
                list(self.loss_curve_),
                self.n_iter_,
            )
            n_qubits = structure.circuit.n_qubits
            observables_now = _check_observables(self._observables_spec(n_qubits), n_qubits)[0]
            readout_now = self._new_readout(len(observables_now), Y.shape[1])
            if observables_now != observables or readout_now != structure.readout:
                raise ValueError(
                    f"{who} continues the previous fit (warm_start or partial_fit), whose "
                    "observables or read-out differ from what the current parameters ask "
                    "for; fit with warm_start=False to start anew"
                )
        else:
            circuit, theta0 = self._build(X.shape[1], rng)
            x_mean, x_scale = self._input_standardization(X)
            if self.angle_scale is not None:
                circuit = _standardized(circuit, x_mean, x_scale)
            observables, paulis, coefficients = _check_observables(
                self._observables_spec(circuit.n_qubits), circuit.n_qubits
            )
            readout = self._new_readout(len(observables), Y.shape[1])
            params = np.concatenate([theta0, readout.initial(rng)])
            structure = _Structure(
                circuit,
                paulis,
                coefficients,
                theta0.shape[0],
                readout,
                backend,
                self.max_memory_mb,
                self.n_jobs,
            )
            adam, loss_curve, n_iter = Adam(), [], 0
        if backend.exact:
            # Refuse, before simulating anything, a circuit too wide to train one sample at a
            # time: the gradient call's own arithmetic.
            adjoint_rows(
                structure.circuit,
                self.max_memory_mb,
                what=f"training {who} with adjoint gradients",
            )
        early_stopping = self.early_stopping and not incremental
        # partial_fit is one epoch of Adam whatever the optimizer (as sklearn's MLP): L-BFGS
        # and SPSA keep no state that could carry over between calls.
        if incremental:
            method = "adam"
        elif self.optimizer == "auto":
            # L-BFGS needs exact losses and gradients; estimates from samples need Adam.
            method = "lbfgs" if backend.exact else "adam"
        else:
            method = self.optimizer
        if early_stopping and method == "interval":
            raise ValueError(
                f"{who}: optimizer='interval' stops by its own convergence test and keeps no "
                "validation score; set early_stopping=False, or use optimizer='adam'"
            )
        validation_fn = None
        if early_stopping:
            X, X_val, Y, Y_val = train_test_split(
                X,
                Y,
                test_size=self.validation_fraction,
                random_state=int(rng.integers(2**31)),
                stratify=stratify,
            )
            validation_score = self._validation_score

            def validation_fn(params):
                return validation_score(structure.outputs(X_val, params), Y_val)

        objective = _Objective(structure, X, Y, self.alpha)
        history = History(self.tol, self.n_iter_no_change, self.verbose, validation_fn)
        params = optimize(
            method,
            objective.loss_grad,
            params,
            X.shape[0],
            history,
            max_iter=1 if incremental else self.max_iter,
            learning_rate=self.learning_rate,
            batch_size=self.batch_size,
            rng=rng,
            adam=adam,
            # tol is both L-BFGS-B tolerances: "improvement below which an epoch counts
            # as no improvement" bounds the relative loss decrease and the gradient.
            gtol=self.tol,
            ftol=self.tol,
            loss=objective.loss,
            convergence_interval=self.n_iter_no_change,
        )
        early_stopped = early_stopping and history.best_params is not None
        if early_stopped:
            params = history.best_params
        theta, readout_params = structure.split(params)
        loss_curve = loss_curve + history.loss_curve
        fitted.update(
            backend_=backend,
            circuit_=structure.circuit,
            n_qubits_=structure.circuit.n_qubits,
            observables_=observables,
            params_=params,
            weights_=theta.copy(),
            **structure.readout.attributes(readout_params),
            x_mean_=x_mean,
            x_scale_=x_scale,
            loss_curve_=loss_curve,
            n_iter_=n_iter + len(history.loss_curve),
            best_loss_=min(loss_curve) if loss_curve else np.inf,
            _paulis=structure.paulis,
            _coefficients=structure.coefficients,
            _readout=structure.readout,
            _adam=adam,
        )
        if early_stopped:
            fitted.update(
                validation_scores_=history.validation_scores,
                best_validation_score_=history.best_score,
            )
        # Without early stopping, the scores of an earlier fit would not describe this one.
        stale = () if early_stopped else ("validation_scores_", "best_validation_score_")
        # The attributes of another read-out than this fit's.
        stale += tuple(
            name
            for name in ("readout_weights_", "readout_bias_", "class_weights_")
            if name not in fitted
        )
        set_fitted(self, fitted, stale=stale)
        if not incremental:
            warn_if_not_converged(history, who, self.max_iter, "raise max_iter or tol")
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags


_COMMON_DOC = """
    feature_map : FeatureMap, default=None
        Data encoding; ``None`` means ``AngleEmbedding()`` (one qubit per feature, RY).
    ansatz : Ansatz, default=None
        Trainable circuit after the encoding; ``None`` means ``RealAmplitudes(reps=2)``. It
        must build a circuit on the feature map's qubits, of weights only.
    observables : list of str or dict, default=None
        Observables whose expectation values feed the read-out: Pauli strings (Qiskit labels,
        rightmost character on qubit 0) or Pauli sums ``{label: coefficient}``; ``None``
        means Z on every qubit.
    angle_scale : "auto", float or None, default="auto"
        Angle, in radians, of one standard deviation of each feature. Features are rotation
        angles, so their scale matters: the circuit reads every feature standardised with
        the mean and standard deviation of the first fit's training data (fixed at fit, see
        ``x_mean_`` and ``x_scale_``) and multiplied by ``angle_scale``. ``"auto"`` means
        ``pi / 2``: the central 95% of a feature (two standard deviations either side) spans
        one period, the full spectrum of a circuit that reads each feature once (Schuld,
        Sweke and Meyer 2021). ``None``: the features enter the circuit as given (scale them
        yourself, e.g. ``MinMaxScaler((0, pi))`` for a ``ZZFeatureMap``).
    input_scaling : bool, default=True
        Trainable input scaling (Jerbi et al. 2023; the input weights of Perez-Salinas et al.
        2020): every feature ``x_i`` enters the feature map as ``s_i * x_i`` (after the
        standardisation of ``angle_scale``) with a trainable ``s_i`` (initialised to 1,
        stored at the end of ``weights_``), so the frequencies of the model are learnt.
    backend : str, Backend or None, default="statevector"
        Where the circuits run; ``None`` means ``"statevector"``. Exact backends train with
        adjoint gradients, others with parameter shift (or SPSA).
    optimizer : {"auto", "adam", "lbfgs", "spsa", "interval"}, default="auto"
        Mini-batch Adam, full-batch L-BFGS-B, or SPSA (two runs per step; for noisy
        backends). ``"auto"``: L-BFGS-B on exact backends (deterministic, no learning rate;
        the optimiser of Perez-Salinas et al. 2020 and scikit-learn's choice for small data
        sets), Adam on backends that estimate from samples, whose noise L-BFGS-B's line
        search cannot handle. ``"interval"``: the training loop of Bowles et al. (2024),
        Adam steps on ``batch_size`` rows drawn with replacement, stopped when the mean
        loss of the last ``n_iter_no_change`` steps differs from that of the steps before
        by less than half its standard error; ``max_iter`` counts steps (see
        :func:`~skqml._optim.interval_descent`).
    learning_rate : float, default=0.05
        Step size of Adam; initial gain of SPSA (unused by L-BFGS-B).
    batch_size : int, default=None
        Mini-batch size of Adam; ``None`` means the full batch.
    max_iter : int, default=200
        Epochs (Adam), iterations (L-BFGS, SPSA), steps (``"interval"``).
    tol : float, default=1e-4
        Improvement below which an epoch counts as no improvement. L-BFGS-B stops when one
        iteration decreases the loss by less than ``tol`` (relative; its ``ftol``) or no
        gradient component exceeds ``tol`` (its ``gtol``).
    n_iter_no_change : int, default=10
        Epochs without improvement before stopping (Adam, SPSA); the steps per interval of
        the convergence test of ``"interval"``.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data and stop (and keep the best parameters)
        on its score. Meant for Adam: L-BFGS-B stops on its own criteria.
    validation_fraction : float, default=0.1
        Held-out fraction for early stopping.
    alpha : float, default=1.0
        L2 penalty ``alpha / (2 n_samples) * ||W||^2`` on the read-out weights ``W``, the
        penalty of scikit-learn's linear models: ``alpha=1`` is ``LogisticRegression(C=1)``'s
        for classifiers and ``Ridge(alpha=1)``'s for ``VQR`` (in standardised target
        units). Circuit weights (periodic angles, input scales) and the read-out bias are not
        penalised.
    warm_start : bool, default=False
        Continue from the previous fit's parameters (and Adam's moments).
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, mini-batch order, validation split and SPSA. An int seeds
        a NumPy ``Generator``, so equal ints give identical fits; a ``RandomState`` instance
        is consumed (a seed is drawn from it at every fit, so repeated fits differ); ``None``
        means fresh randomness.
    verbose : int, default=0
        Print iteration, loss and elapsed time.
    max_memory_mb : float, default=None
        Memory budget of the simulation in MiB (``None``: the default budget, see
        :func:`~skqml.simulator.default_max_memory_mb`). A circuit too wide to train even
        one sample at a time within it is refused before anything is simulated.
    n_jobs : int, default=None
        Threads that compute the exact loss and gradient of a batch, in fixed blocks of
        ``2**19 / 2**n_qubits`` samples (at most 4 blocks at once, as many as fit the
        memory budget together; BLAS on one thread in each): large batches of wide
        circuits only, e.g. 64 samples per block on 13 qubits. The results are the same for every
        ``n_jobs``. ``None`` means 1 unless in a :func:`joblib.parallel_config` context;
        ``-1`` uses all cores. See :ref:`scaling`.
"""

_FITTED_DOC = """
    weights_ : ndarray of shape (n_weights,)
        Trained circuit weights.
    readout_weights_ : ndarray of shape (n_observables, n_outputs)
        Trained read-out matrix ``W``.
    readout_bias_ : ndarray of shape (n_outputs,)
        Trained read-out bias ``b``.
    params_ : ndarray of shape (n_weights + n_observables * n_outputs + n_outputs,)
        All trained parameters in one vector: ``weights_``, ``readout_weights_`` (C order),
        ``readout_bias_``.
    circuit_ : Circuit
        Feature map followed by the ansatz, reading the raw features: the standardisation
        of ``angle_scale`` (and the trainable input scaling) is part of its angles.
    x_mean_, x_scale_ : ndarray of shape (n_features,)
        The circuit reads feature ``i`` as ``(x_i - x_mean_[i]) / x_scale_[i]``: the first
        fit's training mean, and standard deviation (1 for a constant feature) divided by
        the angle scale (0 and 1 with ``angle_scale=None``). Warm-started fits and
        ``partial_fit`` keep those of the first call.
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
    validation_scores_ : list of float
        Validation score per iteration (only after a fit with ``early_stopping=True``).
    best_validation_score_ : float
        Highest validation score (only after a fit with ``early_stopping=True``).
    n_features_in_ : int
        Number of features seen in fit.
"""


def _one_hot(y: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Targets of the logits: one column (the second class) for two classes, else one-hot."""
    idx = np.searchsorted(classes, y)
    if len(classes) == 2:
        return idx.reshape(-1, 1).astype(float)
    return np.eye(len(classes))[idx]


class VQC(ClassifierMixin, _VariationalModel):
    """Variational quantum classifier.

    Binary problems use one logit (sigmoid), multi-class problems one logit per class
    (softmax); the logits are the affine read-out ``E @ W + b`` of the observables'
    expectation values ``E``. Trained by minimising the cross-entropy.

    A failed ``fit`` or ``partial_fit`` (bad input, a memory budget that is too small, a
    backend error, an interrupt) leaves the model as it was: unfitted, or with its previous
    fit intact.

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
    >>> clf = VQC(random_state=0).fit(X, y)
    >>> clf.score(X, y) > 0.9
    True
    """

    _output_loss = "cross_entropy"

    @staticmethod
    def _validation_score(logits, Y) -> float:
        if logits.shape[1] == 1:
            return float(np.mean((logits[:, 0] > 0) == (Y[:, 0] > 0.5)))
        return float(np.mean(np.argmax(logits, axis=1) == np.argmax(Y, axis=1)))

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Train on ``X`` and class labels ``y``.

        With ``warm_start=True`` and a previous fit on the same classes, training continues
        from its parameters; otherwise it starts from new initial weights.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels, at least two distinct ones.

        Returns
        -------
        self : object
            The fitted classifier.
        """
        fitted = hasattr(self, "params_")
        X, y = validate_data(self, X, y, dtype=np.float64, reset=not (self.warm_start and fitted))
        check_classification_targets(y)
        classes = unique_labels(y)
        if len(classes) < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 classes in y, got {len(classes)} class"
            )
        reuse = self.warm_start and fitted and np.array_equal(classes, self.classes_)
        return self._fit(
            X, _one_hot(y, classes), reuse=reuse, incremental=False, stratify=y, classes_=classes
        )

    @fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None):
        """One epoch of Adam on ``(X, y)``, from the current parameters.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels, all in ``classes``.
        classes : array-like of shape (n_classes,), default=None
            Every class of the problem: required on the first call (``y`` may hold only some
            of them), optional afterwards and then equal to ``classes_``.

        Returns
        -------
        self : object
            The updated classifier.
        """
        who = type(self).__name__
        first = not hasattr(self, "params_")
        X, y = validate_data(self, X, y, dtype=np.float64, reset=first)
        check_classification_targets(y)
        if first:
            if classes is None:
                raise ValueError(f"{who}.partial_fit needs classes= on its first call")
            all_classes = unique_labels(np.asarray(classes))
            if len(all_classes) < 2:
                raise ValueError(
                    f"{who} needs at least 2 classes, got classes={list(all_classes)}"
                )
        else:
            all_classes = self.classes_
            if classes is not None and not np.array_equal(
                unique_labels(np.asarray(classes)), all_classes
            ):
                raise ValueError(
                    f"classes={list(classes)} differs from the classes of the first "
                    f"{who}.partial_fit call, {list(all_classes)}"
                )
        unknown = np.setdiff1d(unique_labels(y), all_classes)
        if len(unknown):
            raise ValueError(
                f"y contains labels {list(unknown)} not in classes {list(all_classes)}"
            )
        return self._fit(
            X, _one_hot(y, all_classes), reuse=not first, incremental=True, classes_=all_classes
        )

    def decision_function(self, X) -> np.ndarray:
        """Logits of the classes.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            For two classes the logit of the second class, else one logit per class.
        """
        out = self._raw_outputs(X)
        return out[:, 0] if out.shape[1] == 1 else out

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities: the sigmoid (two classes) or softmax of the logits.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities, columns in the order of ``classes_``.
        """
        out = self._raw_outputs(X)
        if out.shape[1] == 1:
            p = 1.0 / (1.0 + np.exp(-out[:, 0]))
            return np.column_stack([1 - p, p])
        z = out - out.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X) -> np.ndarray:
        """Log of :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities, columns in the order of ``classes_``.
        """
        return np.log(self.predict_proba(X))

    def predict(self, X) -> np.ndarray:
        """Predicted class labels (argmax of the logits).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        out = self._raw_outputs(X)
        idx = (out[:, 0] > 0).astype(int) if out.shape[1] == 1 else np.argmax(out, axis=1)
        return self.classes_[idx]


class VQR(RegressorMixin, _VariationalModel):
    """Variational quantum regressor, single or multi-output.

    Predictions are the affine read-out ``E @ W + b`` of the observables' expectation values,
    in units of the standardised targets (``y`` is standardised in ``fit`` and predictions
    scaled back). Trained by minimising the squared error.

    A failed ``fit`` or ``partial_fit`` (bad input, a memory budget that is too small, a
    backend error, an interrupt) leaves the model as it was: unfitted, or with its previous
    fit intact.

    Parameters
    ----------%(common)s
    Attributes
    ----------%(fitted)s
    y_mean_, y_scale_ : ndarray of shape (n_targets,)
        Mean and standard deviation (1 where it is 0) of the targets of the first fit, which
        standardise them.

    Examples
    --------
    >>> import numpy as np
    >>> from skqml.variational import VQR
    >>> X = np.linspace(-1, 1, 30).reshape(-1, 1)
    >>> reg = VQR(random_state=0).fit(X, np.sin(2 * X[:, 0]))
    >>> reg.score(X, np.sin(2 * X[:, 0])) > 0.95
    True
    """

    _output_loss = "squared_error"

    @staticmethod
    def _validation_score(out, Y) -> float:
        return -float(np.mean((out - Y) ** 2))

    def _fit_targets(self, X: np.ndarray, y: np.ndarray, *, reuse: bool, incremental: bool):
        """Standardise ``y`` (with the first fit's mean and scale when reusing it) and train."""
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        if reuse:
            n_targets = self.readout_bias_.shape[0]
            if Y.shape[1] != n_targets:
                raise ValueError(
                    f"y has {Y.shape[1]} targets, the {type(self).__name__} was fitted with "
                    f"{n_targets}"
                )
            y_mean, y_scale, y_1d = self.y_mean_, self.y_scale_, self._y_1d
        else:
            y_mean, scale, y_1d = Y.mean(axis=0), Y.std(axis=0), y.ndim == 1
            y_scale = np.where(scale > 0, scale, 1.0)
        return self._fit(
            X,
            (Y - y_mean) / y_scale,
            reuse=reuse,
            incremental=incremental,
            y_mean_=y_mean,
            y_scale_=y_scale,
            _y_1d=y_1d,
        )

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Train on ``X`` and targets ``y``.

        With ``warm_start=True`` and a previous fit, training continues from its parameters
        (and its target standardisation); otherwise it starts from new initial weights.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.

        Returns
        -------
        self : object
            The fitted regressor.
        """
        reuse = self.warm_start and hasattr(self, "params_")
        X, y = validate_data(
            self, X, y, dtype=np.float64, multi_output=True, y_numeric=True, reset=not reuse
        )
        return self._fit_targets(X, y, reuse=reuse, incremental=False)

    @fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y):
        """One epoch of Adam on ``(X, y)``, from the current parameters.

        The first call standardises the targets with its own mean and scale.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.

        Returns
        -------
        self : object
            The updated regressor.
        """
        first = not hasattr(self, "params_")
        X, y = validate_data(
            self, X, y, dtype=np.float64, multi_output=True, y_numeric=True, reset=first
        )
        return self._fit_targets(X, y, reuse=not first, incremental=True)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def predict(self, X) -> np.ndarray:
        """Predicted targets, in the units of ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Predictions, of the shape of the training targets.
        """
        out = self._raw_outputs(X) * self.y_scale_ + self.y_mean_
        return out[:, 0] if self._y_1d else out


class DataReuploadingClassifier(VQC):
    """Data re-uploading classifier (Perez-Salinas et al. 2020), as in Bowles et al. (2024).

    The circuit is :class:`~skqml.circuits.DataReuploading`: every layer uploads the
    features again through trainable input weights (``Rot(w * x)`` then ``Rot(theta)``),
    three features per qubit, with CZ entanglers. The input weights are the model's own
    trainable input scaling (there is no ``input_scaling`` parameter); they start uniform in
    ``[0, 1)`` as in the reference code.

    Two read-outs:

    - ``observable_type=None`` (default): the VQC read-out, logits ``E @ W + b`` of the
      ``observables`` trained by cross-entropy, for any number of classes.
    - ``observable_type="single"``, ``"half"`` or ``"full"``: the read-out of Perez-Salinas
      et al. and Bowles et al., two classes. The first ``k`` qubits are measured in Z
      (``k`` = 1, ``max(1, n_qubits // 2)`` or ``n_qubits``), class ``classes_[1]`` being
      the state ``|0>`` and ``classes_[0]`` the state ``|1>``; training minimises the
      weighted fidelity cost (their eq. 23) with trainable class weights ``alpha`` of shape
      ``(2, k)``, starting at 1:
      ``1/2 sum_j (alpha[0, j] F0_j - [y = classes_[0]])**2 + (alpha[1, j] F1_j -
      [y = classes_[1]])**2`` per sample, with ``F1_j = (1 + <Z_j>) / 2`` and
      ``F0_j = 1 - F1_j``. The decision value is the mean ``m`` of ``<Z_j>`` over the
      ``k`` qubits and ``P(classes_[1]) = (1 + m) / 2`` (the class weights do not enter
      predictions).

    The study's model is ``DataReuploadingClassifier(n_layers, observable_type=...,
    feature_scaling="minmax", optimizer="interval", max_iter=10000, n_iter_no_change=200,
    batch_size=32, learning_rate=...)`` (see
    :data:`skqml.studies.bowles2024.STUDY_DEFAULTS`): features min-max scaled to
    ``[-pi/2, pi/2]`` and the study's training loop.

    Parameters
    ----------
    n_layers : int, default=3
        Number of re-uploading layers.
    observable_type : {"single", "half", "full"} or None, default=None
        The read-out (above): ``None`` is the linear read-out of :class:`VQC`, the others the
        weighted fidelity cost on the first qubit, the first half of the qubits, or all of
        them (two classes only; ``observables`` must then be None).
    feature_scaling : {"standard", "minmax"}, default="standard"
        How the circuit reads the features: ``"standard"`` standardised, ``angle_scale``
        radians per standard deviation (as :class:`VQC`); ``"minmax"`` the training range
        of every feature mapped onto ``[-angle_scale, angle_scale]`` (a constant feature to
        ``-angle_scale``), as scikit-learn's ``MinMaxScaler``.
    angle_scale : "auto", float or None, default="auto"
        As in :class:`VQC` with ``feature_scaling="standard"``, where ``"auto"`` means
        ``pi / (n_layers + 1)``: each feature is uploaded ``n_layers + 1`` times through
        input weights of mean 1/2 at initialisation, so the expected total frequency of a
        feature is ``pi / 2`` per standard deviation, as for :class:`VQC`. With
        ``"minmax"``, the half-width of the range (``"auto"``: ``pi / 2``, the study's).
        ``None``: the features as given.
    observables, backend, optimizer, learning_rate, batch_size, max_iter, tol, \
n_iter_no_change, early_stopping, validation_fraction, alpha, warm_start, random_state, \
verbose, max_memory_mb, n_jobs
        As in :class:`VQC` (``alpha`` penalises the linear read-out only).

    Attributes
    ----------
    class_weights_ : ndarray of shape (2, k)
        Trained class weights ``alpha`` of the weighted fidelity cost (only with an
        ``observable_type``; then there are no ``readout_weights_`` and ``readout_bias_``).
    classes_, weights_, readout_weights_, readout_bias_, params_, circuit_, n_qubits_, \
observables_, backend_, x_mean_, x_scale_, loss_curve_, best_loss_, n_iter_, \
validation_scores_, best_validation_score_, n_features_in_
        As in :class:`VQC`; ``params_`` ends with ``class_weights_`` (C order) instead of
        the linear read-out with an ``observable_type``.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skqml.variational import DataReuploadingClassifier
    >>> X, y = load_iris(return_X_y=True)  # raw features: the model standardises them
    >>> clf = DataReuploadingClassifier(random_state=0).fit(X, y)
    >>> clf.n_qubits_, clf.score(X, y) > 0.95
    (2, True)

    The read-out of Perez-Salinas et al., on two classes:

    >>> from sklearn.datasets import make_moons
    >>> X, y = make_moons(100, noise=0.1, random_state=0)
    >>> clf = DataReuploadingClassifier(observable_type="single", random_state=0).fit(X, y)
    >>> clf.class_weights_.shape, clf.score(X, y) > 0.9
    ((2, 1), True)
    """

    # The CZ entanglers of every layer (SeparableDataReuploadingClassifier leaves them out).
    _entangling = True

    _parameter_constraints = {
        **{
            k: v
            for k, v in _VariationalModel._parameter_constraints.items()
            if k not in ("feature_map", "ansatz", "input_scaling")
        },
        "n_layers": [Interval(Integral, 0, None, closed="left")],
        "observable_type": [None, StrOptions({"single", "half", "full"})],
        "feature_scaling": [StrOptions({"standard", "minmax"})],
    }

    def __init__(
        self,
        n_layers: int = 3,
        *,
        observable_type: str | None = None,
        feature_scaling: str = "standard",
        observables=None,
        angle_scale="auto",
        backend="statevector",
        optimizer: str = "auto",
        learning_rate: float = 0.05,
        batch_size: int | None = None,
        max_iter: int = 200,
        tol: float = 1e-4,
        n_iter_no_change: int = 10,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        alpha: float = 1.0,
        warm_start: bool = False,
        random_state=None,
        verbose: int = 0,
        max_memory_mb: float | None = None,
        n_jobs: int | None = None,
    ):
        self.n_layers = n_layers
        self.observable_type = observable_type
        self.feature_scaling = feature_scaling
        self.observables = observables
        self.angle_scale = angle_scale
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
        self.n_jobs = n_jobs

    def _auto_angle_scale(self) -> float:
        if self.feature_scaling == "minmax":
            return pi / 2  # the study's range, [-pi/2, pi/2]
        # Each feature is uploaded n_layers + 1 times through input weights that start
        # uniform in [0, 1) (mean 1/2): the same expected total frequency, pi/2 per standard
        # deviation, as a circuit that reads each feature once at angle_scale=pi/2.
        return pi / (self.n_layers + 1)

    def _feature_center_and_unit(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.feature_scaling == "standard":
            return super()._feature_center_and_unit(X)
        # MinMaxScaler((-angle, angle)): the midrange and half the range; a constant feature
        # (range 0) has range 1, as there.
        low = X.min(axis=0)
        width = X.max(axis=0) - low
        width[width == 0.0] = 1.0
        return low + width / 2, width / 2

    def _fidelity_qubits(self, n_qubits: int) -> int:
        """``k``, the qubits of the weighted fidelity cost (the study's ``observable_weight``)."""
        return {"single": 1, "half": max(1, n_qubits // 2), "full": n_qubits}[self.observable_type]

    def _observables_spec(self, n_qubits: int):
        if self.observable_type is None:
            return self.observables
        if self.observables is not None:
            raise ValueError(
                f"observable_type={self.observable_type!r} reads Z on its own qubits; "
                "observables must be None with it (or set observable_type=None to read out "
                "the observables linearly)"
            )
        return _z_labels(n_qubits)[: self._fidelity_qubits(n_qubits)]

    def _new_readout(self, n_observables: int, n_outputs: int):
        if self.observable_type is None:
            return super()._new_readout(n_observables, n_outputs)
        if n_outputs != 1:
            raise ValueError(
                "Only binary classification is supported with observable_type="
                f"{self.observable_type!r} (the weighted fidelity cost separates two "
                f"classes); y has {n_outputs}. Use observable_type=None, or wrap the model "
                "in sklearn.multiclass.OneVsRestClassifier"
            )
        return WeightedFidelityReadout(n_observables)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities.

        With ``observable_type=None`` the sigmoid or softmax of the logits (as :class:`VQC`);
        otherwise ``P(classes_[1]) = (1 + m) / 2`` for the mean ``m`` of ``<Z>`` over the
        measured qubits.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities, columns in the order of ``classes_``.
        """
        check_is_fitted(self)
        if not isinstance(self._readout, WeightedFidelityReadout):
            return super().predict_proba(X)
        p1 = (1.0 + self._raw_outputs(X)[:, 0]) / 2.0
        return np.column_stack([1.0 - p1, p1])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = self.observable_type is None
        return tags

    def _build(self, n_features: int, rng: np.random.Generator):
        # The re-uploading circuit reads the features itself, on ceil(n_features / 3) qubits:
        # built for the feature count (build_ansatz builds ansatzes of weights only).
        ansatz = DataReuploading(n_layers=self.n_layers, entangling=self._entangling)
        n_qubits = ansatz.n_qubits(n_features)
        circuit = ansatz.build_for_features(n_features)
        return circuit, np.asarray(ansatz.initial_weights(n_qubits, rng), dtype=float)


class SeparableDataReuploadingClassifier(DataReuploadingClassifier):
    """The data re-uploading classifier without entanglers, as in Bowles et al. (2024).

    :class:`DataReuploadingClassifier` with no CZ gates
    (:class:`~skqml.circuits.DataReuploading` with ``entangling=False``): every qubit
    re-uploads its three features on its own, so the model is a product of one-qubit models
    (the study's ``DataReuploadingClassifierSeparable``).

    Parameters
    ----------
    n_layers, observable_type, feature_scaling, observables, angle_scale, backend, \
optimizer, learning_rate, batch_size, max_iter, tol, n_iter_no_change, early_stopping, \
validation_fraction, alpha, warm_start, random_state, verbose, max_memory_mb, n_jobs
        As in :class:`DataReuploadingClassifier`.

    Attributes
    ----------
    classes_, weights_, readout_weights_, readout_bias_, class_weights_, params_, circuit_, \
n_qubits_, observables_, backend_, x_mean_, x_scale_, loss_curve_, best_loss_, n_iter_, \
validation_scores_, best_validation_score_, n_features_in_
        As in :class:`DataReuploadingClassifier`.

    Examples
    --------
    >>> from sklearn.datasets import make_moons
    >>> from skqml.variational import SeparableDataReuploadingClassifier
    >>> X, y = make_moons(100, noise=0.1, random_state=0)
    >>> clf = SeparableDataReuploadingClassifier(random_state=0).fit(X, y)
    >>> clf.circuit_.count_ops()
    {'rot': 7}
    """

    _entangling = False


VQC.__doc__ = VQC.__doc__ % {"common": _COMMON_DOC, "fitted": _FITTED_DOC}
VQR.__doc__ = VQR.__doc__ % {"common": _COMMON_DOC, "fitted": _FITTED_DOC}
