"""The quanvolution of Henderson et al. (2019), as Bowles, Ahmed and Schuld (2024) use it in
their ``QuanvolutionalNeuralNetwork``: a fixed convolution of binarised images whose filters
are random circuits, as a scikit-learn transformer.

A binarised patch of ``q x q`` pixels has only ``2**(q*q)`` possible values, so each channel's
output for every possible patch is computed once at fit (a lookup table, one circuit run per
patch pattern) and :meth:`Quanvolution.transform` only indexes it.
"""

from __future__ import annotations

from math import isqrt, pi
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.preprocessing import MinMaxScaler
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted, validate_data

from .._estimator import fit_context, set_fitted
from .._study_classifier import FEATURE_RANGE
from .._validation import MAX_MEMORY_MB_CONSTRAINT
from ..backends import resolve_backend
from ..backends._registry import BACKEND_CONSTRAINT
from ..circuits import Circuit, Operation, feature
from ..simulator._memory import remaining_budget_mb, rows_per_chunk

__all__ = ["Quanvolution"]

# PennyLane's RandomLayers defaults, which the study keeps: the probability that a draw
# places a CNOT instead of a rotation, and the rotations, in PennyLane's order (the draws
# index into it).
_RATIO_IMPRIMITIVE = 0.3
_ROTATIONS = ("rx", "ry", "rz")

# The largest patch: its table needs 2**n simulations of n qubits (4**n amplitudes per gate).
# 9 qubits (qkernel_shape=3) take a third of a second per channel; 16 (qkernel_shape=4) would
# take 65,536 runs of 16-qubit circuits, over an hour per channel on one core.
_MAX_PATCH_QUBITS = 9


def _random_layers(n_qubits: int, weights: np.ndarray, seed: int) -> list[Operation]:
    """The gates of PennyLane's ``RandomLayers(weights, wires=range(n_qubits), seed=seed)``.

    Drawn by the same calls on ``numpy.random.default_rng(seed)``, in the same order, as in
    PennyLane 0.34 (the study's) to 0.45: per layer, until its ``len(weights[l])`` rotations
    are placed, a uniform above the ratio places the next rotation (type, then qubit), any
    other a CNOT on two distinct random qubits (control first). On one qubit no CNOT is
    placed, but the uniform is drawn all the same.
    """
    rng = np.random.default_rng(seed)
    operations = []
    for layer in np.asarray(weights, dtype=float):
        placed = 0
        while placed < layer.shape[0]:
            if rng.random() > _RATIO_IMPRIMITIVE:
                gate = _ROTATIONS[rng.choice(len(_ROTATIONS))]
                (qubit,) = rng.choice(n_qubits, size=1, replace=False)
                operations.append(Operation(gate, (int(qubit),), (float(layer[placed]),)))
                placed += 1
            elif n_qubits > 1:
                control, target = rng.choice(n_qubits, size=2, replace=False)
                operations.append(Operation("cnot", (int(control), int(target))))
    return operations


def _channel_circuit(n_qubits: int, weights: np.ndarray, seed: int) -> Circuit:
    """``RY(pi * x_k)`` on every qubit ``k`` (a binary pixel: ``|x_k>``), then the random
    layers of the channel."""
    encoding = [Operation("ry", (k,), (pi * feature(k),)) for k in range(n_qubits)]
    return Circuit(n_qubits, [*encoding, *_random_layers(n_qubits, weights, seed)])


def _bit_reversal(n_bits: int) -> np.ndarray:
    """``order[j]``: the little-endian index of the bitstring whose big-endian index is ``j``
    (the bits of ``j`` reversed)."""
    j = np.arange(2**n_bits)
    return sum(((j >> k) & 1) << (n_bits - 1 - k) for k in range(n_bits))


