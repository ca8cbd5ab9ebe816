"""The variational classifiers of Bowles, Ahmed and Schuld (2024), on skqml's simulator.

Each takes the study's hyperparameter names and trains with the study's loop
(:func:`~skqml._optim.interval_descent`: Adam on mini-batches drawn with replacement until the
loss curve is flat over ``convergence_interval`` steps, at most ``max_steps``). Where the study
raises when training does not converge (a grid point then scores NaN in its searches), these
models warn, as scikit-learn's do.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import pi
from numbers import Integral

import numpy as np
from scipy.special import expit
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils._param_validation import Interval

from .._study_classifier import StudyClassifier, sigmoid_cross_entropy
from ..backends import resolve_backend
from ..backends._registry import BACKEND_CONSTRAINT
from ..circuits import Circuit, IQPEmbedding, StronglyEntanglingLayers, feature, weight
from ..circuits._amplitude import amplitude_angles, amplitude_circuit
from ..simulator import expectation_vjp, parameter_shift_vjp
from ..simulator._memory import require_memory
from ._models import _pauli_expectations

__all__ = [
    "CircuitCentricClassifier",
    "IQPVariationalClassifier",
    "SeparableVariationalClassifier",
    "TreeTensorClassifier",
]


class _RowsSplit(Exception):
    """The simulator cut the rows into chunks, but the cotangent needs all of them at once."""


def _expectations_and_gradient(
    backend, circuit, paulis, X, theta, cotangent, max_memory_mb, initial_states=None
):
    """``E`` and ``sum G dE/dtheta`` for ``G = cotangent(E)``: adjoint on exact backends,
    parameter shift on the others. ``cotangent`` sees all rows at once. ``initial_states``
    (exact backends only): the circuit starts from these states, one per row."""
    if backend.exact:
        n_rows = X.shape[0] if initial_states is None else initial_states.shape[0]

        def whole(E, rows):
            if rows.start != 0 or rows.stop != n_rows:
                raise _RowsSplit
            return cotangent(E)

        # One forward-backward pass when every row fits in one chunk (a study batch nearly
        # always does); else the values first, then the pass with their cotangent.
        try:
            return expectation_vjp(
                circuit,
                paulis,
                X,
                theta,
                whole,
                max_memory_mb=max_memory_mb,
                initial_states=initial_states,
            )
        except _RowsSplit:
            pass
    E = _pauli_expectations(backend, circuit, paulis, X, theta, max_memory_mb, initial_states)
    G = cotangent(E)
    if backend.exact:
        _, grad = expectation_vjp(
            circuit,
            paulis,
            X,
            theta,
            lambda _, rows: G[rows],
            max_memory_mb=max_memory_mb,
            initial_states=initial_states,
        )
        return E, grad

    def run(shifted):
        return _pauli_expectations(backend, shifted, paulis, X, theta, max_memory_mb)

    return E, parameter_shift_vjp(run, circuit, X, theta, G)


def _separable_circuit(n_qubits: int, encoding_layers: int) -> Circuit:
    """One qubit of the separable model, for every qubit at once.

    A row reads ``[x_q, e_0, ..., e_{n-1}]`` with ``e`` the one-hot code of its qubit ``q``,
    so that the angle ``sum_k e_k w[k, l, j]`` is qubit ``q``'s weight ``w[q, l, j]`` (index
    ``(q * (encoding_layers + 1) + l) * 3 + j``).
    """
    per_qubit = (encoding_layers + 1) * 3

    def angle(layer: int, j: int):
        terms = [feature(1 + q) * weight(q * per_qubit + layer * 3 + j) for q in range(n_qubits)]
        return sum(terms[1:], terms[0])

    circuit = Circuit(1)
    for layer in range(encoding_layers):
        circuit = circuit.rot(angle(layer, 0), angle(layer, 1), angle(layer, 2), 0)
        circuit = circuit.ry(feature(0), 0)
    last = encoding_layers
    return circuit.rot(angle(last, 0), angle(last, 1), angle(last, 2), 0)


def _qubit_rows(X: np.ndarray) -> np.ndarray:
    """``[x_q, one-hot(q)]`` for every sample and qubit, sample-major: (n * d, 1 + d)."""
    n, d = X.shape
    rows = np.zeros((n, d, 1 + d))
    rows[:, :, 0] = X
    rows[:, np.arange(d), 1 + np.arange(d)] = 1.0
    return rows.reshape(n * d, 1 + d)


@dataclass(frozen=True)
class PauliReadout:
    """A circuit model's fixed parts: where it runs, the circuit and the Paulis read."""

    backend: object
    circuit: Circuit
    paulis: list[str]


