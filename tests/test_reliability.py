"""Reliability suite: every public estimator and kernel against bad data, bad hyperparameters,
wide inputs, interrupted and failing fits, and memory budgets.

Each case asserts the outcome a user must get: a clear error of the right type (never a raw
NumPy/SciPy traceback, an AttributeError from a half-fitted model, a hang or a budget
overrun), or a correct result. After any failed fit, a fresh estimator is unfitted and a
fitted one keeps its previous model.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import textwrap
import tracemalloc

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from skqml.backends import StatevectorBackend
from skqml.boltzmann import BornMachine, QBMClassifier, QuantumBoltzmannMachine
from skqml.kernels import FidelityQuantumKernel, ProjectedQuantumKernel
from skqml.simulator import SimulationMemoryError, _small
from skqml.svm import QSVC, QSVR
from skqml.variational import VQC, VQR, DataReuploadingClassifier

# Small, fast configurations of every public estimator, and the data each one models.
ESTIMATORS = {
    "QSVC": (lambda: QSVC(), "classification"),
    "QSVC-projected": (lambda: QSVC(kernel="projected"), "classification"),
    "QSVR": (lambda: QSVR(), "regression"),
    "VQC": (lambda: VQC(max_iter=3, random_state=0), "classification"),
    "VQR": (lambda: VQR(max_iter=3, random_state=0), "regression"),
    "DataReuploadingClassifier": (
        lambda: DataReuploadingClassifier(n_layers=1, max_iter=3, random_state=0),
        "classification",
    ),
    "QuantumBoltzmannMachine": (
        lambda: QuantumBoltzmannMachine(max_iter=3, random_state=0),
        "bits",
    ),
    "QBMClassifier": (lambda: QBMClassifier(max_iter=3, random_state=0), "classification"),
    "BornMachine": (lambda: BornMachine(max_iter=3, random_state=0), "bits"),
}
NAMES = list(ESTIMATORS)
SKQML_NAMES = {"QSVC", "QSVR", "VQC", "VQR", "DataReuploadingClassifier", "BornMachine"}

# Phrases of errors raised from deep inside NumPy/SciPy/sklearn internals, which name
# nothing the user passed.
RAW_ERRORS = (
    "could not be broadcast",
    "index out of bounds",
    "Unable to allocate",
    "not aligned",
    "has no attribute",
    "object of type",
    "unsupported operand",
    "cannot reshape",
    "must be real number, not",
)


def make_data(kind: str, n_samples: int = 12, n_features: int = 2, seed: int = 0):
    rng = np.random.default_rng(seed)
    if kind == "bits":
        return rng.integers(0, 2, size=(n_samples, n_features)).astype(float), None
    X = rng.uniform(-1, 1, size=(n_samples, n_features))
    if kind == "regression":
        return X, X.sum(axis=1)
    return X, (np.arange(n_samples) % 2)


def fit(est, kind, X, y):
    return est.fit(X) if kind == "bits" else est.fit(X, y)


def outputs(est, kind, X):
    """What a fitted model answers; compared before and after a failed refit."""
    if kind == "bits":
        return est.score_samples(X)
    return est.predict(X)


def assert_clear(exc: BaseException, types=(ValueError, TypeError), case: str = "") -> None:
    assert isinstance(exc, types), f"{case}: {type(exc).__name__}: {exc}"
    message = str(exc)
    assert message, f"{type(exc).__name__} without a message"
    for raw in RAW_ERRORS:
        assert raw not in message, f"raw error leaked to the user: {message}"


def assert_unfitted(est) -> None:
    with pytest.raises(NotFittedError):
        check_is_fitted(est)
    fitted = [k for k in vars(est) if k.endswith("_") and not k.startswith("__")]
    assert not fitted, f"fitted attributes left after a failed fit: {fitted}"


def assert_names_itself(est, exc: BaseException) -> None:
    """A message that names an estimator names the one the user called."""
    mine = type(est).__name__
    others = {n for n in SKQML_NAMES if n != mine and n not in mine}
    for other in others:
        assert f"{other} " not in f"{exc} " or mine in str(exc), f"{mine} said: {exc}"


# --------------------------------------------------------------------------------------------
# Bad data
# --------------------------------------------------------------------------------------------
def _bad_inputs(kind):
    X, y = make_data(kind)
    cases = {
        "nan": (np.where(np.eye(*X.shape, dtype=bool), np.nan, X), y),
        "inf": (np.where(np.eye(*X.shape, dtype=bool), np.inf, X), y),
        "empty": (X[:0], None if y is None else y[:0]),
        "1d": (X[:, 0], y),
        "3d": (X[:, :, None], y),
        "strings": (np.full(X.shape, "a", dtype=object), y),
        "complex": (X + 1j, y),
    }
    if y is not None:
        cases["y_length"] = (X, y[:-1])
        cases["y_nan"] = (X, np.where(np.arange(len(y)) == 0, np.nan, y))
    if kind == "classification":
        cases["one_class"] = (X, np.zeros(len(y), dtype=int))
    if kind == "bits":
        cases["not_binary"] = (X + 0.5, None)
    return cases


@pytest.mark.parametrize("name", NAMES)
def test_bad_data_gives_clear_error_and_leaves_estimator_unfitted(name):
    factory, kind = ESTIMATORS[name]
    for case, (X, y) in _bad_inputs(kind).items():
        est = factory()
        with pytest.raises(Exception) as info:
            fit(est, kind, X, y)
        assert_clear(info.value, case=case)
        assert_names_itself(est, info.value)
        assert_unfitted(est)


@pytest.mark.parametrize("name", NAMES)
def test_predict_checks_fitted_and_width(name):
    factory, kind = ESTIMATORS[name]
    X, y = make_data(kind)
    est = factory()
    with pytest.raises(NotFittedError):
        outputs(est, kind, X)
    fit(est, kind, X, y)
    with pytest.raises(ValueError) as info:
        outputs(est, kind, np.hstack([X, X]))
    assert_clear(info.value)


@pytest.mark.parametrize("name", [n for n in NAMES if ESTIMATORS[n][1] != "bits"])
def test_huge_finite_features_give_finite_results_or_a_clear_error(name):
    factory, kind = ESTIMATORS[name]
    X, y = make_data(kind)
    X = X.copy()
    X[0, 1] = 1e155
    est = factory()
    try:
        fit(est, kind, X, y)
    except ValueError as exc:
        assert_clear(exc)
        assert "overflow" in str(exc) or "too large" in str(exc), str(exc)
        assert "NaN" not in str(exc), f"the user's X holds no NaN: {exc}"
        assert_unfitted(est)
        return
    assert np.all(np.isfinite(np.asarray(outputs(est, kind, X), dtype=float)))


@pytest.mark.parametrize(
    "kernel", [FidelityQuantumKernel(), ProjectedQuantumKernel()], ids=["fidelity", "projected"]
)
def test_kernels_on_huge_features_are_finite_or_refused(kernel):
    X = np.array([[0.1, 0.2], [1e155, 0.3], [0.4, -1e200]])
    try:
        K = kernel(X)
    except ValueError as exc:
        assert_clear(exc)
        assert "overflow" in str(exc) or "too large" in str(exc), str(exc)
        return
    assert np.all(np.isfinite(K))
    np.testing.assert_allclose(np.diag(K), 1.0, atol=1e-12)


# --------------------------------------------------------------------------------------------
# Bad hyperparameters, NumPy scalars, n_jobs, the memory budget's environment variable
# --------------------------------------------------------------------------------------------
BAD_VALUES = {
    "max_memory_mb": [-1, 0, float("nan"), "abc"],
    "n_jobs": [0, 1.5, "two"],
    "max_iter": [-5, 1.5, "many"],
    "learning_rate": [-1.0, 0.0, "fast"],
    "tol": [-1.0, "tight"],
    "n_iter_no_change": [0, 2.5],
    "C": [0.0, -1.0, "big"],
    "bandwidth": [0.0, -1.0],
    "n_layers": [-1, 1.5],
    "backend": ["no-such-backend", 3],
    "random_state": ["seed", 1.5],
    "batch_size": [0, 2.5],
}


@pytest.mark.parametrize("name", NAMES)
def test_bad_hyperparameters_are_refused_before_any_work(name):
    factory, kind = ESTIMATORS[name]
    X, y = make_data(kind)
    params = factory().get_params()
    tried = 0
    for param, values in BAD_VALUES.items():
        if param not in params:
            continue
        for value in values:
            est = factory().set_params(**{param: value})
            with pytest.raises((ValueError, TypeError)) as info:
                fit(est, kind, X, y)
            assert_clear(info.value)
            assert param in str(info.value), f"{param}={value!r}: {info.value}"
            assert_unfitted(est)
            tried += 1
    assert tried >= 5


def _numpy_scalar(value):
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return np.int64(value)
    if isinstance(value, float):
        return np.float64(value)
    return value


@pytest.mark.parametrize("name", NAMES)
def test_numpy_scalars_are_accepted_for_every_numeric_hyperparameter(name):
    factory, kind = ESTIMATORS[name]
    X, y = make_data(kind)
    reference = factory()
    numeric = {
        k: _numpy_scalar(v)
        for k, v in reference.get_params(deep=False).items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }
    numeric["max_memory_mb"] = np.int64(500)
    est = clone(reference).set_params(**numeric)
    fit(est, kind, X, y)
    fit(reference.set_params(max_memory_mb=500), kind, X, y)
    np.testing.assert_array_equal(outputs(est, kind, X), outputs(reference, kind, X))


@pytest.mark.parametrize("name", [n for n in NAMES if "n_jobs" in ESTIMATORS[n][0]().get_params()])
@pytest.mark.parametrize("n_samples", [4, 300])
def test_n_jobs_zero_is_refused_whatever_the_data_size(name, n_samples):
    factory, kind = ESTIMATORS[name]
    X, y = make_data(kind, n_samples=n_samples)
    est = factory().set_params(n_jobs=0)
    with pytest.raises(ValueError, match="n_jobs"):
        fit(est, kind, X, y)


@pytest.mark.parametrize("value", ["abc", "nan", "-5", "0"])
def test_bad_memory_environment_variable_names_the_variable(value, monkeypatch):
    monkeypatch.setenv("SKQML_MAX_MEMORY_MB", value)
    X, y = make_data("classification")
    est = QSVC()
    with pytest.raises(ValueError, match="SKQML_MAX_MEMORY_MB") as info:
        est.fit(X, y)
    assert repr(value) in str(info.value)
    assert_unfitted(est)


def test_default_budget_respects_the_address_space_limit(monkeypatch):
    """Under ``ulimit -v`` the default budget is half of what is left of it, so the guard
    refuses what the limit would turn into a raw MemoryError."""
    import resource

    from skqml.simulator import default_max_memory_mb
    from skqml.simulator._memory import _address_space_in_use

    monkeypatch.delenv("SKQML_MAX_MEMORY_MB", raising=False)
    limit = _address_space_in_use() + 1024**3  # 1 GiB left under the limit
    monkeypatch.setattr(resource, "getrlimit", lambda what: (limit, resource.RLIM_INFINITY))
    assert 256 <= default_max_memory_mb() <= 512 + 1  # half of what is left (MiB)


@pytest.mark.parametrize(
    "name",
    [n for n in NAMES if not n.startswith("QSV")],  # libsvm's max_iter warns itself
)
def test_convergence_warning_points_at_the_users_line(name):
    """Whatever wrappers and helpers lie between, the warning names the line that called fit
    (each estimator reaches the warning through a different depth of calls)."""
    from sklearn.exceptions import ConvergenceWarning

    factory, kind = ESTIMATORS[name]
    X, y = make_data(kind)
    est = factory().set_params(max_iter=1)
    with pytest.warns(ConvergenceWarning) as record:
        est.fit(X) if kind == "bits" else est.fit(X, y)
    assert {r.filename for r in record if r.category is ConvergenceWarning} == {__file__}


# --------------------------------------------------------------------------------------------
# Interrupted and failing fits: atomic, whatever the point of failure
# --------------------------------------------------------------------------------------------
class _Injected(Exception):
    """The user's own exception, raised from inside a fit (as an alarm handler would)."""


