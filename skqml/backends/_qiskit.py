"""Qiskit devices as skqml backends: Aer, fake IBM devices with their noise, IBM hardware.

One execution path for every device, so that what runs on hardware is what the tests run on
simulators: the target ``BackendV2`` (an ``AerSimulator``, an ``AerSimulator`` carrying a fake
device's noise model and coupling map, or an IBM backend from ``QiskitRuntimeService``), a
preset pass manager for it, and the IBM runtime Sampler primitive in ``mode=target`` (local
testing mode for the simulators, the real service for hardware).

Translation. A circuit's structure (gate names and qubits) becomes one parameterised
``QuantumCircuit`` in which *every* gate angle, constant or not, is an element of one
``ParameterVector``, followed by measurements of all qubits into one classical register
(``meas``, bit ``q`` = qubit ``q``). It is transpiled once and cached, so parameter-shift
runs, basis-change variants with the same gates and repeated calls never transpile again.
The angles are evaluated numerically for the whole batch (:meth:`Angle.evaluate`) into an
array ``(n_rows, n_angles)`` and sent as the parameter values of one PUB per
``max_batch_size`` rows. Qiskit numbers basis states little-endian as skqml does, so the
measured integer is skqml's basis index without reordering.

Randomness. The Sampler of local testing mode takes one simulator seed per job, and Aer
seeds a job's experiments by their position in it. With ``seed`` set, each job's seed is a
hash of the seed, the circuit, the weights and the rows of the job, so results are a
deterministic function of what is run (and of ``max_batch_size``, which decides the jobs):
``n_jobs`` and joblib backends never change them, because kernels tile their pairs by size
and memory, never by ``n_jobs``. Unlike :class:`ShotsBackend`, a row's shots depend on the
other rows of its job, so ``probabilities(c, X[:5])`` is not ``probabilities(c, X)[:5]``:
keying shots by row would need one job per row. Hardware is not reproducible.
"""

from __future__ import annotations

import copy
import inspect
import itertools
import logging
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

from .._optional import import_optional
from .._validation import check_integer, check_real
from ..circuits import GATES, Circuit
from ..simulator._statevector import check_inputs
from ._base import bound_lru, rows_per_batch
from ._sampling import SamplingBackend, _check_masks
from ._seeding import _circuit_text, _digest, _weights_bytes

__all__ = ["QiskitBackend"]

logger = logging.getLogger(__name__)

_PURPOSE = "QiskitBackend"
# Transpiled templates kept per device (least recently used dropped): a model uses a handful
# of structures (its circuit, one per measurement basis, the overlap circuit).
_MAX_TEMPLATES = 64
# Local testing mode of the client-side Sampler rounds every angle to a multiple of pi/2 at
# this many decimals (its default, 5, moves angles by up to 8e-6 rad, so that nominally
# Clifford circuits can use the stabilizer method). 12 keeps the angles exact to 1e-12.
_ANGLE_DECIMALS = 12
# Errors that a retry cannot fix: bad input (IBMInputValueError is a ValueError), bugs,
# missing packages, memory. Checked first: some of them are also QiskitErrors.
_PERMANENT = (ValueError, TypeError, AttributeError, ImportError, MemoryError, NotImplementedError)
# Live device sessions of this process, by (device, optimization_level), least recently used
# dropped first; see _session(). A model uses one; a grid over devices a few.
_MAX_SESSIONS = 8
_SESSIONS: OrderedDict[tuple, _Session] = OrderedDict()
_SESSIONS_LOCK = threading.Lock()
# Waiting for a job with a deadline: polls of its state, from every 10 ms up to every second.
_FIRST_POLL, _MAX_POLL = 0.01, 1.0
# Module attributes, so that tests can record the backoff and run a clock without waiting.
_sleep = time.sleep
_monotonic = time.monotonic


class _Settings(NamedTuple):
    """Validated parameters of a QiskitBackend."""

    shots: int
    seed: int | None
    optimization_level: int
    max_batch_size: int
    max_retries: int
    retry_delay: float
    timeout: float | None
    mode: str
    options: dict


# How jobs are submitted (the runtime's execution modes): one by one, as one batch, or in a
# session with dedicated device access. In local testing mode all three run locally.
_MODES = ("job", "batch", "session")
# Sampler options that skqml's own parameters set: where to set them instead.
_OWN_OPTIONS = {"default_shots": "shots"}
_OWN_SIMULATOR_OPTIONS = {"seed_simulator": "seed"}


class _JobTimedOut(Exception):
    """A job still running at its deadline (and cancelled): a transient failure."""


