"""Quantum kernels as scikit-learn kernel objects.

They subclass :class:`sklearn.gaussian_process.kernels.Kernel`, which sklearn calls once per
Gram matrix (never once per pair) everywhere a kernel is accepted: ``SVC(kernel=k)``,
``KernelRidge(kernel=k)``, ``KernelPCA(kernel=k)``, ``Nystroem(kernel=k)`` and the Gaussian
processes. Each computation is split in two: :meth:`embed` turns samples into their quantum
representation (states, or Bloch vectors), :meth:`gram` compares two representations. Estimators
keep the training representation so that prediction only simulates the new samples.

``max_memory_mb`` bounds a whole call: the representations it holds, the Gram matrix and the
blocks being computed, counted before they are allocated (see ``skqml.simulator._memory``).
Kernels keep nothing on themselves between calls (parameter objects carry no hidden state):
the feature-map circuits they build are shared through a small module-level memo.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from functools import partial
from numbers import Integral, Real

import numpy as np
from sklearn.base import clone
from sklearn.gaussian_process.kernels import Hyperparameter, Kernel
from sklearn.utils import check_array
from sklearn.utils._param_validation import (
    Interval,
    StrOptions,
    validate_parameter_constraints,
)

from .._parallel import CONCURRENT_BLOCKS, map_blocks, n_workers
from .._progress import ProgressReporter, format_seconds
from .._validation import (
    MAX_MEMORY_MB_CONSTRAINT,
    N_JOBS_CONSTRAINT,
    check_real,
)
from ..backends import resolve_backend
from ..backends._registry import BACKEND_CONSTRAINT
from ..circuits import (
    Circuit,
    FeatureMap,
    HeisenbergEmbedding,
    ZZFeatureMap,
    bandwidth_as_weight,
)
from ..circuits._angle import Angle, Term
from ..circuits._circuit import Operation
from ..simulator import single_qubit_expectations, state_jacobian
from ..simulator._memory import (
    check_states_fit,
    remaining_budget_mb,
    rows_per_chunk,
    state_bytes,
)
from ..simulator._plan import compile_circuit
from ..simulator._statevector import WORKING_COPIES, chunk_rows
from ._bandwidth import scale_bandwidths
from ._gram import (
    GRAM_BYTES_PER_ENTRY,
    block_slices,
    fidelity_block,
    fidelity_input_row_bytes,
    fidelity_inputs,
    gram_matrix,
)
from ._mitigation import (
    METHODS,
    apply_noise_rate,
    global_noise_rate,
    pair_noise_rates,
    split_noise_rates,
)
from ._overlap import overlap_gram, project_psd

__all__ = ["FidelityQuantumKernel", "ProjectedQuantumKernel", "QuantumKernel"]


class QuantumKernel(Kernel):
    """Base class of quantum kernels: feature map, backend, blocks, parameters.

    Subclasses define :meth:`_default_feature_map`, :meth:`_embed_states` and
    :meth:`_gram_block`.

    Examples
    --------
    >>> import numpy as np
    >>> from skqml.kernels import FidelityQuantumKernel, QuantumKernel
    >>> kernel = FidelityQuantumKernel()
    >>> isinstance(kernel, QuantumKernel), kernel(np.zeros((2, 2))).round(12).tolist()
    (True, [[1.0, 1.0], [1.0, 1.0]])
    """

    # Checked when a kernel is evaluated (never in __init__), like sklearn's estimators.
    _parameter_constraints: dict = {
        "backend": BACKEND_CONSTRAINT,
        "bandwidth": [Interval(Real, 0, None, closed="neither"), StrOptions({"scale"})],
        "n_jobs": N_JOBS_CONSTRAINT,
        "max_memory_mb": MAX_MEMORY_MB_CONSTRAINT,
        "verbose": ["verbose"],
    }

    def _default_feature_map(self) -> FeatureMap:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- parameters ---------------------------------------------------------------------------
    def get_params(self, deep: bool = True) -> dict:
        """Parameters, with those of the feature map and backend when ``deep``.

        Parameters
        ----------
        deep : bool, default=True
            Also return the nested parameters (``feature_map__reps``, ``backend__shots``).
        """
        params = super().get_params(deep=False)
        if deep:
            for name, value in list(params.items()):
                if hasattr(value, "get_params") and not isinstance(value, type):
                    for key, sub in value.get_params(deep=True).items():
                        params[f"{name}__{key}"] = sub
        return params

    def __repr__(self) -> str:
        defaults = type(self)().get_params(deep=False)
        shown = [
            f"{k}={v!r}"
            for k, v in self.get_params(deep=False).items()
            if not _same_param(v, defaults.get(k))
        ]
        return f"{type(self).__name__}({', '.join(shown)})"

    @property
    def requires_vector_input(self) -> bool:
        return True

    def is_stationary(self) -> bool:
        return False

    # -- circuit ------------------------------------------------------------------------------
    def feature_map_(self) -> FeatureMap:
        """The feature map in use: ``feature_map``, or the kernel's default when None."""
        fm = self.feature_map if self.feature_map is not None else self._default_feature_map()
        if not isinstance(fm, FeatureMap):
            raise TypeError(
                f"feature_map must be a skqml FeatureMap (e.g. ZZFeatureMap()), got {fm!r}"
            )
        return fm

    def circuit(self, n_features: int) -> Circuit:
        """The encoding circuit for ``n_features`` features.

        Built once per feature map settings and feature count, then shared by every kernel
        with those settings (a small module-level memo: see ``_feature_map_circuit``), so
        repeated Gram matrices reuse the compiled simulation plan.

        Parameters
        ----------
        n_features : int
            Number of input features.
        """
        return _feature_map_circuit(self.feature_map_(), int(n_features))

    def circuit_weights(self, n_features: int) -> np.ndarray:
        """Values of the encoding circuit's trainable weights (empty when it has none).

        Parameters
        ----------
        n_features : int
            Number of input features.

        Returns
        -------
        weights : ndarray of shape (circuit(n_features).n_weights,)
        """
        n_weights = self.circuit(n_features).n_weights
        if n_weights:
            raise ValueError(
                f"{type(self).__name__} has no trainable weights, but {self.feature_map_()!r} "
                f"builds a circuit with {n_weights}: use FidelityQuantumKernel(feature_map, "
                "weights=...)"
            )
        return np.zeros(0)

    def _evaluation_circuit(self, n_features: int) -> Circuit:
        """The circuit the kernel runs: :meth:`circuit` with :meth:`circuit_weights` bound
        into its angles (the circuit itself when it has no weights), from the memo."""
        weights = self.circuit_weights(n_features)
        if not weights.size:
            return self.circuit(n_features)
        return _feature_map_circuit(self.feature_map_(), int(n_features), weights)

    # -- evaluation ---------------------------------------------------------------------------
    def _validate_params(self) -> None:
        validate_parameter_constraints(
            self._parameter_constraints,
            {name: getattr(self, name) for name in self._parameter_constraints},
            caller_name=type(self).__name__,
        )

    def _progress(self, total: int = 0) -> ProgressReporter:
        return ProgressReporter(total, getattr(self, "verbose", 0), type(self).__name__)

    def _check_X(self, X) -> np.ndarray:
        self._validate_params()
        X = check_array(X, dtype=np.float64, ensure_2d=True, input_name="X")
        bandwidth = self._bandwidth_on(X)
        if bandwidth == 1:
            return X
        with np.errstate(over="ignore"):
            scaled = X * bandwidth
        if not np.all(np.isfinite(scaled)):
            sample, feature = np.argwhere(~np.isfinite(scaled))[0]
            raise ValueError(
                f"bandwidth={bandwidth:g} times feature {feature} of sample {sample} "
                f"({X[sample, feature]:.3g}) overflows: use a smaller bandwidth or scale the "
                "data first (for example with sklearn.preprocessing.StandardScaler)"
            )
        return scaled

    def _bandwidth_on(self, X: np.ndarray) -> float:
        """The bandwidth as a number; ``"scale"`` is computed on the samples ``X``."""
        if isinstance(self.bandwidth, str):  # "scale": the constraint refuses other strings
            return self._scale_bandwidths_on(X)[0]
        return check_real(self.bandwidth, "bandwidth", 0, strict=True)  # refuses bools too

    def _scale_bandwidths_on(self, X: np.ndarray) -> tuple[float, float]:
        return scale_bandwidths(self._evaluation_circuit(X.shape[1]), X, self.max_memory_mb)

    def with_fixed_bandwidth(self, X, *, return_median_rule: bool = False):
        """This kernel with ``bandwidth="scale"`` replaced by its value on the samples ``X``.

        Estimators call it with their training data at fit, so that the bandwidth is fixed
        from then on, as ``SVC(gamma="scale")`` fixes ``gamma``; see
        :func:`~skqml.kernels._bandwidth.scale_bandwidths` for the rule.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training samples.
        return_median_rule : bool, default=False
            Also return the median rule's bandwidth before the fold cap (``None`` when the
            bandwidth is a number): ``QSVC(C="scale")`` reads how much wider than the median
            rule the cap left the kernel.

        Returns
        -------
        kernel : QuantumKernel
            A copy with a numeric bandwidth, or this kernel when it already has one.
        median_rule : float or None
            Only with ``return_median_rule=True``.
        """
        if not isinstance(self.bandwidth, str):
            return (self, None) if return_median_rule else self
        self._validate_params()
        X = check_array(X, dtype=np.float64, ensure_2d=True, input_name="X")
        # What the samples' representation will need is refused before the rule's own
        # simulation, so that a refusal states the larger need.
        self._check_embedding_fits(self.circuit(X.shape[1]), X.shape[0])
        bandwidth, median_rule = self._scale_bandwidths_on(X)
        fixed = clone(self).set_params(bandwidth=bandwidth)
        return (fixed, median_rule) if return_median_rule else fixed

    def _check_embedding_fits(self, circuit: Circuit, n_rows: int) -> None:
        """Refuse up front a representation of ``n_rows`` samples that cannot fit (the
        subclass says what it holds)."""

    def embed(self, X) -> np.ndarray:
        """The quantum representation of each sample (see the subclass), one row per sample.

        With ``bandwidth="scale"`` the bandwidth is computed on ``X`` itself: to embed new
        samples like the training samples, fix it first with :meth:`with_fixed_bandwidth`
        (what the estimators and :meth:`__call__` do).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.
        """
        return self._embed(X, self.max_memory_mb)

    def _embed(self, X, max_memory_mb) -> np.ndarray:
        """:meth:`embed` within ``max_memory_mb`` (what a call has left of its budget)."""
        X = self._check_X(X)
        circuit = self._evaluation_circuit(X.shape[1])
        backend = resolve_backend(self.backend)
        start = time.perf_counter()
        if not backend.exact:
            embedding = self._embed_sampled(backend, circuit, X, max_memory_mb)
        else:
            embedding = self._embed_exact(backend, circuit, X, max_memory_mb)
        self._progress().message(
            f"embedded {X.shape[0]} samples on {circuit.n_qubits} qubits in "
            f"{format_seconds(time.perf_counter() - start)}"
        )
        return embedding

    def _embed_exact(self, backend, circuit: Circuit, X: np.ndarray, max_memory_mb):
        """The representation from state vectors: the states themselves (see the subclass)."""
        states = _simulate_blocks(backend, circuit, X, max_memory_mb, self.n_jobs)
        return self._embed_states(states, X)

    def _embed_sampled(self, backend, circuit: Circuit, X: np.ndarray, max_memory_mb):
        """The representation on a backend without state vectors (see the subclass)."""
        raise NotImplementedError(  # pragma: no cover - both subclasses override it
            f"{type(self).__name__} cannot run on {backend!r}; use backend='statevector'"
        )

    def gram(self, A: np.ndarray, B: np.ndarray | None = None) -> np.ndarray:
        """Gram matrix of two representations from :meth:`embed` (``B=None``: ``A`` vs ``A``).

        Parameters
        ----------
        A : ndarray of shape (n_samples_A, width)
            Representation of the rows' samples.
        B : ndarray of shape (n_samples_B, width), default=None
            Representation of the columns' samples; None for ``K(A, A)``.
        """
        block_rows = self._block_rows(A, B)  # the memory check comes first
        return gram_matrix(
            self._gram_block,
            self._gram_inputs(A),
            None if B is None else self._gram_inputs(B),
            block_rows=block_rows,
            n_jobs=self.n_jobs,
            panels=True,
            verbose=self.verbose,
            name=type(self).__name__,
        )

    def _gram_inputs(self, A: np.ndarray) -> np.ndarray:
        """What the Gram blocks multiply, made once from a representation (see the
        subclass)."""
        return A

    def _gram_input_row_bytes(self, A: np.ndarray) -> int:
        """Bytes per row that :meth:`_gram_inputs` adds beside the representation (held for
        the whole matrix; 0 when the blocks multiply the representation itself)."""
        return 0

    def bind_training(self, A: np.ndarray) -> QuantumKernel:
        """This kernel with its data-dependent settings fixed on the training representation.

        Parameters
        ----------
        A : ndarray of shape (n_samples, width)
            Representation of the training samples, from :meth:`embed`.
        """
        return self

    def _block_rows(self, A, B) -> int:
        """Rows per Gram block: at most ``_GRAM_ROWS``, each block within a quarter of the
        budget left beside the representations and the Gram matrix (whatever ``n_jobs``: up
        to four blocks may run at once, and the blocks never depend on ``n_jobs``)."""
        cols = A.shape[0] if B is None else B.shape[0]
        # The representations, what the blocks multiply when it is not them, the matrix.
        n_rows = A.shape[0] + (0 if B is None else B.shape[0])
        held = A.nbytes + (0 if B is None else B.nbytes) + 8 * A.shape[0] * cols
        held += n_rows * self._gram_input_row_bytes(A)
        rows = rows_per_chunk(
            GRAM_BYTES_PER_ENTRY * max(cols, 1),
            self.max_memory_mb,
            what=f"a Gram matrix block against {cols} samples (beside the "
            f"{A.shape[0]} x {cols} matrix and its inputs)",
            fixed_bytes=held / CONCURRENT_BLOCKS,
            share=1 / CONCURRENT_BLOCKS,
            hint="pass fewer samples at once or raise the limit",
        )
        return min(_GRAM_ROWS, rows)

    def __call__(self, X, Y=None, eval_gradient: bool = False) -> np.ndarray:
        """Gram matrix ``K(X, Y)`` (``Y=None``: ``K(X, X)``, computed once per pair).

        With ``eval_gradient=True`` also returns an empty gradient (no tunable
        hyperparameters are exposed to Gaussian-process optimisers).
        """
        if isinstance(self.bandwidth, str):
            # Fixed on the columns' samples (the training set in K(X_test, X_train)), as the
            # projected kernel's gamma="scale" is.
            return self.with_fixed_bandwidth(X if Y is None else Y)(X, Y, eval_gradient)
        A = self.embed(X)
        symmetric = Y is None or Y is X
        if not symmetric and eval_gradient:
            raise ValueError("gradient can only be evaluated when Y is None")
        if symmetric:
            K = self.gram(A)
        else:
            # Y's representation gets what A leaves of the budget.
            left = remaining_budget_mb(
                self.max_memory_mb, A.nbytes, f"the representation of {A.shape[0]} samples"
            )
            B = self._embed(Y, left)
            if B.shape[1] != A.shape[1]:
                raise ValueError(
                    f"X and Y must have the same number of features, got {np.shape(X)[1]} "
                    f"and {np.shape(Y)[1]}"
                )
            K = self.gram(A, B)
        if eval_gradient:
            return K, np.empty((K.shape[0], K.shape[1], 0))
        return K

    def diag(self, X) -> np.ndarray:
        """Diagonal of ``K(X, X)``: ones (normalised states, and an RBF at distance 0).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.
        """
        X = check_array(X, dtype=np.float64, input_name="X")
        return np.ones(X.shape[0])


