"""Immutable circuit descriptions.

A :class:`Circuit` is a number of qubits plus a tuple of :class:`Operation`. It describes and
never simulates: :mod:`skqml.simulator` runs it. Qubit ordering: basis states are numbered
little-endian, qubit 0 being the least significant bit (as in Qiskit), so the amplitude of
``|q_{n-1} ... q_1 q_0>`` sits at index ``sum_q q * 2**q``.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

from ._angle import Angle, _as_angle
from ._gates import GateSpec, gate_spec

__all__ = ["Circuit", "Operation"]


@dataclass(frozen=True)
class Operation:
    """One gate application: a gate name, the qubits it acts on, and its angles.

    Examples
    --------
    >>> from skqml.circuits import Circuit, feature
    >>> op = Circuit(2).crx(2 * feature(0), 0, 1).operations[0]
    >>> op.name, op.qubits, str(op.params[0])
    ('crx', (0, 1), '2*x[0]')
    """

    name: str
    qubits: tuple[int, ...]
    params: tuple[Angle, ...] = ()

    def __post_init__(self):
        spec = gate_spec(self.name)
        object.__setattr__(self, "name", spec.name)
        qubits = tuple(int(q) for q in self.qubits)
        object.__setattr__(self, "qubits", qubits)
        object.__setattr__(self, "params", tuple(_as_angle(p) for p in self.params))
        if spec.n_qubits is not None and len(qubits) != spec.n_qubits:
            raise ValueError(f"gate {spec.name} acts on {spec.n_qubits} qubits, got {qubits}")
        if not qubits:
            raise ValueError(f"gate {spec.name} needs at least one qubit")
        if len(set(qubits)) != len(qubits):
            raise ValueError(f"gate {spec.name} got repeated qubits {qubits}")
        if min(qubits) < 0:
            raise ValueError(f"qubit indices must be non-negative, got {qubits}")
        if len(self.params) != spec.n_params:
            raise ValueError(
                f"gate {spec.name} takes {spec.n_params} angles, got {len(self.params)}"
            )

    @property
    def spec(self) -> GateSpec:
        """The gate's entry in the gate table (:func:`~skqml.circuits.gate_spec`)."""
        return gate_spec(self.name)

    def __str__(self) -> str:
        args = ", ".join(str(p) for p in self.params)
        head = f"{self.name.upper()}({args})" if args else self.name.upper()
        return f"{head} {list(self.qubits)}"