class QiskitBackend(SamplingBackend):
    """Run circuits on a Qiskit device: Aer, a fake IBM device, or IBM Quantum hardware.

    Parameters
    ----------
    device : str, default="aer_simulator"
        ``"aer_simulator"``: ideal Aer simulation. ``"fake_<name>"`` (``"fake_manila"``,
        ``"fake_brisbane"``, ...): the device snapshot of that name from
        ``qiskit_ibm_runtime.fake_provider``, simulated by Aer with its noise model, coupling
        map and basis gates. Any other name: the IBM Quantum backend of that name, from
        ``QiskitRuntimeService()`` with the account saved on this machine (credentials are
        never parameters, so they are neither pickled nor printed).
    shots : int, default=1024
        Measurements per circuit (per sample, per measurement basis, per kernel pair).
    seed : int or None, default=None
        Simulators only. ``None``: fresh randomness on every job. An integer: each job's
        simulator seed is a hash of it and of what the job runs (circuit, weights, rows), so
        repeated calls give identical results, whatever ``n_jobs``. Ignored on hardware,
        which is not reproducible.
    optimization_level : int in {0, 1, 2, 3}, default=1
        Level of Qiskit's preset pass manager (``seed_transpiler=0``, so the layout and
        routing are deterministic too).
    max_batch_size : int, default=1000
        Rows per job (one PUB of parameter values each); larger batches are split. Bounds the
        memory of a job's results (Aer keeps one string per shot), the size of hardware jobs
        and the work lost to a failed job.
    max_retries : int, default=3
        Retries of a job that fails transiently: an error of Qiskit, of the service or of the
        network (a ``QiskitError`` or an ``OSError``, not one about its input), or a
        ``timeout``. Anything else (``KeyboardInterrupt``, an exception of your own, for
        instance from a signal handler) propagates at once, never retried.
    retry_delay : float, default=1.0
        Seconds before the first retry; retry ``k`` (from 0) waits ``retry_delay * 2**k``.
    timeout : float or None, default=None
        Seconds to wait for each job's result, from its submission. ``None`` waits as long
        as the job takes. A job still running at the deadline is cancelled and retried
        (under ``max_retries``, with the same seed); when no try finishes in time, a
        ``TimeoutError`` names the device, the tries and the timeout.
    mode : {"job", "batch", "session"}, default="job"
        The runtime's execution mode. ``"job"``: each job on its own. ``"batch"``: the jobs
        of this process on the device go into one runtime ``Batch`` (opened at the first
        job, closed at exit), which the service may run in parallel. ``"session"``: into
        one runtime ``Session``, with dedicated device access between its jobs (iterative
        training). Local testing mode (simulators) runs all three alike.
    options : dict or None, default=None
        Options of the runtime Sampler (``SamplerOptions``), as nested dictionaries, for
        example ``{"dynamical_decoupling": {"enable": True, "sequence_type": "XY4"},
        "twirling": {"enable_gates": True}}``. Checked by the runtime when the backend first
        runs: an unknown option or value raises a ``ValueError``. The shots and the
        simulator seed are ``shots`` and ``seed``, not options.

    Attributes
    ----------
    exact : bool
        False: kernels run overlap circuits, variational models use parameter shifts.

    See Also
    --------
    ShotsBackend : Finite shots on skqml's own simulator, with closed-form noise.

    Notes
    -----
    Every gate maps to Qiskit gates with the same matrix, global phase included: most
    one-to-one (``u3`` is ``UGate``), ``rot`` and ``crot`` as ``RZ RY RZ`` and its
    controlled factors, ``multirz`` and ``multiphase`` as ``RZ`` or ``P`` on the parity that a
    CX ladder collects on the last qubit. Translated circuits and the target are cached
    privately, never pickled, and rebuilt on first use after unpickling or ``clone``; a
    change of ``device`` or ``optimization_level`` rebuilds them.

    Aer runs with ``max_parallel_threads=1`` (parallelism comes from joblib; Aer's default
    threading is many times slower for small circuits). A fake device is run as
    ``AerSimulator.from_backend(device, max_parallel_threads=1)``: local testing mode given
    the fake device itself simulates it with Aer's default threading, and the client-side
    Sampler even builds that simulator anew for every job; given this simulator as the
    target, it runs the same simulation (same noise model, same counts for the same seed)
    on one thread, built once. Aer still converts the noise model for every job, so a job on
    a fake device costs a few tenths of a second however small it is: parameter-shift
    gradients, which run two jobs per weight, are slow there.

    Kernel entries and Pauli expectations are counted from the measured shots themselves
    (:meth:`zero_frequencies`, :meth:`parity_expectations`), in memory proportional to
    ``shots`` times the number of qubits: only :meth:`probabilities` builds (and checks the
    memory of) ``2**n_qubits`` frequencies per row, so a 40-qubit feature map runs on a
    127-qubit device. Simulating such a circuit is Aer's business: ``"aer_simulator"``
    offers only as many qubits as a statevector fits in this machine's memory.

    The primitive is ``qiskit_ibm_runtime.executor_sampler.Sampler``, the client-side
    Sampler that replaces ``SamplerV2`` from qiskit-ibm-runtime 0.50 on; older releases use
    ``SamplerV2``. Both run the same PUBs and, on simulators, give the same counts for the
    same seed. On hardware each job is submitted in ``mode`` (job, batch or session); a
    backend's jobs run one after another.

    With a ``timeout``, a job's state is polled (every 10 ms at first, then less often, at
    most every second) until it finishes or the deadline passes; a job past its deadline
    gets ``job.cancel()`` (a failure to cancel is logged, not raised). On hardware that
    frees the queue; a local simulation already running cannot be stopped, finishes in its
    thread and its result is discarded. Without a timeout, nothing is polled.

    Examples
    --------
    >>> import numpy as np
    >>> from skqml.backends import QiskitBackend
    >>> from skqml.circuits import Circuit, feature
    >>> bell = Circuit(2).h(0).cnot(0, 1)
    >>> backend = QiskitBackend(shots=1000, seed=0)
    >>> p = backend.probabilities(bell)
    >>> p.shape, p[0, [1, 2]], float(p[0, [0, 3]].sum())  # only 00 and 11 are measured
    ((1, 4), array([0., 0.]), 1.0)
    >>> circuit = Circuit(1).ry(feature(0), 0)
    >>> backend.probabilities(circuit, [[0.0], [np.pi]])  # one job for both rows
    array([[1., 0.],
           [0., 1.]])
    >>> bool(np.array_equal(p, backend.probabilities(bell)))  # seeded: repeatable
    True
    >>> QiskitBackend(device="fake_manila", seed=0)
    QiskitBackend(device='fake_manila', seed=0)
    >>> hardware = QiskitBackend(device="ibm_brisbane", shots=4096)  # saved IBM account
    >>> hardware.probabilities(bell)  # doctest: +SKIP
    """

    exact = False

    def __init__(
        self,
        device: str = "aer_simulator",
        shots: int = 1024,
        seed: int | None = None,
        optimization_level: int = 1,
        max_batch_size: int = 1000,
        max_retries: int = 3,
        retry_delay: float = 1.0,
        timeout: float | None = None,
        mode: str = "job",
        options: dict | None = None,
    ):
        self.device = device
        self.shots = shots
        self.seed = seed
        self.optimization_level = optimization_level
        self.max_batch_size = max_batch_size
        self.max_retries = max_retries
        self.retry_delay = retry_delay
        self.timeout = timeout
        self.mode = mode
        self.options = options

    # -- validation -------------------------------------------------------------------------------
    def _checked(self) -> _Settings:
        if not isinstance(self.device, str) or not self.device:
            raise ValueError(
                "device must be 'aer_simulator', a fake device name such as 'fake_manila' "
                f"or an IBM backend name, got {self.device!r}"
            )
        seed, timeout = self.seed, self.timeout
        return _Settings(
            shots=check_integer(self.shots, "shots", low=1),
            seed=None if seed is None else check_integer(seed, "seed", low=0),
            optimization_level=check_integer(
                self.optimization_level, "optimization_level", low=0, high=3
            ),
            max_batch_size=check_integer(self.max_batch_size, "max_batch_size", low=1),
            max_retries=check_integer(self.max_retries, "max_retries", low=0),
            retry_delay=check_real(self.retry_delay, "retry_delay", 0),
            # inf: no deadline, as None.
            timeout=None
            if timeout is None
            else check_real(timeout, "timeout", 0, strict=True, allow_inf=True),
            mode=self._checked_mode(),
            options=self._checked_options(),
        )

    def _checked_mode(self) -> str:
        if not isinstance(self.mode, str) or self.mode not in _MODES:
            raise ValueError(f"mode must be one of {', '.join(_MODES)}, got {self.mode!r}")
        return self.mode

    def _checked_options(self) -> dict:
        """A copy of ``options`` (the runtime checks names and values when it first runs)."""
        if self.options is None:
            return {}
        if not isinstance(self.options, Mapping):
            raise TypeError(
                "options must be a dict of the runtime Sampler's options, e.g. "
                f"{{'twirling': {{'enable_gates': True}}}}, got {type(self.options).__name__}"
            )
        for name, own in _OWN_OPTIONS.items():
            if name in self.options:
                raise ValueError(f"set {own}= of QiskitBackend, not options[{name!r}]")
        simulator = self.options.get("simulator") or {}
        for name, own in _OWN_SIMULATOR_OPTIONS.items():
            if isinstance(simulator, Mapping) and name in simulator:
                raise ValueError(
                    f"set {own}= of QiskitBackend, not options['simulator'][{name!r}]"
                )
        return copy.deepcopy(dict(self.options))

    # -- live Qiskit objects ----------------------------------------------------------------------
    def _session(self) -> _Session:
        """The target and transpiled templates of the current device, built on first use.

        Sessions are shared by every backend object of the process with the same device and
        optimization level: kernels and estimators clone their backend on every call (and
        joblib workers unpickle it), and each clone would otherwise rebuild the target and
        transpile every circuit again.
        """
        key = (self.device, int(self.optimization_level))
        session = self.__dict__.get("_cache")
        if session is None or session.key != key:
            with _SESSIONS_LOCK:
                session = _SESSIONS.get(key)
                if session is None:
                    target, local = _make_target(self.device)
                    session = _Session(key, target, local)
                    _SESSIONS[key] = session
                    bound_lru(_SESSIONS, _MAX_SESSIONS)
                else:
                    _SESSIONS.move_to_end(key)
            self.__dict__["_cache"] = session
        return session

    # -- running ----------------------------------------------------------------------------------
    def probabilities(
        self, circuit: Circuit, X=None, weights=None, *, max_memory_mb=None
    ) -> np.ndarray:
        """Outcome frequencies from ``shots`` measurements of each sample's circuit.

        Parameters
        ----------
        circuit : Circuit
            Circuit to run, from ``|0...0>``, measuring every qubit.
        X : array-like of shape (n_samples, n_features), optional
            Features; without them the circuit runs once.
        weights : array-like of shape (n_weights,), optional
            Trainable weights, shared by all samples.
        max_memory_mb : float, optional
            Memory budget of the returned frequencies and of a job's decoded shots; jobs
            shrink below ``max_batch_size`` rows to fit it.

        Returns
        -------
        freqs : ndarray of shape (n_samples, 2**n_qubits)
            Multiples of ``1 / shots`` summing to 1 per row, little-endian basis order.

        Raises
        ------
        ValueError
            For invalid parameters or inputs, an unknown fake device, or a circuit with more
            qubits than the device.
        RuntimeError
            When a job still fails after ``max_retries`` retries.
        TimeoutError
            When no try of a job finishes within ``timeout`` seconds.
        """
        n = circuit.n_qubits
        # Every outcome's count: 8 bytes per outcome and row in the output, and decoding a
        # row needs its shots' bytes and int64 outcomes (16 per shot) and its counts.
        n_rows, jobs = self._jobs(
            circuit,
            X,
            weights,
            "the frequencies",
            out_per_row=8 * 2**n,
            work_per_shot=16,
            work_per_row=16 * 2**n,
            max_memory_mb=max_memory_mb,
        )
        out = np.empty((n_rows, 2**n))
        for start, stop, raw in jobs:
            out[start:stop] = _frequencies(raw, n)
        return out

    def zero_frequencies(
        self, circuit: Circuit, X=None, weights=None, *, max_memory_mb=None
    ) -> np.ndarray:
        """Fraction of each row's shots in which every measured bit is 0.

        Counted from the shots' packed bits, in memory proportional to ``shots`` and the
        number of qubits (never ``2**n_qubits``): the overlap circuits of a kernel on a wide
        device run wherever their shots fit. The same jobs and counts as column 0 of
        :meth:`probabilities` (identical values when ``max_memory_mb`` does not split the
        jobs differently).

        Parameters
        ----------
        circuit : Circuit
            Circuit to run, from ``|0...0>``, measuring every qubit.
        X, weights
            As in :meth:`probabilities`.
        max_memory_mb : float, optional
            Memory budget of a job's shots (one byte per 8 qubits per shot) and of counting
            them; jobs shrink below ``max_batch_size`` rows to fit it.

        Returns
        -------
        freqs : ndarray of shape (n_samples,)
            Multiples of ``1 / shots``.

        Examples
        --------
        >>> import numpy as np
        >>> from skqml.backends import QiskitBackend
        >>> from skqml.circuits import Circuit, feature
        >>> circuit = Circuit(1).ry(feature(0), 0)
        >>> QiskitBackend(shots=100, seed=0).zero_frequencies(circuit, [[0.0], [np.pi]])
        array([1., 0.])
        """
        n_rows, jobs = self._shot_jobs(circuit, X, weights, 1, max_memory_mb)
        out = np.empty(n_rows)
        for start, stop, raw in jobs:
            # A shot is all zeros when none of its bytes has a bit set.
            zeros = np.count_nonzero(~raw.any(axis=-1), axis=1)
            out[start:stop] = zeros / raw.shape[1]
        return out

    def parity_expectations(
        self, circuit: Circuit, masks, X=None, weights=None, *, max_memory_mb=None
    ) -> np.ndarray:
        """Mean of ``(-1)**popcount(outcome & mask)`` over each row's shots.

        Counted from the shots' packed bits, in memory proportional to ``shots`` and the
        number of qubits (never ``2**n_qubits``). The same jobs and counts as
        :meth:`probabilities`: the value is ``(even - odd) / shots``, equal to the
        frequencies weighted by parity signs (to the last bit when ``shots`` is a power
        of 2; otherwise summing rounded frequencies may differ in the last bits).

        Parameters
        ----------
        circuit : Circuit
            Circuit to measure, basis changes included.
        masks : sequence of int
            Qubit masks (bit ``q``: qubit ``q``), Python integers of any width.
        X, weights
            As in :meth:`probabilities`.
        max_memory_mb : float, optional
            Memory budget of a job's shots and of counting them.

        Returns
        -------
        values : ndarray of shape (n_samples, len(masks))

        Examples
        --------
        >>> from skqml.backends import QiskitBackend
        >>> from skqml.circuits import Circuit
        >>> bell = Circuit(2).h(0).cnot(0, 1)
        >>> QiskitBackend(shots=1000, seed=0).parity_expectations(bell, [0b11, 0b00])
        array([[1., 1.]])
        """
        n = circuit.n_qubits
        masks = _check_masks(masks, n)
        n_bytes = (n + 7) // 8
        # Big-endian like the shots' bytes: the last byte holds qubits 0-7.
        mask_bytes = [np.frombuffer(m.to_bytes(n_bytes, "big"), dtype=np.uint8) for m in masks]
        n_rows, jobs = self._shot_jobs(circuit, X, weights, max(len(masks), 1), max_memory_mb)
        out = np.empty((n_rows, len(masks)))
        for start, stop, raw in jobs:
            shots = raw.shape[1]
            for col, mb in enumerate(mask_bytes):
                used = np.flatnonzero(mb)  # only the bytes the mask touches
                ones = _popcount(raw[..., used] & mb[used]).sum(axis=-1, dtype=np.int64)
                odd = np.count_nonzero(ones & 1, axis=1)
                out[start:stop, col] = (shots - 2 * odd) / shots
        return out

    def _shot_jobs(self, circuit: Circuit, X, weights, n_values: int, max_memory_mb):
        """The jobs of the hooks that count from shots. Per row they allocate ``n_values``
        results and, per shot, its bytes, at most three working copies of them (selected
        bytes, masked, popcounts) and an int64 parity count; nothing of size
        ``2**n_qubits``."""
        n_bytes = (circuit.n_qubits + 7) // 8
        return self._jobs(
            circuit,
            X,
            weights,
            "the shots",
            out_per_row=8 * n_values,
            work_per_shot=4 * n_bytes + 8,
            work_per_row=0,
            max_memory_mb=max_memory_mb,
        )

    def _jobs(
        self,
        circuit: Circuit,
        X,
        weights,
        what: str,
        *,
        out_per_row: int,
        work_per_shot: int,
        work_per_row: int,
        max_memory_mb,
    ):
        """Validate, then run the rows in jobs of at most ``max_batch_size`` rows.

        ``what`` names the output in a memory error (``"the frequencies"``). Returns the
        number of rows and an iterator of ``(start, stop, raw)`` per job, ``raw`` its
        shots' bytes of shape ``(stop - start, shots, n_bytes)``.
        Rows per job come from what the caller allocates (``out_per_row`` bytes for its
        output, ``work_per_shot * shots + work_per_row`` while decoding a row), so that
        only :meth:`probabilities` makes the ``2**n_qubits`` check. Whenever the budget
        does not bind, every caller gets the same jobs, hence the same seeds and counts.
        """
        settings = self._checked()
        shots, seed = settings.shots, settings.seed
        X, weights = check_inputs(circuit, X, weights)
        n, n_rows = circuit.n_qubits, (1 if X is None else X.shape[0])
        shot_bytes = work_per_shot * shots
        # When a single row cannot fit, its shots or its 2**n outcomes are why: advise on
        # whichever dominates.
        many_shots = shot_bytes > out_per_row + work_per_row
        batch = rows_per_batch(
            n_rows,
            out_per_row,
            shot_bytes + work_per_row,
            max_memory_mb,
            what=what,
            n_qubits=n,
            one_row_hint="use fewer shots or raise the limit" if many_shots else "",
        )
        batch = min(settings.max_batch_size, batch)
        session = self._session()
        if n > session.n_qubits:
            raise ValueError(
                f"the circuit has {n} qubits but the device {self.device!r} has only "
                f"{session.n_qubits}"
            )
        if n_rows == 0:
            return 0, iter(())
        template = session.template(circuit)
        values = _angle_values(circuit, X, weights, n_rows)
        rows = np.empty((n_rows, 0)) if X is None else X
        context = _circuit_text(circuit), _weights_bytes(weights)

        # A nested generator, so that the checks above run when _jobs() is called.
        def run():
            for start in range(0, n_rows, batch):
                stop = min(start + batch, n_rows)
                job_seed = None
                if seed is not None and session.local:
                    job_seed = _job_seed(seed, *context, rows[start:stop])
                pub = template.pub(values[start:stop], shots)
                bits = self._run_job(session, pub, job_seed, settings)
                yield start, stop, _shot_bytes(bits, stop - start, shots, n)

        return n_rows, run()

    def _run_job(self, session, pub, seed, settings: _Settings):
        """Submit one PUB and wait for its measured bits, retrying transient failures.

        Transient: a Qiskit or service error, a network error (``ConnectionError``), a job
        past ``timeout``.
        Anything else (input errors, interrupts, the caller's own exceptions) propagates
        at once.
        """
        retries, timeout = settings.max_retries, settings.timeout
        sampler = _make_sampler(
            session.mode_target(settings.mode),
            shots=settings.shots,
            seed=seed,
            local=session.local,
            options=settings.options,
            device=self.device,
        )
        # Network errors only: other OSErrors include the built-in TimeoutError an alarm
        # handler raises and file-system errors, which a retry cannot fix. A transpiler
        # error (an option the device cannot apply, such as dynamical decoupling without
        # gate durations) is a QiskitError that no retry fixes either.
        transient = (_JobTimedOut, ConnectionError, _qiskit_error())
        for attempt in range(retries + 1):
            try:
                result = _job_result(sampler.run([pub]), timeout)
                return result[0].data.meas
            except _PERMANENT:
                raise
            except _transpiler_error() as exc:
                applying = f"apply the options {settings.options!r} to" if settings.options else ""
                raise ValueError(
                    f"the runtime Sampler could not {applying or 'run'} the circuit on "
                    f"{self.device!r}: {exc}"
                ) from exc
            except transient as exc:
                if attempt == retries:
                    if isinstance(exc, _JobTimedOut):
                        raise TimeoutError(
                            f"a Qiskit job on {self.device!r} did not finish within "
                            f"timeout={timeout:g} s in {attempt + 1} tries; giving up "
                            f"(max_retries={retries})"
                        ) from None
                    raise RuntimeError(
                        f"a Qiskit job on {self.device!r} failed {attempt + 1} time(s); giving "
                        f"up (max_retries={retries}). Last error: {type(exc).__name__}: {exc}"
                    ) from exc
                wait = settings.retry_delay * 2**attempt
                logger.warning(
                    "Qiskit job on %r failed (%s: %s); retry %d of %d in %.3g s",
                    self.device,
                    type(exc).__name__,
                    exc,
                    attempt + 1,
                    retries,
                    wait,
                )
                _sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover


def _qiskit_error() -> type:
    # Qiskit's base error, which the primitives, Aer and the runtime client raise.
    return import_optional("qiskit.exceptions", "qiskit", _PURPOSE).QiskitError


def _transpiler_error() -> type:
    return import_optional("qiskit.transpiler.exceptions", "qiskit", _PURPOSE).TranspilerError


def _job_result(job, timeout: float | None):
    """The job's result, waiting at most ``timeout`` seconds (None: as long as it takes).

    Polls the job's state (``in_final_state``, part of every primitive job's interface)
    until the deadline, then cancels the job and raises :class:`_JobTimedOut`. A finished
    job's ``result()`` raises its own error, if it failed.
    """
    if timeout is None or timeout == float("inf"):
        return job.result()
    deadline = _monotonic() + timeout
    pause = _FIRST_POLL
    while not job.in_final_state():
        remaining = deadline - _monotonic()
        if remaining <= 0:
            _cancel(job)
            raise _JobTimedOut(f"still running after {timeout:g} s")
        _sleep(min(pause, remaining))
        pause = min(2 * pause, _MAX_POLL)
    return job.result()


def _cancel(job) -> None:
    """Cancel a job past its deadline; a failure to cancel is logged, not raised."""
    try:
        job.cancel()
    except Exception as exc:  # the timeout is what the caller needs to hear about
        logger.warning("could not cancel a timed-out Qiskit job (%s: %s)", type(exc).__name__, exc)


