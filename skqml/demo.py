"""A short tour of skqml: quantum kernel SVMs inside ordinary scikit-learn workflows.

Run it with ``python -m skqml.demo`` (add ``--quick`` for a smaller version). Two tables:

1. Real data with every model at its defaults, as a user tries them first: scikit-learn's
   wine data set, ``StandardScaler`` and ``PCA(8)``, then ``QSVC()``,
   ``QSVC(kernel="projected")`` (projected quantum kernel, Huang et al. 2021) and the
   classical ``SVC()``. The quantum kernels choose their bandwidth from the training data
   (``bandwidth="scale"``), as ``SVC`` chooses ``gamma``.
2. The "ad hoc" data set of Havlicek et al. (2019), whose features are already the angles of
   the ZZ feature map that labelled them (``bandwidth=1.0`` keeps them): a
   ``Pipeline(MinMaxScaler, QSVC(ZZFeatureMap(reps=2)))``, the same pipeline tuned by
   ``GridSearchCV`` over the feature map's ``reps`` and ``entanglement`` and the SVM's ``C``,
   the projected kernel and the classical ``SVC`` baseline.

Each model is cross-validated on a training set and scored on a held-out test set.
Everything is seeded: apart from the timings, the output is the same on every run.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from math import pi

import numpy as np
from sklearn.datasets import load_wine
from sklearn.decomposition import PCA
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.svm import SVC

from . import __version__
from .circuits import ZZFeatureMap
from .datasets import make_ad_hoc
from .svm import QSVC

__all__ = ["main", "run", "run_real_data"]

# The ad hoc features are angles in [0, 2 pi): the range on which the ZZ feature map that
# labelled them acts. The scaler keeps that range (for new data it maps the training range
# there). Squeezing the features into (0, pi) halves every angle, gives a different kernel
# and loses most of the accuracy on this data set.
FEATURE_RANGE = (0.0, 2 * pi)

PARAM_GRID = {
    "qsvc__feature_map__reps": [1, 2],
    "qsvc__feature_map__entanglement": ["linear", "full"],
    "qsvc__C": [0.1, 1, 10],
}


@dataclass
class Result:
    """Scores of one model.

    Attributes
    ----------
    name : str
        Model description.
    cv_scores : ndarray of shape (n_splits,)
        Cross-validated accuracies on the training set.
    test_accuracy : float
        Accuracy on the held-out test set after fitting on the whole training set.
    fit_time : float
        Seconds to fit on the training set (for the grid search: the whole search).
    """

    name: str
    cv_scores: np.ndarray
    test_accuracy: float
    fit_time: float


def _scaled(estimator, step: str) -> Pipeline:
    return Pipeline([("scale", MinMaxScaler(FEATURE_RANGE)), (step, estimator)])


def _standardised(estimator, step: str) -> Pipeline:
    return Pipeline([("scale", StandardScaler()), ("pca", PCA(8)), (step, estimator)])


def run_real_data(*, quick: bool = False, random_state: int = 0):
    """Default quantum kernel SVMs next to ``SVC()`` on standardised wine (8 components).

    Parameters
    ----------
    quick : bool, default=False
        3-fold instead of 5-fold cross-validation.
    random_state : int, default=0
        Seed of the train/test split.

    Returns
    -------
    results : list of Result
        ``QSVC()``, ``QSVC(kernel="projected")`` and ``SVC()``, in that order.
    info : dict
        Sizes of the splits.
    """
    X, y = load_wine(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=random_state
    )
    cv = 3 if quick else 5
    data = (X_train, y_train, X_test, y_test, cv)
    results = [
        _evaluate("QSVC()", _standardised(QSVC(), "qsvc"), *data),
        _evaluate(
            'QSVC(kernel="projected")', _standardised(QSVC(kernel="projected"), "qsvc"), *data
        ),
        _evaluate("SVC()  classical RBF kernel", _standardised(SVC(), "svc"), *data),
    ]
    return results, {"n_train": len(y_train), "n_test": len(y_test), "cv": cv}


def _evaluate(name, model, X_train, y_train, X_test, y_test, cv) -> Result:
    scores = cross_val_score(model, X_train, y_train, cv=cv)
    start = time.perf_counter()
    model.fit(X_train, y_train)
    fit_time = time.perf_counter() - start
    return Result(name, scores, float(model.score(X_test, y_test)), fit_time)


def run(*, quick: bool = False, n_jobs: int = 2, random_state: int = 0):
    """Fit and score every model of the demo.

    Parameters
    ----------
    quick : bool, default=False
        Use 40 samples and 3-fold cross-validation instead of 100 samples and 5 folds.
    n_jobs : int, default=2
        Parallel jobs of the grid search.
    random_state : int, default=0
        Seed of the data set and of the train/test split.

    Returns
    -------
    results : list of Result
        One entry per model, in the order of the table.
    search : GridSearchCV
        The fitted grid search.
    info : dict
        Sizes of the data set and of the splits.
    """
    n_samples, cv = (40, 3) if quick else (100, 5)
    X, y = make_ad_hoc(n_samples=n_samples, n_features=2, gap=0.3, random_state=random_state)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=random_state
    )
    data = (X_train, y_train, X_test, y_test, cv)

    # The ad hoc features are the ZZ map's angles: bandwidth=1.0 keeps them (the published
    # setting), where "scale" would shrink them like any other data.
    qsvc = QSVC(ZZFeatureMap(reps=2), bandwidth=1.0)
    results = [_evaluate("QSVC  ZZFeatureMap(reps=2)", _scaled(qsvc, "qsvc"), *data)]

    search = GridSearchCV(
        _scaled(QSVC(ZZFeatureMap(), bandwidth=1.0), "qsvc"), PARAM_GRID, cv=cv, n_jobs=n_jobs
    )
    start = time.perf_counter()
    search.fit(X_train, y_train)
    search_time = time.perf_counter() - start
    best = search.best_index_
    folds = [search.cv_results_[f"split{k}_test_score"][best] for k in range(cv)]
    results.append(
        Result(
            "QSVC  ZZFeatureMap, grid-searched",
            np.array(folds),
            float(search.score(X_test, y_test)),
            search_time,
        )
    )

    projected = QSVC(kernel="projected", bandwidth=1.0)
    results.append(_evaluate("QSVC  projected kernel", _scaled(projected, "qsvc"), *data))
    results.append(_evaluate("SVC   classical RBF kernel", _scaled(SVC(), "svc"), *data))

    info = {
        "n_samples": n_samples,
        "n_train": len(y_train),
        "n_test": len(y_test),
        "cv": cv,
        "n_fits": cv * len(search.cv_results_["params"]),
    }
    return results, search, info


def format_table(results) -> str:
    """The results as a plain-text table.

    Parameters
    ----------
    results : list of Result
        What :func:`run` returned.

    Returns
    -------
    str
    """
    header = ("model", "CV accuracy", "test accuracy", "fit time")
    rows = [
        (
            r.name,
            f"{r.cv_scores.mean():.3f} ± {r.cv_scores.std():.3f}",
            f"{r.test_accuracy:.3f}",
            f"{r.fit_time:.3f} s",
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells):
        first = cells[0].ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join([first, *rest])

    return "\n".join([line(header), "  ".join("-" * w for w in widths), *map(line, rows)])


def main(argv=None) -> int:
    """Command-line entry point of ``python -m skqml.demo``.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default: ``sys.argv[1:]``). ``--quick`` runs a smaller version,
        ``--n-jobs N`` sets the grid search's parallel jobs.

    Returns
    -------
    int
        Exit status (0).
    """
    parser = argparse.ArgumentParser(
        prog="python -m skqml.demo",
        description="Quantum kernel SVMs on real and ad hoc data, next to a classical SVM.",
    )
    parser.add_argument("--quick", action="store_true", help="40 samples, 3-fold CV")
    parser.add_argument("--n-jobs", type=int, default=2, help="grid-search jobs (default 2)")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    real, real_info = run_real_data(quick=args.quick)
    results, search, info = run(quick=args.quick, n_jobs=args.n_jobs)
    total = time.perf_counter() - start

    low, high = FEATURE_RANGE
    print(f"skqml {__version__} demo: quantum kernel SVMs in scikit-learn")
    print()
    print("1. Defaults on real data: sklearn.datasets.load_wine, StandardScaler, PCA(8);")
    print(
        f"   {real_info['n_train']} training and {real_info['n_test']} test samples "
        f"(stratified split), {real_info['cv']}-fold CV on the training set."
    )
    print()
    print(format_table(real))
    print()
    print("2. Data made for a quantum kernel:")
    print()
    print(
        f"Data: make_ad_hoc(n_samples={info['n_samples']}, n_features=2, gap=0.3, random_state=0)"
    )
    print("      (the ZZ-feature-map data set of Havlicek et al. 2019),")
    print(
        f"      {info['n_train']} training and {info['n_test']} test samples (stratified split), "
        f"features min-max scaled to [{low:g}, {high / pi:g} pi]."
    )
    print(f"CV accuracy: {info['cv']}-fold cross-validation on the training set.")
    print()
    print(format_table(results))
    print()
    params = ", ".join(f"{k}={v!r}" for k, v in sorted(search.best_params_.items()))
    print(f"Grid search: {info['n_fits']} CV fits (its fit time includes them), best parameters")
    print(f"  {params}")
    print("  (on 2 qubits, 'linear' and 'full' entanglement couple the same pair and tie)")
    print()
    print(f"Total time {total:.1f} s.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
