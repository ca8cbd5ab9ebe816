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


def register_backend(name: str, factory: Callable[[], Backend]) -> None:
    """Make ``name`` resolve to ``factory()``."""
    _REGISTRY[name.lower()] = factory


def available_backends() -> list[str]:
    """Names that :func:`resolve_backend` accepts."""
    return sorted(_REGISTRY)


def resolve_backend(backend: str | Backend | None) -> Backend:
    """A fresh backend object for a name, a backend object (cloned), or None (statevector).

    Examples
    --------
    >>> from skqml.backends import resolve_backend
    >>> resolve_backend("statevector")
    StatevectorBackend()
    >>> resolve_backend("shots")
    ShotsBackend()
    """
    if backend is None:
        return StatevectorBackend()
    if isinstance(backend, Backend):
        return clone(backend)
    if isinstance(backend, str):
        factory = _REGISTRY.get(backend.lower())
        if factory is None:
            raise ValueError(
                f"unknown backend {backend!r}; known backends: {', '.join(available_backends())}"
            )
        return factory()
    raise TypeError(
        f"backend must be a name or a skqml Backend object, got {type(backend).__name__}"
    )
