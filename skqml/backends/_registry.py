"""Backend names: strings are shorthand for backend objects."""

from __future__ import annotations

from collections.abc import Callable

from sklearn.base import clone

from ._base import Backend, StatevectorBackend
from ._shots import ShotsBackend

__all__ = ["available_backends", "register_backend", "resolve_backend"]

_REGISTRY: dict[str, Callable[[], Backend]] = {
    "shots": ShotsBackend,
    "statevector": StatevectorBackend,
}


def _qiskit(device: str) -> Backend:
    from ._qiskit import QiskitBackend  # the module imports Qiskit itself only when run

    return QiskitBackend(device=device)


def _pennylane(device: str) -> Backend:
    from ._pennylane import PennyLaneBackend

    return PennyLaneBackend(device=device)


# "prefix:device" names: the device part goes to the factory unchanged.
_PREFIXES: dict[str, Callable[[str], Backend]] = {
    "pennylane": _pennylane,
    "qiskit": _qiskit,
}


def register_backend(name: str, factory: Callable[[], Backend]) -> None:
    """Make ``name`` resolve to ``factory()``.

    Examples
    --------
    >>> from skqml.backends import ShotsBackend, register_backend, resolve_backend
    >>> register_backend("shots-4096", lambda: ShotsBackend(shots=4096, seed=0))
    >>> resolve_backend("shots-4096")
    ShotsBackend(seed=0, shots=4096)
    """
    _REGISTRY[name.lower()] = factory


def available_backends() -> list[str]:
    """Names that :func:`resolve_backend` accepts (``prefix:<device>`` for the adapters).

    Examples
    --------
    >>> from skqml.backends import available_backends
    >>> [name for name in available_backends() if name.startswith(("shots", "state", "qis"))]
    ['qiskit:<device>', 'shots', 'statevector']
    """
    return sorted([*_REGISTRY, *(f"{prefix}:<device>" for prefix in _PREFIXES)])


def resolve_backend(backend: str | Backend | None) -> Backend:
    """A fresh backend object for a name, a backend object (cloned), or None (statevector).

    Examples
    --------
    >>> from skqml.backends import resolve_backend
    >>> resolve_backend("statevector")
    StatevectorBackend()
    >>> resolve_backend("shots")
    ShotsBackend()
    >>> resolve_backend("qiskit:fake_manila")
    QiskitBackend(device='fake_manila')
    """
    if backend is None:
        return StatevectorBackend()
    if isinstance(backend, Backend):
        return clone(backend)
    if isinstance(backend, str):
        prefix, sep, device = backend.partition(":")
        if sep and prefix.lower() in _PREFIXES and device:
            return _PREFIXES[prefix.lower()](device)
        factory = _REGISTRY.get(backend.lower())
        if factory is None:
            raise ValueError(
                f"unknown backend {backend!r}; known backends: {', '.join(available_backends())}"
            )
        return factory()
    raise TypeError(
        f"backend must be a name or a skqml Backend object, got {type(backend).__name__}"
    )
