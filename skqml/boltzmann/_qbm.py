"""Quantum Boltzmann machine (Amin et al. 2018): exact Gibbs state of a transverse-field Ising
Hamiltonian over visible and hidden qubits, trained on the exact likelihood or the bQBM bound.
"""

from __future__ import annotations

import copy
from numbers import Integral, Real

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    DensityMixin,
    TransformerMixin,
)
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, validate_data

from .._estimator import fit_context, set_fitted
from .._optim import Adam, History, optimize, warn_if_not_converged
from .._validation import MAX_MEMORY_MB_CONSTRAINT, check_integer
from . import _gibbs as g

__all__ = ["QuantumBoltzmannMachine"]

# Standard deviation of the initial couplings: small, but not zero, so that hidden units
# start different from each other (with equal couplings they would stay identical).
_INIT_COUPLING_STD = 0.1
# log p(v) of a state whose probability underflows float64.
_TINY = np.finfo(np.float64).tiny


def check_binary(X: np.ndarray, who: str) -> np.ndarray:
    """Return 0/1 data as int8, or raise a ValueError saying what is wrong with it."""
    bad = (X != 0) & (X != 1)
    if np.any(bad):
        values = np.unique(X[bad])
        shown = ", ".join(f"{v:g}" for v in values[:3]) + (", ..." if values.size > 3 else "")
        raise ValueError(
            f"{who} models binary data: X must contain only 0 and 1, but {int(bad.sum())} of "
            f"its {X.size} entries are other values ({shown})"
        )
    return X.astype(np.int8)


def _has_stochastic_optimizer(est) -> bool:
    if est.optimizer == "lbfgs":
        raise AttributeError(
            f"{type(est).__name__}.partial_fit needs a stochastic optimizer ('adam' or 'sgd')"
        )
    return True


def continued_training(est):
    """Random stream, Adam moments, loss curve and epoch count that a warm start continues.

    The stream and the moments are copies: a failed call leaves the fitted model as it was
    (``fit_context`` restores attributes, not the objects they hold).
    """
    return copy.deepcopy(est._rng), copy.deepcopy(est._adam), est.loss_curve_, est.n_iter_


def sample_indices(p: np.ndarray, n_samples, random_state) -> np.ndarray:
    """``n_samples`` basis indices drawn from the probabilities ``p`` (validated count)."""
    n_samples = check_integer(n_samples, "n_samples", low=0)
    rng = check_random_state(random_state)
    return rng.choice(p.size, size=n_samples, p=p / p.sum())


