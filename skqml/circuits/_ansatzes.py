"""Ansatzes: parameter objects that build trainable circuits for a number of qubits.

Each reproduces its published definition gate for gate, and numbers its weights in the order
of the reference library's parameters, so the same weight vector gives the same state (global
phase included) as the library named in its docstring.

An ansatz's trainable angles are ``weight(offset + j)`` for ``j = 0, ..., n_weights - 1``:
``offset`` lets a model place the ansatz after other trainable gates (a trainable feature map,
another ansatz) and keep one flat weight vector.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import ceil, pi

import numpy as np
from sklearn.utils._param_validation import InvalidParameterError

from .._params import ParameterObject
from .._validation import check_bool, check_integer
from ._angle import feature, weight
from ._circuit import Circuit, Operation
from ._entanglement import entangler_map
from ._feature_maps import _hyperparameter, _uniform
from ._gates import gate_spec

__all__ = [
    "Ansatz",
    "DataReuploading",
    "EfficientSU2",
    "HardwareEfficient",
    "RealAmplitudes",
    "StronglyEntanglingLayers",
]

_SU2_GATES = ("rx", "ry", "rz")


def _pairs(ansatz, n: int, rep: int) -> list[tuple[int, ...]]:
    """The CX pairs of one repetition; an explicit list must hold pairs only."""
    entanglement = ansatz.entanglement
    pairs = entangler_map(entanglement, 2, n, offset=rep)
    if not isinstance(entanglement, str) and len(pairs) != len(list(entanglement)):
        raise InvalidParameterError(
            f"{_hyperparameter(ansatz, 'entanglement')} must be a name or a list of qubit "
            f"pairs such as [(0, 1), (1, 2)], got {entanglement!r}"
        )
    return pairs


class Ansatz(ParameterObject):
    """Base class: a parameter object that builds a trainable circuit.

    Subclasses implement :meth:`n_weights` and :meth:`build`, and may override
    :meth:`initial_weights`. Ansatzes that also read data features (data re-uploading) set
    the class attribute ``reads_features`` to True.

    Attributes
    ----------
    reads_features : bool
        Whether the built circuit reads data features as well as weights.

    Examples
    --------
    >>> from skqml.circuits import Ansatz, RealAmplitudes
    >>> ansatz = RealAmplitudes(reps=1)
    >>> isinstance(ansatz, Ansatz), ansatz.n_weights(3), ansatz.build(3).n_weights
    (True, 6, 6)
    """

    reads_features = False

    def n_weights(self, n_qubits: int) -> int:  # pragma: no cover - abstract
        """Number of trainable weights of the circuit on ``n_qubits`` qubits.

        Parameters
        ----------
        n_qubits : int
            Number of qubits, at least 1.

        Returns
        -------
        n_weights : int
        """
        raise NotImplementedError

    def build(self, n_qubits: int, offset: int = 0) -> Circuit:  # pragma: no cover - abstract
        """The circuit on ``n_qubits`` qubits, its angles ``weight(offset + j)``.

        Parameters
        ----------
        n_qubits : int
            Number of qubits, at least 1.
        offset : int, default=0
            Index of the first weight, so that the ansatz can follow other trainable gates
            in one flat weight vector.

        Returns
        -------
        circuit : Circuit
            Its weights are ``weight(offset), ..., weight(offset + n_weights(n_qubits) - 1)``.
        """
        raise NotImplementedError

    def initial_weights(self, n_qubits: int, random_state=None) -> np.ndarray:
        """Random initial weights, uniform in ``[-pi, pi)``.

        Every weight of the built-in layered ansatzes is a rotation angle, so this samples
        each rotation uniformly over its period (up to a global sign).

        Parameters
        ----------
        n_qubits : int
            Number of qubits.
        random_state : int, Generator, RandomState or None, default=None
            Seed or generator.

        Returns
        -------
        weights : ndarray of shape (n_weights(n_qubits),)
        """
        return _uniform(random_state, -pi, pi, self.n_weights(n_qubits))


def build_ansatz(
    ansatz, n_qubits: int, random_state, *, who: str, offset: int = 0, weights_only: bool = True
) -> tuple[Circuit, np.ndarray]:
    """The ansatz circuit on ``n_qubits`` qubits and its initial weights, checked once for all.

    Every estimator that takes an ``ansatz=`` builds it here, so that an ansatz of the wrong
    width, with inconsistent weight counts, or reading data features where only weights are
    allowed gets the same clear message naming the estimator ``who``.

    Parameters
    ----------
    ansatz : Ansatz
        The user's ansatz (any object with ``build`` and ``initial_weights``).
    n_qubits : int
        Width the estimator runs on.
    random_state : int, Generator, RandomState or None
        Seed of the initial weights.
    who : str
        Name of the estimator, for the messages.
    offset : int, default=0
        Index of the ansatz's first weight.
    weights_only : bool, default=True
        Refuse ansatzes that read data features (``reads_features``).

    Returns
    -------
    circuit : Circuit
        The ansatz circuit on ``n_qubits`` qubits.
    weights : ndarray of shape (n_weights,)
        Its finite initial weights (those past ``offset``).

    Examples
    --------
    >>> from skqml.circuits import RealAmplitudes
    >>> from skqml.circuits._ansatzes import build_ansatz
    >>> circuit, theta = build_ansatz(RealAmplitudes(reps=1), 3, 0, who="VQC")
    >>> circuit.n_qubits, theta.shape
    (3, (6,))
    """
    name = type(ansatz).__name__
    if weights_only and getattr(ansatz, "reads_features", False):
        raise ValueError(f"{who} needs an ansatz of weights only: {name} reads data features")
    circuit = ansatz.build(n_qubits, offset) if offset else ansatz.build(n_qubits)
    if not isinstance(circuit, Circuit):
        raise TypeError(f"{name}.build must return a skqml Circuit, got {type(circuit).__name__}")
    if circuit.n_qubits != n_qubits:
        raise ValueError(
            f"{who} runs on {n_qubits} qubits here (its encoding's width), but the ansatz {name} "
            f"built a {circuit.n_qubits}-qubit circuit; its build(n_qubits) must return a "
            f"circuit on exactly n_qubits qubits"
        )
    theta = np.asarray(ansatz.initial_weights(n_qubits, random_state), dtype=np.float64)
    n_weights = circuit.n_weights - offset
    if theta.ndim != 1 or theta.shape[0] != n_weights or not np.all(np.isfinite(theta)):
        raise ValueError(
            f"{name}.initial_weights({n_qubits}) must return {n_weights} finite weights (the "
            f"circuit's), got shape {theta.shape}"
        )
    return circuit, theta


def _rotation_layer(gates: Sequence[str], n: int, start: int) -> list[Operation]:
    """Each gate type in order on every qubit, angles ``weight(start), weight(start + 1), ...``."""
    ops = []
    for g, gate in enumerate(gates):
        for q in range(n):
            ops.append(Operation(gate, (q,), (weight(start + g * n + q),)))
    return ops


class _TwoLocal(Ansatz):
    """Qiskit's ``n_local`` with one-qubit rotation layers and CX entanglers."""

    def _gates(self) -> tuple[str, ...]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _checked(self) -> tuple[int, bool, tuple[str, ...]]:
        reps = check_integer(self.reps, _hyperparameter(self, "reps"), low=0)
        skip = check_bool(
            self.skip_final_rotation_layer, _hyperparameter(self, "skip_final_rotation_layer")
        )
        return reps, skip, self._gates()

    def n_weights(self, n_qubits: int) -> int:
        """Number of weights: one per rotation gate of every rotation layer.

        Parameters
        ----------
        n_qubits : int
            Number of qubits, at least 1.

        Returns
        -------
        n_weights : int
            ``len(gates) * n_qubits * (reps + 1)``, or ``* reps`` with
            ``skip_final_rotation_layer``.
        """
        n = check_integer(n_qubits, "n_qubits", low=1)
        reps, skip, gates = self._checked()
        return len(gates) * n * (reps + (0 if skip else 1))

    def build(self, n_qubits: int, offset: int = 0) -> Circuit:
        """The circuit on ``n_qubits`` qubits, weights numbered in Qiskit's order.

        Parameters
        ----------
        n_qubits : int
            Number of qubits, at least 1.
        offset : int, default=0
            Index of the first weight.

        Returns
        -------
        circuit : Circuit
            Angles ``weight(offset), ..., weight(offset + n_weights(n_qubits) - 1)``.
        """
        n = check_integer(n_qubits, "n_qubits", low=1)
        offset = check_integer(offset, "offset", low=0)
        reps, skip, gates = self._checked()
        per_layer = len(gates) * n
        ops: list[Operation] = []
        for rep in range(reps):
            ops += _rotation_layer(gates, n, offset + rep * per_layer)
            ops += [Operation("cnot", pair) for pair in _pairs(self, n, rep)]
        if not skip:
            ops += _rotation_layer(gates, n, offset + reps * per_layer)
        return Circuit(n, ops)


