"""Gate matrices: unitarity, inverses, placement on qubits, and analytic values.

Each gate through each consumer of the gate table (diagonal form, inverse rule, gradients,
OpenQASM, Qiskit, PennyLane) is walked in test_gate_table.py.
"""

from itertools import permutations

import numpy as np
import pytest
from _reference import circuit_unitary, embed, kron_single
from scipy.linalg import expm

from skqml.circuits import GATES, Circuit, feature, gate_spec, weight
from skqml.simulator import simulate

ATOL = 1e-12
I2 = np.eye(2)
X = np.array([[0, 1], [1, 0]], dtype=complex)
Y = np.array([[0, -1j], [1j, 0]])
Z = np.diag([1.0, -1.0]).astype(complex)
H = np.array([[1, 1], [1, -1]]) / np.sqrt(2)


def _arities(spec) -> tuple[int, ...]:
    """Arities to test: the fixed one, or 1 to 4 for gates of any arity."""
    return (spec.n_qubits,) if spec.n_qubits is not None else (1, 2, 3, 4)


def _kron(*ms):
    out = np.eye(1)
    for m in ms:
        out = np.kron(out, m)
    return out


def _rz(t):
    return np.diag([np.exp(-0.5j * t), np.exp(0.5j * t)])


def _ry(t):
    c, s = np.cos(t / 2), np.sin(t / 2)
    return np.array([[c, -s], [s, c]])


GATE_CASES = [(name, k) for name, spec in GATES.items() for k in _arities(spec)]


@pytest.mark.parametrize(("name", "k"), GATE_CASES)
def test_matrix_is_unitary_batched(name, k):
    spec = GATES[name]
    rng = np.random.default_rng(0)
    batch = 7
    angles = [rng.uniform(-4 * np.pi, 4 * np.pi, batch) for _ in range(spec.n_params)]
    m = spec.matrix(*angles, n_qubits=k)
    assert m.dtype == np.complex128
    assert m.shape == (batch if spec.n_params else 1, 2**k, 2**k)
    eye = np.eye(2**k)
    np.testing.assert_allclose(
        m @ m.conj().transpose(0, 2, 1), np.broadcast_to(eye, m.shape), atol=ATOL
    )
    # Each batch entry is the matrix of its own angles.
    for b in range(m.shape[0]):
        single = spec.matrix(*(a[b : b + 1] for a in angles), n_qubits=k)
        np.testing.assert_allclose(m[b], single[0], atol=ATOL)


@pytest.mark.parametrize(("name", "k"), [c for c in GATE_CASES if GATES[c[0]].n_controls])
def test_controlled_gates_match_their_target(name, k):
    spec = GATES[name]
    rng = np.random.default_rng(2)
    angles = [rng.uniform(-5, 5, 3) for _ in range(spec.n_params)]
    target = gate_spec(spec.target).matrix(*angles, n_qubits=k - spec.n_controls)
    m = spec.matrix(*angles, n_qubits=k)
    d = target.shape[-1]
    np.testing.assert_allclose(m[:, -d:, -d:], target, atol=ATOL)
    np.testing.assert_allclose(
        m[:, :-d, :-d],
        np.broadcast_to(np.eye(2**k - d), (m.shape[0], 2**k - d, 2**k - d)),
        atol=ATOL,
    )
    assert np.all(m[:, :-d, -d:] == 0) and np.all(m[:, -d:, :-d] == 0)


def _random_angle(rng, n_features=2, n_weights=2):
    """An angle mixing a constant, a feature, a weight and a feature-weight product."""
    i, j = rng.integers(n_features), rng.integers(n_weights)
    c = rng.uniform(-2, 2, 4)
    return c[0] + c[1] * feature(i) + c[2] * weight(j) + c[3] * feature(i) * weight(j)


def test_inverse_of_a_circuit_with_every_gate():
    rng = np.random.default_rng(4)
    n = 4
    c = Circuit(n)
    for name, spec in GATES.items():
        for k in _arities(spec):
            params = [_random_angle(rng) for _ in range(spec.n_params)]
            c = c.append(name, tuple(rng.permutation(n)[:k]), *params)
    x, w = rng.uniform(-3, 3, 2), rng.uniform(-3, 3, 2)
    u = circuit_unitary(c, x, w)
    np.testing.assert_allclose(circuit_unitary(c.inverse(), x, w) @ u, np.eye(2**n), atol=1e-10)
    assert c.inverse().inverse() == c
    # The simulator agrees: U^dagger U |0> = |0>.
    state = simulate(c + c.inverse(), x[None], w)
    np.testing.assert_allclose(state[0], np.eye(2**n)[0], atol=1e-10)


def _prep_circuit(n: int) -> tuple[Circuit, int]:
    """A feature-driven preparation whose states, over many samples, span the whole space."""
    c, f = Circuit(n), 0
    for layer in range(2):
        for q in range(n):
            c = c.u3(feature(f), feature(f + 1), feature(f + 2), q)
            f += 3
        if layer == 0:
            for q in range(n - 1):
                c = c.cnot(q, q + 1)
    return c, f


