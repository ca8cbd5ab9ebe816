"""The Gibbs-state classifier of Bowles, Ahmed and Schuld (2024) (their
``QuantumBoltzmannMachine``, after Zoufal, Lucchi and Woerner 2021), computed exactly."""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Real

import numpy as np
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import Interval, StrOptions

from .._study_classifier import StudyClassifier
from . import _gibbs as g
from ._classifier import MAX_CLASSIFIER_QUBITS

__all__ = ["GibbsStateClassifier", "SeparableGibbsStateClassifier"]

# Below this probability the log loss is clipped (a Gibbs state gives every outcome some
# weight, but rounding can reach 0 or 1).
_TINY = 1e-300


@dataclass(frozen=True)
class GibbsModel:
    """The fixed parts: term tables, the observable's eigenvalues, the batch size."""

    z_table: np.ndarray  # (2**n, n + n_pairs): eigenvalues of Z_a, then Z_a Z_b
    perms: np.ndarray  # bit flips of X_a
    observable: np.ndarray  # (2**n,): eigenvalues of the read-out observable
    n_qubits: int
    chunk: int


class GibbsStateClassifier(StudyClassifier):
    """The Gibbs-state classifier of Bowles et al. (2024) (their ``QuantumBoltzmannMachine``,
    after Zoufal, Lucchi and Woerner 2021), computed exactly.

    The features are standardised (a ``StandardScaler`` fitted on the training set, then
    ``scaling``), one qubit per feature. A sample ``x`` sets the Hamiltonian

    ``H(x) = sum_i (a_i . x) Z_i + sum_i (b_i . x) X_i + sum_{i<j} (c_ij . x) Z_i Z_j``

    with trainable vectors ``a_i, b_i, c_ij``, and the model reads
    ``f = Tr[rho O]`` of its Gibbs state ``rho = exp(-H / temperature) / Z`` for the mean
    (``observable_type="sum"``) or the product of ``Z`` over the visible qubits (the first
    1, ``n // 2`` or all ``n``; at least one); ``P(classes_[1]) = (1 + f) / 2``, trained by
    the cross-entropy with the study's loop. The Gibbs state is dense (one ``2**n``
    eigendecomposition per sample and step, at most 10 qubits here) and its gradient
    exact (Daleckii-Krein, see :mod:`skqml.boltzmann`). Initial weights are standard
    normal.

    The study's code gives every pair ``(i, j)`` the same vector ``c`` (its parameter count
    has one per pair, but only the first is used); ``as_coded=True`` does the same.

    This is not :class:`~skqml.boltzmann.QBMClassifier` (affine coefficients with offsets,
    hidden qubits, a label register) nor the generative
    :class:`~skqml.boltzmann.QuantumBoltzmannMachine`.

    Parameters
    ----------
    visible_qubits : {"single", "half", "full", "all"}, default="single"
        Qubits read out: the first, the first ``n // 2`` (at least one), or all (``"all"``
        is ``"full"``, the name in the study's published result files).
    temperature : float, default=1.0
        Temperature of the Gibbs state.
    learning_rate, batch_size, max_steps, convergence_interval, random_state, max_memory_mb
        As in :class:`~skqml.variational.IQPVariationalClassifier`.
    observable_type : {"sum", "product"}, default="sum"
        Read out the mean or the product of the visible qubits' ``Z``.
    scaling : float, default=1.0
        Factor applied to the standardised features.
    as_coded : bool, default=False
        One vector ``c`` shared by all pairs, as the study's code.

    Attributes
    ----------
    weights_ : ndarray of shape ((2 n + n (n - 1) / 2) * n,)
        Trained vectors, one row of ``n`` per term (C order): ``a_0, b_0, a_1, b_1, ...``
        then ``c_ij`` for the pairs ``i < j`` in lexicographic order (``as_coded``: only the
        first pair's row is used).
    loss_curve_, converged_, n_iter_, classes_, n_qubits_, n_features_in_
        As in :class:`~skqml.variational.IQPVariationalClassifier`.
    scaler_ : StandardScaler
        The standardisation, fitted on the training set.

    Examples
    --------
    >>> from skqml.studies.bowles2024 import load_dataset
    >>> from skqml.boltzmann import GibbsStateClassifier
    >>> X_train, y_train, X_test, y_test = load_dataset("linearly_separable_3d")
    >>> clf = GibbsStateClassifier(learning_rate=0.01, random_state=0).fit(X_train, y_train)
    >>> clf.n_qubits_, bool(clf.score(X_test, y_test) > 0.9)
    (3, True)
    """

    _parameter_constraints = {
        **StudyClassifier._parameter_constraints,
        "visible_qubits": [StrOptions({"single", "half", "full", "all"})],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "observable_type": [StrOptions({"sum", "product"})],
        "as_coded": ["boolean"],
    }

    def __init__(
        self,
        visible_qubits: str = "single",
        temperature: float = 1.0,
        learning_rate: float = 0.001,
        batch_size: int = 32,
        max_steps: int = 10000,
        convergence_interval: int = 200,
        *,
        observable_type: str = "sum",
        scaling: float = 1.0,
        as_coded: bool = False,
        random_state=None,
        max_memory_mb: float | None = None,
    ):
        self.visible_qubits = visible_qubits
        self.temperature = temperature
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_steps = max_steps
        self.convergence_interval = convergence_interval
        self.observable_type = observable_type
        self.scaling = scaling
        self.as_coded = as_coded
        self.random_state = random_state
        self.max_memory_mb = max_memory_mb

    def _scaler(self):
        return StandardScaler()

    def _setup(self, n_features, rng):
        n = n_features
        pairs = g.coupling_pairs(n, 0, "full")
        chunk = g.gibbs_chunk_rows(
            n, n + len(pairs), self.max_memory_mb, what=type(self).__name__,
            max_qubits=MAX_CLASSIFIER_QUBITS,
        )  # fmt: skip
        spins = g.spin_table(n)
        n_visible = {"single": 1, "half": max(1, n // 2), "full": n, "all": n}[self.visible_qubits]
        visible = spins[:, :n_visible]
        observable = visible.mean(axis=1) if self.observable_type == "sum" else visible.prod(1)
        model = GibbsModel(g.z_terms(spins, pairs), g.flip_permutations(n), observable, n, chunk)
        theta0 = rng.normal(size=(2 * n + len(pairs)) * n)
        return model, theta0, n

    def _coefficients(self, model, X_scaled, theta):
        """``(a, b, c)``: the Z, X and ZZ coefficients of every sample's Hamiltonian."""
        n = model.n_qubits
        A = X_scaled @ theta.reshape(-1, n).T  # (samples, terms)
        n_pairs = model.z_table.shape[1] - n
        zz = A[:, 2 * n :] if not self.as_coded else np.repeat(A[:, 2 * n : 2 * n + 1], n_pairs, 1)
        return A[:, 0 : 2 * n : 2], A[:, 1 : 2 * n : 2], zz

    def _output(self, model, X_scaled, theta, cotangent=None):
        n, T = model.n_qubits, self.temperature
        f = np.empty(X_scaled.shape[0])
        dA = np.zeros((X_scaled.shape[0], theta.size // n))
        with g.blas_threads(n):
            for start in range(0, X_scaled.shape[0], model.chunk):
                rows = slice(start, start + model.chunk)
                a, b, c = self._coefficients(model, X_scaled[rows], theta)
                # skqml's convention is H = -sum_t coef_t O_t; the state is exp(-H / T).
                z_coef = -np.concatenate([a, c], axis=1) / T
                E, U, w, _ = g.gibbs_eigh(
                    g.hamiltonian(z_coef, model.z_table, -b / T, model.perms)
                )
                diag = g.basis_weights(U, w)
                norm = diag.sum(axis=1)
                f[rows] = diag @ model.observable / norm
                if cotangent is None:
                    continue
                # df = Tr[M d exp(-H)] with M = (O - f) / Z; per term, df/dcoef_t =
                # -Tr[G_M O_t], and coef_t = -(term's coefficient) / T.
                M = (model.observable[None, :] - f[rows, None]) / norm[:, None]
                tz, tx = g.gradient_traces(M, E, U, model.z_table, model.perms)
                dA[rows, 0 : 2 * n : 2] = tz[:, :n] / T
                dA[rows, 1 : 2 * n : 2] = tx / T
                if self.as_coded:
                    dA[rows, 2 * n] = tz[:, n:].sum(axis=1) / T
                else:
                    dA[rows, 2 * n :] = tz[:, n:] / T
        if cotangent is None:
            return f, None
        G = cotangent(f)
        return f, ((G[:, None] * dA).T @ X_scaled).ravel()

    def _loss(self, f, t):
        p = np.clip((1 + f) / 2, _TINY, 1 - 1e-16)
        loss = -np.mean(t * np.log(p) + (1 - t) * np.log1p(-p))
        return float(loss), (-t / p + (1 - t) / (1 - p)) / (2 * len(t))

    def _decision(self, f):
        return f

    def _probability(self, f):
        return (1 + f) / 2


class SeparableGibbsStateClassifier(GibbsStateClassifier):
    """The study's ``QuantumBoltzmannMachineSeparable``: no couplings, one Gibbs state per
    visible qubit.

    Visible qubit ``i`` (one per standardised feature, the first 1, ``n // 2`` or ``n``) has
    its own Hamiltonian ``H_i(x) = (a_i . x) Z + (b_i . x) X`` and Gibbs state
    ``exp(-H_i / temperature) / Z_i``, whose ``<Z>`` is ``-(a / r) tanh(r / temperature)``
    with ``r = sqrt(a**2 + b**2)``; the output ``f`` is their mean (or product), read as in
    :class:`GibbsStateClassifier`. No dense matrices: any number of features.

    Parameters
    ----------
    visible_qubits, temperature, learning_rate, batch_size, max_steps, \
convergence_interval, observable_type, scaling, random_state, max_memory_mb
        As in :class:`GibbsStateClassifier` (``as_coded`` is unused: there are no
        couplings).

    Attributes
    ----------
    weights_ : ndarray of shape (2 * n * n,)
        Trained vectors ``a_0, b_0, a_1, b_1, ...`` (rows of ``n``, C order; those of qubits
        that are not visible are unused, as in the study).
    loss_curve_, converged_, n_iter_, classes_, n_qubits_, n_features_in_, scaler_
        As in :class:`GibbsStateClassifier`.

    Examples
    --------
    >>> from skqml.studies.bowles2024 import load_dataset
    >>> from skqml.boltzmann import SeparableGibbsStateClassifier
    >>> X_train, y_train, X_test, y_test = load_dataset("linearly_separable_3d")
    >>> clf = SeparableGibbsStateClassifier(visible_qubits="full", learning_rate=0.01,
    ...                                     random_state=0).fit(X_train, y_train)
    >>> bool(clf.score(X_test, y_test) > 0.9)
    True
    """

    def _setup(self, n_features, rng):
        n = n_features
        n_visible = {"single": 1, "half": max(1, n // 2), "full": n, "all": n}[self.visible_qubits]
        return n_visible, rng.normal(size=2 * n * n), n

    def _output(self, n_visible, X_scaled, theta, cotangent=None):
        n, T = X_scaled.shape[1], self.temperature
        A = X_scaled @ theta.reshape(-1, n)[: 2 * n_visible].T
        a, b = A[:, 0::2], A[:, 1::2]
        r = np.hypot(a, b)
        safe = np.where(r > 0, r, 1.0)
        th = np.tanh(r / T)
        # <Z> of exp(-(a Z + b X) / T) / Z_i; its limit at r = 0 is -a / T.
        z = np.where(r > 0, -a / safe * th, -a / T)
        product = self.observable_type == "product"
        f = z.prod(axis=1) if product else z.mean(axis=1)
        if cotangent is None:
            return f, None
        # d<Z>/da and d<Z>/db from d(tanh(r/T)/r) = (sech^2(r/T)/(T r) - tanh(r/T)/r^2) dr.
        g = np.where(r > 0, (1 - th**2) / (T * safe) - th / safe**2, 0.0)  # d(th/r)/dr
        ratio = np.where(r > 0, th / safe, 1.0 / T)  # tanh(r/T)/r
        dz_da = -ratio - a * g * a / safe
        dz_db = -a * g * b / safe
        if product:
            others = np.where(z != 0, f[:, None] / np.where(z != 0, z, 1.0), 0.0)
            for k in range(z.shape[1]):  # the product without factor k, where z_k = 0
                zero = z[:, k] == 0
                if zero.any():
                    others[zero, k] = np.delete(z[zero], k, axis=1).prod(axis=1)
            df_dz = others
        else:
            df_dz = np.full_like(z, 1.0 / z.shape[1])
        G = cotangent(f)[:, None] * df_dz
        dA = np.zeros((X_scaled.shape[0], 2 * n))
        dA[:, 0 : 2 * n_visible : 2] = G * dz_da
        dA[:, 1 : 2 * n_visible : 2] = G * dz_db
        return f, (dA.T @ X_scaled).ravel()
