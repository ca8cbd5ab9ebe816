"""Memory budget for simulation: chunk what fits, refuse up front what cannot.

Every allocation that grows with ``2**n_qubits`` is counted against the ``max_memory_mb`` of
the call that makes it, *before* it is made: :func:`require_memory` for one allocation,
:func:`rows_per_chunk` for work done in chunks of rows (samples, pairs), and
:func:`check_states_fit` for a batch of output states. What cannot fit raises
:class:`SimulationMemoryError` up front, with advice that fits the cause (fewer samples at
once, or fewer features when even one state is too large).

Cache policy (one for the whole package). Nothing that grows with ``2**n`` is kept in a cache
that outlives its owner or escapes the budget:

- compiled plans (``_plan.compile_circuit``) and adjoint tapes (``_adjoint._tape``) live in
  ``WeakKeyDictionary`` objects keyed by the :class:`~skqml.circuits.Circuit`: they are freed
  with the circuit. A plan holds phase tables of at most ``O(n 2**(n/2))`` numbers per
  diagonal block (``O(2**n)`` only for the rare blocks that do not split), computed on first
  use; every call that runs a plan counts all of its tables (``Plan.table_bytes``) as held
  memory in its budget, whether they are computed yet or not. Tapes hold no ``2**n`` arrays.
- scratch buffers belong to one simulation call and are freed when it returns; they are part
  of the working copies each call counts per row.
- kernels keep no cache on themselves: feature-map circuits are memoised in a small
  module-level LRU (``kernels._quantum_kernel``), keyed by the feature map's parameters and
  the number of features, so at most a few circuits (and their plans) stay alive.
"""

from __future__ import annotations

import os
import time

import numpy as np

from .._validation import check_real

__all__ = [
    "SimulationMemoryError",
    "check_states_fit",
    "default_max_memory_mb",
    "remaining_budget_mb",
    "require_memory",
    "resolve_max_memory_mb",
    "rows_per_chunk",
    "state_bytes",
    "wide_circuit_hint",
]

_MIB = 1024**2


class SimulationMemoryError(MemoryError):
    """Raised before allocating when a simulation cannot fit in the memory budget.

    Attributes
    ----------
    required_mb, allowed_mb : float
        Memory the smallest possible unit of work needs, and the configured budget.

    Examples
    --------
    >>> from skqml.circuits import Circuit
    >>> from skqml.simulator import SimulationMemoryError, simulate
    >>> try:
    ...     simulate(Circuit(20).h(0), max_memory_mb=1)
    ... except SimulationMemoryError as exc:
    ...     print(isinstance(exc, MemoryError), exc.required_mb > exc.allowed_mb == 1)
    True True
    """

    def __init__(self, what: str, required_mb: float, allowed_mb: float, hint: str = ""):
        self.required_mb = required_mb
        self.allowed_mb = allowed_mb
        msg = (
            f"{what} needs {_mib(required_mb)} MiB but only {_mib(allowed_mb)} MiB are allowed"
            " (max_memory_mb, or the SKQML_MAX_MEMORY_MB environment variable)"
        )
        super().__init__(msg + (f"; {hint}" if hint else ""))


def _mib(value: float) -> str:
    """Readable MiB: whole numbers with separators, significant digits below 10."""
    return f"{value:,.0f}" if value >= 10 else f"{value:.3g}"


def default_max_memory_mb() -> float:
    """Half the memory available now (at least 256 MiB if that leaves a margin), or
    ``SKQML_MAX_MEMORY_MB``.

    "Available" is the free physical memory, capped by the process's address-space limit
    (``ulimit -v``) and a container's cgroup memory limit when they are set.

    Examples
    --------
    >>> from skqml.simulator import default_max_memory_mb
    >>> default_max_memory_mb() >= 256
    True
    """
    env = os.environ.get("SKQML_MAX_MEMORY_MB")
    if env is not None and env.strip():
        try:
            value = float(env)
        except ValueError:
            value = float("nan")
        if not value > 0:  # also NaN
            raise ValueError(
                f"the environment variable SKQML_MAX_MEMORY_MB must be a positive number of "
                f"MiB, got {env!r}; unset it for the default (half the available memory)"
            )
        return value
    available = _available_bytes() / _MIB
    # At least 256 MiB where that leaves a margin; never more than 90% of what is left.
    return max(0.5 * available, min(256.0, 0.9 * available), 1.0)


