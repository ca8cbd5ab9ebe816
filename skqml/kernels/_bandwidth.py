"""A data-adaptive bandwidth for quantum kernels: ``bandwidth="scale"``.

Quantum kernels concentrate: on standardised data with several features, the angles of a
feature map are tens of radians, the states of different samples are nearly orthogonal and
every off-diagonal kernel value is about ``2**-n`` (Thanasilp et al. 2024). Scaling the
features by a bandwidth ``b`` moves the kernel from that regime (too narrow) to one where
all samples look alike (too wide, ``b -> 0``), with good generalisation in between (Shaydulin
& Wild 2022; Canatar et al. 2022). scikit-learn solves the same problem for its RBF kernel
with ``gamma="scale"``; this is the quantum kernel's counterpart.

The rule is the median heuristic in the kernel's own metric. For small ``b`` every fidelity
kernel has the Gaussian form ``k_b(x, y) = 1 - b**2 q(x, y) + O(b**3)``, where ``q`` is the
quadratic form of the feature map's (Fubini-Study) metric between ``x`` and ``y``. The
bandwidth is chosen so that the median training pair sits at ``b**2 q = 1``::

    q(x, y) = (1 - k_{b0}(x, y)) / b0**2,   b0 = 1e-3
    bandwidth = 1 / sqrt(median over training pairs of q)

For an RBF kernel (``q = ||x - y||**2``) this is exactly the classical median heuristic
``gamma = 1 / median ||x - y||**2``. It needs no knowledge of the feature map, so it adapts to
how each map's angles grow with the number of features (about ``n**-1/2`` for angle and IQP
maps, faster for ZZ maps, whose pair terms add up).

Feature maps are periodic, an RBF kernel is not: a bandwidth that puts the median pair at
``b**2 q = 1`` can wrap a feature with a wide range around the circle, so that samples at
the two ends of that feature's range look alike (on one or two features the median pair
distance is a large part of the range, and ``k(x_min, x_max)`` can come back near 1). The
bandwidth is therefore capped so that no feature folds: along each feature ``j``, the
samples with ``x_j`` at its training minimum and at its maximum (the other features as in a
few training rows) are at most orthogonal in the small-bandwidth picture::

    q_j = max over rows of q(x with x_j = min_j, x with x_j = max_j)
    bandwidth = min(1 / sqrt(median q), min_j (pi / 2) / sqrt(q_j))

For a one-qubit rotation per feature (``k = prod_j cos((b (x_j - y_j)) / 2)**2``) the cap is
``b * range_j <= pi``: the first zero of the kernel, never its next maximum. On eight or more
standardised features the median rule is the smaller one; the cap acts on few features.

``q`` is a property of the data and the feature map, not of a device: it is computed with the
exact simulator on at most ``MAX_ROWS`` training rows, whatever the kernel's backend.
"""

from __future__ import annotations

import numpy as np

from ..circuits import Circuit
from ..simulator import simulate
from ..simulator._memory import rows_per_chunk, state_bytes
from ..simulator._plan import compile_circuit
from ..simulator._statevector import WORKING_COPIES

__all__ = ["scale_bandwidths"]

# Probe bandwidth: small enough for the quadratic form (next terms ~ b0), large enough that
# 1 - k is far above rounding (1 - k ~ 1e-6 * q against 1e-16).
PROBE = 1e-3
# Rows the median is taken over: 100 rows give 4,950 pairs, a stable median at the cost of a
# 100-state simulation (the rule must stay cheap next to the fit it precedes).
MAX_ROWS = 100
# Rows whose one-feature ranges are probed for folding (the metric along a feature depends on
# the other features for entangling maps; a few rows see how much): 2 * FOLD_ROWS states per
# feature.
FOLD_ROWS = 4


