"""Fit time per iteration of QuantumBoltzmannMachine versus the number of qubits.

Run ``python benchmarks/bench_boltzmann.py [--quick] [--out docs/benchmarks_boltzmann.md]``.

For n = 4, 6, 8, 10, 12 qubits (``n - 2`` visible and 2 hidden, all pairs coupled), 200 random
binary samples, each objective is timed as ``fit`` with ``max_iter = k`` full-batch Adam steps
(every step one exact ``eigh`` of the ``2**n x 2**n`` Hamiltonian; ``fit`` adds one more
for the final Gibbs state), reported as (time of ``fit(max_iter=k)`` - time of
``fit(max_iter=1)``) / (k - 1): the cost of one more iteration. ``--quick`` stops at 10.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np

try:
    import skqml
except ImportError:  # running from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import skqml

from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_info

from skqml.boltzmann import QuantumBoltzmannMachine

OBJECTIVES = {
    "likelihood": dict(objective="likelihood", transverse_field=1.0),
    "likelihood, learned Gamma": dict(
        objective="likelihood", transverse_field=1.0, learn_transverse_field=True
    ),
    "bound (bQBM)": dict(objective="bound", transverse_field=1.0),
}
N_HIDDEN = 2


def _fit_seconds(X, max_iter: int, params: dict) -> float:
    model = QuantumBoltzmannMachine(N_HIDDEN, max_iter=max_iter, random_state=0, **params)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X)
    return time.perf_counter() - start


def per_iteration(n_qubits: int, params: dict) -> float:
    X = np.random.RandomState(0).randint(0, 2, size=(200, n_qubits - N_HIDDEN))
    k = 21 if n_qubits <= 8 else 3
    one = min(_fit_seconds(X, 1, params) for _ in range(3 if n_qubits <= 8 else 1))
    many = _fit_seconds(X, k, params)
    return max(many - one, 0.0) / (k - 1)


def _fmt(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="stop at 10 qubits")
    parser.add_argument("--out", type=Path, help="also write the Markdown table here")
    args = parser.parse_args(argv)
    sizes = [4, 6, 8, 10] if args.quick else [4, 6, 8, 10, 12]
    header = "| qubits (visible + hidden) | matrix | " + " | ".join(OBJECTIVES) + " |"
    lines = [
        "# QuantumBoltzmannMachine: fit time per iteration",
        "",
        f"skqml {skqml.__version__}, numpy {np.__version__}, Python {platform.python_version()},"
        f" {os.cpu_count()} CPUs; BLAS pools: "
        + ", ".join(f"{p['internal_api']} x{p['num_threads']}" for p in threadpool_info())
        + " (skqml limits BLAS to 1 thread up to 12 qubits)",
        "",
        header,
        "|" + "---|" * (2 + len(OBJECTIVES)),
    ]
    print("\n".join(lines), flush=True)
    for n in sizes:
        cells = [_fmt(per_iteration(n, params)) for params in OBJECTIVES.values()]
        row = (
            f"| {n} ({n - N_HIDDEN} + {N_HIDDEN}) | {2**n} x {2**n} | " + " | ".join(cells) + " |"
        )
        lines.append(row)
        print(row, flush=True)
    if args.out:
        args.out.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