# Seconds a reading of the available memory is reused: a training step asks for the default
# budget every few milliseconds, and reading it (sysconf, /proc, cgroup files) cost more
# than a small step's arithmetic.
_AVAILABLE_TTL = 0.1
_available_reading = (-float("inf"), 0.0)  # (time.monotonic() of the reading, bytes)


def _available_bytes() -> float:
    """Memory this process can still use (read at most every ``_AVAILABLE_TTL`` seconds)."""
    global _available_reading
    taken, value = _available_reading
    now = time.monotonic()
    if now - taken > _AVAILABLE_TTL:
        value = _read_available_bytes()
        _available_reading = (now, value)
    return value


def _read_available_bytes() -> float:
    """Memory this process can still use: free physical memory, capped by what is left of
    the process's address-space limit (``ulimit -v``) and of a container's cgroup limit."""
    try:
        avail = float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        avail = 4096.0 * _MIB
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft != resource.RLIM_INFINITY:
            avail = min(avail, float(soft) - _address_space_in_use())
    except (ImportError, OSError, ValueError):  # pragma: no cover - non-POSIX
        pass
    try:
        with (
            open("/sys/fs/cgroup/memory.max") as limit,
            open("/sys/fs/cgroup/memory.current") as used,
        ):
            text = limit.read().strip()
            if text != "max":
                avail = min(avail, float(text) - float(used.read()))
    except (OSError, ValueError):
        pass
    return avail


def _address_space_in_use() -> float:
    """Virtual memory the process maps now (what counts against ``RLIMIT_AS``)."""
    try:
        with open("/proc/self/statm") as statm:
            return float(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):  # pragma: no cover - no procfs
        return 0.0


def resolve_max_memory_mb(value: float | None) -> float:
    """Validate a user's ``max_memory_mb`` (``None`` means the default), in MiB.

    Any positive real number is accepted, NumPy scalars included; ``inf`` means no limit.
    """
    if value is None:
        return default_max_memory_mb()
    return check_real(value, "max_memory_mb (MiB)", 0, strict=True, allow_inf=True)


def require_memory(
    nbytes: float, max_memory_mb: float | None, what: str, *, hint: str = ""
) -> None:
    """Refuse, before allocating, ``nbytes`` that exceed the memory budget.

    Examples
    --------
    >>> from skqml.simulator._memory import require_memory
    >>> require_memory(2 * 1024**2, 1, "a table")
    Traceback (most recent call last):
    ...
    skqml.simulator._memory.SimulationMemoryError: a table needs 2 MiB but only 1 MiB are ...
    """
    budget = resolve_max_memory_mb(max_memory_mb)
    if nbytes / _MIB > budget:
        raise SimulationMemoryError(what, nbytes / _MIB, budget, hint=hint or "raise the limit")


