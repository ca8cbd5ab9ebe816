"""Read-outs of batched states: probabilities and Pauli expectation values."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["pauli_expectations", "probabilities", "single_qubit_expectations"]


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
    out = np.empty((batch, n, 3))
    for q in range(n):
        v = states.reshape(batch, 2 ** (n - q - 1), 2, 2**q)
        a, b = v[:, :, 0, :], v[:, :, 1, :]
        cross = np.einsum("blr,blr->b", a.conj(), b)
        out[:, q, 0] = 2 * cross.real
        out[:, q, 1] = 2 * cross.imag
        out[:, q, 2] = (
            np.einsum("blr,blr->b", a.conj(), a).real - np.einsum("blr,blr->b", b.conj(), b).real
        )
    return out


def _parity(values: np.ndarray) -> np.ndarray:
    """Parity of the set bits of each integer."""
    parity = np.zeros_like(values)
    v = values.copy()
    while np.any(v):
        parity ^= v & 1
        v >>= 1
    return parity


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
    _n_qubits(states)
    out = np.empty((states.shape[0], len(paulis)))
    for col, label in enumerate(paulis):
        out[:, col] = np.einsum("bi,bi->b", states.conj(), apply_pauli(states, label)).real
    return out


def apply_pauli(states: np.ndarray, label: str) -> np.ndarray:
    """``P |psi>`` for every state, for a Pauli string ``P`` (Qiskit label).

    ``P`` flips the bits where it has X or Y and multiplies by ``(-i)^{#Y} (-1)^{|b & zy|}``
    (``b`` the basis index, ``zy`` the Z-or-Y positions): one gather and one product.

    Examples
    --------
    >>> import numpy as np
    >>> from skqml.simulator import apply_pauli
    >>> apply_pauli(np.array([[1.0, 0.0]]), "Y")
    array([[0.+0.j, 0.+1.j]])
    """
    n = _n_qubits(states)
    label = label.upper()
    if len(label) != n or set(label) - set("IXYZ"):
        raise ValueError(f"Pauli label {label!r} must have {n} characters from I, X, Y, Z")
    xmask = zmask = 0
    n_y = 0
    for q, ch in enumerate(reversed(label)):
        if ch in "XY":
            xmask |= 1 << q
        if ch in "YZ":
            zmask |= 1 << q
        n_y += ch == "Y"
    idx = np.arange(2**n)
    source = idx ^ xmask
    # (P psi)[b] = phase(b) psi[b ^ x] with the phase of the row b of P.
    phase = (-1j) ** n_y * (1 - 2 * _parity(idx & zmask))
    # Y = [[0, -i], [i, 0]]: row b carries -i for b = 0 and +i for b = 1, i.e. -i (-1)^b.
    return phase[None, :] * (states[:, source] if xmask else states)
