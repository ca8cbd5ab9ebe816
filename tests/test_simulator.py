"""The batched statevector simulator against the dense reference."""

import time
from itertools import product

import numpy as np
import pytest
from _reference import circuit_unitary
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skqml.circuits import GATES, Circuit, feature, weight
from skqml.simulator import (
    SimulationMemoryError,
    expectation_vjp,
    expectations,
    pauli_expectations,
    probabilities,
    simulate,
    simulate_probabilities,
    single_qubit_expectations,
)
from skqml.simulator._plan import compile_circuit
from skqml.simulator._statevector import WORKING_COPIES

N_FEATURES, N_WEIGHTS = 3, 3
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def reference_states(circuit, X=None, weights=None):
    """Dense reference: the circuit's unitary for each sample applied to |0...0>."""
    rows = [None] if X is None else list(np.asarray(X, dtype=float))
    return np.array([circuit_unitary(circuit, x, weights)[:, 0] for x in rows])


@st.composite
def angles(draw):
    """Constants, features, weights, and their sums and products (as the feature maps use)."""
    kind = draw(st.sampled_from(["const", "feature", "weight", "affine", "product", "mixed"]))
    c = draw(st.floats(-3, 3, allow_nan=False))
    i = draw(st.integers(0, N_FEATURES - 1))
    j = draw(st.integers(0, N_FEATURES - 1))
    w = draw(st.integers(0, N_WEIGHTS - 1))
    if kind == "const":
        return c
    if kind == "feature":
        return c * feature(i)
    if kind == "weight":
        return weight(w)
    if kind == "affine":
        return c - 2 * feature(i)
    if kind == "product":
        return c * (np.pi - feature(i)) * (np.pi - feature(j))
    return weight(w) * feature(i) + c


ALL_GATES = tuple(sorted(GATES))


@st.composite
def circuits(draw, max_qubits=5, names=ALL_GATES, max_gates=14):
    n = draw(st.integers(1, max_qubits))
    usable = [g for g in names if (GATES[g].n_qubits or 1) <= n]
    c = Circuit(n)
    for _ in range(draw(st.integers(0, max_gates))):
        name = draw(st.sampled_from(usable))
        spec = GATES[name]
        k = spec.n_qubits or draw(st.integers(1, n))
        qubits = draw(st.permutations(range(n)))[:k]
        c = c.append(name, tuple(qubits), *(draw(angles()) for _ in range(spec.n_params)))
    return c


def _inputs(seed, n_samples=3):
    rng = np.random.default_rng(seed)
    return rng.uniform(-np.pi, np.pi, (n_samples, N_FEATURES)), rng.uniform(-2, 2, N_WEIGHTS)


@SETTINGS
@given(circuit=circuits(), seed=st.integers(0, 2**32 - 1))
def test_random_circuits_match_dense_reference(circuit, seed):
    X, w = _inputs(seed)
    states = simulate(circuit, X, w)
    assert states.shape == (3, 2**circuit.n_qubits) and states.dtype == np.complex128
    np.testing.assert_allclose(states, reference_states(circuit, X, w), atol=1e-10)


@SETTINGS
@given(circuit=circuits(max_qubits=4), seed=st.integers(0, 2**32 - 1))
def test_batched_equals_one_by_one(circuit, seed):
    X, w = _inputs(seed, n_samples=5)
    batched = simulate(circuit, X, w)
    single = np.concatenate([simulate(circuit, X[i : i + 1], w) for i in range(5)])
    np.testing.assert_allclose(batched, single, atol=1e-12)


