"""State derivatives (state_vjp, state_jacobian) against independent references.

References: central finite differences of simulated states and of the fidelities
``|<psi_i|psi_j>|^2`` built from them, and a dense reference (each gate's full matrix,
multiplied out; differentiated by central differences of the dense product). Circuits use
every gate that takes an angle, with angles mixing features and weights; U3 with weights in
its phases checks that the derivatives include the global phase the gradient split drops.
"""

import tracemalloc

import numpy as np
import pytest
from _reference import circuit_unitary

from skqml.circuits import (
    GATES,
    Circuit,
    HubregtsenEmbedding,
    ZZFeatureMap,
    bandwidth_as_weight,
    feature,
    weight,
)
from skqml.simulator import SimulationMemoryError, simulate, state_jacobian, state_vjp
from skqml.simulator._state_derivatives import _ForwardTape

N_QUBITS, N_FEATURES, N_WEIGHTS = 3, 3, 6
STEP = 1e-5
ANGLE_GATES = [name for name, spec in GATES.items() if spec.n_params]


def _angle(rng):
    """An angle mixing weights and features: affine, products, squares."""
    a, b = (int(v) for v in rng.integers(0, N_WEIGHTS, 2))
    i = int(rng.integers(0, N_FEATURES))
    kind = int(rng.integers(0, 4))
    if kind == 0:
        return weight(a) * feature(i) + weight(b)
    if kind == 1:
        return weight(a) * weight(b) - 0.5 * feature(i)
    if kind == 2:
        return (np.pi - feature(i)) * weight(a) * 0.7
    return weight(a) * weight(a) + feature(i)


def _circuit(seed: int, gates=ANGLE_GATES) -> Circuit:
    """Every gate of ``gates`` once, in random order, between entangling fixed gates."""
    rng = np.random.default_rng(seed)
    c = Circuit(N_QUBITS)
    for q in range(N_QUBITS):
        c = c.h(q)
    for name in rng.permutation(list(gates)):
        arity = GATES[name].n_qubits or int(rng.integers(2, N_QUBITS + 1))
        qubits = tuple(int(q) for q in rng.permutation(N_QUBITS)[:arity])
        c = c.append(name, qubits, *[_angle(rng) for _ in range(GATES[name].n_params)])
        q0, q1 = (int(q) for q in rng.permutation(N_QUBITS)[:2])
        c = c.cnot(q0, q1).append("sx", q1)
    return c


# Rot/U3/CRZ/RY/RZZ with angles mixing features and weights, as issue #11 asks; the U3 has
# weights in both phases, so its dropped global phase depends on them.
NAMED = (
    Circuit(N_QUBITS)
    .h(0)
    .rot(weight(0) * feature(1) + weight(2), weight(1), weight(3) * weight(4), 0)
    .u3(weight(5) * feature(0), weight(1) * feature(2) + weight(0), weight(2) * weight(3), 1)
    .cnot(0, 2)
    .crz(weight(4) * feature(1) - weight(5), 0, 1)
    .ry(weight(0) * weight(1) + feature(2), 2)
    .rzz((np.pi - feature(0)) * weight(3), 1, 2)
    .u3(weight(2), 0.3, weight(4) * feature(1), 2)
)
CIRCUITS = [NAMED, _circuit(0), _circuit(1)]


def _data(seed=0, n_samples=4):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1.5, 1.5, (n_samples, N_FEATURES)), rng.uniform(-2, 2, N_WEIGHTS)


def _central(f, weights, step=STEP):
    """Central differences of ``f(weights)`` (any array) along every weight."""
    rows = []
    weights = np.asarray(weights, dtype=float)
    for e in np.eye(weights.shape[0]):
        rows.append((f(weights + step * e) - f(weights - step * e)) / (2 * step))
    return np.array(rows)


def _assert_close(got, expected, rtol=1e-6):
    """Close relative to the reference's scale (finite differences have absolute errors)."""
    scale = max(np.abs(expected).max(), 1e-3)
    np.testing.assert_allclose(got, expected, rtol=0, atol=rtol * scale)