def rows_per_chunk(
    bytes_per_row: float,
    max_memory_mb: float | None,
    *,
    what: str,
    n_qubits: int | None = None,
    fixed_bytes: float = 0,
    share: float = 1.0,
    hint: str = "",
) -> int:
    """How many rows (samples, pairs) of ``bytes_per_row`` fit ``share`` of the budget.

    ``fixed_bytes`` is what the call holds whatever the number of rows (tables, caches,
    outputs), counted within that share. When not even one row fits,
    :class:`SimulationMemoryError` says so. For rows of states (``n_qubits`` given) it
    advises fewer features or another backend, since fewer samples at once would not help,
    unless one row alone would fit and ``hint`` names the other cause (what is held beside
    the rows); otherwise it gives ``hint``.

    Examples
    --------
    >>> from skqml.simulator._memory import rows_per_chunk
    >>> rows_per_chunk(1024**2, 10, what="a block", fixed_bytes=2 * 1024**2)
    8
    >>> rows_per_chunk(16 * 2**30, 1024, what="simulating", n_qubits=30)
    Traceback (most recent call last):
    ...
    skqml.simulator._memory.SimulationMemoryError: simulating (30 qubits, one sample at a ...
    """
    budget = share * resolve_max_memory_mb(max_memory_mb) * _MIB
    room = budget - fixed_bytes
    if not room >= bytes_per_row:
        # The width is the problem when one row alone is too large, or when the caller names
        # no other cause of the shortage (what it holds beside the rows).
        if n_qubits is not None and (bytes_per_row > budget or not hint):
            what = f"{what} ({n_qubits} qubits, one sample at a time)"
            hint = wide_circuit_hint(n_qubits)
        raise SimulationMemoryError(
            what,
            (fixed_bytes + bytes_per_row) / _MIB / share,
            budget / _MIB / share,
            hint=hint or "raise the limit",
        )
    if not np.isfinite(room):
        return 2**62
    return max(1, int(room // bytes_per_row)) if bytes_per_row > 0 else 2**62


def remaining_budget_mb(max_memory_mb: float | None, held_bytes: float, what: str) -> float:
    """The budget left, in MiB, once ``held_bytes`` are held; refuses when nothing is left.

    For a call that keeps results (states, Gram matrices) while it computes more: the next
    step gets what is left, so the call as a whole keeps its budget.

    Examples
    --------
    >>> from skqml.simulator._memory import remaining_budget_mb
    >>> remaining_budget_mb(10, 4 * 1024**2, "the states of X")
    6.0
    """
    budget = resolve_max_memory_mb(max_memory_mb)
    left = budget - held_bytes / _MIB
    if not left > 0:
        raise SimulationMemoryError(
            what, held_bytes / _MIB, budget, hint="pass fewer samples at once or raise the limit"
        )
    return left


def wide_circuit_hint(n_qubits: int) -> str:
    """Advice when a single state of ``n_qubits`` cannot fit: the width is the problem."""
    return (
        f"even one state of {n_qubits} qubits is {_mib(state_bytes(n_qubits) / _MIB)} MiB, so "
        "fewer samples at once would not help: use fewer features (for example "
        "sklearn.decomposition.PCA), a backend that runs wide circuits, or raise the limit"
    )


def check_states_fit(
    n_samples: int, n_qubits: int, max_memory_mb: float | None, *, working_bytes: float = 0
) -> None:
    """Refuse, before allocating, ``n_samples`` states that exceed the memory budget.

    ``working_bytes`` is what the call needs besides the states (working copies of one
    sample, tables): when one state and that do not fit, the advice is the wide-circuit one.

    Examples
    --------
    >>> from skqml.simulator._memory import check_states_fit
    >>> check_states_fit(100, 10, 1)
    Traceback (most recent call last):
    ...
    skqml.simulator._memory.SimulationMemoryError: the states of 100 samples on 10 qubits ...
    """
    total_mb = (n_samples * state_bytes(n_qubits) + working_bytes) / _MIB
    budget = resolve_max_memory_mb(max_memory_mb)
    if total_mb > budget:
        one_fits = (state_bytes(n_qubits) + working_bytes) / _MIB <= budget
        raise SimulationMemoryError(
            f"the states of {n_samples} samples on {n_qubits} qubits",
            total_mb,
            budget,
            hint="pass fewer samples at once or raise the limit"
            if one_fits
            else wide_circuit_hint(n_qubits),
        )


def state_bytes(n_qubits: int) -> int:
    """Bytes of one complex128 state vector."""
    return 16 * 2**n_qubits