@SETTINGS
@given(circuit=circuits(max_qubits=5), seed=st.integers(0, 2**32 - 1))
def test_chunked_equals_unchunked(circuit, seed):
    X, w = _inputs(seed, n_samples=7)
    # A budget for the output of 7 samples, the plan's tables and the working copies of two
    # samples: chunks of two.
    state = 16 * 2**circuit.n_qubits
    tables = compile_circuit(circuit).table_bytes
    tiny = (7 * state + 2 * WORKING_COPIES * state + tables) / 1024**2
    chunked = simulate(circuit, X, w, max_memory_mb=tiny)
    np.testing.assert_allclose(chunked, simulate(circuit, X, w), atol=1e-12)
    # A caller's ``out`` is not counted against the budget: without the output's share the
    # chunks are again of two, the same arithmetic, so the same bits.
    tiny_out = tiny - 7 * state / 1024**2
    out = np.empty((7, 2**circuit.n_qubits), dtype=complex)
    assert simulate(circuit, X, w, max_memory_mb=tiny_out, out=out) is out
    np.testing.assert_array_equal(out, chunked)
    fortran = np.empty((7, 2**circuit.n_qubits), dtype=complex, order="F")
    simulate(circuit, X, w, max_memory_mb=tiny_out, out=fortran)
    np.testing.assert_array_equal(fortran, chunked)
    # With the whole budget, larger chunks: equal to rounding.
    np.testing.assert_allclose(
        simulate(circuit, X, w, max_memory_mb=tiny, out=out), chunked, atol=1e-12
    )


SINGLE_QUBIT = (*sorted(g for g, s in GATES.items() if s.n_qubits == 1), "multirz")


@SETTINGS
@given(circuit=circuits(names=SINGLE_QUBIT), seed=st.integers(0, 2**32 - 1))
def test_product_state_path_matches_reference(circuit, seed):
    # Only single-qubit gates (multirz on one qubit is one too): the product-state fast path.
    if any(len(op.qubits) > 1 for op in circuit):
        return
    X, w = _inputs(seed)
    np.testing.assert_allclose(
        simulate(circuit, X, w), reference_states(circuit, X, w), atol=1e-10
    )


def test_product_path_then_entangler():
    # Product path with per-sample and shared gates, then expansion at the first entangler.
    c = Circuit(3).h(0).ry(feature(0), 1).rz(0.3, 2).p(feature(1), 0).t(1).cnot(0, 2).rx(1.1, 1)
    X, _ = _inputs(0, n_samples=4)
    np.testing.assert_allclose(simulate(c, X), reference_states(c, X), atol=1e-12)


def test_constant_circuit_broadcasts_over_samples():
    c = Circuit(2).h(0).cnot(0, 1)
    X = np.zeros((4, 3))
    states = simulate(c, X)
    assert states.shape == (4, 4)
    np.testing.assert_allclose(states, np.repeat(simulate(c), 4, axis=0), atol=0)
    np.testing.assert_allclose(simulate(Circuit(3)), np.eye(8)[:1], atol=0)
    np.testing.assert_allclose(simulate(Circuit(2).x(1), X[:2]), np.eye(4)[[2, 2]], atol=0)


def test_long_diagonal_runs_match_reference():
    # Many diagonal gates in a row (fused into phase blocks), interleaved with mixers.
    rng = np.random.default_rng(1)
    c = Circuit(4)
    for _ in range(3):
        for q in range(4):
            c = c.h(q).rz(feature(q % N_FEATURES), q)
        for a, b in [(0, 1), (1, 2), (2, 3), (0, 3)]:
            c = c.rzz(feature(a % 3) * feature(b % 3), a, b).cp(weight(0), b, a).cz(a, b)
        c = c.multiphase(2 * (np.pi - feature(0)) * (np.pi - feature(2)), (3, 1, 0))
        c = c.crz(weight(1), 2, 0).s(3).append("tdg", 1).z(2).multirz(rng.uniform(), (0, 1, 2, 3))
    X, w = _inputs(2)
    np.testing.assert_allclose(simulate(c, X, w), reference_states(c, X, w), atol=1e-10)


# -- observables ------------------------------------------------------------------------------
PAULI = {
    "I": np.eye(2),
    "X": np.array([[0, 1], [1, 0]]),
    "Y": np.array([[0, -1j], [1j, 0]]),
    "Z": np.diag([1, -1]),
}


def _dense_pauli(label: str) -> np.ndarray:
    # Qiskit order: the leftmost character is the highest qubit, the leftmost Kronecker factor.
    out = np.eye(1)
    for ch in label:
        out = np.kron(out, PAULI[ch])
    return out


def _random_states(n, n_samples=4, seed=0):
    rng = np.random.default_rng(seed)
    c = Circuit(n)
    f = 0
    for layer in range(2):
        for q in range(n):
            c = c.u3(feature(f), feature(f + 1), feature(f + 2), q)
            f += 3
        for q in range(n - 1):
            c = c.cnot(q, q + 1) if layer == 0 else c.cry(feature(q), q + 1, q)
    return simulate(c, rng.uniform(-np.pi, np.pi, (n_samples, f)))


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_probabilities(n):
    states = _random_states(n)
    p = probabilities(states)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(p, np.abs(states) ** 2, atol=1e-15)
    assert np.all(p >= 0)


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_single_qubit_expectations_equal_dense(n):
    states = _random_states(n, seed=n)
    got = single_qubit_expectations(states)
    assert got.shape == (states.shape[0], n, 3)
    for q in range(n):
        for col, p in enumerate("XYZ"):
            label = "".join(p if k == q else "I" for k in range(n - 1, -1, -1))
            op = _dense_pauli(label)
            expected = np.einsum("bi,ij,bj->b", states.conj(), op, states).real
            np.testing.assert_allclose(got[:, q, col], expected, atol=1e-12)
    # Bloch vectors of reduced states have length at most 1.
    assert np.all(np.linalg.norm(got, axis=2) <= 1 + 1e-12)


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_pauli_expectations_equal_dense(n):
    states = _random_states(n, seed=10 + n)
    labels = ["".join(p) for p in product("IXYZ", repeat=n)]
    got = pauli_expectations(states, labels)
    for col, label in enumerate(labels):
        expected = np.einsum("bi,ij,bj->b", states.conj(), _dense_pauli(label), states).real
        np.testing.assert_allclose(got[:, col], expected, atol=1e-12, err_msg=label)
    # Lower-case labels are accepted; bad ones are refused.
    np.testing.assert_allclose(
        pauli_expectations(states, [labels[-1].lower()])[:, 0], got[:, -1], atol=0
    )
    with pytest.raises(ValueError, match="Pauli label"):
        pauli_expectations(states, ["Q" * n])
    with pytest.raises(ValueError, match="Pauli label"):
        pauli_expectations(states, ["Z" * (n + 1)])


def test_observables_reject_bad_shapes():
    for func in (probabilities, single_qubit_expectations):
        with pytest.raises(ValueError, match="2\\*\\*n_qubits"):
            func(np.ones((2, 3)))
        with pytest.raises(ValueError, match="2\\*\\*n_qubits"):
            func(np.ones(4))


# -- memory guard -----------------------------------------------------------------------------
def test_memory_guard_refuses_40_qubits_before_allocating():
    c = Circuit(40).h(0).cnot(0, 39)
    start = time.perf_counter()
    with pytest.raises(SimulationMemoryError) as info:
        simulate(c, max_memory_mb=1024)
    assert time.perf_counter() - start < 1.0
    err = info.value
    assert isinstance(err, MemoryError)
    msg = str(err)
    assert "40 qubits" in msg and "MiB" in msg
    assert err.allowed_mb == 1024.0
    assert err.required_mb == 4 * 16 * 2**40 / 1024**2
    assert "67,108,864 MiB" in msg and "1,024 MiB" in msg
    # The default budget refuses it too.
    with pytest.raises(SimulationMemoryError, match="40 qubits"):
        simulate(c)


def test_memory_guard_on_the_output():
    c = Circuit(10).h(0)
    one_sample = 16 * 2**10 / 1024**2
    # The budget holds the output and one sample's working copies: 8 samples fit, 100 do not.
    budget = (8 + WORKING_COPIES) * one_sample
    with pytest.raises(SimulationMemoryError, match="100 samples on 10 qubits") as info:
        simulate(c, np.zeros((100, 1)), max_memory_mb=budget)
    assert "pass fewer samples at once" in str(info.value)
    assert simulate(c, np.zeros((8, 1)), max_memory_mb=budget).shape == (8, 1024)
    with pytest.raises(SimulationMemoryError, match="9 samples on 10 qubits"):
        simulate(c, np.zeros((9, 1)), max_memory_mb=budget)


