"""Whole fits of two of the Bowles et al. (2024) models, in skqml and in PennyLane + JAX.

A same-machine peer for the study's variational models: ``DataReuploadingClassifier`` and
``IQPVariationalClassifier`` written with PennyLane (``default.qubit``, JAX interface, ``jit``
of ``value_and_grad``) and optax as the study's models define them: the same circuit, loss,
initial-weight distribution, mini-batches drawn with replacement, Adam, and convergence test
(``skqml._optim.interval_descent``). Its random numbers come from JAX keys, so a seed of the
peer and the same seed of skqml are different draws of the same distributions; compare the
spread over seeds, not single seeds.

For each seed it fits both implementations on the study's data set (``load_dataset``) at the
given hyperparameters and records train and test accuracy, training steps and wall time
(the peer's includes its ``jit`` compilation, as a user's first fit would) into
``benchmarks/data/bowles2024_jax_peer.csv``; ``--report`` regenerates the section "Same
machine: the study's models in PennyLane + JAX" of the reproduction page from that file::

    python benchmarks/bowles2024_jax_peer.py IQPVariationalClassifier \\
        two_curves-5degree-0.1offset-5d n_layers=10 repeats=5 learning_rate=0.001 --seeds 0 5
    python benchmarks/bowles2024_jax_peer.py --report

Needs the ``bench`` extra (PennyLane, JAX and optax). Run it alone
on the machine: it times.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
import warnings
from math import ceil
from pathlib import Path

import numpy as np

try:
    import skqml  # noqa: F401  (the import checks that skqml is importable)
except ImportError:  # running from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import replace_section
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import MinMaxScaler

from skqml.studies.bowles2024 import MODELS, STUDY_DEFAULTS, load_dataset

OUT = Path(__file__).parent / "data" / "bowles2024_jax_peer.csv"
DOCS = Path(__file__).parents[1] / "docs" / "papers" / "bowles2024_reproduction.md"
SECTION_TITLE = "# Same machine: the study's models in PennyLane + JAX"
# A fit whose training accuracy stays below this stopped at the saddle the page describes.
STUCK_BELOW = 0.7
FIELDS = [
    "model",
    "dataset",
    "hyperparameters",
    "implementation",
    "seed",
    "train_acc",
    "test_acc",
    "steps",
    "seconds",
]


def _reuploading(jax, qml, n_qubits, n_layers, observable_type):
    """The study's data re-uploading circuit and weighted fidelity cost (Perez-Salinas et
    al. eq. 23), three features per qubit."""
    jnp = jax.numpy
    k = {"single": 1, "half": max(1, n_qubits // 2), "full": n_qubits}[observable_type]
    dev = qml.device("default.qubit", wires=n_qubits)

    @qml.qnode(dev, interface="jax")
    def circuit(p, x):
        for layer in range(n_layers):
            for q in range(n_qubits):
                qml.Rot(*(x[3 * q : 3 * q + 3] * p["omegas"][layer, 3 * q : 3 * q + 3]), wires=q)
                qml.Rot(*p["thetas"][q, layer, :], wires=q)
            for q in range(layer % 2, n_qubits - 1, 2):
                qml.CZ(wires=[q, q + 1])
        for q in range(n_qubits):
            angles = x[3 * q : 3 * q + 3] * p["omegas"][n_layers, 3 * q : 3 * q + 3]
            qml.Rot(*(angles + p["thetas"][q, n_layers, :]), wires=q)
        return [qml.expval(qml.PauliZ(q)) for q in range(k)]

    def outputs(p, X):
        return jax.vmap(lambda x: jnp.array(circuit(p, x)))(X)

    def loss(p, X, y):
        e = outputs(p, X)
        y0, y1 = ((1 - y) / 2)[:, None], ((1 + y) / 2)[:, None]
        cost = (p["alphas"][0] * (1 - e) / 2 - y0) ** 2 + (p["alphas"][1] * (1 + e) / 2 - y1) ** 2
        return 0.5 * jnp.sum(cost) / len(y)

    def decision(p, X):
        return np.asarray(outputs(p, X)).mean(axis=1)

    def init(key):
        thetas = jax.random.uniform(key(), shape=(n_qubits, n_layers + 1, 3))
        omegas = jax.random.uniform(key(), shape=(n_layers + 1, 3 * n_qubits))
        return {"thetas": thetas, "omegas": omegas, "alphas": jnp.ones((2, k))}

    return loss, decision, init


def _iqp_variational(jax, qml, n_qubits, n_layers, repeats):
    """IQP embedding, strongly entangling layers with CZ, ``<Z_0 Z_1>``, the probability
    of a wrong label as loss."""
    jnp = jax.numpy
    dev = qml.device("default.qubit", wires=n_qubits)

    @qml.qnode(dev, interface="jax")
    def circuit(p, x):
        qml.IQPEmbedding(x, wires=range(n_qubits), n_repeats=repeats)
        qml.StronglyEntanglingLayers(p["weights"], wires=range(n_qubits), imprimitive=qml.CZ)
        return qml.expval(qml.PauliZ(0) @ qml.PauliZ(1))

    def outputs(p, X):
        return jax.vmap(circuit, in_axes=(None, 0))(p, X)

    def loss(p, X, y):
        return jnp.mean((1 - outputs(p, X) * y) / 2)

    def decision(p, X):
        return np.asarray(outputs(p, X))

    def init(key):
        shape = (n_layers, n_qubits, 3)
        return {"weights": 2 * jnp.pi * jax.random.uniform(key(), shape=shape)}

    return loss, decision, init


def peer_fit(model: str, X_train, y_train, X_test, y_test, params: dict, seed: int):
    """(train accuracy, test accuracy, steps) of the PennyLane + JAX implementation."""
    import jax
    import jax.numpy as jnp
    import optax
    import pennylane as qml

    jax.config.update("jax_enable_x64", True)
    rng = np.random.default_rng(seed)
    # The study's key ranges: 10**5 for data re-uploading, 10**6 for the IQP model.
    key_range = 100000 if model == "DataReuploadingClassifier" else 1000000

    def key():
        return jax.random.PRNGKey(rng.integers(key_range))

    scaler = MinMaxScaler((-np.pi / 2, np.pi / 2)).fit(X_train)
    Xs, Xt = scaler.transform(X_train), scaler.transform(X_test)
    if model == "DataReuploadingClassifier":
        n_qubits = ceil(Xs.shape[1] / 3)
        pad = (0, 3 * n_qubits - Xs.shape[1])
        Xs, Xt = np.pad(Xs, ((0, 0), pad)), np.pad(Xt, ((0, 0), pad))
        loss, decision, init = _reuploading(
            jax, qml, n_qubits, params["n_layers"], params["observable_type"]
        )
        init(key)  # the study initialises twice: the first draw is discarded
    else:
        loss, decision, init = _iqp_variational(
            jax, qml, Xs.shape[1], params["n_layers"], params["repeats"]
        )
    weights = init(key)
    optimizer = optax.adam(params["learning_rate"])
    state = optimizer.init(weights)
    value_and_grad = jax.jit(jax.value_and_grad(loss))
    interval, history = 200, []
    for step in range(10000):
        rows = jax.random.choice(key(), jnp.arange(len(Xs)), shape=(32,), replace=True)
        value, grad = value_and_grad(weights, Xs[rows], y_train[rows])
        updates, state = optimizer.update(grad, state)
        weights = optax.apply_updates(weights, updates)
        history.append(float(value))
        if step > 2 * interval:
            last, before = (
                np.mean(history[-interval:]),
                np.mean(history[-2 * interval : -interval]),
            )
            if abs(before - last) <= np.std(history[-interval:]) / np.sqrt(interval) / 2:
                break

    def accuracy(X, y):
        return float(np.mean(np.where(decision(weights, X) > 0, 1, -1) == y))

    return accuracy(Xs, y_train), accuracy(Xt, y_test), step + 1


def skqml_fit(model: str, X_train, y_train, X_test, y_test, params: dict, seed: int):
    """(train accuracy, test accuracy, steps) of skqml's estimator."""
    settings = {**STUDY_DEFAULTS.get(model, {}), **params, "random_state": seed}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MODELS[model](**settings).fit(X_train, y_train)
    return clf.score(X_train, y_train), clf.score(X_test, y_test), clf.n_iter_


