"""Quantum Boltzmann machines against independent references.

References: brute-force enumeration of classical Boltzmann machines, dense Hamiltonians built
from Kronecker products of Pauli matrices with ``scipy.linalg.expm``, central finite
differences of the training losses, and a chi-square test of the samples.
"""

import itertools
import pickle
import time
import warnings

import numpy as np
import pytest
from scipy import linalg, stats
from sklearn.base import clone
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning

from skqml.boltzmann import QBMClassifier, QuantumBoltzmannMachine
from skqml.boltzmann import _gibbs as g
from skqml.datasets import make_bernoulli_mixture
from skqml.simulator import SimulationMemoryError

# Most fits here are deliberately short: what is tested is exactness, not convergence.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

I2 = np.eye(2)
X2 = np.array([[0.0, 1.0], [1.0, 0.0]])
Z2 = np.diag([1.0, -1.0])


def _op(single, qubits, n):
    """Kronecker product with ``single`` on ``qubits`` (qubit 0 = first factor)."""
    out = np.ones((1, 1))
    for a in range(n):
        out = np.kron(out, single if a in qubits else I2)
    return out


def _dense_h(bias, couplings, gamma):
    n = len(bias)
    H = np.zeros((2**n, 2**n))
    for a in range(n):
        H -= gamma[a] * _op(X2, [a], n) + bias[a] * _op(Z2, [a], n)
        for b in range(a + 1, n):
            H -= couplings[a, b] * _op(Z2, [a, b], n)
    return H


def _all_states(n):
    return np.array(list(itertools.product((0, 1), repeat=n)))


def _reference(qbm):
    """Dense expm reference of a fitted QBM: joint diagonal, marginal, log Z, Gibbs state."""
    bias = np.concatenate([qbm.visible_bias_, qbm.hidden_bias_])
    H = _dense_h(bias, qbm.couplings_, qbm.transverse_field_)
    expH = linalg.expm(-H)
    Z = np.trace(expH)
    n_v, n_h = qbm.n_features_in_, qbm.n_hidden
    joint = (np.diag(expH) / Z).reshape(2**n_v, 2**n_h)
    return H, expH / Z, joint, joint.sum(1), np.log(Z)


@pytest.fixture(scope="module")
def mixture():
    X, _ = make_bernoulli_mixture(300, n_features=4, n_modes=3, random_state=0)
    return X


# -- exactness ----------------------------------------------------------------------------------
@pytest.mark.parametrize("connectivity", ["full", "restricted"])
def test_zero_field_equals_classical_enumeration(mixture, connectivity):
    qbm = QuantumBoltzmannMachine(
        2, connectivity=connectivity, transverse_field=0.0, max_iter=30, random_state=0
    ).fit(mixture)
    # Classical BM: E(s) = -sum_a b_a z_a - sum_{a<b} w_ab z_a z_b with z = 1 - 2 s.
    states = _all_states(6)
    z = 1 - 2 * states
    b = np.concatenate([qbm.visible_bias_, qbm.hidden_bias_])
    energy = -z @ b - 0.5 * np.einsum("sa,ab,sb->s", z, qbm.couplings_, z)
    weights = np.exp(-energy)
    p_v = weights.reshape(16, 4).sum(1) / weights.sum()
    np.testing.assert_allclose(np.exp(qbm.score_samples(_all_states(4))), p_v, rtol=1e-12)
    assert qbm.log_partition_ == pytest.approx(np.log(weights.sum()), rel=1e-12)
    if connectivity == "restricted":
        assert np.all(qbm.couplings_[:4, :4] == 0) and np.all(qbm.couplings_[4:, 4:] == 0)
    # transform: E[z_h | v] of the classical joint distribution.
    joint = (weights / weights.sum()).reshape(16, 4)
    expected = (joint / joint.sum(1, keepdims=True)) @ (1 - 2 * _all_states(2))
    np.testing.assert_allclose(qbm.transform(_all_states(4)), expected, atol=1e-12)