@dataclass(frozen=True)
class AmplitudeModel(PauliReadout):
    """An amplitude-encoded model: ``circuit`` is the encoding then ``trainable``; exact
    backends run ``trainable`` from the encoded states."""

    trainable: Circuit


class _StudyCircuitClassifier(StudyClassifier):
    """A study classifier whose output is computed from a circuit's expectation values.

    A subclass defines :meth:`_build` (circuit, Paulis, initial weights), :meth:`_rows` (the
    circuit's input rows for scaled samples) and :meth:`_reduce` / :meth:`_reduce_vjp`
    (``f`` per sample from the rows' expectation values, and back).
    """

    _parameter_constraints = {
        **StudyClassifier._parameter_constraints,
        "backend": BACKEND_CONSTRAINT,
    }

    def _build(self, n_features: int, rng) -> tuple[Circuit, list[str], np.ndarray]:
        raise NotImplementedError  # pragma: no cover - abstract

    def _rows(self, X_scaled: np.ndarray) -> np.ndarray:
        return X_scaled

    def _reduce(self, E: np.ndarray, n_samples: int) -> np.ndarray:
        raise NotImplementedError  # pragma: no cover - abstract

    def _reduce_vjp(self, G: np.ndarray, n_samples: int, n_rows: int) -> np.ndarray:
        raise NotImplementedError  # pragma: no cover - abstract

    def _setup(self, n_features, rng):
        circuit, paulis, theta0 = self._build(n_features, rng)
        return (
            PauliReadout(resolve_backend(self.backend), circuit, paulis),
            theta0,
            self._qubits(n_features, circuit),
        )

    def _qubits(self, n_features: int, circuit: Circuit) -> int:
        return circuit.n_qubits

    def _model_attributes(self, model):
        return {"circuit_": model.circuit, "backend_": model.backend}

    def _output(self, model, X_scaled, theta, cotangent=None):
        n = X_scaled.shape[0]
        rows = self._rows(X_scaled)
        if cotangent is None:
            E = _pauli_expectations(
                model.backend, model.circuit, model.paulis, rows, theta, self.max_memory_mb
            )
            return self._reduce(E, n), None

        def row_cotangent(E):
            return self._reduce_vjp(cotangent(self._reduce(E, n)), n, rows.shape[0])

        E, grad = _expectations_and_gradient(
            model.backend, model.circuit, model.paulis, rows, theta, row_cotangent,
            self.max_memory_mb,
        )  # fmt: skip
        return self._reduce(E, n), grad


_TRAINING_DOC = """learning_rate : float, default=0.001
        Adam's step size.
    batch_size : int, default=32
        Samples per step, drawn with replacement.
    max_steps : int, default=10000
        Maximum number of training steps.
    convergence_interval : int, default=200
        Steps per interval of the convergence test (see
        :func:`~skqml._optim.interval_descent`).
    scaling : float, default=1.0
        Factor applied to the features after their scaling to ``[-pi/2, pi/2]``.
    backend : str, Backend or None, default="statevector"
        Where the circuits run (adjoint gradients on exact backends, parameter shift on the
        others).
    random_state : int, Generator or None, default=None
        Seeds the initial weights and the mini-batches.
    max_memory_mb : float, default=None
        Memory budget of the simulation (MiB)."""