class RealAmplitudes(_TwoLocal):
    """Real-amplitudes ansatz, as Qiskit's ``real_amplitudes`` (formerly ``RealAmplitudes``).

    ``reps`` times: ``RY(theta)`` on every qubit, then ``CX(i, j)`` for every pair of
    ``entanglement`` (for ``"sca"``, shifted by the repetition index); then a final ``RY``
    layer unless ``skip_final_rotation_layer``. Weights are numbered layer by layer, qubit 0
    first within a layer: ``(reps + 1) * n_qubits`` of them (``reps * n_qubits`` when the final
    layer is skipped), in the order of Qiskit's parameter vector ``θ``. The amplitudes are
    real.

    Parameters
    ----------
    reps : int, default=3
        Number of rotation-plus-entangler repetitions (0 allowed, as in Qiskit).
    entanglement : str or list of pairs, default="reverse_linear"
        CX pairs: ``"full"``, ``"linear"``, ``"reverse_linear"``, ``"circular"``,
        ``"pairwise"``, ``"sca"`` or an explicit list of ``(control, target)`` pairs (see
        :func:`~skqml.circuits.entangler_map`).
    skip_final_rotation_layer : bool, default=False
        Leave out the final ``RY`` layer.

    Examples
    --------
    >>> from skqml.circuits import RealAmplitudes
    >>> ansatz = RealAmplitudes(reps=1)
    >>> ansatz.n_weights(3)
    6
    >>> print(ansatz.build(2))
    q0: ─RY(θ[0])──●──RY(θ[2])──
                   │
    q1: ─RY(θ[1])──X──RY(θ[3])──
    >>> ansatz.build(2, offset=4).n_weights
    8
    """

    def __init__(
        self,
        reps: int = 3,
        entanglement: str | Sequence[Sequence[int]] = "reverse_linear",
        skip_final_rotation_layer: bool = False,
    ):
        self.reps = reps
        self.entanglement = entanglement
        self.skip_final_rotation_layer = skip_final_rotation_layer

    def _gates(self) -> tuple[str, ...]:
        return ("ry",)


