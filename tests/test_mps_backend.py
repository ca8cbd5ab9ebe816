"""MPSBackend against independent references: skqml's statevector simulator at 12 qubits,
closed-form kernels of product states at 40 qubits, dense contraction of the tensors, and the
truncation it reports."""

from __future__ import annotations

import pickle
import sys

import numpy as np
import pytest
from sklearn.base import clone

from skqml.backends import MPSBackend, resolve_backend
from skqml.backends._mps import _dense, _one_qubit_matrices, _overlap
from skqml.circuits import Circuit, RealAmplitudes, ZZFeatureMap, feature
from skqml.kernels import FidelityQuantumKernel, ProjectedQuantumKernel
from skqml.simulator import SimulationMemoryError, expectations, simulate

pytest.importorskip("qiskit_aer")

FMAP = ZZFeatureMap(reps=2, entanglement="linear")


def _problem(n=12, rows=6, seed=0):
    rng = np.random.default_rng(seed)
    circuit = FMAP.build(n).compose(RealAmplitudes(reps=1).build(n))
    X = rng.uniform(0, np.pi, (rows, n))
    return circuit, X, rng.uniform(-np.pi, np.pi, circuit.n_weights)


def test_twelve_qubits_equal_the_statevector():
    circuit, X, w = _problem()
    backend = MPSBackend()
    n = circuit.n_qubits
    states = simulate(circuit, X, w)
    np.testing.assert_allclose(
        backend.probabilities(circuit, X, w), np.abs(states) ** 2, atol=1e-10
    )
    np.testing.assert_allclose(
        backend.zero_frequencies(circuit, X, w), np.abs(states[:, 0]) ** 2, atol=1e-10
    )
    labels = ["I" * (n - 1) + "Z", "X" * n, "Y" + "I" * (n - 2) + "Z", "I" * 5 + "Y" + "I" * 6]
    np.testing.assert_allclose(
        backend.expectations(circuit, labels, X, w), expectations(circuit, labels, X, w), atol=1e-8
    )
    np.testing.assert_allclose(
        backend.parity_expectations(circuit, [1, 0b101], X, w),
        expectations(circuit, ["I" * (n - 1) + "Z", "I" * (n - 3) + "ZIZ"], X, w),
        atol=1e-8,
    )
    fid, exact = FidelityQuantumKernel(FMAP, backend=backend), FidelityQuantumKernel(FMAP)
    np.testing.assert_allclose(fid(X), exact(X), atol=1e-8)
    np.testing.assert_allclose(fid(X[:2], X[2:]), exact(X[:2], X[2:]), atol=1e-8)
    proj = ProjectedQuantumKernel(FMAP, backend=backend, gamma=0.5)
    np.testing.assert_allclose(proj(X), ProjectedQuantumKernel(FMAP, gamma=0.5)(X), atol=1e-8)
    fmap = FMAP.build(n)
    np.testing.assert_allclose(
        backend.paired_overlaps(fmap, X[:3], X[3:]),
        np.abs(np.einsum("ij,ij->i", simulate(fmap, X[:3]).conj(), simulate(fmap, X[3:]))) ** 2,
        atol=1e-10,
    )
    assert np.all(backend.truncation_errors(circuit, X, w) < 1e-20)  # nothing discarded


def test_tensor_algebra_against_dense_vectors():
    circuit, X, w = _problem(n=7, rows=2, seed=3)
    states, _ = MPSBackend()._mps(circuit, X, w, None)
    dense = [_dense(t) for t in states]
    reference = simulate(circuit, X, w)
    for v, ref in zip(dense, reference, strict=True):
        assert abs(abs(np.vdot(v, ref)) - 1) < 1e-12  # the same state, up to a global phase
    np.testing.assert_allclose(_overlap(states[0], states[1]), np.vdot(dense[0], dense[1]))
    # One-qubit matrices: M_q[t, s] = <psi| |s><t| on q |psi>, from the dense vector.
    psi = dense[0].reshape((2,) * 7)  # axis k is qubit 6 - k
    for q in range(7):
        m = np.moveaxis(psi, 6 - q, 0).reshape(2, -1)
        np.testing.assert_allclose(_one_qubit_matrices(states[0])[q], m.conj() @ m.T, atol=1e-12)


