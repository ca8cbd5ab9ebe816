"""Time one training step (squared MMD + its gradient) of BornMachine against PennyLane + JAX.

Run ``python benchmarks/bench_born_machine.py [--quick] [--out docs/benchmarks.md]``.

Workload: ``BornMachine``'s default circuit on ``n`` qubits, ``HardwareEfficient(n_layers=10)``
(per layer ``RY`` then ``RZ`` on every qubit, then CNOTs), with the CNOTs on a fixed tree
(qubit 0 to every other qubit: what ``chow_liu`` gives for data whose bits all depend on bit
0), weights uniform in ``[-pi, pi)``; the loss is the squared MMD between the circuit's Born
distribution ``p`` and a random data distribution ``q`` over the ``2**n`` bit strings, with
the kernel mixture of bandwidths ``(0.5, 1, 2, 4)`` on the Hamming distance (the step of
``BornMachine.fit`` with exact gradients: one call of its objective).

Implementations, each computing the loss and its gradient with respect to every weight:

- **skqml**: the objective ``BornMachine.fit`` minimises (``probability_vjp``: the
  small-circuit engine's compiled sweeps with numba, one adjoint pass from the
  probabilities' cotangent; the kernel applied as a Kronecker product of ``2 x 2`` factors);
- **JAX**: PennyLane ``default.qubit`` with ``interface="jax"``, ``qml.probs()``, the same
  Kronecker-factor kernel in ``jax.numpy``, ``jax.jit(jax.value_and_grad(loss))``, float64;
  first call (tracing and compilation) reported in its own column, timed calls warm.
  PennyLane's ``lightning.qubit`` adjoint method differentiates expectation values, not
  probabilities, so it has no path for this loss.

Both are checked to agree (loss and gradient, 1e-9) before timing. Timings are interleaved:
``--repeats`` rounds, each timing both once (mean of as many calls as fill ``--min-time``
seconds); the best round of each is kept. ``OMP_NUM_THREADS=1`` is set before NumPy is
imported (unless the environment sets it).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", os.environ["OMP_NUM_THREADS"])

import argparse
import sys
import time
from pathlib import Path

import numpy as np

try:
    import skqml  # noqa: F401  (the import checks that skqml is importable)
except ImportError:  # running from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import environment, has, mean_time, replace_section

from skqml.backends import resolve_backend
from skqml.boltzmann import BornMachine
from skqml.circuits import HardwareEfficient

SECTION_TITLE = "# Benchmarks: BornMachine training step"
BANDWIDTHS = (0.5, 1.0, 2.0, 4.0)
N_LAYERS = 10
CHECK_ATOL = 1e-9


def star_tree(n: int) -> list[tuple[int, int]]:
    return [(0, q) for q in range(1, n)]


def problem(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    circuit = HardwareEfficient(n_layers=N_LAYERS, entanglement=star_tree(n)).build(n)
    theta = rng.uniform(-np.pi, np.pi, circuit.n_weights)
    q = rng.random(2**n)
    return circuit, theta, q / q.sum()


def skqml_step(n: int):
    circuit, theta, target = problem(n)
    model = BornMachine(kernel_bandwidths=BANDWIDTHS)
    fun = model._objective(
        circuit, target, np.asarray(BANDWIDTHS), n, resolve_backend("statevector"), None
    )
    return lambda: fun(theta)


def jax_step(n: int):
    import jax
    import jax.numpy as jnp
    import pennylane as qml

    jax.config.update("jax_enable_x64", True)
    _, theta, target = problem(n)
    dev = qml.device("default.qubit", wires=n)
    pairs = star_tree(n)
    wires = list(range(n - 1, -1, -1))  # big-endian over reversed wires: skqml's index

    @qml.qnode(dev, interface="jax")
    def probs(w):
        k = 0
        for _ in range(N_LAYERS):
            for q in range(n):
                qml.RY(w[k], wires=q)
                k += 1
            for q in range(n):
                qml.RZ(w[k], wires=q)
                k += 1
            for a, b in pairs:
                qml.CNOT(wires=[a, b])
        return qml.probs(wires=wires)

    factors = [np.exp(-1.0 / (2.0 * s)) for s in BANDWIDTHS]

    def kernel_apply(v):
        out = jnp.zeros_like(v)
        for e in factors:
            t = v.reshape((2,) * n)
            m = jnp.array([[1.0, e], [e, 1.0]])
            for axis in range(n):
                t = jnp.moveaxis(jnp.tensordot(m, t, axes=([1], [axis])), 0, axis)
            out = out + t.reshape(-1)
        return out / len(factors)

    target_j = jnp.asarray(target)

    def loss(w):
        d = probs(w) - target_j
        return d @ kernel_apply(d)

    step = jax.jit(jax.value_and_grad(loss))
    w = jnp.asarray(theta)
    start = time.perf_counter()
    jax.block_until_ready(step(w))
    compile_s = time.perf_counter() - start

    def run():
        value, grad = jax.block_until_ready(step(w))
        return float(value), np.asarray(grad)

    return run, compile_s


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="6 and 9 qubits only")
    # 12 qubits at most: JAX's compilation of the unrolled circuit took 58 s at 6 qubits and
    # 166 s at 9 here (it grows with the number of gates).
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--min-time", type=float, default=0.5)
    parser.add_argument("--out", type=Path, help="replace the section in this Markdown file")
    args = parser.parse_args(argv)
    sizes = [6, 9] if args.quick else [6, 9, 12]
    with_jax = has("jax") and has("pennylane")
    rows = []
    for n in sizes:
        ours = skqml_step(n)
        ours()  # compile the engine's kernels and the circuit's program
        peer, compile_s = jax_step(n) if with_jax else (None, float("nan"))
        if peer is not None:
            (l1, g1), (l2, g2) = ours(), peer()
            if abs(l1 - l2) > CHECK_ATOL or np.abs(g1 - g2).max() > CHECK_ATOL:
                raise AssertionError(f"n={n}: skqml and JAX disagree ({l1} vs {l2})")
        best = {"skqml": np.inf, "jax": np.inf}
        for _ in range(args.repeats):
            best["skqml"] = min(best["skqml"], mean_time(ours, args.min_time))
            if peer is not None:
                best["jax"] = min(best["jax"], mean_time(peer, args.min_time))
        rows.append((n, best["skqml"], best["jax"], compile_s))
        print(
            f"{n:2d} qubits: skqml {best['skqml'] * 1e3:8.2f} ms, JAX jit {best['jax'] * 1e3:8.2f}"
            f" ms (compile {compile_s:.1f} s), ratio {best['jax'] / best['skqml']:.2f}",
            flush=True,
        )
    lines = [
        SECTION_TITLE,
        "",
        "Generated by `python benchmarks/bench_born_machine.py`: one step of `BornMachine`'s "
        f"training (squared MMD and its gradient), its default circuit ({N_LAYERS} layers of "
        "`RY`, `RZ` and a tree of CNOTs), against PennyLane `default.qubit` + JAX "
        "(`jit(value_and_grad)`, warm; the first call in its own column). Both agree to "
        f"{CHECK_ATOL:g}; best of {args.repeats} interleaved rounds, one thread.",
        "",
        "| qubits | weights | skqml (ms) | JAX jit (ms) | JAX first call (s) | JAX / skqml |",
        "|---|---|---|---|---|---|",
    ]
    for n, ours_s, jax_s, compile_s in rows:
        lines.append(
            f"| {n} | {2 * N_LAYERS * n} | {ours_s * 1e3:.2f} | {jax_s * 1e3:.2f} | "
            f"{compile_s:.1f} | {jax_s / ours_s:.1f}x |"
        )
    lines += ["", "## Environment", "", *environment(["pennylane", "jax", "numba"]), ""]
    report = "\n".join(lines)
    if args.out:
        replace_section(args.out, SECTION_TITLE, report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
