"""A benchmark study's protocol: grid search by cross-validation, then the best
hyperparameters fitted with several seeds and scored on a test set, written as CSV files.

The files are those of the qml-benchmarks code (Bowles et al. 2024), written with the
standard library (pandas is not a dependency): ``cv_results_`` as a table with a leading
index column, the best hyperparameters as ``hyperparameter,best_value`` rows, and one
``train_acc,test_acc`` row per seed.
"""

from __future__ import annotations

import csv
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from .._progress import format_seconds

__all__ = ["StudyResult", "run_protocol"]


@dataclass
class StudyResult:
    """What one run of the protocol found.

    Attributes
    ----------
    search : GridSearchCV
        The fitted search (``cv_results_``, ``best_params_``, ``best_score_``).
    best_params : dict
        The hyperparameters with the highest mean cross-validated accuracy.
    train_acc, test_acc : list of float
        Accuracy on the training and the test set of the best hyperparameters fitted with
        ``random_state=seed``, one entry per seed.
    files : list of Path
        The CSV files written (empty without ``out``).
    """

    search: GridSearchCV
    best_params: dict
    train_acc: list[float]
    test_acc: list[float]
    files: list[Path] = field(default_factory=list)


def _python(value):
    """A value as the CSV cell pandas writes: Python scalars, NaN as an empty cell."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, dict):
        return str({key: _python(v) for key, v in value.items()})
    if isinstance(value, float) and math.isnan(value):
        return ""
    return value


def _column(values) -> list:
    if isinstance(values, np.ma.MaskedArray):
        return [None if masked else v for v, masked in zip(values.data, values.mask, strict=True)]
    return list(values)


def _write_rows(path: Path, header: Sequence[str], rows: Iterable[Sequence]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for row in rows:
            writer.writerow(["" if v is None else _python(v) for v in row])
    return path


def run_protocol(
    estimator,
    grid: Mapping[str, Sequence],
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_test: np.ndarray,
    y_test: np.ndarray,
    *,
    stem: str,
    seeds: Sequence[int] = range(5),
    scoring: Sequence[str] = ("accuracy", "roc_auc"),
    refit: str = "accuracy",
    cv=5,
    n_jobs: int | None = None,
    out: str | Path | None = None,
    verbose: int = 0,
) -> StudyResult:
    """Grid search, then the best hyperparameters with every seed, optionally written out.

    ``estimator`` is cloned for the search (its ``random_state`` as given) and for each
    seed (``random_state=seed`` when it has one). Files, under ``out``: ``{stem}.csv``
    (``cv_results_``), ``{stem}-best-hyperparams.csv`` and
    ``{stem}-best-hyperparams-results.csv``.
    """
    start = time.perf_counter()
    search = GridSearchCV(
        clone(estimator),
        {name: list(values) for name, values in grid.items()},
        scoring=list(scoring),
        refit=refit,
        cv=cv,
        n_jobs=n_jobs,
        verbose=max(0, verbose - 1),
    )
    search.fit(X_train, y_train)
    best = {name: _python(value) for name, value in search.best_params_.items()}
    if verbose:
        print(
            f"[{stem}] grid search: {len(search.cv_results_['params'])} points, best "
            f"{best} (mean CV accuracy {search.best_score_:.4f}) in "
            f"{format_seconds(time.perf_counter() - start)}",
            flush=True,
        )
    train_acc, test_acc = [], []
    for seed in seeds:
        model = clone(estimator).set_params(**best)
        if "random_state" in model.get_params(deep=False):
            model.set_params(random_state=seed)
        tic = time.perf_counter()
        model.fit(X_train, y_train)
        train_acc.append(float(model.score(X_train, y_train)))
        test_acc.append(float(model.score(X_test, y_test)))
        if verbose:
            print(
                f"[{stem}] seed {seed}: train {train_acc[-1]:.4f}, test {test_acc[-1]:.4f} "
                f"({format_seconds(time.perf_counter() - tic)})",
                flush=True,
            )
    result = StudyResult(search, best, train_acc, test_acc)
    if out is not None:
        out = Path(out)
        results = search.cv_results_
        columns = list(results)
        n_points = len(results["params"])
        table = {name: _column(results[name]) for name in columns}
        result.files = [
            _write_rows(
                out / f"{stem}.csv",
                ["", *columns],
                ([i, *(table[name][i] for name in columns)] for i in range(n_points)),
            ),
            _write_rows(
                out / f"{stem}-best-hyperparams.csv",
                ["hyperparameter", "best_value"],
                best.items(),
            ),
            _write_rows(
                out / f"{stem}-best-hyperparams-results.csv",
                ["", "train_acc", "test_acc"],
                ([i, a, b] for i, (a, b) in enumerate(zip(train_acc, test_acc, strict=True))),
            ),
        ]
        if verbose:
            print(f"[{stem}] written: {', '.join(str(p) for p in result.files)}", flush=True)
    return result
