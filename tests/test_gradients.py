"""Adjoint and parameter-shift gradients against central finite differences.

Every gate that takes an angle is exercised with angles that mix trainable weights and data
features (``w_a * x_i + w_b``, products of weights, squares), Pauli observables with X and Y
factors, and a different cotangent for every sample.
"""

from math import ceil, pi, sqrt

import numpy as np
import pytest
from _reference import finite_difference_vjp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skqml.backends import ShotsBackend
from skqml.circuits import GATES, Circuit, feature, weight
from skqml.simulator import expectation_vjp, expectations, parameter_shift_vjp, shift_rule
from skqml.simulator._adjoint import _tape, adjoint_rows
from skqml.simulator._plan import compile_circuit
from skqml.simulator._statevector import WORKING_COPIES

TRAINABLE_GATES = (
    "rx",
    "ry",
    "rz",
    "p",
    "u3",
    "rot",
    "crx",
    "cry",
    "crz",
    "cp",
    "crot",
    "rxx",
    "ryy",
    "rzz",
    "multirz",
    "multiphase",
)
CONTROLLED = ("crx", "cry", "crz", "crot")
N_QUBITS, N_FEATURES, N_WEIGHTS, N_SAMPLES = 4, 3, 8, 5
OBSERVABLES = ["IIIZ", "IXII", "YIZI", "XYZI", "ZZXY", "IYII"]


def _arity(gate: str, rng) -> int:
    n = GATES[gate].n_qubits
    return int(rng.integers(2, N_QUBITS + 1)) if n is None else n


def _angle(rng):
    """A random angle expression in weights and features."""
    a, b = (int(v) for v in rng.integers(0, N_WEIGHTS, 2))
    i = int(rng.integers(0, N_FEATURES))
    c = float(rng.uniform(-2, 2))
    kind = int(rng.integers(0, 6))
    if kind == 0:
        return weight(a) * feature(i) + weight(b)
    if kind == 1:
        return weight(a) * weight(b)
    if kind == 2:
        return c * weight(a) + feature(i)
    if kind == 3:
        return weight(a) * weight(a) - 0.5 * weight(b)
    if kind == 4:
        return (pi - feature(i)) * weight(a) * c
    return weight(a)


def random_circuit(seed: int, gates=TRAINABLE_GATES) -> Circuit:
    """Every gate of ``gates`` in random order, with fixed gates in between."""
    rng = np.random.default_rng(seed)
    c = Circuit(N_QUBITS)
    for q in range(N_QUBITS):
        c = c.h(q).ry(feature(q % N_FEATURES), q)
    for gate in rng.permutation(list(gates)):
        qubits = tuple(int(q) for q in rng.permutation(N_QUBITS)[: _arity(gate, rng)])
        params = [_angle(rng) for _ in range(GATES[gate].n_params)]
        c = c.append(gate, qubits, *params)
        q0, q1 = (int(q) for q in rng.permutation(N_QUBITS)[:2])
        c = c.cnot(q0, q1).append("sx", q1)
    return c


def random_inputs(seed: int, n_samples: int = N_SAMPLES, n_obs: int = len(OBSERVABLES)):
    rng = np.random.default_rng(seed + 1000)
    X = rng.uniform(-1.5, 1.5, (n_samples, N_FEATURES))
    theta = rng.uniform(-pi, pi, N_WEIGHTS)
    G = rng.normal(size=(n_samples, n_obs))  # a different cotangent per sample
    return X, theta, G


def adjoint(circuit, X, theta, G, paulis=OBSERVABLES, **kw):
    return expectation_vjp(circuit, paulis, X, theta, lambda E, rows: G[rows], **kw)


def finite_differences(circuit, X, theta, G, paulis=OBSERVABLES, h=1e-6):
    return finite_difference_vjp(lambda t: expectations(circuit, paulis, X, t), theta, G, h)


def exact_shift(circuit, X, theta, G, paulis=OBSERVABLES):
    def run(shifted):
        return expectations(shifted, paulis, X, theta)

    return parameter_shift_vjp(run, circuit, X, theta, G)