class SeparableVariationalClassifier(_StudyCircuitClassifier):
    """The separable variational classifier of Bowles et al. (2024): no entanglement.

    The features are scaled to ``[-pi/2, pi/2]`` (a ``MinMaxScaler`` fitted on the training
    set, then ``scaling``), one qubit per feature. Every qubit ``i`` runs, on its own,
    ``encoding_layers`` times a trainable ``Rot`` then ``RY(x_i)``, and a final trainable
    ``Rot``; the model's output is ``f = mean_i <Z_i>`` and ``P(classes_[1]) =
    sigmoid(6 f)``, trained by the cross-entropy with the study's loop. Initial weights are
    uniform in ``[0, 2 pi)``.

    Since the qubits never interact, skqml simulates one qubit per (sample, qubit) pair
    rather than a ``2**n_features`` state, as the study does.

    Parameters
    ----------
    encoding_layers : int, default=1
        Encoding layers per qubit.
    learning_rate, batch_size, max_steps, convergence_interval, scaling, backend, \
random_state, max_memory_mb
        As in :class:`IQPVariationalClassifier`.

    Attributes
    ----------
    weights_ : ndarray of shape (n_features * (encoding_layers + 1) * 3,)
        Trained ``Rot`` angles, qubit-major, then layer, then the three angles.
    circuit_ : Circuit
        The one-qubit circuit every (sample, qubit) pair runs: it reads
        ``[x_i, one-hot(i)]``, so that its angles are qubit ``i``'s weights.
    loss_curve_, converged_, n_iter_, scaler_, classes_, n_qubits_, n_features_in_
        As in :class:`IQPVariationalClassifier`.

    Examples
    --------
    >>> from skqml.studies.bowles2024 import load_dataset
    >>> from skqml.variational import SeparableVariationalClassifier
    >>> X_train, y_train, X_test, y_test = load_dataset("linearly_separable_2d")
    >>> clf = SeparableVariationalClassifier(learning_rate=0.1, random_state=0)
    >>> clf.fit(X_train, y_train).converged_, bool(clf.score(X_test, y_test) > 0.9)
    (True, True)
    """

    _parameter_constraints = {
        **_StudyCircuitClassifier._parameter_constraints,
        "encoding_layers": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        encoding_layers: int = 1,
        learning_rate: float = 0.001,
        batch_size: int = 32,
        max_steps: int = 10000,
        convergence_interval: int = 200,
        *,
        scaling: float = 1.0,
        backend="statevector",
        random_state=None,
        max_memory_mb: float | None = None,
    ):
        self.encoding_layers = encoding_layers
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_steps = max_steps
        self.convergence_interval = convergence_interval
        self.scaling = scaling
        self.backend = backend
        self.random_state = random_state
        self.max_memory_mb = max_memory_mb

    def _qubits(self, n_features, circuit):
        return n_features  # the circuit is one of them, run for each

    def _build(self, n_features, rng):
        theta0 = 2 * pi * rng.uniform(size=n_features * (self.encoding_layers + 1) * 3)
        return _separable_circuit(n_features, self.encoding_layers), ["Z"], theta0

    def _rows(self, X_scaled):
        return _qubit_rows(X_scaled)

    def _reduce(self, E, n_samples):
        return E.reshape(n_samples, -1).mean(axis=1)

    def _reduce_vjp(self, G, n_samples, n_rows):
        d = n_rows // n_samples
        return np.repeat(G / d, d)[:, None]

    def _loss(self, f, t):
        loss, d_logit = sigmoid_cross_entropy(6 * f, t)  # the logits are 6 f
        return loss, 6 * d_logit

    def _decision(self, f):
        return 6 * f

    def _probability(self, f):
        return expit(6 * f)