# ------------------------------------------------------------------------------------------------
# Targets and primitives
# ------------------------------------------------------------------------------------------------
def _make_target(device: str) -> tuple[Any, bool]:
    """``(BackendV2, local)`` for a device name; ``local``: simulated in this process."""
    name = device.lower()
    if name == "aer_simulator":
        aer = import_optional("qiskit_aer", "qiskit", _PURPOSE)
        return aer.AerSimulator(max_parallel_threads=1), True
    if name.startswith("fake_"):
        aer = import_optional("qiskit_aer", "qiskit", _PURPOSE)
        fake = _fake_device(name)
        # The same simulator local testing mode would build for every job, built once and
        # with one thread (see the class notes).
        return aer.AerSimulator.from_backend(fake, max_parallel_threads=1), True
    runtime = import_optional("qiskit_ibm_runtime", "qiskit", _PURPOSE)
    try:
        service = runtime.QiskitRuntimeService()
    except Exception as exc:
        raise RuntimeError(
            f"QiskitBackend(device={device!r}) runs on IBM Quantum and needs an account "
            "saved with QiskitRuntimeService.save_account(...); use 'aer_simulator' or a "
            f"'fake_<name>' device to simulate ({type(exc).__name__}: {exc})"
        ) from exc
    return service.backend(device), False


