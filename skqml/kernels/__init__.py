"""Quantum kernels, usable wherever scikit-learn accepts a kernel."""

from ._alignment import kernel_alignment
from ._mitigation import mitigate_depolarizing_noise
from ._quantum_kernel import FidelityQuantumKernel, ProjectedQuantumKernel, QuantumKernel

__all__ = [
    "FidelityQuantumKernel",
    "ProjectedQuantumKernel",
    "QuantumKernel",
    "kernel_alignment",
    "mitigate_depolarizing_noise",
]
