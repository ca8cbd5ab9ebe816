"""One validator per concept: numbers, Pauli labels, ``n_jobs``, ``max_memory_mb``.

Every layer checks its arguments with these, so the same bad value gets the same message
whatever the entry point. Type and range errors both raise
:class:`~sklearn.utils._param_validation.InvalidParameterError`, which is a ``ValueError`` and
a ``TypeError``, as scikit-learn's own parameter validation does. NumPy scalars are accepted
wherever a Python number is (a grid search over ``np.arange`` must work).
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.utils._param_validation import Interval, InvalidParameterError

__all__ = [
    "MAX_MEMORY_MB_CONSTRAINT",
    "N_JOBS_CONSTRAINT",
    "check_bool",
    "check_integer",
    "check_pauli_label",
    "check_real",
]

# ``n_jobs`` as in scikit-learn and joblib: None, a positive count, or negative (all cores
# but ``-n_jobs - 1``). 0 is refused up front, whatever the data size.
N_JOBS_CONSTRAINT = [
    None,
    Interval(numbers.Integral, 1, None, closed="left"),
    Interval(numbers.Integral, None, -1, closed="right"),
]

# A memory budget in MiB: any positive real number (``inf``: no limit), or None for the default.
# (closed on the right so that an unbounded interval admits inf.)
MAX_MEMORY_MB_CONSTRAINT = [None, Interval(numbers.Real, 0, None, closed="right")]


def _is_integer(value) -> bool:
    # bool is an Integral, but n_layers=True is always a mistake.
    return isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_)


def check_integer(value, name: str, low: int | None = None, high: int | None = None) -> int:
    """``value`` as an int if it is an integer in ``[low, high]`` (bounds optional).

    Python and NumPy integers are accepted, bools are not.

    Raises
    ------
    InvalidParameterError
        (a ``ValueError`` and a ``TypeError``) naming ``name``, the range and the value.

    Examples
    --------
    >>> import numpy as np
    >>> from skqml._validation import check_integer
    >>> check_integer(np.int64(3), "reps", low=1)
    3
    >>> check_integer(0, "reps", low=1)
    Traceback (most recent call last):
    ...
    sklearn.utils._param_validation.InvalidParameterError: reps must be an integer >= 1, got 0
    """
    in_range = _is_integer(value)
    if in_range:
        in_range = (low is None or value >= low) and (high is None or value <= high)
    if not in_range:
        raise InvalidParameterError(f"{name} must be {_integer_range(low, high)}, got {value!r}")
    return int(value)


def _integer_range(low: int | None, high: int | None) -> str:
    if low is not None and high is not None:
        return f"an integer in [{low}, {high}]"
    if low is not None:
        return f"an integer >= {low}"
    if high is not None:
        return f"an integer <= {high}"
    return "an integer"


def check_real(
    value,
    name: str,
    low: float | None = None,
    *,
    strict: bool = False,
    high: float | None = None,
    strict_high: bool = False,
    allow_inf: bool = False,
) -> float:
    """``value`` as a float if it is a real number (not NaN, finite unless ``allow_inf``).

    ``low`` and ``high`` are bounds, excluded when ``strict`` and ``strict_high``.

    Examples
    --------
    >>> import numpy as np
    >>> from skqml._validation import check_real
    >>> check_real(np.float32(0.5), "alpha")
    0.5
    >>> check_real(0.0, "bandwidth", 0, strict=True)
    Traceback (most recent call last):
    ...
    sklearn.utils._param_validation.InvalidParameterError: bandwidth must be a finite real ...
    """
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)
    if ok:
        v = float(value)
        ok = not np.isnan(v) and (allow_inf or np.isfinite(v))
        if ok and low is not None:
            ok = v > low if strict else v >= low
        if ok and high is not None:
            ok = v < high if strict_high else v <= high
    if not ok:
        kind = "a real number" if allow_inf else "a finite real number"
        bounds = []
        if low is not None:
            bounds.append(f"{'>' if strict else '>='} {low:g}")
        if high is not None:
            bounds.append(f"{'<' if strict_high else '<='} {high:g}")
        bound = (" " + " and ".join(bounds)) if bounds else ""
        raise InvalidParameterError(f"{name} must be {kind}{bound}, got {value!r}")
    return float(value)


def check_bool(value, name: str) -> bool:
    """``value`` if it is True or False (NumPy bools too): a string "no" or a number, which
    would silently count as true, is refused.

    Examples
    --------
    >>> import numpy as np
    >>> from skqml._validation import check_bool
    >>> check_bool(np.True_, "hadamard")
    True
    >>> check_bool("no", "hadamard")
    Traceback (most recent call last):
    ...
    sklearn.utils._param_validation.InvalidParameterError: hadamard must be True or False, ...
    """
    if not isinstance(value, bool | np.bool_):
        raise InvalidParameterError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_pauli_label(label, n_qubits: int, name: str = "Pauli label", letters="IXYZ") -> str:
    """A Pauli string of ``n_qubits`` characters (Qiskit order: rightmost on qubit 0), upper case.

    Examples
    --------
    >>> from skqml._validation import check_pauli_label
    >>> check_pauli_label("zi", 2)
    'ZI'
    >>> check_pauli_label("ZA", 2)
    Traceback (most recent call last):
    ...
    ValueError: Pauli label 'ZA' must be 2 characters from I, X, Y, Z (rightmost on qubit 0)
    """
    if not isinstance(label, str) or len(label) != n_qubits or set(label.upper()) - set(letters):
        raise ValueError(
            f"{name} {label!r} must be {n_qubits} characters from {', '.join(letters)} "
            "(rightmost on qubit 0)"
        )
    return label.upper()
