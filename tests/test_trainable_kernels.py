"""Tests for trainable quantum kernels: alignment, trainable weights, training, GP hyperparameters.

References, independent of the code under test:
- the alignment from explicit centering matrices ``H = I - 1 1^T / n`` and explicit target
  matrices (one-hot, +-1 labels, standardised targets);
- derivatives by central finite differences;
- states from the dense gate-by-gate unitaries of ``tests/_reference.circuit_unitary``.
"""

from __future__ import annotations

import numpy as np
import pytest

from skqml.kernels import kernel_alignment
from skqml.kernels._alignment import _alignment_and_gradient, target_matrix


# ----------------------------------------------------------------------------------------------
# kernel_alignment
# ----------------------------------------------------------------------------------------------
def _dense_alignment(K, T, centered=True):
    n = K.shape[0]
    H = np.eye(n) - np.ones((n, n)) / n if centered else np.eye(n)
    Kc, Tc = H @ K @ H, H @ T @ H
    return np.sum(Kc * Tc) / np.sqrt(np.sum(Kc * Kc) * np.sum(Tc * Tc))


def _random_gram(rng, n=7, d=3):
    F = rng.normal(size=(n, d))
    return F @ F.T + 0.1 * np.eye(n)


@pytest.mark.parametrize("centered", [True, False])
def test_alignment_binary_matches_dense_reference(centered):
    rng = np.random.default_rng(0)
    K = _random_gram(rng)
    y = np.array(["a", "b", "a", "a", "b", "b", "a"])
    signs = np.where(y == "a", -1.0, 1.0)
    expected = _dense_alignment(K, np.outer(signs, signs), centered)
    assert kernel_alignment(K, y, centered=centered) == pytest.approx(expected, rel=1e-12)


def test_alignment_multiclass_centered_equals_one_hot():
    rng = np.random.default_rng(1)
    K = _random_gram(rng, n=9)
    y = np.array([0, 1, 2, 0, 1, 2, 2, 0, 1])
    one_hot = np.eye(3)[y]
    expected = _dense_alignment(K, one_hot @ one_hot.T)
    assert kernel_alignment(K, y) == pytest.approx(expected, rel=1e-12)
    # Uncentered: the Cortes et al. target 1 / -1/(c-1), written out by hand.
    T = np.array([[1.0 if a == b else -0.5 for b in y] for a in y])
    assert kernel_alignment(K, y, centered=False) == pytest.approx(
        _dense_alignment(K, T, centered=False), rel=1e-12
    )


def test_alignment_regression_standardised_targets():
    rng = np.random.default_rng(2)
    K = _random_gram(rng)
    y = rng.normal(size=7) * 3 + 5
    z = (y - y.mean()) / y.std()
    for centered in (True, False):
        assert kernel_alignment(K, y, centered=centered) == pytest.approx(
            _dense_alignment(K, np.outer(z, z), centered), rel=1e-12
        )
    # Integer targets read as classes unless the task says otherwise.
    yi = np.array([1, 2, 3, 4, 5, 6, 7])
    zi = (yi - yi.mean()) / yi.std()
    assert kernel_alignment(K, yi, task="regression") == pytest.approx(
        _dense_alignment(K, np.outer(zi, zi)), rel=1e-12
    )
    assert kernel_alignment(K, yi) != pytest.approx(kernel_alignment(K, yi, task="regression"))


def test_alignment_invariances():
    rng = np.random.default_rng(3)
    K = _random_gram(rng, n=8)
    y = np.array([0, 1, 1, 0, 1, 0, 0, 1])
    a = kernel_alignment(K, y)
    assert kernel_alignment(3.7 * K, y) == pytest.approx(a, rel=1e-12)
    perm = rng.permutation(8)
    assert kernel_alignment(K[np.ix_(perm, perm)], y[perm]) == pytest.approx(a, rel=1e-12)
    # Centered alignment ignores a constant offset of the kernel; uncentered does not.
    assert kernel_alignment(K + 5.0, y) == pytest.approx(a, rel=1e-10)
    assert kernel_alignment(K + 5.0, y, centered=False) != pytest.approx(
        kernel_alignment(K, y, centered=False)
    )
    # The ideal kernel aligns perfectly; a constant one carries nothing.
    assert kernel_alignment(target_matrix(y), y) == pytest.approx(1.0)
    assert kernel_alignment(np.ones((8, 8)), y) == 0.0


@pytest.mark.parametrize("centered", [True, False])
@pytest.mark.parametrize("y", [np.array([0, 1, 1, 0, 2, 0]), np.linspace(-1, 2, 6) ** 2])
def test_alignment_gradient_finite_differences(centered, y):
    rng = np.random.default_rng(4)
    K = _random_gram(rng, n=6)
    T = target_matrix(y)
    _, G = _alignment_and_gradient(K, T, centered)
    eps = 1e-6
    for i, j in [(0, 0), (1, 3), (3, 1), (5, 2), (4, 4)]:
        Kp, Km = K.copy(), K.copy()
        Kp[i, j] += eps
        Km[i, j] -= eps
        fd = (
            _alignment_and_gradient(Kp, T, centered, False)[0]
            - _alignment_and_gradient(Km, T, centered, False)[0]
        ) / (2 * eps)
        assert G[i, j] == pytest.approx(fd, rel=1e-6, abs=1e-9)


def test_alignment_errors():
    K = np.eye(4)
    with pytest.raises(ValueError, match="same number of samples"):
        kernel_alignment(K, [0, 1, 0])
    with pytest.raises(ValueError, match="square"):
        kernel_alignment(np.ones((4, 3)), [0, 1, 0, 1])
    with pytest.raises(ValueError, match="at least 2 classes"):
        kernel_alignment(K, [1, 1, 1, 1])
    with pytest.raises(ValueError, match="constant"):
        kernel_alignment(K, [0.5, 0.5, 0.5, 0.5])
    with pytest.raises(ValueError, match="task must be"):
        kernel_alignment(K, [0, 1, 0, 1], task="ranking")
