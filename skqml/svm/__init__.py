"""Support vector machines on quantum kernels."""

from ._classes import QSVC, QSVR

__all__ = ["QSVC", "QSVR"]
