"""Quantum kernels, usable wherever scikit-learn accepts a kernel."""

from ._quantum_kernel import FidelityQuantumKernel, ProjectedQuantumKernel, QuantumKernel

__all__ = ["FidelityQuantumKernel", "ProjectedQuantumKernel", "QuantumKernel"]
