"""Time one full-batch loss + gradient of a variational circuit against peers.

Run ``python benchmarks/bench_variational.py [--quick] [--out docs/benchmarks.md]``.

The circuit is ``AngleEmbedding()`` (``RY(x_i)`` on qubit ``i``) followed by
``HardwareEfficient(n_layers=2)`` (per layer: ``RY`` then ``RZ`` on every qubit, then the CNOT
ring ``(n-1, 0), (0, 1), ..., (n-2, n-1)``), on n = 4, 8, 12, 16 qubits (``--quick``: 4, 8)
with one feature per qubit. For N = 200 samples (X uniform in [0, pi], weights uniform in
[-pi, pi), seeded) every implementation computes the loss

    L(theta) = sum_{i, q} G[i, q] * <Z_q>(x_i, theta)

with a fixed random cotangent ``G`` (standard normal, seeded) and its gradient with respect to
all ``4 n`` circuit weights:

- skqml: ``expectation_vjp(circuit, labels, X, weights, lambda E, rows: G[rows])``, the
  batched adjoint method;
- PennyLane ``lightning.qubit``, ``diff_method="adjoint"``: one QNode call with the batch as
  a broadcast dimension (PennyLane splits it into one tape per sample), ``qml.grad`` of the
  summed loss (autograd). Two variants: the adjoint Jacobian of every tape contracted with
  ``G`` by autograd, and ``device_vjp=True`` (the device's adjoint VJP per tape);
- PennyLane ``default.qubit``, ``diff_method="backprop"``: one QNode call with parameter
  broadcasting over the batch, ``qml.grad`` (autograd).

The PennyLane circuits are translated gate for gate from the skqml circuit (wire ``i`` is skqml
qubit ``i``; per-qubit ``<Z>`` does not depend on the bit order). Before timing, every peer's
loss and gradient are checked against skqml's on the smallest size (to 1e-8). Runs under 1 s
are timed best of 3 (``time.perf_counter``). A cell is skipped ("—") when the estimate from
the previous number of qubits (time x 2^(extra qubits)) exceeds 120 s and so does the
estimate from a run on the first 20 samples (time x N / 20).

``lightning.qubit`` runs with its OpenMP pool limited to ``--lightning-threads`` threads
(default 1, via threadpoolctl; 0 keeps the library default): on a shared 2-core machine its
default of 2 threads was 5-20x slower in trial runs.

PennyLane 0.45.1's ``default.qubit`` fails (``ValueError: shape-mismatch for sum``) when it
backpropagates through a broadcast state of 12 or more wires with autograd: from 13 array
dimensions (batch + wires) it switches from ``einsum`` to a ``tensordot`` path, and that path
raises on this circuit. For those sizes the benchmark raises that switch-over
threshold (``EINSUM_STATE_WIRECOUNT_PERF_THRESHOLD``) during the run so that the working
``einsum`` path is used, and marks the cell.

Every timed result is compared with skqml's (loss and gradient to 1e-8).

``--profile N_QUBITS`` prints a cProfile of skqml's ``expectation_vjp`` instead.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import os
import pstats
import sys
import time
from collections.abc import Callable
from math import pi
from pathlib import Path

import numpy as np

try:
    import skqml  # noqa: F401  (the import checks that skqml is importable)
except ImportError:  # running from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import environment, has, replace_section, timed
from threadpoolctl import threadpool_limits

from skqml.circuits import AngleEmbedding, Circuit, HardwareEfficient
from skqml.simulator import expectation_vjp

N_SAMPLES = 200
N_PROBE = 20  # samples of the run that estimates a cell's time before skipping it
PEER_LIMIT_S = 120.0
CHECK_ATOL = 1e-8

# The intermediate states a backprop peer may hold: half the machine's memory.
MEMORY_LIMIT = 0.5 * os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")

Problem = tuple[Circuit, np.ndarray, np.ndarray, np.ndarray]  # circuit, X, weights, G
LossGrad = Callable[[], tuple[float, np.ndarray]]


def make_problem(n: int, n_samples: int = N_SAMPLES, seed: int = 0) -> Problem:
    circuit = AngleEmbedding().build(n).compose(HardwareEfficient(n_layers=2).build(n))
    rng = np.random.default_rng(seed)
    X = rng.uniform(0.0, pi, size=(n_samples, n))
    weights = rng.uniform(-pi, pi, size=circuit.n_weights)
    G = rng.standard_normal(size=(n_samples, n))
    return circuit, X, weights, G


def z_labels(n: int) -> list[str]:
    """Qiskit labels of ``Z_q`` for ``q = 0, ..., n - 1`` (rightmost character is qubit 0)."""
    return ["I" * (n - 1 - q) + "Z" + "I" * q for q in range(n)]


# -- implementations ---------------------------------------------------------------------------
def skqml_factory(problem: Problem) -> LossGrad:
    circuit, X, weights, G = problem
    labels = z_labels(circuit.n_qubits)

    def run():
        E, grad = expectation_vjp(circuit, labels, X, weights, lambda E, rows: G[rows])
        return float(np.sum(G * E)), grad

    return run


def _pennylane_ops(circuit: Circuit, x, w) -> None:
    """Queue the skqml circuit's gates in PennyLane; ``x[..., i]`` may be broadcast."""
    import pennylane as qml

    rotations = {"ry": qml.RY, "rz": qml.RZ, "rx": qml.RX}
    for op in circuit.operations:
        if op.name == "cnot":
            qml.CNOT(wires=list(op.qubits))
            continue
        (angle,) = op.params
        if len(angle.terms) != 1 or len(angle.features) + len(angle.weights) != 1:
            raise NotImplementedError(f"angle {angle} is not a single feature or weight")
        if angle.weights:
            (j,) = angle.weights
            value = w[j]
        else:
            (i,) = angle.features
            value = x[..., i]
        rotations[op.name](value, wires=op.qubits[0])


