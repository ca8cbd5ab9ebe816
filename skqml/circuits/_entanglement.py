"""Entanglement patterns: which qubit tuples a k-qubit block acts on."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

from .._validation import check_integer

__all__ = ["ENTANGLEMENT_NAMES", "entangler_map", "ring_pairs"]

ENTANGLEMENT_NAMES = ("full", "linear", "reverse_linear", "circular", "pairwise", "sca")


def entangler_map(
    entanglement: str | Sequence[Sequence[int]], block_size: int, n_qubits: int, offset: int = 0
) -> list[tuple[int, ...]]:
    """Ordered qubit tuples for blocks of ``block_size`` qubits, as Qiskit's circuit library.

    Parameters
    ----------
    entanglement : str or sequence of sequences of int
        ``"full"`` (all ``k``-subsets, lexicographic), ``"linear"`` (``(i, ..., i+k-1)``),
        ``"reverse_linear"`` (linear, last first), ``"circular"`` (the ``n`` cyclic windows
        starting with the wrap-around one, e.g. ``(n-1, 0), (0, 1), ...`` for pairs),
        ``"pairwise"`` (``k = 2`` only: even pairs then odd pairs), ``"sca"`` (shifted
        circular alternating: circular rotated right by ``offset`` with reversed qubit order
        on odd offsets), or an explicit list of tuples (those of length ``block_size`` are
        used).
    block_size : int
        Number of qubits per block.
    n_qubits : int
        Number of qubits of the circuit.
    offset : int, default=0
        Repetition index, for ``"sca"``.

    Returns
    -------
    blocks : list of tuple of int
        The qubits of each block, in order; empty when ``block_size > n_qubits``.

    Examples
    --------
    >>> from skqml.circuits import entangler_map
    >>> entangler_map("linear", 2, 4)
    [(0, 1), (1, 2), (2, 3)]
    >>> entangler_map("circular", 2, 4)
    [(3, 0), (0, 1), (1, 2), (2, 3)]
    >>> entangler_map("pairwise", 2, 5)
    [(0, 1), (2, 3), (1, 2), (3, 4)]
    """
    n = check_integer(n_qubits, "n_qubits", low=1)
    k = check_integer(block_size, "block_size", low=1)
    offset = check_integer(offset, "offset")
    if not isinstance(entanglement, str):
        return _explicit(entanglement, k, n)
    if entanglement not in ENTANGLEMENT_NAMES:
        raise ValueError(
            f"unknown entanglement {entanglement!r}; use one of {', '.join(ENTANGLEMENT_NAMES)}"
            " or an explicit list of qubit tuples"
        )
    if k > n:
        return []
    linear = [tuple(range(i, i + k)) for i in range(n - k + 1)]
    if entanglement == "full":
        return list(combinations(range(n), k))
    if entanglement == "linear":
        return linear
    if entanglement == "reverse_linear":
        return linear[::-1]
    if entanglement == "pairwise":
        if k == 1:  # as Qiskit: single-qubit blocks in order
            return linear
        if k != 2:
            raise ValueError("pairwise entanglement is only defined for blocks of 2 qubits")
        return [(i, i + 1) for i in range(0, n - 1, 2)] + [(i, i + 1) for i in range(1, n - 1, 2)]
    if n == k:
        circular = linear
    else:
        circular = [tuple((n - k + 1 + s + i) % n for i in range(k)) for s in range(n)]
    if entanglement == "circular":
        return circular
    # "sca": the circular list rotated right by the offset, qubits reversed on odd offsets.
    split = (n - offset % n) % n
    shifted = circular[split:] + circular[:split]
    if offset % 2 == 1:
        shifted = [tuple(reversed(t)) for t in shifted]
    return shifted


def _explicit(entanglement, k: int, n: int) -> list[tuple[int, ...]]:
    try:
        blocks = [tuple(block) for block in entanglement]
    except TypeError:
        raise ValueError(
            f"entanglement must be a name or a list of qubit tuples, got {entanglement!r}"
        ) from None
    # Qubit indices are integers (a float index would silently be truncated).
    blocks = [tuple(check_integer(q, "entanglement qubit index") for q in b) for b in blocks]
    for block in blocks:
        if any(q < 0 or q >= n for q in block):
            raise ValueError(f"entanglement block {block} is out of range for {n} qubits")
        if len(set(block)) != len(block):
            raise ValueError(f"entanglement block {block} repeats a qubit")
    return [b for b in blocks if len(b) == k]


def ring_pairs(n_qubits: int) -> list[tuple[int, int]]:
    """PennyLane's ``"ring"`` pattern: ``(i, i + 1 mod n)`` for ``i = 0, ..., n - 1``; one
    pair ``(0, 1)`` on two qubits, none on one.

    Examples
    --------
    >>> from skqml.circuits._entanglement import ring_pairs
    >>> ring_pairs(1), ring_pairs(2), ring_pairs(3)
    ([], [(0, 1)], [(0, 1), (1, 2), (2, 0)])
    """
    if n_qubits < 2:
        return []
    if n_qubits == 2:
        return [(0, 1)]
    return [(i, (i + 1) % n_qubits) for i in range(n_qubits)]