def _is_fixed(bounds) -> bool:
    return isinstance(bounds, str) and bounds == "fixed"


def _same_param(a, b) -> bool:
    try:
        return bool(a == b) and type(a) is type(b)
    except (TypeError, ValueError):
        return False


# Rows per simulation block of a large batch.
_SIMULATION_ROWS = 256

# Rows per Gram block: small enough that parallel workers share even a Gram matrix of 1000
# samples, and that the diagonal blocks (zherk, which SciPy's BLAS runs one call at a time)
# are a small part of it; large enough that each block is one efficient BLAS call. On 12
# qubits, N=2000, 256 rows gave n_jobs=2 1.65x the speed of n_jobs=1 where 512 gave 1.4x,
# at the same n_jobs=1 time.
_GRAM_ROWS = 256

# Feature-map circuits by (feature map type, settings, n_features), least recently used
# first: at most this many circuits (and their compiled plans) stay alive.
_CIRCUITS: OrderedDict = OrderedDict()
_CIRCUITS_LOCK = threading.Lock()
_MAX_CIRCUITS = 4


def _feature_map_circuit(fm: FeatureMap, n_features: int, weights=None) -> Circuit:
    """The circuit of ``fm`` for ``n_features`` features, from a small LRU memo.

    Kernels keep no cache on themselves (parameter objects carry no hidden state): equal
    settings give the same circuit object, so its compiled plan (cached per circuit, see
    ``skqml.simulator._memory``) is reused across calls and kernels. With ``weights`` the
    circuit has them bound into its angles (:func:`_bind_weights`): a circuit of features
    only, which every backend runs as a fixed feature map.
    """
    key = (type(fm), repr(fm), repr(fm.get_params(deep=True)), n_features)
    if weights is not None:
        key += (np.asarray(weights, dtype=np.float64).tobytes(),)
    with _CIRCUITS_LOCK:  # kernels may be evaluated from several threads
        circuit = _CIRCUITS.pop(key, None)
        if circuit is None:
            circuit = fm.build(n_features)
            if weights is not None:
                circuit = _bind_weights(circuit, weights)
        _CIRCUITS[key] = circuit
        while len(_CIRCUITS) > _MAX_CIRCUITS:
            _CIRCUITS.popitem(last=False)
    return circuit


def _bind_weights(circuit: Circuit, weights) -> Circuit:
    """``circuit`` with every weight ``theta[j]`` replaced by ``weights[j]`` (exactly: each
    product term's weights multiply into its coefficient)."""
    weights = np.asarray(weights, dtype=np.float64)

    def bind(angle: Angle) -> Angle:
        return Angle(
            Term(t.coeff * float(np.prod(weights[list(t.weights)])), t.factors, ())
            for t in angle.terms
        )

    return Circuit(
        circuit.n_qubits,
        (Operation(op.name, op.qubits, tuple(map(bind, op.params))) for op in circuit),
    )


def _simulate_blocks(backend, circuit, X, max_memory_mb, n_jobs) -> np.ndarray:
    """States of all rows, simulated in fixed row blocks, in parallel when n_jobs asks.

    The blocks depend on the number of rows and the budget only, never on ``n_jobs``: the
    simulator's last bits can depend on the batch (a 1-row batch rounds differently), so
    fixed blocks keep every ``n_jobs`` bit-for-bit identical. Each block is written into the
    output as it arrives.
    """
    n_rows, n_qubits = X.shape[0], circuit.n_qubits
    if n_rows <= _SIMULATION_ROWS:
        return backend.statevectors(circuit, X, max_memory_mb=max_memory_mb)
    _check_states_fit(circuit, n_rows, max_memory_mb)
    held = n_rows * state_bytes(n_qubits)
    slices, workers, block_mb = _simulation_blocks(circuit, n_rows, max_memory_mb, held, n_jobs)
    states = np.empty((n_rows, 2**n_qubits), dtype=complex)
    blocks = map_blocks(
        partial(backend.statevectors, max_memory_mb=block_mb),
        [(circuit, X[s]) for s in slices],
        workers,
        lazy=True,
    )
    for s, block in zip(slices, blocks, strict=True):
        states[s] = block
    return states


def _check_states_fit(circuit, n_rows: int, max_memory_mb) -> None:
    """Refuse up front the states of ``n_rows`` samples with one sample's block beside them
    (what :func:`_simulate_blocks` holds; at most one state more than a single batch)."""
    one_row = (1 + WORKING_COPIES) * state_bytes(circuit.n_qubits)
    tables = compile_circuit(circuit).table_bytes
    check_states_fit(n_rows, circuit.n_qubits, max_memory_mb, working_bytes=one_row + tables)