def _lookup_table(backend, circuits: list[Circuit], max_memory_mb) -> np.ndarray:
    """Each channel's value on every binary patch: the Hamming weight of the most probable
    outcome, first maximum in PennyLane's order (as the study's ``argmax``).

    Returns an array of shape ``(n_channels, 2**n_qubits)``: entry ``[c, p]`` is channel ``c``
    on the patch whose pixel ``k`` is bit ``k`` of ``p``.
    """
    n = circuits[0].n_qubits
    n_patterns = 2**n
    patterns = ((np.arange(n_patterns)[:, None] >> np.arange(n)) & 1).astype(float)
    pennylane_order = _bit_reversal(n)
    # The number of ones of each index (the same for its bits reversed).
    hamming = patterns.sum(axis=1).astype(np.uint8)
    table = np.empty((len(circuits), n_patterns), dtype=np.uint8)
    what = "the quanvolution's lookup table"
    held = table.nbytes + patterns.nbytes + pennylane_order.nbytes + hamming.nbytes
    # A pattern's row: its outcome probabilities and their copy in PennyLane's order, in
    # half the budget; the backend runs the circuits in what is left.
    per_row = 2 * 8.0 * n_patterns
    rows = rows_per_chunk(
        per_row, max_memory_mb, what=what, n_qubits=n, fixed_bytes=held, share=0.5
    )
    for channel, circuit in enumerate(circuits):
        for start in range(0, n_patterns, rows):
            stop = min(start + rows, n_patterns)
            left = remaining_budget_mb(max_memory_mb, held + (stop - start) * per_row, what)
            probs = backend.probabilities(circuit, patterns[start:stop], max_memory_mb=left)
            first_max = np.argmax(probs[:, pennylane_order], axis=1)
            table[channel, start:stop] = hamming[first_max]
    return table