class Circuit:
    """An immutable quantum circuit on ``n_qubits`` qubits.

    Gate methods (``h``, ``rx``, ``cnot``, ...) return a new circuit with the gate appended,
    so circuits are built by chaining. Angles are numbers or :class:`Angle` expressions in
    data features and trainable weights.

    Parameters
    ----------
    n_qubits : int
        Number of qubits.
    operations : iterable of Operation, default=()
        The gates, applied in order.

    Examples
    --------
    >>> import numpy as np
    >>> from skqml.circuits import Circuit, feature
    >>> c = Circuit(2).h(0).cnot(0, 1).rz(2 * feature(0), 1)
    >>> c.n_qubits, c.n_features, len(c)
    (2, 1, 3)
    >>> print(c)
    q0: ─H──●──────────────
            │
    q1: ────X──RZ(2*x[0])──
    """

    def __init__(self, n_qubits: int, operations: Iterable[Operation] = ()):
        if int(n_qubits) != n_qubits or n_qubits < 1:
            raise ValueError(f"n_qubits must be a positive integer, got {n_qubits!r}")
        self._n_qubits = int(n_qubits)
        self._ops = tuple(operations)
        self._hash = None
        for op in self._ops:
            if not isinstance(op, Operation):
                raise TypeError(f"expected Operation, got {type(op).__name__}")
            if max(op.qubits) >= self._n_qubits:
                raise ValueError(
                    f"{op} uses qubit {max(op.qubits)} but the circuit has {self._n_qubits}"
                )

    # -- basic properties ---------------------------------------------------------------------
    @property
    def n_qubits(self) -> int:
        """Number of qubits."""
        return self._n_qubits

    @property
    def operations(self) -> tuple[Operation, ...]:
        """The gate applications, in order."""
        return self._ops

    def __len__(self) -> int:
        return len(self._ops)

    def __iter__(self):
        return iter(self._ops)

    def __eq__(self, other) -> bool:
        return (
            isinstance(other, Circuit)
            and self._n_qubits == other._n_qubits
            and self._ops == other._ops
        )

    def __hash__(self) -> int:
        # Kept: the simulator's caches look a circuit up at every call (a training step),
        # and hashing every angle of every gate each time cost more than a small step.
        if self._hash is None:
            self._hash = hash((self._n_qubits, self._ops))
        return self._hash

    def __getstate__(self):
        return {"n_qubits": self._n_qubits, "ops": self._ops}

    def __setstate__(self, state):
        self._n_qubits = state["n_qubits"]
        self._ops = state["ops"]
        self._hash = None  # string hashes differ between processes

    @cached_property
    def n_features(self) -> int:
        """Number of data features the circuit reads (highest feature index + 1)."""
        idx = [i for op in self._ops for p in op.params for i in p.features]
        return max(idx) + 1 if idx else 0

    @cached_property
    def n_weights(self) -> int:
        """Number of trainable weights (highest weight index + 1)."""
        idx = [j for op in self._ops for p in op.params for j in p.weights]
        return max(idx) + 1 if idx else 0

    def depth(self) -> int:
        """Number of layers when gates on disjoint qubits share a layer."""
        level = [0] * self._n_qubits
        for op in self._ops:
            d = max(level[q] for q in op.qubits) + 1
            for q in op.qubits:
                level[q] = d
        return max(level, default=0)

    def count_ops(self) -> dict[str, int]:
        """Number of gates of each kind."""
        counts: dict[str, int] = {}
        for op in self._ops:
            counts[op.name] = counts.get(op.name, 0) + 1
        return counts

    # -- building -----------------------------------------------------------------------------
    def append(self, name: str, qubits: Sequence[int] | int, *params) -> Circuit:
        """A new circuit with one more gate (any gate of the table, by name).

        Parameters
        ----------
        name : str
            Gate name or alias (``"rx"``, ``"cx"``, ...), see :func:`~skqml.circuits.gate_spec`.
        qubits : int or sequence of int
            The qubits the gate acts on, in the gate's order (controls first).
        *params : float or Angle
            The gate's angles: numbers, ``feature(i)``, ``weight(j)`` or expressions of them.

        Returns
        -------
        circuit : Circuit
            A new circuit: this one followed by the gate.
        """
        if isinstance(qubits, int):
            qubits = (qubits,)
        return Circuit(self._n_qubits, (*self._ops, Operation(name, tuple(qubits), params)))

    def compose(self, other: Circuit) -> Circuit:
        """This circuit followed by ``other`` (on the same or fewer qubits).

        Parameters
        ----------
        other : Circuit
            The circuit to append; its qubit ``i`` is this circuit's qubit ``i``.

        Returns
        -------
        circuit : Circuit
            A new circuit on this circuit's qubits.
        """
        if other.n_qubits > self._n_qubits:
            raise ValueError(
                f"cannot compose a {other.n_qubits}-qubit circuit onto {self._n_qubits} qubits"
            )
        return Circuit(self._n_qubits, self._ops + other._ops)

    __add__ = compose

    def with_input_scaling(self, offset: int) -> Circuit:
        """The circuit with every feature ``x[i]`` scaled by a new weight ``theta[offset + i]``.

        Used for trainable input scaling; with those weights at 1 the circuit is unchanged.

        Parameters
        ----------
        offset : int
            Index of the scaling weight of feature 0 (usually the number of other weights).

        Returns
        -------
        circuit : Circuit
            A new circuit with ``n_weights = offset + n_features``.
        """
        mapping = {i: offset + i for i in range(self.n_features)}
        return Circuit(
            self._n_qubits,
            (
                Operation(
                    op.name, op.qubits, tuple(p.with_scaled_features(mapping) for p in op.params)
                )
                for op in self._ops
            ),
        )

    def inverse(self) -> Circuit:
        """The adjoint circuit (gates reversed and inverted)."""
        from ._inverse import inverse_operation

        return Circuit(self._n_qubits, (inverse_operation(op) for op in reversed(self._ops)))

    def h(self, q):
        return self.append("h", q)

    def x(self, q):
        return self.append("x", q)

    def y(self, q):
        return self.append("y", q)

    def z(self, q):
        return self.append("z", q)

    def s(self, q):
        return self.append("s", q)

    def t(self, q):
        return self.append("t", q)

    def rx(self, angle, q):
        return self.append("rx", q, angle)

    def ry(self, angle, q):
        return self.append("ry", q, angle)

    def rz(self, angle, q):
        return self.append("rz", q, angle)

    def p(self, angle, q):
        return self.append("p", q, angle)

    def u3(self, theta, phi, lam, q):
        return self.append("u3", q, theta, phi, lam)

    def rot(self, a, b, c, q):
        return self.append("rot", q, a, b, c)

    def cnot(self, control, target):
        return self.append("cnot", (control, target))

    cx = cnot

    def cz(self, q0, q1):
        return self.append("cz", (q0, q1))

    def swap(self, q0, q1):
        return self.append("swap", (q0, q1))

    def crx(self, angle, control, target):
        return self.append("crx", (control, target), angle)

    def cry(self, angle, control, target):
        return self.append("cry", (control, target), angle)

    def crz(self, angle, control, target):
        return self.append("crz", (control, target), angle)

    def cp(self, angle, control, target):
        return self.append("cp", (control, target), angle)

    def rxx(self, angle, q0, q1):
        return self.append("rxx", (q0, q1), angle)

    def ryy(self, angle, q0, q1):
        return self.append("ryy", (q0, q1), angle)

    def rzz(self, angle, q0, q1):
        return self.append("rzz", (q0, q1), angle)

    def multirz(self, angle, qubits):
        return self.append("multirz", tuple(qubits), angle)

    def multiphase(self, angle, qubits):
        return self.append("multiphase", tuple(qubits), angle)

    # -- output -------------------------------------------------------------------------------
    def draw(self) -> str:
        """Text drawing, one row per qubit."""
        from ._drawing import draw_text

        return draw_text(self)

    def __str__(self) -> str:
        return self.draw()

    def __repr__(self) -> str:
        counts = ", ".join(f"{k}: {v}" for k, v in sorted(self.count_ops().items()))
        return f"<Circuit: {self._n_qubits} qubits, {len(self._ops)} gates ({counts})>"

    def to_qasm(self, x=None, weights=None, version: int = 2) -> str:
        """OpenQASM source with the angles bound to one sample ``x`` and ``weights``.

        Parameters
        ----------
        x : array-like of shape (n_features,), optional
            Feature values; needed if the circuit reads features.
        weights : array-like of shape (n_weights,), optional
            Trainable weights; needed if the circuit has any.
        version : {2, 3}, default=2
            OpenQASM version.
        """
        from ._qasm import to_qasm

        return to_qasm(self, x, weights, version)


