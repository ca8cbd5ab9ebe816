"""Tests for the finite-shot backend and for kernels and SVMs running on it.

References: the exact simulator (``simulate``, ``pauli_expectations``) for what the estimates
converge to, binomial and multinomial standard errors for how close they must be, and dense
density-matrix channels built with ``np.kron`` (``tests/_reference.py``) for the noise models.
"""

from __future__ import annotations

import itertools
import pickle

import numpy as np
import pytest
from _reference import circuit_unitary, kron_single
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skqml.backends import (
    ShotsBackend,
    apply_depolarizing,
    apply_readout_error,
    available_backends,
    compute_uncompute,
    resolve_backend,
)
from skqml.backends._seeding import _row_keys, _seed_states, _words
from skqml.circuits import AngleEmbedding, Circuit, ZZFeatureMap, feature, weight
from skqml.datasets import make_ad_hoc
from skqml.kernels import FidelityQuantumKernel, ProjectedQuantumKernel, _overlap
from skqml.kernels._overlap import project_psd
from skqml.simulator import pauli_expectations, simulate
from skqml.svm import QSVC, QSVR

PAULI = {
    "I": np.eye(2),
    "X": np.array([[0, 1], [1, 0]], dtype=complex),
    "Y": np.array([[0, -1j], [1j, 0]]),
    "Z": np.diag([1.0, -1.0]).astype(complex),
}


def _circuit() -> Circuit:
    """Three qubits, features and a weight, entangled: every amplitude non-trivial."""
    c = Circuit(3).h(0).ry(feature(0), 1).rx(feature(1), 2).cnot(0, 1).rzz(feature(2), 1, 2)
    return c.ry(weight(0) * feature(0), 0).cnot(2, 0).rx(0.4, 1)


def _data(n, d=3, seed=0):
    return np.random.default_rng(seed).uniform(0, np.pi, size=(n, d))


# --------------------------------------------------------------------------------------------
# Independent dense channels (density matrices, Kraus operators, np.kron)
# --------------------------------------------------------------------------------------------
def _pauli_string(label: str) -> np.ndarray:
    out = np.eye(1)
    for ch in label:  # leftmost character = highest qubit = leftmost Kronecker factor
        out = np.kron(out, PAULI[ch])
    return out


def _dense_noisy_distribution(psi: np.ndarray, p: float, e: float) -> np.ndarray:
    """Measurement distribution of ``|psi>`` after global depolarizing, then bit flips."""
    n = int(np.log2(psi.size))
    rho = np.outer(psi, psi.conj())
    # Global depolarizing in Kraus form: the Pauli twirl sum_P P rho P / 4**n is I / 2**n.
    twirl = sum(
        _pauli_string("".join(s)) @ rho @ _pauli_string("".join(s)).conj().T
        for s in itertools.product("IXYZ", repeat=n)
    )
    rho = (1 - p) * rho + p * twirl / 4**n
    # Symmetric readout error = bit-flip channel {sqrt(1-e) I, sqrt(e) X} on each qubit
    # before an ideal measurement.
    for q in range(n):
        Xq = kron_single(PAULI["X"], q, n)
        rho = (1 - e) * rho + e * Xq @ rho @ Xq
    return np.real(np.diag(rho))


# --------------------------------------------------------------------------------------------
# Parameters, registry, validation
# --------------------------------------------------------------------------------------------
def test_registry_and_defaults():
    assert "shots" in available_backends()
    backend = resolve_backend("SHOTS")
    assert type(backend) is ShotsBackend and not backend.exact
    assert backend.get_params() == {
        "shots": 1024,
        "seed": None,
        "readout_error": 0.0,
        "depolarizing": 0.0,
    }
    assert repr(backend) == "ShotsBackend()"
    with pytest.raises(ValueError, match=r"known backends: .*shots, statevector"):
        resolve_backend("shot")