def _run_interrupted(call, after_lines: int, exc_type):
    """Run ``call`` and raise ``exc_type`` at its ``after_lines``-th line of skqml code.

    A trace function that raises makes the exception appear in the traced frame, exactly
    where the interrupt lands: anywhere in skqml, except in the atomic-fit wrapper itself.
    """
    count = 0

    def local(frame, event, arg):
        nonlocal count
        if event == "line":
            count += 1
            if count == after_lines:
                raise exc_type(f"injected after {after_lines} lines")
        return local

    def calls(frame, event, arg):
        path = frame.f_code.co_filename.replace(os.sep, "/")
        if "/skqml/" in path and not path.endswith("/_estimator.py"):
            return local
        return None

    sys.settrace(calls)
    try:
        call()
        return True
    except exc_type:
        return False
    finally:
        sys.settrace(None)


@pytest.mark.parametrize("exc_type", [KeyboardInterrupt, _Injected, SimulationMemoryError])
@pytest.mark.parametrize("name", NAMES)
def test_interrupted_fit_of_a_fresh_estimator_leaves_it_unfitted(name, exc_type):
    factory, kind = ESTIMATORS[name]
    X, y = make_data(kind)
    if exc_type is SimulationMemoryError:
        exc_type = _InjectedMemoryError
    for after in (1, 5, 30, 150, 600):
        est = factory()
        params = est.get_params(deep=False)
        if _run_interrupted(lambda est=est: fit(est, kind, X, y), after, exc_type):
            break  # the fit ended before the interrupt
        assert_unfitted(est)
        assert set(vars(est)) == set(params)


