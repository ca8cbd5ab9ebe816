"""Backend interface and the exact statevector backend."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from .._params import ParameterObject
from ..circuits import Circuit
from ..simulator import expectations, simulate, simulate_probabilities
from ..simulator._memory import (
    remaining_budget_mb,
    require_memory,
    rows_per_chunk,
    state_bytes,
)

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

    Notes
    -----
    Caches. Live objects a backend builds to run circuits (SDK devices and sessions,
    transpiled circuits, QNodes) live in the instance attribute ``_cache`` and follow one
    policy: they are never pickled, copied or cloned (a copy rebuilds them on first use, so
    a pickle holds parameters only); every table in them is bounded, least recently used
    entries dropped first; and they are freed with the backend object, or evicted. Objects
    shared between backend objects of a process (the Qiskit device sessions) sit in a
    bounded module-level table too: an evicted session lives on only while a backend object
    still holds it.

    Examples
    --------
    >>> from skqml.backends import Backend, resolve_backend
    >>> backend = resolve_backend("shots")
    >>> isinstance(backend, Backend), backend.exact
    (True, False)
    """

    exact: bool = False

    def __getstate__(self):
        # A copy: on Python 3.11+ the inherited state is the live __dict__ itself.
        state = dict(super().__getstate__())
        state.pop("_cache", None)  # live objects: rebuilt on first use (see Notes)
        return state

    def statevectors(
        self, circuit: Circuit, X=None, weights=None, *, max_memory_mb=None
    ) -> np.ndarray:
        """Exact final states of each sample's circuit (exact backends only).

        Parameters
        ----------
        circuit : Circuit
            Circuit to run, from ``|0...0>``.
        X : array-like of shape (n_samples, n_features), optional
            Features; without them the circuit runs once.
        weights : array-like of shape (n_weights,), optional
            Trainable weights, shared by all samples.
        max_memory_mb : float, optional
            Memory budget in MiB (default: half the available memory, or
            ``SKQML_MAX_MEMORY_MB``); what cannot fit is refused before allocating.

        Returns
        -------
        states : ndarray of shape (n_samples, 2**n_qubits)
            Complex amplitudes, little-endian basis order (qubit 0 least significant).
        """
        raise NotImplementedError(_unsupported(self, "state vectors"))

    def probabilities(
        self, circuit: Circuit, X=None, weights=None, *, max_memory_mb=None
    ) -> np.ndarray:
        """Outcome probabilities (or measured frequencies) of each sample's circuit.

        Parameters
        ----------
        circuit : Circuit
            Circuit to run, from ``|0...0>``, measuring every qubit.
        X, weights, max_memory_mb
            As in :meth:`statevectors`.

        Returns
        -------
        probs : ndarray of shape (n_samples, 2**n_qubits)
            Rows sum to 1; little-endian basis order, as Qiskit.
        """
        raise NotImplementedError(_unsupported(self, "circuits"))

    def expectations(
        self, circuit: Circuit, paulis, X=None, weights=None, *, max_memory_mb=None
    ) -> np.ndarray:
        """Pauli expectation values (or their estimates) of each sample's final state.

        Parameters
        ----------
        circuit : Circuit
            Circuit preparing the state.
        paulis : sequence of str
            Labels over ``I, X, Y, Z`` of length ``n_qubits``; the rightmost character acts
            on qubit 0 (Qiskit order).
        X, weights, max_memory_mb
            As in :meth:`statevectors`.

        Returns
        -------
        values : ndarray of shape (n_samples, len(paulis))
        """
        raise NotImplementedError(_unsupported(self, "expectations"))

    def overlaps(
        self, circuit: Circuit, XA, XB=None, symmetric=None, weights=None, *, max_memory_mb=None
    ) -> np.ndarray:
        """Fidelities ``|<phi(b)|phi(a)>|^2`` (or their estimates) of all pairs of samples.

        Parameters
        ----------
        circuit : Circuit
            Feature-map circuit ``U(x)``, with ``|phi(x)> = U(x)|0...0>``.
        XA : array-like of shape (n_a, n_features)
            First samples.
        XB : array-like of shape (n_b, n_features), optional
            Second samples. ``None``: ``XA`` against itself.
        symmetric : bool, optional
            Whether ``K(XA, XA)`` is meant: the result is then exactly symmetric with a unit
            diagonal. Default: ``XB is None``.
        weights : array-like of shape (n_weights,), optional
            Trainable weights of the circuit.
        max_memory_mb : float, optional
            As in :meth:`statevectors`.

        Returns
        -------
        K : ndarray of shape (n_a, n_b)
        """
        raise NotImplementedError(_unsupported(self, "overlaps"))

    def paired_overlaps(
        self, circuit: Circuit, XA, XB, weights=None, *, max_memory_mb=None
    ) -> np.ndarray:
        """Fidelities (or their estimates) of the row pairs ``(XA[i], XB[i])``.

        Parameters
        ----------
        circuit : Circuit
            Feature-map circuit ``U(x)``.
        XA, XB : array-like of shape (n_pairs, n_features)
            The two samples of each pair.
        weights, max_memory_mb
            As in :meth:`overlaps`.

        Returns
        -------
        values : ndarray of shape (n_pairs,)
        """
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
        # Squared moduli chunk by chunk: the states of the whole batch are never held.
        return simulate_probabilities(circuit, X, weights, max_memory_mb=max_memory_mb)

    def expectations(self, circuit, paulis, X=None, weights=None, *, max_memory_mb=None):
        return expectations(circuit, paulis, X, weights, max_memory_mb=max_memory_mb)

    def overlaps(self, circuit, XA, XB=None, symmetric=None, weights=None, *, max_memory_mb=None):
        # Two simulations and one matrix product: the exact kernel, no overlap circuits.
        if symmetric is None:
            symmetric = XB is None
        XA, XB = check_pair_features(circuit, XA, None if symmetric else XB)
        # What the call holds at once: the pair grid (amplitudes, kernel, its transpose sum)
        # and the states; each simulation gets what the grid and earlier states leave.
        grid = XA.shape[0] * XB.shape[0] * (16 + 8 + 8)
        one = state_bytes(circuit.n_qubits)
        held = grid + (0 if symmetric else XB.shape[0] * one)
        SA = simulate(
            circuit,
            XA,
            weights,
            max_memory_mb=remaining_budget_mb(max_memory_mb, held, "an overlap grid"),
        )
        held += XA.shape[0] * one
        SB = (
            SA
            if symmetric
            else simulate(
                circuit,
                XB,
                weights,
                max_memory_mb=remaining_budget_mb(max_memory_mb, held, "an overlap grid"),
            )
        )
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
# Caches, memory and input checks shared by the backends
# --------------------------------------------------------------------------------------------
def bound_lru(cache: OrderedDict, size: int) -> None:
    """Drop the least recently used entries of ``cache`` beyond ``size`` (the cache policy)."""
    while len(cache) > size:
        cache.popitem(last=False)