class EfficientSU2(_TwoLocal):
    """Hardware-efficient SU(2) ansatz, as Qiskit's ``efficient_su2`` (formerly ``EfficientSU2``).

    ``reps`` times: a rotation layer, then ``CX(i, j)`` for every pair of ``entanglement``;
    then a final rotation layer unless ``skip_final_rotation_layer``. A rotation layer applies
    each gate of ``su2_gates`` in turn to every qubit (all ``RY`` first, then all ``RZ`` with
    the default). Weights are numbered in that order: layer, then gate type, then qubit, as
    Qiskit's parameter vector ``θ``; ``len(su2_gates) * n_qubits * (reps + 1)`` of them.

    Parameters
    ----------
    reps : int, default=3
        Number of rotation-plus-entangler repetitions (0 allowed, as in Qiskit).
    entanglement : str or list of pairs, default="reverse_linear"
        CX pairs (see :class:`RealAmplitudes`).
    su2_gates : str or sequence of {"rx", "ry", "rz"}, default=("ry", "rz")
        Rotation gates of each layer, in order.
    skip_final_rotation_layer : bool, default=False
        Leave out the final rotation layer.

    Examples
    --------
    >>> from skqml.circuits import EfficientSU2
    >>> ansatz = EfficientSU2(reps=1, entanglement="circular")
    >>> ansatz.n_weights(3)
    12
    >>> ansatz.build(3).count_ops()
    {'ry': 6, 'rz': 6, 'cnot': 3}
    >>> EfficientSU2(su2_gates=("rx", "ry")).build(2).count_ops()
    {'rx': 8, 'ry': 8, 'cnot': 3}
    """

    def __init__(
        self,
        reps: int = 3,
        entanglement: str | Sequence[Sequence[int]] = "reverse_linear",
        su2_gates: str | Sequence[str] = ("ry", "rz"),
        skip_final_rotation_layer: bool = False,
    ):
        self.reps = reps
        self.entanglement = entanglement
        self.su2_gates = su2_gates
        self.skip_final_rotation_layer = skip_final_rotation_layer

    def _gates(self) -> tuple[str, ...]:
        name = _hyperparameter(self, "su2_gates")
        gates = [self.su2_gates] if isinstance(self.su2_gates, str) else self.su2_gates
        try:
            gates = list(gates)
        except TypeError:
            raise InvalidParameterError(
                f"{name} must be a gate name or a sequence of them, got {self.su2_gates!r}"
            ) from None
        if not gates:
            raise InvalidParameterError(f"{name} must name at least one gate, e.g. ('ry', 'rz')")
        for g in gates:
            if not isinstance(g, str):
                raise InvalidParameterError(f"{name} must hold gate names (str), got {g!r}")
            if g.lower() not in _SU2_GATES:
                raise InvalidParameterError(
                    f"{name}: unsupported su2 gate {g!r}; use 'rx', 'ry' or 'rz'"
                )
        return tuple(g.lower() for g in gates)