@pytest.mark.parametrize("budget", [0, -1.0, "10", True])
def test_bad_memory_budget(budget):
    with pytest.raises(ValueError, match="max_memory_mb"):
        simulate(Circuit(1).h(0), max_memory_mb=budget)


# -- input validation -------------------------------------------------------------------------
C_FEATURES = Circuit(2).ry(feature(0), 0).rz(feature(1) * weight(0), 1)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_features_are_refused(bad):
    X = np.ones((3, 2))
    X[1, 0] = bad
    with pytest.raises(ValueError, match="NaN or infinity"):
        simulate(C_FEATURES, X, [1.0])
    with pytest.raises(ValueError, match="NaN or infinity"):
        simulate(C_FEATURES, np.ones((3, 2)), [bad])


def test_bad_feature_shapes_are_refused():
    with pytest.raises(ValueError, match="2-D"):
        simulate(C_FEATURES, np.ones(2), [1.0])
    with pytest.raises(ValueError, match="2-D"):
        simulate(C_FEATURES, np.ones((1, 2, 1)), [1.0])
    with pytest.raises(ValueError, match="reads 2 features, X has 1"):
        simulate(C_FEATURES, np.ones((3, 1)), [1.0])
    with pytest.raises(ValueError, match="reads 2 features: pass X"):
        simulate(C_FEATURES, None, [1.0])
    # Extra columns are ignored.
    np.testing.assert_allclose(
        simulate(C_FEATURES, np.ones((2, 5)), [1.0]),
        simulate(C_FEATURES, np.ones((2, 2)), [1.0]),
        atol=0,
    )


def test_missing_weights_are_refused():
    with pytest.raises(ValueError, match="1 trainable weights: pass weights"):
        simulate(C_FEATURES, np.ones((3, 2)))
    c = Circuit(1).rx(weight(2), 0)
    with pytest.raises(ValueError, match="has 3 weights, got 2"):
        simulate(c, None, [1.0, 2.0])


# -- phase tables and numerics ----------------------------------------------------------------
def test_split_blocks_keep_small_tables():
    """A ZZ block over all qubits is split: its phase tables hold O(n 2**(n/2)) numbers per
    gate, never the 2**n of the full basis."""
    from skqml.circuits import ZZFeatureMap
    from skqml.simulator._plan import DiagonalBlock, diagonal_route

    circuit = ZZFeatureMap(reps=1).build(16)
    plan = compile_circuit(circuit)
    blocks = [s for s in plan.steps if isinstance(s, DiagonalBlock)]
    assert [diagonal_route(b, 16) for b in blocks] == ["split"]
    n_gates = len(blocks[0].entries)
    assert plan.table_bytes < n_gates * 8 * 2**16 / 4
    X = np.random.default_rng(0).uniform(0, np.pi, size=(2, 16))
    simulate(circuit, X)
    const, parts, _ = plan.split_patterns(blocks[0], blocks[0].n_low)
    columns = 2**8 + 2**8 + 8 * 2**8
    assert const.shape == (columns,)
    # Block-sparse: each column range stores only the gates that can change it.
    assert sorted((start, stop) for start, stop, _, _ in parts) == [
        (start, start + width)
        for start, width in [(0, 256), (256, 256)] + [(512 + 256 * j, 256) for j in range(8)]
    ]
    stored = sum(table.size for _, _, _, table in parts)
    assert stored < n_gates * columns / 3
    # 24 qubits: one split block whose tables are under an eighth of one state (blocks
    # that would need local tables over the cap take the split form instead).
    wide = compile_circuit(ZZFeatureMap(reps=1).build(24))
    routes = [diagonal_route(s, 24) for s in wide.steps if isinstance(s, DiagonalBlock)]
    assert routes == ["split"]
    assert wide.table_bytes < 16 * 2**24 / 8