def test_every_trainable_gate_is_covered():
    """A new gate with angles must be added to these tests (and get a generator and a rule)."""
    assert {name for name, spec in GATES.items() if spec.n_params} == set(TRAINABLE_GATES)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_adjoint_matches_finite_differences_all_gates(seed):
    circuit = random_circuit(seed)
    X, theta, G = random_inputs(seed)
    E, grad = adjoint(circuit, X, theta, G)
    np.testing.assert_allclose(E, expectations(circuit, OBSERVABLES, X, theta), atol=1e-12)
    fd = finite_differences(circuit, X, theta, G)
    assert np.abs(fd).max() > 0.1  # the comparison is not trivially between zeros
    np.testing.assert_allclose(grad, fd, atol=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_parameter_shift_matches_adjoint_all_gates(seed):
    circuit = random_circuit(seed)
    X, theta, G = random_inputs(seed)
    _, grad = adjoint(circuit, X, theta, G)
    np.testing.assert_allclose(exact_shift(circuit, X, theta, G), grad, atol=1e-10)


@pytest.mark.parametrize("gate", TRAINABLE_GATES)
def test_each_gate_alone(gate):
    """One trainable gate in a generic state: adjoint, parameter shift and differences agree."""
    seed = TRAINABLE_GATES.index(gate)
    circuit = random_circuit(seed, gates=(gate,))
    trainable = [op.name for op in circuit if any(a.weights for a in op.params)]
    assert trainable == [gate]
    X, theta, G = random_inputs(seed)
    fd = finite_differences(circuit, X, theta, G)
    _, grad = adjoint(circuit, X, theta, G)
    np.testing.assert_allclose(grad, fd, atol=1e-6)
    np.testing.assert_allclose(exact_shift(circuit, X, theta, G), fd, atol=1e-6)


def test_shared_weights_products_and_squares():
    """One weight in several gates, in products and squared: the chain rule sums all uses."""
    w, x = weight, feature
    circuit = (
        Circuit(2)
        .h(0)
        .rx(w(0) * x(0) + w(1), 0)
        .crx(w(0) * w(1), 0, 1)
        .rzz(w(0) * w(0), 0, 1)
        .u3(w(1), 2 * w(0), -w(1) * x(1), 1)
    )
    X = np.array([[0.3, -0.7], [1.1, 0.4], [-0.5, 0.9]])
    theta = np.array([0.8, -1.3])
    G = np.array([[1.0, -0.5], [0.2, 0.7], [-1.0, 0.3]])
    paulis = ["XY", "ZI"]
    fd = finite_differences(circuit, X, theta, G, paulis)
    _, grad = adjoint(circuit, X, theta, G, paulis)
    np.testing.assert_allclose(grad, fd, atol=1e-7)
    np.testing.assert_allclose(exact_shift(circuit, X, theta, G, paulis), fd, atol=1e-7)


def test_circuit_without_features():
    """``X=None``: one run, weights only."""
    w = weight
    circuit = Circuit(2).ry(w(0), 0).cry(w(1) * w(2), 0, 1).rot(w(3), w(4), w(5), 1).cp(w(0), 1, 0)
    theta = np.array([0.3, -1.2, 0.8, 2.0, -0.4, 1.1])
    G = np.array([[0.7, -1.3]])
    paulis = ["XZ", "YY"]
    E, grad = expectation_vjp(circuit, paulis, None, theta, lambda E, rows: G)
    assert E.shape == (1, 2)
    fd = finite_differences(circuit, None, theta, G, paulis)
    assert np.abs(fd).max() > 0.1
    np.testing.assert_allclose(grad, fd, atol=1e-7)
    np.testing.assert_allclose(exact_shift(circuit, None, theta, G, paulis), fd, atol=1e-7)


def test_unused_weights_get_zero_gradient():
    circuit = random_circuit(3)
    X, theta, G = random_inputs(3)
    longer = np.concatenate([theta, [0.7, -0.2]])
    _, grad = adjoint(circuit, X, longer, G)
    assert grad.shape == longer.shape
    np.testing.assert_array_equal(grad[N_WEIGHTS:], 0.0)
    np.testing.assert_allclose(grad[:N_WEIGHTS], adjoint(circuit, X, theta, G)[1], atol=1e-12)


def test_chunked_equals_unchunked():
    """A tiny memory budget splits the batch; values and gradient do not change."""
    circuit = random_circuit(4)
    X, theta, G = random_inputs(4, n_samples=11)
    calls = []

    def cotangent(E, rows):
        calls.append(rows)
        return G[rows]

    E_full, g_full = adjoint(circuit, X, theta, G)
    # The plans' tables, one Pauli's index and sign vectors, and per sample psi, lambda and
    # the working copies of both: a budget for exactly 2 samples per chunk.
    state = 16 * 2**4
    fixed = _tape(circuit).table_bytes + compile_circuit(circuit).table_bytes + state
    budget = (fixed + 2 * 2 * (1 + WORKING_COPIES) * state) / 1024**2
    E_chunk, g_chunk = expectation_vjp(
        circuit, OBSERVABLES, X, theta, cotangent, max_memory_mb=budget
    )
    assert len(calls) == ceil(11 / 2)
    assert [r.start for r in calls] == list(range(0, 11, 2))
    np.testing.assert_allclose(E_chunk, E_full, atol=1e-13)
    np.testing.assert_allclose(g_chunk, g_full, atol=1e-12)
    # The up-front check of models gives the same chunk.
    assert adjoint_rows(circuit, budget) == 2


def test_expectations_chunked_equals_unchunked():
    circuit = random_circuit(4)
    X, theta, _ = random_inputs(4, n_samples=30)  # 30 states: 7.5 KiB, over the budget
    chunked = expectations(circuit, OBSERVABLES, X, theta, max_memory_mb=0.004)
    np.testing.assert_allclose(chunked, expectations(circuit, OBSERVABLES, X, theta), atol=1e-13)


def test_cotangent_shape_is_checked():
    circuit = random_circuit(0)
    X, theta, _ = random_inputs(0)
    with pytest.raises(ValueError, match="cotangent_fn returned shape"):
        expectation_vjp(circuit, OBSERVABLES, X, theta, lambda E, rows: np.ones((1, 1)))


# -- shift rules ------------------------------------------------------------------------------
@pytest.mark.parametrize("gate", TRAINABLE_GATES)
def test_shift_rule_values(gate):
    rule = shift_rule(gate)
    if gate in CONTROLLED:
        c1, c2 = (sqrt(2) + 1) / (4 * sqrt(2)), (sqrt(2) - 1) / (4 * sqrt(2))
        assert len(rule) == 2
        np.testing.assert_allclose(rule, [(c1, pi / 2), (-c2, 3 * pi / 2)], rtol=1e-15)
    else:
        assert rule == ((0.5, pi / 2),)


def _apply_rule(rule, f, t):
    return sum(c * (f(t + s) - f(t - s)) for c, s in rule)


def test_four_term_rule_is_exact_for_half_and_whole_frequencies():
    """Controlled rotations give E(t) = a0 + sum over frequencies 1/2 and 1: exact derivative."""
    rng = np.random.default_rng(0)
    a0, a1, b1, a2, b2 = rng.normal(size=5)

    def f(t):
        return a0 + a1 * np.cos(t / 2) + b1 * np.sin(t / 2) + a2 * np.cos(t) + b2 * np.sin(t)

    def df(t):
        return -a1 / 2 * np.sin(t / 2) + b1 / 2 * np.cos(t / 2) - a2 * np.sin(t) + b2 * np.cos(t)

    t = np.linspace(-4, 4, 9)
    np.testing.assert_allclose(_apply_rule(shift_rule("crx"), f, t), df(t), atol=1e-12)
    # The two-term rule is only exact for frequency 1: it is wrong here.
    assert np.abs(_apply_rule(shift_rule("rx"), f, t) - df(t)).max() > 1e-2

    def g(t):
        return a0 + a2 * np.cos(t) + b2 * np.sin(t)

    def dg(t):
        return -a2 * np.sin(t) + b2 * np.cos(t)

    np.testing.assert_allclose(_apply_rule(shift_rule("rx"), g, t), dg(t), atol=1e-12)


# -- hypothesis: random circuits, random angles -------------------------------------------------
@st.composite
def circuits(draw):
    n = draw(st.integers(1, 3))
    c = Circuit(n)
    for q in range(n):
        c = c.h(q)
    candidates = [g for g in TRAINABLE_GATES if (GATES[g].n_qubits or 1) <= n]
    for _ in range(draw(st.integers(1, 5))):
        gate = draw(st.sampled_from(candidates))
        k = GATES[gate].n_qubits or draw(st.integers(1, n))
        qubits = draw(st.permutations(range(n)))[:k]
        params = []
        for _ in range(GATES[gate].n_params):
            a = draw(st.integers(0, 2))
            b = draw(st.integers(0, 2))
            i = draw(st.integers(0, 1))
            kind = draw(st.sampled_from(["affine", "product", "weight"]))
            if kind == "affine":
                params.append(weight(a) * feature(i) + weight(b))
            elif kind == "product":
                params.append(weight(a) * weight(b))
            else:
                params.append(weight(a) + 0.3)
        c = c.append(gate, qubits, *params)
        if n > 1:
            c = c.cnot(0, n - 1)
    letters = st.text("IXYZ", min_size=n, max_size=n)
    paulis = draw(st.lists(letters, min_size=1, max_size=3))
    return c, paulis


@settings(
    max_examples=30,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(circuits(), st.integers(0, 2**16))
def test_hypothesis_adjoint_shift_and_differences_agree(drawn, seed):
    circuit, paulis = drawn
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.5, 1.5, (3, 2))
    theta = rng.uniform(-pi, pi, 3)
    G = rng.normal(size=(3, len(paulis)))
    _, grad = adjoint(circuit, X, theta, G, paulis)
    np.testing.assert_allclose(grad, finite_differences(circuit, X, theta, G, paulis), atol=1e-6)
    np.testing.assert_allclose(grad, exact_shift(circuit, X, theta, G, paulis), atol=1e-10)


# -- parameter shift through a shot-based backend ---------------------------------------------
def _shot_noise_bound(circuit, X, theta, G) -> np.ndarray:
    """``sqrt(shots)`` times an upper bound on the standard deviation of each sampled entry.

    The estimate is a linear combination ``sum_r a_r E_r`` of sampled expectation values,
    each with standard deviation at most ``1 / sqrt(shots)``; the triangle inequality bounds
    its standard deviation by ``sum_r |a_r| / sqrt(shots)`` whatever the correlations.
    """
    bound = np.zeros_like(theta)
    absG = np.abs(G).sum(axis=1)
    for op in circuit.operations:
        for angle in op.params:
            if not angle.weights:
                continue
            total = sum(2 * abs(c) for c, _ in shift_rule(op.name))
            idx, dangle = angle.weight_gradient(X, theta, theta.shape[0])
            bound[idx] += total * (np.abs(dangle) * absG[None, :]).sum(axis=1)
    return bound


def test_parameter_shift_through_shots_converges_to_exact_gradient():
    w, x = weight, feature
    circuit = (
        Circuit(2)
        .ry(x(0), 0)
        .ry(x(1), 1)
        .rx(w(0) * x(0) + w(1), 0)
        .crx(w(2), 0, 1)
        .rzz(w(0) * w(3), 0, 1)
        .ry(w(3), 1)
        .cnot(1, 0)
        .rot(w(1), w(2), w(0), 0)
    )
    X = np.array([[0.4, -1.1], [1.2, 0.3], [-0.6, 0.8]])
    theta = np.array([0.7, -0.4, 1.9, 0.5])
    paulis = ["ZI", "XY", "IZ"]
    G = np.array([[1.0, -0.6, 0.2], [0.3, 0.8, -0.5], [-0.7, 0.1, 0.9]])
    _, exact = adjoint(circuit, X, theta, G, paulis)
    bound = _shot_noise_bound(circuit, X, theta, G)
    errors = {}
    for shots in (500, 200_000):
        backend = ShotsBackend(shots=shots, seed=0)

        def run(shifted, backend=backend):
            return backend.expectations(shifted, paulis, X, theta)

        sampled = parameter_shift_vjp(run, circuit, X, theta, G)
        np.testing.assert_array_equal(sampled, parameter_shift_vjp(run, circuit, X, theta, G))
        # The bound is about five times the observed standard deviation here: one bound is a
        # many-sigma tolerance, tight enough to catch a wrong coefficient at 200k shots.
        assert np.all(np.abs(sampled - exact) <= bound / sqrt(shots)), (shots, sampled)
        errors[shots] = np.abs(sampled - exact).max()
    assert 0 < errors[200_000] < 0.02 * np.abs(exact).max()
    assert errors[200_000] < errors[500]


def test_gradients_refuse_wide_circuits_before_allocating():
    """24 qubits in 64 MiB: SimulationMemoryError at once (no 2**n tables built first)."""
    import time
    import tracemalloc

    from skqml.simulator import SimulationMemoryError, probability_vjp

    circuit = Circuit(24).ry(weight(0), 0).cnot(0, 23).crx(weight(1), 3, 20)
    circuit = circuit.cp(weight(2), 1, 22).multiphase(weight(3), (2, 5, 21))
    start = time.perf_counter()
    tracemalloc.start()
    for call in (
        lambda: adjoint_rows(circuit, 64),
        lambda: expectation_vjp(circuit, ["Z" * 24], None, np.ones(4), None, max_memory_mb=64),
        lambda: probability_vjp(circuit, None, np.ones(4), None, max_memory_mb=64),
    ):
        with pytest.raises(SimulationMemoryError, match=r"24 qubits.*fewer features"):
            call()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 2 * 1024**2
    assert time.perf_counter() - start < 2.0
