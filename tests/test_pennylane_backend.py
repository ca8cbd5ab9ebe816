"""Tests for the PennyLane adapter backend.

References: skqml's own simulator (``simulate``, ``pauli_expectations``), which shares no code
with the translation, for states and probabilities; PennyLane's ``qml.state()`` on
``default.qubit`` for the translated circuit's state; binomial standard errors for shots; the
exact backend's kernels and VQC losses for the models built on the backend.
"""

from __future__ import annotations

import copy
import pickle
import sys

import numpy as np
import pytest
from joblib import parallel_config
from sklearn.base import clone

from skqml.backends import ShotsBackend, _pennylane, resolve_backend
from skqml.backends._pennylane import PennyLaneBackend, _angles, _queue_operations
from skqml.circuits import (
    GATES,
    Circuit,
    RealAmplitudes,
    StronglyEntanglingLayers,
    ZZFeatureMap,
    feature,
    weight,
)
from skqml.kernels import FidelityQuantumKernel, _overlap
from skqml.simulator import SimulationMemoryError, pauli_expectations, simulate
from skqml.variational import VQC

qml = pytest.importorskip("pennylane")

DEVICES = ["default.qubit", "lightning.qubit"]


@pytest.fixture(scope="module")
def backends():
    """One backend per device for the module, so devices and QNodes are built once."""
    return {name: PennyLaneBackend(device=name) for name in DEVICES}


def _data(n, d=3, seed=0):
    return np.random.default_rng(seed).uniform(-np.pi, np.pi, size=(n, d))


def _pennylane_states(circuit: Circuit, X, weights) -> np.ndarray:
    """States of the translated circuit from ``qml.state()``, in skqml's qubit order."""
    n = circuit.n_qubits
    structure = tuple((op.name, op.qubits) for op in circuit)

    @qml.qnode(qml.device("default.qubit", wires=n), diff_method=None)
    def state(angles):
        _queue_operations(qml, structure, angles)
        return qml.state()

    psi = np.asarray(state(_angles(circuit, X, weights))).reshape(-1, *(2,) * n)
    # PennyLane's index reads wire 0 as the most significant bit, skqml's as the least.
    return psi.transpose(0, *range(n, 0, -1)).reshape(-1, 2**n)


def _entangled_start(n: int) -> Circuit:
    """A generic entangled state per row, so that every matrix entry of a gate matters."""
    c = Circuit(n)
    for q in range(n):
        c = c.ry(0.4 + 0.7 * q, q).rz(0.3 - 0.5 * q, q)
    for q in range(n - 1):
        c = c.cnot(q, q + 1)
    for q in range(n):
        c = c.rx(0.2 + 0.3 * q + 0.5 * feature(q % 2), q)
    return c


# --------------------------------------------------------------------------------------------
# Gate translation
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("angles", ["batch", "constant"])
@pytest.mark.parametrize("name", sorted(GATES))
def test_every_gate_state_and_probabilities_equal_skqml(name, angles, backends):
    spec = GATES[name]
    rng = np.random.default_rng(sorted(GATES).index(name))
    n = 4
    qubits = tuple(int(q) for q in rng.permutation(n)[: spec.n_qubits or 3])
    if angles == "batch":
        # A feature, a weight and a constant: multi-angle gates get mixed broadcast shapes.
        kinds = [0.7 * feature(0) + 0.2, 1.3 * weight(0) - feature(1), 0.9]
        params = kinds[: spec.n_params]
    else:
        params = list(rng.uniform(-np.pi, np.pi, spec.n_params))
    circuit = _entangled_start(n).append(name, qubits, *params)
    X, w = _data(5, d=2, seed=1), np.array([0.8])
    exact = simulate(circuit, X, w)
    # Global phase included: multiphase's phase is applied as one GlobalPhase.
    np.testing.assert_allclose(_pennylane_states(circuit, X, w), exact, rtol=0, atol=1e-12)
    for backend in backends.values():
        probs = backend.probabilities(circuit, X, w)
        np.testing.assert_allclose(probs, np.abs(exact) ** 2, rtol=0, atol=1e-12)


def test_aliases_translate_like_their_gates(backends):
    c1 = Circuit(3).h(0).append("cx", (0, 2)).append("toffoli", (0, 2, 1))
    c1 = c1.append("isingzz", (1, 2), feature(0)).append("phase", 1, feature(1))
    X = _data(4, d=2, seed=2)
    np.testing.assert_allclose(
        backends["default.qubit"].probabilities(c1, X), np.abs(simulate(c1, X)) ** 2, atol=1e-12
    )