class IQPVariationalClassifier(_StudyCircuitClassifier):
    """The IQP variational classifier of Bowles et al. (2024) (after Havlicek et al. 2019).

    The features are scaled to ``[-pi/2, pi/2]`` (a ``MinMaxScaler`` fitted on the training
    set, then ``scaling``), one qubit per feature (at least two). The circuit is
    :class:`~skqml.circuits.IQPEmbedding` with ``n_repeats=repeats``, then
    :class:`~skqml.circuits.StronglyEntanglingLayers` with ``n_layers`` layers and CZ
    entanglers; the output is ``f = <Z_0 Z_1>`` and ``P(classes_[1]) = (1 + f) / 2``. The
    loss is the probability of a wrong label, ``mean (1 - y f) / 2`` with ``y = +-1``,
    minimised with the study's loop. Initial weights are uniform in ``[0, 2 pi)``.

    Parameters
    ----------
    repeats : int, default=1
        Repetitions of the IQP layer.
    n_layers : int, default=10
        Layers of the trainable circuit.
    %(training)s

    Attributes
    ----------
    weights_ : ndarray of shape (n_layers * n_qubits * 3,)
        Trained ``Rot`` angles in PennyLane's order (layer, qubit, angle).
    circuit_ : Circuit
        The circuit.
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
        Number of qubits (one per feature).
    n_features_in_ : int
        Number of features seen in fit.

    Examples
    --------
    >>> from skqml.studies.bowles2024 import load_dataset
    >>> from skqml.variational import IQPVariationalClassifier
    >>> X_train, y_train, X_test, y_test = load_dataset("linearly_separable_2d")
    >>> clf = IQPVariationalClassifier(n_layers=2, learning_rate=0.01, random_state=0)
    >>> clf.fit(X_train, y_train).n_qubits_, clf.weights_.shape
    (2, (12,))
    """

    _parameter_constraints = {
        **_StudyCircuitClassifier._parameter_constraints,
        "repeats": [Interval(Integral, 1, None, closed="left")],
        "n_layers": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        repeats: int = 1,
        n_layers: int = 10,
        learning_rate: float = 0.001,
        batch_size: int = 32,
        max_steps: int = 10000,
        convergence_interval: int = 200,
        *,
        scaling: float = 1.0,
        backend="statevector",
        random_state=None,
        max_memory_mb: float | None = None,
    ):
        self.repeats = repeats
        self.n_layers = n_layers
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_steps = max_steps
        self.convergence_interval = convergence_interval
        self.scaling = scaling
        self.backend = backend
        self.random_state = random_state
        self.max_memory_mb = max_memory_mb

    def _build(self, n_features, rng):
        if n_features < 2:
            raise ValueError(
                f"{type(self).__name__} reads <Z_0 Z_1> and needs at least 2 features (one "
                f"qubit each), got n_features={n_features}"
            )
        embedding = IQPEmbedding(n_repeats=self.repeats).build(n_features)
        layers = StronglyEntanglingLayers(n_layers=self.n_layers, imprimitive="cz")
        theta0 = 2 * pi * rng.uniform(size=layers.n_weights(n_features))
        label = "I" * (n_features - 2) + "ZZ"  # Z on qubits 0 and 1
        return embedding.compose(layers.build(n_features)), [label], theta0

    def _reduce(self, E, n_samples):
        return E[:, 0]

    def _reduce_vjp(self, G, n_samples, n_rows):
        return G[:, None]

    def _loss(self, f, t):
        y = 2 * t - 1
        return float(np.mean((1 - y * f) / 2)), -y / (2 * len(t))

    def _decision(self, f):
        return f

    def _probability(self, f):
        return (1 + f) / 2


IQPVariationalClassifier.__doc__ = IQPVariationalClassifier.__doc__ % {"training": _TRAINING_DOC}


def _bit_reversal(n_qubits: int) -> np.ndarray:
    """Index map from PennyLane's wire order (wire 0 the most significant bit) to skqml's
    (qubit 0 the least significant): ``v_skqml = v_pennylane[_bit_reversal(n)]``."""
    index = np.arange(2**n_qubits)
    out = np.zeros_like(index)
    for b in range(n_qubits):
        out |= ((index >> b) & 1) << (n_qubits - 1 - b)
    return out