def _fake_devices() -> dict[str, type]:
    """Fake device classes of ``qiskit_ibm_runtime.fake_provider`` by device name."""
    provider = import_optional("qiskit_ibm_runtime.fake_provider", "qiskit", _PURPOSE)
    base = import_optional("qiskit_ibm_runtime.fake_provider.fake_backend", "qiskit", _PURPOSE)
    # Class attributes only: instantiating all of them costs time (and warnings).
    return {
        cls.backend_name: cls
        for cls in vars(provider).values()
        if inspect.isclass(cls)
        and issubclass(cls, base.FakeBackendV2)
        and isinstance(getattr(cls, "backend_name", None), str)
    }


def _fake_device(name: str):
    devices = _fake_devices()
    if name not in devices:
        raise ValueError(
            f"unknown fake device {name!r}; qiskit_ibm_runtime.fake_provider has: "
            f"{', '.join(sorted(devices))}"
        )
    return devices[name]()


def _make_sampler(
    mode, *, shots: int, seed: int | None, local: bool, options: dict | None = None, device=""
):
    """The runtime Sampler primitive in ``mode`` (the target, or a runtime ``Batch`` or
    ``Session`` on it), with the user's ``options`` and then the ones skqml sets."""
    runtime = import_optional("qiskit_ibm_runtime", "qiskit", _PURPOSE)
    try:
        # qiskit-ibm-runtime >= 0.50: the client-side Sampler (SamplerV2 is deprecated there).
        from qiskit_ibm_runtime.executor_sampler import Sampler
    except ImportError:
        Sampler = runtime.SamplerV2
    try:
        sampler = Sampler(mode=mode, options=copy.deepcopy(options or {}) or None)
    except (ValueError, TypeError) as exc:  # pydantic's ValidationError is a ValueError
        lines = (line.strip() for line in str(exc).splitlines())
        detail = "; ".join(x for x in lines if x and not x.startswith("For further information"))
        raise ValueError(
            f"QiskitBackend(device={device!r}): the runtime Sampler does not accept these "
            f"options: {detail}"
        ) from None
    sampler.options.default_shots = shots
    if local:
        simulator = sampler.options.simulator
        if seed is not None:
            simulator.seed_simulator = seed
        if hasattr(simulator, "angle_decimals"):
            simulator.angle_decimals = _ANGLE_DECIMALS
    return sampler


