"""Quantum Boltzmann machines against independent references.

References: brute-force enumeration of classical Boltzmann machines, dense Hamiltonians built
from Kronecker products of Pauli matrices with ``scipy.linalg.expm``, central finite
differences of the training losses, and a chi-square test of the samples.
"""

import itertools
import pickle
import time
import tracemalloc
import warnings

import numpy as np
import pytest
from scipy import linalg, stats
from sklearn.base import clone
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils.validation import check_is_fitted

from skqml.boltzmann import QBMClassifier, QuantumBoltzmannMachine
from skqml.boltzmann import _gibbs as g
from skqml.boltzmann._classifier import _design
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
    """All n-bit rows in Kronecker order: row i is the i-th basis state of ``_op``'s matrices."""
    return np.array(list(itertools.product((0, 1), repeat=n)))


def _kron_index(bits):
    """Row index in ``_all_states`` (first column most significant, the Kronecker order)."""
    return bits @ (1 << np.arange(bits.shape[1] - 1, -1, -1))


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
    assert qbm.score(mixture) == pytest.approx(np.mean(np.log(p_v[_kron_index(mixture)])))
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
    for name, value in qbm._fitted_state(theta, 4, *qbm._structure(4)).items():
        setattr(qbm, name, value)
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
    observed = np.bincount(_kron_index(samples), minlength=16)
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
    with pytest.raises(
        ValueError, match="QuantumBoltzmannMachine: learn_transverse_field=True needs objective"
    ):
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
    structure = clf._structure(clf.n_qubits_, clf.n_label_qubits_)
    design = _design(X, clf.mean_, clf.scale_)
    y_idx = np.unique(y, return_inverse=True)[1]
    fun = clf._objective(design, y_idx, n_classes, structure, 7, 0.6)
    loss = _check_gradient(lambda t, idx: fun(t, idx), theta.ravel())
    # Dense reference of p(k | x) from the fitted coefficients: label qubits 0..L-1, and
    # class k has bit j of k on label qubit j (little-endian), whatever the Kronecker order.
    m, n_label = clf.n_qubits_, clf.n_label_qubits_
    configs = _all_states(m)  # row s: the bits of qubits 0..m-1 of Kronecker basis state s
    label = configs[:, :n_label] @ (1 << np.arange(n_label))
    proba = clf.predict_proba(X)
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
        diag = np.bincount(label, weights=np.diag(linalg.expm(-H)), minlength=2**n_label)
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


# -- one bit order: little-endian, as the circuits ----------------------------------------------
def test_joint_probabilities_are_little_endian():
    """Entry [i, k] is visible bits (i >> j) & 1 and hidden bits (k >> l) & 1: enumerated."""
    rng = np.random.RandomState(0)
    X = rng.randint(0, 2, size=(40, 3))
    X[:, 0] = 1  # feature 0 always on: the mass sits where bit 0 of the index is set
    qbm = QuantumBoltzmannMachine(
        2, transverse_field=0.4, optimizer="lbfgs", max_iter=40, random_state=0
    ).fit(X)
    _, _, joint_kron, _, _ = _reference(qbm)  # indexed by Kronecker (first qubit first) order
    visible, hidden = _all_states(3), _all_states(2)
    for v in visible:
        for h in hidden:
            i = sum(bit << j for j, bit in enumerate(v))
            k = sum(bit << j for j, bit in enumerate(h))
            expected = joint_kron[_kron_index(v[None])[0], _kron_index(h[None])[0]]
            assert qbm.joint_probabilities_[i, k] == pytest.approx(expected, rel=1e-10)
    marginal = qbm.joint_probabilities_.sum(axis=1)
    assert marginal[1::2].sum() > 0.99  # odd indices: feature 0 is bit 0
    np.testing.assert_allclose(
        np.exp(qbm.score_samples(g.index_to_bits(np.arange(8), 3))), marginal, rtol=1e-12
    )
    assert np.all(qbm.sample(50, random_state=0)[:, 0] == 1)


def test_gibbs_bit_helpers_are_little_endian():
    bits = np.array([[1, 0, 0], [0, 1, 1]])
    np.testing.assert_array_equal(g.bits_to_index(bits), [1, 6])
    np.testing.assert_array_equal(g.index_to_bits(np.array([1, 6]), 3), bits)
    np.testing.assert_array_equal(g.spin_table(2), [[1, 1], [-1, 1], [1, -1], [-1, -1]])
    np.testing.assert_array_equal(g.flip_permutations(2), [[1, 0, 3, 2], [2, 3, 0, 1]])


def test_classifier_label_register_is_little_endian():
    """Class k is the label register holding bit j of k on label qubit j: check coef_ terms."""
    X, y = make_blobs(60, n_features=2, centers=3, random_state=0)
    clf = QBMClassifier(n_hidden=0, max_iter=20, random_state=0).fit(X, y)
    # With no hidden qubit, p(k | x) is the Gibbs weight of basis state k of the two label
    # qubits; rebuild it from the named terms of coef_ by enumerating the configurations.
    coef = _design(X, clf.mean_, clf.scale_) @ np.column_stack([clf.coef_, clf.intercept_]).T
    terms = dict(zip(clf.terms_, coef.T, strict=True))
    energy = np.zeros((60, 4))
    for k in range(4):
        z = [1 - 2 * ((k >> j) & 1) for j in range(2)]  # label qubit j holds bit j of k
        energy[:, k] = -terms["Z0"] * z[0] - terms["Z1"] * z[1] - terms["Z0 Z1"] * z[0] * z[1]
    for i in range(0, 60, 11):
        H = np.diag(energy[i])
        # X_j flips bit j of the basis index.
        for j in range(2):
            H -= terms[f"X{j}"][i] * np.eye(4)[[k ^ (1 << j) for k in range(4)]]
        weights = np.diag(linalg.expm(-H))[:3]
        np.testing.assert_allclose(clf.predict_proba(X[i : i + 1])[0], weights / weights.sum())


# -- atomic fits --------------------------------------------------------------------------------
def _state(estimator):
    """Every attribute, pickled: equal bytes mean an untouched estimator (arrays, RNG, Adam)."""
    return pickle.dumps(vars(estimator))


def _fail_on_call(monkeypatch, module, name, exc, after=2):
    """Make ``module.name`` raise ``exc`` from its call number ``after + 1`` on: mid-fit."""
    original = getattr(module, name)
    calls = []

    def failing(*args, **kwargs):
        calls.append(None)
        if len(calls) > after:
            raise exc
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, failing)


def _half_step_then_fail(exc):
    """An optimizer that advances the RNG and Adam state it is given, then fails."""

    def optimize(method, fun, params, n_samples, history, *, rng=None, adam=None, **kwargs):
        loss, grad = fun(params, np.arange(n_samples))
        history.record(params, loss)
        if adam is not None:
            adam.update(grad, 0.1)
        if rng is not None:
            rng.permutation(5)
        raise exc

    return optimize


_FAILURES = [RuntimeError("backend lost"), KeyboardInterrupt()]


def _boltzmann_cases(mixture):
    """Model, fit arguments and the module whose ``optimize`` it calls; mini-batch Adam."""
    X, y = make_blobs(30, n_features=2, centers=2, random_state=0)
    qbm = QuantumBoltzmannMachine(1, transverse_field=0.5, batch_size=100, random_state=0)
    return {
        "qbm": (qbm, (mixture,), "skqml.boltzmann._qbm"),
        "classifier": (
            QBMClassifier(batch_size=10, random_state=0),
            (X, y),
            "skqml.boltzmann._classifier",
        ),
    }


@pytest.mark.parametrize("exc", _FAILURES, ids=["RuntimeError", "KeyboardInterrupt"])
@pytest.mark.parametrize("where", ["optimizer", "eigh"])
@pytest.mark.parametrize("call", ["qbm-fit", "qbm-partial_fit", "classifier-fit"])
def test_failed_fit_of_fresh_model_leaves_it_unfitted(mixture, monkeypatch, call, where, exc):
    case, method = call.split("-")
    model, data, module = _boltzmann_cases(mixture)[case]
    if where == "optimizer":
        monkeypatch.setattr(f"{module}.optimize", _half_step_then_fail(exc))
    else:
        _fail_on_call(monkeypatch, g, "gibbs_eigh", exc)
    params = dict(vars(model))
    with pytest.raises(type(exc)):
        getattr(model, method)(*data)
    assert vars(model) == params
    with pytest.raises(NotFittedError):
        check_is_fitted(model)


