"""skqml.studies.bowles2024 against the published results of Bowles, Ahmed and Schuld (2024).

The study's data files are not published, only its scores: a replayed data set is right when
the study's best hyperparameters give exactly the study's train and test accuracies on it
(``paper/results/<family>/<model>/<model>_<name>_GridSearchCV-best-hyperparams{,-results}.csv``
of the qml-benchmarks repository at tag v0.1; these models score the same for every seed).
One data set per script is checked: the others come from the same replayed stream.
"""

import csv

import numpy as np
import pytest
from sklearn.preprocessing import MinMaxScaler
from sklearn.svm import SVC

from skqml.circuits import IQPEmbedding
from skqml.datasets import make_bars_and_stripes
from skqml.studies.bowles2024 import (
    DATASETS,
    GRIDS,
    MODELS,
    STUDY_DEFAULTS,
    load_dataset,
    main,
    run,
)
from skqml.svm import QSVC

# name, the study's best SVC (C, gamma), its published train and test accuracy.
PUBLISHED_SVC = [
    ("linearly_separable_10d", 100.0, 0.001, 0.9958333333333333, 0.9833333333333333),
    ("linearly_separable_3d", 100.0, 0.1, 1.0, 0.9833333333333333),
    ("hidden_manifold-6manifold-5d", 10.0, 1.0, 0.9333333333333333, 0.6666666666666666),
    ("hidden_manifold-10d-7manifold", 10.0, 0.1, 0.9208333333333333, 0.75),
    ("two_curves-5degree-0.1offset-6d", 100.0, 1.0, 1.0, 0.9833333333333333),
    ("two_curves-10d-5degree", 100.0, 0.01, 1.0, 1.0),
    ("hyperplanes-10d-from3d-5n", 10.0, 0.1, 0.8875, 0.8166666666666667),
]


@pytest.mark.parametrize(("name", "C", "gamma", "train", "test"), PUBLISHED_SVC)
def test_replayed_data_give_the_published_svc_scores(name, C, gamma, train, test):
    X_train, y_train, X_test, y_test = load_dataset(name)
    assert X_train.shape[0] == 240 and X_test.shape[0] == 60
    model = SVC(C=C, gamma=gamma).fit(X_train, y_train)
    assert model.score(X_train, y_train) == pytest.approx(train, abs=1e-12)
    assert model.score(X_test, y_test) == pytest.approx(test, abs=1e-12)


def test_linearly_separable_5d_gives_the_published_iqp_kernel_scores():
    # IQPKernelClassifier, best C=1, repeats=1: train 0.9875, test 0.9333333333333333. The
    # study's model scales the features to [-pi/2, pi/2] with the training set's range.
    X_train, y_train, X_test, y_test = load_dataset("linearly_separable_5d")
    scaler = MinMaxScaler((-np.pi / 2, np.pi / 2)).fit(X_train)
    model = QSVC(IQPEmbedding(n_repeats=1), C=1.0, bandwidth=1.0)
    model.fit(scaler.transform(X_train), y_train)
    assert model.score(scaler.transform(X_train), y_train) == 237 / 240
    assert model.score(scaler.transform(X_test), y_test) == 56 / 60


def test_bars_and_stripes_is_one_stream_with_the_studys_labels():
    X_train, y_train, X_test, y_test = load_dataset("bars_and_stripes_4_x_4_0.5noise")
    assert X_train.shape == (1000, 16) and X_test.shape == (200, 16)
    rng = np.random.RandomState(42)
    X, y = make_bars_and_stripes(1000, height=4, width=4, noise_std=0.5, random_state=rng)
    X2, y2 = make_bars_and_stripes(200, height=4, width=4, noise_std=0.5, random_state=rng)
    np.testing.assert_array_equal(X_train, X)
    np.testing.assert_array_equal(X_test, X2)
    # v0.1 labelled row images (stripes) -1: the opposite of make_bars_and_stripes.
    np.testing.assert_array_equal(y_train, -y)
    np.testing.assert_array_equal(y_test, -y2)


