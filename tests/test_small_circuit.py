"""The small-circuit engine (skqml.simulator._small) against the dense reference, the general
adjoint path and finite differences, on random circuits over every gate of the gate table."""

import functools
from math import pi

import numpy as np
import pytest
from _reference import circuit_unitary, finite_difference_vjp

from skqml.circuits import GATES, Circuit, HardwareEfficient, feature, weight
from skqml.simulator import _adjoint, _small, expectation_vjp, expectations, probability_vjp
from skqml.simulator._adjoint import general_expectation_vjp
from skqml.simulator._small import (
    SMALL_MAX_QUBITS,
    small_chunk_rows,
    small_circuit_program,
)

N_FEATURES, N_WEIGHTS = 3, 7
_PAULI = {
    "I": np.eye(2),
    "X": np.array([[0, 1], [1, 0]]),
    "Y": np.array([[0, -1j], [1j, 0]]),
    "Z": np.diag([1.0, -1.0]),
}


@pytest.fixture(autouse=True, params=["numpy", "compiled"])
def sweeps(request, monkeypatch):
    """Every test runs on both state sweeps of the engine: NumPy's batched products and the
    compiled per-sample sweeps (numba, when installed)."""
    if request.param == "compiled":
        pytest.importorskip("numba")
    monkeypatch.setattr(_small, "USE_COMPILED", request.param == "compiled")
    return request.param


def _angle(rng):
    a, b = (int(v) for v in rng.integers(0, N_WEIGHTS, 2))
    i = int(rng.integers(0, N_FEATURES))
    kind = int(rng.integers(0, 5))
    if kind == 0:
        return weight(a) * feature(i) + weight(b)
    if kind == 1:
        return weight(a) * weight(b) - 0.3
    if kind == 2:
        return (pi - feature(i)) * weight(a) * feature((i + 1) % N_FEATURES)
    if kind == 3:
        return 1.3 * feature(i) + 0.2  # data only
    return weight(a)


def random_circuit(n: int, seed: int, repeats: int = 2) -> Circuit:
    """Every gate of the table that fits ``n`` qubits, ``repeats`` times in random order."""
    rng = np.random.default_rng(seed)
    c = Circuit(n)
    names = [g for g, spec in GATES.items() if (spec.n_qubits or 1) <= n] * repeats
    for name in rng.permutation(names):
        spec = GATES[name]
        arity = spec.n_qubits or int(rng.integers(1, n + 1))
        qubits = tuple(int(q) for q in rng.permutation(n)[:arity])
        c = c.append(name, qubits, *(_angle(rng) for _ in range(spec.n_params)))
    return c


def random_labels(n: int, rng, k: int = 3) -> list[str]:
    return ["".join(rng.choice(list("IXYZ"), size=n)) for _ in range(k)]


def dense_expectations(circuit, labels, X, weights) -> np.ndarray:
    paulis = []
    for label in labels:
        P = np.ones((1, 1))
        for ch in label:  # leftmost character: the highest qubit, the first Kronecker factor
            P = np.kron(P, _PAULI[ch])
        paulis.append(P)
    out = np.empty((X.shape[0], len(labels)))
    for i, x in enumerate(X):
        psi = circuit_unitary(circuit, x, weights)[:, 0]
        out[i] = [np.vdot(psi, P @ psi).real for P in paulis]
    return out


def inputs(seed: int, n_samples: int, n_labels: int):
    rng = np.random.default_rng(seed + 100)
    X = rng.uniform(-1.5, 1.5, (n_samples, N_FEATURES))
    theta = rng.uniform(-pi, pi, N_WEIGHTS)
    G = rng.normal(size=(n_samples, n_labels))
    return X, theta, G


@functools.cache
def references(n: int, seed: int):
    """The random case ``(n, seed)`` and its references (dense expectations, the general
    path, finite differences of the dense reference), computed once for both sweeps."""
    circuit = random_circuit(n, seed)
    labels = random_labels(n, np.random.default_rng(seed))
    X, theta, G = inputs(seed, 9, len(labels))
    dense = dense_expectations(circuit, labels, X, theta)
    general = general_expectation_vjp(circuit, labels, X, theta, lambda E, rows: G[rows], None)
    fd = finite_difference_vjp(lambda t: dense_expectations(circuit, labels, X, t), theta, G)
    return circuit, labels, X, theta, G, dense, general, fd


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("seed", [0, 1])
def test_engine_equals_dense_reference_general_path_and_finite_differences(n, seed):
    circuit, labels, X, theta, G, dense, (E_gen, grad_gen), fd = references(n, seed)
    assert small_circuit_program(circuit) is not None
    assert small_chunk_rows(small_circuit_program(circuit), None, X.shape[0], len(labels)) > 0

    E, grad = expectation_vjp(circuit, labels, X, theta, lambda E, rows: G[rows])
    np.testing.assert_allclose(E, dense, atol=1e-10)
    np.testing.assert_allclose(expectations(circuit, labels, X, theta), E, atol=1e-12)
    np.testing.assert_allclose(E, E_gen, atol=1e-10)
    np.testing.assert_allclose(grad, grad_gen, atol=1e-10)
    np.testing.assert_allclose(grad, fd, atol=1e-6)
    assert np.abs(grad).max() > 1e-3  # the test has something to compare