def test_blocks_that_do_not_split_match_dense():
    """A three-qubit phase on two high qubits and a low one has no split form: the block
    takes the full-basis route, with the same states as the dense reference."""
    from skqml.simulator._plan import DiagonalBlock, diagonal_route

    c = Circuit(5)
    for q in range(5):
        c = c.h(q)
    c = c.multiphase(feature(0) * feature(1), (0, 3, 4)).rzz(feature(2), 1, 2).cp(0.3, 2, 4)
    c = c.rx(weight(0), 3)
    plan = compile_circuit(c)
    routes = [diagonal_route(s, 5) for s in plan.steps if isinstance(s, DiagonalBlock)]
    assert routes == ["full"]
    X = np.random.default_rng(1).uniform(-2, 2, size=(4, 3))
    np.testing.assert_allclose(
        simulate(c, X, [0.7]), reference_states(c, X, [0.7]), rtol=0, atol=1e-12
    )


@pytest.mark.filterwarnings("ignore:overflow encountered")
def test_overflowing_angles_name_the_feature():
    """A ZZ angle (pi - x)(pi - y) of features near 1e155 overflows: a ValueError that names
    the sample and the features and says to scale the data, never NaN states."""
    from skqml.circuits import ZZFeatureMap

    circuit = ZZFeatureMap(reps=1).build(3)
    X = np.full((3, 3), 0.5)
    X[1, 2] = 1e155
    X[1, 1] = -1e155
    pattern = r"overflows.*sample 1 has x\[1\] = -1e\+155, x\[2\] = 1e\+155.*StandardScaler"
    with pytest.raises(ValueError, match=pattern):
        simulate(circuit, X)
    # Large but finite angles are evaluated as they are (finite states, norm 1).
    X[1, 1] = 1e100
    states = simulate(circuit, X)
    np.testing.assert_allclose(np.linalg.norm(states, axis=1), 1.0, atol=1e-12)
    # Finite angles whose sum in one phase overflows are refused too.
    c = Circuit(4)
    for q in range(4):
        c = c.h(q)
    for q in range(3):
        c = c.cp(feature(q), q, q + 1)
    for q in range(4):
        c = c.p(1e308 * feature(q), q)
    with pytest.raises(ValueError, match=r"phase of diagonal gates.*x\[0\] = 1.*MinMaxScaler"):
        simulate(c, np.ones((2, 4)))


def test_scratch_buffers_are_freed_with_the_call():
    """No buffer outlives a simulation: after the call, nothing state-sized stays traced."""
    import tracemalloc

    circuit = Circuit(14).h(0).cnot(0, 5).ry(feature(0), 3).rxx(weight(0), 2, 9)
    X = np.ones((4, 1))
    simulate(circuit, X, [0.3])  # compile once
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    states = simulate(circuit, X, [0.3])
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert after - before <= states.nbytes + 64 * 1024


@SETTINGS
@given(circuit=circuits(max_qubits=5), seed=st.integers(0, 2**32 - 1))
def test_simulate_probabilities_equal_probabilities_of_states(circuit, seed):
    X, w = _inputs(seed, n_samples=7)
    expected = probabilities(simulate(circuit, X, w))
    np.testing.assert_array_equal(simulate_probabilities(circuit, X, w), expected)
    # In chunks of two samples: the probabilities of 7, a chunk of states, the tables.
    state = 16 * 2**circuit.n_qubits
    tables = compile_circuit(circuit).table_bytes
    tiny = (7 * state / 2 + 2 * (1 + WORKING_COPIES) * state + tables) / 1024**2
    np.testing.assert_allclose(
        simulate_probabilities(circuit, X, w, max_memory_mb=tiny), expected, atol=1e-15
    )


def test_simulate_probabilities_memory_advice():
    c = Circuit(10).h(0)
    with pytest.raises(SimulationMemoryError, match=r"of 500 samples.*fewer samples"):
        simulate_probabilities(c, np.zeros((500, 1)), max_memory_mb=1)
    with pytest.raises(SimulationMemoryError, match=r"30 qubits.*fewer features"):
        simulate_probabilities(Circuit(30).h(0), max_memory_mb=1024)