def test_every_name_loads_with_the_studys_shapes_and_labels():
    assert len(DATASETS) == len(set(DATASETS)) == 19 * 6 + 4
    for name in DATASETS:
        if name.startswith("bars_and_stripes_16") or name.startswith("bars_and_stripes_32"):
            continue  # large images; the 4 x 4 set checks the family
        X_train, y_train, X_test, y_test = load_dataset(name)
        assert X_train.shape[1] == X_test.shape[1]
        assert X_train.shape[0] in (240, 1000) and X_test.shape[0] in (60, 200)
        assert set(np.unique(np.concatenate([y_train, y_test]))) <= {-1, 1}
    first, again = load_dataset("two_curves-10d-3degree"), load_dataset("two_curves-10d-3degree")
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "name", ["linearly_separable_1d", "linearly_separable_21d", "mnist_3-5_10d", "iris", 3]
)
def test_unknown_names_are_refused_with_examples_of_known_ones(name):
    with pytest.raises(ValueError, match="hidden_manifold-6manifold-5d"):
        load_dataset(name)


# The study's grid search of SVC on linearly_separable_10d: mean 5-fold CV accuracy of every
# grid point in the published file's order (C outer, gamma inner; SVC_linearly_separable_10d_
# GridSearchCV.csv, which predates the roc_auc columns).
PUBLISHED_SVC_SEARCH_10D = [
    0.5333333333333334, 0.5333333333333334, 0.8, 0.5333333333333334,
    0.5333333333333334, 0.9166666666666666, 0.9541666666666666, 0.8916666666666666,
    0.9208333333333332, 0.9708333333333334, 0.9416666666666667, 0.8916666666666666,
    0.975, 0.975, 0.9416666666666668, 0.8916666666666666,
]  # fmt: skip


def read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def test_run_reproduces_the_published_search_and_writes_the_studys_files(tmp_path):
    result = run("SVC", "linearly_separable_10d", out=tmp_path)
    stem = "SVC_linearly_separable_10d_GridSearchCV"
    assert [p.name for p in result.files] == [
        f"{stem}.csv",
        f"{stem}-best-hyperparams.csv",
        f"{stem}-best-hyperparams-results.csv",
    ]
    header, rows = read_csv(tmp_path / f"{stem}.csv")
    assert header[:8] == [
        "", "mean_fit_time", "std_fit_time", "mean_score_time", "std_score_time", "param_C",
        "param_gamma", "params",
    ]  # fmt: skip
    assert "mean_test_roc_auc" in header and "rank_test_accuracy" in header
    column = header.index("mean_test_accuracy")
    np.testing.assert_allclose(
        [float(row[column]) for row in rows], PUBLISHED_SVC_SEARCH_10D, rtol=0, atol=1e-15
    )
    assert rows[0][header.index("params")] == "{'C': 0.1, 'gamma': 0.001}"
    assert read_csv(tmp_path / f"{stem}-best-hyperparams.csv") == (
        ["hyperparameter", "best_value"],
        [["C", "100.0"], ["gamma", "0.001"]],
    )
    header, rows = read_csv(tmp_path / f"{stem}-best-hyperparams-results.csv")
    assert header == ["", "train_acc", "test_acc"]
    # The published five seeds (SVC is deterministic): 239/240 and 59/60.
    assert [[float(v) for v in row[1:]] for row in rows] == [[239 / 240, 59 / 60]] * 5
    assert result.best_params == {"C": 100.0, "gamma": 0.001}


def test_run_refuses_unknown_models():
    with pytest.raises(ValueError, match=r"unknown model 'SVM'.*SVC"):
        run("SVM", "linearly_separable_2d")
    with pytest.raises(ValueError, match="unknown data set"):
        run("SVC", "linearly_separable_1d")


def test_every_grid_uses_the_models_own_parameter_names():
    assert set(MODELS) == set(GRIDS)  # every model of the study's grids is in skqml
    for name, cls in MODELS.items():
        params = cls(**STUDY_DEFAULTS.get(name, {})).get_params()
        assert set(GRIDS[name]) <= set(params), name


def test_command_line_writes_the_files_and_reports(tmp_path, capsys):
    grid = ["--model", "Perceptron", "--dataset", "linearly_separable_2d"]
    assert main([*grid, "--out", str(tmp_path), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Perceptron on linearly_separable_2d: best {'eta0': ")
    assert len(list(tmp_path.glob("Perceptron_linearly_separable_2d_GridSearchCV*.csv"))) == 3
    with pytest.raises(SystemExit):
        main(["--model", "Nope", "--dataset", "linearly_separable_2d"])
    assert "unknown model 'Nope'" in capsys.readouterr().err