def reuploading(n: int, n_layers: int) -> Circuit:
    c = Circuit(n)
    for layer in range(n_layers):
        for q in range(n):
            base = (layer * n + q) * 3
            c = c.rot(*(weight(base + k) * feature(3 * q + k) for k in range(3)), q)
            c = c.rot(*(weight(100 + base + k) for k in range(3)), q)
        for start in (0, 1):
            for q in range(start, n - 1, 2):
                c = c.cz(q, q + 1)
    return c


@pytest.mark.parametrize("n", [1, 2, 4, 6, SMALL_MAX_QUBITS])
def test_reuploading_circuit_equals_general_path(n):
    """The benchmark's workload at every width the engine takes, with two groups of
    Kronecker factors from 4 qubits on."""
    circuit = reuploading(n, 3)
    rng = np.random.default_rng(n)
    X = rng.uniform(-pi / 2, pi / 2, (13, 3 * n))
    theta = rng.uniform(-pi, pi, circuit.n_weights)
    G = rng.normal(size=(13, 2))
    labels = ["I" * (n - 1) + "Z", "X" * n]
    E, grad = expectation_vjp(circuit, labels, X, theta, lambda E, rows: G[rows])
    E_gen, grad_gen = general_expectation_vjp(
        circuit, labels, X, theta, lambda E, rows: G[rows], None
    )
    np.testing.assert_allclose(E, E_gen, atol=1e-10)
    np.testing.assert_allclose(grad, grad_gen, atol=1e-10)


@pytest.mark.parametrize("n", [6, SMALL_MAX_QUBITS])
def test_wide_random_circuit_equals_general_path(n):
    circuit = random_circuit(n, 7, repeats=1)
    labels = random_labels(n, np.random.default_rng(7))
    X, theta, G = inputs(7, 10, len(labels))
    E, grad = expectation_vjp(circuit, labels, X, theta, lambda E, rows: G[rows])
    E_gen, grad_gen = general_expectation_vjp(
        circuit, labels, X, theta, lambda E, rows: G[rows], None
    )
    np.testing.assert_allclose(E, E_gen, atol=1e-10)
    np.testing.assert_allclose(grad, grad_gen, atol=1e-10)


def test_weights_only_circuit_without_features():
    circuit = (
        Circuit(3)
        .h(0)
        .ry(weight(0), 1)
        .cnot(0, 2)
        .rzz(weight(1) * 2, 1, 2)
        .u3(weight(2), 0.3, weight(0), 2)
    )
    theta = np.array([0.3, -0.7, 1.1])
    E, grad = expectation_vjp(circuit, ["ZZI", "IXY"], None, theta, lambda E, r: np.ones_like(E))
    E_gen, grad_gen = general_expectation_vjp(
        circuit, ["ZZI", "IXY"], None, theta, lambda E, r: np.ones_like(E), None
    )
    assert E.shape == (1, 2)
    np.testing.assert_allclose(E, E_gen, atol=1e-12)
    np.testing.assert_allclose(grad, grad_gen, atol=1e-12)


def test_chunks_equal_one_pass(monkeypatch):
    circuit = random_circuit(3, 5)
    labels = ["ZIZ", "IXI"]
    X, theta, G = inputs(5, 21, 2)
    E_one, grad_one = expectation_vjp(circuit, labels, X, theta, lambda E, rows: G[rows])
    monkeypatch.setattr(_small, "_MAX_CHUNK_ROWS", 8)
    calls = []

    def cotangent(E, rows):
        calls.append((rows.start, rows.stop))
        return G[rows]

    E, grad = expectation_vjp(circuit, labels, X, theta, cotangent)
    assert calls == [(0, 8), (8, 16), (16, 21)]
    np.testing.assert_allclose(E, E_one, atol=1e-12)
    np.testing.assert_allclose(grad, grad_one, atol=1e-12)


