"""Tests for skqml.backends: name resolution, registry, the exact statevector backend.

References: ``skqml.simulator.simulate`` (the backend must be a thin pass-through) and the
dense gate-by-gate unitaries of ``tests/_reference.py``.
"""

from __future__ import annotations

import importlib
import inspect
import pickle
import warnings

import numpy as np
import pytest
from _reference import circuit_unitary
from sklearn.base import clone, is_classifier

from skqml.backends import (
    Backend,
    StatevectorBackend,
    available_backends,
    register_backend,
    resolve_backend,
)
from skqml.backends import _registry as registry
from skqml.circuits import Circuit, HeisenbergEmbedding, ZZFeatureMap, feature, weight
from skqml.kernels import FidelityQuantumKernel
from skqml.simulator import SimulationMemoryError, simulate


@pytest.fixture
def clean_registry(monkeypatch):
    """Registrations made by a test disappear after it."""
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))


class ScaledBackend(StatevectorBackend):
    """An exact backend with a hyperparameter: simulates ``scale * X``."""

    def __init__(self, scale=1.0):
        self.scale = scale

    def statevectors(self, circuit, X=None, weights=None, *, max_memory_mb=None):
        X = None if X is None else self.scale * np.asarray(X)
        return super().statevectors(circuit, X, weights, max_memory_mb=max_memory_mb)


class SamplingOnly(Backend):
    """A non-exact backend (no state vectors)."""

    def __init__(self, shots=100):
        self.shots = shots


# --------------------------------------------------------------------------------------------
# resolve_backend / available_backends / register_backend
# --------------------------------------------------------------------------------------------
def test_resolve_none_and_names():
    for spec in (None, "statevector", "StateVector", "STATEVECTOR"):
        backend = resolve_backend(spec)
        assert type(backend) is StatevectorBackend
        assert backend.exact
    assert resolve_backend("statevector") is not resolve_backend("statevector")


def test_none_is_the_default_backend_by_name(clean_registry):
    assert registry.DEFAULT_BACKEND == "statevector"
    assert None in registry.BACKEND_CONSTRAINT and Backend in registry.BACKEND_CONSTRAINT
    assert resolve_backend(None) == resolve_backend("statevector") == StatevectorBackend()
    # None means the backend of that name, whatever it is registered as.
    register_backend("statevector", lambda: ScaledBackend(scale=0.5))
    assert resolve_backend(None) == ScaledBackend(scale=0.5)


def _classes_with_a_backend():
    for package in ("skqml.svm", "skqml.variational", "skqml.boltzmann", "skqml.kernels"):
        module = importlib.import_module(package)
        for name in module.__all__:
            cls = getattr(module, name)
            if inspect.isclass(cls) and "backend" in inspect.signature(cls).parameters:
                yield pytest.param(cls, id=name)


@pytest.mark.parametrize("cls", list(_classes_with_a_backend()))
def test_every_estimator_and_kernel_accepts_backend_none(cls):
    """backend=None runs, and gives exactly what the default backend gives."""
    rng = np.random.default_rng(0)
    X = rng.uniform(0, np.pi, size=(6, 2))
    bits = rng.integers(0, 2, size=(6, 2))
    y = np.array([0, 1, 0, 1, 0, 1])
    fast = {"max_iter": 2, "random_state": 0}

    def run(backend):
        model = cls(backend=backend)
        model.set_params(**{k: v for k, v in fast.items() if k in model.get_params()})
        if not hasattr(model, "fit"):  # a kernel
            return model(X)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence after 2 iterations
            if not hasattr(model, "predict"):  # a generative model of bits
                return model.fit(bits).score_samples(bits)
            target = y if is_classifier(model) else X[:, 0]
            return model.fit(X, target).predict(X)

    np.testing.assert_array_equal(run(None), run("statevector"))


def test_resolve_object_is_cloned():
    original = ScaledBackend(scale=0.5)
    resolved = resolve_backend(original)
    assert type(resolved) is ScaledBackend
    assert resolved is not original
    assert resolved == original and resolved.scale == 0.5
    resolved.set_params(scale=2.0)
    assert original.scale == 0.5


def test_resolve_unknown_name_lists_known():
    with pytest.raises(ValueError, match=r"unknown backend 'qpu'.*known backends: .*statevector"):
        resolve_backend("qpu")


@pytest.mark.parametrize("spec", [3, 1.5, ["statevector"], StatevectorBackend, object()])
def test_resolve_bad_type(spec):
    with pytest.raises(TypeError, match="backend must be a name or a skqml Backend object"):
        resolve_backend(spec)