def scale_bandwidths(
    circuit: Circuit, X: np.ndarray, max_memory_mb: float | None = None
) -> tuple[float, float]:
    """The ``"scale"`` bandwidth: the one that puts the median training pair at
    ``b**2 q(x, y) = 1``, unless that would fold a feature over its training range (see the
    module docstring); and that median rule itself, before the cap.

    Parameters
    ----------
    circuit : Circuit
        The feature map's circuit (reads the features, no weights).
    X : ndarray of shape (n_samples, n_features)
        Training samples (unscaled). At most ``MAX_ROWS`` evenly spaced rows are used (fewer
        when their states do not fit ``max_memory_mb``).
    max_memory_mb : float, default=None
        Memory budget of the simulation.

    Returns
    -------
    bandwidth : float
        ``min(median_rule, min_j (pi / 2) / sqrt(q_j))``.
    median_rule : float
        ``1 / sqrt(median q)``, before the fold cap; ``median_rule / bandwidth`` says how
        much wider than the median rule the cap leaves the kernel. Both are 1.0 when fewer
        than two distinct samples leave no pair.

    Examples
    --------
    >>> import numpy as np
    >>> from skqml.circuits import AngleEmbedding
    >>> from skqml.kernels._bandwidth import scale_bandwidths
    >>> circuit = AngleEmbedding().build(2)  # q = ||x - y||**2 / 4
    >>> X = np.array([[0.0, 0.0], [1.0, 1.0], [3.0, 1.0], [0.5, 4.0]])
    >>> # Median squared pair distance 9.625: the median rule, no feature folds.
    >>> bandwidth, median_rule = scale_bandwidths(circuit, X)
    >>> round(bandwidth, 5), round(median_rule, 5), round(float(np.sqrt(4 / 9.625)), 5)
    (0.64466, 0.64466, 0.64466)
    >>> # One feature spread over 10 with a median squared distance of 34: the median rule
    >>> # would fold it (b * 10 > pi); the bandwidth puts its range at pi.
    >>> X = np.array([[0.0], [1.0], [2.0], [10.0]])
    >>> bandwidth, median_rule = scale_bandwidths(AngleEmbedding().build(1), X)
    >>> round(bandwidth, 5), round(np.pi / 10, 5), round(median_rule, 5)
    (0.31416, 0.31416, 0.343)
    """
    X = np.asarray(X, dtype=np.float64)
    # As many rows as fit the budget (states, their working copies, the pair matrices), up
    # to MAX_ROWS: a smaller sample of pairs, rather than a refusal.
    # At least one pair: the first row is held (with the plan's tables) beside the rest.
    per_row = (1 + WORKING_COPIES) * state_bytes(circuit.n_qubits) + 3 * 16 * MAX_ROWS
    fitting = 1 + rows_per_chunk(
        per_row,
        max_memory_mb,
        what="bandwidth='scale' (the states of two samples at least)",
        n_qubits=circuit.n_qubits,
        fixed_bytes=per_row + compile_circuit(circuit).table_bytes,
    )
    rows = X
    if X.shape[0] > min(MAX_ROWS, fitting):
        rows = X[np.linspace(0, X.shape[0] - 1, min(MAX_ROWS, fitting)).round().astype(int)]
    if rows.shape[0] < 2:
        return 1.0, 1.0
    states = simulate(circuit, rows * PROBE, max_memory_mb=max_memory_mb)
    amplitudes = states @ states.conj().T
    del states
    fidelity = amplitudes.real**2 + amplitudes.imag**2
    q = _metric(fidelity[np.triu_indices(rows.shape[0], 1)])
    median = float(np.median(q))
    if not median > 0:
        return 1.0, 1.0
    median_rule = bandwidth = 1.0 / np.sqrt(median)
    fold_rows = rows[
        np.linspace(0, rows.shape[0] - 1, min(FOLD_ROWS, fitting // 2, rows.shape[0]))
        .round()
        .astype(int)
    ]
    for j, q_j in enumerate(_range_metrics(circuit, X, fold_rows, max_memory_mb)):
        if q_j > 0 and X[:, j].max() > X[:, j].min():
            bandwidth = min(bandwidth, (np.pi / 2) / np.sqrt(q_j))
    return float(bandwidth), float(median_rule)


def _metric(fidelity: np.ndarray) -> np.ndarray:
    """``q`` from fidelities measured at the probe bandwidth."""
    return np.maximum(1.0 - fidelity, 0.0) / PROBE**2


def _range_metrics(circuit: Circuit, X: np.ndarray, rows: np.ndarray, max_memory_mb):
    """For each feature ``j``, the largest ``q`` between the rows with ``x_j`` set to its
    training minimum and to its training maximum (one feature's whole range).

    The probes of as many features as the budget allows run as one batch.
    """
    n_rows, n_features = rows.shape
    per_feature = 2 * n_rows * (1 + WORKING_COPIES) * state_bytes(circuit.n_qubits)
    features_per_batch = rows_per_chunk(
        per_feature,
        max_memory_mb,
        what="bandwidth='scale' (the range probes of one feature)",
        n_qubits=circuit.n_qubits,
        fixed_bytes=compile_circuit(circuit).table_bytes,
    )
    low, high = X.min(axis=0), X.max(axis=0)
    q = np.empty(n_features)
    for start in range(0, n_features, features_per_batch):
        features = range(start, min(start + features_per_batch, n_features))
        probes = []
        for j in features:
            ends = np.concatenate([rows, rows])
            ends[:n_rows, j], ends[n_rows:, j] = low[j], high[j]
            probes.append(ends)
        states = simulate(circuit, np.concatenate(probes) * PROBE, max_memory_mb=max_memory_mb)
        states = states.reshape(len(features), 2, n_rows, -1)
        overlap = np.einsum("fij,fij->fi", states[:, 0].conj(), states[:, 1])
        q[start : start + len(features)] = _metric(overlap.real**2 + overlap.imag**2).max(axis=1)
    return q