_APPLY_OPERATION = "pennylane.devices.qubit.apply_operation"


def needs_einsum_workaround(n: int) -> bool:
    """Whether ``default.qubit`` would take its broken broadcast ``tensordot`` path on n wires."""
    if not has("pennylane"):
        return False
    import pennylane  # noqa: F401 - loads the module below

    threshold = getattr(
        sys.modules.get(_APPLY_OPERATION), "EINSUM_STATE_WIRECOUNT_PERF_THRESHOLD", None
    )
    return threshold is not None and n + 1 >= threshold


@contextlib.contextmanager
def _einsum_path():
    """Keep ``default.qubit`` on its ``einsum`` path for states of any size."""
    module = sys.modules[_APPLY_OPERATION]
    saved = module.EINSUM_STATE_WIRECOUNT_PERF_THRESHOLD
    module.EINSUM_STATE_WIRECOUNT_PERF_THRESHOLD = 10**6
    try:
        yield
    finally:
        module.EINSUM_STATE_WIRECOUNT_PERF_THRESHOLD = saved


def _pennylane_factory(
    device: str, omp_threads: int | None = None, **qnode_kw
) -> Callable[[Problem], LossGrad]:
    def factory(problem: Problem) -> LossGrad:
        import pennylane as qml
        from pennylane import numpy as pnp

        circuit, X, weights, G = problem
        n = circuit.n_qubits
        workaround = device == "default.qubit" and needs_einsum_workaround(n)
        dev = qml.device(device, wires=n)

        @qml.qnode(dev, **qnode_kw)
        def qnode(x, w):
            _pennylane_ops(circuit, x, w)
            return [qml.expval(qml.PauliZ(q)) for q in range(n)]

        def loss(w):
            E = pnp.stack(qnode(X, w))  # (n, N): all samples as one broadcast call
            return pnp.sum(E.T * G)

        grad_fn = qml.grad(loss)

        def run():
            with (
                threadpool_limits(limits=omp_threads, user_api="openmp"),
                _einsum_path() if workaround else contextlib.nullcontext(),
            ):
                w = pnp.array(weights, requires_grad=True)
                grad = np.asarray(grad_fn(w))
                return float(loss(pnp.array(weights, requires_grad=False))), grad

        return run

    return factory