def rows_per_batch(
    n_rows: int,
    out_per_row: float,
    work_per_row: float,
    max_memory_mb,
    *,
    what: str,
    n_qubits: int,
    one_row_hint: str = "",
) -> int:
    """Rows per batch (job, device call) when the output of all ``n_rows`` rows is kept.

    The caller allocates ``out_per_row`` bytes of output for every row and, while a batch
    runs, ``work_per_row`` bytes per row of the batch. Refused up front, by the budget
    helpers of :mod:`skqml.simulator._memory`: one row that cannot fit by itself (the
    wide-circuit advice, or ``one_row_hint`` when the width is not the cause, such as the
    shots), then an output of all rows that cannot (fewer samples at once). ``what`` names
    the output, as in ``"the frequencies"``.
    """
    one_row = out_per_row + work_per_row
    if one_row_hint:
        require_memory(
            one_row, max_memory_mb, f"{what} of one sample on {n_qubits} qubits", hint=one_row_hint
        )
    else:
        rows_per_chunk(one_row, max_memory_mb, what=f"{what} of a sample", n_qubits=n_qubits)
    output = out_per_row * n_rows
    require_memory(
        output + work_per_row,
        max_memory_mb,
        f"{what} of {n_rows} samples on {n_qubits} qubits",
        hint="pass fewer samples at once or raise the limit",
    )
    return rows_per_chunk(
        work_per_row, max_memory_mb, what=what, n_qubits=n_qubits, fixed_bytes=output
    )


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
