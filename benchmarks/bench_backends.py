"""Time a kernel matrix and a variational gradient on every backend against the exact path.

Run ``python benchmarks/bench_backends.py [--quick] [--out docs/benchmarks.md]``.

Two workloads, for n = 4 and 8 qubits (``--quick``: n = 4), each run on every available
backend in the same process and compared with the exact result of the same run:

- **kernel**: the fidelity Gram matrix ``K(X, X)`` of ``ZZFeatureMap(reps=2,
  entanglement="linear")`` for N = 30 samples uniform in ``[0, pi]`` (seed 0): 435
  compute-uncompute circuits on a measuring backend, 30 simulations and one matrix product on
  the exact one. Error: ``max |K - K_exact|``.
- **gradient**: the gradient of ``L = sum_{i,q} G[i, q] <Z_q>(x_i)`` for ``AngleEmbedding()``
  then ``HardwareEfficient(n_layers=2)`` (``4 n`` weights), N = 20 samples, fixed
  standard-normal cotangent ``G`` (seed 0): the batched adjoint method on the exact path,
  parameter shift (two runs of the batch per weight) through ``backend.expectations`` on
  the others. Error: ``max |g - g_exact| / max |g_exact|``.

Backends: skqml's ``ShotsBackend`` (1024 shots), Qiskit Aer (``QiskitBackend``, 1024 shots;
``fake_manila`` with its device noise model at n <= 5), PennyLane ``default.qubit``
(analytic and 1024 shots) and ``lightning.qubit`` (analytic). Backends whose SDK is not
installed are skipped. Each backend is used once untimed first (importing its SDK and
building its device); runs under 1 s are then timed best of 3. Translation and
transpilation are part of the timed work: a kernel call clones its backend, which starts
with empty caches.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

try:
    import skqml  # noqa: F401  (the import checks that skqml is importable)
except ImportError:  # running from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import environment, has, replace_section, timed

from skqml.backends import ShotsBackend, StatevectorBackend
from skqml.circuits import AngleEmbedding, Circuit, HardwareEfficient, ZZFeatureMap
from skqml.kernels import FidelityQuantumKernel
from skqml.simulator import expectation_vjp, parameter_shift_vjp

SHOTS = 1024
N_KERNEL = 30
N_GRADIENT = 20
SECTION_TITLE = "# Benchmarks: backends"


def backends(n: int) -> dict[str, Callable[[], object]]:
    """Name -> factory of every backend available for ``n`` qubits."""
    out: dict[str, Callable[[], object]] = {
        f"shots ({SHOTS})": lambda: ShotsBackend(shots=SHOTS, seed=0),
    }
    if has("qiskit_aer") and has("qiskit_ibm_runtime"):
        from skqml.backends import QiskitBackend

        out[f"qiskit aer_simulator ({SHOTS})"] = lambda: QiskitBackend(shots=SHOTS, seed=0)
        if n <= 5:
            out[f"qiskit fake_manila ({SHOTS})"] = lambda: QiskitBackend(
                device="fake_manila", shots=SHOTS, seed=0
            )
    if has("pennylane"):
        from skqml.backends import PennyLaneBackend

        out["pennylane default.qubit (analytic)"] = lambda: PennyLaneBackend()
        out[f"pennylane default.qubit ({SHOTS})"] = lambda: PennyLaneBackend(shots=SHOTS, seed=0)
        out["pennylane lightning.qubit (analytic)"] = lambda: PennyLaneBackend(
            device="lightning.qubit"
        )
    return out


def kernel_problem(n: int):
    X = np.random.default_rng(0).uniform(0, np.pi, size=(N_KERNEL, n))
    fmap = ZZFeatureMap(reps=2, entanglement="linear")

    def run(backend):
        # enforce_psd off: the raw estimates, so the error measures the backend alone.
        return lambda: FidelityQuantumKernel(fmap, backend=backend, enforce_psd=False)(X)

    return run


def gradient_problem(n: int):
    rng = np.random.default_rng(0)
    circuit = AngleEmbedding().build(n).compose(HardwareEfficient(n_layers=2).build(n))
    X = rng.uniform(0, np.pi, size=(N_GRADIENT, n))
    weights = rng.uniform(-np.pi, np.pi, size=circuit.n_weights)
    labels = ["I" * (n - 1 - q) + "Z" + "I" * q for q in range(n)]
    G = rng.normal(size=(N_GRADIENT, n))

    def run(backend):
        if isinstance(backend, StatevectorBackend):
            return lambda: expectation_vjp(circuit, labels, X, weights, lambda E, rows: G[rows])[1]
        return lambda: parameter_shift_vjp(
            lambda c: backend.expectations(c, labels, X, weights), circuit, X, weights, G
        )

    return run


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n = 4 only")
    parser.add_argument("--out", type=Path, help="replace/append the section in this Markdown")
    args = parser.parse_args(argv)
    qubits = (4,) if args.quick else (4, 8)

    rows = []
    for workload, problem in (("kernel", kernel_problem), ("gradient", gradient_problem)):
        for n in qubits:
            run = problem(n)
            t_exact, exact = timed(run(StatevectorBackend()))
            scale = 1.0 if workload == "kernel" else float(np.abs(exact).max())
            print(f"{workload} n={n} exact {t_exact:.4f} s", flush=True)
            rows.append((workload, n, "exact (statevector)", t_exact, 0.0))
            for name, make in backends(n).items():
                # Untimed first use: imports the SDK and builds its device, once per process.
                make().probabilities(Circuit(1).h(0))
                t, value = timed(run(make()))
                err = float(np.abs(value - exact).max()) / scale
                print(f"  {name}: {t:.4f} s ({t / t_exact:.0f}x), error {err:.3f}", flush=True)
                rows.append((workload, n, name, t, err, t / t_exact))

    report = render(rows, args.quick)
    print(report)
    if args.out:
        replace_section(args.out, SECTION_TITLE, report)
        print(f"written to {args.out}")
    return 0


def render(rows, quick: bool) -> str:
    lines = [
        SECTION_TITLE,
        "",
        "Generated by `python benchmarks/bench_backends.py"
        + (" --quick" if quick else "")
        + " --out docs/benchmarks.md` (see `benchmarks/README.md`).",
        "",
        "The same two workloads on every backend, in one run, against the exact path:",
        "the fidelity Gram matrix of `ZZFeatureMap(reps=2, entanglement='linear')` for",
        f"N = {N_KERNEL} samples ({N_KERNEL * (N_KERNEL - 1) // 2} overlap circuits on a",
        "measuring backend; error `max |K - K_exact|`), and the gradient of a loss through the",
        "`<Z_q>` of `AngleEmbedding()` + `HardwareEfficient(n_layers=2)` for",
        f"N = {N_GRADIENT} samples (adjoint method on the exact path, parameter shift through",
        "the backend's expectation values elsewhere; error relative to the largest exact",
        "gradient entry). 'time / exact' is how many times longer than the exact path.",
        "Shot errors shrink as 1 / sqrt(shots); the fake device adds its noise model.",
        "",
        "| workload | n | backend | time (s) | time / exact | error |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        workload, n, name, t, err = row[:5]
        ratio = "1" if len(row) == 5 else f"{row[5]:.0f}x"
        lines.append(f"| {workload} | {n} | {name} | {t:.4f} | {ratio} | {err:.3f} |")
    lines += [
        "",
        "Environment:",
        "",
        *environment(["qiskit", "qiskit_aer", "qiskit_ibm_runtime", "pennylane"]),
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
