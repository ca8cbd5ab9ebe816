"""Chow-Liu trees of binary data: the entangler layout of the circuit Born machine.

Chow and Liu (IEEE Trans. Inf. Theory 14, 462, 1968) approximate a distribution over bits by
the tree-structured one whose edges maximise the summed pairwise mutual information; Liu and
Wang (PRA 98, 062324, 2018) place the CNOTs of their Born machine on that tree, so that the
entanglers join the most strongly dependent bits of the training data.
"""

from __future__ import annotations

import numpy as np

__all__ = ["chow_liu_tree", "mutual_information"]


def mutual_information(X) -> np.ndarray:
    """Empirical mutual information (in nats) between every pair of columns of binary data.

    ``I(i, j) = sum_{a, b in {0, 1}} q_ij(a, b) log(q_ij(a, b) / (q_i(a) q_j(b)))`` with the
    empirical frequencies ``q`` of the rows of ``X`` (terms with ``q_ij(a, b) = 0`` are 0).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Binary (0/1) data.

    Returns
    -------
    mi : ndarray of shape (n_features, n_features)
        Symmetric, non-negative, zero diagonal.

    Examples
    --------
    >>> import numpy as np
    >>> from skqml.boltzmann._chow_liu import mutual_information
    >>> X = np.array([[0, 0, 1], [1, 1, 1], [0, 0, 0], [1, 1, 0]])
    >>> mutual_information(X).round(4)  # columns 0 and 1 are equal: log 2
    array([[0.    , 0.6931, 0.    ],
           [0.6931, 0.    , 0.    ],
           [0.    , 0.    , 0.    ]])
    """
    X = np.asarray(X, dtype=np.float64)
    m = X.shape[0]
    one = X.T @ X  # joint counts of (1, 1)
    ones = np.diag(one).copy()  # counts of 1 per column
    counts = np.stack(  # joint counts of (a, b) for every pair, shape (2, 2, n, n)
        [
            [m - ones[:, None] - ones[None, :] + one, ones[None, :] - one],
            [ones[:, None] - one, one],
        ]
    )
    marginal = np.stack([m - ones, ones])  # shape (2, n)
    expected = marginal[:, None, :, None] * marginal[None, :, None, :]  # m^2 q_i(a) q_j(b)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(counts > 0, counts * np.log(counts * m / expected), 0.0)
    mi = np.clip(terms.sum(axis=(0, 1)) / m, 0.0, None)
    np.fill_diagonal(mi, 0.0)
    return mi


def chow_liu_tree(X) -> list[tuple[int, int]]:
    """The Chow-Liu tree of binary data, as ``(control, target)`` pairs for CNOT entanglers.

    The maximum spanning tree of the pairwise mutual information (:func:`mutual_information`),
    by Kruskal's algorithm: pairs in decreasing mutual information, ties in lexicographic order
    of ``(i, j)`` (so equal dependencies keep the column order), each kept unless it closes a
    cycle. Liu and Wang note that the tree fixes no direction; here every edge points away
    from column 0 and the pairs are listed breadth first from it (a parent's edges in
    increasing child index), so that a CNOT layer on the tree acts on a qubit only after its
    parent in the tree has been acted on.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Binary (0/1) data.

    Returns
    -------
    pairs : list of (int, int)
        The ``n_features - 1`` edges of the tree, ``(parent, child)``; empty for one column.

    Examples
    --------
    >>> from skqml.boltzmann._chow_liu import chow_liu_tree
    >>> from skqml.datasets import bars_and_stripes_patterns
    >>> chow_liu_tree(bars_and_stripes_patterns(3, 3))  # only same-row or same-column bonds
    [(0, 1), (0, 2), (0, 3), (0, 6), (1, 4), (1, 7), (2, 5), (2, 8)]
    """
    mi = mutual_information(X)
    n = mi.shape[0]
    i, j = np.triu_indices(n, k=1)
    # Decreasing information, then (i, j); rounded so that pairs whose counts differ only by
    # a relabelling of the bit values (equal information up to the order of the sum) tie.
    order = np.lexsort((j, i, -np.round(mi[i, j], 12)))
    root = list(range(n))

    def find(a: int) -> int:
        while root[a] != a:
            root[a] = root[root[a]]
            a = root[a]
        return a

    neighbours: list[list[int]] = [[] for _ in range(n)]
    for k in order:
        a, b = find(int(i[k])), find(int(j[k]))
        if a != b:
            root[a] = b
            neighbours[int(i[k])].append(int(j[k]))
            neighbours[int(j[k])].append(int(i[k]))
    pairs = []
    queue, seen = [0], {0}
    for parent in queue:
        for child in sorted(neighbours[parent]):
            if child not in seen:
                seen.add(child)
                queue.append(child)
                pairs.append((parent, child))
    return pairs