class StronglyEntanglingLayers(Ansatz):
    """Strongly entangling layers (Schuld et al. 2020), as PennyLane's StronglyEntanglingLayers.

    Layer ``l = 0, ..., n_layers - 1``: ``Rot(w[l, i, 0], w[l, i, 1], w[l, i, 2])`` on every
    qubit ``i`` (``Rot(a, b, c) = RZ(c) RY(b) RZ(a)``), then, when ``n_qubits > 1``, the
    two-qubit gate ``imprimitive`` on ``(i, (i + r_l) mod n_qubits)`` for
    ``i = 0, ..., n_qubits - 1``. The default ranges are ``r_l = (l mod (n_qubits - 1)) + 1``.
    The weights are ``w`` of shape ``(n_layers, n_qubits, 3)`` flattened in C order, PennyLane's
    weight tensor: ``weights.reshape(n_layers, n_qubits, 3)`` recovers it. skqml's qubit ``i``
    is PennyLane's wire ``i`` (PennyLane's states are big-endian: reverse the qubit axes to
    compare).

    Parameters
    ----------
    n_layers : int, default=2
        Number of layers.
    ranges : sequence of int, optional
        Range ``r_l`` of each layer's entanglers, one per layer; none may be a multiple of
        the number of qubits. Default as above.
    imprimitive : str, default="cnot"
        Name of a two-qubit gate without angles (``"cnot"``, ``"cz"``, ``"cy"``, ``"ch"``,
        ``"swap"``), applied as ``gate(i, (i + r_l) mod n)``.

    Examples
    --------
    >>> from skqml.circuits import StronglyEntanglingLayers
    >>> ansatz = StronglyEntanglingLayers(n_layers=2)
    >>> ansatz.n_weights(3)
    18
    >>> [op.qubits for op in ansatz.build(3) if op.name == "cnot"]
    [(0, 1), (1, 2), (2, 0), (0, 2), (1, 0), (2, 1)]
    """

    def __init__(
        self, n_layers: int = 2, ranges: Sequence[int] | None = None, imprimitive: str = "cnot"
    ):
        self.n_layers = n_layers
        self.ranges = ranges
        self.imprimitive = imprimitive

    def n_weights(self, n_qubits: int) -> int:
        """Number of weights: three ``Rot`` angles per qubit and layer.

        Parameters
        ----------
        n_qubits : int
            Number of qubits, at least 1.

        Returns
        -------
        n_weights : int
            ``3 * n_layers * n_qubits``.
        """
        n = check_integer(n_qubits, "n_qubits", low=1)
        return 3 * n * check_integer(self.n_layers, _hyperparameter(self, "n_layers"), low=1)

    def _ranges(self, n: int, n_layers: int) -> list[int]:
        if self.ranges is None:
            return [(l % (n - 1)) + 1 if n > 1 else 0 for l in range(n_layers)]
        name = _hyperparameter(self, "ranges")
        try:
            ranges = list(self.ranges)
        except TypeError:
            raise InvalidParameterError(
                f"{name} must be None or a sequence of integers, got {self.ranges!r}"
            ) from None
        if len(ranges) != n_layers:
            raise InvalidParameterError(
                f"{name} must have one entry per layer ({n_layers}), got {ranges}"
            )
        ranges = [check_integer(r, f"{name}[{l}]") for l, r in enumerate(ranges)]
        for r in ranges:
            # As PennyLane: a range that is a multiple of n would couple a qubit to itself.
            if r % n == 0:
                raise InvalidParameterError(
                    f"{name} must not be zero nor multiples of n_qubits ({n}); got {r}"
                )
        return ranges

    def _imprimitive(self) -> str:
        name = _hyperparameter(self, "imprimitive")
        if not isinstance(self.imprimitive, str):
            raise InvalidParameterError(
                f"{name} must be a gate name (str) such as 'cnot', got {self.imprimitive!r}"
            )
        spec = gate_spec(self.imprimitive)
        if spec.n_qubits != 2 or spec.n_params != 0:
            raise InvalidParameterError(
                f"{name} must be a two-qubit gate without angles ('cnot', 'cz', 'cy', 'ch', "
                f"'swap'), got {self.imprimitive!r}"
            )
        return spec.name

    def build(self, n_qubits: int, offset: int = 0) -> Circuit:
        """The circuit on ``n_qubits`` qubits, weights in PennyLane's C order.

        Parameters
        ----------
        n_qubits : int
            Number of qubits, at least 1.
        offset : int, default=0
            Index of the first weight.

        Returns
        -------
        circuit : Circuit
            Angles ``weight(offset + 3 * (l * n_qubits + i) + c)`` for layer ``l``, qubit
            ``i``, ``Rot`` angle ``c``.
        """
        n = check_integer(n_qubits, "n_qubits", low=1)
        offset = check_integer(offset, "offset", low=0)
        n_layers = check_integer(self.n_layers, _hyperparameter(self, "n_layers"), low=1)
        ranges = self._ranges(n, n_layers)
        gate = self._imprimitive()
        ops: list[Operation] = []
        for l in range(n_layers):
            for i in range(n):
                base = offset + 3 * (l * n + i)
                angles = (weight(base), weight(base + 1), weight(base + 2))
                ops.append(Operation("rot", (i,), angles))
            if n > 1:
                ops += [Operation(gate, (i, (i + ranges[l]) % n)) for i in range(n)]
        return Circuit(n, ops)


