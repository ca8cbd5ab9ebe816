"""Support vector machines on quantum kernels, and the kernel classifiers and quantum kitchen
sinks of Bowles et al. (2024)."""

from ._bowles2024 import (
    IQPKernelClassifier,
    ProjectedQuantumKernelClassifier,
    QuantumKitchenSinks,
    SeparableKernelClassifier,
)
from ._classes import QSVC, QSVR

__all__ = [
    "QSVC",
    "QSVR",
    "IQPKernelClassifier",
    "ProjectedQuantumKernelClassifier",
    "QuantumKitchenSinks",
    "SeparableKernelClassifier",
]