@pytest.mark.parametrize("learn", [False, True])
def test_quantum_model_matches_dense_expm(mixture, learn):
    qbm = QuantumBoltzmannMachine(
        2, transverse_field=0.8, learn_transverse_field=learn, max_iter=30, random_state=0
    ).fit(mixture)
    _, rho, _, p_v, log_z = _reference(qbm)
    states = _all_states(4)
    log_p = qbm.score_samples(states)
    np.testing.assert_allclose(np.exp(log_p), p_v, rtol=1e-10)
    assert np.exp(log_p).sum() == pytest.approx(1.0, abs=1e-12)
    assert qbm.log_partition_ == pytest.approx(log_z, rel=1e-12)
    assert qbm.score(mixture) == pytest.approx(np.mean(np.log(p_v[g.bits_to_index(mixture)])))
    # transform: Tr[(|v><v| (x) Z_h) rho] / p(v), from the dense Gibbs state.
    for k, v in enumerate(states):
        proj = np.diag(np.kron(np.eye(16)[k], np.ones(4)))
        for h in range(2):
            expect = np.trace(proj @ _op(Z2, [4 + h], 6) @ rho) / p_v[k]
            assert qbm.transform(v[None])[0, h] == pytest.approx(expect, abs=1e-10)
    if learn:
        assert not np.allclose(qbm.transverse_field_, 0.8)  # it was learned


def test_bound_is_a_lower_bound(mixture):
    qbm = QuantumBoltzmannMachine(
        2, transverse_field=1.5, objective="bound", max_iter=30, random_state=0
    ).fit(mixture)
    H, _, _, p_v, log_z = _reference(qbm)
    blocks = H.reshape(16, 4, 16, 4)
    for k in range(16):
        bound = np.trace(linalg.expm(-blocks[k, :, k, :])) / np.exp(log_z)
        assert p_v[k] >= bound * (1 + 1e-12)
    # Golden-Thompson is strict with a transverse field on the hidden qubits.
    assert -qbm.score(mixture) < qbm.loss_curve_[-1]


# -- gradients ----------------------------------------------------------------------------------
def _objective_and_theta(qbm, X, seed=0):
    n_v = X.shape[1]
    pairs, z_table, perms = qbm._structure(n_v)
    rng = np.random.RandomState(seed)
    theta = qbm._initial_theta(n_v, pairs, rng)
    theta = theta + rng.normal(0.0, 0.5, theta.size)
    return qbm._objective(g.bits_to_index(X), n_v, pairs, z_table, perms), theta


def _check_gradient(fun, theta, rtol=1e-6):
    loss, grad = fun(theta, None)
    h = 1e-5
    fd = np.array(
        [
            (fun(theta + h * e, None)[0] - fun(theta - h * e, None)[0]) / (2 * h)
            for e in np.eye(theta.size)
        ]
    )
    np.testing.assert_allclose(grad, fd, rtol=0, atol=rtol * np.abs(fd).max())
    return loss


@pytest.mark.parametrize(
    "params",
    [
        dict(n_hidden=2, transverse_field=0.7),
        dict(n_hidden=2, transverse_field=0.7, learn_transverse_field=True),
        dict(
            n_hidden=2,
            connectivity="restricted",
            transverse_field=0.3,
            learn_transverse_field=True,
        ),
        dict(n_hidden=0, transverse_field=1.2, learn_transverse_field=True),
        dict(n_hidden=2, transverse_field=0.7, objective="bound"),
        dict(n_hidden=0, transverse_field=2.0, objective="bound"),
        dict(n_hidden=1, connectivity="restricted", transverse_field=0.5, objective="bound"),
    ],
    ids=lambda p: "-".join(f"{k}={v}" for k, v in p.items()),
)
def test_gradients_equal_finite_differences(mixture, params):
    qbm = QuantumBoltzmannMachine(**params)
    fun, theta = _objective_and_theta(qbm, mixture)
    loss = _check_gradient(fun, theta)
    # The loss is what it claims to be: the exact NLL, or the bound (which is above it).
    qbm._set_state(theta, 4, *qbm._structure(4))
    nll = -qbm.score(mixture)
    if params.get("objective") == "bound":
        assert loss >= nll - 1e-12
    else:
        assert loss == pytest.approx(nll, rel=1e-12)