def test_available_backends():
    names = available_backends()
    assert isinstance(names, list)
    assert "statevector" in names
    assert names == sorted(names)
    names.append("mutated")
    assert "mutated" not in available_backends()


def test_register_backend(clean_registry):
    register_backend("Scaled", lambda: ScaledBackend(scale=0.25))
    assert "scaled" in available_backends()
    for name in ("scaled", "SCALED"):
        backend = resolve_backend(name)
        assert type(backend) is ScaledBackend and backend.scale == 0.25
    # A registered class works as its own factory.
    register_backend("sv2", StatevectorBackend)
    assert type(resolve_backend("sv2")) is StatevectorBackend
    with pytest.raises(ValueError, match="scaled, shots, statevector, sv2"):
        resolve_backend("unknown")


def test_registration_does_not_leak(clean_registry):
    assert "scaled" not in available_backends()


def test_registered_backend_used_by_kernel(clean_registry):
    register_backend("half", lambda: ScaledBackend(scale=0.5))
    X = np.random.default_rng(0).uniform(0, np.pi, size=(6, 3))
    fm = ZZFeatureMap(reps=1)
    np.testing.assert_allclose(
        FidelityQuantumKernel(fm, backend="half", bandwidth=1.0)(X),
        FidelityQuantumKernel(fm, bandwidth=1.0)(0.5 * X),
        rtol=0,
        atol=1e-14,
    )


def test_backend_object_parameters_nest_in_kernel():
    X = np.random.default_rng(1).uniform(0, np.pi, size=(5, 2))
    kernel = FidelityQuantumKernel(
        ZZFeatureMap(reps=1), backend=ScaledBackend(scale=0.3), bandwidth=1.0
    )
    assert kernel.get_params(deep=True)["backend__scale"] == 0.3
    K03 = kernel(X)
    kernel.set_params(backend__scale=0.7)
    assert kernel.backend.scale == 0.7
    np.testing.assert_allclose(
        kernel(X), FidelityQuantumKernel(ZZFeatureMap(reps=1), bandwidth=1.0)(0.7 * X)
    )
    assert np.abs(kernel(X) - K03).max() > 1e-3


def test_non_exact_backend_in_fidelity_kernel():
    with pytest.raises(NotImplementedError, match="statevector"):
        FidelityQuantumKernel(backend=SamplingOnly(), bandwidth=1.0)(np.ones((2, 2)))
    with pytest.raises(NotImplementedError, match="SamplingOnly"):
        SamplingOnly().statevectors(Circuit(1).h(0))
    assert Backend.exact is False and not SamplingOnly().exact


# --------------------------------------------------------------------------------------------
# StatevectorBackend as a parameter object
# --------------------------------------------------------------------------------------------
def test_statevector_backend_params_equality_clone_pickle():
    b = StatevectorBackend()
    assert b.get_params() == {}
    assert repr(b) == "StatevectorBackend()"
    assert b == StatevectorBackend() and hash(b) == hash(StatevectorBackend())
    assert b != ScaledBackend() and b != "statevector"
    c = clone(b)
    assert c is not b and c == b
    p = pickle.loads(pickle.dumps(b))
    assert p == b and p.exact
    assert b.set_params() is b
    with pytest.raises(ValueError):
        b.set_params(shots=10)


def test_parameter_backend_equality():
    assert ScaledBackend(0.5) == ScaledBackend(0.5)
    assert ScaledBackend(0.5) != ScaledBackend(0.6)
    assert hash(ScaledBackend(0.5)) == hash(ScaledBackend(0.5))
    assert ScaledBackend(0.5).get_params() == {"scale": 0.5}
    assert pickle.loads(pickle.dumps(ScaledBackend(0.5))) == ScaledBackend(0.5)


# --------------------------------------------------------------------------------------------
# StatevectorBackend.statevectors
# --------------------------------------------------------------------------------------------
def _circuits():
    rng = np.random.default_rng(2)
    mixed = (
        Circuit(3)
        .h(0)
        .ry(feature(0), 1)
        .cnot(0, 2)
        .rz(weight(0), 2)
        .rxx(feature(1) * weight(1), 0, 1)
        .crz(weight(2), 1, 2)
        .u3(feature(2), weight(0), 0.3, 0)
    )
    return [
        (ZZFeatureMap().build(3), rng.uniform(0, np.pi, (7, 3)), None),
        (HeisenbergEmbedding(trotter_steps=2).build(2), rng.uniform(-1, 1, (5, 2)), None),
        (mixed, rng.uniform(0, np.pi, (4, 3)), rng.uniform(-np.pi, np.pi, 3)),
    ]


