"""Conformance suite: every backend answers the same questions as the exact simulator.

Each backend below runs the same circuits (a feature map followed by a trainable ansatz, on a
batch of samples) and its probabilities, Pauli expectations, kernel overlaps and
parameter-shift gradients are compared with the exact values of skqml's statevector
simulator (``simulate``, ``expectations`` and the adjoint ``expectation_vjp``):

- exact backends and analytic devices must agree to ``1e-9``;
- sampling backends must agree within ``Z`` standard deviations of the binomial or
  multinomial estimate they make (``Z = 5``, so a correct backend fails about once in
  3.5 million comparisons; each backend is seeded, so a run is deterministic anyway);
- a noisy device must stay close (its noise is physical, not statistical), with a stated
  loose bound, and must not be exact (the noise is really there).

Adapters whose SDK is not installed are skipped (CI installs every extra).
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass

import numpy as np
import pytest
from sklearn.base import clone

from skqml.backends import (
    MPSBackend,
    PennyLaneBackend,
    QiskitBackend,
    ResourceCounter,
    SamplingBackend,
    ShotsBackend,
    StatevectorBackend,
    resolve_backend,
)
from skqml.circuits import RealAmplitudes, ZZFeatureMap
from skqml.kernels import FidelityQuantumKernel
from skqml.simulator import (
    SimulationMemoryError,
    expectation_vjp,
    expectations,
    parameter_shift_vjp,
    simulate,
)

Z = 5.0
N_QUBITS = 3
SHOTS = 20_000


class AnalyticSampling(SamplingBackend):
    """A measuring backend that returns exact probabilities: tests SamplingBackend's logic."""

    def probabilities(self, circuit, X=None, weights=None, *, max_memory_mb=None):
        states = simulate(circuit, X, weights, max_memory_mb=max_memory_mb)
        return states.real**2 + states.imag**2


@dataclass(frozen=True)
class Case:
    """A backend under test: how to build it and how closely it must agree."""

    name: str
    make: object  # () -> Backend
    shots: int | None = None  # None: analytic
    noise_bound: float | None = None  # absolute bound for noisy devices
    needs: str | None = None  # module that must be importable


def _qiskit(**kw):
    return QiskitBackend(**kw)


def _pennylane(**kw):
    return PennyLaneBackend(**kw)


CASES = [
    Case("statevector", StatevectorBackend),
    Case("sampling-analytic", AnalyticSampling),
    Case("shots", lambda: ShotsBackend(shots=SHOTS, seed=0), shots=SHOTS),
    Case(
        "shots-noisy",
        lambda: ShotsBackend(shots=SHOTS, seed=1, readout_error=0.01, depolarizing=0.02),
        shots=SHOTS,
        noise_bound=0.06,
    ),
    # The counter answers as the backend it wraps; in a dry run as the exact simulator.
    Case(
        "counter-shots",
        lambda: ResourceCounter(ShotsBackend(shots=SHOTS, seed=0)),
        shots=SHOTS,
    ),
    Case("counter-dry-run", lambda: ResourceCounter(ShotsBackend(shots=SHOTS), dry_run=True)),
    Case("mps", MPSBackend, needs="qiskit_aer"),  # exact: no bond cap
    Case("pennylane-default", lambda: _pennylane(), needs="pennylane"),
    Case(
        "pennylane-lightning-shots",
        lambda: _pennylane(device="lightning.qubit", shots=SHOTS, seed=0),
        shots=SHOTS,
        needs="pennylane",
    ),
    Case(
        "qiskit-aer",
        lambda: _qiskit(device="aer_simulator", shots=SHOTS, seed=0),
        shots=SHOTS,
        needs="qiskit_aer",
    ),
    Case(
        "qiskit-fake-manila",
        lambda: _qiskit(device="fake_manila", shots=SHOTS, seed=0),
        shots=SHOTS,
        # Device noise of fake_manila moved one overlap by 0.128 even at 200k shots.
        noise_bound=0.25,
        needs="qiskit_ibm_runtime",
    ),
]


@pytest.fixture(params=CASES, ids=lambda c: c.name)
def case(request):
    c = request.param
    if c.needs:
        pytest.importorskip(c.needs)
    return c


