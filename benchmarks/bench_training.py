"""Time one training step (loss + gradient) of small variational circuits against JAX.

Run ``python benchmarks/bench_training.py [--quick] [--out docs/benchmarks.md]``.

Workloads (issue #12, "small circuits"):

- **data re-uploading step**, n qubits x L layers, batch 32: per layer, on every qubit ``q``,
  ``Rot(w[l, q] * x[q])`` (trainable weights times the three features ``x[3q:3q+3]``,
  elementwise) then ``Rot(theta[l, q])``; then ``CZ`` on the even pairs ``(0, 1), (2, 3), ...``
  and on the odd pairs ``(1, 2), (3, 4), ...``. The loss is the mean square error of ``<Z_0>``
  against targets ``y`` (features uniform in ``[-pi/2, pi/2]``, weights and targets uniform,
  seeded).
- **VQC**, n = 4, N = 200: ``AngleEmbedding()`` (``RY(x_i)``) then
  ``HardwareEfficient(n_layers=2)`` (per layer ``RY`` then ``RZ`` on every qubit, then the
  CNOT ring), loss ``sum_{i,q} G[i, q] <Z_q>`` with a fixed random cotangent ``G``.
- **IQP variational** (the step of ``IQPVariationalClassifier``, Bowles et al. 2024), n
  qubits, L layers, batch 32: ``IQPEmbedding`` (one repeat) then
  ``StronglyEntanglingLayers(L)`` with CZ, loss ``mean (1 - y <Z_0 Z_1>) / 2``.

Implementations, each computing the loss and its gradient with respect to every circuit weight:

- **skqml**: ``skqml.simulator.expectation_vjp`` with the loss's cotangent (what VQC, VQR and
  DataReuploadingClassifier call in training): the small-circuit engine, with its compiled
  sweeps when numba is installed; **NumPy sweeps**: the same engine without them (its
  fallback), and **general path**: the general adjoint sweep;
- **JAX**: PennyLane ``default.qubit`` with ``interface="jax"``, the QNode ``jax.vmap``-ed
  over the batch, ``jax.jit(jax.value_and_grad(loss))``, float64 (``jax_enable_x64``); the
  first call (tracing and compilation) is reported in its own column, the timed calls are
  warm;
- **lightning**: PennyLane ``lightning.qubit`` with ``diff_method="adjoint"`` (OpenMP pool at
  one thread), the batch broadcast (one tape per sample), ``qml.grad`` (autograd).

Every implementation's loss and gradient are first checked against skqml's (to 1e-9). Timings
are interleaved in the same run: ``--repeats`` rounds, each timing every implementation once
(mean of as many calls as fill ``--min-time`` seconds), and the best round of each is kept, so
that a busy moment of a shared machine does not favour one side. ``OMP_NUM_THREADS=1`` is set
before NumPy is imported (unless the environment sets it).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", os.environ["OMP_NUM_THREADS"])

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from math import pi
from pathlib import Path

import numpy as np

try:
    import skqml  # noqa: F401  (the import checks that skqml is importable)
except ImportError:  # running from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import environment, has, mean_time, replace_section

from skqml.circuits import (
    AngleEmbedding,
    Circuit,
    HardwareEfficient,
    IQPEmbedding,
    StronglyEntanglingLayers,
    feature,
    weight,
)
from skqml.simulator import _small, expectation_vjp

CHECK_ATOL = 1e-9
BATCH = 32
VQC_SAMPLES = 200
SECTION_TITLE = "# Benchmarks: training step of small circuits"

LossGrad = Callable[[], tuple[float, np.ndarray]]


@dataclass
class Workload:
    """One training step: the circuit, its data, and the loss's cotangent."""

    name: str
    circuit: Circuit
    X: np.ndarray
    weights: np.ndarray
    kind: str  # "reupload" (MSE of <Z_0>), "vqc" (sum G * <Z_q>), "iqp" (linear loss)
    target: np.ndarray  # y of shape (N,) or G of shape (N, n)
    n_layers: int = 0
    lightning: bool = False  # also time lightning.qubit (slow: only where it is a peer)