# --------------------------------------------------------------------------------------------
# Feature maps and ansatzes, analytic and with shots
# --------------------------------------------------------------------------------------------
def _model_circuits():
    fm = ZZFeatureMap(reps=2).build(3)
    return {
        "zz+real_amplitudes": fm.compose(RealAmplitudes(reps=2).build(3)),
        "zz+strongly_entangling": fm.compose(StronglyEntanglingLayers(n_layers=2).build(3)),
    }


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("which", sorted(_model_circuits()))
def test_feature_maps_and_ansatzes_analytic(which, device, backends):
    circuit = _model_circuits()[which]
    X = _data(20, seed=3)
    w = np.random.default_rng(4).uniform(-np.pi, np.pi, circuit.n_weights)
    probs = backends[device].probabilities(circuit, X, w)
    np.testing.assert_allclose(probs, np.abs(simulate(circuit, X, w)) ** 2, rtol=0, atol=1e-10)
    # Pauli expectations through the inherited basis changes are exact too.
    labels = ["ZZI", "XIX", "YZY", "IIY"]
    np.testing.assert_allclose(
        backends[device].expectations(circuit, labels, X, w),
        pauli_expectations(simulate(circuit, X, w), labels),
        atol=1e-10,
    )


@pytest.mark.parametrize("device", DEVICES)
def test_shots_within_binomial_bounds_and_seeded(device):
    circuit = _model_circuits()["zz+real_amplitudes"]
    X = _data(12, seed=5)
    w = np.random.default_rng(6).uniform(-np.pi, np.pi, circuit.n_weights)
    shots = 2000
    backend = PennyLaneBackend(device=device, shots=shots, seed=11)
    freqs = backend.probabilities(circuit, X, w)
    exact = np.abs(simulate(circuit, X, w)) ** 2
    assert freqs.shape == exact.shape
    np.testing.assert_allclose(freqs.sum(axis=1), 1.0)
    np.testing.assert_allclose(freqs * shots, np.round(freqs * shots), atol=1e-9)
    # Five standard errors per entry (plus one count for entries near 0 or 1).
    bound = 5 * np.sqrt(exact * (1 - exact) / shots) + 1 / shots
    assert np.all(np.abs(freqs - exact) <= bound)
    # Seeded: repeatable, independent of max_batch_size, of row order and of row subsets.
    np.testing.assert_array_equal(backend.probabilities(circuit, X, w), freqs)
    split = clone(backend).set_params(max_batch_size=5)
    np.testing.assert_array_equal(split.probabilities(circuit, X, w), freqs)
    perm = np.random.default_rng(7).permutation(len(X))
    np.testing.assert_array_equal(backend.probabilities(circuit, X[perm], w), freqs[perm])
    np.testing.assert_array_equal(backend.probabilities(circuit, X[3:6], w), freqs[3:6])
    # The streams are ShotsBackend's: same seed, same draws from the same distribution.
    same = ShotsBackend(shots=shots, seed=11).probabilities(circuit, X, w)
    np.testing.assert_array_equal(freqs, same)
    # Another seed, or none, gives other draws.
    assert not np.array_equal(
        clone(backend).set_params(seed=12).probabilities(circuit, X, w), freqs
    )
    unseeded = clone(backend).set_params(seed=None)
    assert not np.array_equal(
        unseeded.probabilities(circuit, X, w), unseeded.probabilities(circuit, X, w)
    )


@pytest.mark.parametrize("device", DEVICES)
def test_batch_splitting_and_memory_budget_do_not_change_results(device, backends, monkeypatch):
    circuit = ZZFeatureMap(reps=1).build(4)
    X = _data(11, d=4, seed=8)
    full = backends[device].probabilities(circuit, X)
    calls, real_run = [], _pennylane._run

    def counting_run(qnode, circuit, X_call, *args):
        calls.append(len(X_call))  # rows of one QNode call
        return real_run(qnode, circuit, X_call, *args)

    monkeypatch.setattr(_pennylane, "_run", counting_run)
    small = PennyLaneBackend(device=device, max_batch_size=3)
    np.testing.assert_allclose(small.probabilities(circuit, X), full, rtol=0, atol=1e-14)
    assert calls == [3, 3, 3, 2]
    # 8 KiB: the output (11 rows x 16 floats) and 6 rows per call (4 states of 1/4 KiB each).
    calls.clear()
    tight = backends[device].probabilities(circuit, X, max_memory_mb=8 / 1024)
    np.testing.assert_allclose(tight, full, rtol=0, atol=1e-14)
    assert calls == [6, 5]
    # One row alone cannot fit: the width is the problem. All rows cannot: fewer at once.
    with pytest.raises(
        SimulationMemoryError, match=r"PennyLane probabilities of a sample \(4 qubits.*features"
    ):
        backends[device].probabilities(circuit, X, max_memory_mb=1e-4)
    with pytest.raises(
        SimulationMemoryError,
        match=r"PennyLane probabilities of 11 samples on 4 qubits.*fewer samples at once",
    ):
        backends[device].probabilities(circuit, X, max_memory_mb=2 / 1024)


