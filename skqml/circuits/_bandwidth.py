"""The kernel bandwidth as a trainable weight of the encoding circuit.

A bandwidth ``b`` multiplies the features before they are encoded, ``x -> b x`` (Shaydulin &
Wild 2022; Canatar et al. 2022). Written into the circuit as one more weight, it is
differentiated like every other weight (kernel hyperparameters fitted by gradients).
"""

from __future__ import annotations

from ._circuit import Circuit, Operation

__all__ = ["bandwidth_as_weight"]


def bandwidth_as_weight(circuit: Circuit) -> Circuit:
    """The circuit with its features multiplied by a new trainable weight, the bandwidth.

    Every affine feature factor ``offset + scale * x[i]`` of every angle becomes
    ``offset + scale * x[i] * theta[b]`` with ``b = circuit.n_weights`` (the index after
    the circuit's own weights), products expanded into terms, exactly. So the new circuit at
    weights ``[w..., bandwidth]`` prepares the states of ``circuit`` at weights ``w`` and
    features ``X * bandwidth``. A circuit that reads no features does not read the new
    weight either (its derivative is zero).

    Parameters
    ----------
    circuit : Circuit
        The encoding circuit.

    Returns
    -------
    circuit : Circuit
        A new circuit whose angles read ``theta[circuit.n_weights]``.

    Examples
    --------
    >>> import numpy as np
    >>> from skqml.circuits import ZZFeatureMap, bandwidth_as_weight
    >>> from skqml.simulator import simulate
    >>> circuit = ZZFeatureMap(reps=1).build(2)
    >>> scaled = bandwidth_as_weight(circuit)
    >>> scaled.n_weights
    1
    >>> X = np.array([[0.3, 1.2]])
    >>> np.allclose(simulate(scaled, X, [0.5]), simulate(circuit, X * 0.5))
    True
    """
    index = circuit.n_weights
    mapping = dict.fromkeys(range(circuit.n_features), index)
    operations = (
        Operation(op.name, op.qubits, tuple(p.with_scaled_features(mapping) for p in op.params))
        for op in circuit.operations
    )
    return Circuit(circuit.n_qubits, operations)