def _problem(seed=0):
    rng = np.random.default_rng(seed)
    fmap = ZZFeatureMap(reps=1).build(N_QUBITS)
    ansatz = RealAmplitudes(reps=1).build(N_QUBITS)
    circuit = fmap.compose(ansatz)
    X = rng.uniform(0, np.pi, size=(4, N_QUBITS))
    weights = rng.uniform(-np.pi, np.pi, size=circuit.n_weights)
    return circuit, X, weights


def _assert_agrees(case, estimate, exact, variance, *, n_estimates=1):
    """Exact: 1e-9. Shots: Z sigma of the estimate. Noise: the stated absolute bound."""
    estimate, exact = np.asarray(estimate), np.asarray(exact)
    assert estimate.shape == exact.shape
    err = np.abs(estimate - exact)
    if case.noise_bound is not None:
        assert err.max() <= case.noise_bound, (case.name, err.max())
        return
    if case.shots is None:
        np.testing.assert_allclose(estimate, exact, atol=1e-9, rtol=0)
        return
    # One count in the last place on top of Z sigma: a probability of 0 or 1 has no variance.
    bound = Z * np.sqrt(n_estimates * np.asarray(variance) / case.shots) + 1.0 / case.shots
    assert np.all(err <= bound), (case.name, (err / bound).max())


def test_probabilities_agree(case):
    circuit, X, weights = _problem()
    p = np.abs(simulate(circuit, X, weights)) ** 2
    est = case.make().probabilities(circuit, X, weights)
    assert est.shape == p.shape
    np.testing.assert_allclose(est.sum(axis=1), 1.0, atol=1e-9)
    _assert_agrees(case, est, p, p * (1 - p))


def test_expectations_agree(case):
    circuit, X, weights = _problem(1)
    labels = ["ZII", "IZI", "ZZI", "XII", "IYI", "XXZ", "III"]
    exact = expectations(circuit, labels, X, weights)
    est = case.make().expectations(circuit, labels, X, weights)
    _assert_agrees(case, est, exact, 1 - exact**2)
    np.testing.assert_allclose(est[:, -1], 1.0, atol=1e-12)  # identity: nothing to measure


def test_kernel_overlaps_agree(case):
    _, X, _ = _problem(2)
    XB = X[:2] + 0.3
    fmap = ZZFeatureMap(reps=1)
    exact_kernel = FidelityQuantumKernel(fmap, bandwidth=1.0)
    backend = case.make()
    K = exact_kernel(X)
    est = backend.overlaps(fmap.build(N_QUBITS), X)
    _assert_agrees(case, est, K, K * (1 - K))
    np.testing.assert_array_equal(np.diag(est), 1.0)  # symmetric: the diagonal is not run
    np.testing.assert_array_equal(est, est.T)
    K_ab = exact_kernel(X, XB)
    est_ab = backend.overlaps(fmap.build(N_QUBITS), X, XB)
    _assert_agrees(case, est_ab, K_ab, K_ab * (1 - K_ab))


def test_kernel_object_on_backend(case):
    """The kernel used by QSVC computes the same Gram matrix through the backend."""
    _, X, _ = _problem(3)
    exact = FidelityQuantumKernel(ZZFeatureMap(reps=1), bandwidth=1.0)(X)
    noisy = FidelityQuantumKernel(ZZFeatureMap(reps=1), backend=case.make(), bandwidth=1.0)(X)
    # The PSD projection moves entries by at most the noise it removes.
    _assert_agrees(case, noisy, exact, 4 * exact * (1 - exact) + 1e-2)


def test_parameter_shift_gradient_agrees(case):
    if case.noise_bound is not None and case.needs:
        # Device noise biases every shifted run; the shift rule itself is tested above on
        # the same adapter without noise, and the noisy simulator case keeps its bound.
        pytest.skip("a noisy device's gradient is biased, not estimated")
    circuit, X, weights = _problem(4)
    labels = ["ZZI", "IXZ"]
    G = np.random.default_rng(0).normal(size=(X.shape[0], len(labels)))
    _, exact_grad = expectation_vjp(circuit, labels, X, weights, lambda E, rows: G[rows])
    backend = case.make()

    def run(c):
        return backend.expectations(c, labels, X, weights)

    grad = parameter_shift_vjp(run, circuit, X, weights, G)
    # Each weight occurs once; its derivative is (E+ - E-)/2 per sample and observable,
    # with variance <= 2 * (1/4) / shots per term: sum over the cotangent.
    variance = np.full(weights.shape, 0.5 * (G**2).sum())
    _assert_agrees(case, grad, exact_grad, variance)