def test_params_clone_equality_pickle():
    b = ShotsBackend(shots=256, seed=3, readout_error=0.01, depolarizing=0.02)
    c = clone(b)
    assert c is not b and c == b and hash(c) == hash(b)
    assert c != ShotsBackend(shots=256, seed=4, readout_error=0.01, depolarizing=0.02)
    assert pickle.loads(pickle.dumps(b)) == b
    assert resolve_backend(b) == b and resolve_backend(b) is not b
    assert b.set_params(shots=512) is b and b.shots == 512


@pytest.mark.parametrize(
    "params, match",
    [
        ({"shots": 0}, "shots must be an integer >= 1, got 0"),
        ({"shots": -5}, "shots must be an integer >= 1, got -5"),
        ({"shots": 10.0}, "shots must be an integer >= 1, got 10.0"),
        ({"shots": True}, "shots must be an integer >= 1, got True"),
        ({"shots": "100"}, "shots must be an integer >= 1, got '100'"),
        ({"readout_error": -0.01}, "readout_error must be a finite real number >= 0 and <= 0.5"),
        ({"readout_error": 0.6}, "readout_error must be a finite real number >= 0 and <= 0.5"),
        ({"readout_error": "0.1"}, "readout_error must be a finite real number >= 0 and <= 0.5"),
        ({"depolarizing": 1.5}, "depolarizing must be a finite real number .* <= 1, got 1.5"),
        ({"depolarizing": np.nan}, "depolarizing must be a finite real number >= 0 and <= 1"),
        ({"depolarizing": True}, "depolarizing must be a finite real number >= 0 and <= 1"),
        ({"seed": -1}, "seed must be an integer >= 0, got -1"),
        ({"seed": 1.5}, "seed must be an integer >= 0, got 1.5"),
    ],
)
def test_bad_parameters(params, match):
    backend = ShotsBackend(**params)  # sklearn style: __init__ only stores
    c = Circuit(1).h(0)
    with pytest.raises(ValueError, match=match):
        backend.probabilities(c)
    with pytest.raises(ValueError, match=match):
        backend.overlaps(Circuit(1).ry(feature(0), 0), [[0.1], [0.2]])
    with pytest.raises(ValueError, match=match):
        QSVC(AngleEmbedding(), backend=backend).fit([[0.1], [0.2]], [0, 1])


def test_numpy_scalar_parameters_and_bad_labels():
    """NumPy scalars (as a grid over np.arange gives) act as the Python numbers they hold."""
    b = ShotsBackend(shots=np.int64(10), seed=np.uint8(1))
    assert b.probabilities(Circuit(1).h(0)).sum() == 1.0
    noisy = ShotsBackend(
        shots=np.int64(100),
        seed=np.int32(3),
        readout_error=np.float32(0.125),
        depolarizing=np.float64(0.25),
    )
    python = ShotsBackend(shots=100, seed=3, readout_error=0.125, depolarizing=0.25)
    bell = Circuit(2).h(0).cnot(0, 1)
    np.testing.assert_array_equal(noisy.probabilities(bell), python.probabilities(bell))
    with pytest.raises(ValueError, match="Pauli label 'XQ' must be 2 characters"):
        b.expectations(Circuit(2), ["XQ"])
    with pytest.raises(ValueError, match="Pauli label 3 must be 2 characters"):
        b.expectations(Circuit(2), [3])
    np.testing.assert_array_equal(b.expectations(bell, ["zz"]), b.expectations(bell, ["ZZ"]))
    with pytest.raises(TypeError, match="sequence of labels"):
        b.expectations(Circuit(2), "ZZ")
    with pytest.raises(ValueError, match="symmetric=True needs XB"):
        b.overlaps(Circuit(1).ry(feature(0), 0), [[0.1]], [[0.2]], symmetric=True)


# --------------------------------------------------------------------------------------------
# Convergence to the exact values (shots = 10**6, 5 standard errors)
# --------------------------------------------------------------------------------------------
SHOTS = 10**6