class _Session:
    """Live objects of one device: target, pass manager, transpiled templates (LRU)."""

    def __init__(self, key: tuple, target, local: bool):
        self.key = key
        self.target = target
        self.local = local
        self.n_qubits = int(target.num_qubits)
        self._pass_manager = None
        self._templates: OrderedDict[tuple, _Template] = OrderedDict()
        self._lock = threading.Lock()
        self._modes: dict[str, Any] = {}  # the runtime Batch and Session, opened on first use

    def mode_target(self, mode: str):
        """What the Sampler runs in for ``mode``: the target itself (``"job"``), or the
        device's runtime ``Batch`` or ``Session``, opened once and closed with this object
        (or at exit)."""
        if mode == "job":
            return self.target
        with self._lock:
            context = self._modes.get(mode)
            if context is None:
                runtime = import_optional("qiskit_ibm_runtime", "qiskit", _PURPOSE)
                factory = runtime.Batch if mode == "batch" else runtime.Session
                context = factory(backend=self.target)
                weakref.finalize(self, _close_quietly, context)
                self._modes[mode] = context
            return context

    def template(self, circuit: Circuit) -> _Template:
        structure = (circuit.n_qubits, tuple((op.name, op.qubits) for op in circuit))
        # One lock around lookup and transpilation: threads sharing the backend (a
        # thread-pool joblib backend) never transpile the same structure twice.
        with self._lock:
            template = self._templates.get(structure)
            if template is not None:
                self._templates.move_to_end(structure)
                return template
            if self._pass_manager is None:
                transpiler = import_optional("qiskit.transpiler", "qiskit", _PURPOSE)
                self._pass_manager = transpiler.generate_preset_pass_manager(
                    optimization_level=self.key[1], backend=self.target, seed_transpiler=0
                )
            template = _Template(self._pass_manager.run(_to_qiskit(circuit)))
            self._templates[structure] = template
            bound_lru(self._templates, _MAX_TEMPLATES)
            return template


