"""ResourceCounter: counts against a recording device and hand counts, transparent answers,
dry runs that send nothing, and counts that survive the copies models and searches make."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from skqml.backends import ResourceCounter, SamplingBackend, ShotsBackend, StatevectorBackend
from skqml.circuits import Circuit, RealAmplitudes, ZZFeatureMap, feature
from skqml.simulator import simulate_probabilities
from skqml.svm import QSVC
from skqml.variational import VQC

# What the recording device below was asked to run, shared by all its copies (models and
# searches clone backends): one entry per circuit batch, (rows, shots).
SENT: list[tuple[int, int]] = []


class RecordingDevice(SamplingBackend):
    """A measuring device that records every batch it runs (exact frequencies)."""

    def __init__(self, shots: int = 100):
        self.shots = shots

    def probabilities(self, circuit, X=None, weights=None, *, max_memory_mb=None):
        n_rows = 1 if X is None else np.asarray(X).shape[0]
        SENT.append((n_rows, self.shots))
        return simulate_probabilities(circuit, X, weights, max_memory_mb=max_memory_mb)


class Unreachable(SamplingBackend):
    """A device that must not be asked anything (dry runs)."""

    def __init__(self, shots: int = 20):
        self.shots = shots

    def probabilities(self, circuit, X=None, weights=None, *, max_memory_mb=None):
        raise AssertionError("a dry run sent circuits to the device")


@pytest.fixture(autouse=True)
def _clear_sent():
    SENT.clear()


def _sent_circuits() -> int:
    return sum(rows for rows, _ in SENT)


def _problem(n_samples=5, seed=0):
    circuit = ZZFeatureMap(reps=1).build(3).compose(RealAmplitudes(reps=1).build(3))
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, np.pi, (n_samples, 3))
    weights = rng.uniform(-np.pi, np.pi, circuit.n_weights)
    return circuit, X, weights


def test_counts_equal_what_the_device_ran_and_the_hand_counts():
    circuit, X, weights = _problem()
    counter = ResourceCounter(RecordingDevice(shots=100))
    fmap = ZZFeatureMap(reps=1).build(3)
    counter.probabilities(circuit, X, weights)  # 5 circuits
    # XX and XI share a group; ZZ another; II needs none: 2 groups x 5 rows
    counter.expectations(circuit, ["XXX", "IXI", "ZZI", "III"], X, weights)
    counter.overlaps(fmap, X)  # 5 * 4 / 2 pairs above the diagonal
    counter.overlaps(fmap, X[:2], X)  # 2 x 5 pairs
    counter.paired_overlaps(fmap, X, X[::-1])  # 5 pairs
    counter.zero_frequencies(circuit, X[:3], weights)  # 3
    counter.parity_expectations(circuit, [1, 3], X[:4], weights)  # 4
    expected = 5 + 2 * 5 + 10 + 10 + 5 + 3 + 4
    assert counter.n_circuits_ == _sent_circuits() == expected
    assert counter.n_shots_ == 100 * expected
    # A request per call, one per measurement group for expectations; each a single batch
    # on this device (its own chunking would split larger ones, not the count of requests).
    assert counter.n_submissions_ == len(SENT) == 8
    assert all(r.n_submissions == 1 for r in counter.requests_)
    assert [r.method for r in counter.requests_][:3] == ["probabilities", *2 * ["expectations"]]
    assert {r.n_qubits for r in counter.requests_} == {3}


def test_answers_are_the_wrapped_backends():
    circuit, X, weights = _problem()
    fmap = ZZFeatureMap(reps=1).build(3)
    bare = ShotsBackend(shots=500, seed=3)
    counter = ResourceCounter(ShotsBackend(shots=500, seed=3))
    np.testing.assert_array_equal(
        counter.probabilities(circuit, X, weights), bare.probabilities(circuit, X, weights)
    )
    np.testing.assert_array_equal(
        counter.expectations(circuit, ["ZZI", "XIX"], X, weights),
        bare.expectations(circuit, ["ZZI", "XIX"], X, weights),
    )
    np.testing.assert_array_equal(counter.overlaps(fmap, X), bare.overlaps(fmap, X))
    np.testing.assert_array_equal(
        counter.paired_overlaps(fmap, X, X[::-1]), bare.paired_overlaps(fmap, X, X[::-1])
    )
    assert counter.n_circuits_ == 5 + 2 * 5 + 10 + 5 and counter.n_shots_ == 500 * 30


def test_a_dry_run_sends_nothing_answers_exactly_and_counts_the_same():
    circuit, X, weights = _problem()
    fmap = ZZFeatureMap(reps=1).build(3)
    dry = ResourceCounter(Unreachable(shots=50), dry_run=True)
    exact = StatevectorBackend()
    np.testing.assert_allclose(
        dry.probabilities(circuit, X, weights), exact.probabilities(circuit, X, weights)
    )
    np.testing.assert_allclose(
        dry.expectations(circuit, ["ZZI", "XIX"], X, weights),
        exact.expectations(circuit, ["ZZI", "XIX"], X, weights),
    )
    np.testing.assert_allclose(dry.overlaps(fmap, X), exact.overlaps(fmap, X), atol=1e-12)
    np.testing.assert_allclose(
        dry.zero_frequencies(circuit, X, weights),
        exact.probabilities(circuit, X, weights)[:, 0],
    )
    assert dry.n_circuits_ == 5 + 2 * 5 + 10 + 5 and dry.n_shots_ == 50 * dry.n_circuits_
    # The same requests, sent, are counted the same.
    sent = ResourceCounter(RecordingDevice(shots=50))
    sent.probabilities(circuit, X, weights)
    sent.expectations(circuit, ["ZZI", "XIX"], X, weights)
    sent.overlaps(fmap, X)
    sent.zero_frequencies(circuit, X, weights)
    assert sent.requests_ == dry.requests_


def test_models_count_into_the_users_counter_through_clones_and_searches():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(16, 2)), np.arange(16) % 2
    counter = ResourceCounter(RecordingDevice(shots=10))
    search = GridSearchCV(QSVC(backend=counter), {"C": [1.0, 10.0]}, cv=2, n_jobs=1)
    search.fit(X, y)
    # The models ran on clones of clones of the counter; the counts are in the user's.
    assert counter.n_circuits_ == _sent_circuits() > 0
    assert counter.n_submissions_ == len(SENT)
    # At least every fit's Gram matrix: 4 fits on 8 rows and the refit on 16.
    assert counter.n_circuits_ >= 4 * 28 + 120
    assert clone(counter).n_circuits_ == copy.deepcopy(counter).n_circuits_ == counter.n_circuits_


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_variational_fit_is_counted_with_its_parameter_shift_circuits():
    X = np.random.default_rng(2).normal(size=(6, 2))
    y = np.array([0, 1] * 3)
    counter = ResourceCounter(RecordingDevice(shots=20))
    VQC(backend=counter, max_iter=2, random_state=0).fit(X, y)
    assert counter.n_circuits_ == _sent_circuits() > 0
    # Exact answers both ways, so the same training path: the dry run counts the same.
    dry = ResourceCounter(Unreachable(), dry_run=True)
    VQC(backend=dry, max_iter=2, random_state=0).fit(X, y)
    assert [r.n_circuits for r in dry.requests_] == [r.n_circuits for r in counter.requests_]


def test_submissions_are_jobs_of_at_most_max_batch_size_circuits():
    pytest.importorskip("qiskit")
    from skqml.backends import QiskitBackend

    fmap = ZZFeatureMap(reps=1).build(3)
    X = np.random.default_rng(0).uniform(size=(30, 3))
    counter = ResourceCounter(QiskitBackend(shots=10, max_batch_size=100), dry_run=True)
    counter.overlaps(fmap, X)  # 435 pairs: 5 jobs
    counter.probabilities(fmap, X)  # 30 rows: 1 job
    assert [r.n_submissions for r in counter.requests_] == [5, 1]
    assert counter.n_submissions_ == 6 and counter.n_shots_ == 10 * 465


def test_pickles_carry_a_copy_of_the_counts_and_reset_clears_them():
    counter = ResourceCounter(RecordingDevice())
    counter.probabilities(Circuit(1).ry(feature(0), 0), [[0.1], [0.2]])
    restored = pickle.loads(pickle.dumps(counter))
    assert restored == counter and restored.n_circuits_ == 2
    restored.reset()
    assert restored.n_circuits_ == 0 and counter.n_circuits_ == 2  # a copy, not the ledger
    twin = clone(counter)
    twin.reset()
    assert counter.n_circuits_ == 0  # clones share it


def test_bad_settings_are_refused_with_the_fix():
    circuit = Circuit(1).h(0)
    with pytest.raises(ValueError, match=r"exact.*dry_run=True"):
        ResourceCounter("statevector").probabilities(circuit)
    with pytest.raises(TypeError, match="dry_run must be True or False"):
        ResourceCounter("shots", dry_run="yes").probabilities(circuit)
    with pytest.raises(ValueError, match=r"(?i)unknown"):
        ResourceCounter("no-such-device").probabilities(circuit)