class _InjectedMemoryError(SimulationMemoryError):
    """A memory refusal raised at an arbitrary point, as a backend's own guard would."""

    def __init__(self, what):
        super().__init__(what, 2.0, 1.0)


@pytest.mark.parametrize("exc_type", [KeyboardInterrupt, _Injected])
@pytest.mark.parametrize("name", NAMES)
def test_interrupted_refit_keeps_the_previous_model(name, exc_type):
    factory, kind = ESTIMATORS[name]
    X, y = make_data(kind)
    X2, y2 = make_data(kind, seed=1)
    est = fit(factory(), kind, X, y)
    if "warm_start" in est.get_params():
        est.set_params(warm_start=True)
    before_state = dict(vars(est))
    before_bytes = pickle.dumps(est)  # also sees in-place changes of the fitted objects
    before = outputs(est, kind, X)
    for after in (1, 5, 30, 150, 600):
        if _run_interrupted(lambda: fit(est, kind, X2, y2), after, exc_type):
            break
        assert set(vars(est)) == set(before_state)
        for key, value in before_state.items():
            assert vars(est)[key] is value, f"{key} changed by a failed fit"
        assert pickle.dumps(est) == before_bytes, "a failed fit changed the fitted objects"
        np.testing.assert_array_equal(outputs(est, kind, X), before)


