"""Every simulation path keeps its memory budget, or refuses up front without allocating.

The traced peak (tracemalloc sees NumPy's allocations) of a call with ``max_memory_mb=b``
must stay below ``1.3 * b + 30`` MiB; a call that cannot fit raises
:class:`SimulationMemoryError` before any large allocation.
"""

import time
import tracemalloc

import numpy as np
import pytest

from skqml.circuits import AngleEmbedding, RealAmplitudes, ZZFeatureMap
from skqml.kernels import FidelityQuantumKernel, ProjectedQuantumKernel
from skqml.simulator import (
    SimulationMemoryError,
    expectation_vjp,
    expectations,
    probability_vjp,
    simulate,
    simulate_probabilities,
)

MIB = 1024**2


def _peak_mib(call):
    """Run ``call``; return (traced peak in MiB, result or the SimulationMemoryError)."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        result = call()
    except SimulationMemoryError as exc:
        result = exc
    finally:
        peak = tracemalloc.get_traced_memory()[1] / MIB
        tracemalloc.stop()
    return peak, result


def _data(n_samples, n_features, seed=0):
    return np.random.default_rng(seed).uniform(0, np.pi, size=(n_samples, n_features))


def _model_circuit(n_qubits):
    """Angle embedding then a trainable ansatz: what VQC and BornMachine simulate."""
    circuit = AngleEmbedding().build(n_qubits).compose(RealAmplitudes(reps=1).build(n_qubits))
    return circuit, np.linspace(0.1, 1.0, circuit.n_weights)


def _run_simulate(n, X, budget):
    return simulate(ZZFeatureMap(reps=1).build(n), X, max_memory_mb=budget)


def _run_probabilities(n, X, budget):
    return simulate_probabilities(ZZFeatureMap(reps=1).build(n), X, max_memory_mb=budget)


def _run_expectations(n, X, budget):
    circuit, weights = _model_circuit(n)
    return expectations(circuit, ["Z" * n, "X" + "I" * (n - 1)], X, weights, max_memory_mb=budget)


def _run_expectation_vjp(n, X, budget):
    circuit, weights = _model_circuit(n)
    return expectation_vjp(
        circuit,
        ["Z" * n, "I" * (n - 1) + "Y"],
        X,
        weights,
        lambda E, rows: np.ones_like(E),
        max_memory_mb=budget,
    )


def _run_probability_vjp(n, X, budget):
    circuit, weights = _model_circuit(n)
    return probability_vjp(
        circuit, X, weights, lambda P, rows: np.ones_like(P), max_memory_mb=budget
    )


def _run_fidelity(n, X, budget):
    return FidelityQuantumKernel(ZZFeatureMap(reps=1), max_memory_mb=budget)(X)


def _run_fidelity_rectangle(n, X, budget):
    kernel = FidelityQuantumKernel(ZZFeatureMap(reps=1), max_memory_mb=budget)
    return kernel(X[: len(X) // 2 + 1], X)


def _run_projected(n, X, budget):
    return ProjectedQuantumKernel(ZZFeatureMap(reps=1), max_memory_mb=budget)(X)


PATHS = {
    "simulate": _run_simulate,
    "probabilities": _run_probabilities,
    "expectations": _run_expectations,
    "expectation_vjp": _run_expectation_vjp,
    "probability_vjp": _run_probability_vjp,
    "fidelity_gram": _run_fidelity,
    "fidelity_gram_rectangle": _run_fidelity_rectangle,
    "projected_gram": _run_projected,
}

# (n_qubits, n_samples, max_memory_mb): many small states, a few wide ones, and wide ones
# with a budget that barely holds one sample's working set. Each runs in about a second.
CASES = [(10, 300, 24), (14, 40, 24), (16, 12, 48), (18, 3, 64)]
WIDE = [(20, 2, 160)]


@pytest.mark.parametrize("n_qubits, n_samples, budget", CASES + WIDE)
@pytest.mark.parametrize("path", PATHS)
def test_traced_peak_within_budget(path, n_qubits, n_samples, budget):
    if (n_qubits, n_samples, budget) in WIDE and path.endswith("vjp"):
        pytest.skip("a backward sweep on 20 qubits takes several seconds")
    X = _data(n_samples, n_qubits)
    peak, result = _peak_mib(lambda: PATHS[path](n_qubits, X, budget))
    assert peak <= 1.3 * budget + 30, f"traced peak {peak:.1f} MiB for a {budget} MiB budget"
    if isinstance(result, SimulationMemoryError):
        # Refused up front: nothing large was allocated.
        assert peak < 2, f"refused after allocating {peak:.1f} MiB"


@pytest.mark.parametrize("path", PATHS)
def test_budgets_that_fit_are_used(path):
    """A generous budget runs (the accounting is not so cautious that it never runs)."""
    X = _data(6, 12)
    peak, result = _peak_mib(lambda: PATHS[path](12, X, 48))
    assert not isinstance(result, SimulationMemoryError), result
    assert peak <= 1.3 * 48 + 30


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("n_qubits, budget", [(18, 8), (24, 64), (30, 1024)])
def test_one_state_too_large_is_refused_fast(path, n_qubits, budget):
    """When even one sample cannot fit: SimulationMemoryError at once, with the advice to
    use fewer features (fewer samples at once would not help)."""
    X = _data(2, n_qubits)
    start = time.perf_counter()
    peak, result = _peak_mib(lambda: PATHS[path](n_qubits, X, budget))
    assert isinstance(result, SimulationMemoryError)
    assert time.perf_counter() - start < 2.0
    assert peak < 2, f"refused after allocating {peak:.1f} MiB"
    message = str(result)
    assert f"{n_qubits} qubits" in message
    assert "fewer features" in message and "fewer samples at once would not help" in message


def test_many_samples_advice_is_fewer_samples():
    """When one sample fits but the batch of results does not, the advice is the batch."""
    with pytest.raises(SimulationMemoryError, match="pass fewer samples at once"):
        FidelityQuantumKernel(ZZFeatureMap(reps=1), max_memory_mb=8)(_data(600, 10))
    with pytest.raises(SimulationMemoryError, match="pass fewer samples at once"):
        simulate(ZZFeatureMap(reps=1).build(10), _data(600, 10), max_memory_mb=8)


def test_plan_tables_are_counted_and_freed_with_the_circuit():
    """A compiled plan's phase tables are part of every call's budget, and the plan (with
    its tables and adjoint tape, or small-circuit program) goes away with its circuit."""
    import gc
    import weakref

    from skqml.simulator._adjoint import _TAPES
    from skqml.simulator._plan import _CACHE, compile_circuit
    from skqml.simulator._small import _PROGRAMS

    circuit = ZZFeatureMap(reps=1).build(16)
    plan = compile_circuit(circuit)
    assert plan.table_bytes > 0
    # The states and working copies of 1 sample fit 16 MiB, but not with the tables.
    one_sample = 4 * 16 * 2**16
    with pytest.raises(SimulationMemoryError):
        simulate(circuit, _data(1, 16), max_memory_mb=(one_sample + plan.table_bytes / 2) / MIB)
    simulate(circuit, _data(1, 16), max_memory_mb=(one_sample + plan.table_bytes) / MIB)
    # 10 qubits with a dense two-qubit gate: the small-circuit engine does not take it above
    # SMALL_MAX_QUBITS, so the adjoint tape is built.
    model, weights = _model_circuit(10)
    model = model.append("crx", (0, 1), 0.3)
    expectation_vjp(model, ["Z" + "I" * 9], _data(2, 10), weights, lambda E, r: np.ones_like(E))
    # 4 qubits: the small-circuit engine's compiled program.
    small, small_weights = _model_circuit(4)
    expectation_vjp(small, ["IIIZ"], _data(2, 4), small_weights, lambda E, r: np.ones_like(E))
    plan_ref = weakref.ref(plan)
    n_plans, n_tapes, n_programs = len(_CACHE), len(_TAPES), len(_PROGRAMS)
    del circuit, plan, model, small
    gc.collect()
    assert plan_ref() is None
    assert len(_CACHE) < n_plans and len(_TAPES) < n_tapes and len(_PROGRAMS) < n_programs


def test_chunk_advice_names_the_real_cause():
    """Rows of states: the width is blamed only when one row alone is too large; when what
    the call holds beside the rows is the problem, the caller's hint is given."""
    from skqml.simulator._memory import rows_per_chunk

    mib = 1024**2
    with pytest.raises(SimulationMemoryError, match="pass fewer samples") as held:
        rows_per_chunk(
            mib, 4, what="x", n_qubits=12, fixed_bytes=4 * mib, hint="pass fewer samples"
        )
    assert "would not help" not in str(held.value)
    with pytest.raises(SimulationMemoryError, match="would not help"):
        rows_per_chunk(8 * mib, 4, what="x", n_qubits=12, hint="pass fewer samples")
    with pytest.raises(SimulationMemoryError, match="would not help"):
        rows_per_chunk(mib, 4, what="x", n_qubits=12, fixed_bytes=4 * mib)
