"""Optional dependencies, imported only when a feature that needs them is used."""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["import_optional"]


def import_optional(module: str, extra: str, purpose: str) -> ModuleType:
    """Import ``module`` or raise an ImportError that says which extra to install.

    Parameters
    ----------
    module : str
        Dotted module name, e.g. ``"qiskit_aer"``.
    extra : str
        The skqml extra that provides it, e.g. ``"qiskit"``.
    purpose : str
        What needs it, for the message, e.g. ``"QiskitBackend"``.

    Examples
    --------
    >>> from skqml._optional import import_optional
    >>> import_optional("math", "none", "a doctest").sqrt(4.0)
    2.0
    >>> import_optional("no_such_module_xyz", "qiskit", "QiskitBackend")
    Traceback (most recent call last):
    ...
    ImportError: QiskitBackend needs the optional package 'no_such_module_xyz', which is not \
installed; install it with: pip install 'skqml[qiskit]'
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"{purpose} needs the optional package {module.split('.')[0]!r}, which is not "
            f"installed; install it with: pip install 'skqml[{extra}]'"
        ) from exc