def _simulation_blocks(circuit, n_rows: int, max_memory_mb, held_bytes: float, n_jobs):
    """Row blocks to simulate ``n_rows`` samples beside ``held_bytes`` of results.

    Returns ``(slices, workers, block_mb)``: blocks of at most ``_SIMULATION_ROWS`` rows that
    fit the budget left (fixed by the budget, never by ``n_jobs``), how many of them may run
    at once within it (at most ``n_jobs``), and the budget of each.
    """
    plan = compile_circuit(circuit)
    # The least this needs, refused as a whole: the results beside one sample's simulation
    # (so that a refusal reports the budget that would do, not only the results' share).
    one_row = (1 + WORKING_COPIES) * state_bytes(plan.n_qubits) + plan.table_bytes
    rows_per_chunk(
        one_row,
        max_memory_mb,
        what=f"simulating {n_rows} samples beside their results",
        n_qubits=plan.n_qubits,
        fixed_bytes=held_bytes,
        hint="pass fewer samples at once or raise the limit",
    )
    left = remaining_budget_mb(max_memory_mb, held_bytes, "the results of the samples")
    rows = min(_SIMULATION_ROWS, chunk_rows(plan, left, what="simulating a block of samples"))
    slices = block_slices(n_rows, rows)
    block_bytes = rows * (1 + WORKING_COPIES) * state_bytes(plan.n_qubits) + plan.table_bytes
    fit = rows_per_chunk(block_bytes, left, what="a block of samples", n_qubits=plan.n_qubits)
    workers = min(n_workers(n_jobs, len(slices)), fit)
    return slices, workers, left / workers


def _expectation_blocks(backend, circuit, labels, X, max_memory_mb, n_jobs) -> np.ndarray:
    """Sampled expectation values of all rows, in fixed row blocks (parallel with n_jobs).

    The results are held beside the blocks, and blocks running at once share the budget.
    """
    slices = block_slices(X.shape[0], _SIMULATION_ROWS)
    left = remaining_budget_mb(
        max_memory_mb, 8 * X.shape[0] * len(labels), "the results of the samples"
    )
    workers = n_workers(n_jobs, len(slices))
    blocks = map_blocks(
        partial(backend.expectations, max_memory_mb=left / workers),
        [(circuit, labels, X[s]) for s in slices],
        workers,
        threads=False,
    )
    return np.concatenate(blocks) if blocks else np.empty((0, len(labels)))