_CONTINUED_FAILURES = [
    ("optimizer", RuntimeError("backend lost")),
    ("optimizer", KeyboardInterrupt()),
    ("eigh", RuntimeError("LAPACK failed")),
    ("eigh", KeyboardInterrupt()),
    ("memory", SimulationMemoryError),
]


@pytest.mark.parametrize(
    ("where", "exc"), _CONTINUED_FAILURES, ids=lambda p: p if isinstance(p, str) else ""
)
@pytest.mark.parametrize("call", ["warm_start", "partial_fit", "classifier"])
def test_failed_continued_fit_keeps_previous_state(mixture, monkeypatch, call, where, exc):
    case = "classifier" if call == "classifier" else "qbm"
    model, data, module = _boltzmann_cases(mixture)[case]
    model.set_params(max_iter=2, warm_start=call != "partial_fit").fit(*data)
    X = data[0]
    output = model.predict_proba(X) if call == "classifier" else model.score_samples(X)
    if where == "memory":
        model.set_params(max_memory_mb=1e-3)
    elif where == "optimizer":
        monkeypatch.setattr(f"{module}.optimize", _half_step_then_fail(exc))
    else:
        _fail_on_call(monkeypatch, g, "gibbs_eigh", exc)
    before = _state(model)
    with pytest.raises(exc if isinstance(exc, type) else type(exc)):
        model.partial_fit(*data) if call == "partial_fit" else model.fit(*data)
    assert _state(model) == before
    monkeypatch.undo()
    model.set_params(max_memory_mb=None)
    again = model.predict_proba(X) if call == "classifier" else model.score_samples(X)
    np.testing.assert_array_equal(again, output)


# -- warm start continues the optimizer -------------------------------------------------------
@pytest.mark.parametrize("case", ["qbm", "classifier"])
def test_two_warm_started_fits_equal_one_fit_of_twice_the_epochs(mixture, case):
    model, data, _ = _boltzmann_cases(mixture)[case]  # mini-batches: the RNG carries over too
    model.set_params(n_iter_no_change=100)
    once = clone(model).set_params(max_iter=6).fit(*data)
    twice = clone(model).set_params(max_iter=3, warm_start=True).fit(*data).fit(*data)
    assert twice.n_iter_ == once.n_iter_ == 6
    np.testing.assert_allclose(twice.loss_curve_, once.loss_curve_, rtol=1e-12, atol=0)
    for name in ("coef_", "intercept_") if case == "classifier" else ("couplings_",):
        np.testing.assert_allclose(getattr(twice, name), getattr(once, name), rtol=0, atol=1e-12)
    assert twice._adam.t == once._adam.t


def test_classifier_warm_start_needs_the_same_terms():
    X, y = make_blobs(30, n_features=2, centers=2, random_state=0)
    clf = QBMClassifier(max_iter=2, warm_start=True, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="QBMClassifier: warm_start=True needs the same n_hidden"):
        clf.set_params(n_hidden=2).fit(X, y)
    with pytest.raises(ValueError, match="same classes"):
        clf.set_params(n_hidden=1).fit(X, (y + 1) % 3)
    assert clf.n_hidden == 1 and clf.n_iter_ == 2


# -- validation ---------------------------------------------------------------------------------
def test_numpy_scalars_are_accepted_everywhere(mixture):
    python = dict(
        n_hidden=1,
        transverse_field=0.5,
        learning_rate=0.1,
        batch_size=100,
        max_iter=3,
        tol=1e-6,
        n_iter_no_change=10,
        verbose=0,
        random_state=0,
        max_memory_mb=512.0,
    )
    numpy = {k: (np.int64(v) if isinstance(v, int) else np.float64(v)) for k, v in python.items()}
    a = QuantumBoltzmannMachine(**python).fit(mixture)
    b = QuantumBoltzmannMachine(**numpy).fit(mixture)
    np.testing.assert_array_equal(a.couplings_, b.couplings_)
    np.testing.assert_array_equal(
        a.sample(np.int64(5), random_state=np.int64(1)), b.sample(5, random_state=1)
    )
    X, y = make_blobs(30, n_features=2, centers=2, random_state=0)
    a = QBMClassifier(**python).fit(X, y)
    b = QBMClassifier(**numpy).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    unlimited = QBMClassifier(**{**numpy, "max_memory_mb": np.inf}).fit(X, y)
    np.testing.assert_array_equal(unlimited.coef_, a.coef_)
    for bad in (0, np.float64(-1.0)):
        with pytest.raises(ValueError, match="max_memory_mb"):
            QuantumBoltzmannMachine(max_memory_mb=bad).fit(mixture)
    with pytest.raises(ValueError, match="n_samples"):
        a_qbm = QuantumBoltzmannMachine(max_iter=1).fit(mixture)
        a_qbm.sample(-1)


