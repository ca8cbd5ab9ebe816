"""Read-outs of batched states: probabilities and Pauli expectation values."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._validation import check_pauli_label

__all__ = [
    "apply_pauli",
    "checked_cotangent",
    "im_dot",
    "pauli_expectations",
    "pauli_masks",
    "probabilities",
    "qubit_view_shape",
    "re_dot",
    "single_qubit_expectations",
    "weighted_pauli_sum",
]


def _n_qubits(states: np.ndarray) -> int:
    dim = states.shape[-1]
    n = dim.bit_length() - 1
    if states.ndim != 2 or 2**n != dim:
        raise ValueError(f"states must have shape (n_samples, 2**n_qubits), got {states.shape}")
    return n


def probabilities(states: np.ndarray) -> np.ndarray:
    """Born-rule probabilities ``|psi_i|^2`` of batched states, little-endian basis order.

    Examples
    --------
    >>> import numpy as np
    >>> from skqml.simulator import probabilities
    >>> probabilities(np.array([[1, 1j]]) / np.sqrt(2))
    array([[0.5, 0.5]])
    """
    _n_qubits(states)
    return states.real**2 + states.imag**2


def _per_sample_sum(ndim: int) -> str:
    """einsum subscripts summing a product over every axis but the first."""
    axes = "abcdefghijklmnopqrstuvwxyz"[:ndim]
    return f"{axes},{axes}->a"


def re_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``Re sum conj(a) b`` per sample (first axis), on strided views, without copies."""
    spec = _per_sample_sum(a.ndim)
    return np.einsum(spec, a.real, b.real) + np.einsum(spec, a.imag, b.imag)