class _AmplitudeClassifier(_StudyCircuitClassifier):
    """Amplitude-encoded models with ``f = <Z_0> + bias`` on the square loss (the study's
    tree tensor and circuit-centric classifiers).

    A subclass defines :meth:`_encoded_qubits` and :meth:`_vectors` (the vectors to
    encode, in PennyLane's wire order, from the features times ``scaling``), the
    trainable circuit (:meth:`_trainable`, with its initial weights), the initial bias and
    the factor of the square loss.
    """

    _loss_factor = 1.0  # loss = factor * mean((f - y)**2)

    def _scaler(self):
        return FunctionTransformer()

    def _encoded_qubits(self, n_features: int) -> int:
        raise NotImplementedError  # pragma: no cover - abstract

    def _vectors(self, X_scaled: np.ndarray) -> np.ndarray:
        raise NotImplementedError  # pragma: no cover - abstract

    def _trainable(self, n_qubits: int, rng) -> tuple[Circuit, np.ndarray, float]:
        """The trainable circuit, its initial weights and the initial bias."""
        raise NotImplementedError  # pragma: no cover - abstract

    def _setup(self, n_features, rng):
        n = self._encoded_qubits(n_features)
        trainable, theta0, bias0 = self._trainable(n, rng)
        model = AmplitudeModel(
            resolve_backend(self.backend),
            amplitude_circuit(n).compose(trainable),
            ["I" * (n - 1) + "Z"],
            trainable,
        )
        return model, np.append(theta0, bias0), n

    def _encoded_states(self, X_scaled) -> np.ndarray:
        """The amplitude vectors of the samples, in skqml's qubit order."""
        n = self._encoded_qubits(X_scaled.shape[1])
        # The encoded vectors, their reordered copy, and the angles with the working space of
        # amplitude_angles (or the complex states of exact backends): 2**n floats each per
        # sample (the Kronecker power's intermediate is smaller).
        require_memory(
            4 * 8.0 * X_scaled.shape[0] * 2**n,
            self.max_memory_mb,
            f"the amplitude encoding of {type(self).__name__} ({n} qubits)",
            hint="use fewer features or input copies, or predict fewer samples at once",
        )
        return self._vectors(X_scaled)[:, _bit_reversal(n)]

    def _output(self, model, X_scaled, theta, cotangent=None):
        # The bias is the last parameter; the circuit's weights come before it.
        bias, weights = theta[-1], theta[:-1]
        states = self._encoded_states(X_scaled)
        if model.backend.exact:
            # The trainable circuit from the encoded states themselves: the encoding
            # circuit's 2**q - 1 gates, 4**q operations per sample, are not simulated.
            circuit, rows, initial = model.trainable, None, states.astype(complex)
        else:
            circuit, rows, initial = model.circuit, amplitude_angles(states), None
        if cotangent is None:
            E = _pauli_expectations(
                model.backend, circuit, model.paulis, rows, weights, self.max_memory_mb, initial
            )
            return E[:, 0] + bias, None
        seen = {}

        def circuit_cotangent(E):  # dL/d<Z_0> = dL/df at f = <Z_0> + bias
            seen["G"] = cotangent(E[:, 0] + bias)
            return seen["G"][:, None]

        E, grad = _expectations_and_gradient(
            model.backend, circuit, model.paulis, rows, weights, circuit_cotangent,
            self.max_memory_mb, initial_states=initial,
        )  # fmt: skip
        return E[:, 0] + bias, np.append(grad, seen["G"].sum())

    def _loss(self, f, t):
        r = f - (2 * t - 1)
        c = self._loss_factor
        return float(c * np.mean(r**2)), 2 * c * r / len(t)

    def _decision(self, f):
        return f

    def _probability(self, f):
        return np.clip((1 + f) / 2, 0.0, 1.0)