# -- initial states ---------------------------------------------------------------------------
def _preparation_and_trainable(n: int):
    """A feature-dependent preparation and a trainable circuit after it, on ``n`` qubits."""
    prep = Circuit(n)
    for q in range(n):
        prep = prep.ry(feature(q), q).rz(0.3 * feature((q + 1) % n), q)
    for q in range(n - 1):
        prep = prep.cx(q, q + 1)
    trainable = Circuit(n)
    for q in range(n):
        trainable = trainable.rx(weight(2 * q), q).ry(weight(2 * q + 1), q)
    for q in range(n - 1):
        trainable = trainable.cz(q, q + 1).rzz(weight(2 * n + q), q, q + 1)
    return prep, trainable


@pytest.mark.parametrize("n", [2, 5, 9])
def test_initial_states_equal_the_circuit_that_prepares_them(n):
    """Starting from given states is running the preparation first: values and gradients."""
    rng = np.random.default_rng(n)
    prep, trainable = _preparation_and_trainable(n)
    X = rng.normal(size=(6, n))
    w = rng.normal(size=trainable.n_weights)
    labels = ["I" * (n - 1) + "Z", "X" * n]
    initial = simulate(prep, X)
    whole = prep.compose(trainable)
    np.testing.assert_allclose(
        expectations(trainable, labels, None, w, initial_states=initial),
        expectations(whole, labels, X, w),
        atol=1e-12,
    )
    G = rng.normal(size=(6, 2))
    E, grad = expectation_vjp(
        trainable, labels, None, w, lambda E, r: G[r], initial_states=initial
    )
    E_whole, grad_whole = expectation_vjp(whole, labels, X, w, lambda E, r: G[r])
    np.testing.assert_allclose(E, E_whole, atol=1e-12)
    np.testing.assert_allclose(grad, grad_whole, atol=1e-11)
    # Chunked under a small budget: the same numbers, and the states are not modified.
    kept = initial.copy()
    small = expectations(trainable, labels, None, w, initial_states=initial, max_memory_mb=0.05)
    np.testing.assert_allclose(small, E_whole, atol=1e-12)
    np.testing.assert_array_equal(initial, kept)


def test_initial_states_of_the_wrong_shape_are_refused():
    _, trainable = _preparation_and_trainable(2)
    w = np.zeros(trainable.n_weights)
    with pytest.raises(ValueError, match=r"initial_states must have shape \(n_samples, 4\)"):
        expectations(trainable, ["ZZ"], None, w, initial_states=np.ones((3, 8)))
    with pytest.raises(ValueError, match="one state per sample"):
        expectation_vjp(
            Circuit(2).ry(feature(0), 0).rx(weight(0), 1),
            ["ZZ"],
            np.zeros((2, 1)),
            [0.1],
            lambda E, r: np.ones_like(E),
            initial_states=np.ones((3, 4)) / 2,
        )


@pytest.mark.parametrize("n", [1, 2, 5])
@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("kind", ["complex", "real", "diagonal", "antidiagonal"])
def test_one_qubit_gate_on_every_qubit_equals_the_dense_kronecker_product(n, batch, kind):
    """Both ways of applying a 2x2 matrix (matrix products, elementwise halves) against
    I x .. x m x .. x I on every qubit, for one row and an odd number of rows."""
    from skqml.simulator._statevector import _apply_1q, _by_products, _Scratch

    rng = np.random.default_rng(n * 10 + batch)
    m = rng.normal(size=(2, 2)) + (1j * rng.normal(size=(2, 2)) if kind == "complex" else 0)
    if kind == "diagonal":
        m = np.diag(np.diag(m))
    if kind == "antidiagonal":
        m = np.fliplr(np.diag(np.diag(m)))
    m = m.astype(complex)
    state = rng.normal(size=(batch, 2**n)) + 1j * rng.normal(size=(batch, 2**n))
    for q in range(n):
        # Qubit q is bit q of the index: it is the (n - 1 - q)-th factor from the left.
        dense = np.kron(np.kron(np.eye(2 ** (n - 1 - q)), m), np.eye(2**q))
        expected = state @ dense.T
        got = state.copy()
        _apply_1q(got, n, q, m[None], _Scratch())
        np.testing.assert_allclose(got, expected, atol=1e-12)
        mixing = kind in ("complex", "real")
        by_products = mixing and (q > 0 or kind == "real") and batch * 2**n >= 4 << q
        assert _by_products(state, q, m[None]) == by_products
