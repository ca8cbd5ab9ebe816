"""OpenQASM 2 and 3 export of circuits, with the angles bound to one sample.

Register qubit ``q[i]`` is skqml qubit ``i``. skqml numbers basis states little-endian, as
Qiskit does, so Qiskit's importers give exactly the same state vector. Gates are written with
the standard library's names where one exists (``qelib1.inc`` as shipped with Qiskit for
version 2, ``stdgates.inc`` for version 3); the others are defined at the top of the program
from library gates whose global phase is exact (``rz``, ``ry``, ``p``, ``cx``, ...), so the
definitions carry no extra global phase either.
"""

from __future__ import annotations

import math

import numpy as np

from ._circuit import Circuit, Operation

__all__ = ["to_qasm"]


def _parity_definition(name: str, rotation: str, k: int) -> str:
    """A ``k``-qubit gate that applies ``rotation`` to the parity, collected on the last qubit.

    ``rz`` gives MultiRZ ``exp(-i t Z...Z / 2)``; ``p`` gives the phase ``e^{i t}`` on odd
    parity, the Z-string evolution of Qiskit's Pauli feature maps.
    """
    args = [f"a{i}" for i in range(k)]
    chain = [f"cx {args[i]}, {args[i + 1]};" for i in range(k - 1)]
    body = [*chain, f"{rotation}(theta) {args[-1]};", *reversed(chain)]
    return f"gate {name}(theta) {', '.join(args)} {{ {' '.join(body)} }}"


def _decomposition_definition(op: Operation, version: int, definitions: dict[str, str]) -> str:
    """The gate of ``op`` defined by its exact decomposition into one-angle gates."""
    spec = op.spec
    args = [f"a{i}" for i in range(len(op.qubits))]
    angles = [f"theta{i}" for i in range(spec.n_params)]
    body = []
    for sub, angle in spec.decomposition:
        # The placeholder angle only selects the gate's name; the body passes the argument.
        gate, qubits = _gate_name(Operation(sub, range(len(args)), (0.0,)), version, definitions)
        body.append(f"{gate}({angles[angle]}) {', '.join(args[q] for q in qubits)};")
    head = f"gate {op.name}({', '.join(angles)}) {', '.join(args)}"
    return f"{head} {{ {' '.join(body)} }}"


def _format_angle(value: float) -> str:
    """Shortest round-tripping decimal (``repr``), always with a decimal point.

    OpenQASM 2's real literals need the point (``1.0e-05``, not Python's ``1e-05``).
    """
    if not math.isfinite(value):
        raise ValueError(f"cannot export a non-finite angle {value!r} to OpenQASM")
    text = repr(float(value))
    mantissa, _, exponent = text.partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    return mantissa + ("e" + exponent if exponent else "")


def _check_vector(values, name: str, needed: int) -> np.ndarray | None:
    if values is None:
        return None
    arr = np.asarray(values, dtype=float)
    if arr.ndim == 2 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one sample, a 1-D array; got shape {arr.shape}")
    if arr.shape[0] < needed:
        raise ValueError(f"the circuit needs {needed} {name} values, got {arr.shape[0]}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinity")
    return arr


def _gate_name(op: Operation, version: int, definitions: dict[str, str]) -> tuple[str, tuple]:
    """Name to call for ``op`` (recording any definition it needs) and its qubit order.

    From the gate table: the include file's name, else the gate's definition, its parity
    ladder or its exact decomposition.
    """
    spec, name, qubits = op.spec, op.name, op.qubits
    qasm = spec.qasm
    if f"qasm{version}" in spec.unsupported:
        raise NotImplementedError(f"gate {name!r} cannot be exported to OpenQASM {version}")
    if qasm is not None and qasm.name is not None and version in qasm.versions:
        return qasm.name, qubits
    if qasm is not None and qasm.definition is not None:
        definitions.setdefault(name, qasm.definition)
        return name, qubits
    if spec.parity is not None:
        k = len(qubits)
        # Parity is symmetric in the qubits: sort them so the chain ends on the highest one.
        qubits = tuple(sorted(qubits))
        small = dict(spec.parity.small).get(k)
        if small is not None:
            return _gate_name(Operation(small, qubits, op.params), version, definitions)
        rotation, _ = _gate_name(Operation(spec.parity.rotation, (0,), (0.0,)), version, {})
        gate = f"{name}_{k}"
        definitions.setdefault(gate, _parity_definition(gate, rotation, k))
        return gate, qubits
    if spec.decomposition:
        if name not in definitions:
            definitions[name] = _decomposition_definition(op, version, definitions)
        return name, qubits
    raise NotImplementedError(f"gate {name!r} has no OpenQASM {version} form in the gate table")


def to_qasm(circuit: Circuit, x=None, weights=None, version: int = 2) -> str:
    """OpenQASM source of ``circuit`` with its angles bound to one sample.

    Parameters
    ----------
    circuit : Circuit
        The circuit to export.
    x : array-like of shape (n_features,), optional
        Feature values of the sample; required if the circuit reads features.
    weights : array-like of shape (n_weights,), optional
        Trainable weights; required if the circuit has any.
    version : {2, 3}, default=2
        OpenQASM 2 (``include "qelib1.inc";``, ``qreg``) or 3 (``include "stdgates.inc";``,
        ``qubit[n]``).

    Returns
    -------
    str
        The program. Angles are written with full ``repr`` precision; register qubit ``q[i]``
        is circuit qubit ``i``.

    Raises
    ------
    ValueError
        For an unsupported ``version``, or missing, short or non-finite ``x``/``weights``.

    Examples
    --------
    >>> from skqml.circuits import Circuit, feature
    >>> c = Circuit(2).h(0).cnot(0, 1).rz(2 * feature(0), 1)
    >>> print(c.to_qasm(x=[0.25]), end="")
    OPENQASM 2.0;
    include "qelib1.inc";
    qreg q[2];
    h q[0];
    cx q[0], q[1];
    rz(0.5) q[1];
    """
    if isinstance(version, bool) or version not in (2, 3):
        raise ValueError(f"version must be 2 or 3, got {version!r}")
    version = int(version)
    x = _check_vector(x, "x", circuit.n_features)
    weights = _check_vector(weights, "weights", circuit.n_weights)
    if x is None and circuit.n_features:
        raise ValueError(f"the circuit reads {circuit.n_features} features: pass x")
    if weights is None and circuit.n_weights:
        raise ValueError(f"the circuit has {circuit.n_weights} trainable weights: pass weights")
    X = None if x is None else x[None, :]

    definitions: dict[str, str] = {}
    body = []
    for op in circuit.operations:
        gate, qubits = _gate_name(op, version, definitions)
        args = ", ".join(f"q[{q}]" for q in qubits)
        if op.params:
            angles = ", ".join(_format_angle(p.evaluate(X, weights)[0]) for p in op.params)
            body.append(f"{gate}({angles}) {args};")
        else:
            body.append(f"{gate} {args};")

    if version == 2:
        head = ["OPENQASM 2.0;", 'include "qelib1.inc";']
        register = f"qreg q[{circuit.n_qubits}];"
    else:
        head = ["OPENQASM 3.0;", 'include "stdgates.inc";']
        register = f"qubit[{circuit.n_qubits}] q;"
    return "\n".join([*head, *definitions.values(), register, *body]) + "\n"