def _padded(X: np.ndarray, size: int) -> np.ndarray:
    """The rows padded with ``1 / size`` to ``size`` entries and normalised (as the study)."""
    padded = np.full((X.shape[0], size), 1.0 / size)
    padded[:, : X.shape[1]] = X
    return padded / np.linalg.norm(padded, axis=1, keepdims=True)


class TreeTensorClassifier(_AmplitudeClassifier):
    """The tree tensor network classifier of Bowles et al. (2024) (after Grant et al. 2018).

    The features (times ``scaling``, no other scaling) are padded with the constant
    ``1 / 2**n_qubits_`` to ``2**n_qubits_`` entries, normalised and amplitude-encoded
    (:func:`~skqml.circuits._amplitude.amplitude_circuit`, in PennyLane's wire order) on
    ``n_qubits_`` qubits: ``ceil(log2 n_features)`` rounded up to a power of two (1 for one
    or two features). A tree of ``log2 n_qubits_`` layers follows: ``RY`` on qubits
    ``0, 2**l, 2 * 2**l, ...``, then CNOTs from ``i + 2**l`` to ``i`` for
    ``i = 0, 2**(l+1), ...``; then a final ``RY`` on qubit 0. The output is
    ``f = <Z_0> + bias`` (``P(classes_[1]) = (1 + f) / 2``, clipped to ``[0, 1]``), trained
    on the square loss ``(f - y)**2`` with ``y = +-1`` by the study's loop. Initial circuit
    weights are uniform in ``[0, 2 pi)``, the bias ``0.1`` times a standard normal.

    Parameters
    ----------
    learning_rate : float, default=0.01
        Adam's step size.
    batch_size, max_steps, convergence_interval, scaling, backend, random_state, \
max_memory_mb
        As in :class:`IQPVariationalClassifier` (``scaling`` multiplies the raw features).

    Attributes
    ----------
    weights_ : ndarray of shape (2 * n_qubits,)
        Trained ``RY`` angles (``2 * n_qubits_ - 1``), then the bias.
    circuit_ : Circuit
        Amplitude encoding then the tree; it reads the encoding's angles.
    loss_curve_, converged_, n_iter_, classes_, n_qubits_, n_features_in_
        As in :class:`IQPVariationalClassifier`.
    scaler_ : FunctionTransformer
        The identity (the model does not scale its features).

    Examples
    --------
    >>> from skqml.studies.bowles2024 import load_dataset
    >>> from skqml.variational import TreeTensorClassifier
    >>> X_train, y_train, X_test, y_test = load_dataset("linearly_separable_10d")
    >>> clf = TreeTensorClassifier(random_state=0).fit(X_train, y_train)
    >>> clf.n_qubits_, clf.weights_.shape
    (4, (8,))
    """

    def __init__(
        self,
        learning_rate: float = 0.01,
        batch_size: int = 32,
        max_steps: int = 10000,
        convergence_interval: int = 200,
        *,
        scaling: float = 1.0,
        backend="statevector",
        random_state=None,
        max_memory_mb: float | None = None,
    ):
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_steps = max_steps
        self.convergence_interval = convergence_interval
        self.scaling = scaling
        self.backend = backend
        self.random_state = random_state
        self.max_memory_mb = max_memory_mb

    @staticmethod
    def _tree_qubits(n_features: int) -> int:
        if n_features <= 2:
            return 1
        return 2 ** int(np.ceil(np.log2(np.ceil(np.log2(n_features)))))

    def _encoded_qubits(self, n_features):
        return self._tree_qubits(n_features)

    def _vectors(self, X_scaled):
        return _padded(X_scaled, 2 ** self._tree_qubits(X_scaled.shape[1]))

    def _trainable(self, n, rng):
        tree = Circuit(n)
        count, layers = 0, n.bit_length() - 1  # n is a power of two
        for layer in range(layers):
            for q in range(0, n, 2**layer):
                tree = tree.ry(weight(count), q)
                count += 1
            for i in range(0, n, 2 ** (layer + 1)):
                tree = tree.cnot(i + 2**layer, i)
        tree = tree.ry(weight(count), 0)
        return tree, 2 * pi * rng.uniform(size=count + 1), 0.1 * rng.normal()


