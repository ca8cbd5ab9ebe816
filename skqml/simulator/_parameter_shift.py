"""Parameter-shift gradients: derivatives from shifted circuit runs, for any backend.

Where only expectation values can be had (shots, hardware), the derivative of an expectation
value with respect to one gate angle ``t`` comes from runs with ``t`` shifted, by the rule the
gate table declares for the gate (``GateSpec.shift_rule``):

- gates whose generator has two eigenvalues ``+-1/2`` (all rotations, Ising gates, MultiRZ,
  U3 and Rot per angle) or ``{0, -1}`` (P, CP, the multi-qubit parity phase):
  ``dE/dt = (E(t + pi/2) - E(t - pi/2)) / 2``;
- controlled rotations (generator eigenvalues ``{0, +-1/2}``): the four-term rule
  ``dE/dt = c1 (E(t + pi/2) - E(t - pi/2)) - c2 (E(t + 3 pi/2) - E(t - 3 pi/2))`` with
  ``c1 = (sqrt 2 + 1) / (4 sqrt 2)``, ``c2 = (sqrt 2 - 1) / (4 sqrt 2)``.

Angles are expressions in weights and features, so each gate occurrence is shifted as a whole
(the same shift for every sample) and the chain rule ``dt/dtheta`` is applied per sample.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..circuits._circuit import Circuit, Operation
from ..circuits._gates import gate_spec

__all__ = ["parameter_shift_vjp", "shift_rule"]


def shift_rule(gate: str) -> tuple[tuple[float, float], ...]:
    """``((coefficient, shift), ...)`` with ``dE/dt = sum c (E(t + s) - E(t - s))``.

    The rule is the gate's ``shift_rule`` in the gate table (:func:`skqml.circuits.gate_spec`).

    Examples
    --------
    >>> from skqml.simulator import shift_rule
    >>> shift_rule("ry")  # the two-term rule: (E(t + pi/2) - E(t - pi/2)) / 2
    ((0.5, 1.5707963267948966),)
    >>> len(shift_rule("crx"))  # controlled rotations: four terms
    2
    """
    spec = gate_spec(gate)
    if not spec.shift_rule or "parameter_shift" in spec.unsupported:
        raise NotImplementedError(f"gate {spec.name!r} has no parameter-shift rule")
    return spec.shift_rule


def _shifted(circuit: Circuit, index: int, param: int, shift: float) -> Circuit:
    ops = list(circuit.operations)
    op = ops[index]
    params = list(op.params)
    params[param] = params[param] + shift
    ops[index] = Operation(op.name, op.qubits, tuple(params))
    return Circuit(circuit.n_qubits, ops)


def parameter_shift_vjp(
    expectation_fn: Callable[[Circuit], np.ndarray],
    circuit: Circuit,
    X: np.ndarray | None,
    weights: np.ndarray,
    cotangent: np.ndarray,
) -> np.ndarray:
    """Gradient ``sum_{i,k} G[i, k] dE[i, k]/dweights`` from shifted runs.

    Parameters
    ----------
    expectation_fn : callable
        ``expectation_fn(circuit) -> E``: runs a circuit (same qubits, data and weights) on
        the batch and returns the expectation values ``(n_samples, n_observables)``.
    circuit : Circuit
        The circuit.
    X : ndarray of shape (n_samples, n_features) or None
        The data the runs use (for the chain rule of feature-dependent angles).
    weights : ndarray of shape (n_weights,)
        The trainable weights.
    cotangent : ndarray of shape (n_samples, n_observables)
        ``dL/dE``.

    Returns
    -------
    gradient : ndarray of shape (n_weights,)

    Examples
    --------
    >>> import numpy as np
    >>> from skqml.circuits import Circuit, weight
    >>> from skqml.simulator import expectations, parameter_shift_vjp
    >>> c = Circuit(1).ry(2 * weight(0), 0)  # <Z> = cos(2 theta)
    >>> run = lambda circ: expectations(circ, ["Z"], None, [0.3])
    >>> parameter_shift_vjp(run, c, None, np.array([0.3]), np.ones((1, 1))).round(6)
    array([-1.129285])
    """
    weights = np.asarray(weights, dtype=float)
    grad = np.zeros(weights.shape[0])
    G = np.asarray(cotangent, dtype=float)
    for index, op in enumerate(circuit.operations):
        for p, angle in enumerate(op.params):
            if not angle.weights:
                continue
            dE = 0.0
            for coeff, s in shift_rule(op.name):
                plus = expectation_fn(_shifted(circuit, index, p, s))
                minus = expectation_fn(_shifted(circuit, index, p, -s))
                dE = dE + coeff * (plus - minus)
            per_sample = np.einsum("ik,ik->i", G, dE)
            idx, dangle = angle.weight_gradient(X, weights, weights.shape[0])
            grad[idx] += (dangle * per_sample[None, :]).sum(axis=1)
    return grad
