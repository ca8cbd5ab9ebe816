"""The trainable QAOA embedding of Lloyd, Schuld, Ijaz, Izaac and Killoran (2020)."""

from __future__ import annotations

import numpy as np
from sklearn.utils._param_validation import InvalidParameterError

from .._validation import check_integer
from ._angle import feature, weight
from ._circuit import Circuit
from ._entanglement import ring_pairs
from ._feature_maps import FeatureMap, _hyperparameter

__all__ = ["QAOAEmbedding"]


def _weights_per_layer(n_wires: int) -> int:
    """PennyLane's ``QAOAEmbedding.shape(n_layers, n_wires)[1]``."""
    if n_wires == 1:
        return 1
    if n_wires == 2:
        return 3
    return 2 * n_wires


class QAOAEmbedding(FeatureMap):
    """QAOA-inspired trainable embedding, as PennyLane's ``qml.QAOAEmbedding``.

    The embedding of "Quantum embeddings for machine learning" (Lloyd et al. 2020,
    arXiv:2001.03622). On ``n`` wires, each of the ``n_layers`` layers applies:

    1. the feature layer: ``RX(x_i)`` on wire ``i`` for every feature, and ``H`` on the
       wires beyond the features;
    2. the trainable Ising layer: ``MultiRZ`` (``exp(-i w ZZ / 2)``) on the ring
       ``(i, i + 1 mod n)`` for ``i = 0, ..., n - 1``, then the local field
       ``R(w)`` (``RY`` by default) on every wire ``i``. On two wires there is one
       ``MultiRZ`` on ``(0, 1)`` (no ring), on one wire only the local field.

    After the last layer the feature layer is applied once more. The number of features
    must not exceed the number of wires.

    Weights, in order: PennyLane's weight array of shape ``(n_layers, 2 n)`` (``(n_layers,
    3)`` on two wires, ``(n_layers, 1)`` on one) flattened in C order: per layer, the
    ``MultiRZ`` angles in ring order, then the local fields of wires ``0, ..., n - 1``.
    :meth:`initial_weights` draws them normal with standard deviation 0.1, as Bowles et al.
    (2024) initialise the embedding of their quantum metric learner.

    Parameters
    ----------
    n_layers : int, default=1
        Number of layers.
    n_wires : int or None, default=None
        Number of qubits; ``None`` uses one per feature. Wires beyond the features get
        Hadamards in every feature layer (Bowles et al. use ``n_features + 1``).
    local_field : {"X", "Y", "Z"}, default="Y"
        Axis of the trainable one-qubit rotations (PennyLane's ``local_field``).

    Examples
    --------
    >>> from skqml.circuits import QAOAEmbedding
    >>> fm = QAOAEmbedding(n_layers=2, n_wires=3)
    >>> circuit = fm.build(2)
    >>> circuit.n_qubits, circuit.n_features, circuit.n_weights
    (3, 2, 12)
    >>> circuit.count_ops()
    {'rx': 6, 'h': 3, 'multirz': 6, 'ry': 6}
    >>> fm.initial_weights(2, random_state=0).shape
    (12,)
    """

    def __init__(self, n_layers: int = 1, n_wires: int | None = None, local_field: str = "Y"):
        self.n_layers = n_layers
        self.n_wires = n_wires
        self.local_field = local_field

    def n_qubits(self, n_features: int) -> int:
        """Number of qubits: ``n_wires``, or one per feature when it is None.

        Parameters
        ----------
        n_features : int
            Number of features, at least 1.

        Returns
        -------
        n_qubits : int
        """
        n_features = check_integer(n_features, "n_features", low=1)
        if self.n_wires is None:
            return n_features
        n_wires = check_integer(self.n_wires, _hyperparameter(self, "n_wires"), low=1)
        if n_features > n_wires:
            raise ValueError(
                f"{type(self).__name__} encodes at most one feature per wire: "
                f"{n_features} features do not fit n_wires={n_wires}; raise n_wires or "
                "pass None (one wire per feature)"
            )
        return n_wires

    def build(self, n_features: int) -> Circuit:
        """The trainable circuit encoding ``n_features`` features.

        Parameters
        ----------
        n_features : int
            Number of features, at least 1 and at most the number of wires.

        Returns
        -------
        circuit : Circuit
            Reads features ``x[0], ..., x[n_features - 1]`` and ``weight(0), ...`` in the
            order of the class docstring.
        """
        n = self.n_qubits(n_features)
        layers = check_integer(self.n_layers, _hyperparameter(self, "n_layers"), low=1)
        field = self.local_field
        if not isinstance(field, str) or field.upper() not in ("X", "Y", "Z"):
            raise InvalidParameterError(
                f"{_hyperparameter(self, 'local_field')} must be 'X', 'Y' or 'Z', got {field!r}"
            )
        gate = "r" + field.lower()
        ring = ring_pairs(n)
        per_layer = _weights_per_layer(n)

        def feature_layer(circuit: Circuit) -> Circuit:
            for i in range(n):
                circuit = circuit.rx(feature(i), i) if i < n_features else circuit.h(i)
            return circuit

        circuit = Circuit(n)
        for layer in range(layers):
            circuit = feature_layer(circuit)
            w = layer * per_layer
            for pair in ring:
                circuit = circuit.multirz(weight(w), pair)
                w += 1
            for i in range(n):
                circuit = circuit.append(gate, i, weight(w))
                w += 1
        return feature_layer(circuit)

    def initial_weights(self, n_features: int, random_state=None) -> np.ndarray:
        """Random initial weights: normal with standard deviation 0.1.

        Parameters
        ----------
        n_features : int
            Number of features, at least 1.
        random_state : int, Generator, RandomState or None, default=None
            Seed or generator.

        Returns
        -------
        weights : ndarray of shape (build(n_features).n_weights,)

        Examples
        --------
        >>> from skqml.circuits import QAOAEmbedding
        >>> w = QAOAEmbedding(n_layers=3).initial_weights(1, random_state=0)
        >>> w.shape, bool(abs(w).max() < 1)
        ((3,), True)
        """
        n_weights = self.build(n_features).n_weights
        rng = (
            random_state
            if isinstance(random_state, np.random.RandomState)
            else np.random.default_rng(random_state)
        )
        return 0.1 * rng.standard_normal(n_weights)
