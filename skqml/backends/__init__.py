"""Execution targets. Backends are hyperparameters: strings name registered backends."""

from ._base import Backend, StatevectorBackend
from ._registry import available_backends, register_backend, resolve_backend

__all__ = [
    "Backend",
    "StatevectorBackend",
    "available_backends",
    "register_backend",
    "resolve_backend",
]
