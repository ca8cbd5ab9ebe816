"""The quantum metric learner of Bowles, Ahmed and Schuld (2024), after Lloyd et al. (2020).

A trainable embedding is trained so that the states of the two classes are far apart in
Hilbert-Schmidt distance; a sample is classified by its mean fidelity with stored training
samples of each class. The loss couples pairs of samples through their fidelities, so its
gradient runs through both states of every pair: the Gram-matrix gradients of kernel-target
alignment (``skqml.kernels._alignment.fidelity_objective``) give it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial
from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import Interval

from .._parallel import single_blas_thread
from .._study_classifier import StudyClassifier
from ..backends import SamplingBackend, resolve_backend
from ..backends._registry import BACKEND_CONSTRAINT
from ..circuits import Circuit, QAOAEmbedding
from ..kernels._alignment import fidelity_objective, fidelity_objective_by_shifts

__all__ = ["QuantumMetricLearner"]


@dataclass(frozen=True)
class MetricModel:
    """Where the embedding runs, the embedding, and the samples predictions compare with."""

    backend: object
    circuit: Circuit
    examples: np.ndarray | None = None  # (2, n_examples, n_features), scaled


def pair_weights(n_per_class: int, as_coded: bool) -> tuple[float, np.ndarray]:
    """``(c, W)`` such that the loss of a batch is ``c + sum_ij W_ij K_ij``.

    ``K`` is the fidelity Gram matrix of the batch ``[a_1, ..., a_m, b_1, ..., b_m]``
    (``m = n_per_class`` samples of each class) and the loss is the study's
    ``1 - (aa + bb) / 2 + ab``:

    - ``as_coded=False``: ``aa`` and ``bb`` average the fidelities of the distinct
      same-class pairs ``i != j`` (``m >= 2``), ``ab`` those of all ``m * m`` cross pairs;
    - ``as_coded=True``, the study's code: ``aa`` and ``bb`` pair each sample with itself
      (both are 1) and ``ab`` pairs ``a_k`` with ``b_k`` only, so the loss is
      ``mean_k K(a_k, b_k)``.

    ``W`` is symmetric.

    Examples
    --------
    >>> from skqml.variational._metric_learner import pair_weights
    >>> c, W = pair_weights(2, as_coded=True)
    >>> c, W
    (0.0, array([[0.  , 0.  , 0.25, 0.  ],
           [0.  , 0.  , 0.  , 0.25],
           [0.25, 0.  , 0.  , 0.  ],
           [0.  , 0.25, 0.  , 0.  ]]))
    """
    m = n_per_class
    W = np.zeros((2 * m, 2 * m))
    if as_coded:
        k = np.arange(m)
        W[k, m + k] = W[m + k, k] = 1 / (2 * m)
        return 0.0, W
    same = -1 / (2 * m * (m - 1))  # each unordered pair counted twice in the sum
    W[:m, :m] = W[m:, m:] = same
    np.fill_diagonal(W, 0.0)
    W[:m, m:] = W[m:, :m] = 1 / (2 * m * m)
    return 1.0, W


class QuantumMetricLearner(StudyClassifier):
    """The quantum metric learner of Bowles et al. (2024) (after Lloyd et al. 2020).

    The features are scaled to ``[-pi/2, pi/2]`` (a ``MinMaxScaler`` fitted on the training
    set, then ``scaling``) and embedded on ``n_features + 1`` qubits by the trainable
    :class:`~skqml.circuits.QAOAEmbedding` with ``n_layers`` layers (``RY`` local fields;
    the extra qubit gets Hadamards in every feature layer): ``|x> = E(x)|0>``. With
    ``A`` the training samples of ``classes_[0]`` and ``B`` those of ``classes_[1]``, the
    embedding is trained to minimise

    ``1 - D_hs = 1 - (aa + bb) / 2 + ab``,

    ``D_hs`` the Hilbert-Schmidt distance of the two classes' ensembles, with ``aa``,
    ``bb`` and ``ab`` mean fidelities ``|<x|x'>|^2`` over pairs of a mini-batch of
    ``batch_size`` samples drawn with replacement from each class: ``aa`` and ``bb`` over
    the pairs of distinct draws of a class, ``ab`` over all cross pairs. That is an unbiased
    estimate of ``1 - D_hs`` of the whole training set (the loss of Lloyd et al.). Training
    uses the study's loop (Adam, convergence over ``convergence_interval`` steps). Initial
    weights are normal with standard deviation 0.1.

    A sample ``x`` is classified by its mean fidelity with ``n_examples_predict`` training
    samples of each class (drawn without replacement, at most as many as the smaller class
    has), ``p_A`` and ``p_B``: ``P(classes_[1]) = p_B / (p_A + p_B)`` (1/2 when both are 0,
    which only shot estimates give).

    The study's code (``as_coded=True``) differs in its loss: its ``aa`` and ``bb`` pair each
    sample with itself, so both are 1 and the loss is the mean fidelity ``ab`` of the pairs
    ``(a_k, b_k)``: the training only pushes the classes apart, never draws a class
    together. Its mini-batch is ``batch_size`` indices ``k`` (lowered to the smaller class's
    size) drawn with replacement from the samples of ``A``, and ``b_k`` is the sample of
    ``B`` at the same index, or its last sample when ``B`` has fewer (JAX clamps indices
    out of range): samples of ``B`` beyond the size of ``A`` are never trained on.

    The study draws the prediction examples again at every ``predict_proba`` call; here they
    are drawn once in ``fit`` (``examples_``), so predictions are deterministic in both
    modes.

    Parameters
    ----------
    n_layers : int, default=3
        Layers of the QAOA embedding.
    n_examples_predict : int, default=32
        Training samples of each class that predictions compare with.
    learning_rate : float, default=0.01
        Adam's step size.
    batch_size : int, default=32
        Samples of each class per step (at least 2 unless ``as_coded``).
    max_steps : int, default=50000
        Maximum number of training steps (the study's default for this model).
    convergence_interval : int, default=200
        Steps per interval of the convergence test (see
        :func:`~skqml._optim.interval_descent`).
    scaling : float, default=1.0
        Factor applied to the features after their scaling to ``[-pi/2, pi/2]``.
    as_coded : bool, default=False
        The study's code's loss and mini-batches (see above).
    backend : str, Backend or None, default="statevector"
        Where the circuits run. On exact backends the gradient is exact, through both states
        of every pair (:func:`~skqml.simulator.state_vjp`); on sampling backends every
        fidelity of the loss is the all-zeros frequency of an overlap circuit
        ``E(x')^dagger E(x)`` and its gradient comes from the parameter-shift rule on each
        weight's occurrences in both halves: ``4 * n_weights`` overlap circuits per pair and
        step, for ``batch_size`` pairs (``as_coded``) or all ``2 batch_size (2 batch_size -
        1) / 2`` pairs of the batch.
    random_state : int, Generator or None, default=None
        Seeds the initial weights, the prediction examples and the mini-batches.
    max_memory_mb : float, default=None
        Memory budget of the simulation (MiB).

    Attributes
    ----------
    weights_ : ndarray of shape (n_layers * 2 * n_qubits,)
        Trained weights of the embedding, in :class:`~skqml.circuits.QAOAEmbedding`'s order
        (``n_layers * 3`` for one feature: two qubits).
    examples_ : ndarray of shape (2, n_examples, n_features)
        The training samples predictions compare with, scaled as the circuit reads them:
        ``examples_[0]`` of ``classes_[0]``, ``examples_[1]`` of ``classes_[1]``.
    circuit_ : Circuit
        The embedding ``E(x)``.
    backend_ : Backend
        The resolved backend.
    loss_curve_ : list of float
        Mini-batch loss of every step.
    converged_ : bool
        Whether the convergence test was passed within ``max_steps``.
    n_iter_ : int
        Steps taken.
    scaler_ : MinMaxScaler
        The scaling to ``[-pi/2, pi/2]``, fitted on the training set.
    classes_ : ndarray of shape (2,)
        Class labels.
    n_qubits_ : int
        Number of qubits (``n_features + 1``).
    n_features_in_ : int
        Number of features seen in fit.

    Examples
    --------
    >>> from skqml.studies.bowles2024 import load_dataset
    >>> from skqml.variational import QuantumMetricLearner
    >>> X_train, y_train, X_test, y_test = load_dataset("linearly_separable_2d")
    >>> clf = QuantumMetricLearner(n_layers=1, learning_rate=0.1, batch_size=16,
    ...                            random_state=0).fit(X_train, y_train)
    >>> clf.n_qubits_, clf.weights_.shape, clf.examples_.shape
    (3, (6,), (2, 32, 2))
    >>> bool(clf.score(X_test, y_test) > 0.8)
    True
    """

    _parameter_constraints = {
        **StudyClassifier._parameter_constraints,
        "n_layers": [Interval(Integral, 1, None, closed="left")],
        "n_examples_predict": [Interval(Integral, 1, None, closed="left")],
        "as_coded": ["boolean"],
        "backend": BACKEND_CONSTRAINT,
    }

    def __init__(
        self,
        n_layers: int = 3,
        n_examples_predict: int = 32,
        learning_rate: float = 0.01,
        batch_size: int = 32,
        max_steps: int = 50000,
        convergence_interval: int = 200,
        *,
        scaling: float = 1.0,
        as_coded: bool = False,
        backend="statevector",
        random_state=None,
        max_memory_mb: float | None = None,
    ):
        self.n_layers = n_layers
        self.n_examples_predict = n_examples_predict
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_steps = max_steps
        self.convergence_interval = convergence_interval
        self.scaling = scaling
        self.as_coded = as_coded
        self.backend = backend
        self.random_state = random_state
        self.max_memory_mb = max_memory_mb

    # -- the model --------------------------------------------------------------------------
    def _setup(self, n_features, rng):
        if not self.as_coded and self.batch_size < 2:
            raise ValueError(
                f"{type(self).__name__} estimates the within-class fidelities from pairs of "
                f"distinct draws of a class and needs batch_size >= 2, got "
                f"batch_size={self.batch_size}; raise it (or set as_coded=True)"
            )
        backend = resolve_backend(self.backend)
        if not (backend.exact or isinstance(backend, SamplingBackend)):
            raise ValueError(
                f"{type(self).__name__} trains on fidelities, which need states or "
                f"overlap-circuit estimates, and {backend!r} gives neither: use an exact "
                "backend or a SamplingBackend"
            )
        embedding = QAOAEmbedding(n_layers=self.n_layers, n_wires=n_features + 1)
        circuit = embedding.build(n_features)
        theta0 = embedding.initial_weights(n_features, rng)
        return MetricModel(backend, circuit), theta0, circuit.n_qubits

    def _with_training_set(self, model, X_scaled, target, rng):
        A, B = X_scaled[target == 0], X_scaled[target == 1]
        # As the study: the same number from each class, at most the smaller class's size.
        n = min(self.n_examples_predict, A.shape[0], B.shape[0])
        pick_a = rng.choice(A.shape[0], n, replace=False)
        pick_b = rng.choice(B.shape[0], n, replace=False)
        examples = np.stack([A[pick_a], B[pick_b]])
        return replace(model, examples=examples)

    def _objective(self, model, X_scaled, target):
        A, B = X_scaled[target == 0], X_scaled[target == 1]
        n_a, n_b = A.shape[0], B.shape[0]
        if self.as_coded:
            # The study lowers batch_size to the smaller class's size; its draws are
            # independent, so the first that many of ours are such a batch.
            m = min(self.batch_size, n_a, n_b)
            n_rows = n_a
        else:
            # A row indexes a pair (a, b) of A x B: a uniform draw of it is an independent
            # uniform draw from each class.
            m = self.batch_size
            n_rows = n_a * n_b
        constant, W = pair_weights(m, self.as_coded)
        if model.backend.exact:
            value_and_gradient = fidelity_objective
        else:  # a SamplingBackend (_setup refuses others): only the pairs the loss reads run
            value_and_gradient = partial(
                fidelity_objective_by_shifts, backend=model.backend, needed=W != 0
            )

        def objective(K):
            return constant + float(np.sum(W * K)), W

        def loss_grad(theta, rows):
            if self.as_coded:
                ia = rows[:m]
                ib = np.minimum(ia, n_b - 1)
            else:
                ia, ib = np.divmod(rows, n_b)
            batch = np.vstack([A[ia], B[ib]])
            # A step's products are small (tens of states): threaded BLAS made fits 8x
            # slower here (5d data, 6 qubits: 24 s instead of 3 s on two cores).
            with single_blas_thread():
                return value_and_gradient(
                    model.circuit, batch, theta, objective, max_memory_mb=self.max_memory_mb
                )

        return loss_grad, n_rows

    def _output(self, model, X_scaled, theta, cotangent=None):
        # Prediction only: training goes through _objective.
        n = model.examples.shape[1]
        K = model.backend.overlaps(
            model.circuit,
            X_scaled,
            model.examples.reshape(2 * n, -1),
            weights=theta,
            max_memory_mb=self.max_memory_mb,
        )
        p_a, p_b = K[:, :n].mean(axis=1), K[:, n:].mean(axis=1)
        total = p_a + p_b
        return np.divide(p_b, total, out=np.full_like(total, 0.5), where=total > 0), None

    def _decision(self, f):
        return 2 * f - 1  # p_B - p_A: positive for classes_[1]

    def _probability(self, f):
        return f

    def _model_attributes(self, model):
        return {"circuit_": model.circuit, "backend_": model.backend, "examples_": model.examples}
