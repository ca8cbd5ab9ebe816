"""Amplitude encoding of real vectors by a tree of uniformly controlled RY rotations.

A real vector ``v`` of length ``2**m`` (normalised) is prepared on ``m`` qubits as
``sum_i v_i |i>`` by the construction of Mottonen et al. (2004): qubit ``m - 1`` (the most
significant bit of the basis index, in skqml's little-endian order) is rotated first by
the split of the norm between the two halves of ``v``; then each lower qubit ``q`` by an RY
whose angle depends on the values of the qubits above it (a uniformly controlled
rotation), down to qubit 0, whose angles ``2 atan2(v_odd, v_even)`` also set the signs.

The angles are a non-linear function of ``v`` (:func:`amplitude_angles`, classical
preprocessing); the circuit (:func:`amplitude_circuit`) reads them as its features and is
fixed: each uniformly controlled RY is RYs and CNOTs in Gray-code order, whose angles are
linear combinations of the features. So it runs on any backend, and trainable gates can
follow it with exact gradients.
"""

from __future__ import annotations

import numpy as np

from ._angle import feature
from ._circuit import Circuit

__all__ = ["amplitude_angles", "amplitude_circuit"]


def amplitude_angles(V: np.ndarray) -> np.ndarray:
    """The angles that prepare each row of ``V`` (length ``2**m``), normalised.

    Parameters
    ----------
    V : ndarray of shape (n_samples, 2**m)
        Real vectors; each row is divided by its norm (which must not be 0).

    Returns
    -------
    angles : ndarray of shape (n_samples, 2**m - 1)
        Level by level, from qubit ``m - 1`` (one angle) to qubit 0 (``2**(m - 1)``
        angles); within a level, ordered by the value of the qubits above.

    Examples
    --------
    >>> import numpy as np
    >>> from skqml.circuits._amplitude import amplitude_angles
    >>> amplitude_angles(np.array([[1.0, 0.0, 0.0, 1.0]])).round(4)  # (|0> + |3>) / sqrt(2)
    array([[1.5708, 0.    , 3.1416]])
    """
    V = np.asarray(V, dtype=float)
    m = max(V.shape[-1], 1).bit_length() - 1
    if V.ndim != 2 or V.shape[1] != 2**m or m < 1:
        raise ValueError(
            f"amplitude encoding needs rows of length 2**m (m >= 1), got shape {V.shape}"
        )
    norms = np.linalg.norm(V, axis=1)
    if not np.all(norms > 0) or not np.all(np.isfinite(norms)):
        raise ValueError("amplitude encoding needs finite vectors with a non-zero norm")
    V = V / norms[:, None]
    out = []
    for level in range(m):  # target qubit q = m - 1 - level
        q = m - 1 - level
        # blocks[n, p, b, r]: prefix p (the bits above q), bit b of qubit q, the rest r.
        blocks = V.reshape(V.shape[0], 2**level, 2, 2**q)
        if q:
            zero, one = (np.linalg.norm(blocks[:, :, b, :], axis=2) for b in (0, 1))
        else:
            zero, one = blocks[:, :, 0, 0], blocks[:, :, 1, 0]
        out.append(2 * np.arctan2(one, zero))
    return np.concatenate(out, axis=1)


def _gray(i: int) -> int:
    return i ^ (i >> 1)


def amplitude_circuit(n_qubits: int) -> Circuit:
    """The fixed circuit that prepares ``sum_i v_i |i>`` from ``amplitude_angles(v)``.

    Parameters
    ----------
    n_qubits : int
        ``m``: the circuit reads ``2**m - 1`` features, the angles.

    Returns
    -------
    circuit : Circuit

    Examples
    --------
    >>> import numpy as np
    >>> from skqml.circuits._amplitude import amplitude_angles, amplitude_circuit
    >>> from skqml.simulator import simulate
    >>> v = np.array([[0.5, -0.5, 0.5, 0.5]])
    >>> simulate(amplitude_circuit(2), amplitude_angles(v)).real.round(6)
    array([[ 0.5, -0.5,  0.5,  0.5]])
    """
    m = n_qubits
    circuit = Circuit(m)
    for level in range(m):
        q, offset, k = m - 1 - level, 2**level - 1, level
        if k == 0:
            circuit = circuit.ry(feature(offset), q)
            continue
        # Uniformly controlled RY with controls q + 1 .. m - 1 (bit r of the prefix is qubit
        # q + 1 + r): RY(theta_i) then CNOT from the control whose Gray-code bit changes,
        # theta = 2**-k M^T alpha with M[i, j] = (-1)**popcount(j & gray(i)).
        size = 2**k
        for i in range(size):
            g = _gray(i)
            terms = [
                (1.0 if bin(j & g).count("1") % 2 == 0 else -1.0) / size * feature(offset + j)
                for j in range(size)
            ]
            circuit = circuit.ry(sum(terms[1:], terms[0]), q)
            changed = g ^ _gray((i + 1) % size)
            control = q + 1 + changed.bit_length() - 1
            circuit = circuit.cnot(control, q)
    return circuit