def reupload_circuit(n: int, n_layers: int) -> Circuit:
    """The re-uploading circuit; weights ``w`` (L, n, 3) then ``theta`` (L, n, 3), C order."""
    c = Circuit(n)
    offset = n_layers * n * 3
    for layer in range(n_layers):
        for q in range(n):
            base = (layer * n + q) * 3
            c = c.rot(*(weight(base + k) * feature(3 * q + k) for k in range(3)), q)
            c = c.rot(*(weight(offset + base + k) for k in range(3)), q)
        for start in (0, 1):
            for q in range(start, n - 1, 2):
                c = c.cz(q, q + 1)
    return c


def make_reupload(n: int, n_layers: int, seed: int = 0) -> Workload:
    rng = np.random.default_rng(seed)
    circuit = reupload_circuit(n, n_layers)
    X = rng.uniform(-pi / 2, pi / 2, size=(BATCH, 3 * n))
    weights = rng.uniform(-pi, pi, size=circuit.n_weights)
    y = rng.uniform(-1, 1, size=BATCH)
    name = f"re-uploading {n}q x {n_layers}"
    return Workload(name, circuit, X, weights, "reupload", y, n_layers, lightning=n == 2)


def make_vqc(n: int = 4, seed: int = 0) -> Workload:
    rng = np.random.default_rng(seed)
    circuit = AngleEmbedding().build(n).compose(HardwareEfficient(n_layers=2).build(n))
    X = rng.uniform(0.0, pi, size=(VQC_SAMPLES, n))
    weights = rng.uniform(-pi, pi, size=circuit.n_weights)
    G = rng.standard_normal(size=(VQC_SAMPLES, n))
    return Workload(f"VQC n={n}, N={VQC_SAMPLES}", circuit, X, weights, "vqc", G, lightning=True)


def make_iqp_variational(n: int, n_layers: int, seed: int = 0) -> Workload:
    rng = np.random.default_rng(seed)
    layers = StronglyEntanglingLayers(n_layers=n_layers, imprimitive="cz")
    circuit = IQPEmbedding(n_repeats=1).build(n).compose(layers.build(n))
    X = rng.uniform(-pi / 2, pi / 2, size=(BATCH, n))
    weights = rng.uniform(0, 2 * pi, size=circuit.n_weights)
    y = rng.choice([-1.0, 1.0], size=BATCH)
    name = f"IQP variational {n}q x {n_layers}"
    return Workload(name, circuit, X, weights, "iqp", y, n_layers)


def z_labels(n: int) -> list[str]:
    return ["I" * (n - 1 - q) + "Z" + "I" * q for q in range(n)]


# -- implementations ---------------------------------------------------------------------------
def skqml_step(w: Workload, general: bool = False, numpy_sweeps: bool = False) -> LossGrad:
    """skqml's step; ``general``: the general adjoint path (what ran before the
    small-circuit engine), called directly; ``numpy_sweeps``: the engine with its NumPy
    sweeps (what runs without numba)."""
    vjp = expectation_vjp
    if numpy_sweeps:

        def vjp(*args):
            previous, _small.USE_COMPILED = _small.USE_COMPILED, False
            try:
                return expectation_vjp(*args)
            finally:
                _small.USE_COMPILED = previous

    if general:
        from skqml.simulator._adjoint import general_expectation_vjp

        def vjp(circuit, labels, X, weights, cotangent):
            return general_expectation_vjp(circuit, labels, X, weights, cotangent, None)

    n = w.circuit.n_qubits
    if w.kind == "reupload":
        labels = ["I" * (n - 1) + "Z"]
        y = w.target
        scale = 2.0 / y.shape[0]
        losses = []

        def cotangent(E, rows):
            r = E[:, 0] - y[rows]
            losses.append(float(r @ r))
            return (scale * r)[:, None]

        def run_full():
            losses.clear()
            _, grad = vjp(w.circuit, labels, w.X, w.weights, cotangent)
            return sum(losses) / y.shape[0], grad

        return run_full
    if w.kind == "iqp":
        labels = ["I" * (n - 2) + "ZZ"]
        y = w.target
        G_iqp = (-y / (2 * y.shape[0]))[:, None]

        def run_iqp():
            E, grad = vjp(w.circuit, labels, w.X, w.weights, lambda E, rows: G_iqp[rows])
            return float(np.mean((1 - y * E[:, 0]) / 2)), grad

        return run_iqp
    labels = z_labels(n)
    G = w.target

    def run_vqc():
        E, grad = vjp(w.circuit, labels, w.X, w.weights, lambda E, rows: G[rows])
        return float(np.sum(G * E)), grad

    return run_vqc


