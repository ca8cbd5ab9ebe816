"""Quantum circuit Born machine (Liu & Wang 2018): ``p(x) = |<x|U(theta)|0>|^2``, trained on
the squared maximum mean discrepancy (MMD) with a mixture of Gaussian kernels.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, DensityMixin, clone
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .._estimator import fit_context, set_fitted
from .._optim import History, optimize, warn_if_not_converged
from .._parallel import single_blas_thread, state_part_runner
from .._validation import MAX_MEMORY_MB_CONSTRAINT, N_JOBS_CONSTRAINT
from ..backends import Backend, resolve_backend
from ..circuits import HardwareEfficient
from ..circuits._ansatzes import build_ansatz
from ..simulator import simulate
from ..simulator._adjoint import adjoint_rows, probability_vjp
from ..simulator._memory import resolve_max_memory_mb
from ..simulator._parameter_shift import parameter_shift_vjp
from ..simulator._split import SPLIT_MIN_QUBITS
from ._chow_liu import chow_liu_tree
from ._gibbs import bits_to_index, index_to_bits
from ._qbm import check_binary, sample_indices

__all__ = ["BornMachine", "mmd_kernel_apply"]

# Default ansatz: Liu & Wang (2018), Section II.A and III.A: d = 10 rotation-plus-entangler
# layers with the CNOTs on the Chow-Liu tree of the training data (docs/boltzmann.md compares
# it with a chain and with their Rz Rx Rz rotations).
_DEFAULT_LAYERS = 10
# The entanglement name that BornMachine resolves to the Chow-Liu tree of the data at fit.
_CHOW_LIU = "chow_liu"
# float64 vectors over the basis states that a training step holds besides the simulator's
# states: the target q, p - q, K (p - q), the cotangent and the four of mmd_kernel_apply
# (two bandwidths' products and their half-size buffers).
_STEP_VECTORS = 8


def mmd_kernel_apply(
    v: np.ndarray, n_bits: int, bandwidths, n_jobs: int | None = None
) -> np.ndarray:
    """``K @ v`` for the MMD kernel on ``n_bits``-bit strings, without forming ``K``.

    ``K(x, y) = mean_sigma exp(-|x - y|^2 / (2 sigma))`` with ``|x - y|^2`` the Hamming
    distance. Each term is a product over bits of ``exp(-[x_j != y_j] / (2 sigma))``, so
    ``K = mean_sigma kron_j [[1, e_sigma], [e_sigma, 1]]`` with ``e_sigma = exp(-1 / (2 sigma))``,
    and ``K @ v`` costs ``n_bits * 2**n_bits`` operations per bandwidth instead of ``4**n_bits``
    (and no ``2**n_bits x 2**n_bits`` matrix). The kernel treats every bit alike, so the bit
    order of the index does not matter.

    Parameters
    ----------
    v : ndarray of shape (..., 2**n_bits)
        Vectors over basis states.
    n_bits : int
        Number of bits.
    bandwidths : sequence of float
        The ``sigma`` of the mixture (positive).
    n_jobs : int, default=None
        From ``SPLIT_MIN_QUBITS`` (15) bits, two bandwidths at a time in two threads. The
        terms are added in the order of ``bandwidths`` whatever ``n_jobs``: the same
        numbers.

    Returns
    -------
    Kv : ndarray of the shape of ``v``

    Examples
    --------
    >>> import numpy as np
    >>> from skqml.boltzmann._born import mmd_kernel_apply
    >>> mmd_kernel_apply(np.array([1.0, 0.0, 0.0, 0.0]), 2, [1.0]).round(4)  # row 00 of K
    array([1.    , 0.6065, 0.6065, 0.3679])
    """
    v = np.asarray(v, dtype=np.float64)
    bandwidths = [float(sigma) for sigma in bandwidths]
    t0 = v.reshape(-1, *(2,) * n_bits)
    out = np.zeros_like(t0)
    # Two bandwidths at a time (one per thread when n_jobs allows), each with its own buffers.
    terms = [np.empty_like(t0) for _ in bandwidths[:2]]
    scratch = [(np.empty_like(t0[:, 0]), np.empty_like(t0[:, 0])) for _ in terms]
    threads = n_jobs if n_bits >= SPLIT_MIN_QUBITS else 1  # below: a thread costs more
    with state_part_runner(threads) as run:
        for first in range(0, len(bandwidths), 2):
            pair = bandwidths[first : first + 2]

            def one_term(part, pair=pair):
                if part < len(pair):
                    _kernel_term(t0, pair[part], terms[part], *scratch[part])

            run(one_term)
            for term in terms[: len(pair)]:
                out += term
    out /= len(bandwidths)
    return out.reshape(v.shape)


def _kernel_term(t0: np.ndarray, sigma: float, t: np.ndarray, e_hi, e_lo) -> None:
    """``t = kron_j [[1, e], [e, 1]] t0`` with ``e = exp(-1 / (2 sigma))``; ``t0`` and ``t``
    of shape ``(batch, 2, ..., 2)``, ``e_hi`` and ``e_lo`` buffers of half their size."""
    e = np.exp(-1.0 / (2.0 * sigma))
    np.copyto(t, t0)
    # [[1, e], [e, 1]] on one bit updates both halves in place.
    for axis in range(1, t.ndim):
        lo = t[(slice(None),) * axis + (0,)]
        hi = t[(slice(None),) * axis + (1,)]
        np.multiply(hi, e, out=e_hi)
        np.multiply(lo, e, out=e_lo)
        lo += e_hi
        hi += e_lo


class BornMachine(DensityMixin, BaseEstimator):
    """Quantum circuit Born machine trained on the maximum mean discrepancy.

    The model (Liu and Wang, *Differentiable learning of quantum circuit Born machines*,
    PRA 98, 062324, 2018) is the distribution of measuring ``n = n_features`` qubits in the
    computational basis after a parametrised circuit ``U(theta)``:

    ``p(x) = |<x| U(theta) |0...0>|^2``.

    Bit ``x_j`` of a data row (column ``j``) is qubit ``j``, ``0`` being ``|0>``; the basis
    index of ``x`` is ``sum_j x_j 2**j`` (skqml's little-endian order: the first column is
    the least significant bit), which is the order of :attr:`probabilities_`. Training
    minimises the squared MMD between the model and the empirical data distribution ``q``,

    ``MMD^2 = sum_{x,y} (p(x) - q(x)) K(x, y) (p(y) - q(y))``,
    ``K(x, y) = mean_sigma exp(-|x - y|^2 / (2 sigma))``

    with ``|x - y|^2`` the Hamming distance. Everything is computed over all ``2**n`` basis
    states, applying ``K`` as a Kronecker product of ``2 x 2`` kernels (never as a
    ``2**n x 2**n`` matrix).

    Parameters
    ----------
    ansatz : Ansatz, default=None
        Trainable circuit (any object with ``build``, ``n_weights`` and ``initial_weights``,
        e.g. from :mod:`skqml.circuits`; it must not read data features, and ``build(n)``
        must return an ``n``-qubit circuit). ``None``: the circuit of Liu and Wang, 10 times
        RY and RZ on every qubit then CNOTs on the Chow-Liu tree of the training data (the
        maximum spanning tree of the pairwise mutual information of the columns, edges
        pointing away from qubit 0), i.e. ``HardwareEfficient(n_layers=10,
        entanglement="chow_liu")``. An ansatz whose ``entanglement`` is ``"chow_liu"`` gets
        that tree of the data it is fitted on as its list of CNOT pairs.
    kernel_bandwidths : sequence of float, default=(0.5, 1.0, 2.0, 4.0)
        The ``sigma`` of the Gaussian kernel mixture (those of Liu and Wang for bars and
        stripes). Small bandwidths compare bit strings bit by bit, large ones compare their
        coarse structure.
    backend : str, Backend or None, default="statevector"
        Where the circuit runs (``None``: the exact ``"statevector"`` backend). Exact
        backends: exact ``p``, exact MMD and its exact gradient (adjoint method, all weights
        in one backward sweep). Shot backends (:class:`~skqml.backends.ShotsBackend`): ``p``
        is estimated from the backend's shots and the gradient by the parameter-shift rule
        (two shot runs per weight and step), with the cotangent ``2 K (p_hat - q)`` of the
        estimated distribution.
    optimizer : {"lbfgs", "adam"}, default="lbfgs"
        ``"lbfgs"``: scipy's L-BFGS-B (``gtol=tol``), for exact backends. ``"adam"``: fixed
        ``learning_rate``; use it with shot backends, whose noisy loss defeats line searches.
    learning_rate : float, default=0.05
        Step size of ``"adam"``.
    max_iter : int, default=500
        Maximum number of iterations (optimizer steps; Liu and Wang train for 500 L-BFGS
        steps).
    tol : float, default=1e-8
        L-BFGS: gradient tolerance (L-BFGS-B also stops, with scipy's default ``ftol``, once
        an iteration lowers the loss by less than about ``2.2e-9``). Adam: stop when the loss
        has not improved by more than ``tol`` for ``n_iter_no_change`` consecutive steps.
    n_iter_no_change : int, default=10
        See ``tol`` (Adam only).
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights (``ansatz.initial_weights``, uniform in ``[-pi, pi)`` for
        the built-in ansatzes). Shot noise is seeded by the backend (``ShotsBackend(seed=)``).
    verbose : int, default=0
        Print the loss of every iteration.
    max_memory_mb : float, default=None
        Memory budget of a training step (the simulation and the ``2**n`` vectors of the
        MMD); default half the available memory (or ``SKQML_MAX_MEMORY_MB``). Models that do
        not fit are refused up front with :class:`~skqml.simulator.SimulationMemoryError`.
    n_jobs : int, default=None
        Threads of a training step on an exact backend, from 15 qubits: the simulator's
        sweeps run the state in two parts and the kernel two bandwidths at a time, on two
        cores when ``n_jobs`` gives two or more (narrower states, and shot backends: one
        thread). ``None`` means 1 unless in a :func:`joblib.parallel_config` context; the
        same numbers for every ``n_jobs``.

    Attributes
    ----------
    weights_ : ndarray of shape (n_weights,)
        Trained circuit weights.
    circuit_ : Circuit
        The circuit ``U(theta)`` (angles ``weight(j)``).
    n_qubits_ : int
        Number of qubits, ``n_features_in_``.
    probabilities_ : ndarray of shape (2**n_qubits_,)
        ``p(x)`` of every basis state, index ``sum_j x_j 2**j``. Exact backends:
        ``|amplitude|^2``; :class:`~skqml.backends.ShotsBackend`: its exact outcome
        distribution (noise model included, no shot noise), the distribution its shots
        sample from.
    loss_curve_ : list of float
        Squared MMD after every iteration (estimated from shots on shot backends).
    n_iter_ : int
        Number of iterations run.
    backend_ : Backend
        The resolved backend.
    n_features_in_ : int
        Number of bits of the data.

    See Also
    --------
    QuantumBoltzmannMachine : density model from the Gibbs state of an Ising Hamiltonian.
    sklearn.neural_network.BernoulliRBM : classical restricted Boltzmann machine.

    Notes
    -----
    MMD is not the likelihood: it matches kernel mean embeddings, so states the kernel
    cannot tell apart from data keep some mass. A step costs one simulation and one adjoint
    sweep (about three circuit runs) plus ``len(kernel_bandwidths) * n * 2**n`` operations
    for the kernel, so memory and time are ``O(2**n)``; the dense ``4**n`` kernel matrix is
    never formed. On a shot backend a step costs ``2 * n_weights + 1`` shot runs.

    The default circuit follows Liu and Wang: a tree of CNOTs (8 on 9 qubits) chosen by
    Chow and Liu's algorithm joins the most dependent bits, and 10 layers give the optimiser
    enough parameters to avoid poor local minima. On 3 x 3 bars and stripes it puts 99.45
    to 99.64% of the probability on the 14 valid patterns for seeds 0 to 4 (99.19 to 99.54%
    for seeds 5 to 9), where 8 layers on a chain of CNOTs ended between 96.5% and 99.8% in
    400 iterations (``docs/boltzmann.md``). ``fit`` runs BLAS on one thread up to 12 qubits:
    on states this small, threads only contend.

    Examples
    --------
    >>> import numpy as np
    >>> from skqml.boltzmann import BornMachine
    >>> from skqml.circuits import HardwareEfficient
    >>> X = np.array([[0, 0, 0], [1, 1, 1]] * 5)  # a GHZ-like target: 000 and 111
    >>> ansatz = HardwareEfficient(n_layers=2, entanglement="chow_liu")
    >>> born = BornMachine(ansatz, random_state=0).fit(X)
    >>> [op.qubits for op in born.circuit_ if op.name == "cnot"]  # the data's tree, twice
    [(0, 1), (0, 2), (0, 1), (0, 2)]
    >>> born.probabilities_.round(3)[[0, 7]], round(float(born.probabilities_.sum()), 6)
    (array([0.5, 0.5]), 1.0)
    >>> np.exp(born.score_samples([[0, 0, 0], [1, 1, 1]])).round(3)
    array([0.5, 0.5])
    >>> born.sample(4, random_state=0).shape
    (4, 3)
    """

    _parameter_constraints: dict = {
        "ansatz": [None, HasMethods(["build", "n_weights", "initial_weights"])],
        "kernel_bandwidths": ["array-like"],
        "backend": [None, str, Backend],
        "optimizer": [StrOptions({"lbfgs", "adam"})],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "max_memory_mb": MAX_MEMORY_MB_CONSTRAINT,
        "n_jobs": N_JOBS_CONSTRAINT,
    }

    def __init__(
        self,
        ansatz=None,
        *,
        kernel_bandwidths=(0.5, 1.0, 2.0, 4.0),
        backend="statevector",
        optimizer: str = "lbfgs",
        learning_rate: float = 0.05,
        max_iter: int = 500,
        tol: float = 1e-8,
        n_iter_no_change: int = 10,
        random_state=None,
        verbose: int = 0,
        max_memory_mb: float | None = None,
        n_jobs: int | None = None,
    ):
        self.ansatz = ansatz
        self.kernel_bandwidths = kernel_bandwidths
        self.backend = backend
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
        self.verbose = verbose
        self.max_memory_mb = max_memory_mb
        self.n_jobs = n_jobs

    # -- validation ---------------------------------------------------------------------------
    def _bandwidths(self) -> np.ndarray:
        sigma = np.asarray(self.kernel_bandwidths, dtype=np.float64).ravel()
        if sigma.size == 0 or not np.all(np.isfinite(sigma)) or np.any(sigma <= 0):
            raise ValueError(
                "kernel_bandwidths must be a non-empty sequence of positive numbers, got "
                f"{self.kernel_bandwidths!r}"
            )
        return sigma

    def _validate_X(self, X, *, reset: bool) -> np.ndarray:
        X = validate_data(self, X, reset=reset, dtype=np.float64)
        return check_binary(X, type(self).__name__)

    def _simulation_budget(self, circuit) -> float:
        """Refuse up front a training step that cannot fit; the MiB left for the simulator.

        The step's own ``2**n`` vectors are counted first; the simulator gets the rest of
        ``max_memory_mb``, so that both together stay within it (the gradient call's own
        arithmetic decides whether one run fits).
        """
        budget = resolve_max_memory_mb(self.max_memory_mb)
        own = _STEP_VECTORS * 8.0 * 2**circuit.n_qubits
        adjoint_rows(
            circuit, budget, held_bytes=own, what=f"a training step of {type(self).__name__}"
        )
        return budget - own / 1024**2

    def _resolve_ansatz(self, X: np.ndarray):
        """The ansatz to build: the default, or a clone of the user's, Chow-Liu tree resolved."""
        if self.ansatz is None:
            return HardwareEfficient(n_layers=_DEFAULT_LAYERS, entanglement=chow_liu_tree(X))
        ansatz = clone(self.ansatz)
        entanglement = getattr(ansatz, "entanglement", None)
        if isinstance(entanglement, str) and entanglement == _CHOW_LIU:
            ansatz.set_params(entanglement=chow_liu_tree(X))
        return ansatz

    # -- loss ---------------------------------------------------------------------------------
    def _objective(self, circuit, target, sigma, n, backend, budget):
        """``fun(theta, idx) -> (MMD^2, gradient)`` (``idx`` ignored: always full batch).

        ``budget`` is the simulator's share of ``max_memory_mb`` in MiB.
        """

        def mmd(p):
            diff = p - target
            k_diff = mmd_kernel_apply(diff, n, sigma, n_jobs=self.n_jobs)
            return float(diff @ k_diff), 2.0 * k_diff

        def exact(theta, idx=None):
            cot = {}

            def cotangent(P, rows):
                cot["loss"], grad_p = mmd(P[0])
                return grad_p[None, :]

            _, grad = probability_vjp(
                circuit, None, theta, cotangent, max_memory_mb=budget, n_jobs=self.n_jobs
            )
            return cot["loss"], grad

        def shots(theta, idx=None):
            p_hat = backend.probabilities(circuit, None, theta, max_memory_mb=budget)[0]
            loss, grad_p = mmd(p_hat)

            def run(shifted):
                return backend.probabilities(shifted, None, theta, max_memory_mb=budget)

            grad = parameter_shift_vjp(run, circuit, None, theta, grad_p[None, :])
            return loss, grad

        return exact if backend.exact else shots

    @staticmethod
    def _distribution(circuit, theta, backend, budget) -> np.ndarray:
        """The model's exact outcome distribution on the backend (see ``probabilities_``)."""
        if backend.exact:
            psi = backend.statevectors(circuit, None, theta, max_memory_mb=budget)
            p = psi.real**2 + psi.imag**2
        elif hasattr(backend, "distribution"):
            p = backend.distribution(circuit, None, theta, max_memory_mb=budget)
        else:  # pragma: no cover - a registered backend with neither: the noise-free model
            psi = simulate(circuit, None, theta, max_memory_mb=budget)
            p = psi.real**2 + psi.imag**2
        p = np.clip(p[0], 0.0, None)
        return p / p.sum()

    # -- training -----------------------------------------------------------------------------
    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None) -> BornMachine:
        """Fit the circuit to binary data by minimising the squared MMD.

        A failed fit (an error, :class:`~skqml.simulator.SimulationMemoryError`, an
        interruption) leaves the estimator as it was before the call.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Binary (0/1) training data; column ``j`` is qubit ``j``.
        y : None
            Ignored.

        Returns
        -------
        self : BornMachine
            The fitted estimator.
        """
        sigma = self._bandwidths()
        X = self._validate_X(X, reset=True)
        n = X.shape[1]
        ansatz = self._resolve_ansatz(X)
        backend = resolve_backend(self.backend)
        rng = check_random_state(self.random_state)
        circuit, theta = build_ansatz(ansatz, n, rng, who=type(self).__name__)
        budget = self._simulation_budget(circuit)
        target = np.bincount(bits_to_index(X), minlength=2**n) / X.shape[0]
        fun = self._objective(circuit, target, sigma, n, backend, budget)
        history = History(self.tol, self.n_iter_no_change, self.verbose)
        # BLAS has only a dot product per step here; its threads, which spin on after a
        # call, took the second core from n_jobs's (16 qubits: 1.0x instead of 1.8x).
        with single_blas_thread():
            weights = optimize(
                self.optimizer,
                fun,
                theta,
                X.shape[0],
                history,
                max_iter=self.max_iter,
                learning_rate=self.learning_rate,
                batch_size=None,  # the loss is over the whole distribution: no mini-batches
                gtol=self.tol,
            )
            probabilities = self._distribution(circuit, weights, backend, budget)
        set_fitted(
            self,
            {
                "backend_": backend,
                "weights_": weights,
                "circuit_": circuit,
                "n_qubits_": n,
                "loss_curve_": list(history.loss_curve),
                "n_iter_": len(history.loss_curve),
                "probabilities_": probabilities,
            },
        )
        warn_if_not_converged(history, type(self).__name__, self.max_iter)
        return self

    # -- inference ----------------------------------------------------------------------------
    def score_samples(self, X) -> np.ndarray:
        """Exact log-probability ``log p(x)`` of each row of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Binary (0/1) data.

        Returns
        -------
        log_prob : ndarray of shape (n_samples,)
            ``-inf`` where ``p(x) = 0`` exactly (rare for a generic circuit, but a circuit
            can forbid states, e.g. by symmetry).
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        with np.errstate(divide="ignore"):
            return np.log(self.probabilities_[bits_to_index(X)])

    def score(self, X, y=None) -> float:
        """Mean exact log-likelihood of ``X`` (``-inf`` if any row has ``p(x) = 0``).

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

    def sample(self, n_samples: int = 1, random_state=None) -> np.ndarray:
        """Draw exact samples of ``p(x)`` (measurements of the trained circuit).

        Parameters
        ----------
        n_samples : int, default=1
            Number of samples.
        random_state : int, RandomState instance or None, default=None
            Seed of the draw.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features), dtype int64
            Binary samples, column ``j`` the bit of qubit ``j``.
        """
        check_is_fitted(self)
        index = sample_indices(self.probabilities_, n_samples, random_state)
        return index_to_bits(index, self.n_qubits_).astype(np.int64)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.target_tags.required = False
        return tags