def _value(text: str):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def report() -> str:
    """The Markdown section summarising ``OUT``: one row per cell and implementation."""
    with OUT.open() as handle:
        rows = list(csv.DictReader(handle))
    cells: dict[tuple, list[dict]] = {}
    for row in rows:
        key = (row["model"], row["dataset"], row["hyperparameters"], row["implementation"])
        cells.setdefault(key, []).append(row)
    lines = [
        SECTION_TITLE,
        "",
        "Generated by `python benchmarks/bowles2024_jax_peer.py --report` from "
        "`benchmarks/data/bowles2024_jax_peer.csv`. The study's variational models written "
        "with PennyLane (`default.qubit`, JAX, `jit(value_and_grad)`) and optax exactly as "
        "the study defines them, fitted on this machine next to skqml's estimators with the "
        "same hyperparameters. Seeds are not shared (JAX keys against NumPy generators): "
        "compare the spreads. Fit times are whole fits, the peer's `jit` compilation "
        f"included; 'stuck' counts fits whose training accuracy stayed below {STUCK_BELOW}.",
        "",
        "| model | data set | hyperparameters | implementation | seeds | stuck | train "
        "mean | test mean (min-max) | median fit time |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for (model, dataset, params, implementation), group in cells.items():
        train = np.array([float(r["train_acc"]) for r in group])
        test = np.array([float(r["test_acc"]) for r in group])
        seconds = np.median([float(r["seconds"]) for r in group])
        lines.append(
            f"| {model} | {dataset} | {params} | {implementation} | {len(group)} | "
            f"{int((train < STUCK_BELOW).sum())} | {train.mean():.3f} | {test.mean():.3f} "
            f"({test.min():.3f}-{test.max():.3f}) | {seconds:.1f} s |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "model", nargs="?", choices=["DataReuploadingClassifier", "IQPVariationalClassifier"]
    )
    parser.add_argument("dataset", nargs="?")
    parser.add_argument("hyperparameters", nargs="*", help="name=value, e.g. n_layers=5")
    parser.add_argument("--seeds", type=int, nargs=2, default=(0, 5), metavar=("FIRST", "STOP"))
    parser.add_argument("--only", choices=["skqml", "pennylane+jax"])
    parser.add_argument("--report", action="store_true", help=f"regenerate the section in {DOCS}")
    args = parser.parse_args(argv)
    if args.report:
        replace_section(DOCS, SECTION_TITLE, report())
        return 0
    if args.model is None or args.dataset is None or not args.hyperparameters:
        parser.error("give a model, a data set and its hyperparameters, or --report")
    params = dict(item.split("=", 1) for item in args.hyperparameters)
    params = {name: _value(value) for name, value in params.items()}
    data = load_dataset(args.dataset)
    new = not OUT.exists()
    with OUT.open("a", newline="") as handle:
        writer = csv.DictWriter(handle, FIELDS)
        if new:
            writer.writeheader()
        for seed in range(*args.seeds):
            for name, fit in (("skqml", skqml_fit), ("pennylane+jax", peer_fit)):
                if args.only not in (None, name):
                    continue
                start = time.perf_counter()
                train, test, steps = fit(args.model, *data, params, seed)
                seconds = time.perf_counter() - start
                row = dict(
                    model=args.model,
                    dataset=args.dataset,
                    hyperparameters=" ".join(args.hyperparameters),
                    implementation=name,
                    seed=seed,
                    train_acc=f"{train:.6f}",
                    test_acc=f"{test:.6f}",
                    steps=steps,
                    seconds=f"{seconds:.2f}",
                )
                writer.writerow(row)
                handle.flush()
                print(
                    f"{name:14s} seed {seed}: train {train:.3f} test {test:.3f} "
                    f"steps {steps} {seconds:.1f} s",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