def _has_lightning() -> bool:
    if not (has("pennylane") and has("pennylane_lightning")):
        return False
    import pennylane as qml

    try:
        qml.device("lightning.qubit", wires=1)
    except Exception:  # any failure means the device is unusable
        return False
    return True


def peer_factories(lightning_threads: int | None = 1) -> dict[str, Callable[[Problem], LossGrad]]:
    peers = {}
    if _has_lightning():
        peers["lightning adjoint"] = _pennylane_factory(
            "lightning.qubit", lightning_threads, diff_method="adjoint"
        )
        peers["lightning adjoint, device VJP"] = _pennylane_factory(
            "lightning.qubit", lightning_threads, diff_method="adjoint", device_vjp=True
        )
    else:
        print("pennylane-lightning: not installed, skipped", flush=True)
    if has("pennylane"):
        peers["default.qubit backprop"] = _pennylane_factory(
            "default.qubit", diff_method="backprop"
        )
    else:
        print("pennylane: not installed, skipped", flush=True)
    return peers


# -- timing ------------------------------------------------------------------------------------


def profile(n: int, top: int = 25) -> None:
    """cProfile of one skqml loss + gradient on n qubits (after a warm-up call)."""
    run = skqml_factory(make_problem(n))
    run()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(3):
        run()
    profiler.disable()
    stats = pstats.Stats(profiler).strip_dirs()
    print(f"cProfile of 3 x expectation_vjp, n={n}, N={N_SAMPLES}")
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)


# -- driver ------------------------------------------------------------------------------------
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small subset (n=4, 8)")
    parser.add_argument("--out", type=Path, help="append/replace the section in this Markdown")
    parser.add_argument("--profile", type=int, metavar="N_QUBITS", help="cProfile skqml only")
    parser.add_argument(
        "--lightning-threads",
        type=int,
        default=1,
        help="OpenMP threads of lightning.qubit (0: library default; default 1)",
    )
    args = parser.parse_args(argv)
    if args.profile:
        profile(args.profile)
        return 0

    qubits = (4, 8) if args.quick else (4, 8, 12, 16)
    lightning_threads = args.lightning_threads or None
    factories = peer_factories(lightning_threads)
    problems = {n: make_problem(n) for n in qubits}

    # Correctness first: every peer's loss and gradient against skqml's on the smallest size.
    n0 = qubits[0]
    loss0, grad0 = skqml_factory(problems[n0])()
    checks = {}
    for name, factory in factories.items():
        loss, grad = factory(problems[n0])()
        dev = max(abs(loss - loss0), float(np.abs(grad - grad0).max()))
        checks[name] = dev
        print(f"check {name} vs skqml (n={n0}): max |dL|, |dgrad| = {dev:.2e}", flush=True)
        if dev > CHECK_ATOL:
            raise SystemExit(f"{name} disagrees with skqml by {dev:.2e} > {CHECK_ATOL}")

    rows = []
    last: dict[str, tuple[int, float]] = {}
    for n in qubits:
        problem = problems[n]
        t_sk, (loss_sk, grad_sk) = timed(skqml_factory(problem))
        row: dict = {"n": n, "skqml": t_sk}
        print(f"n={n:2d} N={N_SAMPLES} skqml {t_sk:9.4f} s", flush=True)
        for name, factory in factories.items():
            need = _backprop_bytes(problem) if name == "default.qubit backprop" else 0.0
            if need > MEMORY_LIMIT:
                # Backprop keeps every intermediate broadcast state for the backward pass:
                # at 16 qubits that is ~20 GiB, and the probe run was killed by the OOM killer.
                row[name] = None
                print(f"             {name}: skipped (needs ~{need / 2**30:.0f} GiB)", flush=True)
                continue
            if name in last:
                n_prev, t_prev = last[name]
                estimate = t_prev * 2.0 ** (n - n_prev)
                if estimate > PEER_LIMIT_S:
                    # Time the first N_PROBE samples before giving up on the cell.
                    circuit, X, weights, G = problem
                    probe = (circuit, X[:N_PROBE], weights, G[:N_PROBE])
                    start = time.perf_counter()
                    factory(probe)()
                    estimate = (time.perf_counter() - start) * N_SAMPLES / N_PROBE
                if estimate > PEER_LIMIT_S:
                    row[name] = ("skip", estimate)
                    print(f"             {name}: skipped (estimated {estimate:.0f} s)", flush=True)
                    continue
            t_peer, (loss, grad) = timed(factory(problem))
            dev = max(abs(loss - loss_sk), float(np.abs(grad - grad_sk).max()))
            if dev > CHECK_ATOL:
                raise SystemExit(f"{name} disagrees with skqml at n={n} by {dev:.2e}")
            checks[name] = max(checks[name], dev)
            last[name] = (n, t_peer)
            row[name] = t_peer
            if name == "default.qubit backprop" and needs_einsum_workaround(n):
                row["notes"] = (*row.get("notes", ()), name)
            print(f"             {name} {t_peer:9.4f} s ({t_peer / t_sk:.1f}x)", flush=True)
        rows.append(row)

    report = render(rows, list(factories), checks, n0, args.quick, lightning_threads)
    print(report)
    if args.out:
        replace_section(args.out, SECTION_TITLE, report)
        print(f"written to {args.out}")
    return 0


