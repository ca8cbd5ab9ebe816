"""Gate angles as polynomial expressions in data features ``x`` and weights ``theta``.

An :class:`Angle` is a sum of terms. Each term is ``coeff * prod_k (offset_k + scale_k * x[i_k])
* prod_j theta[j]``. Keeping each feature factor affine (instead of expanding it) means the ZZ
feature map's ``(pi - x_i)(pi - x_j)`` is evaluated exactly as published, and every angle that
the feature maps and ansatzes need (linear, products of features, weight times feature) has one
compact form that the simulator evaluates for a whole batch at once and differentiates
analytically with respect to the weights.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from numbers import Real

import numpy as np

__all__ = ["Angle", "Term", "feature", "weight"]


@dataclass(frozen=True)
class Term:
    """One product term of an :class:`Angle`.

    Parameters
    ----------
    coeff : float
        Constant factor.
    factors : tuple of (int, float, float)
        Affine feature factors ``(index, offset, scale)``, each meaning
        ``offset + scale * x[index]``.
    weights : tuple of int
        Indices of trainable weights multiplied into the term (repeats allowed).

    Examples
    --------
    >>> import numpy as np
    >>> from skqml.circuits import Angle, Term
    >>> t = Term(2.0, factors=((0, np.pi, -1.0),), weights=(1,))  # 2 (pi - x[0]) theta[1]
    >>> Angle([t]).evaluate(np.array([[np.pi - 0.5]]), np.array([0.0, 3.0]))
    array([3.])
    """

    coeff: float
    factors: tuple[tuple[int, float, float], ...] = ()
    weights: tuple[int, ...] = ()

    def is_constant(self) -> bool:
        """Whether the term depends on neither features nor weights."""
        return not self.factors and not self.weights

    def scaled(self, c: float) -> Term:
        """This term times a number.

        Parameters
        ----------
        c : float
            The factor.
        """
        return Term(self.coeff * c, self.factors, self.weights)

    def times(self, other: Term) -> Term:
        """The product of this term and ``other`` (coefficients, factors and weights).

        Parameters
        ----------
        other : Term
            The other factor.
        """
        return Term(
            self.coeff * other.coeff,
            self.factors + other.factors,
            tuple(sorted(self.weights + other.weights)),
        )


def _as_angle(value) -> Angle:
    if isinstance(value, Angle):
        return value
    if isinstance(value, Real | np.number) and not isinstance(value, bool | np.bool_):
        return Angle.constant(float(value))
    raise TypeError(f"cannot use {type(value).__name__} as a gate angle")


class Angle:
    """A gate angle: a polynomial in data features ``x`` and trainable weights ``theta``.

    Build angles with :func:`feature`, :func:`weight`, Python numbers and the arithmetic
    operators ``+``, ``-`` and ``*``.

    Examples
    --------
    >>> import numpy as np
    >>> from skqml.circuits import feature, weight
    >>> a = 2 * (np.pi - feature(0)) * (np.pi - feature(1))
    >>> a.evaluate(np.array([[np.pi, 1.0], [0.0, np.pi]]))
    array([0., 0.])
    >>> b = weight(0) * feature(1) + weight(1)
    >>> b.evaluate(np.array([[0.0, 2.0]]), np.array([3.0, 0.5]))
    array([6.5])
    """

    __slots__ = ("_terms",)

    def __init__(self, terms: Iterable[Term] = ()):
        self._terms = _simplify(tuple(terms))

    def __reduce__(self):
        # Rebuilt from its terms: pickle, and skops.io (which calls __reduce__() and trusts a
        # call of the object's own type) restore it although __slots__ leaves no __dict__.
        return (Angle, (self._terms,))

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def constant(cls, value: float) -> Angle:
        return cls((Term(float(value)),)) if value != 0 else cls()

    @property
    def terms(self) -> tuple[Term, ...]:
        """The product terms whose sum is the angle (like terms merged)."""
        return self._terms

    def __add__(self, other) -> Angle:
        return Angle(self._terms + _as_angle(other)._terms)

    __radd__ = __add__

    def __neg__(self) -> Angle:
        return Angle(t.scaled(-1.0) for t in self._terms)

    def __sub__(self, other) -> Angle:
        return self + (-_as_angle(other))

    def __rsub__(self, other) -> Angle:
        return _as_angle(other) + (-self)

    def __mul__(self, other) -> Angle:
        other = _as_angle(other)
        return Angle(a.times(b) for a in self._terms for b in other._terms)

    __rmul__ = __mul__

    def __truediv__(self, other) -> Angle:
        if not isinstance(other, Real):
            raise TypeError("angles can only be divided by numbers")
        return self * (1.0 / float(other))

    def __eq__(self, other) -> bool:
        if isinstance(other, Real):
            other = Angle.constant(float(other))
        return isinstance(other, Angle) and self._terms == other._terms

    def __hash__(self) -> int:
        return hash(self._terms)

    # -- inspection ---------------------------------------------------------------------------
    @property
    def features(self) -> frozenset[int]:
        """Indices of the data features this angle depends on."""
        return frozenset(f[0] for t in self._terms for f in t.factors)

    @property
    def weights(self) -> frozenset[int]:
        """Indices of the trainable weights this angle depends on."""
        return frozenset(w for t in self._terms for w in t.weights)

    def is_constant(self) -> bool:
        """Whether the angle depends on neither features nor weights."""
        return all(t.is_constant() for t in self._terms)

    def value(self) -> float:
        """The numeric value of a constant angle."""
        if not self.is_constant():
            raise ValueError(f"angle {self} depends on features or weights")
        return float(sum(t.coeff for t in self._terms))

    # -- evaluation ---------------------------------------------------------------------------
    def evaluate(self, X: np.ndarray | None = None, theta: np.ndarray | None = None) -> np.ndarray:
        """Values for a batch: an array of shape ``(n_samples,)``, or ``(1,)`` without features.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features), optional
            Data features; needed when the angle depends on them.
        theta : ndarray of shape (n_weights,), optional
            Trainable weights; needed when the angle depends on them.
        """
        n = 1 if X is None or not self.features else X.shape[0]
        out = np.zeros(n)
        for t in self._terms:
            out += _term_value(t, X, theta)
        # The sum is not finite when a value is not (it could also overflow, but only for
        # values near 1e308): a cheap guard of the exact check.
        if not math.isfinite(np.add.reduce(out)) and not np.isfinite(out).all():
            sample = int(np.flatnonzero(~np.isfinite(out))[0])
            raise overflow_error(f"the gate angle {self}", out[sample], self, X, sample)
        return out

    def with_scaled_features(self, scale_weights: dict[int, int]) -> Angle:
        """This angle with each feature ``x[i]`` replaced by ``theta[scale_weights[i]] * x[i]``.

        Trainable input scaling: affine factors ``o + s x`` become ``o + s theta x``, expanded
        into product terms (exact, no approximation).

        Parameters
        ----------
        scale_weights : dict of int to int
            For each feature index the angle reads, the index of its scaling weight.

        Examples
        --------
        >>> import numpy as np
        >>> from skqml.circuits import feature
        >>> a = (np.pi - feature(0)).with_scaled_features({0: 3})
        >>> a.evaluate(np.array([[1.0]]), np.array([0, 0, 0, 2.0]))  # pi - 2 * 1
        array([1.14159265])
        """
        out = Angle()
        for t in self._terms:
            term = Angle((Term(t.coeff, (), t.weights),))
            for i, offset, scale in t.factors:
                scaled = Angle((Term(scale, ((i, 0.0, 1.0),), (int(scale_weights[i]),)),))
                term = term * (scaled + offset if offset else scaled)
            out = out + term
        return out

    def weight_gradient(
        self, X: np.ndarray | None, theta: np.ndarray, n_weights: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Derivatives with respect to the weights it depends on.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features) or None
            Data features (needed when the derivatives depend on them).
        theta : ndarray of shape (n_weights,)
            Trainable weights.
        n_weights : int
            Number of weights (kept for the callers' signature; the indices returned are
            those the angle reads).

        Returns ``(indices, values)`` with ``values`` of shape ``(len(indices), n)`` where
        ``n`` is ``n_samples`` or 1.
        """
        idx = sorted(self.weights)
        n = 1 if X is None or not self.features else X.shape[0]
        grads = np.zeros((len(idx), n))
        for row, j in enumerate(idx):
            for t in self._terms:
                count = t.weights.count(j)
                if count == 0:
                    continue
                rest = list(t.weights)
                rest.remove(j)
                grads[row] += count * _term_value(Term(t.coeff, t.factors, tuple(rest)), X, theta)
        return np.asarray(idx, dtype=np.intp), grads

    def __repr__(self) -> str:
        return f"Angle({self})"

    def __str__(self) -> str:
        if not self._terms:
            return "0"
        parts = [_term_str(t) for t in self._terms]
        text = parts[0]
        for p in parts[1:]:
            text += f" - {p[1:]}" if p.startswith("-") else f" + {p}"
        return text


