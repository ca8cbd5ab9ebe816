"""Execution targets. Backends are hyperparameters: strings name registered backends."""

from ._base import Backend, StatevectorBackend
from ._counting import ResourceCounter
from ._mps import MPSBackend  # Aer is imported when the backend first runs
from ._pennylane import PennyLaneBackend  # the SDKs are imported when a backend runs
from ._qiskit import QiskitBackend
from ._registry import available_backends, register_backend, resolve_backend
from ._sampling import SamplingBackend, compute_uncompute
from ._shots import ShotsBackend, apply_depolarizing, apply_readout_error

__all__ = [
    "Backend",
    "MPSBackend",
    "PennyLaneBackend",
    "QiskitBackend",
    "ResourceCounter",
    "SamplingBackend",
    "ShotsBackend",
    "StatevectorBackend",
    "apply_depolarizing",
    "apply_readout_error",
    "available_backends",
    "compute_uncompute",
    "register_backend",
    "resolve_backend",
]
