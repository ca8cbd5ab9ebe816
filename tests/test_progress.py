"""Progress reporting (``verbose``) of Gram matrices, and the shared reporter behind it."""

from __future__ import annotations

import re

import joblib
import numpy as np
import pytest
from sklearn.utils._param_validation import InvalidParameterError

from skqml._progress import ProgressReporter, format_seconds
from skqml.backends import ShotsBackend
from skqml.circuits import AngleEmbedding, ZZFeatureMap
from skqml.kernels import FidelityQuantumKernel, ProjectedQuantumKernel
from skqml.kernels._gram import gram_matrix
from skqml.svm import QSVC, QSVR

LINE = re.compile(
    r"^\[(?P<name>\w+)\] (?P<done>\d+)/(?P<total>\d+) blocks \((?P<pct>\d+)%\) \| "
    r"\S+ entries/s \| elapsed \S+ \| left \S+$"
)


def _data(n, d=2, seed=0):
    return np.random.default_rng(seed).uniform(0, np.pi, size=(n, d))


def _progress_lines(out: str) -> list[re.Match]:
    return [m for m in map(LINE.match, out.splitlines()) if m]


# -- the reporter -------------------------------------------------------------------------------
@pytest.mark.parametrize(("verbose", "max_lines"), [(1, 10), (2, 20), (5, 20)])
def test_reporter_prints_a_bounded_number_of_lines(capsys, verbose, max_lines):
    progress = ProgressReporter(5000, verbose, "Test", unit="steps")
    for _ in range(5000):
        progress.update()
    lines = capsys.readouterr().out.splitlines()
    assert max_lines - 1 <= len(lines) <= max_lines
    assert lines[-1].startswith("[Test] 5000/5000 steps (100%)")
    assert all("steps/s" in line and "elapsed" in line and "left" in line for line in lines)


def test_reporter_silent_at_zero(capsys):
    progress = ProgressReporter(10, 0, "Test")
    for _ in range(10):
        progress.update(work=3.0)
    progress.message("hello")
    assert capsys.readouterr().out == ""


def test_reporter_weights_steps_by_work(capsys):
    # One big step then many small ones: the percentage follows the work, not the steps.
    progress = ProgressReporter(11, 1, "Test", total_work=200.0)
    progress.update(work=100.0)
    first = capsys.readouterr().out
    assert "1/11 blocks (50%)" in first
    for _ in range(10):
        progress.update(work=10.0)
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1].startswith("[Test] 11/11 blocks (100%)")
    assert len(lines) <= 5


def test_reporter_single_step_prints_once(capsys):
    progress = ProgressReporter(1, 1, "Test")
    progress.update()
    assert len(capsys.readouterr().out.splitlines()) == 1


def test_format_seconds():
    assert format_seconds(0.004) == "0.00s"
    assert format_seconds(59.94) == "59.9s"
    assert format_seconds(3599.0) == "59m59s"
    assert format_seconds(float("inf")) == "?"


# -- Gram matrices ------------------------------------------------------------------------------
def test_gram_matrix_progress_is_throttled(capsys):
    A = np.arange(300.0)[:, None]
    K = gram_matrix(lambda a, b: np.zeros((len(a), len(a if b is None else b))), A, A[:250],
                    block_rows=2, verbose=1, name="Toy")  # fmt: skip
    assert K.shape == (300, 250)
    lines = _progress_lines(capsys.readouterr().out)
    # 150 x 125 = 18,750 blocks, about ten lines.
    assert 9 <= len(lines) <= 10
    assert lines[-1]["done"] == lines[-1]["total"] == "18750"
    assert [int(m["pct"]) for m in lines] == sorted(int(m["pct"]) for m in lines)


@pytest.mark.parametrize(
    "make_kernel",
    [
        lambda v, j: FidelityQuantumKernel(ZZFeatureMap(reps=1), verbose=v, n_jobs=j),
        lambda v, j: ProjectedQuantumKernel(AngleEmbedding(), gamma="scale", verbose=v, n_jobs=j),
        lambda v, j: FidelityQuantumKernel(
            ZZFeatureMap(reps=1), backend=ShotsBackend(shots=200, seed=0), verbose=v, n_jobs=j
        ),
    ],
    ids=["fidelity", "projected", "fidelity-shots"],
)
def test_kernel_verbose_prints_and_changes_nothing(capsys, make_kernel):
    X, Y = _data(40), _data(7, seed=1)
    quiet = make_kernel(0, None)
    # Small blocks make several of them (block sizes follow the memory budget only).
    quiet.max_memory_mb = 0.05
    K, K_xy = quiet(X), quiet(Y, X)
    assert capsys.readouterr().out == ""
    for n_jobs in (None, 2):
        loud = make_kernel(1, n_jobs)
        loud.max_memory_mb = 0.05
        # Threads: the same joblib generator path without the workers' start-up time.
        with joblib.parallel_config(backend="threading"):
            K_loud, K_xy_loud = loud(X), loud(Y, X)
        out = capsys.readouterr().out
        name = type(loud).__name__
        lines = _progress_lines(out)
        assert lines and all(m["name"] == name for m in lines)
        assert any(m["done"] == m["total"] and m["pct"] == "100" for m in lines)
        assert f"[{name}] embedded 40 samples" in out
        assert "Gram matrix 40 x 40" in out and "Gram matrix 7 x 40" in out
        np.testing.assert_array_equal(K_loud, K)
        np.testing.assert_array_equal(K_xy_loud, K_xy)


def test_verbose_is_a_parameter_and_default_is_silent():
    kernel = FidelityQuantumKernel()
    assert kernel.get_params()["verbose"] == 0
    assert repr(FidelityQuantumKernel(verbose=1)) == "FidelityQuantumKernel(verbose=1)"
    assert repr(QSVC(verbose=2)) == "QSVC(verbose=2)"


@pytest.mark.parametrize("verbose", [-1, 1.5, "yes"])
@pytest.mark.parametrize("cls", [FidelityQuantumKernel, ProjectedQuantumKernel])
def test_kernel_rejects_bad_verbose(cls, verbose):
    with pytest.raises(InvalidParameterError, match="verbose"):
        cls(verbose=verbose)(_data(3))


@pytest.mark.parametrize("cls", [QSVC, QSVR])
def test_svm_rejects_negative_verbose(cls):
    with pytest.raises(InvalidParameterError, match="verbose"):
        cls(verbose=-1).fit(_data(6), [0, 1] * 3)


@pytest.mark.parametrize("kernel", ["fidelity", "projected"])
def test_qsvc_passes_verbose_to_its_kernel(capsys, kernel):
    X, y = _data(20), np.arange(20) % 2
    quiet = QSVC(kernel=kernel).fit(X, y)
    assert capsys.readouterr().out == ""
    loud = QSVC(kernel=kernel, verbose=1).fit(X, y)
    assert loud.kernel_.verbose == 1
    fit_out = capsys.readouterr().out
    assert "Gram matrix 20 x 20" in fit_out and _progress_lines(fit_out)
    np.testing.assert_array_equal(loud.decision_function(X), quiet.decision_function(X))
    assert "Gram matrix 20 x" in capsys.readouterr().out  # against the support vectors


def test_qsvc_verbose_reaches_a_kernel_object(capsys):
    X, y = _data(12), np.arange(12) % 2
    model = QSVC(kernel=FidelityQuantumKernel(ZZFeatureMap(reps=1)), verbose=1).fit(X, y)
    assert model.kernel_.verbose == 1
    assert model.kernel.verbose == 0  # the parameter is not modified
    assert _progress_lines(capsys.readouterr().out)
