"""Adjoints of single operations, used by :meth:`Circuit.inverse`."""

from __future__ import annotations

from ._circuit import Operation

_SELF_INVERSE = {"id", "h", "x", "y", "z", "cnot", "cy", "cz", "ch", "swap", "ccx"}
_PAIRS = {"s": "sdg", "sdg": "s", "t": "tdg", "tdg": "t", "sx": "sxdg", "sxdg": "sx"}
_NEGATE = {"rx", "ry", "rz", "p", "crx", "cry", "crz", "cp", "rxx", "ryy", "rzz", "multirz"}
_NEGATE.add("multiphase")


def inverse_operation(op: Operation) -> Operation:
    """The adjoint of one gate application."""
    if op.name in _SELF_INVERSE:
        return op
    if op.name in _PAIRS:
        return Operation(_PAIRS[op.name], op.qubits)
    if op.name in _NEGATE:
        return Operation(op.name, op.qubits, tuple(-p for p in op.params))
    if op.name == "u3":
        theta, phi, lam = op.params
        return Operation("u3", op.qubits, (-theta, -lam, -phi))
    if op.name in ("rot", "crot"):
        a, b, c = op.params
        return Operation(op.name, op.qubits, (-c, -b, -a))
    raise NotImplementedError(f"no inverse rule for gate {op.name}")  # pragma: no cover