def _close_quietly(context) -> None:
    """Close a runtime Batch or Session; a failure to close is logged, not raised."""
    try:
        context.close()
    except Exception as exc:  # at exit: nothing else can be done about it
        logger.warning("closing a Qiskit runtime %s failed: %s", type(context).__name__, exc)


class _Template:
    """A transpiled circuit and which angle column feeds each of its parameters."""

    def __init__(self, isa_circuit):
        self.circuit = isa_circuit
        # The transpiler may merge angles (rz(a) rz(b) -> rz(a + b)) or drop gates (a
        # diagonal gate before a measurement): bind exactly the parameters that are left.
        self.parameters = tuple(isa_circuit.parameters)
        self.columns = np.array([p.index for p in self.parameters], dtype=np.intp)

    def pub(self, values: np.ndarray, shots: int) -> tuple:
        if not self.parameters:
            # Nothing varies between rows: one run of rows * shots shots, dealt out in order
            # (shots are independent, so each row gets its own `shots` of them).
            return (self.circuit, None, shots * values.shape[0])
        bindings = import_optional(
            "qiskit.primitives.containers.bindings_array", "qiskit", _PURPOSE
        ).BindingsArray({self.parameters: values[:, self.columns]})
        return (self.circuit, bindings, shots)


# ------------------------------------------------------------------------------------------------
# Translation
# ------------------------------------------------------------------------------------------------
def _emit(qc, name: str, qubits: tuple[int, ...], angles) -> None:
    """Append gate ``name`` to ``qc`` as the gate table declares it for Qiskit.

    A ``QuantumCircuit`` method of the declared name (Qiskit's gates have skqml's matrices,
    global phase included, with the qubits in the operation's order, controls first), else
    the gate's parity ladder or its exact decomposition into one-angle gates. Checked state
    by state against skqml's simulator in tests/test_gate_table.py.
    """
    spec = GATES[name]
    if "qiskit" in spec.unsupported:
        raise NotImplementedError(f"gate {name!r} has no Qiskit translation")
    if spec.qiskit is not None:
        getattr(qc, spec.qiskit)(*angles, *qubits)
    elif spec.parity is not None:
        small = dict(spec.parity.small).get(len(qubits))
        if small is not None:
            _emit(qc, small, qubits, angles)
        else:
            # The rotation on the parity of the qubits, collected on the last one by a CX
            # ladder.
            chain = list(itertools.pairwise(qubits))
            for a, b in chain:
                qc.cx(a, b)
            _emit(qc, spec.parity.rotation, qubits[-1:], angles)
            for a, b in reversed(chain):
                qc.cx(a, b)
    elif spec.decomposition:
        for sub, angle in spec.decomposition:
            _emit(qc, sub, qubits, [angles[angle]])
    else:
        raise NotImplementedError(f"gate {name!r} has no Qiskit translation in the gate table")


