"""Adjoints of single operations, used by :meth:`Circuit.inverse`."""

from __future__ import annotations

from ._circuit import Operation


def inverse_operation(op: Operation) -> Operation:
    """The adjoint of one gate application, by the gate's ``inverse`` rule in the gate table."""
    rule = op.spec.inverse
    if rule is None or "inverse" in op.spec.unsupported:
        raise NotImplementedError(f"gate {op.name!r} has no inverse rule in the gate table")
    if rule.gate is None and not rule.negate:
        return op  # self-inverse
    params = tuple(-op.params[i] for i in rule.negate)
    return Operation(rule.gate or op.name, op.qubits, params)
