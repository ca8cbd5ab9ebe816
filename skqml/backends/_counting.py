"""Counting before spending: what a measuring backend is asked to run.

A :class:`ResourceCounter` stands where a backend goes (any model's ``backend=``) and counts
the requests that pass through it to the backend it wraps: the circuits a measuring device
runs for each of them (one per row for probabilities and parities, one per row and
measurement group for Pauli expectations, one compute-uncompute circuit per pair of samples
for kernel entries), the shots that takes, and the requests themselves. With ``dry_run=True``
nothing is sent: the answers come from the exact simulator, and the counts are those the
wrapped backend would have been asked for.

The counts belong to the counter the user made, whatever copies the models make of it
(``resolve_backend`` clones every backend; ``GridSearchCV`` clones every estimator): clones
of a counter share its ledger. Copies sent to other processes (joblib's process workers)
count in those processes, which do not report back.
"""

from __future__ import annotations

import threading
from typing import NamedTuple

import numpy as np
from sklearn.base import clone

from ..circuits import Circuit
from ._base import Backend, StatevectorBackend
from ._registry import resolve_backend
from ._sampling import (
    SamplingBackend,
    _check_labels,
    _check_overlap_args,
    _measurement_groups,
    _pairs,
)

__all__ = ["ResourceCounter"]


class Request(NamedTuple):
    """One request passed to the wrapped backend."""

    method: str  # the backend method asked
    n_qubits: int  # width of the circuits run
    n_circuits: int  # circuits a measuring device runs for it
    n_shots: int  # n_circuits times the backend's shots (0 without shots)
    n_submissions: int  # batches sent: jobs of at most the backend's max_batch_size circuits


