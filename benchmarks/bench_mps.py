"""Fidelity Gram matrices of wide circuits: skqml's MPSBackend against quimb and PennyLane.

Run ``python benchmarks/bench_mps.py [--quick] [--out docs/benchmarks.md]``.

Workload: the Gram matrix ``|<phi(x_i)|phi(x_j)>|^2`` of ``ZZFeatureMap(reps=2,
entanglement="linear")`` on ``n`` qubits (``n`` features uniform in ``[0, pi)``, seeded), for
``N`` samples: ``N (N - 1) / 2`` overlaps.

Implementations (every one exact, no bond cap):

- **skqml**: ``FidelityQuantumKernel(..., backend=MPSBackend())``: Aer's MPS method builds each
  sample's state once, the overlaps are contracted by skqml (one sample against all others
  per sweep);
- **quimb**: ``quimb.tensor.CircuitMPS`` per sample (the same gate matrices, from skqml's gate
  table; ``cutoff=1e-16``, where its default 1e-10 moved entries by 3e-8), overlaps
  ``psi_i.H @ psi_j`` pair by pair;
- **PennyLane default.tensor** (``method="mps"``, quimb underneath): what a PennyLane user
  writes, one compute-uncompute circuit ``U(x_j)^dagger U(x_i)`` per pair and the
  expectation of the all-zeros projector; timed on fewer samples (``--pennylane-samples``)
  and reported per entry as well.

All are checked against skqml (1e-8). One run, ``OMP_NUM_THREADS=1``.
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

from _common import environment, has, replace_section

from skqml.backends import MPSBackend, compute_uncompute
from skqml.circuits import ZZFeatureMap
from skqml.kernels import FidelityQuantumKernel

SECTION_TITLE = "# Benchmarks: wide circuits (MPS)"
FMAP = ZZFeatureMap(reps=2, entanglement="linear")
CHECK_ATOL = 1e-8


def data(n: int, n_samples: int) -> np.ndarray:
    return np.random.default_rng(n).uniform(0, np.pi, (n_samples, n))


def skqml_gram(X: np.ndarray) -> np.ndarray:
    return FidelityQuantumKernel(FMAP, backend=MPSBackend(), bandwidth=1.0)(X)


def _matrices(circuit, X):
    out = []
    for op in circuit.operations:
        angles = [p.evaluate(X, None) for p in op.params]
        m = np.asarray(op.spec.matrix(*angles, n_qubits=len(op.qubits)))
        out.append(np.broadcast_to(m if m.ndim == 3 else m[None], (X.shape[0], *m.shape[-2:])))
    return out


def quimb_gram(X: np.ndarray) -> np.ndarray:
    import quimb.tensor as qtn

    circuit = FMAP.build(X.shape[1])
    matrices = _matrices(circuit, X)
    states = []
    for r in range(X.shape[0]):
        mps = qtn.CircuitMPS(circuit.n_qubits, cutoff=1e-16)  # exact (its default is 1e-10)
        for op, m in zip(circuit.operations, matrices, strict=True):
            mps.apply_gate_raw(np.ascontiguousarray(m[r]), op.qubits, contract="swap+split")
        states.append(mps.psi)
    K = np.eye(len(states))
    for i in range(len(states)):
        for j in range(i + 1, len(states)):
            K[i, j] = K[j, i] = abs(states[i].H @ states[j]) ** 2
    return K


def pennylane_gram(X: np.ndarray) -> np.ndarray:
    import pennylane as qml

    from skqml.backends._pennylane import _angles, _queue_operations

    n = X.shape[1]
    overlap = compute_uncompute(FMAP.build(n), n)
    structure = tuple((op.name, op.qubits) for op in overlap)
    dev = qml.device("default.tensor", wires=n, method="mps", cutoff=1e-16)

    @qml.qnode(dev)
    def zero_probability(angles):
        _queue_operations(qml, structure, angles)
        # |0...0><0...0| as a product of one-qubit projectors: no 2**n matrix.
        return qml.expval(qml.prod(*(qml.Projector([0], wires=q) for q in range(n))))

    K = np.eye(X.shape[0])
    for i in range(X.shape[0]):
        for j in range(i + 1, X.shape[0]):
            row = np.concatenate([X[i], X[j]])[None, :]
            angles = [
                [float(np.ravel(a)[0]) for a in gate] for gate in _angles(overlap, row, None)
            ]
            K[i, j] = K[j, i] = float(zero_probability(angles))
    return K


def timed_once(fn, *args):
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="12 and 30 qubits only")
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--pennylane-samples", type=int, default=10)
    parser.add_argument("--out", type=Path, help="replace the section in this Markdown file")
    args = parser.parse_args(argv)
    sizes = [12, 30] if args.quick else [12, 30, 50]
    # Imports and first-use costs (Aer, quimb, PennyLane's device) out of the timings.
    skqml_gram(data(4, 3))
    if has("quimb"):
        quimb_gram(data(4, 3))
        if has("pennylane"):
            pennylane_gram(data(4, 2))
    rows = []
    for n in sizes:
        X = data(n, args.samples)
        t_ours, K = timed_once(skqml_gram, X)
        row = {"n": n, "skqml": t_ours, "quimb": np.nan, "pennylane": np.nan}
        if has("quimb"):
            t, Kq = timed_once(quimb_gram, X)
            if np.abs(Kq - K).max() > CHECK_ATOL:
                raise AssertionError(f"quimb differs at n={n}: {np.abs(Kq - K).max():.2e}")
            row["quimb"] = t
        small = X[: args.pennylane_samples]
        t_small, K_small = timed_once(skqml_gram, small)
        row["skqml_small"] = t_small
        if has("pennylane") and has("quimb"):
            t, Kp = timed_once(pennylane_gram, small)
            if np.abs(Kp - K_small).max() > CHECK_ATOL:
                raise AssertionError(
                    f"PennyLane differs at n={n}: {np.abs(Kp - K_small).max():.2e}"
                )
            row["pennylane"] = t
        rows.append(row)
        print(
            f"n={n}: skqml {t_ours:.2f} s, quimb {row['quimb']:.2f} s (N={args.samples}); "
            f"N={args.pennylane_samples}: skqml {t_small:.2f} s, "
            f"default.tensor {row['pennylane']:.2f} s",
            flush=True,
        )
    N, Np = args.samples, args.pennylane_samples
    lines = [
        SECTION_TITLE,
        "",
        "Generated by `python benchmarks/bench_mps.py`: the fidelity Gram matrix of "
        "`ZZFeatureMap(reps=2, entanglement='linear')` on `n` qubits, exact (no bond cap), "
        f"for N = {N} samples ({N * (N - 1) // 2} overlaps) and, for PennyLane's "
        f"`default.tensor` (one compute-uncompute circuit per pair), N = {Np} "
        f"({Np * (Np - 1) // 2} overlaps). All agree with skqml to {CHECK_ATOL:g}. "
        "One thread, one run (whole calls, first-use costs excluded).",
        "",
        f"| qubits | skqml MPSBackend, N={N} (s) | quimb CircuitMPS, N={N} (s) | quimb / skqml "
        f"| skqml, N={Np} (s) | default.tensor, N={Np} (s) | default.tensor / skqml |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['n']} | {r['skqml']:.2f} | {r['quimb']:.2f} | {r['quimb'] / r['skqml']:.1f}x "
            f"| {r['skqml_small']:.2f} | {r['pennylane']:.2f} "
            f"| {r['pennylane'] / r['skqml_small']:.0f}x |"
        )
    lines += ["", "## Environment", "", *environment(["qiskit_aer", "quimb", "pennylane"]), ""]
    if args.out:
        replace_section(args.out, SECTION_TITLE, "\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