class _FailingBackend(StatevectorBackend):
    """Exact numbers for ``fail_after`` calls, then a permanent backend failure.

    Not ``exact``: estimators talk to it through its methods (as to a device), rather than
    to the simulator directly.
    """

    exact = False

    def __init__(self, fail_after=0):
        self.fail_after = fail_after

    def _tick(self):
        calls = self.__dict__.setdefault("_calls", [0])
        calls[0] += 1
        if calls[0] > self.fail_after:
            raise ConnectionError("device went offline")

    def statevectors(self, *args, **kwargs):
        self._tick()
        return super().statevectors(*args, **kwargs)

    def expectations(self, *args, **kwargs):
        self._tick()
        return super().expectations(*args, **kwargs)

    def probabilities(self, *args, **kwargs):
        self._tick()
        return super().probabilities(*args, **kwargs)

    def overlaps(self, *args, **kwargs):
        self._tick()
        return super().overlaps(*args, **kwargs)

    def paired_overlaps(self, *args, **kwargs):
        self._tick()
        return super().paired_overlaps(*args, **kwargs)


@pytest.mark.parametrize(
    "name", [n for n in NAMES if "backend" in ESTIMATORS[n][0]().get_params(deep=False)]
)
def test_backend_failure_propagates_and_leaves_estimator_unfitted(name):
    factory, kind = ESTIMATORS[name]
    X, y = make_data(kind)
    est = factory().set_params(backend=_FailingBackend())
    with pytest.raises(ConnectionError, match="offline"):
        fit(est, kind, X, y)
    assert_unfitted(est)


