"""The dressed quantum circuit classifier of Bowles et al. (2024), after Mari et al. (2020).

A classical layer ``a = (pi / 2) tanh(W_in x)`` gives the input angles of a circuit; the
circuit's ``<Z_i>`` go through a second classical layer to two logits. Every weight is
trained together with the study's loop, with exact gradients. On exact backends one adjoint
pass gives them all: the circuit is trained in a form whose input angles are linearised in
``W_in`` (below, ``LinearisedInputs``). On sampling backends the parameter-shift rule gives
the circuit's weights, and the shift rule of ``RY`` on the input angles, per sample, the
classical layer before the circuit.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import pi
from numbers import Integral

import numpy as np
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import Interval

from .._study_classifier import LogitOutput, StudyClassifier
from ..backends import resolve_backend
from ..backends._registry import BACKEND_CONSTRAINT
from ..circuits import Circuit, feature, weight
from ..circuits._entanglement import ring_pairs
from ._bowles2024 import PauliReadout, _expectations_and_gradient, _qubit_rows
from ._models import _pauli_expectations, _z_labels

__all__ = ["DressedQuantumCircuitClassifier", "SeparableDressedQuantumCircuitClassifier"]


def _angle_shift_vjp(run, rows: np.ndarray, columns, G: np.ndarray) -> np.ndarray:
    """``sum_j G[r, j] dE[r, j] / d rows[r, k]`` for every row ``r`` and column ``k``.

    Each column is an angle read by exactly one ``RY`` (an exact two-term shift rule with
    shift ``pi/2``); ``run(rows) -> E`` evaluates the circuit. All shifted copies run in one
    call. Returns an array of shape ``(len(rows), len(columns))``.
    """
    columns = list(columns)
    shifted = np.repeat(rows[None], 2 * len(columns), axis=0)
    for k, column in enumerate(columns):
        shifted[2 * k, :, column] += pi / 2
        shifted[2 * k + 1, :, column] -= pi / 2
    E = run(shifted.reshape(-1, rows.shape[1])).reshape(2 * len(columns), *G.shape)
    dE = (E[0::2] - E[1::2]) / 2  # (columns, rows, labels)
    return np.einsum("krj,rj->rk", dE, G)


@dataclass(frozen=True)
class LinearisedInputs(PauliReadout):
    """A dressed model on an exact backend, with the circuit it is trained through.

    ``training`` is ``circuit`` with each input angle ``a_i`` replaced by ``a_i + sum_k
    m_ik c_ik``: trainable ``m`` (after the circuit's weights, row by row) read at ``m = 0``,
    and features ``c_ik = (pi/2) (1 - tanh(u_i)^2) x_k`` (``u = W_in x``) after the angles.
    At ``m = 0`` its states are the circuit's, and ``dL/dm_ik = sum_samples dL/da_i c_ik`` is
    ``dL/dW_in[i, k]``: the adjoint pass that gives the circuit's weights gives ``W_in``'s
    too, instead of two more circuit runs per feature and sample.
    """

    training: Circuit


class DressedQuantumCircuitClassifier(LogitOutput, StudyClassifier):
    """The dressed quantum circuit classifier of Bowles et al. (2024) (Mari et al. 2020).

    The features are standardised (a ``StandardScaler`` fitted on the training set, then
    ``scaling``). One qubit per feature; for a sample ``x``:

    1. input angles ``a = (pi / 2) tanh(W_in x)``, ``W_in`` of shape
       ``(n_features, n_features)``;
    2. on every qubit ``i``, ``H`` then ``RY(a_i)``; then ``n_layers`` times ``RY(theta[l, i])``
       on every qubit followed by a ring of CNOTs ``(i, i + 1 mod n)``;
    3. two logits ``W_out <Z>``, ``W_out`` of shape ``(2, n_features)``, with the softmax
       cross-entropy loss; ``P(classes_[1])`` is the softmax of the second logit.

    All weights are trained together with the study's loop. Initial weights as in the study:
    ``theta`` uniform in ``[0, 2 pi)``, ``W_in`` and ``W_out`` normal divided by the number of
    features. The gradient of ``W_in`` runs through the input angles of every sample: on
    exact backends in the same adjoint pass as the circuit's weights (the input angles
    linearised in ``W_in``), on sampling backends by the exact shift rule of ``RY`` (two
    circuit evaluations per feature and sample).

    Parameters
    ----------
    n_layers : int, default=3
        Trainable layers of the circuit.
    learning_rate : float, default=0.001
        Adam's step size.
    batch_size : int, default=32
        Samples per step, drawn with replacement.
    max_steps : int, default=100000
        Maximum number of training steps (the study's default for this model).
    convergence_interval : int, default=200
        Steps per interval of the convergence test (see
        :func:`~skqml._optim.interval_descent`).
    scaling : float, default=1.0
        Factor applied to the standardised features.
    backend : str, Backend or None, default="statevector"
        Where the circuits run (adjoint gradients on exact backends, parameter shift on the
        others).
    random_state : int, Generator or None, default=None
        Seeds the initial weights and the mini-batches.
    max_memory_mb : float, default=None
        Memory budget of the simulation (MiB).

    Attributes
    ----------
    weights_ : ndarray of shape (n_layers * n + n * n + 2 * n,)
        Trained weights, ``n = n_features_in_``: ``theta`` (layer-major), then ``W_in`` and
        ``W_out``, each flattened in C order; :attr:`circuit_weights_`,
        :attr:`input_weights_` and :attr:`output_weights_` are the three parts.
    circuit_weights_ : ndarray of shape (n_layers, n_qubits)
        Trained circuit angles ``theta``.
    input_weights_ : ndarray of shape (n_features, n_features)
        Trained ``W_in``.
    output_weights_ : ndarray of shape (2, n_qubits)
        Trained ``W_out``.
    circuit_ : Circuit
        The circuit; it reads the input angles ``a`` as its features.
    backend_ : Backend
        The resolved backend.
    loss_curve_ : list of float
        Mini-batch loss of every step.
    converged_ : bool
        Whether the convergence test was passed within ``max_steps``.
    n_iter_ : int
        Steps taken.
    scaler_ : StandardScaler
        The standardisation, fitted on the training set.
    classes_ : ndarray of shape (2,)
        Class labels.
    n_qubits_ : int
        Number of qubits (one per feature).
    n_features_in_ : int
        Number of features seen in fit.

    Examples
    --------
    >>> from skqml.studies.bowles2024 import load_dataset
    >>> from skqml.variational import DressedQuantumCircuitClassifier
    >>> X_train, y_train, X_test, y_test = load_dataset("linearly_separable_2d")
    >>> clf = DressedQuantumCircuitClassifier(n_layers=1, learning_rate=0.1, random_state=0)
    >>> clf.fit(X_train, y_train).n_qubits_, bool(clf.score(X_test, y_test) > 0.9)
    (2, True)
    """

    _parameter_constraints = {
        **StudyClassifier._parameter_constraints,
        "n_layers": [Interval(Integral, 0, None, closed="left")],
        "backend": BACKEND_CONSTRAINT,
    }

    def __init__(
        self,
        n_layers: int = 3,
        learning_rate: float = 0.001,
        batch_size: int = 32,
        max_steps: int = 100000,
        convergence_interval: int = 200,
        *,
        scaling: float = 1.0,
        backend="statevector",
        random_state=None,
        max_memory_mb: float | None = None,
    ):
        self.n_layers = n_layers
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_steps = max_steps
        self.convergence_interval = convergence_interval
        self.scaling = scaling
        self.backend = backend
        self.random_state = random_state
        self.max_memory_mb = max_memory_mb

    # -- the circuit (the separable variant changes these) ----------------------------------
    def _circuit(self, n_qubits: int) -> tuple[Circuit, list[str]]:
        """The circuit reading the input angles as features ``0..n-1`` and its Paulis."""
        return self._layered([feature(i) for i in range(n_qubits)]), _z_labels(n_qubits)

    def _layered(self, input_angles) -> Circuit:
        """``H`` and ``RY(input_angles[i])`` on every qubit ``i``, then the trainable layers."""
        n_qubits = len(input_angles)
        circuit = Circuit(n_qubits)
        for i, angle in enumerate(input_angles):
            circuit = circuit.h(i).ry(angle, i)
        for layer in range(self.n_layers):
            for i in range(n_qubits):
                circuit = circuit.ry(weight(layer * n_qubits + i), i)
            for control, target in ring_pairs(n_qubits):
                circuit = circuit.cnot(control, target)
        return circuit

    def _training_circuit(self, n_qubits: int) -> Circuit | None:
        """The circuit with input angles linearised in ``W_in`` (see ``LinearisedInputs``),
        or None where the input layer's gradient takes the shift rule."""
        n, n_circuit = n_qubits, self.n_layers * n_qubits
        linear = [
            [weight(n_circuit + i * n + k) * feature(n + i * n + k) for k in range(n)]
            for i in range(n)
        ]
        return self._layered([sum(linear[i], feature(i)) for i in range(n)])

    def _rows(self, A: np.ndarray) -> np.ndarray:
        """The circuit's input rows for the input angles ``A`` of shape (samples, qubits)."""
        return A

    def _angle_columns(self, n_qubits: int) -> list[int]:
        """The row columns that hold input angles."""
        return list(range(n_qubits))

    def _as_samples(self, E: np.ndarray, n_samples: int) -> np.ndarray:
        """``<Z_i>`` of every sample, shape (samples, qubits), from the rows' values."""
        return E

    # -- the model --------------------------------------------------------------------------
    def _scaler(self):
        return StandardScaler()

    def _setup(self, n_features, rng):
        n = n_features
        # The study's order of draws: circuit angles, then the input and output layers.
        theta = 2 * pi * rng.uniform(size=(self.n_layers, n))
        W_in = rng.normal(size=(n, n)) / n
        W_out = rng.normal(size=(2, n)) / n
        circuit, paulis = self._circuit(n)
        backend = resolve_backend(self.backend)
        training = self._training_circuit(n) if backend.exact else None
        if training is None:
            readout = PauliReadout(backend, circuit, paulis)
        else:
            readout = LinearisedInputs(backend, circuit, paulis, training)
        return readout, np.concatenate([theta.ravel(), W_in.ravel(), W_out.ravel()]), n

    def _split(self, theta: np.ndarray, n: int):
        n_circuit = self.n_layers * n
        return (
            theta[:n_circuit],
            theta[n_circuit : n_circuit + n * n].reshape(n, n),
            theta[n_circuit + n * n :].reshape(2, n),
        )

    def _model_attributes(self, model):
        return {"circuit_": model.circuit, "backend_": model.backend}

    def _output(self, model, X_scaled, theta, cotangent=None):
        n_samples, n = X_scaled.shape
        circuit_weights, W_in, W_out = self._split(theta, n)
        tanh = np.tanh(X_scaled @ W_in.T)
        rows = self._rows(pi / 2 * tanh)
        # The softmax cross-entropy of two logits is the sigmoid cross-entropy of their
        # difference f = <Z> . (W_out[1] - W_out[0]).
        delta = W_out[1] - W_out[0]

        def run(R):
            return _pauli_expectations(
                model.backend, model.circuit, model.paulis, R, circuit_weights,
                self.max_memory_mb,
            )  # fmt: skip

        if cotangent is None:
            return self._as_samples(run(rows), n_samples) @ delta, None

        def row_cotangent(E_rows):
            g = cotangent(self._as_samples(E_rows, n_samples) @ delta)
            return np.outer(g, delta).reshape(E_rows.shape)

        slopes = (pi / 2) * (1 - tanh**2)  # da_i / du_i of a = (pi/2) tanh(u), u = W_in x
        linearised = isinstance(model, LinearisedInputs)
        if linearised:  # the circuit's and W_in's gradients in one adjoint pass
            linear = (slopes[:, :, None] * X_scaled[:, None, :]).reshape(n_samples, n * n)
            E, grad_inner = _expectations_and_gradient(
                model.backend, model.training, model.paulis, np.hstack([rows, linear]),
                np.concatenate([circuit_weights, np.zeros(n * n)]), row_cotangent,
                self.max_memory_mb,
            )  # fmt: skip
        else:
            E_rows, grad_circuit = _expectations_and_gradient(
                model.backend, model.circuit, model.paulis, rows, circuit_weights,
                row_cotangent, self.max_memory_mb,
            )  # fmt: skip
            E = self._as_samples(E_rows, n_samples)
        z = E @ delta
        g = cotangent(z)
        if not linearised:
            # dL/da per sample and qubit by the shift rule, then through a = (pi/2) tanh(u).
            G_rows = np.outer(g, delta).reshape(E_rows.shape)
            dA = _angle_shift_vjp(run, rows, self._angle_columns(n), G_rows).reshape(n_samples, n)
            grad_inner = np.concatenate([grad_circuit, ((dA * slopes).T @ X_scaled).ravel()])
        grad_out = np.stack([-(g @ E), g @ E])
        return z, np.concatenate([grad_inner, grad_out.ravel()])

    @property
    def circuit_weights_(self) -> np.ndarray:
        """Trained circuit angles, shape (n_layers, n_qubits)."""
        return self._split(self.weights_, self.n_features_in_)[0].reshape(self.n_layers, -1)

    @property
    def input_weights_(self) -> np.ndarray:
        """Trained input layer ``W_in``, shape (n_features, n_features)."""
        return self._split(self.weights_, self.n_features_in_)[1]

    @property
    def output_weights_(self) -> np.ndarray:
        """Trained output layer ``W_out``, shape (2, n_qubits)."""
        return self._split(self.weights_, self.n_features_in_)[2]


class SeparableDressedQuantumCircuitClassifier(DressedQuantumCircuitClassifier):
    """The separable dressed quantum circuit classifier of Bowles et al. (2024).

    :class:`DressedQuantumCircuitClassifier` without the CNOT rings: every qubit runs ``H``,
    ``RY(a_i)`` and its ``n_layers`` trainable ``RY`` on its own. skqml therefore simulates
    one qubit per (sample, qubit) pair rather than a ``2**n_features`` state, as in
    :class:`SeparableVariationalClassifier`; the classical layers before and after still mix
    the features.

    Parameters
    ----------
    n_layers, learning_rate, batch_size, max_steps, convergence_interval, scaling, backend, \
random_state, max_memory_mb
        As in :class:`DressedQuantumCircuitClassifier`.

    Attributes
    ----------
    circuit_ : Circuit
        The one-qubit circuit every (sample, qubit) pair runs: it reads ``[a_i, one-hot(i)]``,
        so that its angles are qubit ``i``'s weights.
    weights_, circuit_weights_, input_weights_, output_weights_, backend_, loss_curve_, \
converged_, n_iter_, scaler_, classes_, n_qubits_, n_features_in_
        As in :class:`DressedQuantumCircuitClassifier`.

    Examples
    --------
    >>> from skqml.studies.bowles2024 import load_dataset
    >>> from skqml.variational import SeparableDressedQuantumCircuitClassifier
    >>> X_train, y_train, X_test, y_test = load_dataset("linearly_separable_2d")
    >>> clf = SeparableDressedQuantumCircuitClassifier(
    ...     n_layers=1, learning_rate=0.1, random_state=0
    ... )
    >>> clf.fit(X_train, y_train).circuit_.n_qubits, bool(clf.score(X_test, y_test) > 0.9)
    (1, True)
    """

    def _training_circuit(self, n_qubits):
        return None  # one qubit per row: the shift rule on its input angle is two more runs

    def _circuit(self, n_qubits):
        circuit = Circuit(1).h(0).ry(feature(0), 0)
        for layer in range(self.n_layers):
            terms = [feature(1 + q) * weight(layer * n_qubits + q) for q in range(n_qubits)]
            circuit = circuit.ry(sum(terms[1:], terms[0]), 0)
        return circuit, ["Z"]

    def _rows(self, A):
        return _qubit_rows(A)

    def _angle_columns(self, n_qubits):
        return [0]

    def _as_samples(self, E, n_samples):
        return E.reshape(n_samples, -1)
