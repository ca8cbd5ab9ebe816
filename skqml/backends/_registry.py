"""Backend names: strings are shorthand for backend objects."""

from __future__ import annotations

from collections.abc import Callable

from sklearn.base import clone

from ._base import Backend, StatevectorBackend
from ._shots import ShotsBackend

__all__ = ["available_backends", "register_backend", "resolve_backend"]

# What ``backend=None`` means, everywhere: the exact simulator.
DEFAULT_BACKEND = "statevector"
# The ``_parameter_constraints`` entry of every estimator's ``backend``: what resolve_backend
# accepts (its own checks name the problem: an unknown name, a wrong type).
BACKEND_CONSTRAINT = [None, str, Backend]

_REGISTRY: dict[str, Callable[[], Backend]] = {
    "shots": ShotsBackend,
    "statevector": StatevectorBackend,
}


def _mps() -> Backend:
    from ._mps import MPSBackend

    return MPSBackend()


_REGISTRY["mps"] = _mps


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

    Parameters
    ----------
    name : str
        The name, case-insensitive; an existing name is replaced.
    factory : callable
        Called without arguments by :func:`resolve_backend`, returns a new backend object.

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

    Returns
    -------
    names : list of str
        Sorted.

    Examples
    --------
    >>> from skqml.backends import available_backends
    >>> [name for name in available_backends() if name.startswith(("shots", "state", "qis"))]
    ['qiskit:<device>', 'shots', 'statevector']
    """
    return sorted([*_REGISTRY, *(f"{prefix}:<device>" for prefix in _PREFIXES)])


def resolve_backend(backend: str | Backend | None) -> Backend:
    """A fresh backend object for a name, a backend object (cloned), or None.

    Parameters
    ----------
    backend : str, Backend or None
        A registered name (:func:`available_backends`), ``"qiskit:<device>"`` or
        ``"pennylane:<device>"``, a backend object (cloned, so the caller's object is never
        modified), or ``None``: the default backend, ``"statevector"`` (exact simulation),
        exactly as if it were named. Every estimator and kernel resolves its ``backend``
        parameter here, so ``backend=None`` means the same everywhere.

    Returns
    -------
    backend : Backend
        A new object, independent of the argument.

    Raises
    ------
    ValueError
        For an unknown name; the message lists the known ones.
    TypeError
        For anything that is neither a name, a backend nor None.

    Examples
    --------
    >>> from skqml.backends import resolve_backend
    >>> resolve_backend("statevector")
    StatevectorBackend()
    >>> resolve_backend(None)  # the default
    StatevectorBackend()
    >>> resolve_backend("shots")
    ShotsBackend()
    >>> resolve_backend("qiskit:fake_manila")
    QiskitBackend(device='fake_manila')
    """
    if backend is None:
        backend = DEFAULT_BACKEND
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