class HardwareEfficient(Ansatz):
    """skqml's hardware-efficient ansatz: RY and RZ rotations, then a ring of CNOTs.

    ``n_layers`` times: ``RY`` on every qubit, ``RZ`` on every qubit, then ``CX(i, j)`` for
    every pair of ``entanglement`` (default the ring ``(n-1, 0), (0, 1), ..., (n-2, n-1)``).
    There is no final rotation layer. Weights are numbered layer by layer: the ``RY`` angles of
    qubits ``0 .. n-1``, then the ``RZ`` angles; ``2 * n_qubits * n_layers`` of them. This is
    skqml's own definition of the common hardware-efficient pattern (Kandala et al. 2017), not
    a copy of a library's circuit.

    Parameters
    ----------
    n_layers : int, default=2
        Number of layers.
    entanglement : str or list of pairs, default="circular"
        CX pairs (see :class:`RealAmplitudes`); with two qubits ``"circular"`` is the one pair
        ``(0, 1)``.

    Examples
    --------
    >>> from skqml.circuits import HardwareEfficient
    >>> ansatz = HardwareEfficient(n_layers=2)
    >>> ansatz.n_weights(4)
    16
    >>> ansatz.build(4).count_ops()
    {'ry': 8, 'rz': 8, 'cnot': 8}
    """

    def __init__(
        self, n_layers: int = 2, entanglement: str | Sequence[Sequence[int]] = "circular"
    ):
        self.n_layers = n_layers
        self.entanglement = entanglement

    def n_weights(self, n_qubits: int) -> int:
        """Number of weights: an ``RY`` and an ``RZ`` angle per qubit and layer.

        Parameters
        ----------
        n_qubits : int
            Number of qubits, at least 1.

        Returns
        -------
        n_weights : int
            ``2 * n_layers * n_qubits``.
        """
        n = check_integer(n_qubits, "n_qubits", low=1)
        return 2 * n * check_integer(self.n_layers, _hyperparameter(self, "n_layers"), low=1)

    def build(self, n_qubits: int, offset: int = 0) -> Circuit:
        """The circuit on ``n_qubits`` qubits, weights numbered layer by layer.

        Parameters
        ----------
        n_qubits : int
            Number of qubits, at least 1.
        offset : int, default=0
            Index of the first weight.

        Returns
        -------
        circuit : Circuit
            Angles ``weight(offset), ..., weight(offset + n_weights(n_qubits) - 1)``.
        """
        n = check_integer(n_qubits, "n_qubits", low=1)
        offset = check_integer(offset, "offset", low=0)
        n_layers = check_integer(self.n_layers, _hyperparameter(self, "n_layers"), low=1)
        ops: list[Operation] = []
        for l in range(n_layers):
            ops += _rotation_layer(("ry", "rz"), n, offset + 2 * n * l)
            ops += [Operation("cnot", pair) for pair in _pairs(self, n, l)]
        return Circuit(n, ops)