def im_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``Im sum conj(a) b`` per sample (first axis), on strided views, without copies."""
    spec = _per_sample_sum(a.ndim)
    return np.einsum(spec, a.real, b.imag) - np.einsum(spec, a.imag, b.real)


def qubit_view_shape(n: int, qubits) -> tuple[list[int], dict[int, int]]:
    """A state view with one axis per listed qubit, and one per run of the other qubits.

    Returns the shape after the batch axis (highest qubit first) and each listed qubit's
    axis in the full ``(batch, ...)`` view. Merged runs keep the inner loops long.
    """
    shape: list[int] = []
    axis: dict[int, int] = {}
    run = 0
    for q in range(n - 1, -1, -1):
        if q in qubits:
            if run:
                shape.append(2**run)
                run = 0
            axis[q] = len(shape) + 1
            shape.append(2)
        else:
            run += 1
    if run:
        shape.append(2**run)
    return shape, axis


def single_qubit_expectations(states: np.ndarray) -> np.ndarray:
    """``<X_q>, <Y_q>, <Z_q>`` for every qubit: shape ``(n_samples, n_qubits, 3)``.

    These are the Bloch vectors of the one-qubit reduced density matrices,
    ``rho_q = (I + <X> X + <Y> Y + <Z> Z) / 2``.

    Examples
    --------
    >>> import numpy as np
    >>> from skqml.simulator import single_qubit_expectations
    >>> plus_zero = np.array([[1, 1, 0, 0]]) / np.sqrt(2)  # qubit 0 in |+>, qubit 1 in |0>
    >>> single_qubit_expectations(plus_zero).round(6)
    array([[[1., 0., 0.],
            [0., 0., 1.]]])
    """
    n = _n_qubits(states)
    batch = states.shape[0]
    states = states.astype(complex, copy=False)
    out = np.empty((batch, n, 3))
    for q in range(n):
        v = states.reshape(batch, 2 ** (n - q - 1), 2, 2**q)
        a, b = v[:, :, 0, :], v[:, :, 1, :]
        out[:, q, 0] = 2 * re_dot(a, b)
        out[:, q, 1] = 2 * im_dot(a, b)
        out[:, q, 2] = re_dot(a, a) - re_dot(b, b)
    return out


def pauli_expectations(states: np.ndarray, paulis: Sequence[str]) -> np.ndarray:
    """Expectation values of Pauli strings, shape ``(n_samples, len(paulis))``.

    Parameters
    ----------
    states : ndarray of shape (n_samples, 2**n_qubits)
        Batched states.
    paulis : sequence of str
        Labels over ``I, X, Y, Z`` of length ``n_qubits``, Qiskit order: the rightmost
        character acts on qubit 0.

    Examples
    --------
    >>> import numpy as np
    >>> from skqml.simulator import pauli_expectations
    >>> bell = np.array([[1, 0, 0, 1]]) / np.sqrt(2)
    >>> pauli_expectations(bell, ["ZZ", "XX", "YY", "ZI"]).round(6)
    array([[ 1.,  1., -1.,  0.]])
    """
    n = _n_qubits(states)
    labels = [check_pauli_label(label, n) for label in paulis]
    states = states.astype(complex, copy=False)
    out = np.empty((states.shape[0], len(labels)))
    for col, label in enumerate(labels):
        out[:, col] = re_dot(states, apply_pauli(states, label))
    return out


def apply_pauli(states: np.ndarray, label: str) -> np.ndarray:
    """``P |psi>`` for every state, for a Pauli string ``P`` (Qiskit label).

    ``P`` flips the bits where it has X or Y and multiplies by ``(-i)^{#Y} (-1)^{|b & zy|}``
    (``b`` the basis index, ``zy`` the Z-or-Y positions): one gather and one product. Besides
    the result it allocates one index and one sign vector of ``2**n`` numbers (one state).

    Examples
    --------
    >>> import numpy as np
    >>> from skqml.simulator import apply_pauli
    >>> apply_pauli(np.array([[1.0, 0.0]]), "Y")
    array([[0.+0.j, 0.+1.j]])
    """
    n = _n_qubits(states)
    xmask, zmask, n_y = pauli_masks(check_pauli_label(label, n))
    # (P psi)[b] = phase(b) psi[b ^ x] with the phase of the row b of P.
    if xmask:
        source = np.arange(2**n)
        source ^= xmask
        out = states[:, source].astype(complex, copy=False)
        del source
    else:
        out = states.astype(complex)  # a copy
    if zmask:
        out *= _signs(n, zmask)[None, :]
    # Y = [[0, -i], [i, 0]]: row b carries -i for b = 0 and +i for b = 1, i.e. -i (-1)^b.
    if n_y % 4:
        out *= (-1j) ** n_y
    return out


def pauli_masks(label: str) -> tuple[int, int, int]:
    """``(xmask, zmask, n_y)`` of a checked Pauli label: the qubits where it has X or Y, where
    it has Y or Z, and its number of Y (the last character acts on qubit 0).

    Examples
    --------
    >>> from skqml.simulator._observables import pauli_masks
    >>> pauli_masks("XYZ")  # Z on qubit 0, Y on 1, X on 2
    (6, 3, 1)
    """
    xmask = zmask = n_y = 0
    for q, ch in enumerate(reversed(label)):
        if ch in "XY":
            xmask |= 1 << q
        if ch in "YZ":
            zmask |= 1 << q
        n_y += ch == "Y"
    return xmask, zmask, n_y


def weighted_pauli_sum(states, labels, weights, out) -> np.ndarray:
    """``out = sum_k weights[:, k] P_k |psi>`` for every state (the cotangent state that an
    adjoint sweep starts from), one Pauli string at a time; labels with zero weight on every
    row are skipped."""
    out[...] = 0.0
    for k, label in enumerate(labels):
        if np.any(weights[:, k]):
            term = apply_pauli(states, label)
            term *= weights[:, k, None]
            out += term
            del term
    return out


def checked_cotangent(cotangent_fn, outputs: np.ndarray, rows, dtype=float) -> np.ndarray:
    """``cotangent_fn(outputs, rows)`` as an array, which must have the shape of ``outputs``
    (the contract of every ``*_vjp`` function's ``cotangent_fn``).

    Examples
    --------
    >>> import numpy as np
    >>> from skqml.simulator._observables import checked_cotangent
    >>> checked_cotangent(lambda E, rows: 2 * E, np.ones((2, 1)), slice(0, 2)).ravel()
    array([2., 2.])
    >>> checked_cotangent(lambda E, rows: E[0], np.ones((2, 1)), slice(0, 2))
    Traceback (most recent call last):
    ...
    ValueError: cotangent_fn returned shape (1,), expected (2, 1)
    """
    cotangent = np.asarray(cotangent_fn(outputs, rows), dtype=dtype)
    if cotangent.shape != outputs.shape:
        raise ValueError(
            f"cotangent_fn returned shape {cotangent.shape}, expected {outputs.shape}"
        )
    return cotangent


def _signs(n: int, zmask: int) -> np.ndarray:
    """``(-1)^{|b & zmask|}`` for every basis index ``b``, built by doubling (no index table)."""
    signs = np.ones(1)
    for q in range(n):
        signs = np.concatenate([signs, -signs if zmask >> q & 1 else signs])
    return signs
