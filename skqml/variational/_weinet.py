"""WeiNet of Bowles et al. (2024), after the quantum convolutional network of Wei et al. (2022).

An image is amplitude-encoded; one of several fixed shift operators (cyclic shifts of the
image's rows and columns, the building blocks of a 3 x 3 convolution) acts on it, chosen at
random with trainable probabilities; one-qubit ``<Z>`` and two-qubit ``<ZZ>`` values of all
but two qubits (the lowest row and column bits, traced out as pooling) feed a trainable
linear read-out. A shift only permutes the amplitudes, so the shifted state is the amplitude
encoding of the shifted image, and nothing else in the circuit is trained.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from math import ceil, isqrt, log2

import numpy as np
from scipy.special import softmax
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils._param_validation import StrOptions

from .._study_classifier import LogitOutput, StudyClassifier
from ..backends import resolve_backend
from ..backends._registry import BACKEND_CONSTRAINT
from ..circuits._amplitude import amplitude_angles, amplitude_circuit
from ..simulator._memory import require_memory

__all__ = ["WeiNet"]

_SHIFTS = (-1, 0, 1)


def _pauli_z_signs(n_qubits: int) -> tuple[np.ndarray, list[tuple[int, ...]]]:
    """Signs of the measured ``Z`` products on every basis state, and their wires.

    Wires are numbered as the study's (wire 0: the most significant bit of the amplitude
    index, so wires ``0..n/2-1`` hold the row and the rest the column). Measured: ``Z_i`` and
    ``Z_i Z_j`` (``i < j``) on every wire but ``n/2 - 1`` and ``n - 1``, then the identity.
    """
    kept = [w for w in range(n_qubits - 1) if w != n_qubits // 2 - 1]
    wires = [(i,) for i in kept]
    for i, j in combinations(kept, 2):
        wires.append((i, j))
    # The study lists Z_i and then its pairs Z_i Z_j, wire by wire.
    wires.sort(key=lambda w: (w[0], len(w), w[-1]))
    wires.append(())
    index = np.arange(2**n_qubits)
    bits = (index[None, :] >> (n_qubits - 1 - np.arange(n_qubits))[:, None]) & 1
    signs = np.array([(-1.0) ** bits[list(w)].sum(axis=0) for w in wires])
    return signs, wires


@dataclass(frozen=True)
class WeiNetModel:
    """WeiNet's fixed parts: where it runs, the image size, the operators' shifts and the
    measured ``Z`` products (their wires and signs); the encoding circuit on sampling
    backends."""

    backend: object
    n_qubits: int
    side: int
    shifts: list[tuple[int, int]]
    wires: list[tuple[int, ...]]
    signs: np.ndarray
    circuit: object


class WeiNet(LogitOutput, StudyClassifier):
    """WeiNet of Bowles et al. (2024) (after Wei et al. 2022): a quantum convolution of images.

    Each row of ``X`` is an image, read row by row (``d`` features: side ``ceil(sqrt(d))``,
    zero-padded at the end when ``d`` is not a square; the study's data are square images),
    multiplied by ``scaling`` and zero-padded to ``2**k x 2**k`` pixels. It is
    amplitude-encoded on ``2k`` qubits (at least 4). A shift operator ``Q``, cyclically moving
    the rows by ``a`` and the columns by ``b`` (``a, b`` in ``{-1, 0, 1}``: the nine positions
    of a 3 x 3 convolution window), acts on the state with trainable probability
    ``softmax(s)_Q``, and ``<Z_i>`` and ``<Z_i Z_j>`` are measured on all qubits but the
    lowest bit of the row and of the column (pooling), plus a constant 1. The output is
    ``f = w . sum_Q softmax(s)_Q <obs>_Q``, ``P(classes_[1]) = sigmoid(f)``, trained by the
    sigmoid cross-entropy with the study's loop. Initial ``s`` standard normal, ``w`` normal
    divided by the number of observables, as in the study.

    A shift permutes the amplitudes, so its state is the amplitude encoding of the shifted
    image: exact backends read the probabilities from the image itself (the state that
    skqml's amplitude-encoding circuit prepares, exactly); sampling backends run that circuit
    for each shift. Only ``s`` and ``w`` are trained.

    Parameters
    ----------
    filter_name : {"edge_detect", "smooth", "sharpen"}, default="edge_detect"
        The study's filter. In the study's code each shift operator is the filter's entry
        times a shift, divided by the same entry to make it unitary, so the filter does not
        change the model; it is accepted so that the study's grid applies, and it does not
        change skqml's model either.
    learning_rate : float, default=0.1
        Adam's step size.
    batch_size : int, default=32
        Samples per step, drawn with replacement.
    max_steps : int, default=10000
        Maximum number of training steps.
    convergence_interval : int, default=200
        Steps per interval of the convergence test (see
        :func:`~skqml._optim.interval_descent`).
    scaling : float, default=1.0
        Factor applied to the pixels (the amplitude encoding normalises each image, so it
        does not change the model).
    as_coded : bool, default=False
        ``True``: the study's code, whose nine operators are the diagonal shifts ``a = b``,
        each three times (it builds ``kron(V[nu][nu], V[nu][mu])`` where ``V[nu][mu]``
        depends on ``nu`` only); ``False``: the nine shifts of the window.
    backend : str, Backend or None, default="statevector"
        Where the amplitude encodings are measured.
    random_state : int, Generator or None, default=None
        Seeds the initial weights and the mini-batches.
    max_memory_mb : float, default=None
        Memory budget (MiB) of the ``2**(2k)``-sized arrays of a batch.

    Attributes
    ----------
    weights_ : ndarray of shape (9 + n_observables,)
        Trained ``s`` (the operators' logits) then ``w`` (the read-out).
    mixture_ : ndarray of shape (9,)
        ``softmax(s)``: the probability of each operator.
    shifts_ : list of (int, int)
        The row and column shift of each operator.
    observables_ : list of tuple
        The wires of each measured ``Z`` product (the study's wire order; ``()`` is the
        constant).
    backend_ : Backend
        The resolved backend.
    loss_curve_, converged_, n_iter_, classes_, n_features_in_
        As in :class:`IQPVariationalClassifier`.
    scaler_ : FunctionTransformer
        The identity (the study does not scale the pixels).
    n_qubits_ : int
        Qubits of the amplitude encoding.

    Examples
    --------
    >>> import numpy as np
    >>> from skqml.variational import WeiNet
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(2, size=200)
    >>> X = rng.uniform(size=(200, 16))  # 4 x 4 images
    >>> X[:, :8] += y[:, None]  # class 1: the upper half is brighter
    >>> clf = WeiNet(learning_rate=0.1, random_state=0).fit(X[:150], y[:150])
    >>> clf.n_qubits_, len(clf.observables_), bool(clf.score(X[150:], y[150:]) > 0.9)
    (4, 4, True)
    """

    _parameter_constraints = {
        **StudyClassifier._parameter_constraints,
        "filter_name": [StrOptions({"edge_detect", "smooth", "sharpen"})],
        "as_coded": ["boolean"],
        "backend": BACKEND_CONSTRAINT,
    }

    def __init__(
        self,
        filter_name: str = "edge_detect",
        learning_rate: float = 0.1,
        batch_size: int = 32,
        max_steps: int = 10000,
        convergence_interval: int = 200,
        *,
        scaling: float = 1.0,
        as_coded: bool = False,
        backend="statevector",
        random_state=None,
        max_memory_mb: float | None = None,
    ):
        self.filter_name = filter_name
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_steps = max_steps
        self.convergence_interval = convergence_interval
        self.scaling = scaling
        self.as_coded = as_coded
        self.backend = backend
        self.random_state = random_state
        self.max_memory_mb = max_memory_mb

    def _scaler(self):
        return FunctionTransformer()

    def _setup(self, n_features, rng):
        side = isqrt(n_features - 1) + 1  # ceil(sqrt(n_features))
        n_qubits = max(2 * ceil(log2(side)), 4)
        require_memory(
            3 * 8 * 2**n_qubits,
            self.max_memory_mb,
            what=f"{type(self).__name__}'s amplitude encoding on {n_qubits} qubits (per image)",
        )
        if self.as_coded:
            shifts = [(a, a) for a in _SHIFTS for _ in range(3)]
        else:
            shifts = [(a, b) for a in _SHIFTS for b in _SHIFTS]
        signs, wires = _pauli_z_signs(n_qubits)
        backend = resolve_backend(self.backend)
        circuit = None if backend.exact else amplitude_circuit(n_qubits)
        model = WeiNetModel(backend, n_qubits, side, shifts, wires, signs, circuit)
        # The study's order of draws: s, then the read-out.
        s = rng.normal(size=len(shifts))
        w = rng.normal(size=signs.shape[0]) / signs.shape[0]
        return model, np.concatenate([s, w]), n_qubits

    def _model_attributes(self, model):
        return {
            "shifts_": list(model.shifts),
            "observables_": list(model.wires),
            "backend_": model.backend,
        }

    @property
    def mixture_(self) -> np.ndarray:
        """``softmax(s)``: the probability of each shift operator."""
        return softmax(self.weights_[: len(self.shifts_)])

    def _images(self, model, X_scaled: np.ndarray) -> np.ndarray:
        """The padded images, shape (samples, 2**k, 2**k)."""
        n, d = X_scaled.shape
        size = 2 ** (model.n_qubits // 2)
        square = np.zeros((n, model.side * model.side))
        square[:, :d] = X_scaled
        images = np.zeros((n, size, size))
        images[:, : model.side, : model.side] = square.reshape(n, model.side, model.side)
        return images

    def _observables(self, model, X_scaled: np.ndarray) -> np.ndarray:
        """The measured values of every sample and operator, shape (samples, 9, obs)."""
        n = X_scaled.shape[0]
        dim = 2**model.n_qubits
        require_memory(
            3 * 8 * dim * n,
            self.max_memory_mb,
            what=f"{type(self).__name__}'s amplitude encodings of {n} images",
        )
        images = self._images(model, X_scaled)
        if not np.all(np.any(images != 0, axis=(1, 2))):
            raise ValueError(
                f"{type(self).__name__} amplitude-encodes each image: an image of zeros has "
                "no state; remove it or add a constant to the pixels"
            )
        if model.backend.exact:
            # The probabilities of the unshifted state; a shift permutes them as it does the
            # amplitudes.
            images = images**2
            images /= images.sum(axis=(1, 2), keepdims=True)
        out = np.empty((n, len(model.shifts), model.signs.shape[0]))
        for q, (a, b) in enumerate(model.shifts):
            # The operator moves amplitude (r + a, c + b) to (r, c), cyclically.
            shifted = np.roll(images, (-a, -b), axis=(1, 2)).reshape(n, dim)
            if model.backend.exact:
                P = shifted
            else:
                P = model.backend.probabilities(
                    model.circuit, amplitude_angles(shifted), max_memory_mb=self.max_memory_mb
                )
            out[:, q] = P @ model.signs.T
        return out

    def _output(self, model, X_scaled, theta, cotangent=None):
        k = len(model.shifts)
        s, w = theta[:k], theta[k:]
        p = softmax(s)
        O = self._observables(model, X_scaled)
        mixed = np.einsum("q,nqo->no", p, O)
        f = mixed @ w
        if cotangent is None:
            return f, None
        g = cotangent(f)
        grad_p = np.einsum("n,nqo,o->q", g, O, w)
        grad_s = p * (grad_p - p @ grad_p)  # through the softmax
        return f, np.concatenate([grad_s, mixed.T @ g])
