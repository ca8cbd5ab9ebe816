"""Feature maps: parameter objects that build the encoding circuit for a number of features.

Each reproduces its published definition gate for gate, so states (global phase included)
equal those of the library named in its docstring.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations
from math import pi

import numpy as np
from sklearn.utils._param_validation import InvalidParameterError

from .._params import ParameterObject
from .._validation import check_bool, check_integer, check_pauli_label, check_real
from ._angle import Angle, feature, weight
from ._circuit import Circuit
from ._entanglement import entangler_map

__all__ = [
    "AngleEmbedding",
    "FeatureMap",
    "HeisenbergEmbedding",
    "HubregtsenEmbedding",
    "IQPEmbedding",
    "PauliFeatureMap",
    "ZZFeatureMap",
]


def _hyperparameter(obj, name: str) -> str:
    """How messages name a hyperparameter: ``ZZFeatureMap.reps``, the class the user made."""
    return f"{type(obj).__name__}.{name}"


def _uniform(random_state, low: float, high: float, size) -> np.ndarray:
    """Uniform draws from an int seed, None, a ``Generator`` or a legacy ``RandomState``."""
    if isinstance(random_state, np.random.RandomState):
        return random_state.uniform(low, high, size)
    return np.random.default_rng(random_state).uniform(low, high, size)


class FeatureMap(ParameterObject):
    """Base class: a parameter object that builds a data-encoding circuit.

    Subclasses implement :meth:`build`, and :meth:`n_qubits` when they do not use one qubit
    per feature. A feature map whose circuit has trainable weights (``build(n).n_weights >
    0``, a trainable embedding) also implements :meth:`initial_weights` and documents the
    order of its weights (what ``weight(j)`` is for each ``j``) in its docstring.

    Examples
    --------
    >>> from skqml.circuits import FeatureMap, ZZFeatureMap
    >>> fm = ZZFeatureMap(reps=1)
    >>> isinstance(fm, FeatureMap), fm.n_qubits(3), fm.build(3).n_features
    (True, 3, 3)
    """

    def n_qubits(self, n_features: int) -> int:
        """Number of qubits used for ``n_features`` features (one per feature by default).

        Parameters
        ----------
        n_features : int
            Number of features, at least 1.

        Returns
        -------
        n_qubits : int
        """
        return check_integer(n_features, "n_features", low=1)

    def build(self, n_features: int) -> Circuit:  # pragma: no cover - abstract
        """The circuit encoding ``n_features`` features ``x[0], ..., x[n_features - 1]``.

        Parameters
        ----------
        n_features : int
            Number of features, at least 1.

        Returns
        -------
        circuit : Circuit
        """
        raise NotImplementedError

    def initial_weights(self, n_features: int, random_state=None) -> np.ndarray:
        """Initial values of the circuit's trainable weights (none for a fixed encoding).

        The built-in feature maps without weights return an empty array; trainable
        embeddings draw their documented initialisation from ``random_state``.

        Parameters
        ----------
        n_features : int
            Number of features, at least 1.
        random_state : int, Generator, RandomState or None, default=None
            Seed or generator of the random initialisation.

        Returns
        -------
        weights : ndarray of shape (build(n_features).n_weights,)

        Examples
        --------
        >>> from skqml.circuits import ZZFeatureMap
        >>> ZZFeatureMap().initial_weights(3)
        array([], dtype=float64)
        """
        n_weights = self.build(n_features).n_weights
        if n_weights:
            raise NotImplementedError(
                f"{type(self).__name__} builds a circuit with {n_weights} trainable weights: "
                "it must define initial_weights(n_features, random_state)"
            )
        return np.zeros(0)


def _pauli_data_map(subset: tuple[int, ...]) -> Angle:
    """phi_S(x) = x_i for one qubit, prod_{k in S} (pi - x_k) for several (Havlicek et al.)."""
    if len(subset) == 1:
        return feature(subset[0])
    angle = pi - feature(subset[0])
    for k in subset[1:]:
        angle = angle * (pi - feature(k))
    return angle


def _pauli_evolution(circuit: Circuit, pauli: str, subset: tuple[int, ...], angle) -> Circuit:
    """Qiskit's Pauli evolution: basis change (H for X, SX for Y), parity phase, undo.

    This is ``exp(-i angle/2 P)`` times Qiskit's global phase. The Pauli string is read right
    to left: its last character acts on ``subset[0]``.
    """
    chars = pauli[::-1]
    active = [(q, c) for q, c in zip(subset, chars, strict=True) if c != "I"]
    if not active:
        return circuit
    for q, c in active:
        if c == "X":
            circuit = circuit.h(q)
        elif c == "Y":
            circuit = circuit.append("sx", q)
    qubits = sorted(q for q, _ in active)
    circuit = (
        circuit.p(angle, qubits[0]) if len(qubits) == 1 else circuit.multiphase(angle, qubits)
    )
    for q, c in active:
        if c == "X":
            circuit = circuit.h(q)
        elif c == "Y":
            circuit = circuit.append("sxdg", q)
    return circuit


class PauliFeatureMap(FeatureMap):
    """Pauli expansion feature map of Havlicek et al. (2019), as Qiskit's ``PauliFeatureMap``.

    ``reps`` times: a Hadamard on every qubit, then for each Pauli string ``P`` in ``paulis``
    and each qubit subset ``S`` of its size (from ``entanglement``), the evolution
    ``exp(-i alpha phi_S(x) P_S / 2)`` in Qiskit's form (a phase ``exp(i alpha phi_S(x))`` on
    basis states of odd parity after basis changes), with ``phi_S(x) = x_i`` for one qubit and
    ``prod_{k in S} (pi - x_k)`` for several.

    Parameters
    ----------
    paulis : sequence of str, default=("Z", "ZZ")
        Pauli strings over ``I, X, Y, Z``; the last character acts on the first qubit of each
        subset.
    reps : int, default=2
        Number of repetitions.
    entanglement : str or list of tuples, default="full"
        Which qubit subsets the multi-qubit terms act on: ``"full"``, ``"linear"``,
        ``"reverse_linear"``, ``"circular"``, ``"pairwise"``, ``"sca"`` or an explicit list
        (see :func:`~skqml.circuits.entangler_map`). One-qubit terms act on every qubit
        unless an explicit list contains one-qubit tuples.
    alpha : float, default=2.0
        Rotation scale.

    Examples
    --------
    >>> from skqml.circuits import PauliFeatureMap
    >>> fm = PauliFeatureMap(paulis=("Z", "YY"), reps=1)
    >>> fm.build(2).count_ops()
    {'h': 2, 'p': 2, 'sx': 2, 'multiphase': 1, 'sxdg': 2}
    """

    def __init__(
        self,
        paulis: Sequence[str] = ("Z", "ZZ"),
        *,
        reps: int = 2,
        entanglement: str | Sequence[Sequence[int]] = "full",
        alpha: float = 2.0,
    ):
        self.paulis = paulis
        self.reps = reps
        self.entanglement = entanglement
        self.alpha = alpha

    def _paulis(self) -> list[str]:
        name = _hyperparameter(self, "paulis")
        try:
            paulis = [self.paulis] if isinstance(self.paulis, str) else list(self.paulis)
        except TypeError:
            raise InvalidParameterError(
                f"{name} must be a Pauli string or a sequence of them, got {self.paulis!r}"
            ) from None
        if not paulis:
            raise InvalidParameterError(f"{name} must name at least one Pauli string")
        for p in paulis:
            if not isinstance(p, str) or not p:
                raise InvalidParameterError(
                    f"{name} must hold non-empty Pauli strings such as 'ZZ', got {p!r}"
                )
        # Each term's length is its own number of qubits; the letters are checked as for
        # every Pauli label in skqml.
        return [check_pauli_label(p, len(p), name=f"{name} term") for p in paulis]

    def _subsets(self, size: int, n: int, rep: int) -> list[tuple[int, ...]]:
        subsets = entangler_map(self.entanglement, size, n, offset=rep)
        if size == 1 and not subsets and not isinstance(self.entanglement, str):
            # An explicit list of pairs says where the pair terms go; one-qubit terms still
            # act on every qubit unless the list names one-qubit tuples itself.
            return [(q,) for q in range(n)]
        return subsets

    def build(self, n_features: int) -> Circuit:
        """The circuit encoding ``n_features`` features on ``n_features`` qubits.

        Parameters
        ----------
        n_features : int
            Number of features (and qubits), at least 1.

        Returns
        -------
        circuit : Circuit
            Reads features ``x[0], ..., x[n_features - 1]``; no trainable weights.
        """
        n = check_integer(n_features, "n_features", low=1)
        reps = check_integer(self.reps, _hyperparameter(self, "reps"), low=1)
        alpha = check_real(self.alpha, _hyperparameter(self, "alpha"))
        paulis = self._paulis()
        circuit = Circuit(n)
        for rep in range(reps):
            for q in range(n):
                circuit = circuit.h(q)
            for pauli in paulis:
                for subset in self._subsets(len(pauli), n, rep):
                    circuit = _pauli_evolution(
                        circuit, pauli, subset, alpha * _pauli_data_map(subset)
                    )
        return circuit


class ZZFeatureMap(PauliFeatureMap):
    """Second-order Pauli-Z feature map (Havlicek et al. 2019), as Qiskit's ``ZZFeatureMap``.

    A :class:`PauliFeatureMap` with ``paulis=("Z", "ZZ")``: per repetition, Hadamards, then
    ``P(alpha x_i)`` on each qubit, then for each pair ``(i, j)`` a phase
    ``exp(i alpha (pi - x_i)(pi - x_j))`` on basis states where exactly one of the two is 1.

    Parameters
    ----------
    reps : int, default=2
        Number of repetitions.
    entanglement : str or list of tuples, default="full"
        Pairs coupled by the ZZ terms (see :func:`~skqml.circuits.entangler_map`).
    alpha : float, default=2.0
        Rotation scale.

    Examples
    --------
    >>> from skqml.circuits import ZZFeatureMap
    >>> circuit = ZZFeatureMap(reps=1).build(3)
    >>> circuit.count_ops()
    {'h': 3, 'p': 3, 'multiphase': 3}
    >>> ZZFeatureMap(reps=3).set_params(entanglement="linear")
    ZZFeatureMap(entanglement='linear', reps=3)
    """

    def __init__(
        self,
        reps: int = 2,
        entanglement: str | Sequence[Sequence[int]] = "full",
        alpha: float = 2.0,
    ):
        # paulis is fixed to ("Z", "ZZ"), not a hyperparameter of this class.
        self.reps = reps
        self.entanglement = entanglement
        self.alpha = alpha

    def _paulis(self) -> list[str]:
        return ["Z", "ZZ"]


class IQPEmbedding(FeatureMap):
    """IQP embedding, as PennyLane's ``qml.IQPEmbedding``.

    ``n_repeats`` times: for each qubit ``i``, H then ``RZ(x_i)``; then for each pair
    ``(i, j)`` of ``pattern``, ``MultiRZ(x_i x_j)`` on ``(i, j)``.

    Parameters
    ----------
    n_repeats : int, default=1
        Number of repetitions.
    pattern : list of pairs, optional
        Qubit pairs of the ZZ terms; default all pairs ``i < j`` in lexicographic order.

    Examples
    --------
    >>> from skqml.circuits import IQPEmbedding
    >>> IQPEmbedding(n_repeats=2).build(3).count_ops()
    {'h': 6, 'rz': 6, 'multirz': 6}
    """

    def __init__(self, n_repeats: int = 1, pattern: Sequence[Sequence[int]] | None = None):
        self.n_repeats = n_repeats
        self.pattern = pattern

    def build(self, n_features: int) -> Circuit:
        """The circuit encoding ``n_features`` features on ``n_features`` qubits.

        Parameters
        ----------
        n_features : int
            Number of features (and qubits), at least 1.

        Returns
        -------
        circuit : Circuit
            Reads features ``x[0], ..., x[n_features - 1]``; no trainable weights.
        """
        n = check_integer(n_features, "n_features", low=1)
        reps = check_integer(self.n_repeats, _hyperparameter(self, "n_repeats"), low=1)
        if self.pattern is None:
            pairs = list(combinations(range(n), 2))
        else:
            pairs = entangler_map(self.pattern, 2, n)
            if len(pairs) != len(list(self.pattern)):
                raise ValueError(
                    f"{_hyperparameter(self, 'pattern')} must be a list of qubit pairs such "
                    f"as [(0, 1), (1, 2)], got {self.pattern!r}"
                )
        circuit = Circuit(n)
        for _ in range(reps):
            for i in range(n):
                circuit = circuit.h(i).rz(feature(i), i)
            for i, j in pairs:
                circuit = circuit.multirz(feature(i) * feature(j), (i, j))
        return circuit


class AngleEmbedding(FeatureMap):
    """Angle embedding, as PennyLane's ``qml.AngleEmbedding``: ``R(x_i)`` on qubit ``i``.

    Parameters
    ----------
    rotation : {"X", "Y", "Z"}, default="Y"
        Rotation axis (PennyLane's default is ``"X"``; ``"Y"`` gives real amplitudes).
    hadamard : bool, default=False
        Put a Hadamard on every qubit before the rotations (useful with ``"Z"``).

    Examples
    --------
    >>> from skqml.circuits import AngleEmbedding
    >>> print(AngleEmbedding().build(2))
    q0: ─RY(x[0])──
    <BLANKLINE>
    q1: ─RY(x[1])──
    """

    def __init__(self, rotation: str = "Y", hadamard: bool = False):
        self.rotation = rotation
        self.hadamard = hadamard

    def build(self, n_features: int) -> Circuit:
        """The circuit encoding ``n_features`` features on ``n_features`` qubits.

        Parameters
        ----------
        n_features : int
            Number of features (and qubits), at least 1.

        Returns
        -------
        circuit : Circuit
            One rotation per qubit (after a Hadamard with ``hadamard=True``).
        """
        n = check_integer(n_features, "n_features", low=1)
        if not isinstance(self.rotation, str) or self.rotation.upper() not in ("X", "Y", "Z"):
            raise InvalidParameterError(
                f"{_hyperparameter(self, 'rotation')} must be 'X', 'Y' or 'Z', "
                f"got {self.rotation!r}"
            )
        hadamard = check_bool(self.hadamard, _hyperparameter(self, "hadamard"))
        gate = "r" + self.rotation.lower()
        circuit = Circuit(n)
        for i in range(n):
            if hadamard:
                circuit = circuit.h(i)
            circuit = circuit.append(gate, i, feature(i))
        return circuit


class HeisenbergEmbedding(FeatureMap):
    """Trotterised Heisenberg evolution (Huang et al. 2021), as used for projected kernels.

    On ``n_features + 1`` qubits: first ``Rot`` with random angles (uniform in
    ``[0, 2 pi)``, ``numpy.random.default_rng(random_state).uniform(size=(n_qubits, 3))``
    times ``2 pi``) on every qubit; then ``trotter_steps`` times, for
    ``j = 0, ..., n_features - 1``: ``IsingXX``, ``IsingYY`` and ``IsingZZ`` on ``(j, j + 1)``,
    each with angle ``x_j * evolution_time * n_features / trotter_steps``, where
    ``IsingXX(a) = exp(-i a XX / 2)``: the Hamiltonian embedding of Bowles et al. (2024)'s
    projected quantum kernel, with its defaults.

    Parameters
    ----------
    trotter_steps : int, default=5
        Number of Trotter steps.
    evolution_time : float, default=1/3
        Total evolution time ``t``.
    random_state : int, Generator or None, default=0
        Seed of the initial random rotations. They are part of the circuit's definition, so
        the default is a fixed seed: every fit, clone and process builds the same circuit.
    rotations : array-like of shape (n_features + 1, 3), default=None
        The initial ``Rot`` angles themselves, one row per qubit (``random_state`` is then
        unused); ``None`` draws them from ``random_state``.

    Examples
    --------
    >>> from skqml.circuits import HeisenbergEmbedding
    >>> circuit = HeisenbergEmbedding(trotter_steps=2).build(3)
    >>> circuit.n_qubits, circuit.count_ops()
    (4, {'rot': 4, 'rxx': 6, 'ryy': 6, 'rzz': 6})
    """

    def __init__(
        self,
        trotter_steps: int = 5,
        evolution_time: float = 1 / 3,
        random_state=0,
        rotations=None,
    ):
        self.trotter_steps = trotter_steps
        self.evolution_time = evolution_time
        self.random_state = random_state
        self.rotations = rotations

    def n_qubits(self, n_features: int) -> int:
        """Number of qubits for ``n_features`` features: ``n_features + 1``.

        Parameters
        ----------
        n_features : int
            Number of features, at least 1.

        Returns
        -------
        n_qubits : int
        """
        return check_integer(n_features, "n_features", low=1) + 1

    def build(self, n_features: int) -> Circuit:
        """The circuit encoding ``n_features`` features on ``n_features + 1`` qubits.

        Parameters
        ----------
        n_features : int
            Number of features, at least 1.

        Returns
        -------
        circuit : Circuit
            Reads features ``x[0], ..., x[n_features - 1]``; its random initial rotations
            are fixed numbers drawn from ``random_state``.
        """
        n = check_integer(n_features, "n_features", low=1)
        steps = check_integer(self.trotter_steps, _hyperparameter(self, "trotter_steps"), low=1)
        t = check_real(self.evolution_time, _hyperparameter(self, "evolution_time"))
        if self.rotations is None:
            angles = _uniform(self.random_state, 0.0, 2 * pi, (n + 1, 3))
        else:
            angles = np.asarray(self.rotations, dtype=float)
            if angles.shape != (n + 1, 3) or not np.all(np.isfinite(angles)):
                raise ValueError(
                    f"{_hyperparameter(self, 'rotations')} must hold finite angles of shape "
                    f"({n + 1}, 3) (one Rot per qubit) for {n} features, got shape "
                    f"{angles.shape}; or pass None to draw them from random_state"
                )
        circuit = Circuit(n + 1)
        for q in range(n + 1):
            circuit = circuit.rot(*(float(a) for a in angles[q]), q)
        scale = t * n / steps
        for _ in range(steps):
            for j in range(n):
                a = scale * feature(j)
                circuit = circuit.rxx(a, j, j + 1).ryy(a, j, j + 1).rzz(a, j, j + 1)
        return circuit


class HubregtsenEmbedding(FeatureMap):
    """Trainable quantum embedding of Hubregtsen et al. (2022), as PennyLane's kernels demo.

    The embedding kernel trained by kernel-target alignment in "Training quantum embedding
    kernels on near-term quantum computers" (Phys. Rev. A 106, 042431), defined as the
    ``ansatz`` of PennyLane's demo "Training and evaluating quantum kernels". On ``n``
    wires, layer ``l = 0, ..., n_layers - 1`` applies, on every wire ``j = 0, ..., n - 1``
    in turn, ``H``, ``RZ(x[(l * n + j) mod n_features])`` and ``RY(theta)``, then the ring
    ``CRZ(theta)`` on ``(j, (j + 1) mod n)`` for ``j = 0, ..., n - 1`` (control first; no
    ring on a single wire). The features cycle over the wires and continue from layer to
    layer, so every feature is read even with fewer wires than features.

    Weights, in order: for each layer, the ``RY`` angles of wires ``0, ..., n - 1``, then
    the ``CRZ`` angles of the ring's gates in the order above: PennyLane's parameter array
    of shape ``(n_layers, 2, n)`` flattened in C order (``n_layers`` weights on one wire).
    :meth:`initial_weights` draws them uniformly in ``[0, 2 pi)``, as the demo does.

    Parameters
    ----------
    n_layers : int, default=6
        Number of layers (the demo uses 6).
    n_wires : int or None, default=None
        Number of qubits; ``None`` uses one per feature (the demo uses 5 wires for 2
        features).

    Examples
    --------
    >>> from skqml.circuits import HubregtsenEmbedding
    >>> fm = HubregtsenEmbedding(n_layers=2)
    >>> circuit = fm.build(3)
    >>> circuit.n_qubits, circuit.n_features, circuit.n_weights
    (3, 3, 12)
    >>> circuit.count_ops()
    {'h': 6, 'rz': 6, 'ry': 6, 'crz': 6}
    >>> fm.initial_weights(3, random_state=0).shape
    (12,)
    """

    def __init__(self, n_layers: int = 6, n_wires: int | None = None):
        self.n_layers = n_layers
        self.n_wires = n_wires

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
        return check_integer(self.n_wires, _hyperparameter(self, "n_wires"), low=1)

    def build(self, n_features: int) -> Circuit:
        """The trainable circuit encoding ``n_features`` features.

        Parameters
        ----------
        n_features : int
            Number of features, at least 1.

        Returns
        -------
        circuit : Circuit
            Reads features ``x[0], ..., x[n_features - 1]`` (all of them when
            ``n_layers * n_qubits >= n_features``) and ``weight(0), ...`` in the order of
            the class docstring.
        """
        n = self.n_qubits(n_features)
        layers = check_integer(self.n_layers, _hyperparameter(self, "n_layers"), low=1)
        ring = [(j, (j + 1) % n) for j in range(n)] if n > 1 else []
        circuit = Circuit(n)
        w = 0
        for layer in range(layers):
            for j in range(n):
                x = feature((layer * n + j) % n_features)
                circuit = circuit.h(j).rz(x, j).ry(weight(w), j)
                w += 1
            for control, target in ring:
                circuit = circuit.crz(weight(w), control, target)
                w += 1
        return circuit

    def initial_weights(self, n_features: int, random_state=None) -> np.ndarray:
        """Random initial weights, uniform in ``[0, 2 pi)`` as in PennyLane's demo.

        With a legacy ``RandomState`` they are the demo's ``np.random.uniform(0, 2 pi,
        (n_layers, 2, n_wires))`` drawn from the same state, flattened.

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
        >>> from skqml.circuits import HubregtsenEmbedding
        >>> w = HubregtsenEmbedding(n_layers=1).initial_weights(2, random_state=0)
        >>> w.shape, bool(((0 <= w) & (w < 6.3)).all())
        ((4,), True)
        """
        return _uniform(random_state, 0.0, 2 * pi, self.build(n_features).n_weights)