@pytest.mark.parametrize("case", range(3))
def test_statevectors_equal_simulate_and_dense_reference(case):
    circuit, X, weights = _circuits()[case]
    states = StatevectorBackend().statevectors(circuit, X, weights)
    assert states.shape == (X.shape[0], 2**circuit.n_qubits)
    assert states.dtype == np.complex128
    np.testing.assert_array_equal(states, simulate(circuit, X, weights))
    dense = np.array([circuit_unitary(circuit, x, weights)[:, 0] for x in X])
    np.testing.assert_allclose(states, dense, rtol=0, atol=1e-12)


def test_statevectors_without_data():
    bell = Circuit(2).h(0).cnot(0, 1)
    states = StatevectorBackend().statevectors(bell)
    np.testing.assert_allclose(states, [[2**-0.5, 0, 0, 2**-0.5]], rtol=0, atol=1e-15)


def test_statevectors_memory_budget_passes_through():
    circuit = ZZFeatureMap(reps=1).build(10)
    X = np.zeros((4, 10))
    with pytest.raises(SimulationMemoryError, match="10 qubits") as refused:
        StatevectorBackend().statevectors(circuit, X, max_memory_mb=0.01)
    # The smallest budget the simulator accepts (what its refusals say is required) still
    # gives the same states, in the smallest chunks, up to rounding: 1-row batches differ
    # from larger ones in the last bits.
    budget = refused.value.required_mb * 1.01
    for _ in range(3):  # each refusal names the next requirement it checks
        try:
            small = StatevectorBackend().statevectors(circuit, X, max_memory_mb=budget)
            break
        except SimulationMemoryError as exc:
            budget = exc.required_mb * 1.01
    np.testing.assert_allclose(small, simulate(circuit, X), rtol=0, atol=1e-14)


def test_statevectors_validate_inputs():
    circuit = ZZFeatureMap(reps=1).build(2)
    with pytest.raises(ValueError, match="NaN"):
        StatevectorBackend().statevectors(circuit, np.array([[0.1, np.nan]]))
    with pytest.raises(ValueError, match="features"):
        StatevectorBackend().statevectors(circuit, np.ones((2, 1)))


# --------------------------------------------------------------------------------------------
# Documentation
# --------------------------------------------------------------------------------------------
def _backend_methods():
    import skqml.backends as backends

    for name in backends.__all__:
        cls = getattr(backends, name)
        if not (inspect.isclass(cls) and issubclass(cls, Backend)):
            continue
        for attr, member in inspect.getmembers(cls, inspect.isfunction):
            if not attr.startswith("_") and member.__module__.startswith("skqml.backends"):
                yield pytest.param(cls, attr, id=f"{name}.{attr}")


@pytest.mark.parametrize(("cls", "attr"), list(_backend_methods()))
def test_public_backend_methods_have_numpydoc_parameters_and_returns(cls, attr):
    method = getattr(cls, attr)
    doc = inspect.getdoc(method) or ""  # an override without a docstring inherits its base's
    if len(inspect.signature(method).parameters) > 1:
        assert "Parameters\n----------" in doc, f"{cls.__name__}.{attr}: no Parameters"
    assert "Returns\n-------" in doc, f"{cls.__name__}.{attr}: no Returns"


def test_exact_overlaps_keep_their_budget():
    """Both batches of states and the pair grid count against one budget."""
    import tracemalloc

    from skqml.circuits import ZZFeatureMap
    from skqml.simulator import SimulationMemoryError

    rng = np.random.default_rng(0)
    circuit = ZZFeatureMap(reps=1).build(16)
    XA, XB = rng.uniform(size=(6, 16)), rng.uniform(size=(5, 16))
    backend = StatevectorBackend()
    expected = np.abs(simulate(circuit, XA) @ simulate(circuit, XB).conj().T) ** 2
    budget = 24.0  # 11 states of 1 MiB and their working copies: it must chunk to fit
    tracemalloc.start()
    try:
        K = backend.overlaps(circuit, XA, XB, max_memory_mb=budget)
    finally:
        peak = tracemalloc.get_traced_memory()[1] / 1024**2
        tracemalloc.stop()
    np.testing.assert_allclose(K, expected, atol=1e-12)
    assert peak <= 1.3 * budget + 30
    with pytest.raises(SimulationMemoryError):
        backend.overlaps(circuit, XA, XB, max_memory_mb=8)
