"""BornMachine: exact probabilities, MMD and gradients against independent references."""

import importlib
import pickle
import time
import tracemalloc
import warnings
from itertools import combinations, product

import numpy as np
import pytest
from scipy import stats
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from skqml.backends import ShotsBackend
from skqml.boltzmann import BornMachine
from skqml.boltzmann._born import mmd_kernel_apply
from skqml.boltzmann._chow_liu import chow_liu_tree, mutual_information
from skqml.circuits import HardwareEfficient, StronglyEntanglingLayers
from skqml.datasets import bars_and_stripes_patterns
from skqml.simulator import SimulationMemoryError, simulate

SIGMAS = (0.5, 1.0, 2.0, 4.0)


def _states(n):
    """All n-bit rows, row i the bits of i with column j = bit j (little-endian)."""
    return (np.arange(2**n)[:, None] >> np.arange(n)) & 1


def _dense_kernel(n, sigmas=SIGMAS):
    states = _states(n)
    hamming = (states[:, None, :] != states[None, :, :]).sum(-1)
    return np.mean([np.exp(-hamming / (2 * s)) for s in sigmas], axis=0)


def _brute_mmd(p, q, n, sigmas=SIGMAS):
    """The double sum over pairs of bit strings, written out."""
    states = _states(n)
    total = 0.0
    for i, j in product(range(2**n), repeat=2):
        d2 = np.sum((states[i] - states[j]) ** 2)
        k = np.mean([np.exp(-d2 / (2 * s)) for s in sigmas])
        total += (p[i] - q[i]) * k * (p[j] - q[j])
    return total