def test_forty_qubit_product_state_kernels_have_closed_forms():
    """RY(x_q) on every qubit: the fidelity is prod cos^2((x_q - y_q) / 2) and the Bloch
    vector of qubit q is (sin x_q, 0, cos x_q), whatever the number of qubits."""
    n = 40
    rng = np.random.default_rng(1)
    X = rng.uniform(-0.4, 0.4, (5, n))
    circuit = Circuit(n)
    for q in range(n):
        circuit = circuit.ry(feature(q), q)
    backend = MPSBackend()
    K = backend.overlaps(circuit, X)
    closed = np.prod(np.cos((X[:, None, :] - X[None, :, :]) / 2) ** 2, axis=2)
    np.testing.assert_allclose(K, closed, atol=1e-12)
    labels = ["I" * (n - 1 - q) + "X" + "I" * q for q in range(n)]
    np.testing.assert_allclose(backend.expectations(circuit, labels, X), np.sin(X), atol=1e-12)


def test_truncation_is_reported_and_refused_beyond_the_asked_accuracy():
    circuit, X, w = _problem(n=10, rows=3, seed=2)
    exact = simulate(circuit, X, w)
    capped = MPSBackend(max_bond_dimension=4)
    discarded = capped.truncation_errors(circuit, X, w)
    assert np.all(discarded > 1e-4)  # this circuit needs more than bond 4
    states, _ = capped._mps(circuit, X, w, None)
    fidelity = np.array(
        [abs(np.vdot(_dense(s), e)) ** 2 for s, e in zip(states, exact, strict=True)]
    )
    assert np.all(fidelity < 1 - 1e-6)  # truncated for real
    assert np.all(1 - fidelity <= 2 * discarded)  # and the reported weight bounds the loss
    strict = MPSBackend(max_bond_dimension=4, max_truncation_error=1e-6)
    with pytest.raises(ValueError, match=r"max_bond_dimension=4 is too small"):
        strict.expectations(circuit, ["Z" * 10], X, w)
    MPSBackend(max_truncation_error=1e-6).expectations(circuit, ["Z" * 10], X, w)  # uncapped


def test_memory_is_bounded_before_aer_runs(monkeypatch):
    circuit, X, w = _problem(n=12, rows=4)
    backend = MPSBackend()
    states, _ = backend._mps(circuit, X, w, None)
    held = max(sum(t.nbytes for t in s) for s in states)
    assert held <= backend._state_bytes(circuit)  # the bound holds
    with pytest.raises(SimulationMemoryError, match="matrix product state"):
        backend.expectations(circuit, ["Z" * 12], X, w, max_memory_mb=1e-4)
    wide = FMAP.build(60)
    # Bond dimension is what counts, not 2**60: a linear ZZ map of 60 qubits fits in 1 MiB.
    assert MPSBackend()._state_bytes(wide) < 2**20

    # 2**60 probabilities are refused before any state is built.
    def no_run(*args):
        raise AssertionError("the matrix product states were built")

    monkeypatch.setattr(backend, "_mps", no_run)
    with pytest.raises(SimulationMemoryError, match="outcome probabilities"):
        backend.probabilities(wide, np.zeros((1, 60)), max_memory_mb=64)


def test_a_circuit_without_angles_serves_every_row():
    bell = Circuit(2).h(0).cnot(0, 1)
    np.testing.assert_allclose(
        MPSBackend().probabilities(bell, np.zeros((3, 0))), [[0.5, 0, 0, 0.5]] * 3, atol=1e-12
    )


def test_a_parameter_object_named_mps():
    backend = resolve_backend("mps")
    assert backend == MPSBackend() and repr(backend) == "MPSBackend()"
    capped = MPSBackend(max_bond_dimension=8, cutoff=1e-10)
    circuit, X, w = _problem(n=6, rows=2)
    capped.expectations(circuit, ["Z" * 6], X, w)  # builds the cached engine
    assert clone(capped) == capped and pickle.loads(pickle.dumps(capped)) == capped
    np.testing.assert_array_equal(
        pickle.loads(pickle.dumps(capped)).expectations(circuit, ["Z" * 6], X, w),
        capped.expectations(circuit, ["Z" * 6], X, w),
    )


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"max_bond_dimension": 0}, "max_bond_dimension must be an integer >= 1"),
        ({"cutoff": -1.0}, "cutoff"),
        ({"max_truncation_error": -1e-3}, "max_truncation_error"),
    ],
)
def test_bad_parameters_name_the_problem(params, match):
    with pytest.raises(ValueError, match=match):
        MPSBackend(**params).zero_frequencies(Circuit(1).h(0))


def test_a_missing_aer_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "qiskit_aer", None)  # makes `import qiskit_aer` fail
    with pytest.raises(ImportError, match=r"skqml\[mps\]"):
        MPSBackend().zero_frequencies(Circuit(1).h(0))