def test_budget_too_small_for_the_engine_runs_the_general_path():
    """The engine stores every slice's states; a budget that cannot hold them for a few
    samples leaves the call to the general path, with the same results."""
    circuit = random_circuit(4, 3)
    program = small_circuit_program(circuit)
    labels = ["ZZZZ"]
    X, theta, G = inputs(3, 20, 1)
    budget = (program.fixed_bytes() + 2 * program.bytes_per_row(1)) / 1024**2
    assert small_chunk_rows(program, budget, 20, 1) == 0
    assert small_chunk_rows(program, budget, 2, 1) == 2
    E, grad = expectation_vjp(
        circuit, labels, X, theta, lambda E, rows: G[rows], max_memory_mb=budget
    )
    E_gen, grad_gen = general_expectation_vjp(
        circuit, labels, X, theta, lambda E, rows: G[rows], None
    )
    np.testing.assert_allclose(E, E_gen, atol=1e-12)
    np.testing.assert_allclose(grad, grad_gen, atol=1e-12)


# Gates the compiled sweeps take above SMALL_MAX_QUBITS: one-qubit gates, diagonal gates and
# parameter-free permutations with phases (no 2**n x 2**n matrix is built there).
WIDE_GATES = [
    name
    for name, spec in GATES.items()
    if (spec.n_qubits or 1) == 1
    or spec.diagonal is not None
    or name in ("cnot", "cy", "swap", "ccx")
]


def wide_circuit(n: int, seed: int) -> Circuit:
    """Every gate of ``WIDE_GATES`` twice, in random order, on random qubits of ``n``."""
    rng = np.random.default_rng(seed)
    c = Circuit(n)
    for name in rng.permutation(WIDE_GATES * 2):
        spec = GATES[name]
        arity = spec.n_qubits or int(rng.integers(1, 4))
        qubits = tuple(int(q) for q in rng.permutation(n)[:arity])
        c = c.append(name, qubits, *(_angle(rng) for _ in range(spec.n_params)))
    return c


# (n, seed): seeds whose random observables have gradients (many random cases have none).
@pytest.mark.parametrize(("n", "seed"), [(SMALL_MAX_QUBITS + 1, 9), (11, 13)])
def test_wider_circuits_on_the_compiled_sweeps_equal_the_general_path(n, seed, sweeps):
    """Above SMALL_MAX_QUBITS only the compiled sweeps run the engine (per sample, no dense
    matrices); without them the general path runs, with the same results."""
    circuit = wide_circuit(n, seed)
    rng = np.random.default_rng(n)
    labels = [*random_labels(n, rng, k=2), "I" * (n - 1) + "Z"]
    X, theta, G = inputs(n, 10, len(labels))
    program = small_circuit_program(circuit)
    if sweeps == "compiled":
        assert not program.dense and small_chunk_rows(program, None, 10, len(labels)) > 0
    else:
        assert program is None
    E, grad = expectation_vjp(circuit, labels, X, theta, lambda E, rows: G[rows])
    E_gen, grad_gen = general_expectation_vjp(
        circuit, labels, X, theta, lambda E, rows: G[rows], None
    )
    np.testing.assert_allclose(E, E_gen, atol=1e-10)
    np.testing.assert_allclose(expectations(circuit, labels, X, theta), E_gen, atol=1e-10)
    np.testing.assert_allclose(grad, grad_gen, atol=1e-10)
    assert np.abs(grad).max() > 1e-3


def test_permutation_form_equals_the_dense_product():
    n = 4
    circuit = Circuit(n).cnot(0, 2).append("cy", (3, 1)).append("swap", (1, 0))
    ops = circuit.append("ccx", (2, 0, 3)).cz(1, 3).append("x", (2,)).append("s", (0,)).operations
    src, phase = _small._permutation_form(ops, n)
    dense = np.eye(2**n, dtype=complex)
    for op in ops:
        dense = _small._dense_constant(op, n) @ dense
    psi = np.random.default_rng(0).normal(size=(2**n, 2)) @ [1, 1j]
    np.testing.assert_allclose(phase * psi[src], dense @ psi, atol=1e-14)
    assert _small._permutation_form(Circuit(n).append("ch", (0, 1)).operations, n) is None


@pytest.mark.parametrize(
    "dense_gate",
    [
        lambda c: c.append("ch", (0, 5)),
        lambda c: c.append("crx", (3, 1), weight(0)),
        lambda c: c.append("rxx", (2, 4), 0.3),
    ],
)
def test_wider_circuits_with_a_dense_entangler_take_the_general_path(dense_gate):
    n = SMALL_MAX_QUBITS + 1
    narrow = Circuit(SMALL_MAX_QUBITS).append("ch", (0, 1)).ry(weight(0), 0)
    assert small_circuit_program(narrow) is not None
    circuit = dense_gate(Circuit(n).ry(weight(0) * feature(0), 0))
    assert small_circuit_program(circuit) is None
    assert small_circuit_program(Circuit(_small._COMPILED_MAX_QUBITS + 1).ry(weight(0), 0)) is None