# --------------------------------------------------------------------------------------------
# Wide inputs under a hard address-space limit, and the memory budget
# --------------------------------------------------------------------------------------------
_WIDE_SCRIPT = textwrap.dedent(
    """
    import json, resource, sys, time
    import numpy as np
    resource.setrlimit(resource.RLIMIT_AS, (3 * 1024**3, 3 * 1024**3))
    sys.path.insert(0, {tests!r})
    from test_reliability import ESTIMATORS, fit, make_data
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted
    results = []
    for name, (factory, kind) in ESTIMATORS.items():
        for n_features, budget in ((24, 500), (30, None), (40, None)):
            X, y = make_data(kind, n_samples=6, n_features=n_features)
            est = factory().set_params(max_memory_mb=budget)
            start = time.perf_counter()
            try:
                fit(est, kind, X, y)
                outcome, message = "fitted", ""
            except BaseException as exc:
                outcome, message = type(exc).__name__, str(exc)
            try:
                check_is_fitted(est)
                fitted = True
            except NotFittedError:
                fitted = False
            results.append(dict(name=name, n_features=n_features, outcome=outcome,
                                message=message, fitted=fitted,
                                seconds=time.perf_counter() - start))
    print(json.dumps(results))
    """
)


@pytest.fixture(scope="module")
def wide_results():
    tests = os.path.dirname(os.path.abspath(__file__))
    proc = subprocess.run(
        [sys.executable, "-c", _WIDE_SCRIPT.format(tests=tests)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name", NAMES)
def test_wide_inputs_are_refused_up_front_under_an_address_space_limit(name, wide_results):
    rows = [r for r in wide_results if r["name"] == name]
    assert len(rows) == 3
    for row in rows:
        # Either the model's width does not grow with the features (QBMClassifier's qubits
        # do not) and it fits, or the guard refuses up front, fast, leaving nothing fitted;
        # never a raw MemoryError under the address-space limit.
        assert row["outcome"] in ("fitted", "SimulationMemoryError", "ValueError"), row
        assert row["fitted"] == (row["outcome"] == "fitted"), row
        assert row["seconds"] < 20, row
        if row["outcome"] == "SimulationMemoryError" and row["n_features"] >= 30:
            # One state alone is 16 GiB or more: the advice is about the width.
            assert "fewer features" in row["message"], row


# (n_features, n_samples) of a fit whose states are large beside everything else.
BUDGET_CASES = {
    "QSVC": (16, 12),
    "QSVC-projected": (14, 24),
    "QSVR": (16, 12),
    "VQC": (14, 24),
    "VQR": (14, 24),
    "DataReuploadingClassifier": (36, 24),  # 12 qubits, 3 features per qubit
    "QuantumBoltzmannMachine": (10, 24),  # dense 2**10 x 2**10 Gibbs states
    "QBMClassifier": (16, 24),
    "BornMachine": (16, 24),
}
# tracemalloc counts only what is allocated after it starts: a few MiB of Python objects.
SLACK_MB = 2.0


def _traced_fit(est, kind, X, y):
    """Fit; return the traced peak in MiB and the SimulationMemoryError raised, if any."""
    tracemalloc.start()
    try:
        fit(est, kind, X, y)
        refusal = None
    except SimulationMemoryError as exc:
        refusal = exc
    finally:
        peak = tracemalloc.get_traced_memory()[1] / 1024**2
        tracemalloc.stop()
    return peak, refusal


@pytest.mark.parametrize("name", NAMES)
def test_the_memory_guard_is_honest_and_kept(name):
    """What the guard says a fit needs is what it needs: half of it is refused before any
    large allocation, a little more fits, and the fit then keeps its budget (traced peak at
    most 1.3 * max_memory_mb plus the tracer's slack)."""
    factory, kind = ESTIMATORS[name]
    n_features, n_samples = BUDGET_CASES[name]
    X, y = make_data(kind, n_samples=n_samples, n_features=n_features)
    with pytest.raises(SimulationMemoryError) as tiny:
        fit(factory().set_params(max_memory_mb=1e-3), kind, X, y)
    needed = tiny.value.required_mb

    peak, refusal = _traced_fit(factory().set_params(max_memory_mb=needed / 2), kind, X, y)
    assert refusal is not None, f"half of the stated need ({needed:.3g} MiB) was accepted"
    assert peak <= SLACK_MB, f"refused after allocating {peak:.1f} MiB"

    budget = 1.05 * needed
    peak, refusal = _traced_fit(factory().set_params(max_memory_mb=budget), kind, X, y)
    assert refusal is None, f"stated need {needed:.3g} MiB, then: {refusal}"
    assert peak <= 1.3 * budget + SLACK_MB, f"peak {peak:.1f} MiB, budget {budget:.1f}"


@pytest.mark.parametrize("name", ["VQC", "VQR", "DataReuploadingClassifier", "QSVC-projected"])
def test_fits_chunk_to_keep_a_budget_far_below_their_unbounded_peak(name, monkeypatch):
    """The budget test bites: without a limit these fits peak far above the bound.

    On the general path: the compiled sweeps of the small-circuit engine hold one state per
    sample and keep their work arrays between fits, so with them an unbounded fit peaks
    within a few states of the bound, by an amount that depends on what ran before (their
    own budget is kept in test_the_memory_guard_is_honest_and_kept and
    tests/test_small_circuit.py)."""
    monkeypatch.setattr(_small, "USE_COMPILED", False)
    factory, kind = ESTIMATORS[name]
    n_features, n_samples = BUDGET_CASES[name]
    X, y = make_data(kind, n_samples=n_samples, n_features=n_features)
    with pytest.raises(SimulationMemoryError) as tiny:
        fit(factory().set_params(max_memory_mb=1e-3), kind, X, y)
    budget = 1.2 * tiny.value.required_mb  # room for a sample or two at a time
    unbounded, _ = _traced_fit(factory().set_params(max_memory_mb=float("inf")), kind, X, y)
    assert unbounded > 1.5 * (1.3 * budget + SLACK_MB), f"unbounded peak {unbounded:.1f} MiB"
    peak, refusal = _traced_fit(factory().set_params(max_memory_mb=budget), kind, X, y)
    assert refusal is None, str(refusal)
    assert peak <= 1.3 * budget + SLACK_MB, f"peak {peak:.1f} MiB"


# --------------------------------------------------------------------------------------------
# Kernels: the same contract when called directly (SVC(kernel=...), KernelRidge, ...)
# --------------------------------------------------------------------------------------------
KERNELS = {
    "fidelity": FidelityQuantumKernel,
    "projected": ProjectedQuantumKernel,
}


@pytest.mark.parametrize("name", list(KERNELS))
def test_kernels_refuse_bad_data_and_bad_hyperparameters_clearly(name):
    make = KERNELS[name]
    X, _ = make_data("classification")
    for case, (bad, _) in _bad_inputs("classification").items():
        if case.startswith("y_") or case == "one_class":
            continue
        with pytest.raises((ValueError, TypeError)) as info:
            make()(bad)
        assert_clear(info.value)
    for param, values in BAD_VALUES.items():
        if param not in make().get_params():
            continue
        for value in values:
            with pytest.raises((ValueError, TypeError)) as info:
                make(**{param: value})(X)
            assert param in str(info.value), f"{param}={value!r}: {info.value}"
    with pytest.raises(ValueError) as info:
        make()(X, np.hstack([X, X]))
    assert_clear(info.value)


def test_kernel_keeps_its_memory_budget_on_wide_features():
    """The case that once peaked at 557 MiB with a 20 MiB budget: ZZ map, 18 features, 5
    samples (20 MiB of states, which the budget must hold with the rest of the work)."""
    from skqml.circuits import ZZFeatureMap

    X, _ = make_data("classification", n_samples=5, n_features=18)
    budget = 40
    kernel = FidelityQuantumKernel(ZZFeatureMap(reps=1), max_memory_mb=budget)
    tracemalloc.start()
    try:
        K = kernel(X)
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak / 1024**2 <= 1.3 * budget + 30, f"peak {peak / 1024**2:.1f} MiB"
    np.testing.assert_allclose(np.diag(K), 1.0, atol=1e-12)
