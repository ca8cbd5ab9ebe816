"""Time ``n_jobs=2`` against ``n_jobs=1`` on the same work, and check the results are equal.

Run ``python benchmarks/bench_parallel.py [--quick] [--out docs/benchmarks.md]``.

Workloads (each timed with ``n_jobs=1`` and ``n_jobs=2`` in the same run, best of
``--repeats`` interleaved runs; the results of both must be bit-for-bit equal):

- the exact fidelity Gram matrix ``K(X, X)`` of ``ZZFeatureMap(reps=2, entanglement="linear")``
  at a fixed bandwidth for n = 12 qubits and N = 2000 samples (simulation and Gram blocks);
- one full-batch loss and gradient (``_Objective.loss_grad``, what every optimiser step of a
  fit calls) of ``VQC()`` and ``VQR()`` on n = 14 features and of
  ``DataReuploadingClassifier()`` on 36 (12 qubits, three features each), N = 400 samples,
  at the fitted model's parameters;
- one training step (squared MMD and its gradient) of ``BornMachine()`` (10 layers on the
  Chow-Liu tree) on 16 bits: one state, run in two parts from 14 qubits.

The speed-up is ``time(n_jobs=1) / time(n_jobs=2)``. skqml runs BLAS on one thread inside its
blocks whatever ``n_jobs`` (docs/scaling.md), so ``n_jobs=1`` is one core. Run it on an
otherwise idle machine: with 2 cores, anything else running takes the second core away.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import environment, replace_section

TITLE = "# Benchmarks: both cores (n_jobs=2 against n_jobs=1)"


def _timed_once(fn) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def _gram_case(n_qubits: int, n_samples: int):
    from skqml.circuits import ZZFeatureMap
    from skqml.kernels import FidelityQuantumKernel

    X = np.random.default_rng(0).uniform(-1, 1, (n_samples, n_qubits))
    fm = ZZFeatureMap(reps=2, entanglement="linear")

    def run(n_jobs):
        return FidelityQuantumKernel(fm, bandwidth=0.3, n_jobs=n_jobs)(X)

    return f"Fidelity Gram matrix, ZZ linear reps=2, n={n_qubits}, N={n_samples}", run


def _variational_case(name: str, n_features: int, n_samples: int):
    from dataclasses import replace

    from skqml.variational import VQC, VQR, DataReuploadingClassifier
    from skqml.variational._models import _Objective, _one_hot

    rng = np.random.default_rng(0)
    X = rng.normal(size=(n_samples, n_features))
    signal = X[:, 0] * X[:, 1] + np.sin(X[:, 2])
    model = {"VQC": VQC, "VQR": VQR, "DataReuploadingClassifier": DataReuploadingClassifier}[name](
        random_state=0, max_iter=1
    )
    y = signal if name == "VQR" else (signal > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted = model.fit(X, y)
    # The targets as the fit encodes them (the feature standardisation is in circuit_).
    if name == "VQR":
        Y = ((y - fitted.y_mean_) / fitted.y_scale_)[:, None]
    else:
        Y = _one_hot(y, fitted.classes_)
    params = fitted.params_
    base = fitted._fitted_structure(fitted.backend_)
    rows = np.arange(n_samples)

    def run(n_jobs):
        structure = replace(base, n_jobs=n_jobs)
        objective = _Objective(structure, X, Y, fitted.alpha)
        return objective.loss_grad(params, rows)

    n_qubits = base.circuit.n_qubits
    return f"{name} loss + gradient, {n_qubits} qubits, N={n_samples}", run


def _born_case(n_qubits: int):
    from skqml._parallel import single_blas_thread
    from skqml.backends import resolve_backend
    from skqml.boltzmann import BornMachine
    from skqml.boltzmann._gibbs import bits_to_index
    from skqml.circuits._ansatzes import build_ansatz

    rng = np.random.default_rng(0)
    X = (rng.random((500, n_qubits)) < 0.3).astype(float)
    born = BornMachine(random_state=0)
    circuit, theta = build_ansatz(born._resolve_ansatz(X), n_qubits, rng, who="BornMachine")
    target = np.bincount(bits_to_index(X.astype(int)), minlength=2**n_qubits) / X.shape[0]
    budget = born._simulation_budget(circuit)
    sigma = born._bandwidths()
    backend = resolve_backend("statevector")

    def run(n_jobs):
        born.set_params(n_jobs=n_jobs)
        with single_blas_thread():  # as in fit
            return born._objective(circuit, target, sigma, n_qubits, backend, budget)(theta)

    return f"BornMachine training step, {n_qubits} qubits", run


def _equal(a, b) -> bool:
    if isinstance(a, tuple):
        return all(_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(np.array_equal(np.asarray(a), np.asarray(b)))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (~20 s)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, help="Markdown file whose section to replace")
    args = parser.parse_args(argv)
    if args.quick:
        cases = [_gram_case(10, 800), _variational_case("VQC", 12, 200)]
    else:
        cases = [
            _gram_case(12, 2000),
            _variational_case("VQC", 14, 400),
            _variational_case("VQR", 14, 400),
            _variational_case("DataReuploadingClassifier", 36, 400),
            _born_case(16),
        ]
    rows = []
    for label, run in cases:
        run(1)  # warm: compiled plans, tapes
        t1 = t2 = float("inf")
        for _ in range(args.repeats):  # interleaved: both see the same machine
            s1, r1 = _timed_once(lambda run=run: run(1))
            s2, r2 = _timed_once(lambda run=run: run(2))
            t1, t2 = min(t1, s1), min(t2, s2)
        same = _equal(r1, r2)
        rows.append((label, t1, t2, same))
        print(f"{label}: n_jobs=1 {t1:.3f} s, n_jobs=2 {t2:.3f} s, x{t1 / t2:.2f}, equal {same}")
    report = [
        TITLE,
        "",
        f"`python benchmarks/bench_parallel.py{' --quick' if args.quick else ''}`: the same "
        "work with `n_jobs=1` and `n_jobs=2`, best of "
        f"{args.repeats} interleaved runs; the results must be bit-for-bit equal.",
        "",
        "| work | n_jobs=1 (s) | n_jobs=2 (s) | speed-up | results equal |",
        "|---|---|---|---|---|",
        *(
            f"| {label} | {t1:.3f} | {t2:.3f} | {t1 / t2:.2f}x | {same} |"
            for label, t1, t2, same in rows
        ),
        "",
        *environment([]),
    ]
    text = "\n".join(report) + "\n"
    if args.out:
        replace_section(args.out, TITLE, text)
    else:
        print(text)
    return 0 if all(same for *_, same in rows) else 1


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.exit(main())