def _pennylane_ops(qml, w: Workload, x, weights) -> None:
    """Queue the workload's gates in PennyLane; ``x`` is one sample's features, or the
    samples' features (rows) as one broadcast batch."""
    n = w.circuit.n_qubits
    if w.kind == "reupload":
        L = w.n_layers
        omega = weights[: L * n * 3].reshape(L, n, 3)
        theta = weights[L * n * 3 :].reshape(L, n, 3)
        for layer in range(L):
            for q in range(n):
                a = [omega[layer, q, k] * x[..., 3 * q + k] for k in range(3)]
                qml.Rot(*a, wires=q)
                qml.Rot(theta[layer, q, 0], theta[layer, q, 1], theta[layer, q, 2], wires=q)
            for start in (0, 1):
                for q in range(start, n - 1, 2):
                    qml.CZ(wires=[q, q + 1])
        return
    if w.kind == "iqp":
        qml.IQPEmbedding(x, wires=range(n), n_repeats=1)
        qml.StronglyEntanglingLayers(
            weights.reshape(w.n_layers, n, 3), wires=range(n), imprimitive=qml.CZ
        )
        return
    for q in range(n):
        qml.RY(x[..., q], wires=q)
    rotations = {"ry": qml.RY, "rz": qml.RZ}
    for op in w.circuit.operations[n:]:
        if op.name == "cnot":
            qml.CNOT(wires=list(op.qubits))
        else:
            (j,) = op.params[0].weights
            rotations[op.name](weights[j], wires=op.qubits[0])


def jax_step(w: Workload) -> tuple[LossGrad, float]:
    """The jitted step and the seconds of its first (compiling) call."""
    import jax
    import jax.numpy as jnp
    import pennylane as qml

    jax.config.update("jax_enable_x64", True)
    n = w.circuit.n_qubits
    dev = qml.device("default.qubit", wires=n)

    if w.kind == "reupload":

        @qml.qnode(dev, interface="jax")
        def qnode(x, weights):
            _pennylane_ops(qml, w, x, weights)
            return qml.expval(qml.PauliZ(0))

        batched = jax.vmap(qnode, in_axes=(0, None))
        X, y = jnp.asarray(w.X), jnp.asarray(w.target)

        def loss(weights):
            return jnp.mean((batched(X, weights) - y) ** 2)

    elif w.kind == "iqp":

        @qml.qnode(dev, interface="jax")
        def qnode(x, weights):
            _pennylane_ops(qml, w, x, weights)
            return qml.expval(qml.PauliZ(0) @ qml.PauliZ(1))

        batched = jax.vmap(qnode, in_axes=(0, None))
        X, y = jnp.asarray(w.X), jnp.asarray(w.target)

        def loss(weights):
            return jnp.mean((1 - y * batched(X, weights)) / 2)

    else:

        @qml.qnode(dev, interface="jax")
        def qnode(x, weights):
            _pennylane_ops(qml, w, x, weights)
            return [qml.expval(qml.PauliZ(q)) for q in range(n)]

        def one(x, weights):
            return jnp.stack(qnode(x, weights))

        batched = jax.vmap(one, in_axes=(0, None))
        X, G = jnp.asarray(w.X), jnp.asarray(w.target)

        def loss(weights):
            return jnp.sum(batched(X, weights) * G)

    step = jax.jit(jax.value_and_grad(loss))
    weights = jnp.asarray(w.weights)
    start = time.perf_counter()
    _, grad = step(weights)
    grad.block_until_ready()
    compile_s = time.perf_counter() - start

    def run():
        value, grad = step(weights)
        return float(value), np.asarray(grad)

    return run, compile_s