_ANGLE_DOC = (
    "a number, ``feature(i)``, ``weight(j)`` or an expression of them (see "
    ":func:`~skqml.circuits.feature`)"
)
_ARGUMENT_DOCS = {
    "q": "q : int\n    Qubit index.",
    "q0": "q0 : int\n    First qubit.",
    "q1": "q1 : int\n    Second qubit.",
    "control": "control : int\n    Control qubit.",
    "target": "target : int\n    Target qubit.",
    "qubits": "qubits : sequence of int\n    The qubits the gate acts on.",
}


def _builder_doc(method_name: str, gate: str) -> str:
    """The docstring of a gate builder, from the gate table's description."""

    params = [
        p for p in inspect.signature(getattr(Circuit, method_name)).parameters if p != "self"
    ]
    lines = []
    for name in params:
        if name in _ARGUMENT_DOCS:
            lines.append(_ARGUMENT_DOCS[name])
        else:
            lines.append(f"{name} : float or Angle\n    Angle: {_ANGLE_DOC}.")
    doc_params = "\n".join(lines).replace("\n", "\n" + " " * 4)
    return (
        f"Append a gate: {gate_spec(gate).description}.\n\n"
        "    Circuits are immutable: the circuit it is called on does not change.\n\n"
        "    Parameters\n    ----------\n"
        f"    {doc_params}\n\n"
        "    Returns\n    -------\n"
        "    circuit : Circuit\n        A new circuit: this one followed by the gate.\n"
    )


for _method, _gate in {
    "h": "h",
    "x": "x",
    "y": "y",
    "z": "z",
    "s": "s",
    "t": "t",
    "rx": "rx",
    "ry": "ry",
    "rz": "rz",
    "p": "p",
    "u3": "u3",
    "rot": "rot",
    "cnot": "cnot",
    "cz": "cz",
    "swap": "swap",
    "crx": "crx",
    "cry": "cry",
    "crz": "crz",
    "cp": "cp",
    "rxx": "rxx",
    "ryy": "ryy",
    "rzz": "rzz",
    "multirz": "multirz",
    "multiphase": "multiphase",
}.items():
    getattr(Circuit, _method).__doc__ = _builder_doc(_method, _gate)
del _method, _gate