def test_messages_name_the_class_called():
    class MyQBM(QuantumBoltzmannMachine):
        pass

    with pytest.raises(ValueError, match="MyQBM models binary data"):
        MyQBM().fit(np.array([[0, 2], [1, 0]]))
    with pytest.raises(AttributeError) as excinfo:
        MyQBM(optimizer="lbfgs").partial_fit
    assert "MyQBM.partial_fit needs a stochastic optimizer" in str(excinfo.value.__cause__)


def test_convergence_warnings_point_at_the_callers_line(mixture):
    X, y = make_blobs(30, n_features=2, centers=2, random_state=0)
    with pytest.warns(ConvergenceWarning) as record:
        QuantumBoltzmannMachine(max_iter=1).fit(mixture)
        QBMClassifier(max_iter=1).fit(X, y)
    assert [w.filename for w in record] == [__file__] * 2


# -- memory -------------------------------------------------------------------------------------
def test_fit_stays_within_the_memory_budget():
    """tracemalloc peak of a 10-qubit fit (1024 x 1024 matrices) within its budget."""
    X = np.random.RandomState(0).randint(0, 2, size=(50, 8))
    need = (g.dense_bytes(10) + g.table_bytes(10, 10 + 45)) / 1024**2
    budget = need * 1.05
    model = QuantumBoltzmannMachine(2, max_iter=1, max_memory_mb=budget, random_state=0)
    tracemalloc.start()
    try:
        model.fit(X)
        peak = tracemalloc.get_traced_memory()[1] / 1024**2
    finally:
        tracemalloc.stop()
    assert peak <= 1.3 * budget + 30
    tracemalloc.start()
    try:
        with pytest.raises(SimulationMemoryError):
            model.set_params(max_memory_mb=0.9 * need).fit(X)
        peak = tracemalloc.get_traced_memory()[1] / 1024**2
    finally:
        tracemalloc.stop()
    assert peak < 1  # refused before anything of size 2**n was allocated


def test_bound_counts_the_clamped_hamiltonians():
    X = np.eye(8, dtype=int)[:, :3]  # 3 visible units, every configuration: 8 blocks
    X = np.vstack([X, 1 - X])
    full = (g.dense_bytes(10) + g.table_bytes(10, 10 + 45)) / 1024**2
    clamped = g.dense_bytes(7, batch=8) / 1024**2
    model = QuantumBoltzmannMachine(7, objective="bound", max_memory_mb=full + 0.5 * clamped)
    with pytest.raises(SimulationMemoryError, match="10 qubits"):
        model.fit(X)


def test_predictions_read_fitted_attributes_not_changed_hyperparameters(mixture):
    qbm = QuantumBoltzmannMachine(2, max_iter=2, random_state=0).fit(mixture)
    hidden = qbm.transform(mixture[:5])
    np.testing.assert_array_equal(qbm.set_params(n_hidden=1).transform(mixture[:5]), hidden)
    X, y = make_blobs(30, n_features=2, centers=2, random_state=0)
    clf = QBMClassifier(max_iter=2, random_state=0).fit(X, y)
    proba = clf.predict_proba(X)
    clf.set_params(n_hidden=2, learn_transverse_field=False)
    np.testing.assert_array_equal(clf.predict_proba(X), proba)
    fixed = QBMClassifier(learn_transverse_field=False, max_iter=2, random_state=0).fit(X, y)
    proba = fixed.predict_proba(X)
    np.testing.assert_array_equal(fixed.set_params(transverse_field=3.0).predict_proba(X), proba)
