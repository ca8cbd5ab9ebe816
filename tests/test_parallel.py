"""skqml's one parallel policy (skqml._parallel) and results that do not depend on n_jobs."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from joblib import parallel_config
from threadpoolctl import threadpool_info

from skqml._parallel import map_blocks, n_workers
from skqml.circuits import AngleEmbedding, ZZFeatureMap
from skqml.kernels import FidelityQuantumKernel, ProjectedQuantumKernel


def _blas_threads() -> list[int]:
    return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]


def _probe(i):
    return i, threading.get_ident(), _blas_threads()


@pytest.mark.parametrize("n_jobs", [None, 1, 2])
def test_map_blocks_order_threads_and_blas_limit(n_jobs):
    before = _blas_threads()
    results = map_blocks(_probe, [(i,) for i in range(6)], n_jobs)
    assert [r[0] for r in results] == list(range(6))
    # Blocks on states: BLAS on one thread inside every block, whatever n_jobs ...
    assert all(threads == [1] * len(before) for _, _, threads in results)
    # ... and as configured again afterwards.
    assert _blas_threads() == before
    if n_jobs in (None, 1):  # one worker: this very thread
        assert {r[1] for r in results} == {threading.get_ident()}


def test_map_blocks_lazy_and_processes():
    lazy = map_blocks(_probe, [(i,) for i in range(3)], 2, lazy=True)
    assert not isinstance(lazy, list)
    assert [r[0] for r in lazy] == [0, 1, 2]
    # Backend work runs in processes without a limit set here.
    in_processes = map_blocks(_probe, [(i,) for i in range(3)], 2, threads=False)
    assert [r[0] for r in in_processes] == [0, 1, 2]
    assert n_workers(None, 5) == 1 and n_workers(-1, 1) == 1 and n_workers(8, 3) == 3


@pytest.mark.parametrize(
    ("kernel", "n_features"),
    [
        (FidelityQuantumKernel(AngleEmbedding(), bandwidth=0.7), 4),  # real-form blocks
        (FidelityQuantumKernel(ZZFeatureMap(reps=2), bandwidth=0.3), 6),  # zherk / zgemm
        (ProjectedQuantumKernel(ZZFeatureMap(reps=1), bandwidth=0.3), 5),
    ],
    ids=["fidelity-4", "fidelity-6", "projected-5"],
)
def test_gram_identical_for_every_n_jobs_and_joblib_backend(kernel, n_features):
    # 1100 samples: five Gram row blocks and five simulation blocks run in parallel.
    rng = np.random.default_rng(0)
    X, Y = rng.uniform(-1, 1, (1100, n_features)), rng.uniform(-1, 1, (300, n_features))
    reference = kernel.set_params(n_jobs=1)(X)
    cross = kernel(Y, X)
    for n_jobs in (None, 2, -1):
        kernel.set_params(n_jobs=n_jobs)
        np.testing.assert_array_equal(kernel(X), reference)
        np.testing.assert_array_equal(kernel(Y, X), cross)
    with parallel_config(backend="loky"):  # a user's choice of processes is kept
        np.testing.assert_array_equal(kernel.set_params(n_jobs=2)(X), reference)
    assert np.allclose(reference, reference.T) and np.allclose(np.diag(reference), 1.0)


@pytest.mark.parametrize("model", ["VQC", "VQR", "DataReuploadingClassifier"])
def test_variational_fit_identical_for_every_n_jobs(model, monkeypatch):
    import skqml.variational._models as models
    from skqml import variational

    assert models._gradient_block_rows(14) == 32 and models._gradient_block_rows(4) == 2**15
    # Blocks of 8 rows on 3 qubits: 40 samples make 5 blocks, cheaply.
    monkeypatch.setattr(models, "_GRADIENT_BLOCK_AMPLITUDES", 64)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 3))
    y = X[:, 0] * X[:, 1] if model == "VQR" else (X[:, 0] * X[:, 1] > 0).astype(int)
    Estimator = getattr(variational, model)
    fits = [Estimator(max_iter=4, random_state=0, n_jobs=n).fit(X, y) for n in (None, 2, -1)]
    for other in fits[1:]:
        np.testing.assert_array_equal(other.weights_, fits[0].weights_)
        assert other.loss_curve_ == fits[0].loss_curve_
    # The blocks change the order of a sum only: the same model as one block, to rounding.
    monkeypatch.setattr(models, "_GRADIENT_BLOCK_AMPLITUDES", 2**19)
    whole = Estimator(max_iter=4, random_state=0).fit(X, y)
    np.testing.assert_allclose(whole.weights_, fits[0].weights_, rtol=1e-8, atol=1e-10)


def test_blas_limit_is_looked_up_once_and_again_after_new_imports(monkeypatch):
    """The BLAS libraries are found once (a lookup reads the memory map, ~7 ms), and again
    when modules were imported since, which may have loaded another BLAS."""
    import sys
    import types

    from threadpoolctl import threadpool_info

    import skqml._parallel as parallel

    with parallel.single_blas_thread():
        pass
    first = parallel._CONTROLLER[1]
    with parallel.single_blas_thread():
        assert all(i["num_threads"] == 1 for i in threadpool_info() if i["user_api"] == "blas")
    assert parallel._CONTROLLER[1] is first
    monkeypatch.setitem(sys.modules, "_skqml_test_new_import", types.ModuleType("new"))
    with parallel.single_blas_thread():
        pass
    assert parallel._CONTROLLER[1] is not first