def test_probabilities_converge():
    X, w = _data(4), [0.7]
    exact = np.abs(simulate(_circuit(), X, w)) ** 2
    est = ShotsBackend(shots=SHOTS, seed=1).probabilities(_circuit(), X, w)
    assert est.shape == exact.shape
    np.testing.assert_allclose(est.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(est * SHOTS, np.round(est * SHOTS), rtol=0, atol=1e-6)
    sigma = np.sqrt(exact * (1 - exact) / SHOTS)
    assert np.all(np.abs(est - exact) <= 5 * sigma + 1e-12)


def test_expectations_converge_in_all_bases():
    X, w = _data(3, seed=2), [0.3]
    labels = ["ZII", "IXI", "IIY", "XYZ", "YYI", "ZZZ", "XIX", "III"]
    exact = pauli_expectations(simulate(_circuit(), X, w), labels)
    est = ShotsBackend(shots=SHOTS, seed=2).expectations(_circuit(), labels, X, w)
    sigma = np.sqrt(np.clip(1 - exact**2, 0, None) / SHOTS)
    assert np.all(np.abs(est - exact) <= 5 * sigma + 1e-9)
    assert np.all(est[:, -1] == 1.0)


def test_noisy_expectations_shrink_in_closed_form():
    # Depolarizing scales every non-identity string by (1 - p); readout flips scale a
    # weight-k string by (1 - 2e)**k (measured in the rotated basis, so also for X and Y).
    X, w, p, e = _data(2, seed=3), [0.3], 0.1, 0.05
    labels = ["ZII", "IXY", "YZX"]
    exact = pauli_expectations(simulate(_circuit(), X, w), labels)
    expected = exact * (1 - p) * (1 - 2 * e) ** np.array([1, 2, 3])
    backend = ShotsBackend(shots=SHOTS, seed=3, readout_error=e, depolarizing=p)
    est = backend.expectations(_circuit(), labels, X, w)
    sigma = np.sqrt((1 - expected**2) / SHOTS)
    assert np.all(np.abs(est - expected) <= 5 * sigma)


@pytest.mark.parametrize("noise", [{}, {"readout_error": 0.03, "depolarizing": 0.1}])
def test_overlaps_converge(noise):
    fm = ZZFeatureMap(reps=2).build(3)
    XA, XB = _data(4, seed=4), _data(3, seed=5)
    backend = ShotsBackend(shots=SHOTS, seed=4, **noise)
    exact = backend.overlap_probabilities(fm, XA, XB)
    if not noise:
        SA, SB = simulate(fm, XA), simulate(fm, XB)
        np.testing.assert_allclose(exact, np.abs(SA.conj() @ SB.T) ** 2, rtol=0, atol=1e-12)
    est = backend.overlaps(fm, XA, XB)
    sigma = np.sqrt(exact * (1 - exact) / SHOTS)
    assert np.all(np.abs(est - exact) <= 5 * sigma)


# --------------------------------------------------------------------------------------------
# Noise models in closed form against dense channels
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [2, 3])
@pytest.mark.parametrize("p, e", [(0.0, 0.07), (0.2, 0.0), (0.15, 0.1), (1.0, 0.5)])
def test_distribution_matches_dense_channels(n, p, e):
    rng = np.random.default_rng(n)
    c = Circuit(n)
    for q in range(n):
        c = c.ry(feature(q), q).rz(feature(q) * 0.7, q)
    for q in range(n - 1):
        c = c.cnot(q, q + 1)
    X = rng.uniform(0, np.pi, size=(3, n))
    got = ShotsBackend(readout_error=e, depolarizing=p).distribution(c, X)
    for i, x in enumerate(X):
        psi = circuit_unitary(c, x)[:, 0]
        np.testing.assert_allclose(got[i], _dense_noisy_distribution(psi, p, e), atol=1e-12)