@pytest.mark.parametrize("n", [3, 4])
@pytest.mark.parametrize("name", sorted(GATES))
def test_gate_on_every_qubit_subset_matches_dense_reference(name, n):
    spec = GATES[name]
    rng = np.random.default_rng(5)
    prep, n_prep = _prep_circuit(n)
    n_samples = 2 * 2**n  # enough generic states to pin down the whole operator
    Xs = rng.uniform(-np.pi, np.pi, (n_samples, n_prep + spec.n_params))
    before = simulate(prep, Xs)
    for k in _arities(spec):
        if k > n:
            continue
        for qubits in permutations(range(n), k):
            # Per-sample angles: the batched matrices and their placement are both tested.
            params = [feature(n_prep + p) for p in range(spec.n_params)]
            after = simulate(prep.append(name, qubits, *params), Xs)
            local = spec.matrix(*(Xs[:, n_prep + p] for p in range(spec.n_params)), n_qubits=k)
            full = _embed_batch(local, qubits, n)
            if k == 1:
                np.testing.assert_allclose(full[0], kron_single(local[0], qubits[0], n), atol=ATOL)
            expected = np.einsum("bij,bj->bi", full, before)
            np.testing.assert_allclose(after, expected, atol=1e-12, err_msg=f"{name} on {qubits}")


def _embed_batch(local: np.ndarray, qubits: tuple[int, ...], n: int) -> np.ndarray:
    """``embed`` for a batch of local matrices (``embed`` is linear: place entries once)."""
    d = local.shape[-1]
    where = embed(np.arange(1, d * d + 1).reshape(d, d), qubits, n).real.astype(int)
    flat = local.reshape(local.shape[0], d * d)
    return np.where(where > 0, flat[:, where - 1], 0)


def test_kron_single_and_embed_agree_with_textbook_order():
    # Little-endian: qubit 0 is the rightmost Kronecker factor.
    m = np.array([[1, 2], [3, 4]], dtype=complex)
    np.testing.assert_array_equal(kron_single(m, 0, 3), _kron(I2, I2, m))
    np.testing.assert_array_equal(kron_single(m, 2, 3), _kron(m, I2, I2))
    np.testing.assert_array_equal(embed(m, (1,), 3), _kron(I2, m, I2))
    cnot = GATES["cnot"].matrix()[0]
    # CNOT with control 1, target 0 on two qubits: |q1 q0> -> |q1, q0 xor q1>.
    np.testing.assert_array_equal(embed(cnot, (1, 0), 2), cnot)
    swap_order = np.eye(4)[[0, 2, 1, 3]]
    np.testing.assert_array_equal(embed(cnot, (0, 1), 2), swap_order @ cnot @ swap_order)


# -- analytic values --------------------------------------------------------------------------
def _m(name, *angles, k=None):
    return gate_spec(name).matrix(*(np.array([a], dtype=float) for a in angles), n_qubits=k)[0]


def test_rx_pi_is_minus_i_x():
    np.testing.assert_allclose(_m("rx", np.pi), -1j * X, atol=ATOL)
    np.testing.assert_allclose(_m("ry", np.pi), -1j * Y, atol=ATOL)
    np.testing.assert_allclose(_m("rz", np.pi), -1j * Z, atol=ATOL)


@pytest.mark.parametrize(("name", "pauli"), [("rx", X), ("ry", Y), ("rz", Z)])
def test_rotations_are_exponentials(name, pauli):
    for t in (-2.3, 0.4, 5.1):
        np.testing.assert_allclose(_m(name, t), expm(-0.5j * t * pauli), atol=ATOL)


def test_fixed_single_qubit_gates():
    np.testing.assert_allclose(_m("h") @ _m("h"), I2, atol=ATOL)
    np.testing.assert_allclose(_m("h"), H, atol=ATOL)
    np.testing.assert_array_equal(_m("x"), X)
    np.testing.assert_array_equal(_m("y"), Y)
    np.testing.assert_allclose(_m("z"), Z, atol=ATOL)
    np.testing.assert_allclose(_m("s"), np.diag([1, 1j]), atol=ATOL)
    np.testing.assert_allclose(_m("t"), np.diag([1, np.exp(0.25j * np.pi)]), atol=ATOL)
    np.testing.assert_allclose(_m("s") @ _m("sdg"), I2, atol=ATOL)
    np.testing.assert_allclose(_m("t") @ _m("t"), _m("s"), atol=ATOL)
    np.testing.assert_allclose(_m("tdg") @ _m("t"), I2, atol=ATOL)
    np.testing.assert_allclose(_m("sx") @ _m("sx"), X, atol=ATOL)
    np.testing.assert_allclose(_m("sxdg") @ _m("sx"), I2, atol=ATOL)
    np.testing.assert_array_equal(_m("id"), I2)
    np.testing.assert_allclose(_m("p", 0.7), np.diag([1, np.exp(0.7j)]), atol=ATOL)


