"""One wide sample's compiled sweeps with its state in two parts (``simulator/_split.py``):
the same probabilities and gradients as the general path and the one-pass sweeps, and the
same bits for every ``n_jobs``."""

import numpy as np
import pytest

pytest.importorskip("numba")

from skqml.boltzmann import BornMachine
from skqml.boltzmann._born import mmd_kernel_apply
from skqml.circuits import Circuit, HardwareEfficient, weight
from skqml.simulator import _adjoint, probability_vjp
from skqml.simulator._small import small_circuit_program, small_expectation_vjp
from skqml.simulator._split import (
    B_CROSS,
    B_GATHER,
    F_COPY,
    F_GATHER,
    F_RUN,
    SPLIT_MIN_QUBITS,
)

N = SPLIT_MIN_QUBITS


def _mixed_circuit(n: int) -> Circuit:
    """Runs on every qubit (the two top ones included), permutations that cross both split
    bits (CNOTs, SWAP), fixed and trainable diagonal entanglers (CZ, RZZ, multi-qubit RZ)
    and a fixed Hadamard on the top qubit."""
    c = Circuit(n)
    w = iter(range(10**6))
    for _ in range(2):
        for q in range(n):
            c = c.ry(weight(next(w)), q).rz(weight(next(w)), q)
        c = c.cnot(n - 1, 0).cnot(n - 2, n - 1).cnot(0, n - 2)
        c = c.rzz(weight(next(w)), n - 2, n - 1).cz(1, n - 1)
        c = c.h(n - 1).swap(0, n - 1).multirz(weight(next(w)), (0, n - 2, n - 1))
        c = c.cnot(2, 3)  # keeps both split bits: stays within the parts
    return c


CIRCUITS = {
    "mixed": _mixed_circuit,
    "born": lambda n: HardwareEfficient(
        n_layers=3, entanglement=[(0, j) for j in range(1, n)]
    ).build(n),
}


@pytest.mark.parametrize("name", sorted(CIRCUITS))
def test_split_sweeps_equal_general_path_one_pass_sweeps_and_finite_differences(name, monkeypatch):
    circuit = CIRCUITS[name](N)
    program = small_circuit_program(circuit)
    schedule = program.split_schedule
    assert schedule is not None
    # Both modes and permutations whose sources cross the parts are exercised.
    assert {mode for _, _, mode in schedule.forward_rounds} == {0, 1}
    assert {mode for _, _, mode in schedule.backward_rounds} == {0, 1}
    assert (schedule.forward_ops[:, 0] == F_GATHER).sum() >= 2
    rng = np.random.default_rng(0)
    theta = rng.uniform(-np.pi, np.pi, circuit.n_weights)
    G = rng.normal(size=(1, 2**N))

    P1, g1 = probability_vjp(circuit, None, theta, lambda P, r: G, n_jobs=1)
    P2, g2 = probability_vjp(circuit, None, theta, lambda P, r: G, n_jobs=2)
    np.testing.assert_array_equal(P1, P2)
    np.testing.assert_array_equal(g1, g2)
    assert np.abs(g1).max() > 1e-3

    monkeypatch.setattr(program, "splits", False)  # the one-pass compiled sweeps
    P_one, g_one = probability_vjp(circuit, None, theta, lambda P, r: G)
    np.testing.assert_allclose(P1, P_one, atol=1e-14)
    np.testing.assert_allclose(g1, g_one, atol=1e-10)
    monkeypatch.setattr(_adjoint, "_small_engine", lambda *args: (None, 0))  # general path
    P_gen, g_gen = probability_vjp(circuit, None, theta, lambda P, r: G)
    np.testing.assert_allclose(P1, P_gen, atol=1e-14)
    np.testing.assert_allclose(g1, g_gen, atol=1e-10)
    np.testing.assert_allclose(P1.sum(), 1.0, atol=1e-12)

    # Central differences of L = G . P on a few weights (the general path's probabilities).
    eps = 1e-5
    for j in rng.choice(circuit.n_weights, 3, replace=False):
        up, down = theta.copy(), theta.copy()
        up[j] += eps
        down[j] -= eps
        Pu, _ = probability_vjp(circuit, None, up, lambda P, r: G)
        Pd, _ = probability_vjp(circuit, None, down, lambda P, r: G)
        assert abs((G * (Pu - Pd)).sum() / (2 * eps) - g1[j]) < 1e-6


def test_split_sweeps_from_initial_states(monkeypatch):
    circuit = _mixed_circuit(N)
    program = small_circuit_program(circuit)
    rng = np.random.default_rng(1)
    theta = rng.uniform(-np.pi, np.pi, circuit.n_weights)
    psi0 = rng.normal(size=(1, 2**N)) + 1j * rng.normal(size=(1, 2**N))
    psi0 /= np.linalg.norm(psi0)
    G = rng.normal(size=(1, 2**N))

    def vjp(n_jobs=None):
        return small_expectation_vjp(
            program, None, None, theta, lambda P, r: G, chunk=1, initial_states=psi0,
            n_jobs=n_jobs,
        )  # fmt: skip

    P1, g1 = vjp(1)
    P2, g2 = vjp(2)
    np.testing.assert_array_equal(P1, P2)
    np.testing.assert_array_equal(g1, g2)
    monkeypatch.setattr(program, "splits", False)
    P_one, g_one = vjp()
    np.testing.assert_allclose(P1, P_one, atol=1e-14)
    np.testing.assert_allclose(g1, g_one, atol=1e-10)