def test_readout_tensor_action_equals_dense_confusion_matrix():
    probs = np.random.default_rng(0).dirichlet(np.ones(8), size=5)
    e = 0.12
    C = np.array([[1 - e, e], [e, 1 - e]])
    dense = np.kron(np.kron(C, C), C)
    np.testing.assert_allclose(apply_readout_error(probs, e), probs @ dense.T, atol=1e-15)
    np.testing.assert_allclose(
        apply_depolarizing(probs, 0.3), 0.7 * probs + 0.3 / 8, rtol=0, atol=1e-15
    )
    np.testing.assert_array_equal(apply_readout_error(probs, 0.0), probs)


@pytest.mark.parametrize("p, e", [(0.0, 0.08), (0.1, 0.05)])
def test_overlap_probabilities_match_dense_compute_uncompute(p, e):
    # reps=2: with one repetition U(b)^dagger U(a) = H D H is a symmetric matrix and both
    # orientations give the same distribution.
    fm = ZZFeatureMap(reps=2).build(3)
    XA, XB = _data(3, seed=6), _data(2, seed=7)
    got = ShotsBackend(readout_error=e, depolarizing=p).overlap_probabilities(fm, XA, XB)
    keys_a, keys_b = _row_keys(XA), _row_keys(XB)
    orientations = set()
    for i, j in itertools.product(range(3), range(2)):
        # Each pair runs U(b)^dagger U(a) with a the row of smaller key (canonical order).
        a, b = (XA[i], XB[j]) if keys_a[i] <= keys_b[j] else (XB[j], XA[i])
        orientations.add(keys_a[i] <= keys_b[j])
        V = circuit_unitary(fm, b).conj().T @ circuit_unitary(fm, a)
        expected = _dense_noisy_distribution(V[:, 0], p, e)[0]
        assert got[i, j] == pytest.approx(expected, abs=1e-12)
        V_other = circuit_unitary(fm, a).conj().T @ circuit_unitary(fm, b)
        other = _dense_noisy_distribution(V_other[:, 0], p, e)[0]
        assert abs(other - expected) > 1e-6  # the orientation matters under readout error
    assert orientations == {True, False}  # both branches exercised


def test_compute_uncompute_amplitude_is_the_overlap():
    fm = ZZFeatureMap(reps=2).build(3)
    a, b = _data(1, seed=8)[0], _data(1, seed=9)[0]
    amp = simulate(compute_uncompute(fm, 3), [np.concatenate([a, b])])[0, 0]
    overlap = simulate(fm, [b])[0].conj() @ simulate(fm, [a])[0]
    assert abs(amp - overlap) < 1e-12


# --------------------------------------------------------------------------------------------
# Statistics over seeds, determinism, independence from blocks and n_jobs
# --------------------------------------------------------------------------------------------
def test_unbiased_with_binomial_variance_over_seeds():
    fm = ZZFeatureMap(reps=1).build(2)
    XA = _data(3, d=2, seed=10)
    shots, n_seeds = 200, 400
    exact = ShotsBackend().overlap_probabilities(fm, XA)[np.triu_indices(3, 1)]
    ests = np.array(
        [
            ShotsBackend(shots=shots, seed=s).overlaps(fm, XA)[np.triu_indices(3, 1)]
            for s in range(n_seeds)
        ]
    )
    var = exact * (1 - exact) / shots
    assert np.all(np.abs(ests.mean(axis=0) - exact) <= 5 * np.sqrt(var / n_seeds))
    # Sample variance of 400 draws: relative standard error sqrt(2 / 400) = 7%.
    np.testing.assert_allclose(ests.var(axis=0, ddof=1) / var, 1.0, atol=0.3)
    # Different pairs use independent streams: no correlation between them.
    corr = np.corrcoef(ests.T)[np.triu_indices(3, 1)]
    assert np.all(np.abs(corr) < 5 / np.sqrt(n_seeds))

    probs = np.array(
        [ShotsBackend(shots=shots, seed=s).probabilities(fm, XA[:1])[0] for s in range(n_seeds)]
    )
    p = np.abs(simulate(fm, XA[:1])[0]) ** 2
    assert np.all(np.abs(probs.mean(axis=0) - p) <= 5 * np.sqrt(p * (1 - p) / shots / n_seeds))