def test_rows_without_features_circuits_without_data_and_empty_batches(backends):
    backend = backends["default.qubit"]
    bell = Circuit(2).h(0).cnot(0, 1)
    np.testing.assert_allclose(backend.probabilities(bell), [[0.5, 0, 0, 0.5]], atol=1e-15)
    # Weights only, several rows: one run serves all rows (each still gets its own shots).
    c = Circuit(2).ry(weight(0), 0).cry(weight(1), 0, 1)
    X, w = np.zeros((3, 1)), np.array([1.1, 0.4])
    probs = backend.probabilities(c, X, w)
    np.testing.assert_allclose(probs, np.repeat(np.abs(simulate(c, None, w)) ** 2, 3, axis=0))
    assert backend.probabilities(Circuit(1).ry(feature(0), 0), np.empty((0, 1))).shape == (0, 2)
    with pytest.raises(ValueError, match="reads 1 features: pass X"):
        backend.probabilities(Circuit(1).ry(feature(0), 0))
    with pytest.raises(ValueError, match="trainable weights: pass weights"):
        backend.probabilities(c, X)


# --------------------------------------------------------------------------------------------
# Registry, kernels, variational models
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("device", DEVICES)
def test_registry_names(device):
    backend = resolve_backend(f"pennylane:{device}")
    assert type(backend) is PennyLaneBackend and backend.device == device
    assert not backend.exact
    c = Circuit(1).x(0)
    np.testing.assert_allclose(backend.probabilities(c), [[0.0, 1.0]], atol=1e-15)


def test_fidelity_kernel_equals_exact_kernel():
    X, Y = _data(7, d=2, seed=9), _data(4, d=2, seed=10)
    exact = FidelityQuantumKernel(ZZFeatureMap(reps=1))
    pl = FidelityQuantumKernel(ZZFeatureMap(reps=1), backend=PennyLaneBackend())
    np.testing.assert_allclose(pl(X), exact(X), rtol=0, atol=1e-10)
    np.testing.assert_allclose(pl(X, Y), exact(X, Y), rtol=0, atol=1e-10)


def test_shot_kernel_independent_of_tiles_and_threads(monkeypatch):
    X = _data(9, d=2, seed=11)
    backend = PennyLaneBackend(device="lightning.qubit", shots=400, seed=3)
    kernel = FidelityQuantumKernel(ZZFeatureMap(reps=1), backend=backend, enforce_psd=False)
    K = kernel(X)
    assert np.all(np.abs(K - FidelityQuantumKernel(ZZFeatureMap(reps=1))(X)) < 0.15)
    monkeypatch.setattr(_overlap, "_TILE_ROWS", 4)  # 3 x 3 tiles
    # Threads share the backend object: each thread builds its own devices.
    with parallel_config(backend="threading"):
        np.testing.assert_array_equal(clone(kernel).set_params(n_jobs=2)(X), K)


def test_vqc_trains_with_parameter_shift_and_matches_exact_losses():
    rng = np.random.default_rng(12)
    X = rng.uniform(0, np.pi, size=(10, 2))
    y = (X[:, 0] > X[:, 1]).astype(int)
    params = dict(ansatz=RealAmplitudes(reps=1), optimizer="adam", max_iter=2, random_state=0)
    with pytest.warns(Warning, match="max_iter"):
        exact = VQC(**params).fit(X, y)
    with pytest.warns(Warning, match="max_iter"):
        pl = VQC(backend="pennylane:lightning.qubit", **params).fit(X, y)
    assert type(pl.backend_) is PennyLaneBackend
    # First loss: same forward pass; second: after one step with parameter-shift gradients.
    np.testing.assert_allclose(pl.loss_curve_, exact.loss_curve_, rtol=0, atol=1e-8)
    np.testing.assert_allclose(pl.weights_, exact.weights_, rtol=0, atol=1e-8)