class QuantumBoltzmannMachine(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, DensityMixin, BaseEstimator
):
    """Quantum Boltzmann machine: exact Gibbs state of a transverse-field Ising model.

    The model (Amin, Andriyash, Rolfe, Kulchytskyy and Melko, PRX 8, 021050, 2018) is the
    Gibbs state ``rho = exp(-H) / Z`` of

    ``H = -sum_a Gamma_a X_a - sum_a b_a Z_a - sum_{a<b} w_ab Z_a Z_b``

    over ``n_features`` visible qubits followed by ``n_hidden`` hidden qubits (feature ``j``
    is qubit ``j``; configurations are indexed little-endian, as circuits are: bit ``j`` of
    an index is qubit ``j``). A data bit ``v_a = 0`` is ``|0>`` (``Z_a = +1``) and
    ``v_a = 1`` is ``|1>`` (``Z_a = -1``). The
    model distribution is the visible marginal ``p(v) = Tr[(|v><v| (x) I_hidden) rho]``; with
    ``Gamma = 0`` it is a classical Boltzmann machine. Everything is exact: one dense
    eigendecomposition of the ``2**n x 2**n`` Hamiltonian per optimisation step (``n`` up to
    14 qubits, and within ``max_memory_mb``).

    Parameters
    ----------
    n_hidden : int, default=0
        Number of hidden qubits.
    connectivity : {"full", "restricted"}, default="full"
        ``"full"``: a coupling for every pair of qubits. ``"restricted"``: only
        visible-hidden couplings (no coupling at all when ``n_hidden=0``).
    transverse_field : float, default=1.0
        ``Gamma``, the same on every qubit: the fixed value, or the starting value when
        ``learn_transverse_field=True`` (then it must not be 0: ``p(v)`` is even in each
        ``Gamma_a``, so ``Gamma = 0`` is a stationary point that gradients never leave).
    learn_transverse_field : bool, default=False
        Learn one ``Gamma_a`` per qubit (only with ``objective="likelihood"``: the bound
        drives the visible fields to 0, see Amin et al. Section III).
    objective : {"likelihood", "bound"}, default="likelihood"
        ``"likelihood"``: minimise the exact average negative log-likelihood
        ``-mean log p(v)`` with its exact gradient (derivative of the matrix exponential in
        the eigenbasis). ``"bound"``: the bQBM of Amin et al., minimise the Golden-Thompson
        upper bound ``-mean log(Tr exp(-H_v) / Z)`` where ``H_v`` is ``H`` with the visible
        qubits clamped to ``v`` (its gradient: clamped minus free expectations of ``Z_a``
        and ``Z_a Z_b``).
    learning_rate : float, default=0.1
        Step size of ``"adam"`` and ``"sgd"``.
    optimizer : {"adam", "sgd", "lbfgs"}, default="adam"
        ``"lbfgs"`` is full batch (scipy's L-BFGS-B, ``gtol=tol``).
    batch_size : int, default=None
        Mini-batch size of ``"adam"`` and ``"sgd"``; ``None``: full batch.
    max_iter : int, default=200
        Maximum number of epochs (L-BFGS: iterations).
    tol : float, default=1e-6
        Training stops when the epoch loss has not improved by more than ``tol`` for
        ``n_iter_no_change`` consecutive epochs (L-BFGS: gradient tolerance).
    n_iter_no_change : int, default=10
        See ``tol``.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial couplings and the mini-batch order.
    verbose : int, default=0
        Print the loss of every epoch.
    warm_start : bool, default=False
        ``fit`` continues from the current parameters, Adam moments and mini-batch random
        stream instead of starting afresh: two warm-started fits of ``k`` epochs are one fit
        of ``2 k`` epochs.
    max_memory_mb : float, default=None
        Memory budget of the dense eigendecomposition; default half the available memory
        (or ``SKQML_MAX_MEMORY_MB``). Larger models are refused up front with
        :class:`~skqml.simulator.SimulationMemoryError`.

    Attributes
    ----------
    visible_bias_ : ndarray of shape (n_features,)
        ``b_a`` of the visible qubits.
    hidden_bias_ : ndarray of shape (n_hidden,)
        ``b_a`` of the hidden qubits.
    couplings_ : ndarray of shape (n_qubits, n_qubits)
        Symmetric ``w_ab`` (zero diagonal, and zero for absent pairs); visible qubits first.
    transverse_field_ : ndarray of shape (n_qubits,)
        ``Gamma_a`` of every qubit.
    log_partition_ : float
        ``log Tr exp(-H)``.
    joint_probabilities_ : ndarray of shape (2**n_features, 2**n_hidden)
        Exact probabilities of measuring every (visible, hidden) configuration in the Z
        basis, in skqml's little-endian bit order: entry ``[i, k]`` is the configuration with
        visible bits ``v_j = (i >> j) & 1`` (feature ``j`` is bit ``j`` of ``i``) and hidden
        bits ``h_l = (k >> l) & 1``. Sums to 1.
    loss_curve_ : list of float
        Training loss of every epoch (the negative log-likelihood, or its bound).
    n_iter_ : int
        Number of epochs (L-BFGS: iterations) run.
    n_qubits_ : int
        ``n_features + n_hidden``.
    n_features_in_ : int
        Number of visible units.

    See Also
    --------
    QBMClassifier : conditional quantum Boltzmann machine for classification.
    sklearn.neural_network.BernoulliRBM : classical restricted Boltzmann machine.

    Notes
    -----
    With ``n`` qubits each step costs one ``eigh`` of a ``2**n x 2**n`` real matrix and two
    matrix products: about a millisecond at 6 qubits, 0.3 s at 10 and 10-30 s at 12 on a
    shared 2-core machine (``benchmarks/bench_boltzmann.py``).

    Examples
    --------
    >>> import numpy as np
    >>> from skqml.boltzmann import QuantumBoltzmannMachine
    >>> X = np.array([[0, 0, 1], [1, 1, 0], [1, 1, 1], [0, 0, 0]] * 5)
    >>> qbm = QuantumBoltzmannMachine(
    ...     n_hidden=1, transverse_field=0.5, optimizer="lbfgs", random_state=0
    ... ).fit(X)
    >>> qbm.n_qubits_, qbm.couplings_.shape
    (4, (4, 4))
    >>> np.exp(qbm.score_samples(X[:4])).round(3)  # the four patterns share all the mass
    array([0.25, 0.25, 0.25, 0.25])
    >>> qbm.transform(X[:2]).round(3)  # <Z_hidden> given v: the hidden qubit tells 001 from 110
    array([[ 1.],
           [-1.]])
    >>> qbm.sample(3, random_state=0).shape
    (3, 3)
    """

    _parameter_constraints: dict = {
        "n_hidden": [Interval(Integral, 0, None, closed="left")],
        "connectivity": [StrOptions({"full", "restricted"})],
        "transverse_field": [Interval(Real, 0, None, closed="left")],
        "learn_transverse_field": ["boolean"],
        "objective": [StrOptions({"likelihood", "bound"})],
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
        n_hidden: int = 0,
        *,
        connectivity: str = "full",
        transverse_field: float = 1.0,
        learn_transverse_field: bool = False,
        objective: str = "likelihood",
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
        self.connectivity = connectivity
        self.transverse_field = transverse_field
        self.learn_transverse_field = learn_transverse_field
        self.objective = objective
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

    # -- validation ---------------------------------------------------------------------------
    def _check_config(self, n_visible: int, n_data: int):
        who = type(self).__name__
        if self.learn_transverse_field and self.objective == "bound":
            raise ValueError(
                f"{who}: learn_transverse_field=True needs objective='likelihood': the bQBM bound "
                "cannot learn the transverse field (it drives the visible fields to 0), so "
                "Gamma is a fixed hyperparameter of objective='bound'"
            )
        if self.learn_transverse_field and self.transverse_field == 0:
            raise ValueError(
                f"{who}: learn_transverse_field=True needs transverse_field > 0: p(v) is even in "
                "each Gamma, so Gamma = 0 is a stationary point the gradient never leaves"
            )
        n_qubits = n_visible + self.n_hidden
        n_pairs = len(g.coupling_pairs(n_visible, self.n_hidden, self.connectivity))
        extra = g.table_bytes(n_qubits, n_qubits + n_pairs)
        if self.objective == "bound":
            # One clamped hidden Hamiltonian per distinct visible configuration of a batch,
            # alive together with the full one.
            extra += g.dense_bytes(self.n_hidden, batch=min(n_data, 2**n_visible))
        g.check_dense_memory(n_qubits, self.max_memory_mb, what=who, extra_bytes=extra)

    def _validate_X(self, X, *, reset: bool) -> np.ndarray:
        X = validate_data(self, X, reset=reset, dtype=np.float64)
        return check_binary(X, type(self).__name__)

    # -- parameters ---------------------------------------------------------------------------
    def _structure(self, n_visible: int):
        n = n_visible + self.n_hidden
        pairs = g.coupling_pairs(n_visible, self.n_hidden, self.connectivity)
        spins = g.spin_table(n)
        return pairs, g.z_terms(spins, pairs), g.flip_permutations(n)

    def _initial_theta(self, n_visible: int, pairs, rng) -> np.ndarray:
        n = n_visible + self.n_hidden
        theta = [np.zeros(n), rng.normal(0.0, _INIT_COUPLING_STD, len(pairs))]
        if self.learn_transverse_field:
            theta.append(np.full(n, float(self.transverse_field)))
        return np.concatenate(theta)

    def _current_theta(self, pairs) -> np.ndarray:
        theta = [
            self.visible_bias_,
            self.hidden_bias_,
            self.couplings_[pairs[:, 0], pairs[:, 1]],
        ]
        if self.learn_transverse_field:
            theta.append(self.transverse_field_)
        return np.concatenate(theta)

    def _split(self, theta, n: int, n_z: int):
        gamma = theta[n_z:] if self.learn_transverse_field else np.full(n, self.transverse_field)
        return theta[:n_z], gamma

    # -- objectives ---------------------------------------------------------------------------
    def _objective(self, v_index, n_visible, pairs, z_table, perms):
        """``fun(theta, idx) -> (loss, grad)`` on the data rows ``idx`` (``None``: all)."""
        n = n_visible + self.n_hidden
        n_z = z_table.shape[1]
        n_v_states, n_h_states = 2**n_visible, 2**self.n_hidden
        learn = self.learn_transverse_field

        def likelihood(theta, idx):
            rows = v_index if idx is None else v_index[idx]
            q = np.bincount(rows, minlength=n_v_states) / rows.size
            z_coef, gamma = self._split(theta, n, n_z)
            E, U, w, _ = g.gibbs_eigh(g.hamiltonian(z_coef, z_table, gamma, perms))
            z_shift = w.sum()
            joint = g.basis_weights(U, w)  # exp(-H) diagonal, up to the common shift
            # Basis index v + 2**n_visible * h: the visible configuration varies fastest.
            marginal = np.maximum(joint.reshape(n_h_states, n_v_states).sum(axis=0), _TINY)
            seen = q > 0
            loss = np.log(z_shift) - q[seen] @ np.log(marginal[seen])
            # dL/dtheta_t = Tr[G O_t] + <O_t>, G from M = sum_v q(v) / p~(v) (|v><v| (x) I).
            m = np.tile(np.where(seen, q / marginal, 0.0), n_h_states)
            tz, tx = g.gradient_traces(m, E, U, z_table, perms, need_x=learn)
            grad = [tz + (joint / z_shift) @ z_table]
            if learn:
                _, x_free = g.weighted_traces(U * (w / z_shift), U, z_table[:, :0], perms)
                grad.append(tx + x_free)
            return float(loss), np.concatenate(grad)

        def bound(theta, idx):
            rows = v_index if idx is None else v_index[idx]
            seen, counts = np.unique(rows, return_counts=True)
            q = counts / rows.size
            z_coef, gamma = self._split(theta, n, n_z)
            H = g.hamiltonian(z_coef, z_table, gamma, perms)
            # H_v: the diagonal block of visible configuration v (the visible X terms only
            # connect different blocks, so clamping removes them).
            # (Advanced indices apart: the axis of ``seen`` comes first, shape (k, 2**nh, 2**nh).)
            blocks = H.reshape(n_h_states, n_v_states, n_h_states, n_v_states)[:, seen, :, seen]
            _, U, w, log_norm = g.gibbs_eigh(H)
            z_shift = w.sum()
            free = (g.basis_weights(U, w) / z_shift) @ z_table
            _, Uc, wc, log_norm_c = g.gibbs_eigh(blocks)
            zc = wc.sum(axis=-1)
            clamped_p = g.basis_weights(Uc, wc) / zc[:, None]
            tables = z_table.reshape(n_h_states, n_v_states, n_z)[:, seen].swapaxes(0, 1)
            clamped = np.einsum("u,uh,uht->t", q, clamped_p, tables)
            loss = log_norm + np.log(z_shift) - q @ (log_norm_c + np.log(zc))
            return float(loss), free - clamped

        return bound if self.objective == "bound" else likelihood

    def _fitted_state(self, theta, n_visible, pairs, z_table, perms) -> dict:
        """The fitted attributes: parameters and the exact Gibbs-state tables of ``theta``."""
        n = n_visible + self.n_hidden
        n_z = z_table.shape[1]
        z_coef, gamma = self._split(theta, n, n_z)
        W = np.zeros((n, n))
        W[pairs[:, 0], pairs[:, 1]] = z_coef[n:]
        _, U, w, log_norm = g.gibbs_eigh(g.hamiltonian(z_coef, z_table, gamma, perms))
        # Basis index v + 2**n_visible * h; the table is indexed [v, h].
        joint = (g.basis_weights(U, w) / w.sum()).reshape(2**self.n_hidden, 2**n_visible).T
        return {
            "visible_bias_": z_coef[:n_visible].copy(),
            "hidden_bias_": z_coef[n_visible:n].copy(),
            "couplings_": W + W.T,
            "transverse_field_": np.array(gamma, dtype=np.float64),
            "log_partition_": float(log_norm + np.log(w.sum())),
            "joint_probabilities_": np.ascontiguousarray(joint / joint.sum()),
            "n_qubits_": n,
            "_n_features_out": self.n_hidden,
        }

    # -- training -----------------------------------------------------------------------------
    def _train(self, X, *, n_epochs: int, continuing: bool, warn: bool):
        n_visible = X.shape[1]
        n_qubits = n_visible + self.n_hidden
        self._check_config(n_visible, X.shape[0])
        pairs, z_table, perms = self._structure(n_visible)
        if continuing:
            if self.n_qubits_ != n_qubits:
                raise ValueError(
                    f"{type(self).__name__}: continuing training (warm_start or partial_fit) "
                    f"needs the same number of qubits: the model has {self.n_qubits_}, "
                    f"n_features + n_hidden is now {n_qubits}"
                )
            theta = self._current_theta(pairs)
            rng, adam, loss_curve, n_iter = continued_training(self)
        else:
            rng = check_random_state(self.random_state)
            theta = self._initial_theta(n_visible, pairs, rng)
            adam, loss_curve, n_iter = Adam(), [], 0
        fun = self._objective(g.bits_to_index(X), n_visible, pairs, z_table, perms)
        history = History(self.tol, self.n_iter_no_change, self.verbose)
        with g.blas_threads(n_qubits):
            theta = optimize(
                self.optimizer,
                fun,
                theta,
                X.shape[0],
                history,
                max_iter=n_epochs,
                learning_rate=self.learning_rate,
                batch_size=self.batch_size,
                rng=rng,
                adam=adam,
                gtol=self.tol,
            )
            fitted = self._fitted_state(theta, n_visible, pairs, z_table, perms)
        set_fitted(self, fitted)
        self._rng, self._adam = rng, adam
        self.loss_curve_ = [*loss_curve, *history.loss_curve]
        self.n_iter_ = n_iter + len(history.loss_curve)
        if warn:
            warn_if_not_converged(
                history, type(self).__name__, self.max_iter, "increase max_iter or learning_rate"
            )
        return self

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None) -> QuantumBoltzmannMachine:
        """Fit the model to binary data.

        A failed fit (an error, :class:`~skqml.simulator.SimulationMemoryError`, an
        interruption) leaves the estimator as it was before the call.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Binary (0/1) training data, one visible qubit per feature.
        y : None
            Ignored.

        Returns
        -------
        self : QuantumBoltzmannMachine
            The fitted estimator.
        """
        continuing = self.warm_start and hasattr(self, "couplings_")
        X = self._validate_X(X, reset=not continuing)
        return self._train(X, n_epochs=self.max_iter, continuing=continuing, warn=True)

    @available_if(_has_stochastic_optimizer)
    @fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None) -> QuantumBoltzmannMachine:
        """Run one epoch on ``X`` (initialising the model on the first call).

        The Adam moments and the mini-batch random stream carry over between calls. A failed
        call leaves the estimator as it was before it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Binary (0/1) data.
        y : None
            Ignored.

        Returns
        -------
        self : QuantumBoltzmannMachine
            The updated estimator.
        """
        first = not hasattr(self, "couplings_")
        X = self._validate_X(X, reset=first)
        return self._train(X, n_epochs=1, continuing=not first, warn=False)

    # -- inference ----------------------------------------------------------------------------
    def _marginal(self) -> np.ndarray:
        return self.joint_probabilities_.sum(axis=1)

    def score_samples(self, X) -> np.ndarray:
        """Exact log-probability ``log p(v)`` of each row of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Binary (0/1) data.

        Returns
        -------
        log_prob : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        return np.log(np.maximum(self._marginal(), _TINY))[g.bits_to_index(X)]

    def score(self, X, y=None) -> float:
        """Mean exact log-likelihood of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Binary (0/1) data.
        y : None
            Ignored.

        Returns
        -------
        score : float
        """
        return float(np.mean(self.score_samples(X)))

    def transform(self, X) -> np.ndarray:
        """Exact hidden expectations ``<Z_h>`` given the visible configuration.

        ``Tr[(|v><v| (x) Z_h) rho] / p(v)``: measure every qubit of the Gibbs state in the Z
        basis, keep the outcomes whose visible bits are ``v``, average ``z_h``. With
        ``Gamma = 0`` this is the classical conditional expectation ``E[z_h | v]``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Binary (0/1) visible configurations.

        Returns
        -------
        hidden : ndarray of shape (n_samples, n_hidden)
            Values in ``[-1, 1]`` (``+1``: hidden bit 0).
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        joint = self.joint_probabilities_[g.bits_to_index(X)]
        total = np.maximum(joint.sum(axis=1, keepdims=True), _TINY)
        return (joint / total) @ g.spin_table(self.n_qubits_ - self.n_features_in_)

    def sample(self, n_samples: int = 1, random_state=None) -> np.ndarray:
        """Draw exact samples of the visible marginal ``p(v)``.

        Parameters
        ----------
        n_samples : int, default=1
            Number of samples.
        random_state : int, RandomState instance or None, default=None
            Seed of the draw.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features), dtype int64
            Binary samples.
        """
        check_is_fitted(self)
        index = sample_indices(self._marginal(), n_samples, random_state)
        return g.index_to_bits(index, self.n_features_in_).astype(np.int64)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.target_tags.required = False
        return tags