def test_noisy_backends_are_not_exact(case):
    if case.noise_bound is None:
        pytest.skip("noise-free backend")
    circuit, X, weights = _problem()
    p = np.abs(simulate(circuit, X, weights)) ** 2
    est = case.make().probabilities(circuit, X, weights)
    # Shot noise alone would stay within Z sigma; device noise must show beyond it.
    sigma = np.sqrt(p * (1 - p) / case.shots) + 1.0 / case.shots
    assert (np.abs(est - p) / sigma).max() > Z


def test_backend_is_a_parameter_object(case):
    backend = case.make()
    twin = clone(backend)
    assert twin == backend and twin is not backend
    assert type(pickle.loads(pickle.dumps(backend))) is type(backend)
    assert pickle.loads(pickle.dumps(backend)) == backend
    assert repr(backend).startswith(type(backend).__name__ + "(")
    assert set(backend.get_params()) == set(twin.get_params())
    # After use, too (adapters cache live SDK objects; pickling must drop them).
    circuit, X, weights = _problem()
    backend.probabilities(circuit, X[:1], weights)
    restored = pickle.loads(pickle.dumps(backend))
    assert restored == backend
    np.testing.assert_allclose(
        restored.probabilities(circuit, X[:1], weights).sum(), 1.0, atol=1e-9
    )


def test_seeded_backends_are_reproducible(case):
    backend = case.make()
    if "seed" not in backend.get_params():
        pytest.skip("no randomness")
    circuit, X, weights = _problem()
    first = backend.probabilities(circuit, X, weights)
    np.testing.assert_array_equal(first, clone(backend).probabilities(circuit, X, weights))


@pytest.mark.parametrize(
    "name",
    ["statevector", "shots", "qiskit:aer_simulator", "pennylane:default.qubit"],
)
def test_names_resolve(name):
    module = {"qiskit": "qiskit_aer", "pennylane": "pennylane"}.get(name.split(":")[0])
    if module:
        pytest.importorskip(module)
    backend = resolve_backend(name)
    circuit, X, weights = _problem()
    p = backend.probabilities(circuit, X[:2], weights)
    assert p.shape == (2, 2**N_QUBITS)


def test_paired_overlaps_agree(case):
    """``paired_overlaps`` estimates the pairs ``(XA[i], XB[i])``, the diagonal ``k(x, x)`` too."""
    _, X, _ = _problem(5)
    XB = X[::-1] + 0.2
    circuit = ZZFeatureMap(reps=1).build(N_QUBITS)
    backend = case.make()
    exact = np.diag(FidelityQuantumKernel(ZZFeatureMap(reps=1), bandwidth=1.0)(X, XB))
    est = backend.paired_overlaps(circuit, X, XB)
    assert est.shape == (X.shape[0],)
    _assert_agrees(case, est, exact, exact * (1 - exact))
    _assert_agrees(case, backend.paired_overlaps(circuit, X, X), np.ones(X.shape[0]), 0.0)
    with pytest.raises(ValueError, match="as many rows"):
        backend.paired_overlaps(circuit, X, XB[:2])


def test_shots_paired_overlaps_are_the_grid_entries():
    """On ShotsBackend a pair's estimate is the same wherever it is asked for."""
    _, X, _ = _problem(6)
    circuit = ZZFeatureMap(reps=1).build(N_QUBITS)
    for backend in (ShotsBackend(shots=500, seed=4), ShotsBackend(seed=4, readout_error=0.05)):
        grid = backend.overlaps(circuit, X, X[::-1], symmetric=False)
        paired = backend.paired_overlaps(circuit, X, X[::-1])
        np.testing.assert_array_equal(paired, np.diag(grid))