# --------------------------------------------------------------------------------------------
# Parameter object hygiene
# --------------------------------------------------------------------------------------------
def test_params_repr_clone_equality():
    b = PennyLaneBackend()
    assert b.get_params() == {
        "device": "default.qubit",
        "shots": None,
        "seed": None,
        "max_batch_size": 1000,
        "sampling": "skqml",
    }
    assert repr(b) == "PennyLaneBackend()"
    b2 = PennyLaneBackend(device="lightning.qubit", shots=100, seed=1)
    assert repr(b2) == "PennyLaneBackend(device='lightning.qubit', seed=1, shots=100)"
    c = clone(b2)
    assert c is not b2 and c == b2 and hash(c) == hash(b2)
    assert c != b and resolve_backend(b2) == b2
    assert b.set_params(shots=10, seed=2) is b and (b.shots, b.seed) == (10, 2)


def test_pickle_and_copies_drop_caches_and_rebuild():
    circuit, X = ZZFeatureMap(reps=1).build(2), _data(3, d=2, seed=13)
    b = PennyLaneBackend(device="lightning.qubit", shots=50, seed=0)
    before = b.probabilities(circuit, X)
    assert "_cache" in vars(b)  # used: devices and QNodes are cached
    assert "_cache" not in b.__getstate__()
    assert "_cache" in vars(b)  # dropping them from the pickle leaves the live object alone
    for other in (pickle.loads(pickle.dumps(b)), copy.deepcopy(b), clone(b)):
        assert other == b and "_cache" not in vars(other)
        np.testing.assert_array_equal(other.probabilities(circuit, X), before)
    assert "_cache" not in clone(b).get_params()


def test_devices_and_qnodes_are_bounded_per_thread(monkeypatch):
    """The cache policy: least recently used devices and QNodes are dropped beyond a bound."""
    monkeypatch.setattr(_pennylane, "_MAX_DEVICES", 2)
    monkeypatch.setattr(_pennylane, "_MAX_QNODES", 3)
    b = PennyLaneBackend()
    expected = {}
    for n in (1, 2, 1, 3, 1):  # widths: each a device, each circuit a QNode
        expected[n] = simulate(Circuit(n).h(0)).real ** 2
        np.testing.assert_allclose(b.probabilities(Circuit(n).h(0)), expected[n], atol=1e-14)
    b.probabilities(Circuit(2).x(0))  # a new QNode on the device of width 2
    cache = b._cache
    # Devices are used when a QNode is built: width 1's went (its QNode keeps it alive).
    assert [key[1] for key in cache.devices] == [3, 2]
    assert [(key[1], key[2]) for key in cache.qnodes] == [
        (3, (("h", (0,)),)),
        (1, (("h", (0,)),)),
        (2, (("x", (0,)),)),
    ]


def test_set_params_device_switches_device():
    circuit = Circuit(2).h(0).cnot(0, 1)
    b = PennyLaneBackend()
    b.probabilities(circuit)
    b.set_params(device="no.such.device")
    with pytest.raises(ValueError, match=r"no\.such\.device"):
        b.probabilities(circuit)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"shots": 0}, "shots must be an integer >= 1, got 0"),
        ({"shots": -5}, "shots must be an integer >= 1, got -5"),
        ({"shots": 10.0}, "shots must be an integer >= 1, got 10.0"),
        ({"shots": True}, "shots must be an integer >= 1, got True"),
        ({"seed": -1}, "seed must be an integer >= 0, got -1"),
        ({"seed": 1.5}, "seed must be an integer >= 0, got 1.5"),
        ({"max_batch_size": 0}, "max_batch_size must be an integer >= 1, got 0"),
        ({"max_batch_size": 2.5}, "max_batch_size must be an integer >= 1, got 2.5"),
        ({"device": ""}, "device must be a PennyLane device name"),
        ({"device": 3}, "device must be a PennyLane device name"),
        ({"device": "default.qubitt"}, r"unknown PennyLane device 'default.qubitt'.*plugin"),
        ({"sampling": "hardware"}, "sampling must be 'skqml' or 'device', got 'hardware'"),
        ({"sampling": "device"}, r"sampling='device' draws the shots on the device: set shots"),
    ],
)
def test_bad_parameters(params, match):
    backend = PennyLaneBackend(**params)  # sklearn style: __init__ only stores
    with pytest.raises(ValueError, match=match):
        backend.probabilities(Circuit(1).h(0))


def test_numpy_integer_parameters():
    b = PennyLaneBackend(shots=np.int64(10), seed=np.uint8(1), max_batch_size=np.int32(2))
    assert b.probabilities(Circuit(1).h(0), np.zeros((3, 1))).sum() == 3.0


