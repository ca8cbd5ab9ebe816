"""Backend interface and the exact statevector backend."""

from __future__ import annotations

import numbers

import numpy as np

from .._params import ParameterObject
from ..circuits import Circuit
from ..simulator import expectations, simulate

__all__ = ["Backend", "StatevectorBackend"]


class Backend(ParameterObject):
    """Base class of execution targets.

    A backend runs circuits on batches of samples. Estimators and kernels only talk to this
    interface, so the same model runs on any backend by changing one hyperparameter. Every
    backend answers :meth:`probabilities`, :meth:`expectations` and :meth:`overlaps` (exactly
    or as estimates); exact backends also give :meth:`statevectors`.

    Attributes
    ----------
    exact : bool
        True when the backend returns exact state vectors (:meth:`statevectors`); kernels
        then compute Gram matrices from states instead of running overlap circuits.

    Examples
    --------
    >>> from skqml.backends import Backend, resolve_backend
    >>> backend = resolve_backend("shots")
    >>> isinstance(backend, Backend), backend.exact
    (True, False)
    """

    exact: bool = False

    def statevectors(
        self, circuit: Circuit, X=None, weights=None, *, max_memory_mb=None
    ) -> np.ndarray:
        """Exact final states, shape ``(n_samples, 2**n_qubits)`` (exact backends only)."""
        raise NotImplementedError(_unsupported(self, "state vectors"))

    def probabilities(self, circuit: Circuit, X=None, weights=None, *, max_memory_mb=None):
        """Outcome probabilities (or frequencies), shape ``(n_samples, 2**n_qubits)``."""
        raise NotImplementedError(_unsupported(self, "circuits"))

    def expectations(
        self, circuit: Circuit, paulis, X=None, weights=None, *, max_memory_mb=None
    ) -> np.ndarray:
        """Pauli expectation values (or estimates), shape ``(n_samples, len(paulis))``."""
        raise NotImplementedError(_unsupported(self, "expectations"))

    def overlaps(
        self, circuit: Circuit, XA, XB=None, symmetric=None, weights=None, *, max_memory_mb=None
    ) -> np.ndarray:
        """Fidelities ``|<phi(b)|phi(a)>|^2`` (or estimates) of pairs, ``(n_a, n_b)``."""
        raise NotImplementedError(_unsupported(self, "overlaps"))

    def paired_overlaps(
        self, circuit: Circuit, XA, XB, weights=None, *, max_memory_mb=None
    ) -> np.ndarray:
        """Fidelities (or estimates) of the row pairs ``(XA[i], XB[i])``, shape ``(n,)``."""
        raise NotImplementedError(_unsupported(self, "overlaps"))


class StatevectorBackend(Backend):
    """Exact simulation with skqml's vectorised statevector simulator.

    Examples
    --------
    >>> from skqml.backends import StatevectorBackend
    >>> from skqml.circuits import Circuit
    >>> backend = StatevectorBackend()
    >>> backend.statevectors(Circuit(1).x(0)).real
    array([[0., 1.]])
    >>> backend.expectations(Circuit(2).h(0).cnot(0, 1), ["ZZ", "XX", "ZI"])
    array([[1., 1., 0.]])
    """

    exact = True

    def statevectors(self, circuit, X=None, weights=None, *, max_memory_mb=None):
        return simulate(circuit, X, weights, max_memory_mb=max_memory_mb)

    def probabilities(self, circuit, X=None, weights=None, *, max_memory_mb=None):
        states = simulate(circuit, X, weights, max_memory_mb=max_memory_mb)
        return states.real**2 + states.imag**2

    def expectations(self, circuit, paulis, X=None, weights=None, *, max_memory_mb=None):
        return expectations(circuit, paulis, X, weights, max_memory_mb=max_memory_mb)

    def overlaps(self, circuit, XA, XB=None, symmetric=None, weights=None, *, max_memory_mb=None):
        # Two simulations and one matrix product: the exact kernel, no overlap circuits.
        if symmetric is None:
            symmetric = XB is None
        SA = simulate(circuit, XA, weights, max_memory_mb=max_memory_mb)
        SB = SA if symmetric else simulate(circuit, XB, weights, max_memory_mb=max_memory_mb)
        amp = SA @ SB.conj().T
        K = np.clip(amp.real**2 + amp.imag**2, 0.0, 1.0)
        if symmetric:  # exactly symmetric with a unit diagonal, as the sampling backends give
            K = (K + K.T) / 2
            np.fill_diagonal(K, 1.0)
        return K

    def paired_overlaps(self, circuit, XA, XB, weights=None, *, max_memory_mb=None):
        XA, XB = check_paired_features(circuit, XA, XB)  # before simulating anything
        SA = simulate(circuit, XA, weights, max_memory_mb=max_memory_mb)
        SB = simulate(circuit, XB, weights, max_memory_mb=max_memory_mb)
        amp = np.einsum("ij,ij->i", SA, SB.conj())
        return np.clip(amp.real**2 + amp.imag**2, 0.0, 1.0)


def _unsupported(backend: Backend, what: str) -> str:
    return (
        f"{type(backend).__name__} does not give {what}; use backend='statevector' (exact) "
        "or backend='shots' (sampling), or implement it in the backend"
    )


# --------------------------------------------------------------------------------------------
# Input checks shared by the backends
# --------------------------------------------------------------------------------------------
def check_integer(value, name: str, low: int, prefix: str = "") -> int:
    """``value`` as an int if it is an integer ``>= low`` (not a bool), else a ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        kind = "a positive integer" if low == 1 else "a non-negative integer"
        raise ValueError(f"{name} must be {prefix}{kind}, got {value!r}")
    return int(value)


def check_pair_features(circuit: Circuit, XA, XB):
    """``XA`` and ``XB`` (``XA`` itself when None) as 2-D float arrays of the same width."""
    XA = np.asarray(XA, dtype=float)
    if XA.ndim != 2 or XA.shape[1] < circuit.n_features:
        raise ValueError(
            f"XA must be 2-D with at least {circuit.n_features} features, got shape {XA.shape}"
        )
    if XB is None:
        return XA, XA
    XB = np.asarray(XB, dtype=float)
    if XB.ndim != 2 or XB.shape[1] != XA.shape[1]:
        raise ValueError(f"XB must be 2-D with {XA.shape[1]} features, got shape {XB.shape}")
    return XA, XB


def check_paired_features(circuit: Circuit, XA, XB):
    """As :func:`check_pair_features`, for row pairs: as many rows in ``XB`` as in ``XA``."""
    XA, XB = check_pair_features(circuit, XA, XB)
    if XA.shape[0] != XB.shape[0]:
        raise ValueError(
            f"paired overlaps need as many rows in XB as in XA, got {XB.shape[0]} and "
            f"{XA.shape[0]}"
        )
    return XA, XB
