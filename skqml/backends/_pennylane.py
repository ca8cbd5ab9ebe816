"""PennyLane devices as skqml backends: circuits translated gate by gate, rows broadcast.

A circuit's structure (gate names and qubits) becomes one PennyLane QNode; its angles are
evaluated numerically for the whole batch (:meth:`skqml.circuits.Angle.evaluate`) and passed
as broadcast parameters, so a batch of rows is one QNode call. Devices that broadcast natively
(``default.qubit``) simulate all rows at once; the others (``lightning.qubit``) get the batch
split into single tapes by PennyLane itself.

Wires. skqml qubit ``q`` is PennyLane wire ``q``. PennyLane's ``qml.probs`` is big-endian
over the wires it lists, so listing them in reverse (``n-1, ..., 0``) gives skqml's
little-endian basis index ``sum_q b_q 2**q`` without any reordering afterwards.

Shots. The device computes each row's exact outcome distribution and the shots are drawn
here, one random stream per row keyed by what is run (seed, circuit, weights, the row's
features), with the same streams as :class:`~skqml.backends.ShotsBackend`. A device seed per
QNode call could not give that: PennyLane samples the rows of a broadcast batch from one
generator in sequence, so a row's shots would depend on the rows before it, on
``max_batch_size``, on how kernels tile their pairs and on ``n_jobs``, and ``predict(X[:5])``
would differ from ``predict(X)[:5]``.

Devices that can only sample (hardware plugins) cannot give exact distributions; with
``sampling="device"`` the device draws the shots itself, batch by batch (see the class
notes for what a seed then reproduces).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

from .._optional import import_optional
from .._validation import check_integer
from ..circuits import GATES, Circuit
from ..simulator._memory import state_bytes
from ..simulator._statevector import check_inputs
from ._base import bound_lru, rows_per_batch
from ._sampling import SamplingBackend
from ._seeding import sample_frequencies

__all__ = ["PennyLaneBackend"]

# QNodes kept per thread, least recently used dropped first: plenty for a model's circuit, its
# measurement-basis variants and its overlap circuit, bounded for long grid searches. Devices
# (one per width) likewise: a QNode keeps its own device alive while it is cached.
_MAX_QNODES = 64
_MAX_DEVICES = 16


class PennyLaneBackend(SamplingBackend):
    """Run circuits on a PennyLane device, with all rows of a batch broadcast in one call.

    Parameters
    ----------
    device : str, default="default.qubit"
        Name of an installed PennyLane device, such as ``"default.qubit"`` or
        ``"lightning.qubit"`` (``qml.plugin_devices`` lists them). With ``sampling="skqml"``
        the device must compute probabilities analytically, as every PennyLane simulator
        can; hardware plugins, which can only sample, need ``sampling="device"``.
    shots : int or None, default=None
        ``None``: exact outcome probabilities. An integer: measurements per circuit (per
        sample, per measurement basis, per kernel pair), drawn from the device's exact
        distribution.
    seed : int or None, default=None
        Root of the shot streams. ``None`` draws fresh entropy on every call. Each row gets
        its own stream keyed by a hash of the circuit, weights and features (the streams of
        :class:`ShotsBackend`), so results do not depend on ``max_batch_size``, ``n_jobs``,
        kernel tiles or row order. Unused when ``shots`` is None.
    max_batch_size : int, default=1000
        Rows per QNode call; larger batches are split (fewer rows if the memory budget
        demands it). With ``sampling="skqml"`` it changes neither probabilities nor shots.
    sampling : {"skqml", "device"}, default="skqml"
        Who draws the shots. ``"skqml"``: the device's exact distribution, sampled here with
        one stream per row (reproducible, see ``seed``). ``"device"``: the device measures
        ``shots`` times itself (a QNode with finite shots per batch of rows), as hardware
        plugins and other sample-only devices must; ``seed`` then seeds the device
        (``qml.device(..., seed=seed)``), and needs ``shots``.

    Attributes
    ----------
    exact : bool
        False: kernels run overlap circuits, variational models use parameter shifts.

    See Also
    --------
    ShotsBackend : Finite shots on skqml's own simulator, with closed-form noise.

    Notes
    -----
    Gates map to PennyLane operations with identical matrices; ``sdg``, ``tdg`` and ``sxdg``
    become adjoints of ``S``, ``T`` and ``SX``, and ``multiphase(l)``, which PennyLane lacks,
    becomes ``MultiRZ(l)`` times the global phase ``e^{i l/2}`` (all such phases are applied
    as one ``GlobalPhase`` at the end, so states agree with skqml's, phase included). Circuits
    are translated once per structure (gates and qubits); QNodes and devices are cached
    privately, never pickled, and rebuilt lazily after unpickling or ``clone``.

    With ``sampling="device"`` a seed makes the same calls, in the same order, on one
    thread, give the same counts (the device's generator runs through the batches in
    sequence): a row's shots then depend on the rows batched with it, on ``max_batch_size``,
    on kernel tiles and on ``n_jobs`` (each thread has its own device), and hardware is not
    reproducible at all. Kernel entries and expectations are read off the measured
    frequencies, which the device returns per row.

    Examples
    --------
    >>> import numpy as np
    >>> from skqml.backends import PennyLaneBackend
    >>> from skqml.circuits import Circuit, feature
    >>> circuit = Circuit(2).h(0).cry(feature(0), 0, 1)
    >>> X = np.array([[0.0], [np.pi]])
    >>> PennyLaneBackend().probabilities(circuit, X).round(3)  # index 1 is q0=1, q1=0
    array([[0.5, 0.5, 0. , 0. ],
           [0.5, 0. , 0. , 0.5]])
    >>> sampled = PennyLaneBackend(device="lightning.qubit", shots=1000, seed=0)
    >>> freqs = sampled.probabilities(circuit, X)
    >>> freqs.sum(axis=1), float(freqs[1, 1] + freqs[1, 2])  # 01 and 10 never measured
    (array([1., 1.]), 0.0)
    >>> bool(np.array_equal(freqs, sampled.probabilities(circuit, X)))  # seeded: repeatable
    True
    >>> sampled
    PennyLaneBackend(device='lightning.qubit', seed=0, shots=1000)
    """

    exact = False

    def __init__(
        self,
        device: str = "default.qubit",
        shots: int | None = None,
        seed: int | None = None,
        max_batch_size: int = 1000,
        sampling: str = "skqml",
    ):
        self.device = device
        self.shots = shots
        self.seed = seed
        self.max_batch_size = max_batch_size
        self.sampling = sampling

    # -- pickling ---------------------------------------------------------------------------------
    # -- validation -------------------------------------------------------------------------------
    def _checked(self) -> tuple[int | None, int]:
        if not isinstance(self.device, str) or not self.device:
            raise ValueError(f"device must be a PennyLane device name, got {self.device!r}")
        shots = None if self.shots is None else check_integer(self.shots, "shots", low=1)
        if self.seed is not None:
            check_integer(self.seed, "seed", low=0)
        if self.sampling not in ("skqml", "device"):
            raise ValueError(f"sampling must be 'skqml' or 'device', got {self.sampling!r}")
        if self.sampling == "device" and shots is None:
            raise ValueError(
                "sampling='device' draws the shots on the device: set shots (an integer), "
                "or use sampling='skqml' for exact probabilities"
            )
        return shots, check_integer(self.max_batch_size, "max_batch_size", low=1)

    # -- devices and QNodes -----------------------------------------------------------------------
    def _qml(self):
        return import_optional("pennylane", "pennylane", "PennyLaneBackend")

    def _thread_cache(self):
        # Per thread: a thread-pool joblib backend shares this object, and stateful devices
        # (lightning.qubit keeps its state vector between runs) must not run two circuits
        # at once.
        local = self.__dict__.get("_cache")
        if local is None:
            # A race here only means one thread builds its devices twice.
            local = self.__dict__.setdefault("_cache", threading.local())
        if not hasattr(local, "devices"):
            local.devices, local.qnodes = OrderedDict(), OrderedDict()
        return local

    def _device(self, qml, n_qubits: int, seed: int | None = None):
        cache = self._thread_cache()
        key = (self.device, n_qubits, seed)
        dev = cache.devices.get(key)
        if dev is None:
            if self.device not in qml.plugin_devices:
                installed = ", ".join(sorted(qml.plugin_devices))
                raise ValueError(
                    f"unknown PennyLane device {self.device!r}: install the plugin that "
                    f"provides it; installed devices (qml.plugin_devices): {installed}"
                )
            kwargs = {} if seed is None else {"seed": seed}
            try:
                dev = qml.device(self.device, wires=n_qubits, **kwargs)
            except TypeError as exc:
                if seed is None:
                    raise
                raise ValueError(
                    f"the PennyLane device {self.device!r} takes no seed ({exc}); use seed=None"
                ) from exc
            cache.devices[key] = dev
            bound_lru(cache.devices, _MAX_DEVICES)
        else:
            cache.devices.move_to_end(key)
        return dev

    def _qnode(self, qml, circuit: Circuit, shots: int | None = None):
        """The QNode of the circuit's structure: gates and qubits, angles as arguments;
        ``shots``: measured that many times by the device (``sampling="device"``)."""
        cache = self._thread_cache()
        structure = tuple((op.name, op.qubits) for op in circuit)
        key = (self.device, circuit.n_qubits, structure, shots)
        qnode = cache.qnodes.get(key)
        if qnode is not None:
            cache.qnodes.move_to_end(key)
            return qnode
        n = circuit.n_qubits
        measured = list(range(n - 1, -1, -1))  # big-endian over reversed wires = little-endian

        def probs(angles):
            _queue_operations(qml, structure, angles)
            return qml.probs(wires=measured)

        # No differentiation through PennyLane: gradients come from skqml's parameter shifts.
        if shots is None:
            qnode = qml.QNode(probs, self._device(qml, n), interface="numpy", diff_method=None)
        else:  # qml.probs under finite shots: the frequencies of the device's samples
            device = self._device(qml, n, seed=self.seed)
            qnode = qml.QNode(probs, device, interface="numpy", diff_method=None, shots=shots)
        cache.qnodes[key] = qnode
        bound_lru(cache.qnodes, _MAX_QNODES)
        return qnode

    # -- running ----------------------------------------------------------------------------------
    def distribution(
        self, circuit: Circuit, X=None, weights=None, *, max_memory_mb=None
    ) -> np.ndarray:
        """The device's exact outcome probabilities, shape ``(n_samples, 2**n_qubits)``.

        This is the distribution :meth:`probabilities` samples from when ``shots`` is set.

        Parameters
        ----------
        circuit : Circuit
            Circuit to run, from ``|0...0>``.
        X : array-like of shape (n_samples, n_features), optional
            Features; without them the circuit runs once.
        weights : array-like of shape (n_weights,), optional
            Trainable weights, shared by all samples.
        max_memory_mb : float, optional
            Memory budget; batches shrink below ``max_batch_size`` to fit it.

        Returns
        -------
        probs : ndarray of shape (n_samples, 2**n_qubits)
            Little-endian basis order (qubit 0 is the least significant bit).
        """
        return self._run_batches(circuit, X, weights, None, max_memory_mb)

    def _run_batches(self, circuit, X, weights, shots, max_memory_mb) -> np.ndarray:
        """Each row's outcome distribution (``shots`` None) or the device's frequencies of
        ``shots`` measurements, batch by batch."""
        _, batch = self._checked()
        X, weights = check_inputs(circuit, X, weights)
        qml = self._qml()
        qnode = self._qnode(qml, circuit, shots)  # builds the device: a bad name fails here
        n_rows = 1 if X is None else X.shape[0]
        dim = 2**circuit.n_qubits
        batch = min(batch, _rows_per_call(circuit.n_qubits, n_rows, max_memory_mb))
        out = np.empty((n_rows, dim))
        if n_rows == 0:
            return out
        if circuit.n_features == 0 and shots is None:
            # Nothing depends on the features: one run serves every row.
            out[:] = _run(qnode, circuit, None, weights, dim)
            return out
        if circuit.n_features == 0:  # the device measures anew for every row
            for r in range(n_rows):
                out[r] = _run(qnode, circuit, None, weights, dim)
            return out
        for start in range(0, n_rows, batch):
            rows = slice(start, start + batch)
            out[rows] = _run(qnode, circuit, X[rows], weights, dim)
        return out

    def probabilities(
        self, circuit: Circuit, X=None, weights=None, *, max_memory_mb=None
    ) -> np.ndarray:
        """Outcome probabilities (``shots=None``) or frequencies of each sample's circuit.

        Parameters
        ----------
        circuit : Circuit
            Circuit to run, from ``|0...0>``, measuring every qubit.
        X : array-like of shape (n_samples, n_features), optional
            Features; without them the circuit runs once.
        weights : array-like of shape (n_weights,), optional
            Trainable weights, shared by all samples.
        max_memory_mb : float, optional
            Memory budget; batches shrink below ``max_batch_size`` to fit it.

        Returns
        -------
        freqs : ndarray of shape (n_samples, 2**n_qubits)
            Rows sum to 1 (multiples of ``1 / shots`` with shots); little-endian basis
            order, as Qiskit.
        """
        shots, _ = self._checked()
        if self.sampling == "device":
            return self._run_batches(circuit, X, weights, shots, max_memory_mb)
        dist = self.distribution(circuit, X, weights, max_memory_mb=max_memory_mb)
        if shots is None:
            return dist
        # The draws ShotsBackend makes for the same row: same seed, same circuit, same counts.
        return sample_frequencies(dist, shots, self.seed, circuit, X, weights)


def _queue_operations(qml, structure, angles) -> None:
    """Queue the PennyLane operations of a circuit structure with its (broadcast) angles.

    Each gate becomes the operation the gate table declares for it (``GateSpec.pennylane``):
    PennyLane's matrix over the listed wires (first wire most significant) is skqml's, or its
    adjoint's, times a declared global phase ``e^{i phase * angle}``. Checked state by state
    in tests/test_gate_table.py.
    """
    global_phase = None
    for (name, qubits), args in zip(structure, angles, strict=True):
        spec = GATES[name]
        declared = spec.pennylane
        if declared is None or "pennylane" in spec.unsupported:
            raise NotImplementedError(f"gate {name!r} has no PennyLane translation")
        op = getattr(qml, declared.name)(*args, wires=list(qubits))
        if declared.adjoint:
            qml.adjoint(op)
        if declared.phase:
            phase = declared.phase * args[0]
            global_phase = phase if global_phase is None else global_phase + phase
    if global_phase is not None:
        # GlobalPhase(phi) is e^{-i phi}: one op for the whole circuit, so that states (not
        # only probabilities) equal skqml's.
        qml.GlobalPhase(-global_phase)


def _angles(circuit: Circuit, X, weights) -> list[list]:
    """Each gate's angles for the batch: floats where constant, arrays of shape (B,) else.

    A gate with several angles gets all of them broadcast once one of them is, because
    PennyLane's multi-parameter gates expect their parameters to share one batch shape.
    """
    out = []
    for op in circuit:
        values = [a.evaluate(X, weights) for a in op.params]
        if any(a.features for a in op.params):
            out.append([np.broadcast_to(v, (X.shape[0],)).copy() for v in values])
        else:
            out.append([float(v[0]) for v in values])
    return out


def _run(qnode, circuit: Circuit, X, weights, dim: int) -> np.ndarray:
    result = np.asarray(qnode(_angles(circuit, X, weights)), dtype=float)
    # Without broadcast angles PennyLane returns one row of shape (dim,).
    return result.reshape(-1, dim)


def _rows_per_call(n_qubits: int, n_rows: int, max_memory_mb) -> int:
    """Rows per QNode call such that the output and one call's working set fit the budget."""
    # A broadcast call holds the batch's states, the device's working copies and the
    # probabilities: about 4 states per row.
    return rows_per_batch(
        n_rows,
        8 * 2**n_qubits,
        4 * state_bytes(n_qubits),
        max_memory_mb,
        what="the PennyLane probabilities",
        n_qubits=n_qubits,
    )
