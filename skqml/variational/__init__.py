"""Variational quantum models: trainable circuits used like neural networks, and the
variational classifiers of Bowles et al. (2024)."""

from ._bowles2024 import (
    CircuitCentricClassifier,
    IQPVariationalClassifier,
    SeparableVariationalClassifier,
    TreeTensorClassifier,
)
from ._dressed import DressedQuantumCircuitClassifier, SeparableDressedQuantumCircuitClassifier
from ._metric_learner import QuantumMetricLearner
from ._models import VQC, VQR, DataReuploadingClassifier, SeparableDataReuploadingClassifier
from ._weinet import WeiNet

__all__ = [
    "VQC",
    "VQR",
    "CircuitCentricClassifier",
    "DataReuploadingClassifier",
    "DressedQuantumCircuitClassifier",
    "IQPVariationalClassifier",
    "QuantumMetricLearner",
    "SeparableDataReuploadingClassifier",
    "SeparableDressedQuantumCircuitClassifier",
    "SeparableVariationalClassifier",
    "TreeTensorClassifier",
    "WeiNet",
]