class Ledger:
    """The counts of a counter and of its clones (thread-safe). Public-named, as the other
    types a fitted model can hold, so that ``skqml.get_trusted_types()`` covers it when a
    model fitted through a counter is saved with skops."""

    def __init__(self, requests=()):
        self._lock = threading.Lock()
        self.requests: list[Request] = list(requests)

    def add(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def snapshot(self) -> list[Request]:
        with self._lock:
            return list(self.requests)

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()

    def __deepcopy__(self, memo):
        return self  # copies of a counter (clone, deepcopy) count into the same ledger

    def __reduce__(self):
        return (Ledger, (self.snapshot(),))  # another process: a copy of the counts so far


class _ExactMeasurement(SamplingBackend):
    """What a shot-free, noise-free measuring device would return: exact probabilities,
    expectations and overlaps from skqml's simulator (the answers of a dry run)."""

    _exact = StatevectorBackend()

    def probabilities(self, circuit, X=None, weights=None, *, max_memory_mb=None):
        return self._exact.probabilities(circuit, X, weights, max_memory_mb=max_memory_mb)

    def expectations(self, circuit, paulis, X=None, weights=None, *, max_memory_mb=None):
        return self._exact.expectations(circuit, paulis, X, weights, max_memory_mb=max_memory_mb)

    def overlaps(self, circuit, XA, XB=None, symmetric=None, weights=None, *, max_memory_mb=None):
        return self._exact.overlaps(
            circuit, XA, XB, symmetric, weights, max_memory_mb=max_memory_mb
        )

    def paired_overlaps(self, circuit, XA, XB, weights=None, *, max_memory_mb=None):
        return self._exact.paired_overlaps(circuit, XA, XB, weights, max_memory_mb=max_memory_mb)


def _n_rows(X) -> int:
    return 1 if X is None else np.asarray(X).shape[0]


class ResourceCounter(SamplingBackend):
    """Counts the circuits, shots and requests that a measuring backend is asked for.

    Put it where the backend goes (``QSVC(backend=ResourceCounter(device))``): every request
    of the model passes through it to ``backend`` unchanged, and is counted the way a
    measuring device runs it. With ``dry_run=True`` nothing is sent: the answers are exact
    (skqml's simulator, no shots, no noise) and the counts are those ``backend`` would have
    been asked for, so that a grid search can be priced before it is run on hardware.

    What counts as a circuit (each run ``shots`` times): for :meth:`probabilities`,
    :meth:`zero_frequencies` and :meth:`parity_expectations` one per row; for
    :meth:`expectations` one per row and qubit-wise commuting group of the Pauli strings
    (identity strings need none); for :meth:`overlaps` one compute-uncompute circuit per pair
    of samples (for a symmetric Gram matrix the pairs above the diagonal only) and for
    :meth:`paired_overlaps` one per pair. A request is one call of these methods (one per
    group for expectations), which a sampling backend sends as one batch, or as jobs of at
    most ``max_batch_size`` circuits where the backend has that parameter
    (:class:`QiskitBackend`). A backend may still split a batch to fit its memory; that
    does not change what the device runs.

    Parameters
    ----------
    backend : str or Backend, default="shots"
        The measuring backend to count (a name or a backend object, resolved as every
        model's ``backend``). Exact backends are refused: models compute exact states
        without asking for circuits, so there would be nothing to count.
    dry_run : bool, default=False
        True: send nothing; answer from the exact simulator.

    Attributes
    ----------
    n_circuits_ : int
        Circuits counted so far.
    n_shots_ : int
        Shots counted so far (circuits times ``backend.shots``; 0 for a backend without
        shots, such as PennyLane's analytic mode).
    n_submissions_ : int
        Batches sent so far: one per request, or, for a backend with ``max_batch_size``
        (:class:`QiskitBackend`), one job per ``max_batch_size`` circuits of a request.
    requests_ : list of Request
        Every request: ``(method, n_qubits, n_circuits, n_shots, n_submissions)``.

    Notes
    -----
    The counts are kept by the counter object the user made: copies that a model or a grid
    search makes of it (``clone``, ``resolve_backend``) count into the same ledger. Copies in
    other processes (joblib's process workers; skqml sends measuring backends' blocks to
    processes) count there and do not report back: count a search with ``n_jobs=1``, or
    within ``joblib.parallel_config(backend="threading")``. :meth:`reset` sets the counts to
    zero. Answers are the wrapped backend's own (same seeds, same numbers), or exact in a dry
    run.

    Examples
    --------
    >>> import numpy as np
    >>> from skqml.backends import ResourceCounter, ShotsBackend
    >>> from skqml.svm import QSVC
    >>> X = np.random.default_rng(0).normal(size=(12, 2))
    >>> y = np.arange(12) % 2
    >>> counter = ResourceCounter(ShotsBackend(shots=1000, seed=0), dry_run=True)
    >>> model = QSVC(backend=counter).fit(X, y)
    >>> counter.n_circuits_, counter.n_shots_  # 12 * 11 / 2 pairs above the diagonal
    (66, 66000)
    >>> n_support = len(model.support_)
    >>> _ = model.predict(X[:3])  # one overlap circuit per test sample and support vector
    >>> counter.n_circuits_ == 66 + 3 * n_support, counter.n_submissions_
    (True, 2)
    """

    def __init__(self, backend="shots", *, dry_run: bool = False):
        self.backend = backend
        self.dry_run = dry_run

    # -- the ledger, shared by clones --------------------------------------------------------
    def _ledger(self) -> Ledger:
        ledger = self.__dict__.get("_counts")
        if ledger is None:
            ledger = self.__dict__.setdefault("_counts", Ledger())
        return ledger

    def __sklearn_clone__(self):
        params = {k: clone(v, safe=False) for k, v in self.get_params(deep=False).items()}
        twin = type(self)(**params)
        twin.__dict__["_counts"] = self._ledger()
        return twin

    def __getstate__(self):
        state = super().__getstate__()
        state["_counts"] = self._ledger()  # pickled as a copy of the counts so far
        return state

    def reset(self) -> ResourceCounter:
        """Set every count to zero (for this counter and its clones).

        Returns
        -------
        self : ResourceCounter
        """
        self._ledger().clear()
        return self

    @property
    def requests_(self) -> list[Request]:
        """Every request counted so far: ``(method, n_qubits, n_circuits, n_shots,
        n_submissions)``."""
        return self._ledger().snapshot()

    @property
    def n_circuits_(self) -> int:
        """Circuits counted so far."""
        return sum(r.n_circuits for r in self.requests_)

    @property
    def n_shots_(self) -> int:
        """Shots counted so far (circuits times the backend's ``shots``)."""
        return sum(r.n_shots for r in self.requests_)

    @property
    def n_submissions_(self) -> int:
        """Batches (jobs) counted so far."""
        return sum(r.n_submissions for r in self.requests_)

    # -- where requests go -------------------------------------------------------------------
    def _wrapped(self) -> Backend:
        """The resolved wrapped backend (cached; never pickled nor cloned)."""
        cache = self.__dict__.setdefault("_cache", {})
        if "wrapped" not in cache:
            if not isinstance(self.dry_run, bool | np.bool_):
                raise TypeError(f"dry_run must be True or False, got {self.dry_run!r}")
            wrapped = resolve_backend(self.backend)
            if wrapped.exact:
                raise ValueError(
                    f"ResourceCounter counts the circuits of measuring backends; "
                    f"{type(wrapped).__name__} is exact, and models take its states without "
                    "asking for circuits. Wrap the device's backend (e.g. "
                    "ShotsBackend(shots=...) or QiskitBackend(device=...)), with "
                    "dry_run=True to count on the exact simulator."
                )
            cache["wrapped"] = wrapped
        return cache["wrapped"]

    def _target(self) -> SamplingBackend:
        """Who answers: the wrapped backend, or the exact simulator in a dry run."""
        wrapped = self._wrapped()
        return _ExactMeasurement() if self.dry_run else wrapped

    def _count(self, method: str, circuit: Circuit, n_circuits: int, n_requests: int = 1):
        """Record ``n_requests`` requests of ``n_circuits`` circuits each."""
        wrapped = self._wrapped()
        shots = getattr(wrapped, "shots", None)
        per_circuit = int(shots) if isinstance(shots, int | np.integer) else 0
        batch = getattr(wrapped, "max_batch_size", None)
        jobs = -(-n_circuits // int(batch)) if isinstance(batch, int | np.integer) else 1
        request = Request(method, circuit.n_qubits, n_circuits, n_circuits * per_circuit, jobs)
        ledger = self._ledger()
        for _ in range(n_requests):
            ledger.add(request)

    # -- the backend interface ---------------------------------------------------------------
    def probabilities(self, circuit, X=None, weights=None, *, max_memory_mb=None):
        target = self._target()
        self._count("probabilities", circuit, _n_rows(X))
        return target.probabilities(circuit, X, weights, max_memory_mb=max_memory_mb)

    def zero_frequencies(self, circuit, X=None, weights=None, *, max_memory_mb=None):
        target = self._target()
        self._count("zero_frequencies", circuit, _n_rows(X))
        return target.zero_frequencies(circuit, X, weights, max_memory_mb=max_memory_mb)

    def parity_expectations(self, circuit, masks, X=None, weights=None, *, max_memory_mb=None):
        target = self._target()
        self._count("parity_expectations", circuit, _n_rows(X))
        return target.parity_expectations(circuit, masks, X, weights, max_memory_mb=max_memory_mb)

    def expectations(self, circuit, paulis, X=None, weights=None, *, max_memory_mb=None):
        target = self._target()
        groups = _measurement_groups(_check_labels(paulis, circuit.n_qubits))
        if groups:
            # One request per measurement group, each a circuit per row.
            self._count("expectations", circuit, _n_rows(X), len(groups))
        return target.expectations(circuit, paulis, X, weights, max_memory_mb=max_memory_mb)

    def overlaps(self, circuit, XA, XB=None, symmetric=None, weights=None, *, max_memory_mb=None):
        target = self._target()
        sym, XA_c, XB_c = _check_overlap_args(circuit, XA, XB, symmetric)
        n_pairs = len(_pairs(XA_c, XB_c, sym)[0])
        if n_pairs:
            self._count("overlaps", circuit, n_pairs)
        return target.overlaps(circuit, XA, XB, symmetric, weights, max_memory_mb=max_memory_mb)

    def paired_overlaps(self, circuit, XA, XB, weights=None, *, max_memory_mb=None):
        target = self._target()
        n_pairs = _n_rows(XA)
        if n_pairs:
            self._count("paired_overlaps", circuit, n_pairs)
        return target.paired_overlaps(circuit, XA, XB, weights, max_memory_mb=max_memory_mb)