class FidelityQuantumKernel(QuantumKernel):
    """Fidelity quantum kernel ``k(x, y) = |<phi(x)|phi(y)>|^2``.

    On the exact backend the Gram matrix costs one simulation per sample and one complex
    matrix product per block (half of one for ``K(X, X)``), never one circuit per pair.
    On a sampling backend (``"shots"``) every pair runs a compute-uncompute circuit
    ``U(y)^dagger U(x)`` and ``k`` is the frequency of the all-zeros outcome; the pairs are
    run in tiles of the upper triangle for ``K(X, X)`` (the diagonal is 1, not run, unless
    ``mitigation`` needs it) and of the rectangle for ``K(X, Y)``. :meth:`embed` then returns
    the (bandwidth-scaled) features.

    Parameters
    ----------
    feature_map : FeatureMap, default=None
        Encoding circuit; ``None`` means ``ZZFeatureMap()``.
    backend : str or Backend, default="statevector"
        Where the circuits run.
    bandwidth : float or "scale", default="scale"
        Features are multiplied by it before encoding (Shaydulin & Wild 2022). ``"scale"``
        chooses it from the data, like ``SVC(gamma="scale")``: the median heuristic in the
        kernel's own metric (see ``skqml.kernels._bandwidth``), computed on the training
        samples (the columns ``Y`` of ``K(X, Y)``) and fixed at fit by the estimators.
        Without it quantum kernels concentrate on standardised data (every off-diagonal
        value near ``2**-n``). A number keeps the features as the user scaled them
        (``1.0``: unchanged, the setting of published feature maps).
    n_jobs : int, default=None
        Parallel jobs (joblib) for simulation blocks and Gram blocks.
    max_memory_mb : float, default=None
        Memory budget of a call (MiB): states, the Gram matrix and its blocks; default half
        the available memory. What cannot fit raises ``SimulationMemoryError`` up front.
    enforce_psd : bool, default=True
        Project ``K(X, X)`` from a non-exact backend onto the positive semidefinite cone
        (negative eigenvalues clipped to zero; see ``skqml.kernels._overlap.project_psd``):
        shot noise makes it indefinite, and libsvm can hang on such a matrix. The diagonal
        then moves slightly away from 1. Exact Gram matrices are never touched, nor are
        rectangular ones.
    mitigation : {"single", "average", "split_channel"} or None, default=None
        Depolarizing-noise mitigation of Gram matrices measured on a non-exact backend
        (Hubregtsen et al. 2022; see :func:`mitigate_depolarizing_noise`), applied before
        the PSD projection. It needs measured diagonal entries ``k(x, x)`` (1 without noise),
        which the Gram matrix otherwise never runs: ``"single"`` runs one (the first
        training sample), ``"average"`` and ``"split_channel"`` one per training sample;
        ``"split_channel"`` also one per new sample of ``K(X_test, X_train)``. One noise
        rate (``"single"``, ``"average"``) is estimated on the training set by
        :meth:`bind_training` (what ``QSVC`` does at fit) and reused for every later Gram
        matrix, or, on an unbound kernel, from the second argument (the training set in
        sklearn's calls ``K(X_test, X_train)``). Mitigated diagonals are set to 1, their
        exact value. A no-op on exact backends, which have no noise.
    weights : array-like of shape (n_weights,), default=None
        Values of the feature map's trainable weights (a trainable embedding such as
        :class:`~skqml.circuits.HubregtsenEmbedding`), in the feature map's weight order;
        ignored by feature maps without weights (and then must be None or empty). ``None``:
        the feature map's ``initial_weights(n_features, random_state)``. A Gram matrix needs
        the same weights in every call, so with weights and neither ``weights`` nor
        ``random_state`` set the kernel refuses to run. :class:`~skqml.svm.QSVC` with
        ``kernel_training="alignment"`` trains them.
    random_state : int or None, default=None
        Seed of the initial weights when ``weights`` is None (an integer: the weights must
        be the same in every call).
    bandwidth_bounds : pair of floats or "fixed", default=(1e-3, 1e3)
        Bounds of a numeric bandwidth as a Gaussian-process hyperparameter (tuned on the
        log scale, see :attr:`theta`), as ``length_scale_bounds`` of scikit-learn's
        :class:`~sklearn.gaussian_process.kernels.RBF`: a Gaussian process fits a numeric
        bandwidth by marginal likelihood unless this is ``"fixed"``. ``bandwidth="scale"``
        is not in ``theta`` (its value is only known from data): to tune it, start from
        a number such as ``kernel.with_fixed_bandwidth(X).bandwidth``.
    weights_bounds : pair of floats or "fixed", default=(-4 pi, 4 pi)
        Bounds of each weight as a Gaussian-process hyperparameter: the weights are in
        ``theta`` when given explicitly (an array, not None) unless this is ``"fixed"``.
    verbose : int, default=0
        Print progress of the Gram-matrix blocks to stdout (``1``: about 10 lines per matrix,
        ``2``: about 20); ``0`` is silent. The results do not depend on it.

    Attributes
    ----------
    noise_rate_ : float
        Only on a kernel bound to training data with ``mitigation`` set, on a non-exact
        backend: the estimated depolarizing rate (for ``"split_channel"``, the mean of the
        per-sample rates, for information).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.svm import SVC
    >>> from skqml.circuits import ZZFeatureMap
    >>> from skqml.kernels import FidelityQuantumKernel
    >>> kernel = FidelityQuantumKernel(ZZFeatureMap(reps=1))
    >>> X = np.array([[0.1, 0.2], [0.4, 0.3], [2.0, 1.0]])
    >>> K = kernel(X)
    >>> K.shape, np.allclose(np.diag(K), 1.0)
    ((3, 3), True)
    >>> SVC(kernel=kernel).fit(X, [0, 0, 1]).predict(X)
    array([0, 0, 1])

    Finite shots: estimates are multiples of ``1 / shots``, the same for every ``n_jobs``.

    >>> from skqml.backends import ShotsBackend
    >>> noisy = FidelityQuantumKernel(ZZFeatureMap(reps=1), backend=ShotsBackend(seed=0))
    >>> float(np.abs(noisy(X) - K).max()) < 0.05
    True

    A trainable embedding: its weights (and a numeric bandwidth, with bounds) are the
    kernel's hyperparameters ``theta``, with exact gradients for Gaussian processes.

    >>> from skqml.circuits import HubregtsenEmbedding
    >>> fm = HubregtsenEmbedding(n_layers=2)
    >>> trainable = FidelityQuantumKernel(
    ...     fm, weights=fm.initial_weights(2, random_state=0), bandwidth=0.5
    ... )
    >>> trainable.n_dims  # log(bandwidth) and 8 weights
    9
    >>> K, dK = trainable(X, eval_gradient=True)
    >>> dK.shape
    (3, 3, 9)
    """

    def __init__(
        self,
        feature_map: FeatureMap | None = None,
        *,
        backend="statevector",
        bandwidth: float | str = "scale",
        n_jobs: int | None = None,
        max_memory_mb: float | None = None,
        enforce_psd: bool = True,
        mitigation: str | None = None,
        weights=None,
        random_state: int | None = None,
        bandwidth_bounds=(1e-3, 1e3),
        weights_bounds=(-4 * np.pi, 4 * np.pi),
        verbose: int = 0,
    ):
        self.feature_map = feature_map
        self.backend = backend
        self.bandwidth = bandwidth
        self.n_jobs = n_jobs
        self.max_memory_mb = max_memory_mb
        self.enforce_psd = enforce_psd
        self.mitigation = mitigation
        self.weights = weights
        self.random_state = random_state
        self.bandwidth_bounds = bandwidth_bounds
        self.weights_bounds = weights_bounds
        self.verbose = verbose

    _parameter_constraints: dict = {
        **QuantumKernel._parameter_constraints,
        "enforce_psd": ["boolean"],
        "mitigation": [None, StrOptions(set(METHODS))],
        "weights": [None, "array-like"],
        # An integer only: a generator would draw other weights at every call.
        "random_state": [None, Interval(Integral, 0, 2**32 - 1, closed="both")],
        "bandwidth_bounds": [StrOptions({"fixed"}), "array-like"],
        "weights_bounds": [StrOptions({"fixed"}), "array-like"],
    }

    # -- Gaussian-process hyperparameters -------------------------------------------------------
    def _tuned(self) -> tuple[bool, int]:
        """Whether ``log(bandwidth)`` is in ``theta``, and how many weights are."""
        bandwidth = not isinstance(self.bandwidth, str) and not _is_fixed(self.bandwidth_bounds)
        n_weights = 0
        if self.weights is not None and not _is_fixed(self.weights_bounds):
            n_weights = int(np.size(self.weights))
        return bandwidth, n_weights

    @property
    def hyperparameters(self) -> list[Hyperparameter]:
        """The tuned hyperparameters: ``bandwidth`` (log scale) and ``weights``.

        ``bandwidth`` when it is a number and ``bandwidth_bounds`` is not ``"fixed"``;
        ``weights`` when they are given explicitly (an array) and ``weights_bounds`` is not
        ``"fixed"``. Otherwise nothing (``theta`` is empty, as for a kernel without
        numeric settings).
        """
        bandwidth, n_weights = self._tuned()
        out = []
        if bandwidth:
            out.append(Hyperparameter("bandwidth", "numeric", self.bandwidth_bounds))
        if n_weights:
            out.append(Hyperparameter("weights", "numeric", self.weights_bounds, n_weights))
        return out

    @property
    def theta(self) -> np.ndarray:
        """``[log(bandwidth), *weights]``, each part only when tuned (see
        :attr:`hyperparameters`): the vector Gaussian processes optimise."""
        bandwidth, n_weights = self._tuned()
        parts = []
        if bandwidth:
            parts.append([np.log(float(self.bandwidth))])
        if n_weights:
            parts.append(np.asarray(self.weights, dtype=np.float64).ravel())
        return np.concatenate(parts) if parts else np.zeros(0)

    @theta.setter
    def theta(self, theta) -> None:
        theta = np.asarray(theta, dtype=np.float64)
        bandwidth, n_weights = self._tuned()
        if theta.shape != (int(bandwidth) + n_weights,):
            raise ValueError(
                f"theta has shape {theta.shape}, expected ({int(bandwidth) + n_weights},)"
            )
        if bandwidth:
            self.bandwidth = float(np.exp(theta[0]))
        if n_weights:
            self.weights = theta[int(bandwidth) :].copy()

    @property
    def bounds(self) -> np.ndarray:
        """Bounds of :attr:`theta`, shape ``(n_dims, 2)``: ``log(bandwidth_bounds)`` and
        ``weights_bounds`` for each weight."""
        rows = [
            np.log(h.bounds) if h.name == "bandwidth" else h.bounds for h in self.hyperparameters
        ]
        return np.vstack(rows) if rows else np.empty((0, 2))

    def __call__(self, X, Y=None, eval_gradient: bool = False):
        """Gram matrix ``K(X, Y)``, and with ``eval_gradient`` its exact gradient.

        Parameters
        ----------
        X : array-like of shape (n_samples_X, n_features)
            Samples.
        Y : array-like of shape (n_samples_Y, n_features), default=None
            Second samples; None for ``K(X, X)``.
        eval_gradient : bool, default=False
            Also return ``dK/dtheta`` of shape ``(n_samples_X, n_samples_X, n_dims)``
            (``Y`` must be None), from the states' derivatives (:func:`state_jacobian`;
            the bandwidth through :func:`~skqml.circuits.bandwidth_as_weight`); exact
            backends only. With ``bandwidth="scale"`` the bandwidth is fixed on ``X`` and
            its dependence on the weights is not differentiated.

        Returns
        -------
        K : ndarray of shape (n_samples_X, n_samples_Y)
        K_gradient : ndarray of shape (n_samples_X, n_samples_X, n_dims)
            Only with ``eval_gradient``.
        """
        bandwidth, n_weights = self._tuned()
        if not eval_gradient or not (bandwidth or n_weights):
            return super().__call__(X, Y, eval_gradient)
        if Y is not None:
            raise ValueError("gradient can only be evaluated when Y is None")
        return self.with_fixed_bandwidth(X)._value_and_gradient(X, bandwidth, n_weights > 0)

    def _value_and_gradient(self, X, bandwidth: bool, weights: bool):
        """``K(X, X)`` and ``dK/dtheta`` for the tuned parts (numeric bandwidth)."""
        self._validate_params()
        X = check_array(X, dtype=np.float64, ensure_2d=True, input_name="X")
        backend = resolve_backend(self.backend)
        if not backend.exact:
            raise ValueError(
                f"{type(self).__name__}: eval_gradient needs exact states, which "
                f"{backend!r} does not give; fit the hyperparameters on "
                "backend='statevector'"
            )
        values = self.circuit_weights(X.shape[1])
        scale = float(self.bandwidth)
        # The bandwidth as the last weight: x * b, differentiated like the others.
        circuit = bandwidth_as_weight(self.circuit(X.shape[1]))
        states, jacobian = state_jacobian(
            circuit, X, np.append(values, scale), max_memory_mb=self.max_memory_mb
        )
        amplitudes = states.conj() @ states.T  # a_ij = <psi_i|psi_j>
        K = amplitudes.real**2 + amplitudes.imag**2
        K = (K + K.T) / 2
        np.fill_diagonal(K, 1.0)
        columns = ([values.size] if bandwidth else []) + (
            list(range(values.size)) if weights else []
        )
        gradient = np.empty((X.shape[0], X.shape[0], len(columns)))
        for out, k in enumerate(columns):
            # da_ij = <dpsi_i|psi_j> + <psi_i|dpsi_j> = D_ij + conj(D_ji).
            D = jacobian[k].conj() @ states.T
            dK = 2 * np.real(amplitudes.conj() * (D + D.conj().T))
            gradient[:, :, out] = dK * scale if k == values.size else dK  # d/d log(b)
        return K, gradient

    def _default_feature_map(self) -> FeatureMap:
        return ZZFeatureMap()

    def circuit_weights(self, n_features: int) -> np.ndarray:
        """Values of the encoding circuit's trainable weights: ``weights``, or the feature
        map's ``initial_weights(n_features, random_state)`` when it is None.

        Parameters
        ----------
        n_features : int
            Number of input features.

        Returns
        -------
        weights : ndarray of shape (circuit(n_features).n_weights,)
            Empty for a feature map without weights.

        Examples
        --------
        >>> from skqml.circuits import HubregtsenEmbedding
        >>> from skqml.kernels import FidelityQuantumKernel
        >>> kernel = FidelityQuantumKernel(HubregtsenEmbedding(n_layers=1), random_state=0)
        >>> kernel.circuit_weights(2).round(2)
        array([4.  , 1.7 , 0.26, 0.1 ])
        """
        n_weights = self.circuit(n_features).n_weights
        name = type(self).__name__
        if self.weights is None:
            if not n_weights:
                return np.zeros(0)
            if self.random_state is None:
                raise ValueError(
                    f"{name}: {self.feature_map_()!r} has {n_weights} trainable weights on "
                    f"{n_features} features, and they must be the same in every call: pass "
                    "weights=... or an integer random_state (the seed of the feature map's "
                    "initial_weights)"
                )
            weights = self.feature_map_().initial_weights(n_features, self.random_state)
        else:
            weights = np.asarray(self.weights, dtype=np.float64).ravel()
        if weights.shape[0] != n_weights:
            raise ValueError(
                f"{name}: weights has {weights.shape[0]} values, but {self.feature_map_()!r} "
                f"builds a circuit with {n_weights} trainable weights on {n_features} "
                "features"
            )
        if not np.all(np.isfinite(weights)):
            raise ValueError(f"{name}: weights contain NaN or infinity")
        return weights

    def _embed_states(self, states: np.ndarray, X: np.ndarray) -> np.ndarray:
        return states

    def _check_embedding_fits(self, circuit: Circuit, n_rows: int) -> None:
        # The exact representation is the states themselves.
        if resolve_backend(self.backend).exact:
            _check_states_fit(circuit, n_rows, self.max_memory_mb)

    def _embed_sampled(self, backend, circuit: Circuit, X: np.ndarray, max_memory_mb):
        # Overlap circuits need both samples' features, so the representation is the
        # features themselves; the circuits run pair by pair in gram().
        return np.array(X, dtype=np.float64, copy=True)

    def gram(self, A: np.ndarray, B: np.ndarray | None = None) -> np.ndarray:
        """Gram matrix of two representations from :meth:`embed` (``B=None``: ``A`` vs ``A``).

        On a non-exact backend ``A`` and ``B`` are features and the pairs' overlap
        circuits run here; the matrix is then mitigated (``mitigation``) and ``K(A, A)``
        projected onto the PSD cone (``enforce_psd``).

        Parameters
        ----------
        A : ndarray of shape (n_samples_A, width)
            Representation of the rows' samples.
        B : ndarray of shape (n_samples_B, width), default=None
            Representation of the columns' samples; None for ``K(A, A)``.
        """
        backend = resolve_backend(self.backend)
        if backend.exact:
            return super().gram(A, B)
        circuit = self._evaluation_circuit(A.shape[1])
        K = overlap_gram(
            backend,
            circuit,
            A,
            B,
            n_jobs=self.n_jobs,
            max_memory_mb=self.max_memory_mb,
            verbose=self.verbose,
            name=type(self).__name__,
        )
        if self.mitigation is not None and K.size:
            K = self._mitigate(backend, circuit, K, A, B)
        if B is None and self.enforce_psd:
            K = project_psd(K)
        return K

    def bind_training(self, A: np.ndarray) -> FidelityQuantumKernel:
        """This kernel with the noise estimate of ``mitigation`` fixed on training data ``A``.

        Without mitigation, or on an exact backend, the kernel itself. Otherwise a copy that
        holds the measured diagonal entries ``k(x, x)`` of ``A`` (the first row only for
        ``"single"``) and the noise rate ``noise_rate_``: later Gram matrices reuse them
        instead of measuring the training samples again, and every ``K(X_test, A)`` is
        mitigated with the training set's noise estimate.

        Parameters
        ----------
        A : ndarray of shape (n_samples, n_features)
            Representation of the training samples, from :meth:`embed`.
        """
        backend = resolve_backend(self.backend)
        if self.mitigation is None or backend.exact:
            return self
        self._validate_params()
        circuit = self._evaluation_circuit(A.shape[1])
        rows = np.array(A[:1] if self.mitigation == "single" else A, dtype=np.float64)
        diagonal = self._measure_diagonal(backend, circuit, rows)
        dim = 2**circuit.n_qubits
        bound = clone(self)
        bound._training_diagonal = {"rows": rows, "diagonal": diagonal}
        if self.mitigation == "split_channel":
            halves = split_noise_rates(diagonal, dim)  # refuses fully depolarized entries
            bound.noise_rate_ = float(np.mean(1 - (1 - halves) ** 2))
        else:
            bound.noise_rate_ = global_noise_rate(diagonal, self.mitigation, dim)
        return bound

    def _mitigate(self, backend, circuit, K, A, B) -> np.ndarray:
        """Depolarizing-noise mitigation of a measured Gram matrix (see ``mitigation``)."""
        dim = 2**circuit.n_qubits
        if self.mitigation == "split_channel":
            rows = self._diagonal(backend, circuit, A)
            cols = rows if B is None else self._diagonal(backend, circuit, B)
            rate = pair_noise_rates(rows, cols, dim)
        elif "noise_rate_" in self.__dict__:
            # Bound at fit: the device's rate estimated on the training set, for every matrix.
            rate = self.noise_rate_
        else:
            reference = A if B is None else B
            if self.mitigation == "single":
                reference = reference[:1]
            diagonal = self._diagonal(backend, circuit, reference)
            rate = global_noise_rate(diagonal, self.mitigation, dim)
        K = apply_noise_rate(K, rate, dim)
        if B is None:
            np.fill_diagonal(K, 1.0)  # the exact value, as without mitigation
        return K

    def _diagonal(self, backend, circuit, X: np.ndarray) -> np.ndarray:
        """Measured ``k(x, x)`` of each row: stored at fit when known, measured otherwise."""
        X = np.ascontiguousarray(X, dtype=np.float64)
        out = np.empty(X.shape[0])
        missing = np.ones(X.shape[0], dtype=bool)
        known = self.__dict__.get("_training_diagonal")
        if known is not None:
            values = dict(
                zip((r.tobytes() for r in known["rows"]), known["diagonal"], strict=True)
            )
            for i, row in enumerate(X):
                value = values.get(row.tobytes())
                if value is not None:
                    out[i], missing[i] = value, False
        if missing.any():
            out[missing] = self._measure_diagonal(backend, circuit, X[missing])
        return out

    def _measure_diagonal(self, backend, circuit, X: np.ndarray) -> np.ndarray:
        """Run each row's overlap circuit with itself, ``U(x)^dagger U(x)``."""
        start = time.perf_counter()
        chunks = block_slices(X.shape[0], _DIAGONAL_ROWS)
        run = partial(_diagonal_chunk, backend, circuit, self.max_memory_mb)
        parts = map_blocks(run, [(X[s],) for s in chunks], self.n_jobs, threads=False)
        self._progress().message(
            f"measured k(x, x) of {X.shape[0]} samples for mitigation in "
            f"{format_seconds(time.perf_counter() - start)}"
        )
        return np.concatenate(parts) if parts else np.empty(0)

    @staticmethod
    def _gram_block(A, B):
        K = fidelity_block(A, B)
        return np.clip(K, 0.0, 1.0, out=K)

    def _gram_inputs(self, A: np.ndarray) -> np.ndarray:
        # Up to 16 amplitudes, the density features of the states (once, not per block).
        return fidelity_inputs(A)

    def _gram_input_row_bytes(self, A: np.ndarray) -> int:
        return fidelity_input_row_bytes(A.shape[1])