def test_grid_search_over_backends_in_a_pipeline():
    """The issue's headline: backends, and a backend object's parameters, in one grid."""
    pytest.importorskip("qiskit_aer")
    pytest.importorskip("qiskit_ibm_runtime")
    pytest.importorskip("pennylane")
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import Pipeline

    from skqml.datasets import make_ad_hoc
    from skqml.svm import QSVC

    X, y = make_ad_hoc(n_samples=16, n_features=2, gap=0.3, random_state=0)
    # The ad hoc features are already the angles its ZZ map is defined on: no scaling step.
    pipe = Pipeline([("scale", "passthrough"), ("qsvc", QSVC(ZZFeatureMap(), bandwidth=1.0))])
    grid = [
        {
            "qsvc__backend": [
                "statevector",
                ShotsBackend(seed=0),
                "qiskit:fake_manila",
                "pennylane:default.qubit",
            ]
        },
        {"qsvc__backend": [QiskitBackend(seed=0)], "qsvc__backend__shots": [64, 1024]},
    ]
    search = GridSearchCV(pipe, grid, cv=2, n_jobs=2).fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    assert len(scores) == 6 and np.all((scores >= 0) & (scores <= 1))
    shots = [p.get("qsvc__backend__shots") for p in search.cv_results_["params"]]
    assert shots[-2:] == [64, 1024]
    # The analytic PennyLane device computes the exact kernel: the same scores.
    assert scores[3] == scores[0]
    # Every candidate really ran on its backend: the sampled kernels differ from the exact
    # one, and the refitted model reports which backend won.
    expected = clone(pipe).set_params(**search.best_params_).named_steps["qsvc"].backend
    assert search.best_estimator_.named_steps["qsvc"].backend_ == resolve_backend(expected)
    # The exact model learns the data; 1024 shots on Aer stay close to it, 64 shots less so.
    assert scores[0] >= 0.85
    assert abs(scores[5] - scores[0]) <= 0.2


def test_overlap_tiles_fit_a_small_memory_budget():
    """A tile of 128 x 128 pairs on 10 qubits is cut into chunks that fit 8 MiB; only a
    single pair that cannot fit is refused, naming the pair."""
    from skqml.simulator import SimulationMemoryError

    rng = np.random.default_rng(0)
    X, Y = rng.uniform(0, 1, (40, 10)), rng.uniform(0, 1, (30, 10))
    backend = AnalyticSampling()
    calls = []

    class Counting(AnalyticSampling):
        def probabilities(self, circuit, X=None, weights=None, *, max_memory_mb=None):
            calls.append(len(X))
            return super().probabilities(circuit, X, weights, max_memory_mb=max_memory_mb)

    kernel = FidelityQuantumKernel(
        ZZFeatureMap(reps=1), backend=Counting(), max_memory_mb=8, bandwidth=1.0
    )
    K = kernel(X, Y)
    assert len(calls) > 1 and sum(calls) == X.shape[0] * Y.shape[0]
    exact = FidelityQuantumKernel(ZZFeatureMap(reps=1), bandwidth=1.0)(X, Y)
    np.testing.assert_allclose(K, exact, atol=1e-12)
    with pytest.raises(
        SimulationMemoryError, match=r"a pair's overlap circuit \(10 qubits.*use fewer features"
    ):
        backend.overlaps(ZZFeatureMap(reps=1).build(10), X[:2], Y[:2], max_memory_mb=0.01)


def test_measurement_hooks_agree(case):
    """``zero_frequencies`` and ``parity_expectations``, which every measuring backend's
    overlaps and expectations come from, estimate the exact all-zeros probability and Z
    parities."""
    backend = case.make()
    if not isinstance(backend, SamplingBackend):
        pytest.skip("not a measuring backend")
    from skqml.backends import compute_uncompute

    circuit, X, weights = _problem(7)
    p = np.abs(simulate(circuit, X, weights)) ** 2
    zero = backend.zero_frequencies(circuit, X, weights)
    assert zero.shape == (X.shape[0],)
    _assert_agrees(case, zero, p[:, 0], p[:, 0] * (1 - p[:, 0]))
    masks = [0b001, 0b011, 0b101, 0b111, 0]
    exact = expectations(circuit, ["IIZ", "IZZ", "ZIZ", "ZZZ", "III"], X, weights)
    est = backend.parity_expectations(circuit, masks, X, weights)
    assert est.shape == (X.shape[0], len(masks))
    _assert_agrees(case, est, exact, 1 - exact**2)
    np.testing.assert_array_equal(est[:, -1], 1.0)
    # An overlap circuit's all-zeros frequency is the kernel entry.
    fmap = ZZFeatureMap(reps=1).build(N_QUBITS)
    K = FidelityQuantumKernel(ZZFeatureMap(reps=1), bandwidth=1.0)(X[:2], X[2:])
    pair_X = np.hstack([X[:2], X[2:]])
    est_k = backend.zero_frequencies(compute_uncompute(fmap, N_QUBITS), pair_X)
    _assert_agrees(case, est_k, np.diag(K), np.diag(K) * (1 - np.diag(K)))


def test_default_hooks_read_the_probabilities():
    """The defaults are the frequencies route: column 0, and frequencies times parity signs."""
    circuit, X, weights = _problem(8)
    for backend in (ShotsBackend(shots=1000, seed=3), AnalyticSampling()):
        freqs = backend.probabilities(circuit, X, weights)
        np.testing.assert_array_equal(backend.zero_frequencies(circuit, X, weights), freqs[:, 0])
        signs = np.array([1 - 2 * (bin(k & 0b110).count("1") % 2) for k in range(8)])
        np.testing.assert_array_equal(
            backend.parity_expectations(circuit, [0b110], X, weights)[:, 0], freqs @ signs
        )
    with pytest.raises(ValueError, match="select among 3 qubits"):
        AnalyticSampling().parity_expectations(circuit, [0b1000], X, weights)
    for bad in (-1, True, 1.0):
        with pytest.raises(TypeError, match=f"a qubit mask must be an integer >= 0, got {bad}"):
            AnalyticSampling().parity_expectations(circuit, [bad], X, weights)
    np.testing.assert_array_equal(
        AnalyticSampling().parity_expectations(circuit, [np.uint8(0b110)], X, weights),
        AnalyticSampling().parity_expectations(circuit, [0b110], X, weights),
    )


def test_overriding_the_hooks_is_enough_for_overlaps_and_expectations():
    """A backend that counts from shots overrides the two hooks; overlaps and expectations
    then never ask for 2**n frequencies."""

    class FromHooks(SamplingBackend):
        def probabilities(self, circuit, X=None, weights=None, *, max_memory_mb=None):
            raise AssertionError("the hooks must not need the frequencies")

        def zero_frequencies(self, circuit, X=None, weights=None, *, max_memory_mb=None):
            states = simulate(circuit, X, weights)
            return np.abs(states[:, 0]) ** 2

        def parity_expectations(self, circuit, masks, X=None, weights=None, *, max_memory_mb=None):
            p = np.abs(simulate(circuit, X, weights)) ** 2
            k = np.arange(p.shape[1])
            signs = [(-1.0) ** np.array([bin(i & m).count("1") for i in k]) for m in masks]
            return p @ np.column_stack(signs)

    circuit, X, weights = _problem(9)
    labels = ["ZII", "XXZ", "IYI", "III"]
    np.testing.assert_allclose(
        FromHooks().expectations(circuit, labels, X, weights),
        expectations(circuit, labels, X, weights),
        atol=1e-12,
    )
    fmap = ZZFeatureMap(reps=1)
    np.testing.assert_allclose(
        FromHooks().overlaps(fmap.build(N_QUBITS), X, X[:2]),
        FidelityQuantumKernel(fmap, bandwidth=1.0)(X, X[:2]),
        atol=1e-12,
    )
    np.testing.assert_allclose(
        FromHooks().paired_overlaps(fmap.build(N_QUBITS), X, X), 1.0, atol=1e-12
    )


def test_kernel_on_wide_circuits_needs_no_states():
    """A 40-qubit kernel through a backend that counts from shots: nothing of size 2**40
    is allocated by the kernel's own tiling (only the backend decides what it can run)."""

    class Wide(SamplingBackend):
        def zero_frequencies(self, circuit, X=None, weights=None, *, max_memory_mb=None):
            # Stand-in for measured shots: a fixed, content-dependent frequency per row.
            return np.cos(np.asarray(X).sum(axis=1)) ** 2

    X = np.random.default_rng(0).uniform(0, 1, (6, 40))
    kernel = FidelityQuantumKernel(
        ZZFeatureMap(reps=1), backend=Wide(), enforce_psd=False, bandwidth=1.0
    )
    K = kernel(X)
    assert K.shape == (6, 6) and np.all(np.diag(K) == 1.0) and np.array_equal(K, K.T)
    assert kernel(X, X[:2]).shape == (6, 2)
    with pytest.raises(SimulationMemoryError):
        FidelityQuantumKernel(ZZFeatureMap(reps=1), backend=ShotsBackend(seed=0), bandwidth=1.0)(X)