def overflow_error(what: str, value: float, angle: Angle, X, sample: int) -> ValueError:
    """The error for a value that overflows: which sample, which features, what to do.

    Examples
    --------
    >>> import numpy as np
    >>> from skqml.circuits import feature
    >>> from skqml.circuits._angle import overflow_error
    >>> print(overflow_error("an angle", np.inf, feature(0), np.array([[1e308]]), 0))
    an angle overflows to inf (sample 0 has x[0] = 1e+308): the features are too large to ...
    """
    reads = sorted(angle.features)
    if X is None or not reads:
        where = "its weights are too large"
    else:
        row = X[sample if X.shape[0] > 1 else 0]
        shown = ", ".join(f"x[{i}] = {row[i]:.3g}" for i in reads)
        where = f"sample {sample} has {shown}"
    return ValueError(
        f"{what} overflows to {value} ({where}): the features are too large to encode; "
        "scale the data first, for example with sklearn.preprocessing.StandardScaler or "
        "MinMaxScaler"
    )


def _term_value(t: Term, X, theta) -> np.ndarray:
    value = np.asarray(t.coeff, dtype=float)
    for i, offset, scale in t.factors:
        if X is None:
            raise ValueError("this circuit depends on data features: pass X")
        value = value * (offset + scale * X[:, i])
    if t.weights:
        if theta is None:
            raise ValueError("this circuit has trainable weights: pass weights")
        value = value * math.prod(float(theta[j]) for j in t.weights)
    return np.broadcast_to(value, (X.shape[0],) if t.factors else (1,))