def _fidelity_cotangent(states_all, M):
    """``lambda`` of ``L = sum_ij A_ij |<psi_i|psi_j>|^2`` with ``M = A + A^T``:
    ``lambda_i = sum_j M_ij <psi_j|psi_i> psi_j``."""
    overlaps = states_all.conj() @ states_all.T  # G[j, i] = <psi_j|psi_i>

    def cotangent(states, rows):
        np.testing.assert_allclose(states, states_all[rows], atol=1e-13)
        return (M[rows] * overlaps[:, rows].T) @ states_all

    return cotangent


def _fidelities(circuit, X, weights):
    states = simulate(circuit, X, weights)
    return np.abs(states.conj() @ states.T) ** 2


# -- state_jacobian ---------------------------------------------------------------------------
@pytest.mark.parametrize("circuit", CIRCUITS, ids=["named", "all-gates-0", "all-gates-1"])
def test_state_jacobian_equals_dense_reference(circuit):
    X, weights = _data()
    states, jac = state_jacobian(circuit, X, weights)
    assert jac.shape == (N_WEIGHTS, X.shape[0], 2**N_QUBITS)
    for i, x in enumerate(X):
        dense = circuit_unitary(circuit, x, weights)[:, 0]
        np.testing.assert_allclose(states[i], dense, atol=1e-12)  # global phase included
        expected = _central(lambda w, x=x: circuit_unitary(circuit, x, w)[:, 0], weights)
        _assert_close(jac[:, i], expected)


def test_u3_phase_derivative_is_exact():
    # U3(t, p, l)|0> = (cos(t/2), e^{ip} sin(t/2)): d/dp = (0, i e^{ip} sin(t/2)). The
    # split RZ(p) RY(t) RZ(l) drops e^{i(p + l)/2}; without it d/dp and d/dl would differ.
    circuit = Circuit(1).u3(weight(0), weight(1), weight(2), 0)
    t, p, lam = 0.7, -0.4, 1.1
    states, jac = state_jacobian(circuit, None, [t, p, lam])
    np.testing.assert_allclose(states[0], [np.cos(t / 2), np.exp(1j * p) * np.sin(t / 2)])
    expected = [
        [-np.sin(t / 2) / 2, np.exp(1j * p) * np.cos(t / 2) / 2],
        [0, 1j * np.exp(1j * p) * np.sin(t / 2)],
        [0, 0],
    ]
    np.testing.assert_allclose(jac[:, 0], expected, atol=1e-15)
    lam_vec = np.array([[0.3 - 0.2j, 0.5 + 0.9j]])
    _, grad = state_vjp(circuit, None, [t, p, lam], lambda s, rows: lam_vec)
    np.testing.assert_allclose(grad, 2 * (lam_vec.conj() @ jac[:, 0].T).real[0], atol=1e-15)


@pytest.mark.parametrize("circuit", CIRCUITS[:2], ids=["named", "all-gates"])
def test_fidelity_derivatives_from_state_jacobian(circuit):
    X, weights = _data(1)
    states, jac = state_jacobian(circuit, X, weights)
    overlaps = states.conj() @ states.T
    # d|G_ij|^2 = 2 Re(conj(G_ij) (<dpsi_i|psi_j> + <psi_i|dpsi_j>))
    d_overlaps = jac.conj() @ states.T + (states.conj() @ jac.transpose(0, 2, 1))
    got = 2 * (overlaps.conj()[None] * d_overlaps).real
    _assert_close(got, _central(lambda w: _fidelities(circuit, X, w), weights))


# -- state_vjp --------------------------------------------------------------------------------
@pytest.mark.parametrize("circuit", CIRCUITS, ids=["named", "all-gates-0", "all-gates-1"])
def test_state_vjp_of_fidelities_matches_finite_differences(circuit):
    X, weights = _data(2)
    A = np.random.default_rng(3).normal(size=(X.shape[0], X.shape[0]))
    cotangent = _fidelity_cotangent(simulate(circuit, X, weights), A + A.T)
    states, grad = state_vjp(circuit, X, weights, cotangent)
    np.testing.assert_allclose(states, simulate(circuit, X, weights), atol=1e-14)
    expected = _central(lambda w: np.sum(A * _fidelities(circuit, X, w)), weights)
    _assert_close(grad, expected)


