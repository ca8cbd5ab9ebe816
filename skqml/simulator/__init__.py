"""Batched statevector simulation of :mod:`skqml.circuits` circuits."""

from ._memory import SimulationMemoryError, default_max_memory_mb
from ._observables import pauli_expectations, probabilities, single_qubit_expectations
from ._statevector import simulate

__all__ = [
    "SimulationMemoryError",
    "default_max_memory_mb",
    "pauli_expectations",
    "probabilities",
    "simulate",
    "single_qubit_expectations",
]