def test_wider_circuit_budget_counts_the_compiled_sweeps(sweeps):
    """Above SMALL_MAX_QUBITS the budget holds a final state per sample beside the sweeps'
    psi and lambda; a budget for two samples runs chunks of two, one for less the general
    path."""
    if sweeps != "compiled":
        pytest.skip("the wider engine runs on the compiled sweeps only")
    n = SMALL_MAX_QUBITS + 2
    circuit = wide_circuit(n, 3)
    program = small_circuit_program(circuit)
    per_row, fixed = program.bytes_per_row(1), program.fixed_bytes()
    assert per_row >= 16 * 2**n and fixed >= 3 * 16 * 2**n
    budget = (fixed + 2.5 * per_row) / 1024**2
    assert small_chunk_rows(program, budget, 2, 1) == 2
    assert small_chunk_rows(program, budget, 20, 1) == 0


def test_overflowing_angle_raises_like_the_general_path():
    circuit = Circuit(2).ry(weight(0) * feature(0), 0).cz(0, 1)
    X = np.array([[1.0], [1e300]])
    with pytest.raises(ValueError, match="overflows"):
        expectation_vjp(circuit, ["ZI"], X, [1e10], lambda E, r: np.ones_like(E))
    with pytest.raises(ValueError, match="overflows"):
        expectations(circuit, ["ZI"], X, [1e10])


def test_compiled_sweeps_serve_the_engine(sweeps):
    """The switch is real: the compiled sweeps run exactly when they are on (else this file
    would test the NumPy sweeps twice)."""
    circuit = random_circuit(3, 0)
    program = small_circuit_program(circuit)
    assert (_small._compiled_sweeps(program) is not None) == (sweeps == "compiled")


def test_pauli_masks_equal_dense_paulis():
    labels = ("XYZ", "IZY", "YYI", "III")
    flips, phases, zmasks = _small._pauli_masks(labels)
    dense = _small._dense_paulis(labels)  # column block k is P_k^T
    psi = np.random.default_rng(0).normal(size=8) + 1j
    index = np.arange(8)
    for k in range(len(labels)):
        expected = psi @ dense[:, 8 * k : 8 * (k + 1)]
        signs = np.array([(-1) ** bin(b & zmasks[k]).count("1") for b in index])
        got = np.zeros(8, dtype=complex)
        got[index ^ flips[k]] = phases[k] * signs * psi
        np.testing.assert_allclose(got, expected, atol=1e-15)


def test_compiled_sincos_equals_libm_to_two_ulp():
    """The compiled sweeps' vectorised sincos against NumPy's: small, large (its reduction
    by pi/2) and past its range (libm), zeros, multiples of pi/4, inf and NaN."""
    jit = pytest.importorskip("skqml.simulator._small_jit")
    from fractions import Fraction

    # The three parts of pi/2 add up to it far below a double's resolution.
    half_pi = Fraction("1.5707963267948966192313216916397514420985846996875529104874722962")
    assert abs(sum(map(Fraction, jit._PIO2_PARTS)) - half_pi) < Fraction(1, 10**35)
    rng = np.random.default_rng(0)
    parts = [rng.normal(size=2000) * scale for scale in (1e-3, 1, 30, 1e4, 9e5)]
    special = [0.0, -0.0, 5e-324, 1e6, -1e6]
    for x in [*parts, np.arange(-64, 65) * pi / 4, np.array(special)]:
        cos, sin = np.empty_like(x), np.empty_like(x)
        jit.sincos(x, cos, sin)
        np.testing.assert_allclose(cos, np.cos(x), rtol=0, atol=4.5e-16)
        np.testing.assert_allclose(sin, np.sin(x), rtol=0, atol=4.5e-16)
    for x in (np.array([1.0, 3e7]), np.array([0.5, np.inf, np.nan])):  # libm for all
        cos, sin = np.empty_like(x), np.empty_like(x)
        with np.errstate(invalid="ignore"):
            jit.sincos(x, cos, sin)
            np.testing.assert_array_equal(cos, np.cos(x))
            np.testing.assert_array_equal(sin, np.sin(x))


