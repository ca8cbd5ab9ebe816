"""Conditional quantum Boltzmann machine classifier: Hamiltonian coefficients linear in x."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .._estimator import fit_context
from .._optim import Adam, History, optimize, warn_if_not_converged
from .._validation import MAX_MEMORY_MB_CONSTRAINT
from . import _gibbs as g
from ._qbm import continued_training

__all__ = ["QBMClassifier"]

# One Gibbs state per sample and step: beyond this many label + hidden qubits a batch of
# dense eigendecompositions is far too slow to train on.
MAX_CLASSIFIER_QUBITS = 10
# Standard deviation of the initial feature weights (features are standardised first).
_INIT_WEIGHT_STD = 0.1
_TINY = np.finfo(np.float64).tiny


def _design(X, mean, scale) -> np.ndarray:
    """Standardised features with a column of ones (the offsets)."""
    Z = (X - mean) / scale
    return np.hstack([Z, np.ones((Z.shape[0], 1))])


def _term_names(n_qubits: int, learn_transverse_field: bool) -> list[str]:
    """Names of the Hamiltonian terms, in the order of the rows of ``coef_``."""
    pairs = g.coupling_pairs(n_qubits, 0, "full")
    names = [f"Z{a}" for a in range(n_qubits)] + [f"Z{a} Z{b}" for a, b in pairs]
    if learn_transverse_field:
        names += [f"X{a}" for a in range(n_qubits)]
    return names


class QBMClassifier(ClassifierMixin, BaseEstimator):
    """Classifier from the Gibbs state of a quantum Boltzmann machine conditioned on the input.

    For an input ``x`` (standardised to zero mean and unit variance on the training set) the
    model is the Gibbs state ``rho(x) = exp(-H(x)) / Z(x)`` of

    ``H(x) = -sum_a Gamma_a(x) X_a - sum_a b_a(x) Z_a - sum_{a<b} w_ab(x) Z_a Z_b``

    over ``L`` label qubits followed by ``n_hidden`` hidden qubits, fully connected. Every
    coefficient is an affine function of the features with its own weights and offset,
    ``b_a(x) = beta_a . x + beta_a0`` and likewise for ``w_ab`` and (when learned)
    ``Gamma_a``: the conditional QBM of Zoufal, Lucchi and Woerner (2021) in the form of the
    ``QuantumBoltzmannMachine`` benchmark model of Bowles, Ahmed and Schuld (2024).

    Labels: ``L = ceil(log2 n_classes)`` qubits (1 for two classes); class ``k`` (the
    ``k``-th of ``classes_``) is the basis state of the label register whose bits are the
    binary expansion of ``k``, label qubit ``j`` holding bit ``j`` of ``k`` (skqml's
    little-endian order). The class probabilities
    are the exact measurement probabilities of the label register,
    ``p(k | x) = Tr[(|k><k| (x) I_hidden) rho(x)]``, renormalised over the ``n_classes``
    valid codes when ``n_classes`` is not a power of two. Training minimises the exact
    average negative conditional log-likelihood (log loss) with its exact gradient: one
    batched eigendecomposition of the ``2**(L + n_hidden)`` dimensional Hamiltonians of all
    samples per step.

    Parameters
    ----------
    n_hidden : int, default=1
        Number of hidden qubits.
    transverse_field : float, default=1.0
        Initial offset of every ``Gamma_a(x)`` (its feature weights start at 0), or the fixed
        ``Gamma`` when ``learn_transverse_field=False``.
    learn_transverse_field : bool, default=True
        Make ``Gamma_a(x)`` affine in ``x`` and learn it (as the benchmark model does).
    learning_rate : float, default=0.1
        Step size of ``"adam"`` and ``"sgd"``.
    optimizer : {"adam", "sgd", "lbfgs"}, default="adam"
        ``"lbfgs"`` is full batch (scipy's L-BFGS-B, ``gtol=tol``).
    batch_size : int, default=None
        Mini-batch size of ``"adam"`` and ``"sgd"``; ``None``: full batch.
    max_iter : int, default=200
        Maximum number of epochs (L-BFGS: iterations).
    tol : float, default=1e-6
        Training stops when the loss has not improved by more than ``tol`` for
        ``n_iter_no_change`` consecutive epochs (L-BFGS: gradient tolerance).
    n_iter_no_change : int, default=10
        See ``tol``.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights and the mini-batch order.
    verbose : int, default=0
        Print the loss of every epoch.
    warm_start : bool, default=False
        ``fit`` continues from the current weights, Adam moments and mini-batch random stream
        (same classes, features, ``n_hidden`` and ``learn_transverse_field``): two
        warm-started fits of ``k`` epochs are one fit of ``2 k`` epochs.
    max_memory_mb : float, default=None
        Memory budget: samples are processed in chunks that fit; default half the available
        memory (or ``SKQML_MAX_MEMORY_MB``).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    coef_ : ndarray of shape (n_terms, n_features)
        Feature weights of the Hamiltonian coefficients, one row per term, in the order
        ``Z_a`` (every qubit), ``Z_a Z_b`` (every pair ``a < b``), then ``X_a`` (every qubit,
        only when the transverse field is learned).
    intercept_ : ndarray of shape (n_terms,)
        Offsets of the coefficients, same order.
    terms_ : list of str
        Names of the terms, e.g. ``"Z0"``, ``"Z0 Z1"``, ``"X1"``.
    mean_, scale_ : ndarray of shape (n_features,)
        Standardisation of the features (``scale_`` is 1 for constant features).
    n_label_qubits_ : int
        ``L``.
    n_qubits_ : int
        ``L + n_hidden``.
    loss_curve_ : list of float
        Log loss of every epoch.
    n_iter_ : int
        Number of epochs (L-BFGS: iterations).
    n_features_in_ : int
        Number of features.

    See Also
    --------
    QuantumBoltzmannMachine : the generative model.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from skqml.boltzmann import QBMClassifier
    >>> X, y = make_blobs(60, centers=2, random_state=0)
    >>> clf = QBMClassifier(optimizer="lbfgs", random_state=0).fit(X, y)
    >>> clf.n_qubits_, clf.score(X, y)
    (2, 1.0)
    >>> clf.predict_proba(X[:2]).round(2)
    array([[0., 1.],
           [1., 0.]])
    """

    _parameter_constraints: dict = {
        "n_hidden": [Interval(Integral, 0, None, closed="left")],
        "transverse_field": [Interval(Real, 0, None, closed="left")],
        "learn_transverse_field": ["boolean"],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "optimizer": [StrOptions({"adam", "sgd", "lbfgs"})],
        "batch_size": [None, Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "max_memory_mb": MAX_MEMORY_MB_CONSTRAINT,
    }

    def __init__(
        self,
        n_hidden: int = 1,
        *,
        transverse_field: float = 1.0,
        learn_transverse_field: bool = True,
        learning_rate: float = 0.1,
        optimizer: str = "adam",
        batch_size: int | None = None,
        max_iter: int = 200,
        tol: float = 1e-6,
        n_iter_no_change: int = 10,
        random_state=None,
        verbose: int = 0,
        warm_start: bool = False,
        max_memory_mb: float | None = None,
    ):
        self.n_hidden = n_hidden
        self.transverse_field = transverse_field
        self.learn_transverse_field = learn_transverse_field
        self.learning_rate = learning_rate
        self.optimizer = optimizer
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.max_memory_mb = max_memory_mb

    # -- structure ----------------------------------------------------------------------------
    @staticmethod
    def _structure(n_qubits: int, n_label_qubits: int):
        pairs = g.coupling_pairs(n_qubits, 0, "full")
        z_table = g.z_terms(g.spin_table(n_qubits), pairs)
        # Label qubits 0..L-1 are the low bits of the basis index.
        label_of_state = np.arange(2**n_qubits) % 2**n_label_qubits
        return z_table, g.flip_permutations(n_qubits), label_of_state

    def _chunk_size(self, n_qubits: int) -> int:
        """Samples per batch of Gibbs states in the memory budget; refused up front if none."""
        return g.gibbs_chunk_rows(
            n_qubits,
            n_qubits * (n_qubits + 1) // 2,
            self.max_memory_mb,
            what=type(self).__name__,
            max_qubits=MAX_CLASSIFIER_QUBITS,
        )

    @staticmethod
    def _gibbs(design, theta, z_table, perms, field: float):
        """Gibbs eigendecompositions; ``field`` is ``Gamma`` when it is not learned."""
        n_z = z_table.shape[1]
        coef = design @ theta.T
        if theta.shape[0] > n_z:  # learned transverse field: its rows follow the Z terms
            gamma = coef[:, n_z:]
        else:
            gamma = np.full((design.shape[0], perms.shape[0]), field)
        return g.gibbs_eigh(g.hamiltonian(coef[:, :n_z], z_table, gamma, perms))

    def _class_weights(self, design, theta, structure, chunk, n_classes):
        """Unnormalised probabilities of every class code, ``(n_samples, n_classes)``."""
        z_table, perms, label_of_state = structure
        out = []
        for start in range(0, design.shape[0], chunk):
            part = design[start : start + chunk]
            _, U, w, _ = self._gibbs(part, theta, z_table, perms, self._fixed_field)
            diag = g.basis_weights(U, w)
            out.append(
                np.stack([diag[:, label_of_state == k].sum(1) for k in range(n_classes)], 1)
            )
        return np.concatenate(out) if out else np.zeros((0, n_classes))

    def _objective(self, design, y_idx, n_classes, structure, chunk, field):
        z_table, perms, label_of_state = structure
        valid = (label_of_state < n_classes).astype(np.float64)
        shape = (-1, design.shape[1])

        def fun(theta_flat, idx):
            theta = theta_flat.reshape(shape)
            rows = np.arange(design.shape[0]) if idx is None else idx
            loss, grad = 0.0, np.zeros_like(theta)
            for start in range(0, rows.size, chunk):
                part = rows[start : start + chunk]
                A = design[part]
                E, U, w, _ = self._gibbs(A, theta, z_table, perms, field)
                diag = g.basis_weights(U, w)
                own = (label_of_state[None, :] == y_idx[part, None]).astype(np.float64)
                p_own = np.maximum((diag * own).sum(1), _TINY)
                p_valid = (diag * valid).sum(1)
                loss += np.sum(np.log(p_valid) - np.log(p_own))
                # d(loss_i)/dc_t = Tr[G_i O_t], G_i from M_i = P_y / p~_y - P_valid / p~_valid.
                M = own / p_own[:, None] - valid / p_valid[:, None]
                tz, tx = g.gradient_traces(
                    M, E, U, z_table, perms, need_x=theta.shape[0] > z_table.shape[1]
                )
                dcoef = tz if tx is None else np.concatenate([tz, tx], axis=1)
                grad += dcoef.T @ A
            return loss / rows.size, (grad / rows.size).ravel()

        return fun

    # -- training -----------------------------------------------------------------------------
    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y) -> QBMClassifier:
        """Fit the classifier.

        A failed fit (an error, :class:`~skqml.simulator.SimulationMemoryError`, an
        interruption) leaves the estimator as it was before the call.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        self : QBMClassifier
            The fitted classifier.
        """
        who = type(self).__name__
        continuing = self.warm_start and hasattr(self, "coef_")
        X, y = validate_data(self, X, y, dtype=np.float64, reset=not continuing)
        check_classification_targets(y)
        classes, y_idx = np.unique(y, return_inverse=True)
        if classes.size < 2:
            raise ValueError(
                f"{who} needs samples of at least 2 classes; got 1 class ({classes[0]!r})"
            )
        n_label_qubits = int(np.ceil(np.log2(classes.size)))
        n_qubits = n_label_qubits + self.n_hidden
        terms = _term_names(n_qubits, self.learn_transverse_field)
        n_z = n_qubits * (n_qubits + 1) // 2
        if continuing:
            if not np.array_equal(classes, self.classes_):
                raise ValueError(f"{who}: warm_start=True needs the same classes as the last fit")
            if terms != self.terms_:
                raise ValueError(
                    f"{who}: warm_start=True needs the same n_hidden and "
                    "learn_transverse_field as the previous fit (the same Hamiltonian terms)"
                )
        chunk = self._chunk_size(n_qubits)
        structure = self._structure(n_qubits, n_label_qubits)
        if continuing:
            mean, scale = self.mean_, self.scale_
            theta = np.column_stack([self.coef_, self.intercept_])
            rng, adam, loss_curve, n_iter = continued_training(self)
        else:
            mean = X.mean(axis=0)
            std = X.std(axis=0)
            scale = np.where(std > 0, std, 1.0)
            rng = check_random_state(self.random_state)
            theta = np.zeros((len(terms), X.shape[1] + 1))
            theta[:n_z, :-1] = rng.normal(0.0, _INIT_WEIGHT_STD, (n_z, X.shape[1]))
            theta[n_z:, -1] = self.transverse_field
            adam, loss_curve, n_iter = Adam(), [], 0
        field = float(self.transverse_field)
        design = _design(X, mean, scale)
        fun = self._objective(design, y_idx, classes.size, structure, chunk, field)
        history = History(self.tol, self.n_iter_no_change, self.verbose)
        with g.blas_threads(0):  # many tiny matrices: threads only add overhead
            theta = optimize(
                self.optimizer,
                fun,
                theta.ravel(),
                X.shape[0],
                history,
                max_iter=self.max_iter,
                learning_rate=self.learning_rate,
                batch_size=self.batch_size,
                rng=rng,
                adam=adam,
                gtol=self.tol,
            ).reshape(theta.shape)
        self.classes_ = classes
        self.n_label_qubits_, self.n_qubits_, self.terms_ = n_label_qubits, n_qubits, terms
        self.mean_, self.scale_ = mean, scale
        self.coef_, self.intercept_ = theta[:, :-1].copy(), theta[:, -1].copy()
        self._rng, self._adam, self._fixed_field = rng, adam, field
        self.loss_curve_ = [*loss_curve, *history.loss_curve]
        self.n_iter_ = n_iter + len(history.loss_curve)
        warn_if_not_converged(history, who, self.max_iter, "increase max_iter or learning_rate")
        return self

    # -- prediction ---------------------------------------------------------------------------
    def predict_proba(self, X) -> np.ndarray:
        """Exact class probabilities: measurement probabilities of the label register.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            ``p(k | x)``, columns in the order of ``classes_``.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        theta = np.column_stack([self.coef_, self.intercept_])
        structure = self._structure(self.n_qubits_, self.n_label_qubits_)
        with g.blas_threads(0):
            weights = self._class_weights(
                _design(X, self.mean_, self.scale_),
                theta,
                structure,
                self._chunk_size(self.n_qubits_),
                len(self.classes_),
            )
        return weights / weights.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X) -> np.ndarray:
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            ``log p(k | x)``, columns in the order of ``classes_``.
        """
        return np.log(self.predict_proba(X))

    def predict(self, X) -> np.ndarray:
        """Most probable class of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)  # checks is-fitted before classes_ is read
        return self.classes_[np.argmax(proba, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags
