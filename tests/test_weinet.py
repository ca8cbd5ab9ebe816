"""WeiNet of Bowles et al. (2024), against independent references: dense shift operators
applied to a normalised image vector, Pauli-Z products built by Kronecker products in the
study's wire order, the amplitude-encoding circuit on a measuring backend, finite
differences, and the published results
(``paper/results/bars_and_stripes/WeiNet/...`` of the qml-benchmarks repository)."""

from functools import reduce

import numpy as np
import pytest
from _reference import finite_difference_vjp

from skqml.backends import SamplingBackend, resolve_backend
from skqml.simulator import simulate_probabilities
from skqml.simulator._memory import SimulationMemoryError
from skqml.studies.bowles2024 import load_dataset
from skqml.variational import WeiNet

Z, I2 = np.diag([1.0, -1.0]), np.eye(2)


def shift(size, k):
    """The study's V: row i holds a 1 in column (i + k) mod size."""
    V = np.zeros((size, size))
    V[np.arange(size), (np.arange(size) + k) % size] = 1
    return V


def z_product(wires, n):
    """Z on the listed wires, wire 0 leftmost (the study's PennyLane order)."""
    return reduce(np.kron, [Z if w in wires else I2 for w in range(n)])


def dense_observables(image, n, shifts):
    """<obs> of every operator for one image (side x side, already padded to 2**(n/2))."""
    psi = image.ravel() / np.linalg.norm(image)
    size = 2 ** (n // 2)
    kept = [w for w in range(n - 1) if w != n // 2 - 1]
    wires = []
    for i in kept:  # the study's order: Z_i, then Z_i Z_j for j > i
        wires.append((i,))
        wires += [(i, j) for j in kept if j > i]
    out = []
    for a, b in shifts:
        phi = np.kron(shift(size, a), shift(size, b)) @ psi
        out.append([phi @ z_product(w, n) @ phi for w in wires] + [1.0])
    return np.array(out)


@pytest.mark.parametrize("as_coded", [False, True])
@pytest.mark.parametrize("side", [3, 4, 5, 8])
def test_observables_match_dense_shift_operators(side, as_coded):
    rng = np.random.default_rng(side)
    X = rng.normal(size=(3, side * side))
    model_est = WeiNet(as_coded=as_coded)
    model, theta0, n_qubits = model_est._setup(side * side, rng)
    assert n_qubits == max(2 * int(np.ceil(np.log2(side))), 4)
    obs = model_est._observables(model, X)
    size = 2 ** (n_qubits // 2)
    shifts = (
        [(a, a) for a in (-1, 0, 1) for _ in range(3)]
        if as_coded
        else [(a, b) for a in (-1, 0, 1) for b in (-1, 0, 1)]
    )
    for x, o in zip(X, obs, strict=True):
        image = np.zeros((size, size))
        image[:side, :side] = x.reshape(side, side)
        np.testing.assert_allclose(o, dense_observables(image, n_qubits, shifts), atol=1e-12)
    # The study's count of read-out weights: n - 1 + (n - 2)(n - 3) / 2.
    assert theta0.shape == (9 + n_qubits - 1 + (n_qubits - 2) * (n_qubits - 3) // 2,)


class ExactSampling(SamplingBackend):
    """A measuring backend with exact probabilities: it runs the amplitude-encoding circuit."""

    def probabilities(self, circuit, X=None, weights=None, *, max_memory_mb=None):
        return simulate_probabilities(circuit, X, weights, max_memory_mb=max_memory_mb)


def test_sampling_backends_run_the_encoding_circuit():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(4, 36))  # 6 x 6 images padded to 8 x 8: 6 qubits
    exact = WeiNet()
    model, _, _ = exact._setup(36, rng)
    circuit_model, _, _ = WeiNet(backend=ExactSampling())._setup(36, rng)
    assert circuit_model.circuit is not None and circuit_model.circuit.n_qubits == 6
    np.testing.assert_allclose(
        WeiNet()._observables(circuit_model, X), exact._observables(model, X), atol=1e-12
    )


def test_gradient_and_loss():
    rng = np.random.default_rng(2)
    X = rng.uniform(size=(7, 16))
    t = np.array([0, 1, 1, 0, 1, 0, 1.0])
    est = WeiNet()
    model, theta0, _ = est._setup(16, rng)
    theta = rng.normal(size=theta0.shape)
    f, grad = est._output(model, X, theta, lambda f: est._loss(f, t)[1])
    p = np.exp(theta[:9]) / np.exp(theta[:9]).sum()
    obs = est._observables(model, X)
    np.testing.assert_allclose(f, np.einsum("q,nqo,o->n", p, obs, theta[9:]), atol=1e-12)
    sigma = 1 / (1 + np.exp(-f))
    bce = -np.mean(t * np.log(sigma) + (1 - t) * np.log(1 - sigma))
    np.testing.assert_allclose(est._loss(f, t)[0], bce, rtol=1e-12)

    def loss(th):
        return np.array([est._loss(est._output(model, X, th)[0], t)[0]])

    np.testing.assert_allclose(grad, finite_difference_vjp(loss, theta, np.ones(1)), atol=1e-8)


def test_bars_and_stripes_at_chance_as_published():
    # Published (learning_rate 0.0001, edge_detect) on bars_and_stripes_4_x_4_0.5noise: test
    # 0.515-0.56. Amplitudes see squared pixels, and +-1 bars and stripes square to the same
    # image: the model is blind to the class, in the study and here.
    X_train, y_train, X_test, y_test = load_dataset("bars_and_stripes_4_x_4_0.5noise")
    scores = [
        WeiNet(learning_rate=0.001, as_coded=True, random_state=seed)
        .fit(X_train, y_train)
        .score(X_test, y_test)
        for seed in range(2)
    ]
    assert 0.4 <= np.mean(scores) <= 0.62


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_filter_name_does_not_change_the_model():
    rng = np.random.default_rng(3)
    y = rng.integers(2, size=80)
    X = rng.uniform(size=(80, 16))
    X[:, :8] += y[:, None]
    fits = [
        WeiNet(filter_name=name, max_steps=50, random_state=0).fit(X, y).weights_
        for name in ("edge_detect", "smooth", "sharpen")
    ]
    np.testing.assert_array_equal(fits[0], fits[1])
    np.testing.assert_array_equal(fits[0], fits[2])


def test_clear_errors():
    X = np.ones((10, 16))
    X[3] = 0
    y = np.arange(10) % 2
    with pytest.raises(ValueError, match="an image of zeros has no state"):
        WeiNet(max_steps=5).fit(X, y)
    clf = WeiNet(max_memory_mb=0.001)
    with pytest.raises(SimulationMemoryError):
        clf.fit(np.ones((10, 1024)), y)
    assert not hasattr(clf, "weights_")
    assert resolve_backend(WeiNet().backend).exact