@pytest.mark.parametrize("root", [0, 7, 2**40 + 3, 2**127 + 12345])
def test_vectorised_seed_states_equal_numpy_seed_sequence(root):
    keys = np.random.default_rng(root % 2**32).integers(0, 2**63, size=(40, 4), dtype=np.uint64)
    keys[0] = 0
    keys[1, 2:] = 2**64 - 1
    expected = [
        np.random.SeedSequence(root, spawn_key=_words(k)).generate_state(1, np.uint64)[0]
        for k in keys
    ]
    np.testing.assert_array_equal(_seed_states(root, keys), expected)


def test_same_seed_same_results_other_seed_other_results():
    fm, X = _circuit(), _data(5, seed=11)
    runs = [
        ShotsBackend(shots=100, seed=seed).expectations(fm, ["XYZ", "ZIZ"], X, [0.2])
        for seed in (0, 0, 1)
    ]
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])
    unseeded = ShotsBackend(shots=100)
    assert not np.array_equal(
        unseeded.probabilities(fm, X, [0.2]), unseeded.probabilities(fm, X, [0.2])
    )


def test_streams_keyed_by_content_not_position():
    fm = ZZFeatureMap(reps=1).build(3)
    b = ShotsBackend(shots=300, seed=5, readout_error=0.02)
    XA, XB = _data(7, seed=12), _data(4, seed=13)
    K = b.overlaps(fm, XA, XB)
    np.testing.assert_array_equal(b.overlaps(fm, XA[2:5], XB[1:]), K[2:5, 1:])  # subsets
    perm = np.array([3, 0, 6, 1, 5, 2, 4])
    np.testing.assert_array_equal(b.overlaps(fm, XA[perm], XB), K[perm])  # row order
    # The estimate is a symmetric function of the pair, in every call shape.
    np.testing.assert_array_equal(b.overlaps(fm, XB, XA), K.T)
    S = b.overlaps(fm, XA)
    Sfull = b.overlaps(fm, XA, XA)
    off = ~np.eye(7, dtype=bool)
    np.testing.assert_array_equal(S[off], Sfull[off])
    np.testing.assert_array_equal(np.diag(S), 1.0)
    np.testing.assert_array_equal(S, S.T)
    np.testing.assert_array_equal(b.overlaps(fm, XA[perm]), S[np.ix_(perm, perm)])
    P = b.probabilities(fm, XA)
    np.testing.assert_array_equal(b.probabilities(fm, XA[perm]), P[perm])
    # -0.0 and 0.0 are the same input.
    Z = np.zeros((1, 3))
    np.testing.assert_array_equal(b.probabilities(fm, -Z), b.probabilities(fm, Z))


@pytest.mark.parametrize("readout_error", [0.0, 0.05])
def test_gram_independent_of_n_jobs_and_tiles(monkeypatch, readout_error):
    X, Y = _data(23, seed=14), _data(9, seed=15)
    backend = ShotsBackend(shots=500, seed=7, readout_error=readout_error)
    kernel = FidelityQuantumKernel(ZZFeatureMap(reps=1), backend=backend, enforce_psd=False)
    K, KY = kernel(X), kernel(X, Y)
    monkeypatch.setattr(_overlap, "_TILE_ROWS", 4)  # 6 x 6 tiles, read in the parent
    for n_jobs in (1, 2):
        k = clone(kernel).set_params(n_jobs=n_jobs)
        np.testing.assert_array_equal(k(X), K)
        np.testing.assert_array_equal(k(X, Y), KY)
    # Projected kernel: Bloch-vector blocks of 256 rows, also n_jobs-independent.
    proj = ProjectedQuantumKernel(backend=backend, gamma=0.3)
    np.testing.assert_array_equal(proj(X, Y), clone(proj).set_params(n_jobs=2)(X, Y))