@pytest.mark.parametrize("circuit", CIRCUITS, ids=["named", "all-gates-0", "all-gates-1"])
def test_state_vjp_of_re_lambda_psi_matches_finite_differences(circuit):
    # Re <lambda|psi> sees the global phase (Im <lambda|psi> != 0): d/dtheta of it is
    # Re <lambda| dpsi>, half of what the cotangent lambda gives.
    X, weights = _data(4)
    rng = np.random.default_rng(5)
    lam = rng.normal(size=(X.shape[0], 2**N_QUBITS)) + 1j * rng.normal(size=(X.shape[0], 8))
    _, grad = state_vjp(circuit, X, weights, lambda states, rows: lam[rows])
    expected = _central(lambda w: np.sum((lam.conj() * simulate(circuit, X, w)).real), weights)
    _assert_close(grad, 2 * expected)


@pytest.mark.parametrize("circuit", CIRCUITS, ids=["named", "all-gates-0", "all-gates-1"])
def test_state_vjp_is_the_contraction_of_state_jacobian(circuit):
    X, weights = _data(6)
    rng = np.random.default_rng(7)
    lam = rng.normal(size=(X.shape[0], 2**N_QUBITS)) + 1j * rng.normal(size=(X.shape[0], 8))
    states, grad = state_vjp(circuit, X, weights, lambda s, rows: lam[rows])
    states_j, jac = state_jacobian(circuit, X, weights)
    np.testing.assert_allclose(states, states_j, atol=1e-14)
    np.testing.assert_allclose(grad, 2 * np.einsum("ia,kia->k", lam.conj(), jac).real, atol=1e-12)


# -- chunks, edge cases, validation ---------------------------------------------------------------
def test_chunks_give_the_same_results(monkeypatch):
    # The bandwidth weight comes last but into play first: the run's order of derivatives
    # differs from the weights' order.
    fmap = HubregtsenEmbedding(n_layers=2)
    circuit = bandwidth_as_weight(fmap.build(4))
    X = np.random.default_rng(0).uniform(-1, 1, (7, 4))
    weights = np.append(fmap.initial_weights(4, random_state=0), 0.7)
    lam = np.random.default_rng(1).normal(size=(7, 16)) + 0j
    seen = []

    def cotangent(states, rows):
        seen.append(rows)
        assert not states.flags.writeable
        return lam[rows]

    runs = []  # rows of each forward-mode chunk
    run = _ForwardTape.run

    def counted_run(self, work, rows, *args):
        runs.append(rows)
        return run(self, work, rows, *args)

    monkeypatch.setattr(_ForwardTape, "run", counted_run)
    states, grad = state_vjp(circuit, X, weights, cotangent)
    states_j, jac = state_jacobian(circuit, X, weights)
    assert seen == [slice(0, 7)] and runs == [7]
    _assert_close(jac, _central(lambda w: simulate(circuit, X, w), weights))
    # 16 amplitudes = 256 bytes per state: budgets of one to a few samples per chunk.
    for budget, jacobian_budget in ((0.01, 0.06), (0.015, 0.09)):
        seen.clear()
        s, g = state_vjp(circuit, X, weights, cotangent, max_memory_mb=budget)
        assert len(seen) > 1 and [r.start for r in seen] == sorted(r.start for r in seen)
        assert sum(r.stop - r.start for r in seen) == 7
        np.testing.assert_allclose(s, states, atol=1e-15)
        np.testing.assert_allclose(g, grad, atol=1e-12)
        runs.clear()
        s, j = state_jacobian(circuit, X, weights, max_memory_mb=jacobian_budget)
        assert len(runs) > 1 and sum(runs) == 7
        np.testing.assert_allclose(s, states_j, atol=1e-15)
        np.testing.assert_allclose(j, jac, atol=1e-15)


