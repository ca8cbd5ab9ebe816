"""Batched statevector simulation of :mod:`skqml.circuits` circuits."""

from ._adjoint import expectation_vjp, expectations, probability_vjp
from ._memory import SimulationMemoryError, default_max_memory_mb
from ._observables import (
    apply_pauli,
    pauli_expectations,
    probabilities,
    single_qubit_expectations,
)
from ._parameter_shift import parameter_shift_vjp, shift_rule
from ._state_derivatives import state_jacobian, state_vjp
from ._statevector import simulate, simulate_probabilities

__all__ = [
    "SimulationMemoryError",
    "apply_pauli",
    "default_max_memory_mb",
    "expectation_vjp",
    "expectations",
    "parameter_shift_vjp",
    "pauli_expectations",
    "probabilities",
    "probability_vjp",
    "shift_rule",
    "simulate",
    "simulate_probabilities",
    "single_qubit_expectations",
    "state_jacobian",
    "state_vjp",
]