class Quanvolution(TransformerMixin, BaseEstimator):
    """Quanvolution: a fixed convolution of binarised images by random quantum circuits.

    The quantum layer of the ``QuanvolutionalNeuralNetwork`` of Bowles, Ahmed and Schuld
    (2024) (after Henderson et al. 2019), with the study's parameter names, as a transformer
    whose features any scikit-learn estimator takes (the study feeds them to a CNN).

    1. The images come as flat rows of ``side * side`` pixels, row by row (the study's CSV
       layout). Every pixel is scaled to ``[-pi/2, pi/2]`` by a ``MinMaxScaler`` fitted on
       the training images, then binarised: 1 where it exceeds ``threshold``, else 0.
    2. Every ``q x q`` patch (``q = qkernel_shape``; stride 1, no padding) is loaded on
       ``q * q`` qubits, pixel ``(r, c)`` of the patch on qubit ``r * q + c`` by
       ``RY(pi * pixel)``, which prepares ``|pixel>``.
    3. Each of the ``n_qchannels`` channels applies its fixed random circuit: PennyLane's
       ``RandomLayers`` with ``rand_depth`` layers of ``rand_rot`` rotations. Each draw
       places, with probability 0.7, a rotation ``RX``, ``RY`` or ``RZ`` (equally likely) on
       a random qubit, by the layer's next weight, and otherwise a CNOT on two random
       distinct qubits; the weights are uniform in ``[0, 2 pi)``.
    4. The channel's value is the Hamming weight (number of ones) of the most probable
       computational-basis outcome.

    A binarised patch takes one of ``2**(q*q)`` values (16 for ``q = 2``, 512 for ``q = 3``),
    so :meth:`fit` runs every channel's circuit once on each of them and keeps the values
    (``lookup_table_``); :meth:`transform` only reads patches and indexes that table.

    Parameters
    ----------
    qkernel_shape : int, default=2
        Side ``q`` of the square patches: circuits of ``q * q`` qubits. At most 3, as in
        the study (2 or 3): the table of ``q = 4`` would need 65,536 runs of 16-qubit
        circuits per channel.
    n_qchannels : int, default=1
        Number of output channels (random circuits).
    rand_depth : int, default=10
        Layers of each random circuit.
    rand_rot : int, default=20
        Rotations per layer.
    threshold : float, default=0.0
        Binarisation threshold, on the scaled pixels in ``[-pi/2, pi/2]`` (0: the middle of
        each pixel's training range).
    architecture_seed : int or None, default=42
        Seed of the random gates and qubits (PennyLane's ``seed`` of ``RandomLayers``). The
        default, 42, is PennyLane's, which the study keeps: every channel then has the same
        gates on the same qubits and the channels differ only by their weights. ``None``:
        each channel's seed is drawn from ``random_state``.
    backend : str, Backend or None, default="statevector"
        Where the circuits run. On an exact backend the most probable outcome comes from the
        exact probabilities; on a sampling backend (``"shots"``, a device), from the
        frequencies of the backend's shots, measured once per patch value at fit, so every
        occurrence of a patch value gets the same channel value.
    random_state : int or None, default=None
        Seeds the weights and, with ``architecture_seed=None``, the architectures.
    max_memory_mb : float, default=None
        Memory budget of the table's simulation (MiB); refused up front if it cannot fit.

    Attributes
    ----------
    scaler_ : MinMaxScaler
        The pixel scaling to ``[-pi/2, pi/2]``, fitted on the training images.
    circuits_ : list of Circuit
        Each channel's circuit on ``n_qubits_`` qubits: the ``RY(pi * x_k)`` loading of the
        patch (``x_k``: pixel ``k``), then the random layers.
    weights_ : ndarray of shape (n_qchannels, rand_depth, rand_rot)
        The rotation angles of each channel's random layers.
    architecture_seeds_ : ndarray of shape (n_qchannels,)
        Each channel's architecture seed: ``RandomLayers(weights_[c],
        wires=range(n_qubits_), seed=architecture_seeds_[c])`` is channel ``c``'s circuit.
    lookup_table_ : ndarray of shape (n_qchannels, 2**n_qubits_)
        Entry ``[c, p]``: channel ``c``'s value on the patch whose pixel ``k`` (row-major)
        is bit ``k`` of ``p``.
    n_qubits_ : int
        Qubits per circuit, ``qkernel_shape**2``.
    image_shape_ : tuple of int
        ``(side, side)``, the images' shape.
    output_shape_ : tuple of int
        ``(side - q + 1, side - q + 1, n_qchannels)``: the shape of one transformed image.
    n_features_in_ : int
        Number of pixels seen in fit.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of the pixels seen in fit, when they have string names.

    Notes
    -----
    Output order: ``transform(X).reshape(-1, *output_shape_)[s, i, j, c]`` is channel ``c``
    of image ``s`` on the patch whose top-left pixel is in row ``i`` and column ``j``. The
    study's code lists the patches column by column and reshapes them row by row, so its
    CNN sees this map transposed: ``.transpose(0, 2, 1, 3)`` of the above is the study's
    CNN input.

    Ties: the most probable outcome is the first maximum in PennyLane's order of the
    outcomes (qubit 0 the most significant bit), as the study's ``argmax`` over
    ``qml.probs``. Exact probabilities of random circuits rarely tie, but two outcomes
    within rounding of each other may be ordered differently by another simulator; with few
    shots, ties are common.

    The random gates are drawn exactly as PennyLane's ``RandomLayers`` draws them, so the
    architecture is the study's. The study draws its weights with JAX
    (``jax.random.uniform`` from keys of its ``random_state``), which numpy cannot
    reproduce: for a given ``random_state`` the weights, hence the table, differ from the
    study's, by the same construction. The study's model also multiplies the scaled pixels
    by ``scaling`` (default 1) before binarising; ``threshold / scaling`` is equivalent.

    References
    ----------
    M. Henderson, S. Shakya, S. Pradhan and T. Cook, "Quanvolutional neural networks:
    powering image recognition with quantum circuits", arXiv:1904.04767 (2019).
    J. Bowles, S. Ahmed and M. Schuld, "Better than classical? The subtle art of
    benchmarking quantum machine learning models", arXiv:2403.07059 (2024).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from skqml.datasets import make_bars_and_stripes
    >>> from skqml.preprocessing import Quanvolution
    >>> X, y = make_bars_and_stripes(200, height=8, width=8, random_state=0)
    >>> quanv = Quanvolution(n_qchannels=2, random_state=0).fit(X)
    >>> features = quanv.transform(X)
    >>> features.shape, quanv.output_shape_
    ((200, 98), (7, 7, 2))
    >>> features.reshape(-1, *quanv.output_shape_).shape  # images of channel values
    (200, 7, 7, 2)
    >>> model = make_pipeline(Quanvolution(random_state=0), LogisticRegression())
    >>> bool(model.fit(X[:150], y[:150]).score(X[150:], y[150:]) > 0.9)
    True
    """

    _parameter_constraints: dict = {
        "qkernel_shape": [Interval(Integral, 1, None, closed="left")],
        "n_qchannels": [Interval(Integral, 1, None, closed="left")],
        "rand_depth": [Interval(Integral, 1, None, closed="left")],
        "rand_rot": [Interval(Integral, 1, None, closed="left")],
        "threshold": [Interval(Real, None, None, closed="neither")],
        "architecture_seed": [None, Interval(Integral, 0, None, closed="left")],
        "backend": BACKEND_CONSTRAINT,
        "random_state": [None, Interval(Integral, 0, None, closed="left")],
        "max_memory_mb": MAX_MEMORY_MB_CONSTRAINT,
    }

    def __init__(
        self,
        qkernel_shape: int = 2,
        n_qchannels: int = 1,
        rand_depth: int = 10,
        rand_rot: int = 20,
        threshold: float = 0.0,
        *,
        architecture_seed: int | None = 42,
        backend="statevector",
        random_state: int | None = None,
        max_memory_mb: float | None = None,
    ):
        self.qkernel_shape = qkernel_shape
        self.n_qchannels = n_qchannels
        self.rand_depth = rand_depth
        self.rand_rot = rand_rot
        self.threshold = threshold
        self.architecture_seed = architecture_seed
        self.backend = backend
        self.random_state = random_state
        self.max_memory_mb = max_memory_mb

    def _image_side(self, n_features: int) -> int:
        q = int(self.qkernel_shape)
        if q * q > _MAX_PATCH_QUBITS:
            raise ValueError(
                f"qkernel_shape={q} means {q * q} qubits and a lookup table of 2**{q * q} "
                f"patch values, each a {q * q}-qubit simulation (over an hour per channel for "
                "qkernel_shape=4): use qkernel_shape <= 3 (the study used 2 and 3)"
            )
        side = isqrt(n_features)
        if side * side != n_features:
            raise ValueError(
                f"Quanvolution takes square images as flat rows of side*side pixels; got "
                f"n_features={n_features}, which is not a perfect square: pad or crop the "
                "images to a square first"
            )
        if side < q:
            raise ValueError(
                f"the images have n_features={n_features} ({side}x{side} pixels), fewer than "
                f"one {q}x{q} patch of qkernel_shape={q}: use qkernel_shape <= {side} or "
                "larger images"
            )
        return side

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the pixel scaling, draw the random circuits and tabulate their outputs.

        Parameters
        ----------
        X : array-like of shape (n_samples, side * side)
            Training images, flattened row by row.
        y : None
            Ignored.

        Returns
        -------
        self
            The fitted transformer. If fitting fails, it is left as it was before the call.
        """
        X = validate_data(self, X, dtype=np.float64)
        side = self._image_side(X.shape[1])
        q = int(self.qkernel_shape)
        n_qubits = q * q
        channels = int(self.n_qchannels)
        rng = np.random.default_rng(self.random_state)
        weights = 2 * pi * rng.uniform(size=(channels, self.rand_depth, self.rand_rot))
        if self.architecture_seed is None:
            seeds = rng.integers(2**32, size=channels)
        else:
            seeds = np.full(channels, int(self.architecture_seed))
        circuits = [_channel_circuit(n_qubits, w, s) for w, s in zip(weights, seeds, strict=True)]
        table = _lookup_table(resolve_backend(self.backend), circuits, self.max_memory_mb)
        set_fitted(
            self,
            {
                "scaler_": MinMaxScaler(feature_range=FEATURE_RANGE).fit(X),
                "circuits_": circuits,
                "weights_": weights,
                "architecture_seeds_": seeds,
                "lookup_table_": table,
                "n_qubits_": n_qubits,
                "image_shape_": (side, side),
                "output_shape_": (side - q + 1, side - q + 1, channels),
            },
        )
        return self

    def transform(self, X) -> np.ndarray:
        """Each channel's value on every patch of each image.

        Parameters
        ----------
        X : array-like of shape (n_samples, side * side)
            Images flattened row by row, of the size seen in fit.

        Returns
        -------
        X_new : ndarray of shape (n_samples, (side - q + 1)**2 * n_qchannels)
            Hamming weights in ``0 .. q*q``; reshape to ``(n_samples, *output_shape_)``
            for images of channel values (see Notes of the class).
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        side = self.image_shape_[0]
        m = self.output_shape_[0]
        q = side - m + 1
        pixels = (self.scaler_.transform(X) > self.threshold).reshape(-1, side, side)
        # Each patch's value as an integer: pixel (r, c) of the patch is bit r * q + c.
        patches = np.zeros((X.shape[0], m, m), dtype=np.int64)
        for r in range(q):
            for c in range(q):
                patches |= pixels[:, r : r + m, c : c + m].astype(np.int64) << (r * q + c)
        values = self.lookup_table_[:, patches]  # (channel, sample, row, column)
        return np.moveaxis(values, 0, -1).reshape(X.shape[0], -1).astype(np.float64)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Names of the output features, ``quanvolution_r{i}_c{j}_ch{c}``: channel ``c`` on
        the patch whose top-left pixel is in row ``i`` and column ``j``.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Checked against the pixel names seen in fit, if any; not used in the names.

        Returns
        -------
        feature_names_out : ndarray of str objects
            In the order of :meth:`transform`'s columns.
        """
        check_is_fitted(self)
        _check_feature_names_in(self, input_features)
        rows, columns, channels = self.output_shape_
        names = [
            f"quanvolution_r{i}_c{j}_ch{c}"
            for i in range(rows)
            for j in range(columns)
            for c in range(channels)
        ]
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags
