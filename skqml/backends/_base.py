"""Backend interface and the exact statevector backend."""

from __future__ import annotations

import numpy as np

from .._params import ParameterObject
from ..circuits import Circuit
from ..simulator import simulate

__all__ = ["Backend", "StatevectorBackend"]


class Backend(ParameterObject):
    """Base class of execution targets.

    A backend runs circuits on batches of samples. Estimators and kernels only talk to this
    interface, so the same model runs on any backend by changing one hyperparameter.

    Attributes
    ----------
    exact : bool
        True when the backend returns exact state vectors (:meth:`statevectors`); kernels
        then compute Gram matrices from states instead of running overlap circuits.
    """

    exact: bool = False

    def statevectors(
        self, circuit: Circuit, X=None, weights=None, *, max_memory_mb=None
    ) -> np.ndarray:
        """Exact final states, shape ``(n_samples, 2**n_qubits)`` (exact backends only)."""
        raise NotImplementedError(f"{type(self).__name__} does not give state vectors")


class StatevectorBackend(Backend):
    """Exact simulation with skqml's vectorised statevector simulator.

    Examples
    --------
    >>> from skqml.backends import StatevectorBackend
    >>> from skqml.circuits import Circuit
    >>> StatevectorBackend().statevectors(Circuit(1).x(0)).real
    array([[0., 1.]])
    """

    exact = True

    def statevectors(self, circuit, X=None, weights=None, *, max_memory_mb=None):
        return simulate(circuit, X, weights, max_memory_mb=max_memory_mb)