def lightning_step(w: Workload) -> LossGrad:
    import pennylane as qml
    from pennylane import numpy as pnp
    from threadpoolctl import threadpool_limits

    n = w.circuit.n_qubits
    dev = qml.device("lightning.qubit", wires=n)

    @qml.qnode(dev, diff_method="adjoint")
    def qnode(weights):
        _pennylane_ops(qml, w, w.X, weights)  # one broadcast call: all samples at once
        if w.kind == "reupload":
            return qml.expval(qml.PauliZ(0))
        return [qml.expval(qml.PauliZ(q)) for q in range(n)]

    if w.kind == "reupload":

        def loss(weights):
            return pnp.mean((qnode(weights) - w.target) ** 2)

    else:

        def loss(weights):
            return pnp.sum(pnp.stack(qnode(weights)).T * w.target)

    grad_fn = qml.grad(loss)

    def run():
        with threadpool_limits(limits=1, user_api="openmp"):
            weights = pnp.array(w.weights, requires_grad=True)
            grad = np.asarray(grad_fn(weights))
            return float(loss(pnp.array(w.weights, requires_grad=False))), grad

    return run


# -- timing ------------------------------------------------------------------------------------
def check(name: str, got: tuple[float, np.ndarray], ref: tuple[float, np.ndarray]) -> float:
    dev = max(abs(got[0] - ref[0]), float(np.abs(np.asarray(got[1]) - ref[1]).max()))
    if dev > CHECK_ATOL:
        raise SystemExit(f"{name} disagrees with skqml by {dev:.2e} > {CHECK_ATOL}")
    return dev


def workloads(quick: bool) -> list[Workload]:
    sizes = [(1, 5), (2, 5), (4, 10)] if quick else [(1, 5), (1, 10), (2, 5), (2, 10)]
    if not quick:
        sizes += [(4, 5), (4, 10), (6, 5), (6, 10)]
    # 10 qubits x 3 layers: the width of the study's 10-dimensional data sets.
    iqp = [(4, 5)] if quick else [(4, 5), (6, 10), (10, 3)]
    return (
        [make_reupload(n, L) for n, L in sizes]
        + [make_vqc(4)]
        + [make_iqp_variational(n, L) for n, L in iqp]
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few sizes, fewer repeats")
    parser.add_argument("--out", type=Path, help="append/replace the section in this Markdown")
    parser.add_argument("--repeats", type=int, default=None, help="interleaved rounds")
    parser.add_argument("--min-time", type=float, default=None, help="seconds per timing")
    parser.add_argument("--no-lightning", action="store_true", help="skip lightning.qubit")
    args = parser.parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 7)
    min_time = args.min_time or (0.1 if args.quick else 0.25)
    use_jax = has("jax") and has("pennylane")
    use_lightning = not args.no_lightning and has("pennylane_lightning")
    compiled = has("numba")
    if not compiled:
        print("numba: not installed, skqml runs its NumPy sweeps", flush=True)
    if not use_jax:
        print("jax or pennylane: not installed, JAX column skipped", flush=True)

    rows = []
    for w in workloads(args.quick):
        impls: dict[str, LossGrad] = {"skqml": skqml_step(w)}
        ref = impls["skqml"]()
        if compiled:
            impls["numpy"] = skqml_step(w, numpy_sweeps=True)
        impls["general"] = skqml_step(w, general=True)
        row: dict = {"name": w.name, "weights": w.circuit.n_weights, "dev": 0.0}
        if use_jax:
            impls["jax"], row["compile"] = jax_step(w)
        if use_lightning and w.lightning:
            impls["lightning"] = lightning_step(w)
        for name, fn in impls.items():
            row["dev"] = max(row["dev"], check(name, fn(), ref))
        best = {name: float("inf") for name in impls}
        for _ in range(repeats):
            for name, fn in impls.items():
                best[name] = min(best[name], mean_time(fn, min_time))
        row.update(best)
        rows.append(row)
        text = ", ".join(f"{k} {v * 1e3:.3f} ms" for k, v in best.items())
        print(f"{w.name}: {text}; max deviation {row['dev']:.1e}", flush=True)

    report = render(rows, use_jax, use_lightning, compiled, args.quick, repeats, min_time)
    print(report)
    if args.out:
        replace_section(args.out, SECTION_TITLE, report)
        print(f"written to {args.out}")
    return 0


