"""Tests for the Qiskit adapter backend.

References: skqml's own simulator (``simulate``), which shares no code with the translation,
for the translated circuits' states (from Qiskit's ``Statevector``) and for the exact outcome
probabilities; binomial standard errors for the shots; the exact backend's QSVC and VQC for
the models built on the backend. No test touches the network: the IBM hardware path runs
against a stub ``QiskitRuntimeService`` that hands out a fake device.
"""

from __future__ import annotations

import copy
import importlib
import pickle
import sys
import tracemalloc
import types
from collections import OrderedDict

import numpy as np
import pytest
from joblib import parallel_config
from sklearn.base import clone
from sklearn.datasets import make_blobs

from skqml.backends import _qiskit as qiskit_module
from skqml.backends import compute_uncompute, resolve_backend
from skqml.backends._qiskit import QiskitBackend, _angle_values, _to_qiskit
from skqml.circuits import (
    GATES,
    Circuit,
    RealAmplitudes,
    ZZFeatureMap,
    feature,
    weight,
)
from skqml.kernels import FidelityQuantumKernel, _overlap
from skqml.simulator import SimulationMemoryError, simulate
from skqml.simulator._parameter_shift import _shifted
from skqml.svm import QSVC
from skqml.variational import VQC

pytest.importorskip("qiskit_aer")
runtime = pytest.importorskip("qiskit_ibm_runtime")
from qiskit.quantum_info import Statevector  # noqa: E402  (after the skip)
from qiskit_ibm_runtime.fake_provider import FakeManilaV2  # noqa: E402

Z = 5.0  # standard deviations a seeded estimate may be from the exact value


def _data(n, d=3, seed=0):
    return np.random.default_rng(seed).uniform(-np.pi, np.pi, size=(n, d))


def _within_binomial(freqs, probs, shots):
    """Every frequency within Z sigma of its probability (plus one count: p = 0 or 1)."""
    bound = Z * np.sqrt(probs * (1 - probs) / shots) + 1.0 / shots
    assert np.all(np.abs(freqs - probs) <= bound), (np.abs(freqs - probs) / bound).max()


def _model_circuit(n=3):
    """A feature map and a trainable ansatz: features, weights, entanglers."""
    return ZZFeatureMap(reps=1).build(n).compose(RealAmplitudes(reps=1).build(n))


# --------------------------------------------------------------------------------------------
# Translation: every gate, state by state, against skqml's simulator
# --------------------------------------------------------------------------------------------
def _gate_cases():
    cases = []
    for name, spec in sorted(GATES.items()):
        if spec.n_qubits is None:  # multirz, multiphase: every arity up to the register
            cases += [(name, k) for k in (1, 2, 3, 4)]
        else:
            cases.append((name, spec.n_qubits))
    return cases


@pytest.mark.parametrize("name, arity", _gate_cases())
def test_every_gate_state_equals_skqml(name, arity):
    rng = np.random.default_rng([sum(map(ord, name)), arity])  # stable across runs
    n = 4
    # A random product state first, so that every amplitude (and phase) is exercised.
    c = Circuit(n)
    for q in range(n):
        c = c.ry(rng.uniform(0, np.pi), q).rz(rng.uniform(-np.pi, np.pi), q)
    qubits = tuple(int(q) for q in rng.permutation(n)[:arity])
    # Angles as expressions in features and weights, as models build them.
    angles = [
        rng.uniform(0.5, 1.5) * feature(i % 2) + weight(i) for i in range(GATES[name].n_params)
    ]
    c = c.append(name, qubits, *angles)
    X = rng.uniform(-np.pi, np.pi, size=(2, 2))
    w = rng.uniform(-np.pi, np.pi, size=max(c.n_weights, 1))
    values = _angle_values(c, X, w, 2)
    template = _to_qiskit(c, measure=False)
    for row in range(2):
        state = Statevector(template.assign_parameters(values[row])).data
        # Exact, global phase included: every mapping keeps it.
        np.testing.assert_allclose(state, simulate(c, X[row : row + 1], w)[0], atol=1e-12)


def test_aliases_translate_like_their_gates():
    c1 = Circuit(3).append("toffoli", (0, 1, 2)).append("isingzz", (1, 2), 0.3)
    c2 = Circuit(3).append("ccx", (0, 1, 2)).append("rzz", (1, 2), 0.3)

    def gates(c):
        qc = _to_qiskit(c, measure=False)
        return [(i.name, [qc.find_bit(q).index for q in i.qubits]) for i in qc.data]

    assert gates(c1) == gates(c2) == [("ccx", [0, 1, 2]), ("rzz", [1, 2])]


def test_translation_measures_every_qubit_into_meas():
    qc = _to_qiskit(Circuit(3).h(0).cnot(0, 2))
    assert [r.name for r in qc.cregs] == ["meas"] and qc.num_clbits == 3
    assert qc.count_ops()["measure"] == 3