class CircuitCentricClassifier(_AmplitudeClassifier):
    """The circuit-centric classifier of Bowles et al. (2024) (after Schuld et al. 2020).

    The features (times ``scaling``, no other scaling) are padded with the constant
    ``1 / 2**m`` to ``2**m`` entries (``m = ceil(log2 n_features)``), normalised, and
    ``n_input_copies`` copies of that vector are amplitude-encoded as their Kronecker
    product (in PennyLane's wire order) on ``n_input_copies * m`` qubits. Then
    :class:`~skqml.circuits.StronglyEntanglingLayers` with ``n_layers`` layers (CNOT); the
    output is ``f = <Z_0> + bias`` (``P(classes_[1]) = (1 + f) / 2``, clipped to
    ``[0, 1]``), trained on the square loss ``(f - y)**2 / 2`` with ``y = +-1`` by the study's
    loop. Initial weights are uniform in ``[0, 2 pi)``, the bias ``0.01``.

    Parameters
    ----------
    n_input_copies : int, default=2
        Copies of the encoded vector.
    n_layers : int, default=4
        Layers of the trainable circuit.
    learning_rate, batch_size, max_steps, convergence_interval, scaling, backend, \
random_state, max_memory_mb
        As in :class:`IQPVariationalClassifier` (``scaling`` multiplies the raw features).

    Attributes
    ----------
    weights_ : ndarray of shape (n_layers * n_qubits * 3 + 1,)
        Trained ``Rot`` angles in PennyLane's order (layer, qubit, angle), then the bias.
    circuit_, loss_curve_, converged_, n_iter_, classes_, n_qubits_, n_features_in_, scaler_
        As in :class:`TreeTensorClassifier`.

    Examples
    --------
    >>> from skqml.studies.bowles2024 import load_dataset
    >>> from skqml.variational import CircuitCentricClassifier
    >>> X_train, y_train, X_test, y_test = load_dataset("linearly_separable_5d")
    >>> clf = CircuitCentricClassifier(n_layers=1, random_state=0).fit(X_train, y_train)
    >>> clf.n_qubits_, clf.weights_.shape
    (6, (19,))
    """

    _loss_factor = 0.5  # optax's l2_loss

    _parameter_constraints = {
        **_StudyCircuitClassifier._parameter_constraints,
        "n_input_copies": [Interval(Integral, 1, None, closed="left")],
        "n_layers": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        n_input_copies: int = 2,
        n_layers: int = 4,
        learning_rate: float = 0.001,
        batch_size: int = 32,
        max_steps: int = 10000,
        convergence_interval: int = 200,
        *,
        scaling: float = 1.0,
        backend="statevector",
        random_state=None,
        max_memory_mb: float | None = None,
    ):
        self.n_input_copies = n_input_copies
        self.n_layers = n_layers
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_steps = max_steps
        self.convergence_interval = convergence_interval
        self.scaling = scaling
        self.backend = backend
        self.random_state = random_state
        self.max_memory_mb = max_memory_mb

    @staticmethod
    def _copy_qubits(n_features: int) -> int:
        return max(1, (n_features - 1).bit_length())  # ceil(log2 n), at least one qubit

    def _encoded_qubits(self, n_features):
        return self.n_input_copies * self._copy_qubits(n_features)

    def _vectors(self, X_scaled):
        x = _padded(X_scaled, 2 ** self._copy_qubits(X_scaled.shape[1]))
        V = x
        for _ in range(self.n_input_copies - 1):  # row-wise Kronecker power
            V = (V[:, :, None] * x[:, None, :]).reshape(x.shape[0], -1)
        return V

    def _trainable(self, n, rng):
        layers = StronglyEntanglingLayers(n_layers=self.n_layers)
        return layers.build(n), 2 * pi * rng.uniform(size=layers.n_weights(n)), 0.01