def test_missing_pennylane_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "pennylane", None)  # makes `import pennylane` fail
    backend = PennyLaneBackend()
    assert backend.get_params()["device"] == "default.qubit"  # building needs no PennyLane
    with pytest.raises(ImportError, match=r"pip install 'skqml\[pennylane\]'"):
        backend.probabilities(Circuit(1).h(0))


# --------------------------------------------------------------------------------------------
# Devices that can only sample (hardware plugins)
# --------------------------------------------------------------------------------------------
class AnalyticRunRefused(RuntimeError):
    """What the sample-only device raises for a run without shots."""


class SampleOnlyQubit(qml.devices.DefaultQubit):
    """A device that can only sample, as hardware plugins: analytic runs are refused."""

    runs: list = []  # (batch size, shots) of every tape it ran, across instances

    def execute(self, circuits, execution_config=None):
        batch = [circuits] if isinstance(circuits, qml.tape.QuantumScript) else circuits
        for tape in batch:
            if not tape.shots:
                raise AnalyticRunRefused("sample.only can only sample: give it shots")
            SampleOnlyQubit.runs.append((tape.batch_size, tape.shots.total_shots))
        return super().execute(circuits, execution_config)


class _EntryPoint:
    def load(self):
        return SampleOnlyQubit


@pytest.fixture
def sample_only(monkeypatch):
    """``"sample.only"``, registered as a plugin device for the test."""
    monkeypatch.setitem(qml.plugin_devices, "sample.only", _EntryPoint())
    SampleOnlyQubit.runs.clear()
    return "sample.only"


def test_sample_only_device_draws_the_shots_itself(sample_only):
    circuit = ZZFeatureMap(reps=1).build(2).compose(RealAmplitudes(reps=1).build(2))
    X = np.random.default_rng(0).uniform(0, np.pi, (7, 2))
    w = np.linspace(-1, 1, circuit.n_weights)
    exact = np.abs(simulate(circuit, X, w)) ** 2
    # Analytic probabilities are what the device cannot give:
    with pytest.raises(AnalyticRunRefused, match="can only sample"):
        PennyLaneBackend(device=sample_only, shots=100).probabilities(circuit, X, w)
    shots = 4000
    backend = PennyLaneBackend(
        device=sample_only, shots=shots, seed=5, sampling="device", max_batch_size=3
    )
    SampleOnlyQubit.runs.clear()
    freqs = backend.probabilities(circuit, X, w)
    # Batched: 7 rows in broadcast calls of at most 3, each row measured `shots` times.
    assert sorted(b or 1 for b, _ in SampleOnlyQubit.runs) == [1, 3, 3]
    assert all(s == shots for _, s in SampleOnlyQubit.runs)
    np.testing.assert_allclose(freqs.sum(axis=1), 1.0)
    assert np.all(freqs * shots == np.round(freqs * shots))  # counts of shots
    bound = 5 * np.sqrt(exact * (1 - exact) / shots) + 1 / shots
    assert np.all(np.abs(freqs - exact) <= bound)
    # Seeded: the same calls in the same order give the same counts.
    np.testing.assert_array_equal(clone(backend).probabilities(circuit, X, w), freqs)
    # Models run on it: kernel entries and expectations from the device's frequencies.
    fmap = ZZFeatureMap(reps=1)
    K = FidelityQuantumKernel(fmap, backend=backend, bandwidth=1.0)(X[:4])
    K_exact = FidelityQuantumKernel(fmap, bandwidth=1.0)(X[:4])
    assert np.abs(K - K_exact).max() < 5 * 0.5 / np.sqrt(shots) + 1 / shots
    E = backend.expectations(circuit, ["ZZ", "XI"], X, w)
    np.testing.assert_allclose(
        E, pauli_expectations(simulate(circuit, X, w), ["ZZ", "XI"]), atol=0.1
    )


def test_a_device_without_a_seed_is_refused_clearly(sample_only, monkeypatch):
    class Unseeded(SampleOnlyQubit):
        def __init__(self, wires=None, shots=None):
            super().__init__(wires=wires, shots=shots)

    monkeypatch.setattr(_EntryPoint, "load", lambda self: Unseeded)
    backend = PennyLaneBackend(device=sample_only, shots=10, seed=1, sampling="device")
    with pytest.raises(ValueError, match="takes no seed"):
        backend.probabilities(Circuit(1).h(0))
    assert PennyLaneBackend(device=sample_only, shots=10, sampling="device").probabilities(
        Circuit(1).h(0)
    ).shape == (1, 2)
