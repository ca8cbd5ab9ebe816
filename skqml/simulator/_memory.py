"""Memory budget for simulation: chunk what fits, refuse up front what cannot."""

from __future__ import annotations

import os

__all__ = ["SimulationMemoryError", "default_max_memory_mb", "resolve_max_memory_mb"]

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
    """Half the memory available now (at least 256 MiB), or ``SKQML_MAX_MEMORY_MB``.

    Examples
    --------
    >>> from skqml.simulator import default_max_memory_mb
    >>> default_max_memory_mb() >= 256
    True
    """
    env = os.environ.get("SKQML_MAX_MEMORY_MB")
    if env:
        return float(env)
    try:
        avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        avail = 4096 * _MIB
    return max(256.0, 0.5 * avail / _MIB)


def resolve_max_memory_mb(value: float | None) -> float:
    """Validate a user's ``max_memory_mb`` (``None`` means the default)."""
    if value is None:
        return default_max_memory_mb()
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"max_memory_mb must be a positive number or None, got {value!r}")
    return float(value)


def check_states_fit(n_samples: int, n_qubits: int, max_memory_mb: float | None) -> None:
    """Refuse, before allocating, ``n_samples`` states that exceed the memory budget."""
    total_mb = n_samples * state_bytes(n_qubits) / _MIB
    budget = resolve_max_memory_mb(max_memory_mb)
    if total_mb > budget:
        raise SimulationMemoryError(
            f"the states of {n_samples} samples on {n_qubits} qubits",
            total_mb,
            budget,
            hint="pass fewer samples at once or raise the limit",
        )


def state_bytes(n_qubits: int) -> int:
    """Bytes of one complex128 state vector."""
    return 16 * 2**n_qubits