def _ratio(r: float) -> str:
    return f"{r:.0f}x" if r >= 10 else f"{r:.1f}x"


def _backprop_bytes(problem: Problem) -> float:
    """The broadcast states that backprop through ``problem``'s circuit keeps: one per
    operation, for every sample."""
    circuit, X, _, _ = problem
    return len(circuit.operations) * X.shape[0] * 2.0**circuit.n_qubits * 16


SECTION_TITLE = "# Benchmarks: variational loss and gradient"


def render(rows, peer_names, checks, n0, quick, lightning_threads) -> str:
    header = ["n", "N", "skqml (s)"] + [f"{p} (s, ratio)" for p in peer_names]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [str(row["n"]), str(N_SAMPLES), f"{row['skqml']:.4f}"]
        for p in peer_names:
            value = row.get(p)
            if isinstance(value, tuple):
                cells.append(f"— (est. > {value[1]:.0f} s)")
            elif value is None:
                cells.append("—")
            else:
                mark = " [a]" if p in row.get("notes", ()) else ""
                cells.append(f"{value:.3f} ({_ratio(value / row['skqml'])}){mark}")
        lines.append("| " + " | ".join(cells) + " |")
    checks_txt = ", ".join(f"{k}: {v:.1e}" for k, v in checks.items())
    footnote = [""]
    if any(row.get("notes") for row in rows):
        footnote += [
            "[a] PennyLane 0.45.1's `default.qubit` raises `ValueError: shape-mismatch for",
            "sum` when it backpropagates (autograd) through a broadcast state of 12 or more",
            "wires: from 13 array dimensions it switches from `einsum` to a `tensordot` path,",
            "which raises on this broadcast circuit. For this cell the benchmark raised",
            "the switch-over threshold (`EINSUM_STATE_WIRECOUNT_PERF_THRESHOLD` in",
            "`pennylane.devices.qubit.apply_operation`) during the run, so `einsum` was used; its",
            "result was checked against skqml's like every other cell.",
            "",
        ]
    return "\n".join(
        [
            SECTION_TITLE,
            "",
            "Generated by `python benchmarks/bench_variational.py"
            + (" --quick" if quick else "")
            + " --out docs/benchmarks.md` (see `benchmarks/README.md`).",
            "",
            "## What is timed",
            "",
            "One full-batch loss and gradient: `AngleEmbedding()` (`RY(x_i)` on qubit i) then",
            "`HardwareEfficient(n_layers=2)` (per layer `RY`, then `RZ` on every qubit, then the",
            "CNOT ring), n qubits, one feature per qubit, N = 200 samples uniform in `[0, pi]`,",
            "weights uniform in `[-pi, pi)` (seed 0). The loss is",
            "`L = sum_{i,q} G[i, q] <Z_q>(x_i)` with a fixed standard-normal cotangent `G`",
            "(seed 0); the gradient is with respect to all `4 n` weights. Wall-clock seconds",
            "with `time.perf_counter`, best of 3 for runs under 1 s, one run otherwise; the",
            "ratio is peer time / skqml time (higher is better for skqml).",
            "",
            "- **skqml**: `expectation_vjp(circuit, labels, X, weights, cotangent_fn)` with",
            "  `cotangent_fn = lambda E, rows: G[rows]`: one batched forward simulation and one",
            "  batched adjoint backward sweep.",
            "- **lightning adjoint**: PennyLane `lightning.qubit`, `diff_method='adjoint'`, a",
            "  QNode returning `[qml.expval(qml.PauliZ(q)) for q in range(n)]` called once with",
            "  the batch as a broadcast dimension (PennyLane expands it into one tape per",
            "  sample), `qml.grad` (autograd) of the summed loss: the adjoint Jacobian of each",
            "  tape, contracted with `G` by autograd.",
            "- **lightning adjoint, device VJP**: the same with `device_vjp=True` (the device",
            "  computes each tape's vector-Jacobian product by its adjoint method).",
            "- **default.qubit backprop**: PennyLane `default.qubit`, `diff_method='backprop'`,",
            "  the same QNode with parameter broadcasting over the batch, `qml.grad` (autograd).",
            "",
            "The PennyLane circuits are translated gate for gate from the skqml circuit (wire i",
            "is skqml qubit i). Calling the lightning QNode once per sample in a Python loop",
            "(one `qml.grad` of the summed loss) was slower than the broadcast call in a trial",
            "run at n=8 (1.7 s vs 1.2-1.4 s), so it is not included. A cell is skipped when its",
            "estimate from the previous n (time x 2^(extra qubits)) exceeds 120 s and so does",
            "the estimate from a run on the first 20 samples (time x 10); the cell then says",
            "so. A `default.qubit backprop` cell without a number would hold more intermediate",
            "states (one per operation and sample) than half the machine's memory (~22 GiB at",
            "n=16): it is not run.",
            f"Correctness first: on n={n0}, N={N_SAMPLES} every peer's loss and gradient",
            "equal skqml's to within 1e-8 before any timing, and so does every timed result",
            f"(max deviation over all cells: {checks_txt}).",
            "",
            "## Results",
            "",
            *lines,
            *footnote,
            "## Environment",
            "",
            *environment(("pennylane", "pennylane_lightning", "autograd")),
            "",
            "skqml and `default.qubit` ran with the default thread settings (OpenBLAS: 2",
            "threads). `lightning.qubit` ran with its OpenMP pool limited to "
            + (
                f"{lightning_threads} thread{'s' if lightning_threads > 1 else ''}"
                if lightning_threads
                else "the library default (no limit)"
            )
            + " by",
            "`threadpoolctl.threadpool_limits` (`--lightning-threads`): on this shared machine",
            "its default of 2 OpenMP threads was 5-20x slower in trial runs at n=8 (10-57 s",
            "against 1.5-2.3 s with 1 thread), as its threads wait on each other when other",
            "processes hold the cores. Timings vary by a few tens of percent between runs, more",
            "when the load average exceeds 2.",
            "",
        ]
    )


if __name__ == "__main__":
    raise SystemExit(main())