def test_no_features_no_weights_and_extra_weights():
    circuit = Circuit(2).h(0).cnot(0, 1).rx(weight(0), 1).u3(weight(1), 0.2, weight(0), 0)
    weights = np.array([0.4, -0.3, 9.0])  # one more weight than the circuit reads
    states, jac = state_jacobian(circuit, None, weights)
    assert states.shape == (1, 4) and jac.shape == (3, 1, 4)
    assert not jac[2].any()
    _assert_close(jac[:, 0], _central(lambda w: simulate(circuit, None, w)[0], weights))
    _, grad = state_vjp(circuit, None, weights, lambda s, rows: s)
    np.testing.assert_allclose(grad, 0, atol=1e-14)  # d <psi|psi> = 0
    fixed = ZZFeatureMap(reps=1).build(2)
    X = np.array([[0.1, 0.2], [0.3, 0.4]])
    states, jac = state_jacobian(fixed, X, None)
    assert jac.shape == (0, 2, 4)
    np.testing.assert_allclose(states, simulate(fixed, X), atol=1e-15)
    states, grad = state_vjp(fixed, X, None, lambda s, rows: s)
    assert grad.shape == (0,)


def test_cotangent_shape_is_checked():
    circuit = Circuit(1).ry(weight(0), 0)
    with pytest.raises(ValueError, match=r"cotangent_fn returned shape \(2,\), expected \(1, 2\)"):
        state_vjp(circuit, None, [0.1], lambda s, rows: np.ones(2))


# -- memory -----------------------------------------------------------------------------------
def _peak_mib(call):
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        result = call()
    except SimulationMemoryError as exc:
        result = exc
    finally:
        peak = tracemalloc.get_traced_memory()[1] / 1024**2
        tracemalloc.stop()
    return peak, result


def test_memory_budget_is_kept_or_refused_up_front():
    fmap = HubregtsenEmbedding(n_layers=1)
    circuit = fmap.build(10)  # 10 qubits (16 KiB states), 20 weights
    X = np.random.default_rng(0).uniform(-1, 1, (8, 10))
    weights = fmap.initial_weights(10, random_state=0)
    results = 21 * 8 * 16 / 1024  # states and derivatives, MiB
    # Budgets that force chunks of one and a few samples; the traced peak stays within them.
    for budget in (results + 1.5, results + 4):
        peak, _ = _peak_mib(lambda b=budget: state_jacobian(circuit, X, weights, max_memory_mb=b))
        assert peak <= 1.05 * budget + 0.25
    for budget in (0.6, 1.5):
        peak, _ = _peak_mib(
            lambda b=budget: state_vjp(circuit, X, weights, lambda s, r: s, max_memory_mb=b)
        )
        assert peak <= 1.05 * budget + 0.25
    # The results alone exceed the budget: refused, advising fewer samples.
    with pytest.raises(SimulationMemoryError, match="fewer samples at once"):
        state_jacobian(circuit, X, weights, max_memory_mb=results / 2)
    # One sample of a wide circuit cannot fit: refused before allocating, width advice.
    wide = Circuit(26).ry(weight(0), 0)
    for call in (
        lambda: state_jacobian(wide, None, [0.1], max_memory_mb=64),
        lambda: state_vjp(wide, None, [0.1], lambda s, r: s, max_memory_mb=64),
    ):
        peak, error = _peak_mib(call)
        assert isinstance(error, SimulationMemoryError) and peak < 1
        assert "fewer samples at once would not help" in str(error)


# -- bandwidth as a weight --------------------------------------------------------------------
def test_bandwidth_gradient_equals_finite_differences_of_the_original():
    fmap = HubregtsenEmbedding(n_layers=2)
    circuit = fmap.build(3)
    scaled = bandwidth_as_weight(circuit)
    X, _ = _data(8)
    weights = fmap.initial_weights(3, random_state=2)
    b = 0.8
    A = np.random.default_rng(9).normal(size=(X.shape[0], X.shape[0]))
    cotangent = _fidelity_cotangent(simulate(circuit, X * b, weights), A + A.T)
    _, grad = state_vjp(scaled, X, np.append(weights, b), cotangent)
    along_b = _central(lambda v: np.sum(A * _fidelities(circuit, X * v[0], weights)), [b])
    _assert_close(grad[-1], along_b[0])
    _, jac = state_jacobian(scaled, X, np.append(weights, b))
    _assert_close(jac[-1], _central(lambda v: simulate(circuit, X * v[0], weights), [b])[0])