def test_derivative_kernel_degenerate_limit():
    E = np.array([0.0, 1e-14, 0.5, 3.0])
    K = g.derivative_kernel(E)
    assert K[0, 1] == pytest.approx(-np.exp(-5e-15), rel=1e-12)
    assert K[2, 3] == pytest.approx((np.exp(-0.5) - np.exp(-3.0)) / (0.5 - 3.0), rel=1e-12)
    np.testing.assert_allclose(np.diag(K), -np.exp(-E))


# -- sampling -----------------------------------------------------------------------------------
def test_samples_pass_chi_square(mixture):
    qbm = QuantumBoltzmannMachine(1, transverse_field=1.0, max_iter=40, random_state=0)
    qbm.fit(mixture)
    samples = qbm.sample(20000, random_state=1)
    assert samples.shape == (20000, 4) and set(np.unique(samples)) <= {0, 1}
    observed = np.bincount(g.bits_to_index(samples), minlength=16)
    expected = 20000 * np.exp(qbm.score_samples(_all_states(4)))
    assert stats.chisquare(observed, expected).pvalue > 1e-3
    np.testing.assert_array_equal(samples, qbm.sample(20000, random_state=1))


# -- the ordering of Amin et al. ----------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1])
def test_kl_ordering_on_bernoulli_mixture(seed):
    """Exact KL: classical BM > bound-trained QBM (Gamma = 2) > likelihood QBM, learned Gamma."""
    n, modes = 6, 4
    X, _ = make_bernoulli_mixture(20000, n_features=n, n_modes=modes, random_state=seed)
    centres = np.random.RandomState(seed).randint(0, 2, size=(modes, n))  # documented order
    states = _all_states(n)
    d = (states[:, None, :] != centres[None]).sum(-1)
    target = (0.9 ** (n - d) * 0.1**d).mean(1)

    def kl(**params):
        qbm = QuantumBoltzmannMachine(optimizer="lbfgs", max_iter=500, random_state=0, **params)
        return target @ (np.log(target) - qbm.fit(X).score_samples(states))

    classical = kl(transverse_field=0.0)
    bound = kl(transverse_field=2.0, objective="bound")
    quantum = kl(transverse_field=1.0, learn_transverse_field=True)
    assert classical > bound > quantum > 0
    assert quantum < 0.6 * classical