def _to_qiskit(circuit: Circuit, *, measure: bool = True):
    """The parameterised Qiskit circuit of a circuit's structure.

    Angle ``k`` (in the order of the operations and of each gate's angles) is
    ``ParameterVector("angle")[k]``, whatever its expression; :func:`_angle_values` gives
    their values for a batch. With ``measure``, every qubit ``q`` is measured into bit ``q``
    of the classical register ``meas``.
    """
    qiskit = import_optional("qiskit", "qiskit", _PURPOSE)
    circuit_lib = import_optional("qiskit.circuit", "qiskit", _PURPOSE)
    n_angles = sum(len(op.params) for op in circuit)
    angles = circuit_lib.ParameterVector("angle", n_angles)
    qreg = qiskit.QuantumRegister(circuit.n_qubits, "q")
    qc = qiskit.QuantumCircuit(qreg)
    k = 0
    for op in circuit:
        params = [angles[k + i] for i in range(len(op.params))]
        k += len(op.params)
        _emit(qc, op.name, op.qubits, params)
    if measure:
        creg = qiskit.ClassicalRegister(circuit.n_qubits, "meas")
        qc.add_register(creg)
        qc.measure(qreg, creg)
    return qc


def _angle_values(circuit: Circuit, X, weights, n_rows: int) -> np.ndarray:
    """Every gate angle for every row, shape ``(n_rows, n_angles)``, vectorised per angle."""
    values = np.empty((n_rows, sum(len(op.params) for op in circuit)))
    k = 0
    for op in circuit:
        for angle in op.params:
            values[:, k] = angle.evaluate(X, weights)  # (n_rows,) or (1,) when constant
            k += 1
    return values


# ------------------------------------------------------------------------------------------------
# Results, seeds, memory
# ------------------------------------------------------------------------------------------------
def _shot_bytes(bits, n_rows: int, shots: int, n_qubits: int) -> np.ndarray:
    """A job's ``BitArray`` as its packed bytes, shape ``(n_rows, shots, n_bytes)``.

    Each shot's bytes are big-endian: the last byte holds bits 0-7 (qubits 0-7).
    """
    if bits.num_bits != n_qubits:
        raise RuntimeError(f"expected {n_qubits} measured bits per shot, got {bits.num_bits}")
    return np.asarray(bits.array).reshape(n_rows, shots, -1)


def _frequencies(raw: np.ndarray, n_qubits: int) -> np.ndarray:
    """Per-row outcome frequencies from shot bytes, with one ``bincount`` for all rows."""
    n_rows, shots, n_bytes = raw.shape
    # Big-endian bytes: shifting in each byte after the previous ones gives skqml's index.
    outcome = np.zeros((n_rows, shots), dtype=np.int64)
    for byte in range(n_bytes):
        outcome = (outcome << 8) | raw[..., byte]
    dim = 2**n_qubits
    outcome += (np.arange(n_rows, dtype=np.int64) * dim)[:, None]
    counts = np.bincount(outcome.ravel(), minlength=n_rows * dim)
    return counts.reshape(n_rows, dim) / shots


# Set bits of every byte value: numpy < 2.0 (supported) has no bitwise_count.
_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)
_HAS_BITWISE_COUNT = hasattr(np, "bitwise_count")


def _popcount(a: np.ndarray) -> np.ndarray:
    """Set bits of each byte of a ``uint8`` array."""
    if _HAS_BITWISE_COUNT:
        return np.bitwise_count(a)
    return _POPCOUNT[a]


def _job_seed(seed: int, circuit_text: bytes, weights_bytes: bytes, rows: np.ndarray) -> int:
    # -0.0 and 0.0 hash alike (as in _row_keys). A positive 31-bit seed: SamplerV2's local
    # mode ignores a seed of 0, and Aer adds a stride per experiment to the job's seed.
    rows = np.ascontiguousarray(rows, dtype=float) + 0.0
    digest = _digest(
        b"qiskit", int(seed).to_bytes(16, "little"), circuit_text, weights_bytes, rows.tobytes()
    )
    return 1 + digest % (2**31 - 2)