# --------------------------------------------------------------------------------------------
# Kernels on shots: closeness to exact, PSD projection
# --------------------------------------------------------------------------------------------
def test_fidelity_kernel_on_shots_is_close_and_projected():
    X = _data(30, seed=16)
    exact = FidelityQuantumKernel(ZZFeatureMap(reps=1))(X)
    raw_kernel = FidelityQuantumKernel(
        ZZFeatureMap(reps=1), backend=ShotsBackend(shots=256, seed=0), enforce_psd=False
    )
    raw = raw_kernel(X)
    np.testing.assert_array_equal(np.diag(raw), 1.0)  # not run
    sigma = np.sqrt(exact * (1 - exact) / 256)
    assert np.all(np.abs(raw - exact) <= 5 * sigma + 1e-12)
    assert np.linalg.eigvalsh(raw).min() < -1e-3  # shot noise broke PSD ...
    K = clone(raw_kernel).set_params(enforce_psd=True)(X)
    assert np.linalg.eigvalsh(K).min() >= -1e-12  # ... and the projection restores it
    np.testing.assert_array_equal(K, K.T)
    # Nearest PSD matrix: at least as close to the raw estimate as the exact kernel is.
    assert np.linalg.norm(K - raw) <= np.linalg.norm(exact - raw)
    # Rectangles are never projected.
    np.testing.assert_array_equal(
        raw_kernel(X[:5], X[5:]), clone(raw_kernel).set_params(enforce_psd=True)(X[:5], X[5:])
    )
    with pytest.raises(ValueError, match="enforce_psd"):
        clone(raw_kernel).set_params(enforce_psd="yes")(X)


def test_project_psd():
    rng = np.random.default_rng(17)
    A = rng.normal(size=(12, 12))
    A = (A + A.T) / 2
    P = project_psd(A)
    assert np.linalg.eigvalsh(A).min() < 0
    assert np.linalg.eigvalsh(P).min() >= -1e-12
    np.testing.assert_allclose(project_psd(P), P, rtol=0, atol=1e-12)  # idempotent
    exact = FidelityQuantumKernel(ZZFeatureMap(reps=1))(_data(10, seed=18))
    np.testing.assert_allclose(project_psd(exact), exact, rtol=0, atol=1e-12)
    psd = rng.normal(size=(6, 3))
    psd = psd @ psd.T + 1e-3 * np.eye(6)
    assert project_psd(psd) is psd or np.array_equal(project_psd(psd), psd)
    assert project_psd(np.empty((0, 0))).shape == (0, 0)


def test_exact_gram_untouched_by_enforce_psd():
    X = _data(8, seed=19)
    on = FidelityQuantumKernel(ZZFeatureMap(reps=1), enforce_psd=True)(X)
    off = FidelityQuantumKernel(ZZFeatureMap(reps=1), enforce_psd=False)(X)
    np.testing.assert_array_equal(on, off)


def test_projected_kernel_on_shots_close_to_exact():
    X = _data(6, seed=20)
    exact = ProjectedQuantumKernel(gamma=0.5)
    shots = ProjectedQuantumKernel(gamma=0.5, backend=ShotsBackend(shots=SHOTS, seed=0))
    A, B = exact.embed(X), shots.embed(X)
    assert A.shape == B.shape
    assert np.abs(A - B).max() < 5 / np.sqrt(SHOTS)
    np.testing.assert_allclose(shots(X), exact(X), atol=0.01)
    Z = ProjectedQuantumKernel(measurement="Z", backend=ShotsBackend(shots=10, seed=0))
    assert Z.embed(X).shape == ProjectedQuantumKernel(measurement="Z").embed(X).shape


def test_kernel_rejects_backends_without_sampling_methods():
    from skqml.backends import Backend

    class Bare(Backend):
        pass

    with pytest.raises(NotImplementedError, match="overlaps"):
        FidelityQuantumKernel(backend=Bare())(np.ones((2, 2)))
    with pytest.raises(NotImplementedError, match="expectations"):
        ProjectedQuantumKernel(backend=Bare())(np.ones((2, 2)))


