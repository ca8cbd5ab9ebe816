"""Support vector machines on quantum kernels, and the kernel classifiers of Bowles et al.
(2024)."""

from ._bowles2024 import (
    IQPKernelClassifier,
    ProjectedQuantumKernelClassifier,
    SeparableKernelClassifier,
)
from ._classes import QSVC, QSVR

__all__ = [
    "QSVC",
    "QSVR",
    "IQPKernelClassifier",
    "ProjectedQuantumKernelClassifier",
    "SeparableKernelClassifier",
]