# -- estimator behaviour ------------------------------------------------------------------------
def test_reproducible_and_pickle(mixture):
    params = dict(n_hidden=2, transverse_field=0.5, batch_size=64, max_iter=5, random_state=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = QuantumBoltzmannMachine(**params).fit(mixture)
        b = QuantumBoltzmannMachine(**params).fit(mixture)
    np.testing.assert_array_equal(a.couplings_, b.couplings_)
    assert a.loss_curve_ == b.loss_curve_ and a.n_iter_ == 5
    c = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(c.score_samples(mixture), a.score_samples(mixture))
    np.testing.assert_array_equal(c.transform(mixture), a.transform(mixture))
    np.testing.assert_array_equal(c.sample(50, random_state=0), a.sample(50, random_state=0))


def test_convergence_warning_partial_fit_and_warm_start(mixture):
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        qbm = QuantumBoltzmannMachine(1, max_iter=3, random_state=0).fit(mixture)
    before = qbm.loss_curve_[-1]
    qbm.set_params(warm_start=True, max_iter=20, n_iter_no_change=100)
    qbm.fit(mixture)
    assert qbm.n_iter_ == 23 and qbm.loss_curve_[-1] < before
    online = QuantumBoltzmannMachine(1, random_state=0)
    for _ in range(3):
        online.partial_fit(mixture)
    assert online.n_iter_ == 3
    np.testing.assert_allclose(online.loss_curve_, qbm.loss_curve_[:3])
    assert not hasattr(QuantumBoltzmannMachine(optimizer="lbfgs"), "partial_fit")
    with pytest.raises(ValueError, match="same number of qubits"):
        qbm.set_params(n_hidden=2).fit(mixture)
    converged = QuantumBoltzmannMachine(optimizer="lbfgs", random_state=0, max_iter=500)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        converged.fit(mixture)
    assert -converged.score(mixture) <= qbm.loss_curve_[-1]


@pytest.mark.parametrize(
    ("X", "match"),
    [
        (np.array([[0, 1], [1, 2]]), "only 0 and 1.*1 of its 4 entries.*2"),
        (np.array([[0.0, 0.5], [1.0, 0.0]]), "binary data"),
        (np.array([[0, np.nan], [1, 0]]), "NaN"),
    ],
)
def test_non_binary_input_is_refused(X, match):
    with pytest.raises(ValueError, match=match):
        QuantumBoltzmannMachine().fit(X)


def test_bad_configurations():
    X = np.array([[0, 1], [1, 0]])
    with pytest.raises(ValueError, match="learn_transverse_field=True needs objective"):
        QuantumBoltzmannMachine(objective="bound", learn_transverse_field=True).fit(X)
    with pytest.raises(ValueError, match="stationary point"):
        QuantumBoltzmannMachine(transverse_field=0.0, learn_transverse_field=True).fit(X)
    fitted = QuantumBoltzmannMachine(max_iter=50, tol=1e-2).fit(X)
    with pytest.raises(ValueError, match="2 features"):
        fitted.score_samples(np.array([[0, 1, 1]]))


def test_memory_guard_refuses_up_front():
    X = np.zeros((3, 11), dtype=int)
    start = time.perf_counter()
    with pytest.raises(SimulationMemoryError, match=r"12 qubits.*MiB.*only 10 MiB"):
        QuantumBoltzmannMachine(n_hidden=1, max_memory_mb=10).fit(X)
    with pytest.raises(ValueError, match=r"15 qubits.*limited to 14"):
        QuantumBoltzmannMachine(n_hidden=4).fit(X)
    assert time.perf_counter() - start < 0.5


# -- classifier ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("n_classes", "n_hidden", "learn"), [(2, 1, True), (3, 1, False), (4, 0, True)]
)
def test_classifier_gradient_and_dense_reference(n_classes, n_hidden, learn):
    X, y = make_blobs(40, n_features=3, centers=n_classes, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = QBMClassifier(
            n_hidden,
            learn_transverse_field=learn,
            transverse_field=0.6,
            max_iter=3,
            random_state=0,
        ).fit(X, y)
    theta = np.column_stack([clf.coef_, clf.intercept_])
    theta = theta + np.random.RandomState(1).normal(0, 0.5, theta.shape)
    fun = clf._objective(clf._design(X), np.unique(y, return_inverse=True)[1], clf._structure(), 7)
    loss = _check_gradient(lambda t, idx: fun(t, idx), theta.ravel())
    # Dense reference of p(k | x) from the fitted coefficients (label qubits first).
    m = clf.n_qubits_
    proba = clf.predict_proba(X)
    design = clf._design(X)
    coef = design @ np.column_stack([clf.coef_, clf.intercept_]).T
    pairs = list(itertools.combinations(range(m), 2))
    for i in range(0, 40, 7):
        H = np.zeros((2**m, 2**m))
        for a in range(m):
            H -= coef[i, a] * _op(Z2, [a], m)
            gamma = coef[i, len(pairs) + m + a] if learn else 0.6
            H -= gamma * _op(X2, [a], m)
        for t, (a, b) in enumerate(pairs):
            H -= coef[i, m + t] * _op(Z2, [a, b], m)
        diag = np.diag(linalg.expm(-H)).reshape(2**clf.n_label_qubits_, -1).sum(1)
        expected = diag[:n_classes] / diag[:n_classes].sum()
        np.testing.assert_allclose(proba[i], expected, rtol=1e-10)
    assert proba.sum(1) == pytest.approx(np.ones(40))
    assert loss > 0


def test_classifier_fits_blobs_reproducibly():
    X, y = make_blobs(90, n_features=4, centers=3, random_state=1)
    y = np.array(["a", "b", "c"])[y]
    clf = QBMClassifier(random_state=0).fit(X, y)
    assert clf.score(X, y) > 0.95
    assert clf.n_label_qubits_ == 2 and clf.n_qubits_ == 3
    assert clf.terms_[:3] == ["Z0", "Z1", "Z2"] and clf.terms_[-1] == "X2"
    again = clone(clf).fit(X, y)
    np.testing.assert_array_equal(again.coef_, clf.coef_)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    with pytest.raises(ValueError, match="at least 2 classes"):
        QBMClassifier().fit(X, np.zeros(90))
    with pytest.raises(ValueError, match="limited to 10 qubits"):
        QBMClassifier(n_hidden=10).fit(X, y)
