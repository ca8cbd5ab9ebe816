"""Amplitude encoding of real vectors by a tree of uniformly controlled RY rotations.

A real vector ``v`` of length ``2**m`` (normalised) is prepared on ``m`` qubits as
``sum_i v_i |i>`` by the construction of Mottonen et al. (2004): qubit ``m - 1`` (the most
significant bit of the basis index, in skqml's little-endian order) is rotated first by
the split of the norm between the two halves of ``v``; then each lower qubit ``q`` by an RY
whose angle ``alpha_p`` depends on the value ``p`` of the qubits above it (a uniformly
controlled rotation), down to qubit 0, whose angles ``2 atan2(v_odd, v_even)`` also set the
signs.

A uniformly controlled RY on ``k`` controls is ``2**k`` plain RYs on the target, each
followed by a CNOT from the control whose bit changes next in the Gray code. Its RY angles
are a linear transform of the ``alpha``: ``theta_i = 2**-k (H alpha)[gray(i)]`` with ``H``
the Walsh-Hadamard matrix, ``H[g, p] = (-1)**popcount(g & p)``. That transform is done
classically, with the fast Walsh-Hadamard transform (``O(2**k k)`` per level), in
:func:`amplitude_angles`; so the circuit (:func:`amplitude_circuit`) is fixed, each of its
``2**m - 1`` RYs reads exactly one feature, and it runs on any backend with trainable gates
after it differentiated exactly.
"""

from __future__ import annotations

import numpy as np

from ._angle import feature
from ._circuit import Circuit, Operation

__all__ = ["amplitude_angles", "amplitude_circuit"]


def _gray(i: int) -> int:
    return i ^ (i >> 1)


def _walsh_hadamard_in_place(A: np.ndarray) -> None:
    """``A[:, g] <- sum_p (-1)**popcount(g & p) A[:, p]`` (the fast transform, O(N log N)),
    with a working space of a quarter of ``A``."""
    size = A.shape[1]
    half = 1
    while half < size:  # butterflies on bit log2(half) of the column index
        pairs = A.reshape(A.shape[0], -1, 2, half)
        low, high = pairs[:, :, 0, :], pairs[:, :, 1, :]
        difference = low - high
        low += high
        high[...] = difference
        half *= 2


def _gray_code_angles(alpha: np.ndarray, out: np.ndarray) -> None:
    """The RY angles of the Gray-code circuit of a uniformly controlled RY, into ``out``.

    ``alpha[:, p]`` is the rotation when the controls hold ``p``; column ``i`` of ``out``
    becomes the angle of the ``i``-th RY, ``2**-k (H alpha)[gray(i)]``. ``alpha`` is
    overwritten.
    """
    _walsh_hadamard_in_place(alpha)
    order = np.arange(alpha.shape[1])
    np.take(alpha, order ^ (order >> 1), axis=1, out=out, mode="clip")
    out /= alpha.shape[1]


def amplitude_angles(V: np.ndarray) -> np.ndarray:
    """The features of :func:`amplitude_circuit` that prepare each row of ``V``, normalised.

    Parameters
    ----------
    V : ndarray of shape (n_samples, 2**m)
        Real vectors; each is prepared divided by its norm (which must not be 0).

    Returns
    -------
    angles : ndarray of shape (n_samples, 2**m - 1)
        Level by level, from qubit ``m - 1`` (one angle) to qubit 0 (``2**(m - 1)``
        angles); within a level, the angles of the RYs in circuit order (the Gray-code
        transform of the tree's angles).

    Examples
    --------
    >>> import numpy as np
    >>> from skqml.circuits._amplitude import amplitude_angles
    >>> amplitude_angles(np.array([[1.0, 0.0, 0.0, 1.0]])).round(4)  # (|0> + |3>) / sqrt(2)
    array([[ 1.5708,  1.5708, -1.5708]])
    """
    V = np.asarray(V, dtype=float)
    m = max(V.shape[-1], 1).bit_length() - 1
    if V.ndim != 2 or V.shape[1] != 2**m or m < 1:
        raise ValueError(
            f"amplitude encoding needs rows of length 2**m (m >= 1), got shape {V.shape}"
        )
    out = np.empty((V.shape[0], 2**m - 1))
    # From qubit 0 up: the amplitudes, then the norms of ever larger blocks (hypot: no
    # overflow or underflow). Column p of `blocks` is the block whose higher bits are p;
    # its even and odd columns split on the current qubit. atan2 does not need the norm.
    blocks = V
    for q in range(m):
        level = m - 1 - q
        zero, one = blocks[:, 0::2], blocks[:, 1::2]
        alpha = 2 * np.arctan2(one, zero)  # the tree's angles: alpha[:, p] for prefix p
        _gray_code_angles(alpha, out[:, 2**level - 1 : 2 ** (level + 1) - 1])
        del alpha  # transformed into out: not kept beside the next level's arrays
        blocks = np.hypot(zero, one)
    norms = blocks[:, 0]
    # hypot propagates inf and nan: a finite norm means finite entries.
    if not np.all(norms > 0) or not np.all(np.isfinite(norms)):
        raise ValueError("amplitude encoding needs finite vectors with a non-zero norm")
    return out


def amplitude_circuit(n_qubits: int) -> Circuit:
    """The fixed circuit that prepares ``sum_i v_i |i>`` from ``amplitude_angles(v)``.

    Parameters
    ----------
    n_qubits : int
        ``m``: the circuit has ``2**m - 1`` RYs, the ``i``-th reading feature ``i`` alone,
        and ``2**m - 2`` CNOTs.

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
    operations = []  # one Circuit at the end: appending gate by gate copies the tuple
    for level in range(m):
        q, size = m - 1 - level, 2**level
        # The controls are qubits q + 1 .. m - 1: bit r of the Gray code is qubit q + 1 + r.
        cnots = [Operation("cnot", (q + 1 + r, q)) for r in range(level)]
        for i in range(size):
            operations.append(Operation("ry", (q,), (feature(size - 1 + i),)))
            if level:
                changed = _gray(i) ^ _gray((i + 1) % size)
                operations.append(cnots[changed.bit_length() - 1])
    return Circuit(m, operations)