def test_large_angles_equal_the_general_path():
    """Angles past the compiled sincos's reduction range (libm) and within it give the
    general path's values and gradients."""
    circuit = Circuit(2).rx(weight(0) * feature(0), 0).ry(weight(1), 1).cz(0, 1).rz(feature(1), 0)
    circuit = circuit.rx(weight(2) * feature(1), 1)
    X = np.array([[3.0, 2e6], [1e5, 7.0], [0.1, -4e7]])
    theta = np.array([0.7, 1e6 + 0.3, 1.1])
    G = np.array([[1.0, -0.5], [0.3, 2.0], [-1.0, 0.4]])
    labels = ["IZ", "XY"]
    E, grad = expectation_vjp(circuit, labels, X, theta, lambda E, rows: G[rows])
    E_gen, grad_gen = general_expectation_vjp(
        circuit, labels, X, theta, lambda E, rows: G[rows], None
    )
    np.testing.assert_allclose(E, E_gen, atol=1e-9)
    np.testing.assert_allclose(grad, grad_gen, rtol=1e-9, atol=1e-6)


@pytest.mark.parametrize("n", [1, 3, 5])
def test_initial_states_equal_the_general_path(n):
    """Circuits that start from given states (one per sample) run on the engine, with the
    general path's values and gradients."""
    circuit = random_circuit(n, n)
    rng = np.random.default_rng(n)
    X = rng.uniform(-pi, pi, (5, N_FEATURES))
    theta = rng.normal(size=N_WEIGHTS)
    initial = rng.normal(size=(5, 2**n)) + 1j * rng.normal(size=(5, 2**n))
    initial /= np.linalg.norm(initial, axis=1, keepdims=True)
    labels = ["Z" * n, "X" + "I" * (n - 1)]
    G = rng.normal(size=(5, 2))
    program = small_circuit_program(circuit)
    assert small_chunk_rows(program, None, 5, len(labels), True) > 0
    E, grad = expectation_vjp(
        circuit, labels, X, theta, lambda E, rows: G[rows], initial_states=initial
    )
    E_gen, grad_gen = general_expectation_vjp(
        circuit, labels, X, theta, lambda E, rows: G[rows], None, initial
    )
    np.testing.assert_allclose(E, E_gen, atol=1e-10)
    np.testing.assert_allclose(grad, grad_gen, atol=1e-10)
    np.testing.assert_allclose(
        expectations(circuit, labels, X, theta, initial_states=initial), E_gen, atol=1e-10
    )
    assert np.abs(grad).max() > 1e-3


def _dense_probabilities(circuit, X, theta):
    return np.array([np.abs(circuit_unitary(circuit, x, theta)[:, 0]) ** 2 for x in X])


@pytest.mark.parametrize(("n", "seed"), [(1, 0), (3, 1), (5, 2), (SMALL_MAX_QUBITS + 2, 3)])
def test_probability_vjp_equals_dense_reference_general_path_and_finite_differences(
    n, seed, sweeps, monkeypatch
):
    """Born probabilities and the gradient through them (the read-out of BornMachine) on the
    engine: the dense reference, the general adjoint sweep and finite differences."""
    if n > SMALL_MAX_QUBITS:
        if sweeps == "numpy":
            pytest.skip("wider than the NumPy sweeps take")
        circuit = HardwareEfficient(n_layers=2, entanglement="circular").build(n)
        X, n_weights = np.zeros((1, 0)), circuit.n_weights
    else:
        circuit = random_circuit(n, seed)
        X, n_weights = None, N_WEIGHTS
    rng = np.random.default_rng(seed)
    X = rng.uniform(-pi, pi, (4, N_FEATURES)) if X is None else None
    theta = rng.normal(size=n_weights)
    rows = 1 if X is None else X.shape[0]
    G = rng.normal(size=(rows, 2**n))
    program = small_circuit_program(circuit)
    assert small_chunk_rows(program, None, rows, 2**n) > 0  # the engine takes the call

    P, grad = probability_vjp(circuit, X, theta, lambda P, r: G[r])
    X_dense = [None] if X is None else X
    if n <= SMALL_MAX_QUBITS:
        np.testing.assert_allclose(P, _dense_probabilities(circuit, X_dense, theta), atol=1e-10)
    if n <= 3:
        fd = finite_difference_vjp(lambda t: _dense_probabilities(circuit, X_dense, t), theta, G)
        np.testing.assert_allclose(grad, fd, atol=1e-6)
    monkeypatch.setattr(_adjoint, "_small_engine", lambda *args: (None, 0))
    P_gen, grad_gen = probability_vjp(circuit, X, theta, lambda P, r: G[r])
    np.testing.assert_allclose(P, P_gen, atol=1e-12)
    np.testing.assert_allclose(grad, grad_gen, atol=1e-10)
    assert np.abs(grad).max() > 1e-3
