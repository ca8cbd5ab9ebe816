"""Quantum kernels, usable wherever scikit-learn accepts a kernel."""

from ._mitigation import mitigate_depolarizing_noise
from ._quantum_kernel import FidelityQuantumKernel, ProjectedQuantumKernel, QuantumKernel

__all__ = [
    "FidelityQuantumKernel",
    "ProjectedQuantumKernel",
    "QuantumKernel",
    "mitigate_depolarizing_noise",
]
