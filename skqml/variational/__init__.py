"""Variational quantum models: trainable circuits used like neural networks."""

from ._models import VQC, VQR, DataReuploadingClassifier

__all__ = ["VQC", "VQR", "DataReuploadingClassifier"]