def _fmt(v: float) -> str:
    for name, ref in (("pi", math.pi), ("pi/2", math.pi / 2), ("pi/4", math.pi / 4)):
        if abs(v - ref) < 1e-12:
            return name
        if abs(v + ref) < 1e-12:
            return "-" + name
    return f"{v:.4g}"


def _factor_str(i: int, offset: float, scale: float) -> str:
    x = f"x[{i}]"
    if offset == 0:
        return x if scale == 1 else f"{_fmt(scale)}*{x}"
    sign = "-" if scale < 0 else "+"
    mag = abs(scale)
    return f"({_fmt(offset)} {sign} {x if mag == 1 else _fmt(mag) + '*' + x})"


def _term_str(t: Term) -> str:
    pieces = [_factor_str(*f) for f in t.factors] + [f"θ[{j}]" for j in t.weights]
    if not pieces:
        return _fmt(t.coeff)
    body = "*".join(pieces)
    if t.coeff == 1:
        return body
    if t.coeff == -1:
        return "-" + body
    return f"{_fmt(t.coeff)}*{body}"


def _simplify(terms: tuple[Term, ...]) -> tuple[Term, ...]:
    """Merge constants and like terms, and fold ``c + a*(o + s*x)`` into one affine factor."""
    const = 0.0
    merged: dict[tuple, float] = {}
    for t in terms:
        if t.is_constant():
            const += t.coeff
            continue
        key = (t.factors, t.weights)
        merged[key] = merged.get(key, 0.0) + t.coeff
    out = [Term(c, f, w) for (f, w), c in merged.items() if c != 0.0]
    if const != 0.0:
        if len(out) == 1 and len(out[0].factors) == 1 and not out[0].weights:
            (i, offset, scale), c = out[0].factors[0], out[0].coeff
            return (Term(1.0, ((i, c * offset + const, c * scale),)),)
        out.insert(0, Term(const))
    return tuple(out)


def feature(i: int) -> Angle:
    """The data feature ``x[i]`` as an angle expression.

    Examples
    --------
    >>> import numpy as np
    >>> from skqml.circuits import feature
    >>> angle = np.pi - feature(1)
    >>> print(angle)
    (pi - x[1])
    >>> angle.evaluate(np.array([[0.0, 1.0]]))
    array([2.14159265])
    """
    return Angle((Term(1.0, ((int(i), 0.0, 1.0),)),))


def weight(j: int) -> Angle:
    """The trainable weight ``theta[j]`` as an angle expression.

    Examples
    --------
    >>> import numpy as np
    >>> from skqml.circuits import feature, weight
    >>> angle = weight(0) * feature(0)
    >>> print(angle)
    x[0]*θ[0]
    >>> angle.evaluate(np.array([[2.0], [3.0]]), np.array([0.5]))
    array([1. , 1.5])
    """
    return Angle((Term(1.0, (), (int(j),)),))