def _fitted(X, **kw):
    kw.setdefault("random_state", 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return BornMachine(**kw).fit(X)


@pytest.fixture(scope="module")
def small():
    rng = np.random.RandomState(0)
    X = rng.randint(0, 2, size=(30, 4))
    return X, _fitted(X, ansatz=StronglyEntanglingLayers(n_layers=2), max_iter=5)


def _target(X):
    n = X.shape[1]
    idx = X @ (1 << np.arange(n))
    return np.bincount(idx, minlength=2**n) / len(X)


def test_kernel_apply_matches_dense_kernel():
    rng = np.random.RandomState(1)
    for n in (1, 3, 5):
        v = rng.normal(size=(2, 2**n))
        np.testing.assert_allclose(
            mmd_kernel_apply(v, n, SIGMAS), v @ _dense_kernel(n), atol=1e-13
        )


def test_probabilities_are_born_rule(small):
    _, born = small
    p = born.probabilities_
    assert p.shape == (16,)
    assert abs(p.sum() - 1) < 1e-12
    psi = simulate(born.circuit_, None, born.weights_)[0]
    np.testing.assert_allclose(p, np.abs(psi) ** 2, atol=1e-14)
    # Bit j of a row is qubit j: score_samples reads p at index sum_j x_j 2**j.
    states = _states(4)
    np.testing.assert_allclose(np.exp(born.score_samples(states)), p, rtol=1e-12)
    assert abs(born.score(states) - np.log(p).mean()) < 1e-12


def test_bit_order_little_endian():
    # A product ansatz (no CNOT) learns a point mass: data row [1, 0, 0] is basis state 1.
    ansatz = HardwareEfficient(n_layers=1, entanglement=[])
    born = _fitted(np.array([[1, 0, 0]] * 4), ansatz=ansatz, max_iter=50)
    assert born.probabilities_[1] > 0.99
    assert born.sample(5, random_state=0).tolist() == [[1, 0, 0]] * 5


def test_mmd_equals_brute_force_double_sum(small):
    X, born = small
    q = _target(X)
    fun = born._objective(born.circuit_, q, np.array(SIGMAS), 4, born.backend_, None)
    loss, _ = fun(born.weights_)
    assert abs(loss - _brute_mmd(born.probabilities_, q, 4)) < 1e-12
    assert abs(born.loss_curve_[-1] - loss) < 1e-12  # the curve records the MMD itself


def test_gradient_matches_finite_differences(small):
    X, born = small
    fun = born._objective(born.circuit_, _target(X), np.array(SIGMAS), 4, born.backend_, None)
    theta = np.random.RandomState(3).uniform(-np.pi, np.pi, born.weights_.size)
    _, grad = fun(theta)
    h = 1e-5
    fd = np.empty_like(theta)
    for k in range(theta.size):
        e = np.zeros_like(theta)
        e[k] = h
        fd[k] = (fun(theta + e)[0] - fun(theta - e)[0]) / (2 * h)
    assert np.linalg.norm(grad - fd) / np.linalg.norm(fd) < 1e-6


def _valid_mass(born, patterns):
    return born.probabilities_[patterns @ (1 << np.arange(patterns.shape[1]))].sum()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_default_learns_2x2_bars_and_stripes(seed):
    # The CI-sized version of the 3 x 3 experiment (examples/, docs/boltzmann.md): the
    # defaults, whatever the initial weights.
    X = bars_and_stripes_patterns(2, 2)
    born = _fitted(X, random_state=seed)
    assert born.loss_curve_[-1] < 1e-6
    assert _valid_mass(born, X) >= 0.99
    np.testing.assert_allclose(np.exp(born.score_samples(X)), 1 / 6, atol=0.01)


def test_samples_pass_chi_square(small):
    _, born = small
    samples = born.sample(20000, random_state=0)
    counts = np.bincount(samples @ (1 << np.arange(4)), minlength=16)
    expected = 20000 * born.probabilities_
    _, pvalue = stats.chisquare(counts, expected)
    assert pvalue > 1e-3
    assert born.sample(0).shape == (0, 4)
    assert set(np.unique(samples)) <= {0, 1}


def test_reproducible_and_picklable(small):
    X, born = small
    again = _fitted(X, ansatz=StronglyEntanglingLayers(n_layers=2), max_iter=5)
    np.testing.assert_array_equal(born.weights_, again.weights_)
    np.testing.assert_array_equal(
        born.sample(50, random_state=4), again.sample(50, random_state=4)
    )
    other = _fitted(X, ansatz=StronglyEntanglingLayers(n_layers=2), max_iter=5, random_state=1)
    assert not np.allclose(born.weights_, other.weights_)
    loaded = pickle.loads(pickle.dumps(born))
    np.testing.assert_array_equal(loaded.score_samples(X), born.score_samples(X))
    np.testing.assert_array_equal(loaded.probabilities_, born.probabilities_)


def test_default_ansatz_and_fitted_attributes():
    X = bars_and_stripes_patterns(2, 2)
    born = _fitted(X, max_iter=2)
    assert born.n_qubits_ == born.n_features_in_ == 4
    assert born.weights_.shape == (HardwareEfficient(n_layers=10).n_weights(4),)
    assert born.n_iter_ == len(born.loss_curve_) <= 2
    assert born.backend_.exact


def test_convergence_warning():
    X = bars_and_stripes_patterns(2, 2)
    with pytest.warns(ConvergenceWarning, match="max_iter=1"):
        BornMachine(HardwareEfficient(n_layers=2), max_iter=1, random_state=0).fit(X)


@pytest.mark.parametrize(
    "X, match",
    [
        ([[0, 1], [2, 0]], "only 0 and 1"),
        ([[0, 0.5], [1, 0]], "only 0 and 1"),
        ([[0, np.nan], [1, 0]], "NaN"),
    ],
)
def test_bad_data(X, match):
    with pytest.raises(ValueError, match=match):
        BornMachine().fit(X)


def test_bad_parameters_and_inputs(small):
    X, born = small
    with pytest.raises(ValueError, match="kernel_bandwidths"):
        BornMachine(kernel_bandwidths=(1.0, -1.0)).fit(X)
    with pytest.raises(ValueError, match="kernel_bandwidths"):
        BornMachine(kernel_bandwidths=()).fit(X)
    with pytest.raises(ValueError, match="optimizer"):
        BornMachine(optimizer="sgd").fit(X)
    with pytest.raises(ValueError, match="features"):
        born.score_samples(X[:, :3])
    with pytest.raises(ValueError, match="only 0 and 1"):
        born.score_samples(X + 1)
    with pytest.raises(ValueError, match="n_samples"):
        born.sample(-1)


def test_memory_guard_is_instant():
    X = np.zeros((2, 40), dtype=int)
    start = time.perf_counter()
    with pytest.raises(SimulationMemoryError, match="40 qubits"):
        BornMachine(max_memory_mb=1024).fit(X)
    with pytest.raises(SimulationMemoryError):
        BornMachine(max_memory_mb=0.01).fit(X[:, :10])
    # Refused before any simulation (0.1 s alone; the bound leaves room for a loaded CI
    # machine, where 2.5 s was seen; a 40-qubit attempt would not end at all).
    assert time.perf_counter() - start < 10.0


def test_shots_backend_trains_and_is_reproducible():
    X = np.array([[0, 0, 0], [1, 1, 1]] * 4)
    kw = dict(
        ansatz=HardwareEfficient(n_layers=1),
        backend=ShotsBackend(shots=2000, seed=0),
        optimizer="adam",
        learning_rate=0.1,
        max_iter=40,
    )
    born = _fitted(X, **kw)
    again = _fitted(X, **kw)
    assert not born.backend_.exact
    assert born.loss_curve_[-1] < 0.5 * born.loss_curve_[0]
    np.testing.assert_array_equal(born.weights_, again.weights_)
    assert born.loss_curve_ == again.loss_curve_
    # probabilities_ is the backend's exact outcome distribution (no shot noise).
    np.testing.assert_allclose(
        born.probabilities_, born.backend_.distribution(born.circuit_, None, born.weights_)[0]
    )


# -- the estimator contract ---------------------------------------------------------------------
def _fail_on_call(monkeypatch, target, exc, after=2):
    """Make ``target`` (a dotted name) raise ``exc`` from its call ``after + 1`` on: mid-fit."""
    module, name = target.rsplit(".", 1)
    original = getattr(importlib.import_module(module), name)
    calls = []

    def failing(*args, **kwargs):
        calls.append(None)
        if len(calls) > after:
            raise exc
        return original(*args, **kwargs)

    monkeypatch.setattr(target, failing)


_FAILURES = [
    ("skqml.boltzmann._born.optimize", RuntimeError("optimizer failed")),
    ("skqml.boltzmann._born.optimize", KeyboardInterrupt()),
    ("skqml.boltzmann._born.probability_vjp", RuntimeError("backend lost")),
    ("skqml.boltzmann._born.probability_vjp", KeyboardInterrupt()),
    ("memory", SimulationMemoryError),
]


@pytest.mark.parametrize(
    ("target", "exc"),
    _FAILURES,
    ids=["opt-error", "opt-interrupt", "sim-error", "sim-interrupt", "memory"],
)
@pytest.mark.parametrize("fitted", [False, True], ids=["fresh", "refit"])
def test_failed_fit_leaves_the_estimator_as_it_was(monkeypatch, target, exc, fitted):
    X = np.array([[0, 0, 1], [1, 1, 0]] * 3)
    born = BornMachine(HardwareEfficient(n_layers=1), max_iter=5, random_state=0)
    if fitted:
        born = _fitted(X, **born.get_params(deep=False))
        output = born.score_samples(X)
    if target == "memory":
        born.set_params(max_memory_mb=1e-3)
    elif "optimize" in target:
        _fail_on_call(monkeypatch, target, exc, after=0)
    else:
        _fail_on_call(monkeypatch, target, exc)
    before = pickle.dumps(vars(born))
    with pytest.raises(exc if isinstance(exc, type) else type(exc)):
        born.fit(np.array([[0, 1, 1], [1, 0, 0]] * 3))
    assert pickle.dumps(vars(born)) == before
    if fitted:
        np.testing.assert_array_equal(born.score_samples(X), output)
    else:
        assert set(vars(born)) == set(born.get_params(deep=False))
        with pytest.raises(NotFittedError):
            born.sample(1)


def test_ansatz_of_another_width_is_refused_with_a_clear_message():
    class OneQubitTooMany(HardwareEfficient):
        def build(self, n_qubits, offset=0):
            return super().build(n_qubits + 1, offset)

    with pytest.raises(ValueError, match=r"BornMachine runs on 3 qubits.*built a 4-qubit circuit"):
        BornMachine(OneQubitTooMany(n_layers=1)).fit(np.array([[0, 1, 0], [1, 0, 1]]))


def test_n_iter_no_change_is_adams_patience():
    X = np.array([[0, 0], [1, 1]] * 3)
    ansatz = HardwareEfficient(n_layers=1)
    # tol=1: after the first step (an improvement on no loss at all) no step improves the
    # loss by that much, so Adam stops once the patience runs out.
    born = BornMachine(ansatz, optimizer="adam", tol=1.0, n_iter_no_change=3).fit(X)
    assert born.n_iter_ == 1 + 3
    default = BornMachine(ansatz, optimizer="adam", tol=1.0).fit(X)
    assert default.n_iter_ == 1 + 10  # the default patience, as before it was a parameter


def test_numpy_scalars_and_backend_none_are_accepted():
    X = np.array([[0, 0, 1], [1, 1, 0]] * 3)
    python = dict(
        learning_rate=0.05, max_iter=4, tol=1e-8, n_iter_no_change=10, max_memory_mb=64.0
    )
    numpy = {k: (np.int64(v) if isinstance(v, int) else np.float64(v)) for k, v in python.items()}
    kw = dict(ansatz=HardwareEfficient(n_layers=1), optimizer="adam", random_state=0)
    a = _fitted(X, **kw, **python)
    b = _fitted(X, **kw, **numpy, kernel_bandwidths=np.array(SIGMAS), backend=None)
    np.testing.assert_array_equal(a.weights_, b.weights_)
    assert b.backend_.exact
    np.testing.assert_array_equal(
        a.sample(np.int64(3), random_state=np.int64(0)), b.sample(3, random_state=0)
    )
    with pytest.raises(ValueError, match="max_memory_mb"):
        BornMachine(max_memory_mb=0).fit(X)
    unlimited = _fitted(X, **kw, **{**numpy, "max_memory_mb": np.float64(np.inf)})
    np.testing.assert_array_equal(unlimited.weights_, a.weights_)


def test_convergence_warning_points_at_the_callers_line():
    with pytest.warns(ConvergenceWarning) as record:
        BornMachine(HardwareEfficient(n_layers=1), max_iter=1).fit(np.array([[0, 1], [1, 0]]))
    assert [w.filename for w in record] == [__file__]


# The Chow-Liu tree of 3 x 3 bars and stripes (pixel r * 3 + c), by hand: two pixels of one
# row (or column) have joint counts (00, 01, 10, 11) = (5, 2, 2, 5) over the 14 patterns, any
# other pair (3, 4, 4, 3); all marginals are 1/2. Kruskal's algorithm takes the 18 row and
# column bonds in lexicographic order, (0, 1), (0, 2), (0, 3), (0, 6), then (1, 2) closes a
# cycle, (1, 4), (1, 7), (2, 5), (2, 8): a spanning tree of 8 bonds, all away from pixel 0.
BAS3_TREE = [(0, 1), (0, 2), (0, 3), (0, 6), (1, 4), (1, 7), (2, 5), (2, 8)]
BAS3_BOND_MI = 5 / 7 * np.log(10 / 7) + 2 / 7 * np.log(4 / 7)
BAS3_OTHER_MI = 3 / 7 * np.log(6 / 7) + 4 / 7 * np.log(8 / 7)


def _entropy(columns):
    _, counts = np.unique(columns, axis=0, return_counts=True)
    q = counts / counts.sum()
    return -np.sum(q * np.log(q))


def test_mutual_information_equals_the_entropy_identity():
    # I(i, j) = H(i) + H(j) - H(i, j), from the counts of the distinct rows.
    rng = np.random.RandomState(0)
    X = rng.randint(0, 2, size=(40, 5))
    X[:, 1] = X[:, 0] ^ (rng.rand(40) < 0.2)  # dependent on column 0
    X[:, 3] = 1  # constant: no information
    mi = mutual_information(X)
    for i, j in product(range(5), repeat=2):
        expected = (
            0.0 if i == j else _entropy(X[:, [i]]) + _entropy(X[:, [j]]) - _entropy(X[:, [i, j]])
        )
        assert abs(mi[i, j] - expected) < 1e-12


def test_chow_liu_tree_of_bars_and_stripes_by_hand():
    X = bars_and_stripes_patterns(3, 3)
    mi = mutual_information(X)
    rows, cols = np.divmod(np.arange(9), 3)
    bond = (rows[:, None] == rows[None, :]) | (cols[:, None] == cols[None, :])
    np.fill_diagonal(bond, False)
    np.testing.assert_allclose(mi[bond], BAS3_BOND_MI, rtol=1e-12)
    off = ~bond & ~np.eye(9, dtype=bool)
    np.testing.assert_allclose(mi[off], BAS3_OTHER_MI, rtol=1e-12)
    assert chow_liu_tree(X) == BAS3_TREE
    assert chow_liu_tree(X[:, :1]) == []


def test_chow_liu_tree_is_a_maximum_spanning_tree_pointing_away_from_qubit_0():
    rng = np.random.RandomState(2)
    n = 6
    X = rng.randint(0, 2, size=(60, n))
    for a, b in [(4, 2), (2, 5), (1, 3)]:  # a few noisy copies: unequal dependencies
        X[:, b] = X[:, a] ^ (rng.rand(60) < 0.15)
    mi = mutual_information(X)
    tree = chow_liu_tree(X)

    def spans(edges):
        reached, grown = {0}, True
        while grown:
            new = {v for e in edges for u, v in (e, e[::-1]) if u in reached}
            grown = not new <= reached
            reached |= new
        return len(reached) == n

    best = max(
        sum(mi[e] for e in edges)
        for edges in combinations(combinations(range(n), 2), n - 1)
        if spans(edges)
    )
    assert len(tree) == n - 1 and spans(tree)
    assert abs(sum(mi[e] for e in tree) - best) < 1e-12
    # Breadth first from qubit 0: every control was reached (as 0 or a target) before.
    reached = [0]
    for control, target in tree:
        assert control in reached and target not in reached
        reached.append(target)


def test_default_ansatz_is_the_documented_one():
    doc = BornMachine.__doc__
    assert 'HardwareEfficient(n_layers=10, entanglement="chow_liu")' in " ".join(doc.split())
    X = bars_and_stripes_patterns(3, 3)
    born = _fitted(X, max_iter=1)
    assert born.circuit_ == HardwareEfficient(n_layers=10, entanglement=BAS3_TREE).build(9)


def test_chow_liu_entanglement_of_a_users_ansatz():
    X = bars_and_stripes_patterns(3, 3)
    ansatz = HardwareEfficient(n_layers=2, entanglement="chow_liu")
    born = _fitted(X, ansatz=ansatz, max_iter=1)
    assert [op.qubits for op in born.circuit_ if op.name == "cnot"] == 2 * BAS3_TREE
    assert born.ansatz.entanglement == "chow_liu"  # fit changes no hyperparameter
    # The tree follows the data: the same patterns with the pixels in another order.
    shuffled = X[:, [4, 0, 8, 2, 6, 1, 3, 7, 5]]
    tree = chow_liu_tree(shuffled)
    assert tree != BAS3_TREE
    born = _fitted(shuffled, ansatz=ansatz, max_iter=1)
    assert [op.qubits for op in born.circuit_ if op.name == "cnot"] == 2 * tree
    # Any other entanglement is left as it is.
    linear = _fitted(X, ansatz=HardwareEfficient(n_layers=1, entanglement="linear"), max_iter=1)
    assert linear.circuit_ == HardwareEfficient(n_layers=1, entanglement="linear").build(9)


@pytest.mark.parametrize("factor", [0.5, 1.05, 2.0])
def test_fit_stays_within_the_memory_budget_or_refuses_up_front(factor):
    """tracemalloc peak of a 16-qubit fit within 1.3 x its budget (+30 MiB of interpreter and
    caches), or a SimulationMemoryError before anything of size 2**n is allocated."""
    n = 16
    X = np.random.RandomState(0).randint(0, 2, size=(20, n))
    # The model's own estimate: what its up-front refusal says one training step needs.
    with pytest.raises(SimulationMemoryError) as refusal:
        BornMachine(HardwareEfficient(n_layers=1), max_iter=2, max_memory_mb=1e-3).fit(X)
    estimate = refusal.value.required_mb
    budget = factor * estimate
    born = BornMachine(HardwareEfficient(n_layers=1), max_iter=2, max_memory_mb=budget)
    tracemalloc.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            born.fit(X)
        refused = False
    except SimulationMemoryError:
        refused = True
    finally:
        peak = tracemalloc.get_traced_memory()[1] / 1024**2
        tracemalloc.stop()
    assert peak <= 1.3 * budget + 30
    if factor < 1:  # the training step's own estimate does not fit
        assert refused
    if factor >= 2:  # the estimate is not a wild underestimate either
        assert not refused