# --------------------------------------------------------------------------------------------
# Estimators on shots
# --------------------------------------------------------------------------------------------
def test_qsvc_on_shots_close_to_exact():
    X, y = make_ad_hoc(n_samples=80, random_state=1)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.5, random_state=0, stratify=y)
    exact = QSVC(bandwidth=1.0, C=1.0).fit(Xtr, ytr).score(Xte, yte)
    clf = QSVC(backend=ShotsBackend(shots=4096, seed=0), bandwidth=1.0, C=1.0).fit(Xtr, ytr)
    assert exact >= 0.95
    assert clf.score(Xte, yte) >= exact - 0.05
    assert isinstance(clf.backend_, ShotsBackend) and clf.backend_ is not clf.backend
    # Pickling keeps predictions (seeded streams: deterministic).
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.decision_function(Xte), clf.decision_function(Xte))
    # Predictions per sample do not depend on the batch.
    np.testing.assert_array_equal(clf.decision_function(Xte[:7]), clf.decision_function(Xte)[:7])
    noisy = QSVC(
        backend=ShotsBackend(shots=4096, seed=0, readout_error=0.01, depolarizing=0.02),
        bandwidth=1.0,
        C=1.0,
    )
    assert noisy.fit(Xtr, ytr).score(Xte, yte) >= exact - 0.1


def test_qsvr_and_projected_qsvc_on_shots():
    X = np.linspace(0, np.pi, 16).reshape(-1, 1)
    y = np.cos(X).ravel()
    reg = QSVR(AngleEmbedding(), C=10.0, epsilon=0.01, backend=ShotsBackend(seed=0))
    assert reg.fit(X, y).score(X, y) > 0.95
    X2, y2 = make_ad_hoc(n_samples=40, random_state=2)
    clf = QSVC(kernel="projected", gamma="scale", backend="shots").fit(X2, y2)
    assert clf.score(X2, y2) > 0.6


def test_grid_search_over_backends_n_jobs_independent():
    X, y = make_ad_hoc(n_samples=36, random_state=3)
    pipe = Pipeline([("scale", StandardScaler()), ("qsvc", QSVC(ZZFeatureMap(reps=1)))])
    grid = {"qsvc__backend": ["statevector", ShotsBackend(shots=512, seed=0)]}
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    results = [GridSearchCV(pipe, grid, cv=cv, n_jobs=n_jobs).fit(X, y) for n_jobs in (1, 2)]
    for key in ("mean_test_score", "split0_test_score", "split2_test_score"):
        np.testing.assert_array_equal(results[0].cv_results_[key], results[1].cv_results_[key])
    assert results[0].best_params_ == results[1].best_params_


def test_nested_backend_shots_grid_and_set_params():
    X, y = make_ad_hoc(n_samples=30, random_state=4)
    backend = ShotsBackend(seed=0)
    clf = QSVC(ZZFeatureMap(reps=1), backend=backend, bandwidth=1.0, C=1.0)
    params = clf.get_params(deep=True)
    assert params["backend__shots"] == 1024 and params["backend__seed"] == 0
    grid = {"backend__shots": [8, 4096]}
    search = GridSearchCV(clf, grid, cv=3, n_jobs=2).fit(X, y)
    assert list(search.cv_results_["param_backend__shots"]) == [8, 4096]
    assert backend.shots == 1024  # the grid's candidates are clones
    scores = search.cv_results_["mean_test_score"]
    assert scores[1] >= scores[0]
    # set_params on the nested backend changes the Gram matrix.
    K8 = clone(clf).set_params(backend__shots=8).fit(X, y).svm_.support_
    K4096 = clone(clf).set_params(backend__shots=4096).fit(X, y).svm_.support_
    assert not np.array_equal(K8, K4096)
