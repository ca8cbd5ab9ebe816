"""What ``skops.io.load`` must trust to load skqml models.

skops.io refuses to construct any type that is not on its default list (NumPy, SciPy,
scikit-learn and builtin containers) unless the caller names it in ``trusted=``. Fitted skqml
models hold skqml objects (the estimator, its feature map or ansatz, backend, kernel, circuit
and the circuit's operations and angles, optimiser state), so loading one needs their names.
:func:`get_trusted_types` computes the list from the package itself rather than keeping a
hand-written one that a new class would silently fall out of.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil

__all__ = ["get_trusted_types"]

# Modules that run something when imported (the command-line demo), or hold no model types.
_SKIPPED_MODULES = frozenset({"skqml.__main__", "skqml.demo"})


def get_trusted_types() -> list[str]:
    """Fully qualified names of the skqml types that fitted skqml models can contain.

    Pass it to ``skops.io.load(path, trusted=skqml.get_trusted_types())`` to load any skqml
    estimator (or a scikit-learn pipeline or search containing one) saved with
    ``skops.io.dump``. The list holds only classes defined in skqml (found by walking its
    modules; private ``_Names`` and exceptions excluded). NumPy, SciPy and scikit-learn
    types, which skops trusts by default, are never in it, so trusting it lets nothing else
    through. Check a file from someone else first: ``skops.io.get_untrusted_types(file=path)``
    lists what it would construct beyond skops' defaults, and every entry should be in this
    list (``QSVC(probability=True)`` also holds scikit-learn calibration helpers that skops
    does not trust by default; see ``docs/persistence.md``).

    Returns
    -------
    names : list of str
        Sorted ``"module.Class"`` names, e.g. ``"skqml.svm._classes.QSVC"`` (the defining
        module, as skops records it, not the public alias ``skqml.svm.QSVC``).

    Examples
    --------
    >>> import skqml
    >>> names = skqml.get_trusted_types()
    >>> "skqml.svm._classes.QSVC" in names, "skqml.circuits._angle.Angle" in names
    (True, True)
    >>> all(name.startswith("skqml.") for name in names)
    True
    """
    return list(_trusted_types())


@functools.cache
def _trusted_types() -> tuple[str, ...]:
    import skqml

    names = set()
    for info in pkgutil.walk_packages(skqml.__path__, prefix="skqml."):
        if info.name in _SKIPPED_MODULES:
            continue
        module = importlib.import_module(info.name)
        for obj in vars(module).values():
            if (
                isinstance(obj, type)
                and obj.__module__ == module.__name__
                # skops records module + class name: only top-level classes can be loaded.
                and obj.__qualname__ == obj.__name__
                # Private classes are abstract bases or live helpers (sessions, simulation
                # plans) that fitted models never hold; the persistence tests would catch one.
                and not obj.__name__.startswith("_")
                and not issubclass(obj, BaseException)
            ):
                names.add(f"{obj.__module__}.{obj.__name__}")
    return tuple(sorted(names))
