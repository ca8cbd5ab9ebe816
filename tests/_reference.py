"""Independent dense references: full 2**n x 2**n matrices built element by element."""

from __future__ import annotations

import numpy as np


def embed(local: np.ndarray, qubits: tuple[int, ...], n: int) -> np.ndarray:
    """Full little-endian operator of a local matrix given in the listed-qubits-first order."""
    k = len(qubits)
    dim = 2**n
    full = np.zeros((dim, dim), dtype=complex)
    others = [q for q in range(n) if q not in qubits]
    for i in range(dim):
        for j in range(dim):
            if any(((i >> q) & 1) != ((j >> q) & 1) for q in others):
                continue
            li = sum(((i >> q) & 1) << (k - 1 - p) for p, q in enumerate(qubits))
            lj = sum(((j >> q) & 1) << (k - 1 - p) for p, q in enumerate(qubits))
            full[i, j] = local[li, lj]
    return full


def kron_single(local: np.ndarray, q: int, n: int) -> np.ndarray:
    """Single-qubit operator on qubit q by Kronecker products (qubit n-1 leftmost)."""
    out = np.eye(1)
    for k in range(n - 1, -1, -1):
        out = np.kron(out, local if k == q else np.eye(2))
    return out


def circuit_unitary(circuit, x=None, weights=None) -> np.ndarray:
    """Dense unitary of a circuit for one sample, gate by gate."""
    n = circuit.n_qubits
    u = np.eye(2**n, dtype=complex)
    X = None if x is None else np.asarray(x, dtype=float)[None, :]
    for op in circuit.operations:
        angles = [p.evaluate(X, weights) for p in op.params]
        local = op.spec.matrix(*angles, n_qubits=len(op.qubits))[0]
        u = embed(local, op.qubits, n) @ u
    return u


def finite_difference_vjp(values, theta: np.ndarray, cotangent: np.ndarray, h: float = 1e-6):
    """Central differences of ``sum(cotangent * values(theta))`` with respect to each
    ``theta[j]``: the reference that gradients are checked against."""
    grad = np.zeros_like(theta)
    for j in range(theta.shape[0]):
        step = np.zeros_like(theta)
        step[j] = h
        grad[j] = np.sum(cotangent * (values(theta + step) - values(theta - step))) / (2 * h)
    return grad