def render(rows, use_jax, use_lightning, compiled, quick, repeats, min_time) -> str:
    header = ["workload", "weights", "skqml (ms)"]
    if compiled:
        header += ["NumPy sweeps (ms)", "NumPy / skqml"]
    header += ["general path (ms)", "general / skqml"]
    if use_jax:
        header += ["JAX warm (ms)", "JAX compile (ms)", "JAX / skqml"]
    if use_lightning:
        header += ["lightning (ms)", "lightning / skqml"]
    header.append("max deviation")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [
            row["name"],
            str(row["weights"]),
            f"{row['skqml'] * 1e3:.3f}",
        ]
        if compiled:
            cells += [f"{row['numpy'] * 1e3:.3f}", f"{row['numpy'] / row['skqml']:.1f}"]
        cells += [
            f"{row['general'] * 1e3:.3f}",
            f"{row['general'] / row['skqml']:.1f}",
        ]
        if use_jax:
            cells += [
                f"{row['jax'] * 1e3:.3f}",
                f"{row['compile'] * 1e3:.0f}",
                f"{row['jax'] / row['skqml']:.2f}",
            ]
        if use_lightning and "lightning" in row:
            cells += [f"{row['lightning'] * 1e3:.2f}", f"{row['lightning'] / row['skqml']:.1f}"]
        elif use_lightning:
            cells += ["—", "—"]
        cells.append(f"{row['dev']:.0e}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(
        [
            SECTION_TITLE,
            "",
            "Generated by `python benchmarks/bench_training.py"
            + (" --quick" if quick else "")
            + " --out docs/benchmarks.md` (see `benchmarks/README.md`).",
            "",
            "## What is timed",
            "",
            "One training step, loss and gradient with respect to every circuit weight:",
            "",
            "- **re-uploading n q x L**: per layer, on every qubit q, `Rot(w[l, q] * x[3q:3q+3])`",
            "  then `Rot(theta[l, q])`, then CZ on the even pairs and on the odd pairs; batch",
            f"  {BATCH}, loss the mean square error of `<Z_0>` against targets.",
            "- **VQC**: `AngleEmbedding()` + `HardwareEfficient(n_layers=2)`, N = "
            f"{VQC_SAMPLES}, loss `sum G * <Z_q>` with a fixed random cotangent `G`.",
            "- **IQP variational n q x L**: the step of `IQPVariationalClassifier` (Bowles et",
            "  al. 2024): `IQPEmbedding` then `StronglyEntanglingLayers(L)` with CZ, batch",
            f"  {BATCH}, loss `mean (1 - y <Z_0 Z_1>) / 2`.",
            "",
            "**skqml** is `skqml.simulator.expectation_vjp` (what VQC, VQR and",
            "DataReuploadingClassifier call in training), which runs these circuits on the",
            "small-circuit engine (`skqml/simulator/_small.py`)"
            + (
                ", with its compiled sweeps (numba, `skqml[numba]`); **NumPy sweeps** is the "
                "same engine without numba (its default fallback; above 8 qubits that is the "
                "general path)"
                if compiled
                else " with its NumPy sweeps (numba is not installed here)"
            )
            + "; **general path** is the",
            "general adjoint sweep that ran them before (`general_expectation_vjp`, same",
            "results), for the before/after comparison. **JAX** is PennyLane `default.qubit`",
            '(`interface="jax"`), the QNode `jax.vmap`-ed over the batch, then',
            "`jax.jit(jax.value_and_grad(loss))` in float64; the compile column is its first",
            "call (tracing and XLA compilation), the timed calls are warm. **lightning** is",
            '`lightning.qubit` with `diff_method="adjoint"`, the batch broadcast (one tape per',
            "sample), `qml.grad` (autograd), OpenMP pool at one thread, timed on the VQC and",
            "2-qubit rows only (it takes seconds per step on the others). Ratios are time /",
            "skqml time (above 1: skqml is faster; the goal of issue #12 is JAX / skqml >= 2).",
            "",
            "Each implementation's loss and gradient equal skqml's to 1e-9 before timing (max",
            f"deviation in the last column). Timings are interleaved: {repeats} rounds, each",
            f"timing every implementation once (mean over calls filling {min_time} s), best",
            "round kept. `OMP_NUM_THREADS=1`.",
            "",
            "## Results",
            "",
            *lines,
            "",
            "## Environment",
            "",
            *environment(("jax", "jaxlib", "pennylane", "pennylane_lightning")),
            "",
        ]
    )


if __name__ == "__main__":
    raise SystemExit(main())