class DataReuploading(Ansatz):
    """Data re-uploading circuit (Perez-Salinas et al. 2020), as in Bowles et al. (2024).

    The circuit of qml-benchmarks' ``DataReuploadingClassifier`` (the "multi-qubit
    classifier" of Perez-Salinas et al.), which both encodes the data and is trained. Features
    are split in chunks of three: qubit ``i`` reads ``x[3i], x[3i+1], x[3i+2]``, so ``d``
    features use ``ceil(d / 3)`` qubits, the missing features of the last chunk being zero
    (qml-benchmarks pads ``x`` with zeros). With trainable input weights ``omega`` of shape
    ``(n_layers + 1, 3 * n_qubits)`` and angles ``theta`` of shape
    ``(n_qubits, n_layers + 1, 3)``, and ``k = 3i, 3i+1, 3i+2``:

    - for ``l = 0, ..., n_layers - 1``: on each qubit ``i``,
      ``Rot(omega[l, k] * x[k])`` then ``Rot(theta[i, l, :])``; then ``CZ`` on the pairs
      ``(0, 1), (2, 3), ...`` for even ``l`` and ``(1, 2), (3, 4), ...`` for odd ``l``
      (PennyLane's ``"double"`` and ``"double_odd"`` patterns; none with
      ``entangling=False``, the study's separable variant);
    - a final upload without entanglers: ``Rot(omega[n_layers, k] * x[k] + theta[i, n_layers, :])``
      on each qubit ``i``.

    The data are uploaded ``n_layers + 1`` times. ``Rot(a, b, c) = RZ(c) RY(b) RZ(a)``. The
    weight vector is ``omega`` then ``theta``, each flattened in C order (the order
    ``jax.flatten_util.ravel_pytree`` gives the reference's circuit parameters)::

        n_omega = (n_layers + 1) * 3 * n_qubits
        omega = weights[:n_omega].reshape(n_layers + 1, 3 * n_qubits)
        theta = weights[n_omega:].reshape(n_qubits, n_layers + 1, 3)

    The input weights of zero-padded features do not appear in the circuit (their gradient
    is zero). qml-benchmarks scales each feature to ``[-pi/2, pi/2]`` before the circuit;
    that is the model's job, not the ansatz's.

    Use :meth:`n_qubits` and :meth:`build_for_features` (or :meth:`build` with
    ``n_features``): the circuit reads features ``x[0], ..., x[n_features - 1]`` and weights
    ``weight(offset + j)``.

    Parameters
    ----------
    n_layers : int, default=3
        Number of entangling blocks (0 allowed: a single upload).
    entangling : bool, default=True
        Whether the blocks end with their CZ gates.

    Examples
    --------
    >>> from skqml.circuits import DataReuploading
    >>> ansatz = DataReuploading(n_layers=1)
    >>> ansatz.n_qubits(4), ansatz.n_weights(2)
    (2, 24)
    >>> circuit = ansatz.build_for_features(4)
    >>> circuit.n_features, circuit.n_weights, circuit.count_ops()
    (4, 24, {'rot': 6, 'cz': 1})
    """

    reads_features = True

    def __init__(self, n_layers: int = 3, entangling: bool = True):
        self.n_layers = n_layers
        self.entangling = entangling

    def n_qubits(self, n_features: int) -> int:
        """Number of qubits for ``n_features`` features: ``ceil(n_features / 3)``.

        Parameters
        ----------
        n_features : int
            Number of features, at least 1.

        Returns
        -------
        n_qubits : int
        """
        return ceil(check_integer(n_features, "n_features", low=1) / 3)

    def n_weights(self, n_qubits: int) -> int:
        """Number of weights: the input weights ``omega`` and the angles ``theta``.

        Parameters
        ----------
        n_qubits : int
            Number of qubits, at least 1.

        Returns
        -------
        n_weights : int
            ``6 * n_qubits * (n_layers + 1)``.
        """
        n = check_integer(n_qubits, "n_qubits", low=1)
        # omega: (L + 1, 3 n); theta: (n, L + 1, 3).
        return 6 * n * (check_integer(self.n_layers, _hyperparameter(self, "n_layers"), low=0) + 1)

    def initial_weights(self, n_qubits: int, random_state=None) -> np.ndarray:
        """Random initial weights, uniform in ``[0, 1)``, as qml-benchmarks and Perez-Salinas.

        Both the input weights ``omega`` and the angles ``theta`` are drawn uniformly in
        ``[0, 1)``, the initialisation of the reference implementations.

        Parameters
        ----------
        n_qubits : int
            Number of qubits.
        random_state : int, Generator, RandomState or None, default=None
            Seed or generator.

        Returns
        -------
        weights : ndarray of shape (n_weights(n_qubits),)
        """
        return _uniform(random_state, 0.0, 1.0, self.n_weights(n_qubits))

    def build(self, n_qubits: int, offset: int = 0, n_features: int | None = None) -> Circuit:
        """The circuit on ``n_qubits`` qubits reading ``n_features`` features.

        Parameters
        ----------
        n_qubits : int
            Number of qubits.
        offset : int, default=0
            Index of the first weight.
        n_features : int, optional
            Number of features read, at most ``3 * n_qubits``; default ``3 * n_qubits``.
            Features past ``n_features`` count as zero, as the reference's padding.

        Returns
        -------
        Circuit
        """
        n = check_integer(n_qubits, "n_qubits", low=1)
        offset = check_integer(offset, "offset", low=0)
        n_layers = check_integer(self.n_layers, _hyperparameter(self, "n_layers"), low=0)
        d = 3 * n if n_features is None else check_integer(n_features, "n_features", low=1)
        if d > 3 * n:
            raise ValueError(f"{n} qubits read at most {3 * n} features, got n_features={d}")
        n_omega = (n_layers + 1) * 3 * n

        def upload(l: int, k: int):
            # omega[l, k] * x[k]; a padded feature is zero, so is its angle.
            return weight(offset + 3 * n * l + k) * feature(k) if k < d else 0.0

        def theta(i: int, l: int, c: int) -> int:
            return offset + n_omega + (i * (n_layers + 1) + l) * 3 + c

        ops: list[Operation] = []
        for l in range(n_layers):
            for i in range(n):
                ops.append(Operation("rot", (i,), tuple(upload(l, 3 * i + c) for c in range(3))))
                ops.append(Operation("rot", (i,), tuple(weight(theta(i, l, c)) for c in range(3))))
            if self.entangling:
                ops += [Operation("cz", (i, i + 1)) for i in range(l % 2, n - 1, 2)]
        for i in range(n):
            angles = tuple(
                upload(n_layers, 3 * i + c) + weight(theta(i, n_layers, c)) for c in range(3)
            )
            ops.append(Operation("rot", (i,), angles))
        return Circuit(n, ops)

    def build_for_features(self, n_features: int, offset: int = 0) -> Circuit:
        """The circuit for ``n_features`` features, on ``n_qubits(n_features)`` qubits.

        Parameters
        ----------
        n_features : int
            Number of features, at least 1.
        offset : int, default=0
            Index of the first weight.

        Returns
        -------
        circuit : Circuit
        """
        return self.build(self.n_qubits(n_features), offset, n_features)