def test_cnot_truth_table():
    # Basis index = q0 + 2 q1; CNOT(0, 1) flips q1 when q0 is 1.
    for q0 in (0, 1):
        for q1 in (0, 1):
            c = Circuit(2)
            if q0:
                c = c.x(0)
            if q1:
                c = c.x(1)
            state = simulate(c.cnot(0, 1))[0]
            expected = q0 + 2 * (q1 ^ q0)
            np.testing.assert_allclose(state, np.eye(4)[expected], atol=ATOL)
    np.testing.assert_array_equal(_m("cnot").real, np.eye(4)[[0, 1, 3, 2]])
    np.testing.assert_array_equal(_m("ccx").real, np.eye(8)[[0, 1, 2, 3, 4, 5, 7, 6]])
    np.testing.assert_array_equal(_m("swap").real, np.eye(4)[[0, 2, 1, 3]])


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_multirz_is_exponential_of_z_string(k):
    for t in (-1.7, 0.3, 4.0):
        np.testing.assert_allclose(
            _m("multirz", t, k=k), expm(-0.5j * t * _kron(*[Z] * k)), atol=ATOL
        )


@pytest.mark.parametrize(("name", "pauli"), [("rxx", X), ("ryy", Y), ("rzz", Z)])
def test_ising_gates_are_exponentials(name, pauli):
    for t in (-1.1, 2.5):
        np.testing.assert_allclose(_m(name, t), expm(-0.5j * t * np.kron(pauli, pauli)), atol=ATOL)


def test_rot_is_rz_ry_rz():
    a, b, c = 0.3, -1.2, 2.9
    np.testing.assert_allclose(_m("rot", a, b, c), _rz(c) @ _ry(b) @ _rz(a), atol=ATOL)
    crot = _m("crot", a, b, c)
    np.testing.assert_allclose(crot[2:, 2:], _rz(c) @ _ry(b) @ _rz(a), atol=ATOL)


def _u3_qiskit_formula(theta, phi, lam):
    # Qiskit's U3Gate documentation.
    c, s = np.cos(theta / 2), np.sin(theta / 2)
    return np.array(
        [[c, -np.exp(1j * lam) * s], [np.exp(1j * phi) * s, np.exp(1j * (phi + lam)) * c]]
    )


def test_u3_as_qiskit():
    rng = np.random.default_rng(6)
    for theta, phi, lam in rng.uniform(-2 * np.pi, 2 * np.pi, (5, 3)):
        np.testing.assert_allclose(
            _m("u3", theta, phi, lam), _u3_qiskit_formula(theta, phi, lam), atol=ATOL
        )
    # U3(theta, -pi/2, pi/2) = RX(theta); U3(theta, 0, 0) = RY(theta).
    np.testing.assert_allclose(_m("u3", 0.8, -np.pi / 2, np.pi / 2), _m("rx", 0.8), atol=ATOL)
    np.testing.assert_allclose(_m("u3", 0.8, 0, 0), _m("ry", 0.8), atol=ATOL)


def test_single_qubit_gates_equal_qiskit_matrices():
    lib = pytest.importorskip("qiskit.circuit.library")
    t, p, lam = 0.9, -2.1, 0.4
    pairs = {
        "h": lib.HGate(), "x": lib.XGate(), "y": lib.YGate(), "z": lib.ZGate(),
        "s": lib.SGate(), "sdg": lib.SdgGate(), "t": lib.TGate(), "tdg": lib.TdgGate(),
        "sx": lib.SXGate(), "sxdg": lib.SXdgGate(), "id": lib.IGate(),
    }  # fmt: skip
    for name, gate in pairs.items():
        np.testing.assert_allclose(_m(name), gate.to_matrix(), atol=ATOL, err_msg=name)
    np.testing.assert_allclose(_m("u3", t, p, lam), lib.U3Gate(t, p, lam).to_matrix(), atol=ATOL)
    np.testing.assert_allclose(_m("rx", t), lib.RXGate(t).to_matrix(), atol=ATOL)
    np.testing.assert_allclose(_m("ry", t), lib.RYGate(t).to_matrix(), atol=ATOL)
    np.testing.assert_allclose(_m("rz", t), lib.RZGate(t).to_matrix(), atol=ATOL)
    np.testing.assert_allclose(_m("p", t), lib.PhaseGate(t).to_matrix(), atol=ATOL)


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_multiphase_is_phase_on_odd_parity(k):
    lam = 1.3
    parity = np.array([bin(i).count("1") % 2 for i in range(2**k)])
    np.testing.assert_allclose(
        _m("multiphase", lam, k=k), np.diag(np.exp(1j * lam * parity)), atol=ATOL
    )
    # Equal to the CX chain onto the last qubit, P(lam), and the chain back.
    qubits = tuple(range(k))
    c = Circuit(k)
    for q in range(k - 1):
        c = c.cnot(q, q + 1)
    c = c.p(lam, k - 1)
    for q in reversed(range(k - 1)):
        c = c.cnot(q, q + 1)
    chain = circuit_unitary(c)
    np.testing.assert_allclose(
        circuit_unitary(Circuit(k).multiphase(lam, qubits)), chain, atol=ATOL
    )
