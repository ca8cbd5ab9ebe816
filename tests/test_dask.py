"""Scale-out through joblib's dask backend, on a real dask.distributed LocalCluster.

Everything in skqml that loops over blocks (Gram-matrix blocks, overlap tiles, state
simulations) goes through joblib, and blocks are fixed by size, never by the number of
workers. So under ``joblib.parallel_config(backend="dask")`` the work runs on the cluster's
workers and the numbers are bit-for-bit those of ``n_jobs=1``. The task stream proves that
the work did go to the workers.
"""

from __future__ import annotations

import numpy as np
import pytest
from joblib import parallel_config
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from skqml.backends import ShotsBackend
from skqml.circuits import ZZFeatureMap
from skqml.datasets import make_ad_hoc
from skqml.kernels import FidelityQuantumKernel
from skqml.svm import QSVC

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def _on_cluster(client, fn):
    """``fn()`` under joblib's dask backend; also the number of tasks the workers ran."""
    with distributed.get_task_stream(client) as stream, parallel_config(backend="dask"):
        result = fn()
    return result, len(stream.data)


def test_large_gram_matrix_on_cluster_equals_serial(client):
    X = np.random.default_rng(0).uniform(0, np.pi, size=(400, 4))
    # A small memory budget cuts the matrix into many blocks, as a large one would be.
    kernel = FidelityQuantumKernel(ZZFeatureMap(reps=2), max_memory_mb=3, n_jobs=1)
    serial = kernel(X)
    distributed_K, n_tasks = _on_cluster(client, lambda: kernel.set_params(n_jobs=-1)(X))
    assert n_tasks >= 2
    np.testing.assert_array_equal(distributed_K, serial)


def test_shot_kernel_tiles_on_cluster_equal_serial(client):
    X = np.random.default_rng(1).uniform(0, np.pi, size=(300, 3))
    backend = ShotsBackend(shots=512, seed=3)
    kernel = FidelityQuantumKernel(ZZFeatureMap(reps=1), backend=backend, n_jobs=1)
    serial = kernel(X)
    distributed_K, n_tasks = _on_cluster(client, lambda: kernel.set_params(n_jobs=-1)(X))
    assert n_tasks >= 2
    np.testing.assert_array_equal(distributed_K, serial)


def test_grid_search_on_cluster_equals_serial(client):
    X, y = make_ad_hoc(n_samples=40, n_features=2, gap=0.3, random_state=0)
    pipe = make_pipeline(MinMaxScaler((0, np.pi)), QSVC(ZZFeatureMap()))
    grid = {
        "qsvc__feature_map__reps": [1, 2],
        "qsvc__C": [0.5, 5.0],
        "qsvc__backend": ["statevector", ShotsBackend(shots=256, seed=0)],
    }
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    serial = GridSearchCV(pipe, grid, cv=cv, n_jobs=1).fit(X, y)
    search, n_tasks = _on_cluster(
        client, lambda: GridSearchCV(pipe, grid, cv=cv, n_jobs=-1).fit(X, y)
    )
    assert n_tasks >= len(serial.cv_results_["params"])
    np.testing.assert_array_equal(
        search.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"]
    )
    assert search.best_params_ == serial.best_params_


def test_study_protocol_runs_its_grid_search_on_cluster(client):
    from skqml.studies.bowles2024 import run

    grid = {"repeats": [1], "C": [1.0, 100.0]}

    def fit():
        return run("IQPKernelClassifier", "linearly_separable_2d", grid=grid, n_jobs=2)

    result, tasks = _on_cluster(client, fit)
    serial = run("IQPKernelClassifier", "linearly_separable_2d", grid=grid, n_jobs=1)
    assert tasks > 0
    assert result.best_params == serial.best_params
    np.testing.assert_array_equal(
        result.search.cv_results_["mean_test_accuracy"],
        serial.search.cv_results_["mean_test_accuracy"],
    )
    assert result.test_acc == serial.test_acc
