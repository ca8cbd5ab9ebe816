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

``q`` is a property of the data and the feature map, not of a device: it is computed with the
exact simulator on at most ``MAX_ROWS`` training rows, whatever the kernel's backend.
"""

from __future__ import annotations

import numpy as np

from ..circuits import Circuit
from ..simulator import simulate
from ..simulator._memory import rows_per_chunk, state_bytes
from ..simulator._statevector import WORKING_COPIES

__all__ = ["median_bandwidth"]

# Probe bandwidth: small enough for the quadratic form (next terms ~ b0), large enough that
# 1 - k is far above rounding (1 - k ~ 1e-6 * q against 1e-16).
PROBE = 1e-3
# Rows the median is taken over: 200 rows give 19,900 pairs, a stable median at a cost of
# one 200-state simulation.
MAX_ROWS = 200


def median_bandwidth(circuit: Circuit, X: np.ndarray, max_memory_mb: float | None = None) -> float:
    """The bandwidth that puts the median training pair at ``b**2 q(x, y) = 1``.

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
        ``1 / sqrt(median q)``; 1.0 when fewer than two distinct samples leave no pair.

    Examples
    --------
    >>> import numpy as np
    >>> from skqml.circuits import AngleEmbedding
    >>> from skqml.kernels._bandwidth import median_bandwidth
    >>> X = np.array([[0.0], [1.0], [3.0]])
    >>> # A product of one-qubit rotations: q = ||x - y||**2 / 4, median pair distance 2.
    >>> round(median_bandwidth(AngleEmbedding().build(1), X), 6)
    1.0
    """
    X = np.asarray(X, dtype=np.float64)
    # As many rows as fit the budget (states, their working copies, the pair matrices), up
    # to MAX_ROWS: a smaller sample of pairs, rather than a refusal.
    per_row = (1 + WORKING_COPIES) * state_bytes(circuit.n_qubits) + 3 * 16 * MAX_ROWS
    fitting = rows_per_chunk(
        per_row, max_memory_mb, what="bandwidth='scale'", n_qubits=circuit.n_qubits
    )
    n_rows = max(2, min(MAX_ROWS, fitting))
    if X.shape[0] > n_rows:
        X = X[np.linspace(0, X.shape[0] - 1, n_rows).round().astype(int)]
    if X.shape[0] < 2:
        return 1.0
    states = simulate(circuit, X * PROBE, max_memory_mb=max_memory_mb)
    amplitudes = states @ states.conj().T
    fidelity = amplitudes.real**2 + amplitudes.imag**2
    pairs = np.triu_indices(X.shape[0], 1)
    q = np.maximum(1.0 - fidelity[pairs], 0.0) / PROBE**2
    median = float(np.median(q))
    return float(1.0 / np.sqrt(median)) if median > 0 else 1.0
