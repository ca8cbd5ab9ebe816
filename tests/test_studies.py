"""skqml.studies.bowles2024 against the published results of Bowles, Ahmed and Schuld (2024).

The study's data files are not published, only its scores: a replayed data set is right when
the study's best hyperparameters give exactly the study's train and test accuracies on it
(``paper/results/<family>/<model>/..._GridSearchCV-best-hyperparams-results.csv`` of the
qml-benchmarks repository at tag v0.1; every seed gives the same score for these models).
"""

import numpy as np
import pytest
from sklearn.preprocessing import MinMaxScaler
from sklearn.svm import SVC

from skqml.circuits import IQPEmbedding
from skqml.studies.bowles2024 import DATASETS, load_dataset
from skqml.svm import QSVC


def test_linearly_separable_10d_gives_the_published_svc_scores():
    # SVC, best C=100, gamma=0.001: train 0.9958333333333333, test 0.9833333333333333.
    X_train, y_train, X_test, y_test = load_dataset("linearly_separable_10d")
    assert X_train.shape == (240, 10) and X_test.shape == (60, 10)
    model = SVC(C=100, gamma=0.001).fit(X_train, y_train)
    assert model.score(X_train, y_train) == 239 / 240
    assert model.score(X_test, y_test) == 59 / 60


def test_linearly_separable_5d_gives_the_published_iqp_kernel_scores():
    # IQPKernelClassifier, best C=1, repeats=1: train 0.9875, test 0.9333333333333333. The
    # study's model scales the features to [-pi/2, pi/2] with the training set's range.
    X_train, y_train, X_test, y_test = load_dataset("linearly_separable_5d")
    scaler = MinMaxScaler((-np.pi / 2, np.pi / 2)).fit(X_train)
    model = QSVC(IQPEmbedding(n_repeats=1), C=1.0, bandwidth=1.0)
    model.fit(scaler.transform(X_train), y_train)
    assert model.score(scaler.transform(X_train), y_train) == 237 / 240
    assert model.score(scaler.transform(X_test), y_test) == 56 / 60


def test_every_name_loads_and_labels_are_the_studys():
    for name in DATASETS:
        X_train, y_train, X_test, y_test = load_dataset(name)
        d = int(name.split("_")[-1][:-1])
        assert X_train.shape == (240, d) and X_test.shape == (60, d)
        assert set(np.unique(np.concatenate([y_train, y_test]))) == {-1, 1}
    # Deterministic: the replay starts from the study's seed every time.
    first, again = load_dataset("linearly_separable_3d"), load_dataset("linearly_separable_3d")
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", ["linearly_separable_1d", "linearly_separable_21d", "iris", 3])
def test_unknown_names_are_refused_with_the_available_ones(name):
    with pytest.raises(ValueError, match="linearly_separable_10d"):
        load_dataset(name)