def test_mmd_kernel_apply_in_two_threads_adds_the_terms_in_order():
    rng = np.random.default_rng(2)
    v = rng.normal(size=(2, 2**N))
    sigma = (0.5, 1.0, 2.0, 4.0, 8.0)  # an odd count: the last pair has one term
    K1 = mmd_kernel_apply(v, N, sigma, n_jobs=1)
    np.testing.assert_array_equal(mmd_kernel_apply(v, N, sigma, n_jobs=2), K1)
    # The mixture is the mean of the one-bandwidth kernels, added in order.
    total = np.zeros_like(v)
    for s in sigma:
        total += mmd_kernel_apply(v, N, [s])
    np.testing.assert_array_equal(K1, total / len(sigma))
    # One bandwidth's kernel against its closed form on a few entries: e^{-hamming / 2s}.
    e = np.exp(-1.0 / (2 * 2.0))
    unit = np.zeros(2**N)
    unit[5] = 1.0
    row = mmd_kernel_apply(unit, N, [2.0])
    for b in (0, 5, 6, 2**N - 1):
        np.testing.assert_allclose(row[b], e ** bin(b ^ 5).count("1"), rtol=1e-13)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # max_iter=3
def test_born_machine_fits_the_same_for_every_n_jobs():
    rng = np.random.default_rng(3)
    X = (rng.random((60, N)) < 0.3).astype(int)
    ansatz = HardwareEfficient(n_layers=2, entanglement="chow_liu")
    fits = [
        BornMachine(ansatz, max_iter=3, random_state=0, n_jobs=n_jobs).fit(X) for n_jobs in (1, 2)
    ]
    np.testing.assert_array_equal(fits[0].weights_, fits[1].weights_)
    np.testing.assert_array_equal(fits[0].loss_curve_, fits[1].loss_curve_)
    assert fits[0].loss_curve_[-1] < fits[0].loss_curve_[0]


def _accesses(code, s, q, buffer, mode, part, sources, n):
    """(reads, writes) of one operation for one part: sets of (buffer, quarter)."""
    own = (2 * part, 2 * part + 1) if mode == 0 else (part, part + 2)
    here = {(buffer, b) for b in own}
    if code in (F_GATHER, B_GATHER):
        src = sources(s)
        m = 2 ** (n - 2)
        read = {(buffer, int(j) >> (n - 2)) for b in own for j in src[b * m : (b + 1) * m]}
        return read, {(1 - buffer, b) for b in own}
    if code == F_COPY:
        return here, {(1 - buffer, b) for b in own}
    return here, here


@pytest.mark.parametrize("name", sorted(CIRCUITS))
def test_split_schedule_rounds_have_no_hazards(name):
    """Within a round, no part writes what the other part reads (whatever the threads'
    timing): each operation's reads and writes, from the permutations' actual sources."""
    circuit = CIRCUITS[name](N)
    program = small_circuit_program(circuit)
    schedule = program.split_schedule
    sweep = program.jit_tables["sweep"]
    kinds, pos, const_src = sweep[3], sweep[4], sweep[7]
    for ops, rounds, src_of in (
        (schedule.forward_ops, schedule.forward_rounds, lambda s: const_src[pos[s]]),
        (schedule.backward_ops, schedule.backward_rounds, lambda s: schedule.inverse_src[pos[s]]),
    ):
        assert [r[0] for r in rounds[1:]] == [r[1] for r in rounds[:-1]]  # contiguous
        assert rounds[-1][1] == len(ops)
        for lo, hi, mode in rounds:
            touched = []
            for part in (0, 1):
                reads, writes = set(), set()
                for code, s, q, buffer in ops[lo:hi]:
                    r, w = _accesses(code, s, q, buffer, mode, part, src_of, N)
                    reads |= r
                    writes |= w
                    if code in (F_RUN, B_CROSS):  # never on the split bit's qubit
                        assert q != N - 1 - mode
                touched.append((reads, writes))
            (r0, w0), (r1, w1) = touched
            assert not (w0 & (r1 | w1)) and not (w1 & r0)
    assert any(kinds == 2)


def test_split_sweeps_tables_are_in_the_memory_budget(monkeypatch):
    """The inverse permutations the backward rounds gather from are counted in the program's
    fixed bytes (the state buffers are the one-pass sweeps' own, already counted)."""
    circuit = _mixed_circuit(N)
    program = small_circuit_program(circuit)
    schedule = program.split_schedule
    inverse = schedule.inverse_src.nbytes + schedule.inverse_phase.nbytes
    assert inverse == 24 * len(program.const_slices) * 2**N
    with_split = program._count_fixed_bytes(compiled=True)
    monkeypatch.setattr(program, "splits", False)
    assert with_split - program._count_fixed_bytes(compiled=True) == inverse