# Diagonal entries per joblib task (one backend call each).
_DIAGONAL_ROWS = 64


def _diagonal_chunk(backend, circuit, max_memory_mb, X: np.ndarray) -> np.ndarray:
    # One batch of the overlap circuits U(x)^dagger U(x), one per row.
    return backend.paired_overlaps(circuit, X, X, max_memory_mb=max_memory_mb)


_PAULI_INDEX = {"X": 0, "Y": 1, "Z": 2}

# Data-adaptive rules of the projected kernel's gamma (see ProjectedQuantumKernel).
GAMMA_RULES = ("scale", "bowles2024")


def _bloch_block(kernel, backend, circuit, max_memory_mb, X: np.ndarray) -> np.ndarray:
    states = backend.statevectors(circuit, X, max_memory_mb=max_memory_mb)
    return kernel._embed_states(states, X)


class ProjectedQuantumKernel(QuantumKernel):
    """Projected quantum kernel of Huang et al. (2021).

    ``k(x, y) = exp(-gamma * sum_q sum_{P in measurement} (<P_q>_x - <P_q>_y)^2)``, where
    ``<P_q>_x`` is the expectation of Pauli ``P`` on qubit ``q`` in the state ``phi(x)``
    (the one-qubit reduced density matrices, projected out of the full state).

    Parameters
    ----------
    feature_map : FeatureMap, default=None
        Encoding circuit; ``None`` means ``HeisenbergEmbedding()``.
    gamma : float, "scale" or "bowles2024", default="scale"
        Width of the RBF kernel on the Bloch vectors, or a rule that reads it from the Bloch
        vectors ``a`` of the second argument (``Y``, or ``X`` when ``Y`` is None; in
        sklearn's calls ``K(X_test, X_train)`` that is the training set, and the estimators
        fix it at fit). ``"scale"``: ``1 / sum_j Var(a_j)``, the column variances summed,
        so that the mean exponent over pairs is 2, as with ``SVC(gamma="scale")`` on
        standardised features (the Bloch vectors' columns have different means, which must
        not count as spread). ``"bowles2024"``: ``1 / (n_features * Var)`` with ``Var`` the
        variance of all entries together, the scaling of Bowles et al. (2024).
    measurement : str, default="XYZ"
        Which one-qubit Paulis to use, any non-empty subset of ``"XYZ"``.
    backend : str or Backend, default="statevector"
        Where the circuits run.
    bandwidth : float or "scale", default="scale"
        Features are multiplied by it before encoding. ``"scale"`` chooses it from the
        training data by the median heuristic in the metric of the embedding's states, as
        for :class:`FidelityQuantumKernel`; a number keeps the features as they are scaled.
    n_jobs : int, default=None
        Parallel jobs (joblib).
    max_memory_mb : float, default=None
        Memory budget of a call (MiB): blocks of states, the Bloch vectors, the Gram matrix
        and its blocks; default half the available memory. What cannot fit raises
        ``SimulationMemoryError`` up front.
    verbose : int, default=0
        Print progress of the Gram-matrix blocks to stdout (``1``: about 10 lines per matrix,
        ``2``: about 20); ``0`` is silent.

    Examples
    --------
    >>> import numpy as np
    >>> from skqml.circuits import AngleEmbedding
    >>> from skqml.kernels import ProjectedQuantumKernel
    >>> kernel = ProjectedQuantumKernel(
    ...     AngleEmbedding(), measurement="Z", gamma=0.5, bandwidth=1.0
    ... )
    >>> X = np.array([[0.0], [np.pi]])  # Bloch vectors (0, 0, 1) and (0, 0, -1)
    >>> kernel(X).round(4)
    array([[1.    , 0.1353],
           [0.1353, 1.    ]])
    """

    def __init__(
        self,
        feature_map: FeatureMap | None = None,
        *,
        gamma: float | str = "scale",
        measurement: str = "XYZ",
        backend="statevector",
        bandwidth: float | str = "scale",
        n_jobs: int | None = None,
        max_memory_mb: float | None = None,
        verbose: int = 0,
    ):
        self.feature_map = feature_map
        self.gamma = gamma
        self.measurement = measurement
        self.backend = backend
        self.bandwidth = bandwidth
        self.n_jobs = n_jobs
        self.max_memory_mb = max_memory_mb
        self.verbose = verbose

    _parameter_constraints: dict = {
        **QuantumKernel._parameter_constraints,
        "gamma": [Interval(Real, 0, None, closed="neither"), StrOptions(set(GAMMA_RULES))],
    }

    def _default_feature_map(self) -> FeatureMap:
        return HeisenbergEmbedding()

    def _paulis(self) -> list[int]:
        # A set of one-qubit Pauli letters measured on every qubit, not a Pauli string.
        m = self.measurement
        if not isinstance(m, str) or not m or set(m.upper()) - set("XYZ"):
            raise ValueError(f"measurement must be a non-empty subset of 'XYZ', got {m!r}")
        return sorted({_PAULI_INDEX[c] for c in m.upper()})

    def _embed_states(self, states: np.ndarray, X: np.ndarray) -> np.ndarray:
        bloch = single_qubit_expectations(states)[:, :, self._paulis()]
        return bloch.reshape(states.shape[0], -1)

    def _embed_exact(self, backend, circuit: Circuit, X: np.ndarray, max_memory_mb):
        # The Bloch vectors are small: simulate blocks of rows and keep only their vectors,
        # so that few blocks' states (and their working copies) exist at a time.
        width = circuit.n_qubits * len(self._paulis())
        held = 8 * width * X.shape[0]
        slices, workers, block_mb = _simulation_blocks(
            circuit, X.shape[0], max_memory_mb, held, self.n_jobs
        )
        run = partial(_bloch_block, self, backend, circuit, block_mb)
        parts = map_blocks(run, [(X[s],) for s in slices], workers)
        return np.concatenate(parts) if parts else np.empty((0, width))

    def _embed_sampled(self, backend, circuit: Circuit, X: np.ndarray, max_memory_mb):
        # Bloch vectors from shot-based <X_q>, <Y_q>, <Z_q> (one measurement basis per
        # Pauli), in the exact path's order: qubit-major, Pauli-minor.
        n = circuit.n_qubits
        labels = ["I" * (n - 1 - q) + "XYZ"[p] + "I" * q for q in range(n) for p in self._paulis()]
        return _expectation_blocks(backend, circuit, labels, X, max_memory_mb, self.n_jobs)

    def _gamma(self, reference: np.ndarray) -> float:
        """``gamma`` as a number; the data-adaptive rules read the Bloch vectors ``reference``."""
        gamma = self.gamma
        if isinstance(gamma, str):  # the constraint admits "scale" and "bowles2024" only
            if gamma == "scale":
                # E||a_x - a_y||**2 = 2 sum_j Var(a_j) over independent samples: the mean
                # exponent is 2, as with SVC(gamma="scale") on standardised features.
                spread = float(np.var(reference, axis=0).sum()) if reference.size else 0.0
            else:
                spread = self._n_features_of(reference) * float(np.var(reference))
            return 1.0 / spread if spread > 0 else 1.0
        return check_real(gamma, "gamma", 0, strict=True)

    @staticmethod
    def _gamma_reference(A: np.ndarray, B: np.ndarray | None) -> np.ndarray:
        """The Bloch vectors a width rule reads in ``gram(A, B)``: the columns' samples."""
        return A if B is None else B

    def bind_training(self, A: np.ndarray) -> ProjectedQuantumKernel:
        """A copy with ``gamma="scale"`` replaced by its value on the training set ``A``.

        Parameters
        ----------
        A : ndarray of shape (n_samples, width)
            Bloch vectors of the training samples, from :meth:`embed`.
        """
        if isinstance(self.gamma, str):
            return clone(self).set_params(gamma=self._gamma(A))
        return self

    def _n_features_of(self, embedding: np.ndarray) -> int:
        """Number of input features behind Bloch-vector rows (inverts the qubit count)."""
        n_qubits = embedding.shape[1] // len(self._paulis())
        fm = self.feature_map_()
        for n_features in range(1, n_qubits + 1):
            if fm.n_qubits(n_features) == n_qubits:
                return n_features
        raise ValueError(f"no feature count maps to {n_qubits} qubits with {fm!r}")

    def gram(self, A, B=None):
        """RBF Gram matrix of Bloch vectors from :meth:`embed` (``B=None``: ``A`` vs ``A``).

        Parameters
        ----------
        A : ndarray of shape (n_samples_A, width)
            Bloch vectors of the rows' samples.
        B : ndarray of shape (n_samples_B, width), default=None
            Bloch vectors of the columns' samples; None for ``K(A, A)``. ``gamma="scale"``
            reads its variance from ``B`` (or ``A`` when None).
        """
        gamma = self._gamma(self._gamma_reference(A, B))
        return gram_matrix(
            lambda a, b: self._rbf_block(a, b, gamma),
            A,
            B,
            block_rows=self._block_rows(A, B),
            n_jobs=self.n_jobs,
            verbose=self.verbose,
            name=type(self).__name__,
        )

    @staticmethod
    def _rbf_block(A, B, gamma):
        other = A if B is None else B
        products = A @ other.T
        if B is None:
            # A @ A.T from BLAS need not be symmetric to the last bit (its edge kernels
            # order the sums by tile shape); the block of a symmetric Gram matrix must be.
            products = 0.5 * (products + products.T)
        sq = (
            np.einsum("ij,ij->i", A, A)[:, None]
            + np.einsum("ij,ij->i", other, other)[None, :]
            - 2 * products
        )
        np.maximum(sq, 0.0, out=sq)
        K = np.exp(-gamma * sq)
        if B is None:
            np.fill_diagonal(K, 1.0)
        return K