# --------------------------------------------------------------------------------------------
# Sampling on Aer
# --------------------------------------------------------------------------------------------
def test_feature_map_and_ansatz_within_binomial_bounds():
    circuit = _model_circuit()
    X, w = _data(6, seed=1), _data(1, d=circuit.n_weights, seed=2)[0]
    shots = 4000
    freqs = QiskitBackend(shots=shots, seed=0).probabilities(circuit, X, w)
    assert freqs.shape == (6, 8)
    np.testing.assert_allclose(freqs.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_array_equal(freqs * shots, np.round(freqs * shots))  # counts / shots
    _within_binomial(freqs, np.abs(simulate(circuit, X, w)) ** 2, shots)


def test_seeded_results_are_a_function_of_each_job():
    circuit = _model_circuit()
    X, w = _data(5, seed=3), _data(1, d=circuit.n_weights, seed=4)[0]
    backend = QiskitBackend(shots=300, seed=7, max_batch_size=2)
    first = backend.probabilities(circuit, X, w)
    # Identical on repeat, on a clone and after pickling (the seed is all that is kept).
    np.testing.assert_array_equal(first, backend.probabilities(circuit, X, w))
    np.testing.assert_array_equal(first, clone(backend).probabilities(circuit, X, w))
    np.testing.assert_array_equal(
        first, pickle.loads(pickle.dumps(backend)).probabilities(circuit, X, w)
    )
    # Jobs of 2 rows: each job's shots depend on its rows only, wherever it is called from.
    np.testing.assert_array_equal(first[:2], backend.probabilities(circuit, X[:2], w))
    np.testing.assert_array_equal(first[2:4], backend.probabilities(circuit, X[2:4], w))
    np.testing.assert_array_equal(first[4:], backend.probabilities(circuit, X[4:], w))
    # Another seed, other weights or another circuit: other streams.
    assert not np.array_equal(
        first, clone(backend).set_params(seed=8).probabilities(circuit, X, w)
    )
    assert not np.array_equal(first, backend.probabilities(circuit, X, w + 1e-9))
    # Unseeded: fresh randomness on every job.
    fresh = QiskitBackend(shots=300)
    assert not np.array_equal(
        fresh.probabilities(circuit, X, w), fresh.probabilities(circuit, X, w)
    )


def test_shot_kernel_deterministic_per_tiling_and_independent_of_threads(monkeypatch):
    X = _data(8, d=2, seed=5)
    backend = QiskitBackend(shots=400, seed=3)
    kernel = FidelityQuantumKernel(ZZFeatureMap(reps=1), backend=backend, enforce_psd=False)
    K = kernel(X)
    exact = FidelityQuantumKernel(ZZFeatureMap(reps=1))(X)
    _within_binomial(K, exact, 400)
    np.testing.assert_array_equal(np.diag(K), 1.0)
    monkeypatch.setattr(_overlap, "_TILE_ROWS", 4)  # 2 x 2 tiles
    K_tiles = kernel(X)
    # Aer seeds a job's experiments by position: other tiles are other jobs, other shots
    # (documented; ShotsBackend and PennyLaneBackend key shots by content instead).
    assert not np.array_equal(K_tiles, K)
    _within_binomial(K_tiles, exact, 400)
    np.testing.assert_array_equal(kernel(X), K_tiles)
    # Threads share one backend object (and its cache): same numbers with any n_jobs.
    with parallel_config(backend="threading"):
        np.testing.assert_array_equal(clone(kernel).set_params(n_jobs=2)(X), K_tiles)


def test_empty_batches_constant_circuits_and_memory_budget():
    backend = QiskitBackend(shots=100, seed=1)
    assert backend.probabilities(Circuit(2).h(0), np.empty((0, 0))).shape == (0, 4)
    # A circuit without angles: no parameters to bind; every row still gets its own shots.
    freqs = backend.probabilities(Circuit(1).h(0), np.zeros((3, 0)))
    assert freqs.shape == (3, 2) and np.allclose(freqs.sum(axis=1), 1.0)
    assert len({tuple(row) for row in freqs}) > 1
    np.testing.assert_array_equal(
        backend.probabilities(Circuit(1).x(0), np.zeros((2, 0)))[:, 1], 1
    )
    with pytest.raises(SimulationMemoryError, match="frequencies of 1000 samples on 12 qubits"):
        backend.probabilities(Circuit(12).h(0), np.zeros((1000, 0)), max_memory_mb=1)


# --------------------------------------------------------------------------------------------
# Kernel entries and parities counted from the shots, without 2**n frequencies
# --------------------------------------------------------------------------------------------
def _parity_reference(freqs, n, mask):
    """The frequencies route: parity signs of all 2**n outcomes."""
    signs = np.array([1 - 2 * (bin(k & mask).count("1") % 2) for k in range(2**n)])
    return freqs @ signs


@pytest.mark.parametrize("shots, max_batch_size", [(512, 3), (1000, 1000)])
def test_hooks_give_the_counts_of_the_frequencies_route(shots, max_batch_size):
    circuit = _model_circuit()
    X, w = _data(7, seed=20), _data(1, d=circuit.n_weights, seed=21)[0]
    backend = QiskitBackend(shots=shots, seed=5, max_batch_size=max_batch_size)
    # Same jobs, same seeds, same shots: the all-zeros count is column 0 of the counts.
    zero = backend.zero_frequencies(circuit, X, w)
    freqs = backend.probabilities(circuit, X, w)
    np.testing.assert_array_equal(zero, freqs[:, 0])
    masks = [0b001, 0b110, 0b111, 0]
    parities = backend.parity_expectations(circuit, masks, X, w)
    reference = np.column_stack([_parity_reference(freqs, 3, m) for m in masks])
    if shots == 512:  # multiples of 1/512 sum exactly, whatever the order
        np.testing.assert_array_equal(parities, reference)
    else:  # (even - odd) / shots against a sum of rounded frequencies: a few ulps
        np.testing.assert_allclose(parities, reference, rtol=0, atol=1e-14)
        np.testing.assert_array_equal(parities * shots, np.round(parities * shots))
    np.testing.assert_array_equal(parities[:, -1], 1.0)
    assert backend.zero_frequencies(circuit, np.empty((0, 3)), w).shape == (0,)


def test_expectations_and_overlaps_equal_the_frequencies_route():
    from skqml.backends._sampling import _basis_change, _pairs

    circuit = _model_circuit()
    X, w = _data(6, seed=22), _data(1, d=circuit.n_weights, seed=23)[0]
    backend = QiskitBackend(shots=256, seed=9, max_batch_size=4)
    labels = ["ZZI", "IXZ", "XXI", "YIY", "III"]
    E = backend.expectations(circuit, labels, X, w)
    for col, basis in [(0, "ZZZ"), (1, "XXZ"), (2, "XXZ"), (3, "YIY")]:
        freqs = backend.probabilities(circuit.compose(_basis_change(3, basis)), X, w)
        mask = sum(1 << q for q, ch in enumerate(reversed(labels[col])) if ch != "I")
        np.testing.assert_array_equal(E[:, col], _parity_reference(freqs, 3, mask))
    np.testing.assert_array_equal(E[:, -1], 1.0)
    # Overlaps: the all-zeros column of the overlap circuits' counts, pair by pair.
    K = backend.overlaps(circuit, X, weights=w)
    ia, ib, _, _, swap = _pairs(X, X, symmetric=True)
    a, b = X[ia], X[ib]
    pair_X = np.hstack([np.where(swap[:, None], b, a), np.where(swap[:, None], a, b)])
    cu = compute_uncompute(circuit, X.shape[1])
    np.testing.assert_array_equal(K[ia, ib], backend.probabilities(cu, pair_X, w)[:, 0])


class _ShotSampler:
    """Stands in for the Sampler: random packed shots, some all-zero, recorded per job."""

    def __init__(self, jobs, n_bits):
        self.jobs, self.n_bits = jobs, n_bits

    def run(self, pubs):
        from qiskit.primitives.containers import BitArray

        _, bindings, shots = pubs[0]
        rows = 1 if bindings is None else bindings.shape[0]
        rng = np.random.default_rng(len(self.jobs))
        raw = rng.integers(0, 256, size=(rows, shots, (self.n_bits + 7) // 8), dtype=np.uint8)
        raw[..., 0] &= (1 << (self.n_bits % 8 or 8)) - 1  # bits beyond the register are 0
        raw[rng.random((rows, shots)) < 0.3] = 0  # all-zeros outcomes, about 30 %
        self.jobs.append(raw)
        bits = BitArray(raw, self.n_bits)
        return types.SimpleNamespace(
            result=lambda: [types.SimpleNamespace(data=types.SimpleNamespace(meas=bits))]
        )


def _count_from(raw, mask=None):
    """Reference from Python integers, shot by shot."""
    out = np.empty(raw.shape[0])
    for r, row in enumerate(raw):
        values = [int.from_bytes(shot.tobytes(), "big") for shot in row]
        if mask is None:
            out[r] = sum(v == 0 for v in values) / len(values)
        else:
            out[r] = sum(1 - 2 * (bin(v & mask).count("1") % 2) for v in values) / len(values)
    return out


def test_wide_circuits_count_from_shots_without_2n_memory(monkeypatch):
    """40 qubits on a 127-qubit device (the hardware path, on a stub service and sampler):
    kernel entries and expectations need only the shots, frequencies would need 8 TiB."""
    from qiskit_ibm_runtime.fake_provider import FakeBrisbane

    class StubService:
        def backend(self, name):
            return FakeBrisbane()

    n, jobs = 40, []
    monkeypatch.setattr(runtime, "QiskitRuntimeService", StubService)
    monkeypatch.setattr(qiskit_module, "_make_sampler", lambda *a, **kw: _ShotSampler(jobs, n))
    circuit = Circuit(n).ry(feature(0), 0)
    for q in range(n - 1):
        circuit = circuit.cnot(q, q + 1)
    X = np.array([[0.1], [0.7], [1.9]])
    backend = QiskitBackend(device="ibm_stub", shots=300)
    backend.overlaps(circuit, X)  # transpiles once (not what is measured below)
    jobs.clear()
    tracemalloc.start()
    try:
        K = backend.overlaps(circuit, X)
        labels = ["Z" * n, "I" * (n - 1) + "X", "ZI" + "I" * (n - 3) + "Z"]
        E = backend.expectations(circuit, labels, X)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024**2, peak  # shots and templates, nothing of size 2**40
    # One job for the 3 pairs, one per measurement group ({Z...Z, Z..Z}, {X on qubit 0}).
    assert len(jobs) == 3 and jobs[0].shape == (3, 300, 5)
    ia, ib = np.triu_indices(3, 1)
    np.testing.assert_array_equal(K[ia, ib], _count_from(jobs[0]))
    assert 0.2 < K[0, 1] < 0.5 and np.all(np.diag(K) == 1)
    np.testing.assert_array_equal(E[:, 0], _count_from(jobs[1], 2**n - 1))
    np.testing.assert_array_equal(E[:, 2], _count_from(jobs[1], (1 << (n - 1)) | 1))
    np.testing.assert_array_equal(E[:, 1], _count_from(jobs[2], 1))
    # Frequencies of the same circuit are refused up front, before any job runs.
    with pytest.raises(
        SimulationMemoryError, match=r"frequencies of a sample \(40 qubits.*use fewer features"
    ):
        backend.probabilities(circuit, X)
    assert len(jobs) == 3
    # The device's qubit count still applies to the shot paths.
    too_wide = Circuit(128).h(127)
    for run in (
        lambda: backend.zero_frequencies(too_wide),
        lambda: backend.parity_expectations(too_wide, [1]),
        lambda: backend.expectations(too_wide, ["Z" * 128]),
    ):
        with pytest.raises(ValueError, match="128 qubits but the device 'ibm_stub' has only 127"):
            run()
    # A job of more shots than the budget allows is refused, naming the shots.
    with pytest.raises(
        SimulationMemoryError, match=r"shots of one sample on 40 qubits.*use fewer shots"
    ):
        backend.set_params(shots=10**6).zero_frequencies(circuit, X, max_memory_mb=1)
    # Rows whose shots fit one at a time but not all at once: fewer samples at once.
    with pytest.raises(
        SimulationMemoryError, match=r"shots of 3 samples on 40 qubits.*fewer samples at once"
    ):
        backend.set_params(shots=10**4).parity_expectations(
            circuit, [1] * 5000, X, max_memory_mb=0.35
        )


def test_parity_masks_are_checked():
    backend = QiskitBackend(shots=10, seed=0)
    bell = Circuit(2).h(0).cnot(0, 1)
    with pytest.raises(ValueError, match="select among 2 qubits"):
        backend.parity_expectations(bell, [0b100])
    with pytest.raises(TypeError, match="sequence of qubit masks"):
        backend.parity_expectations(bell, 3)
    with pytest.raises(TypeError, match="must be an integer"):
        backend.parity_expectations(bell, [1.0])
    np.testing.assert_array_equal(backend.parity_expectations(bell, [np.int64(3)]), [[1.0]])


def test_popcount_without_bitwise_count(monkeypatch):
    """numpy < 2.0 has no bitwise_count: the byte table gives the same parities."""
    circuit = _model_circuit()
    X, w = _data(3, seed=24), _data(1, d=circuit.n_weights, seed=25)[0]
    backend = QiskitBackend(shots=200, seed=1)
    masks = [0b101, 0b111]
    with_numpy = backend.parity_expectations(circuit, masks, X, w)
    values = np.arange(256, dtype=np.uint8)
    monkeypatch.setattr(qiskit_module, "_HAS_BITWISE_COUNT", False)
    table = qiskit_module._popcount(values)
    assert table.tolist() == [bin(i).count("1") for i in range(256)]
    np.testing.assert_array_equal(backend.parity_expectations(circuit, masks, X, w), with_numpy)


@pytest.fixture(autouse=True)
def fresh_sessions(monkeypatch):
    """Each test starts without the process-wide device sessions of earlier tests."""
    monkeypatch.setattr(qiskit_module, "_SESSIONS", OrderedDict())


def test_parameter_shift_runs_reuse_the_transpiled_template(monkeypatch):
    calls = []
    translate = qiskit_module._to_qiskit
    monkeypatch.setattr(
        qiskit_module, "_to_qiskit", lambda c, **kw: calls.append(c) or translate(c, **kw)
    )
    circuit = _model_circuit(2)
    X, w = _data(3, d=2, seed=6), np.linspace(0.1, 1.0, circuit.n_weights)
    backend = QiskitBackend(shots=50, seed=0)
    backend.probabilities(circuit, X, w)
    for index, op in enumerate(circuit):
        if op.params:
            backend.probabilities(_shifted(circuit, index, 0, np.pi / 2), X, w)
    backend.probabilities(circuit, X[:1], -w)
    assert len(calls) == 1  # one structure, one translation and transpilation
    backend.probabilities(circuit.h(0), X, w)
    assert len(calls) == 2
    # Clones and unpickled copies share the process's session: no new transpilation.
    clone(backend).probabilities(circuit, X, w)
    pickle.loads(pickle.dumps(backend)).probabilities(circuit, X, w)
    assert len(calls) == 2
    # Changing the device or the level uses (here: builds) another session.
    backend.set_params(optimization_level=0).probabilities(circuit, X, w)
    assert len(calls) == 3 and backend._cache.key == ("aer_simulator", 0)


def test_device_sessions_are_bounded_least_recently_used_first(monkeypatch):
    built = []

    def make_target(device):
        built.append(device)
        return FakeManilaV2(), True

    monkeypatch.setattr(qiskit_module, "_make_target", make_target)
    monkeypatch.setattr(qiskit_module, "_MAX_SESSIONS", 2)
    backends = [QiskitBackend(device=f"fake_{i}") for i in range(3)]
    sessions = [b._session() for b in backends[:2]]
    backends[0]._session()  # fake_0 used last: fake_1 is the one to go
    assert clone(backends[0])._session() is sessions[0]
    backends[2]._session()
    assert list(qiskit_module._SESSIONS) == [("fake_0", 1), ("fake_2", 1)]
    # A backend holding an evicted session keeps it; a new object builds it again.
    assert backends[1]._session() is sessions[1]
    assert clone(backends[1])._session() is not sessions[1]
    assert built == ["fake_0", "fake_1", "fake_2", "fake_1"]
    # Transpiled templates: least recently used dropped beyond the bound.
    monkeypatch.setattr(qiskit_module, "_MAX_TEMPLATES", 2)
    session = sessions[0]
    first, second = session.template(Circuit(1).h(0)), session.template(Circuit(1).x(0))
    assert session.template(Circuit(1).h(0)) is first
    session.template(Circuit(1).z(0))
    assert session.template(Circuit(1).h(0)) is first and len(session._templates) == 2
    assert session.template(Circuit(1).x(0)) is not second  # dropped, transpiled again


# --------------------------------------------------------------------------------------------
# Devices: registry names, fake devices and their noise, hardware through the service
# --------------------------------------------------------------------------------------------
def test_registry_names_and_fake_device_noise():
    aer = resolve_backend("qiskit:aer_simulator")
    assert type(aer) is QiskitBackend and aer.device == "aer_simulator"
    fake = resolve_backend("qiskit:fake_manila").set_params(shots=4000, seed=0)
    assert type(fake) is QiskitBackend and repr(fake).startswith("QiskitBackend(device=")
    bell = Circuit(2).h(0).cnot(0, 1)
    p = fake.probabilities(bell)[0]
    # Noise shows (01 and 10 are impossible ideally) but the device is good: close to exact.
    assert p[1] + p[2] > 0.005
    assert np.abs(p - [0.5, 0, 0, 0.5]).sum() / 2 < 0.1


def test_circuit_larger_than_device_and_unknown_fake_device():
    with pytest.raises(ValueError, match=r"6 qubits but the device 'fake_manila' has only 5"):
        QiskitBackend(device="fake_manila").probabilities(Circuit(6).h(5))
    with pytest.raises(ValueError, match=r"unknown fake device 'fake_nowhere'.*fake_manila"):
        QiskitBackend(device="fake_nowhere").probabilities(Circuit(1).h(0))


def test_hardware_names_go_through_the_runtime_service(monkeypatch):
    requested = []

    class StubService:
        def backend(self, name):
            requested.append(name)
            return FakeManilaV2()

    seeds = []
    make = qiskit_module._make_sampler

    def spy(target, *, seed, local, **kw):
        seeds.append((seed, local))
        return make(target, seed=seed, local=local, **kw)

    monkeypatch.setattr(runtime, "QiskitRuntimeService", StubService)
    monkeypatch.setattr(qiskit_module, "_make_sampler", spy)
    backend = QiskitBackend(device="ibm_stub", shots=500, seed=3)
    p = backend.probabilities(Circuit(2).h(0).cnot(0, 1))
    assert requested == ["ibm_stub"]
    assert seeds == [(None, False)]  # hardware: no simulator seed, not local
    assert np.abs(p[0] - [0.5, 0, 0, 0.5]).sum() / 2 < 0.15
    with pytest.raises(ValueError, match=r"6 qubits but the device 'ibm_stub' has only 5"):
        backend.probabilities(Circuit(6).h(0))


def test_missing_ibm_account_says_so(monkeypatch):
    class NoAccount:
        def __init__(self):
            raise RuntimeError("no saved account")

    monkeypatch.setattr(runtime, "QiskitRuntimeService", NoAccount)
    with pytest.raises(RuntimeError, match=r"ibm_x.*save_account.*no saved account"):
        QiskitBackend(device="ibm_x").probabilities(Circuit(1).h(0))


@pytest.mark.filterwarnings("ignore:The SamplerV2 class is deprecated:DeprecationWarning")
def test_legacy_sampler_v2_gives_the_same_counts(monkeypatch):
    circuit = _model_circuit(2)
    X, w = _data(4, d=2, seed=8), np.linspace(-1, 1, circuit.n_weights)
    backend = QiskitBackend(shots=500, seed=11)
    client_side = backend.probabilities(circuit, X, w)
    # Without the client-side Sampler (qiskit-ibm-runtime < 0.50) SamplerV2 runs the PUBs.
    monkeypatch.setitem(sys.modules, "qiskit_ibm_runtime.executor_sampler", None)
    sampler = qiskit_module._make_sampler(FakeManilaV2(), shots=1, seed=None, local=False)
    assert type(sampler) is runtime.SamplerV2
    np.testing.assert_array_equal(clone(backend).probabilities(circuit, X, w), client_side)


# --------------------------------------------------------------------------------------------
# Retries
# --------------------------------------------------------------------------------------------
class _StuckJob:
    """A job that never finishes: its wait may also raise ``error`` (an interrupt, say)."""

    def __init__(self, error=None, cancel_error=None):
        self.error, self.cancel_error, self.cancels = error, cancel_error, 0

    def in_final_state(self):
        if self.error is not None:
            raise self.error
        return False

    def result(self):
        if self.error is not None:
            raise self.error
        raise AssertionError("waited for a stuck job without a timeout")

    def cancel(self):
        self.cancels += 1
        if self.cancel_error is not None:
            raise self.cancel_error


class _Flaky:
    """A sampler whose first ``failures`` runs raise ``error`` at submission, and whose
    next ``stuck`` runs return a job that never finishes; then the real one runs, finished
    before it is handed out (so that no deadline of the fake clock can expire it)."""

    def __init__(self, sampler, failures, error, stuck, stuck_job):
        self.sampler, self.failures, self.error = sampler, failures, error
        self.stuck, self.stuck_job = stuck, stuck_job
        self.runs = 0

    def run(self, pubs):
        self.runs += 1
        if self.runs <= self.failures:
            raise self.error
        if self.runs <= self.failures + self.stuck:
            return self.stuck_job
        job = self.sampler.run(pubs)
        job.result()
        return job


class _Clock:
    """Time that passes only when the backend sleeps: timeouts expire without waiting."""

    def __init__(self):
        self.now, self.sleeps = 1000.0, []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def flaky(monkeypatch):
    """Install flaky samplers and a clock; returns (settings, made samplers, clock)."""
    settings = {
        "failures": 1,
        "error": ConnectionError("socket closed"),
        "stuck": 0,
        "stuck_job": _StuckJob(),
    }
    made, clock = [], _Clock()
    make = qiskit_module._make_sampler

    def factory(target, **kw):
        made.append(_Flaky(make(target, **kw), **settings))
        return made[-1]

    monkeypatch.setattr(qiskit_module, "_make_sampler", factory)
    monkeypatch.setattr(qiskit_module, "_sleep", clock.sleep)
    monkeypatch.setattr(qiskit_module, "_monotonic", clock.monotonic)
    return settings, made, clock


def _qiskit_job_error():
    from qiskit.providers import JobError

    return JobError("job failed on the device")


@pytest.mark.parametrize(
    "error", [ConnectionError("socket closed"), _qiskit_job_error()], ids=["network", "qiskit"]
)
def test_transient_failure_is_retried(flaky, error):
    settings, made, clock = flaky
    circuit, X = ZZFeatureMap(reps=1).build(2), _data(3, d=2, seed=9)
    backend = QiskitBackend(shots=200, seed=5, retry_delay=0)
    settings["failures"] = 0
    clean = backend.probabilities(circuit, X)
    settings.update(failures=1, error=error)
    # The retried job has the same seed: the same counts as a run that never failed.
    np.testing.assert_array_equal(backend.probabilities(circuit, X), clean)
    assert made[-1].runs == 2 and clock.sleeps == [0.0]


def test_retries_back_off_exponentially_then_give_up(flaky):
    settings, made, clock = flaky
    settings["failures"] = 10
    backend = QiskitBackend(max_retries=3, retry_delay=0.5)
    with pytest.raises(RuntimeError, match=r"failed 4 time\(s\).*max_retries=3.*socket closed"):
        backend.probabilities(Circuit(1).h(0))
    assert made[-1].runs == 4 and clock.sleeps == [0.5, 1.0, 2.0]


class _Alarm(Exception):
    """What a user's signal handler might raise: not a backend failure."""


@pytest.mark.parametrize(
    "error",
    [
        ValueError("bad pub"),
        RuntimeError("a bug"),
        _Alarm("time is up"),
        TimeoutError("the user's alarm"),  # an OSError, but not a network error
        FileNotFoundError("no such file"),
        KeyboardInterrupt(),
    ],
    ids=["input", "bug", "user", "builtin-timeout", "file", "interrupt"],
)
def test_input_errors_bugs_and_interrupts_are_not_retried(flaky, error):
    settings, made, clock = flaky
    settings["error"] = error
    with pytest.raises(type(error)):
        QiskitBackend().probabilities(Circuit(1).h(0))
    assert made[-1].runs == 1 and clock.sleeps == []


@pytest.mark.parametrize(
    "error", [_Alarm("time is up"), TimeoutError("alarm"), KeyboardInterrupt()], ids=repr
)
@pytest.mark.parametrize("timeout", [None, 5.0])
def test_exceptions_raised_while_waiting_propagate_at_once(flaky, error, timeout):
    """An interrupt or the user's own exception in the middle of the wait (with or without
    a deadline) is neither retried nor turned into a timeout."""
    settings, made, clock = flaky
    settings.update(failures=0, stuck=5, stuck_job=_StuckJob(error=error))
    with pytest.raises(type(error)):
        QiskitBackend(timeout=timeout, max_retries=3).probabilities(Circuit(1).h(0))
    assert made[-1].runs == 1 and clock.sleeps == []
    assert settings["stuck_job"].cancels == 0


def test_stuck_job_is_cancelled_retried_then_times_out(flaky):
    settings, made, clock = flaky
    settings.update(failures=0, stuck=10)
    backend = QiskitBackend(timeout=0.05, max_retries=2, retry_delay=0.5)
    start = clock.now
    with pytest.raises(
        TimeoutError,
        match=r"job on 'aer_simulator' did not finish within timeout=0.05 s in 3 tries.*"
        r"max_retries=2",
    ):
        backend.probabilities(Circuit(1).h(0))
    assert made[-1].runs == 3 and settings["stuck_job"].cancels == 3
    # Each try polls until its deadline; the retries back off as for any transient failure.
    backoff = [t for t in clock.sleeps if t >= 0.5]
    assert backoff == [0.5, 1.0]
    assert clock.now - start == pytest.approx(3 * 0.05 + 1.5)
    assert max(t for t in clock.sleeps if t < 0.5) <= 0.05


def test_job_timing_out_once_then_succeeding_gives_the_same_counts(flaky):
    settings, made, clock = flaky
    circuit, X = ZZFeatureMap(reps=1).build(2), _data(3, d=2, seed=9)
    settings["failures"] = 0
    clean = QiskitBackend(shots=200, seed=5).probabilities(circuit, X)
    settings["stuck"] = 1
    backend = QiskitBackend(shots=200, seed=5, timeout=0.05, retry_delay=0.25)
    # Retried with the same seed; the real job finishes (polled) before its deadline.
    np.testing.assert_array_equal(backend.probabilities(circuit, X), clean)
    assert made[-1].runs == 2 and settings["stuck_job"].cancels == 1
    assert 0.25 in clock.sleeps


def test_a_failing_cancel_is_logged_not_raised(flaky, caplog):
    settings, made, _ = flaky
    stuck = _StuckJob(cancel_error=RuntimeError("cannot cancel a queued job"))
    settings.update(failures=0, stuck=1, stuck_job=stuck)
    with pytest.raises(TimeoutError, match=r"within timeout=2 s in 1 tries"):
        QiskitBackend(timeout=2, max_retries=0).probabilities(Circuit(1).h(0))
    assert made[-1].runs == 1 and stuck.cancels == 1
    assert "could not cancel" in caplog.text and "cannot cancel a queued job" in caplog.text


def test_timeout_waits_for_a_real_job():
    """With a deadline, a local job's result is polled for: the same counts."""
    circuit, X = ZZFeatureMap(reps=1).build(2), _data(3, d=2, seed=9)
    clean = QiskitBackend(shots=100, seed=2).probabilities(circuit, X)
    for timeout in (60.0, float("inf")):
        backend = QiskitBackend(shots=100, seed=2, timeout=timeout)
        np.testing.assert_array_equal(backend.probabilities(circuit, X), clean)


def test_timeout_is_a_hyperparameter():
    backend = QiskitBackend(timeout=np.float32(2.5))
    assert backend.get_params()["timeout"] == np.float32(2.5)
    assert repr(backend).startswith("QiskitBackend(timeout=")  # the scalar's own repr
    for copied in (clone(backend), pickle.loads(pickle.dumps(backend))):
        assert copied == backend and copied.timeout == 2.5
    assert clone(backend.set_params(timeout=None)).timeout is None


# --------------------------------------------------------------------------------------------
# Estimators on the backend
# --------------------------------------------------------------------------------------------
def test_qsvc_on_aer_agrees_with_exact_qsvc():
    X, y = make_blobs(
        n_samples=30, centers=[[0.5, 1.5], [2.5, 1.5]], cluster_std=0.3, random_state=0
    )
    X_train, y_train, X_test, y_test = X[:20], y[:20], X[20:], y[20:]
    exact = QSVC(feature_map=ZZFeatureMap(reps=1)).fit(X_train, y_train)
    sampled = QSVC(feature_map=ZZFeatureMap(reps=1), backend=QiskitBackend(shots=512, seed=0))
    predicted = sampled.fit(X_train, y_train).predict(X_test)
    expected = exact.predict(X_test)
    assert np.mean(expected == y_test) >= 0.9  # a problem the exact model solves
    assert np.mean(predicted == y_test) >= np.mean(expected == y_test) - 0.1
    assert np.mean(predicted == expected) >= 0.9


def test_vqc_trains_with_parameter_shift_on_aer():
    rng = np.random.default_rng(12)
    X = rng.uniform(0, np.pi, size=(8, 2))
    y = (X[:, 0] > X[:, 1]).astype(int)
    params = dict(ansatz=RealAmplitudes(reps=1), optimizer="adam", max_iter=2, random_state=0)
    with pytest.warns(Warning, match="max_iter"):
        exact = VQC(**params).fit(X, y)
    with pytest.warns(Warning, match="max_iter"):
        clf = VQC(backend=QiskitBackend(shots=2000, seed=0), **params).fit(X, y)
    assert type(clf.backend_) is QiskitBackend and clf.n_iter_ == 2
    # Same forward pass and one Adam step on parameter-shift gradients: within shot noise.
    np.testing.assert_allclose(clf.loss_curve_, exact.loss_curve_, rtol=0, atol=0.02)
    # Adam's first step is about learning_rate * sign(gradient): a wrong sign would be 0.1 off.
    np.testing.assert_allclose(clf.weights_, exact.weights_, rtol=0, atol=0.01)
    assert clf.predict(X).shape == (8,)


# --------------------------------------------------------------------------------------------
# Parameter object hygiene
# --------------------------------------------------------------------------------------------
def test_params_repr_clone_equality():
    b = QiskitBackend()
    assert b.get_params() == {
        "device": "aer_simulator",
        "shots": 1024,
        "seed": None,
        "optimization_level": 1,
        "max_batch_size": 1000,
        "max_retries": 3,
        "retry_delay": 1.0,
        "timeout": None,
        "mode": "job",
        "options": None,
    }
    assert repr(b) == "QiskitBackend()"
    b2 = QiskitBackend(device="fake_manila", shots=100, seed=1)
    assert repr(b2) == "QiskitBackend(device='fake_manila', seed=1, shots=100)"
    c = clone(b2)
    assert c is not b2 and c == b2 and hash(c) == hash(b2)
    assert c != b and resolve_backend(b2) == b2
    assert b.set_params(shots=10, seed=2) is b and (b.shots, b.seed) == (10, 2)


def test_pickle_and_copies_drop_the_cache_and_rebuild():
    circuit, X = ZZFeatureMap(reps=1).build(2), _data(3, d=2, seed=13)
    b = QiskitBackend(shots=50, seed=0)
    before = b.probabilities(circuit, X)
    assert "_cache" in vars(b)  # used: target and templates are cached
    assert "_cache" not in b.__getstate__()
    assert "_cache" in vars(b)  # dropping it from the pickle leaves the live object alone
    assert b"qiskit_aer" not in pickle.dumps(b)  # no live SDK object in the pickle
    for other in (pickle.loads(pickle.dumps(b)), copy.deepcopy(b), clone(b)):
        assert other == b and "_cache" not in vars(other)
        np.testing.assert_array_equal(other.probabilities(circuit, X), before)
    assert "_cache" not in b.get_params()


@pytest.mark.parametrize(
    "params, match",
    [
        ({"shots": 0}, "shots must be an integer >= 1, got 0"),
        ({"shots": 10.0}, "shots must be an integer >= 1, got 10.0"),
        ({"shots": True}, "shots must be an integer >= 1, got True"),
        ({"seed": -1}, "seed must be an integer >= 0, got -1"),
        ({"seed": 1.5}, "seed must be an integer >= 0, got 1.5"),
        ({"optimization_level": 4}, r"optimization_level must be an integer in \[0, 3\], got 4"),
        ({"optimization_level": True}, r"optimization_level must be an integer in \[0, 3\]"),
        ({"max_batch_size": 0}, "max_batch_size must be an integer >= 1, got 0"),
        ({"max_retries": -1}, "max_retries must be an integer >= 0, got -1"),
        ({"max_retries": 2.0}, "max_retries must be an integer >= 0, got 2.0"),
        ({"retry_delay": -0.1}, "retry_delay must be a finite real number >= 0, got -0.1"),
        ({"retry_delay": float("inf")}, "retry_delay must be a finite real number >= 0"),
        ({"retry_delay": "1"}, "retry_delay must be a finite real number >= 0, got '1'"),
        ({"timeout": 0}, "timeout must be a real number > 0, got 0"),
        ({"timeout": -1.0}, "timeout must be a real number > 0, got -1.0"),
        ({"timeout": float("nan")}, "timeout must be a real number > 0, got nan"),
        ({"timeout": True}, "timeout must be a real number > 0, got True"),
        ({"timeout": "10"}, "timeout must be a real number > 0, got '10'"),
        ({"device": ""}, "device must be 'aer_simulator', a fake device name"),
        ({"device": 3}, "device must be 'aer_simulator', a fake device name"),
    ],
)
def test_bad_parameters(params, match):
    backend = QiskitBackend(**params)  # sklearn style: __init__ only stores
    with pytest.raises(ValueError, match=match):
        backend.probabilities(Circuit(1).h(0))


def test_numpy_scalar_parameters():
    """NumPy scalars (as a grid over np.arange gives) act as the Python numbers they hold."""
    b = QiskitBackend(
        shots=np.int64(10),
        seed=np.uint8(1),
        optimization_level=np.int64(0),
        max_batch_size=np.int32(2),
        max_retries=np.int16(1),
        retry_delay=np.float32(0.5),
        timeout=np.float64(60.0),
    )
    python = QiskitBackend(
        shots=10, seed=1, optimization_level=0, max_batch_size=2, max_retries=1, timeout=60
    )
    X = np.zeros((3, 0))
    np.testing.assert_array_equal(
        b.probabilities(Circuit(1).h(0), X), python.probabilities(Circuit(1).h(0), X)
    )


def test_missing_qiskit_names_the_extra(monkeypatch):
    real = importlib.import_module

    def no_qiskit(name, *args, **kwargs):
        if name.split(".")[0] in ("qiskit", "qiskit_aer", "qiskit_ibm_runtime"):
            raise ImportError(f"No module named {name!r}")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(importlib, "import_module", no_qiskit)
    backend = resolve_backend("qiskit:aer_simulator")  # building needs no Qiskit
    assert backend.get_params()["device"] == "aer_simulator"
    for device in ("aer_simulator", "fake_manila", "ibm_x"):
        with pytest.raises(ImportError, match=r"QiskitBackend.*pip install 'skqml\[qiskit\]'"):
            QiskitBackend(device=device).probabilities(Circuit(1).h(0))


# --------------------------------------------------------------------------------------------
# Execution modes and runtime options
# --------------------------------------------------------------------------------------------
def test_batch_and_session_modes_give_the_counts_of_job_mode():
    circuit = _model_circuit(2)
    X, w = _data(5, d=2, seed=4), np.linspace(-1, 1, circuit.n_weights)
    job = QiskitBackend(shots=400, seed=2).probabilities(circuit, X, w)
    for mode in ("batch", "session"):
        backend = QiskitBackend(shots=400, seed=2, mode=mode)
        np.testing.assert_array_equal(backend.probabilities(circuit, X, w), job)


def test_runtime_options_reach_the_sampler_and_are_hyperparameters(monkeypatch):
    seen = []
    make = qiskit_module._make_sampler

    def spy(mode, **kw):
        sampler = make(mode, **kw)
        seen.append((kw["options"], sampler.options.default_shots))
        return sampler

    monkeypatch.setattr(qiskit_module, "_make_sampler", spy)
    options = {"twirling": {"enable_gates": True, "num_randomizations": 2}}
    backend = QiskitBackend("fake_manila", shots=300, seed=0, options=options)
    p = backend.probabilities(Circuit(2).h(0).cnot(0, 1))
    assert seen == [(options, 300)]  # the user's options, and skqml's shots
    assert np.abs(p[0] - [0.5, 0, 0, 0.5]).sum() / 2 < 0.15
    # Parameters like any other: stored unchanged, cloned, pickled, set by a grid search.
    assert backend.options is options and backend.get_params()["options"] == options
    twin = clone(backend)
    assert twin == backend and twin.options == options and twin.options is not options
    assert pickle.loads(pickle.dumps(backend)) == backend
    model = QSVC(backend=QiskitBackend(shots=100, seed=0), bandwidth=1.0)
    model.set_params(backend__options={"twirling": {"enable_gates": True}}, backend__mode="batch")
    assert model.get_params()["backend__mode"] == "batch"
    assert model.backend.options == {"twirling": {"enable_gates": True}}


def test_bad_modes_and_options_name_the_fix():
    bell = Circuit(2).h(0).cnot(0, 1)
    cases = [
        (dict(mode="sessions"), ValueError, "mode must be one of job, batch, session"),
        (dict(options=[("twirling", {})]), TypeError, "options must be a dict"),
        (dict(options={"default_shots": 10}), ValueError, r"set shots= of QiskitBackend"),
        (
            dict(options={"simulator": {"seed_simulator": 1}}),
            ValueError,
            r"set seed= of QiskitBackend",
        ),
        (
            dict(options={"no_such_option": 1}),
            ValueError,
            r"does not accept these options.*no_such",
        ),
        # Dynamical decoupling needs gate durations, which the ideal simulator has not: a
        # clear error at once, not retries of a "transient" failure.
        (
            dict(options={"dynamical_decoupling": {"enable": True}}, max_retries=5),
            ValueError,
            r"could not apply the options .*dynamical_decoupling.* on 'aer_simulator'",
        ),
    ]
    for kwargs, error, message in cases:
        with pytest.raises(error, match=message):
            QiskitBackend(shots=10, **kwargs).probabilities(bell)


def test_hardware_batch_and_session_on_a_stub_service(monkeypatch):
    """What would be submitted to IBM Quantum: the jobs of a backend go into one runtime
    Batch (or Session) on the device, opened at the first job, with the user's options; it
    is closed when its device session is freed."""
    opened = []

    class Recorder:
        def __init__(self, backend):
            self.backend, self.closed = backend, False
            opened.append(self)

        def close(self):
            self.closed = True

    class StubService:
        def backend(self, name):
            return FakeManilaV2()

    submitted = []
    make = qiskit_module._make_sampler

    def spy(mode, **kw):
        submitted.append((type(mode).__name__, kw["options"], kw["local"]))
        target = mode.backend if isinstance(mode, Recorder) else mode
        return make(target, **kw)

    monkeypatch.setattr(runtime, "QiskitRuntimeService", StubService)
    monkeypatch.setattr(runtime, "Batch", type("Batch", (Recorder,), {}))
    monkeypatch.setattr(runtime, "Session", type("Session", (Recorder,), {}))
    monkeypatch.setattr(qiskit_module, "_make_sampler", spy)
    monkeypatch.setattr(qiskit_module, "_SESSIONS", OrderedDict())
    options = {"dynamical_decoupling": {"enable": True, "sequence_type": "XY4"}}
    bell = Circuit(2).h(0).cnot(0, 1)
    for mode in ("batch", "session"):
        backend = QiskitBackend("ibm_stub", shots=100, mode=mode, options=options)
        backend.probabilities(bell)
        clone(backend).probabilities(bell, np.zeros((3, 0)))  # a clone: the same device
    assert [type(r).__name__ for r in opened] == ["Batch", "Session"]
    assert all(r.backend.name == "fake_manila" for r in opened)
    assert submitted == [(name, options, False) for name in ("Batch",) * 2 + ("Session",) * 2]
    assert not any(r.closed for r in opened)
    import gc

    del backend
    qiskit_module._SESSIONS.clear()
    gc.collect()
    assert all(r.closed for r in opened)
