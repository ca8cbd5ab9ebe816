"""The amplitude-encoding circuit (Mottonen et al. 2004) against independent references: a
dense statevector built from scratch with Kronecker products, the Walsh-Hadamard matrix
written out element by element, and the normalised input vectors themselves."""

import numpy as np
import pytest
from _reference import kron_single

from skqml.circuits import Term
from skqml.circuits._amplitude import _gray_code_angles, amplitude_angles, amplitude_circuit
from skqml.simulator import simulate


def random_vectors(m, seed):
    """Rows of length 2**m with both signs; one row has a zero lower half (its angles are
    the atan2 limits) and one a zero upper half."""
    V = np.random.default_rng(seed).normal(size=(5, 2**m))
    V[0, : 2 ** (m - 1)] = 0.0
    V[1, 2 ** (m - 1) :] = 0.0
    return V


def normalised(V):
    return V / np.linalg.norm(V, axis=1, keepdims=True)


def dense_state(circuit, x):
    """The state of an RY/CNOT circuit from |0...0>, gate by gate as 2**n x 2**n matrices
    built with numpy's kron (qubit 0 the least significant bit). Each RY must read one
    feature with coefficient 1, whose value is its angle."""
    n = circuit.n_qubits
    P0, P1, X = np.diag([1.0, 0.0]), np.diag([0.0, 1.0]), np.array([[0.0, 1.0], [1.0, 0.0]])
    state = np.zeros(2**n)
    state[0] = 1.0
    for op in circuit.operations:
        if op.name == "ry":
            ((term,),) = (p.terms for p in op.params)
            ((i, offset, scale),) = term.factors
            assert (term.coeff, offset, scale, term.weights) == (1.0, 0.0, 1.0, ())
            c, s = np.cos(x[i] / 2), np.sin(x[i] / 2)
            gate = kron_single(np.array([[c, -s], [s, c]]), op.qubits[0], n)
        else:
            assert op.name == "cnot"
            control, target = op.qubits
            gate = kron_single(P0, control, n) + kron_single(P1, control, n) @ kron_single(
                X, target, n
            )
        state = gate @ state
    return state


@pytest.mark.parametrize("m", [1, 2, 3, 4, 5, 6])
def test_the_circuit_prepares_the_vector_in_a_dense_reference(m):
    V = random_vectors(m, m)
    circuit, angles = amplitude_circuit(m), amplitude_angles(V)
    assert circuit.n_features == angles.shape[1] == 2**m - 1
    for v, x in zip(normalised(V), angles, strict=True):
        np.testing.assert_allclose(dense_state(circuit, x), v, rtol=0, atol=1e-12)


def test_the_circuit_prepares_the_vector_on_the_simulator():
    for m in (1, 2, 3, 5, 7, 8, 9, 10):
        V = random_vectors(m, 10 + m)
        states = simulate(amplitude_circuit(m), amplitude_angles(V))
        np.testing.assert_allclose(states, normalised(V), rtol=0, atol=1e-12)


def test_the_angles_are_the_gray_code_transform_of_the_tree():
    # theta_i = 2**-k sum_p (-1)**popcount(p & gray(i)) alpha_p, the matrix written out.
    for k in range(6):
        size = 2**k
        alpha = np.random.default_rng(k).normal(size=(3, size))
        M = np.array(
            [
                [(-1) ** bin(p & (i ^ (i >> 1))).count("1") for p in range(size)]
                for i in range(size)
            ]
        )
        out = np.empty((3, size))
        _gray_code_angles(alpha.copy(), out)
        np.testing.assert_allclose(out, alpha @ M.T / size, rtol=0, atol=1e-13)


def test_the_circuit_is_linear_in_size():
    m = 12
    circuit = amplitude_circuit(m)
    assert circuit.count_ops() == {"ry": 2**m - 1, "cnot": 2**m - 2}
    rys = [op for op in circuit.operations if op.name == "ry"]
    # Feature i alone, with coefficient 1, in order: qubit m - 1 first, qubit 0 last.
    assert [op.params[0].terms for op in rys] == [
        (Term(1.0, ((i, 0.0, 1.0),)),) for i in range(2**m - 1)
    ]
    assert [op.qubits[0] for op in rys] == [
        m - 1 - level for level in range(m) for _ in range(2**level)
    ]
    assert circuit.n_weights == 0 and circuit.n_features == 2**m - 1


def test_the_angles_scale_and_refuse_bad_vectors():
    V = random_vectors(3, 0)
    np.testing.assert_allclose(amplitude_angles(1e-200 * V), amplitude_angles(V), atol=1e-12)
    np.testing.assert_allclose(amplitude_angles(1e200 * V), amplitude_angles(V), atol=1e-12)
    for bad in ([0.0] * 4, [np.nan, 1.0], [np.inf, 1.0], [np.inf, np.nan]):
        with pytest.raises(ValueError, match="finite vectors with a non-zero norm"):
            amplitude_angles(np.array([bad]))
    for shape in ((1, 3), (1, 1), (4,)):
        with pytest.raises(ValueError, match="2\\*\\*m"):
            amplitude_angles(np.ones(shape))
