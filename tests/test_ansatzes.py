"""Ansatzes: states equal to Qiskit's, PennyLane's and qml-benchmarks', weight order included."""

import math
from functools import reduce

import numpy as np
import pytest
from _reference import circuit_unitary, embed
from sklearn.base import clone
from sklearn.utils._param_validation import InvalidParameterError

from skqml.circuits import (
    Ansatz,
    Circuit,
    DataReuploading,
    EfficientSU2,
    HardwareEfficient,
    RealAmplitudes,
    StronglyEntanglingLayers,
    ZZFeatureMap,
)
from skqml.simulator import simulate

ATOL = 1e-10
ENTANGLEMENTS = ["full", "linear", "reverse_linear", "circular", "pairwise", "sca"]


def _weights(n, seed=0):
    return np.random.default_rng(seed).uniform(-math.pi, math.pi, n)


def _state(circuit, X=None, weights=None):
    return simulate(circuit, X, weights)[0]


def _big_to_little_endian(state, n):
    """PennyLane's wire 0 is the most significant bit; skqml's qubit 0 the least."""
    return np.asarray(state).reshape((2,) * n).transpose(range(n - 1, -1, -1)).ravel()


def _qiskit_state(qc, weights):
    from qiskit.quantum_info import Statevector

    assert qc.num_parameters == len(weights)
    return Statevector(qc.assign_parameters(list(weights))).data


# -- Qiskit -----------------------------------------------------------------------------------
@pytest.mark.parametrize("skip", [False, True])
@pytest.mark.parametrize("entanglement", ENTANGLEMENTS)
def test_real_amplitudes_equals_qiskit(entanglement, skip):
    lib = pytest.importorskip("qiskit.circuit.library")
    for n in range(1, 6):
        for reps in (0, 1, 3) if not skip else (1, 3):
            ansatz = RealAmplitudes(reps, entanglement, skip_final_rotation_layer=skip)
            qc = lib.real_amplitudes(
                n, reps=reps, entanglement=entanglement, skip_final_rotation_layer=skip
            )
            w = _weights(ansatz.n_weights(n), seed=n + reps)
            assert ansatz.n_weights(n) == qc.num_parameters == n * (reps + (not skip))
            np.testing.assert_allclose(
                _state(ansatz.build(n), None, w), _qiskit_state(qc, w), atol=ATOL
            )


@pytest.mark.parametrize("skip", [False, True])
@pytest.mark.parametrize("entanglement", ENTANGLEMENTS)
def test_efficient_su2_equals_qiskit(entanglement, skip):
    lib = pytest.importorskip("qiskit.circuit.library")
    for n in range(1, 6):
        for gates in (("ry", "rz"), ("rx",), ("rz", "rx", "ry")):
            reps = 1 + n % 3
            ansatz = EfficientSU2(reps, entanglement, gates, skip_final_rotation_layer=skip)
            qc = lib.efficient_su2(
                n,
                su2_gates=list(gates),
                reps=reps,
                entanglement=entanglement,
                skip_final_rotation_layer=skip,
            )
            w = _weights(ansatz.n_weights(n), seed=n)
            assert ansatz.n_weights(n) == qc.num_parameters
            np.testing.assert_allclose(
                _state(ansatz.build(n), None, w), _qiskit_state(qc, w), atol=ATOL
            )


def test_default_arguments_equal_qiskit_defaults():
    lib = pytest.importorskip("qiskit.circuit.library")
    for ansatz, qc in (
        (RealAmplitudes(), lib.real_amplitudes(4)),
        (EfficientSU2(), lib.efficient_su2(4)),
        (EfficientSU2(su2_gates="RY"), lib.efficient_su2(4, su2_gates="ry")),
    ):
        w = _weights(ansatz.n_weights(4))
        np.testing.assert_allclose(
            _state(ansatz.build(4), None, w), _qiskit_state(qc, w), atol=ATOL
        )


def test_explicit_entanglement_equals_qiskit():
    lib = pytest.importorskip("qiskit.circuit.library")
    pairs = [(2, 0), (1, 3), (0, 1)]
    for ansatz, qc in (
        (RealAmplitudes(2, pairs), lib.real_amplitudes(4, reps=2, entanglement=pairs)),
        (EfficientSU2(2, pairs), lib.efficient_su2(4, reps=2, entanglement=pairs)),
    ):
        w = _weights(ansatz.n_weights(4), seed=3)
        np.testing.assert_allclose(
            _state(ansatz.build(4), None, w), _qiskit_state(qc, w), atol=ATOL
        )


# -- PennyLane --------------------------------------------------------------------------------
def _pennylane_sel_state(weights, n, ranges=None, imprimitive=None):
    qml = pytest.importorskip("pennylane")
    dev = qml.device("default.qubit", wires=n)

    @qml.qnode(dev)
    def circuit():
        kwargs = {} if imprimitive is None else {"imprimitive": imprimitive}
        qml.StronglyEntanglingLayers(weights, wires=range(n), ranges=ranges, **kwargs)
        return qml.state()

    return _big_to_little_endian(circuit(), n)


def test_strongly_entangling_layers_equals_pennylane():
    pytest.importorskip("pennylane")
    for n in range(1, 5):
        for n_layers in (1, 2, 3):
            ansatz = StronglyEntanglingLayers(n_layers)
            w = _weights(ansatz.n_weights(n), seed=10 * n + n_layers)
            assert ansatz.n_weights(n) == 3 * n * n_layers
            expected = _pennylane_sel_state(w.reshape(n_layers, n, 3), n)
            np.testing.assert_allclose(_state(ansatz.build(n), None, w), expected, atol=ATOL)


def test_strongly_entangling_layers_custom_ranges_and_imprimitive_equal_pennylane():
    qml = pytest.importorskip("pennylane")
    for n, ranges, gate, name in (
        (3, (2, 1, 2), None, "cnot"),
        (4, (3, -1, 5), None, "cnot"),
        (4, (1, 2, 3), qml.CZ, "cz"),
        (2, (1, 3, 1), qml.SWAP, "swap"),
    ):
        ansatz = StronglyEntanglingLayers(3, ranges=ranges, imprimitive=name)
        w = _weights(ansatz.n_weights(n), seed=n)
        expected = _pennylane_sel_state(w.reshape(3, n, 3), n, ranges, gate)
        np.testing.assert_allclose(_state(ansatz.build(n), None, w), expected, atol=ATOL)


# -- data re-uploading ------------------------------------------------------------------------
def _split(weights, n_qubits, n_layers):
    n_omega = (n_layers + 1) * 3 * n_qubits
    omegas = weights[:n_omega].reshape(n_layers + 1, 3 * n_qubits)
    thetas = weights[n_omega:].reshape(n_qubits, n_layers + 1, 3)
    return omegas, thetas


def _pennylane_reuploading_state(omegas, thetas, x, n_qubits, n_layers):
    """qml-benchmarks' DataReuploadingClassifier circuit, statement for statement."""
    qml = pytest.importorskip("pennylane")
    x = np.pad(x, (0, (3 - len(x)) % 3))  # the reference's zero padding
    dev = qml.device("default.qubit", wires=n_qubits)

    @qml.qnode(dev)
    def circuit():
        for layer in range(n_layers):
            x_idx = 0
            for i in range(n_qubits):
                qml.Rot(*(x[x_idx : x_idx + 3] * omegas[layer, x_idx : x_idx + 3]), wires=i)
                qml.Rot(*thetas[i, layer, :], wires=i)
                x_idx += 3
            # qml.broadcast(qml.CZ, pattern="double" / "double_odd"), removed from PennyLane
            for i in range(layer % 2, n_qubits - 1, 2):
                qml.CZ(wires=[i, i + 1])
        x_idx = 0
        for i in range(n_qubits):
            angles = x[x_idx : x_idx + 3] * omegas[n_layers, x_idx : x_idx + 3]
            qml.Rot(*(angles + thetas[i, n_layers, :]), wires=i)
            x_idx += 3
        return qml.state()

    return _big_to_little_endian(circuit(), n_qubits)


def _rot(a, b, c):
    rz = lambda t: np.diag([np.exp(-0.5j * t), np.exp(0.5j * t)])  # noqa: E731
    ry = np.array([[np.cos(b / 2), -np.sin(b / 2)], [np.sin(b / 2), np.cos(b / 2)]])
    return rz(c) @ ry @ rz(a)


def _dense_reuploading_state(omegas, thetas, x, n_qubits, n_layers):
    """The same circuit with dense matrices and no skqml gate code."""
    x = np.concatenate([x, np.zeros(3 * n_qubits - len(x))])
    cz = np.diag([1, 1, 1, -1]).astype(complex)
    state = np.zeros(2**n_qubits, dtype=complex)
    state[0] = 1

    def rot_layer(angles):  # angles: (n_qubits, 3)
        return reduce(np.matmul, [embed(_rot(*a), (i,), n_qubits) for i, a in enumerate(angles)])

    for l in range(n_layers):
        state = rot_layer((omegas[l] * x).reshape(n_qubits, 3)) @ state
        state = rot_layer(thetas[:, l, :]) @ state
        for i in range(l % 2, n_qubits - 1, 2):
            state = embed(cz, (i, i + 1), n_qubits) @ state
    final = (omegas[n_layers] * x).reshape(n_qubits, 3) + thetas[:, n_layers, :]
    return rot_layer(final) @ state


@pytest.mark.parametrize("n_features", [1, 2, 3, 4, 6, 7, 9])
@pytest.mark.parametrize("n_layers", [0, 1, 2, 3])
def test_data_reuploading_equals_dense_reference(n_features, n_layers):
    ansatz = DataReuploading(n_layers)
    n = ansatz.n_qubits(n_features)
    assert n == math.ceil(n_features / 3)
    assert ansatz.n_weights(n) == 6 * n * (n_layers + 1)
    rng = np.random.default_rng(n_features + 10 * n_layers)
    X = rng.uniform(-math.pi / 2, math.pi / 2, (3, n_features))
    w = rng.uniform(-2, 2, ansatz.n_weights(n))
    circuit = ansatz.build_for_features(n_features)
    assert circuit.n_features == n_features and circuit.n_weights == len(w)
    omegas, thetas = _split(w, n, n_layers)
    expected = [_dense_reuploading_state(omegas, thetas, x, n, n_layers) for x in X]
    np.testing.assert_allclose(simulate(circuit, X, w), expected, atol=ATOL)


def test_data_reuploading_equals_qml_benchmarks_circuit():
    pytest.importorskip("pennylane")
    rng = np.random.default_rng(5)
    for n_features, n_layers in ((2, 2), (5, 3), (9, 4)):
        ansatz = DataReuploading(n_layers)
        n = ansatz.n_qubits(n_features)
        X = rng.uniform(-math.pi / 2, math.pi / 2, (2, n_features))
        w = rng.uniform(-2, 2, ansatz.n_weights(n))
        omegas, thetas = _split(w, n, n_layers)
        expected = [_pennylane_reuploading_state(omegas, thetas, x, n, n_layers) for x in X]
        np.testing.assert_allclose(
            simulate(ansatz.build_for_features(n_features), X, w), expected, atol=ATOL
        )


def test_data_reuploading_build_arguments():
    ansatz = DataReuploading(1)
    assert ansatz.reads_features and not RealAmplitudes.reads_features
    assert ansatz.build(2) == ansatz.build(2, n_features=6) == ansatz.build_for_features(6)
    assert ansatz.build(2, n_features=4) == ansatz.build_for_features(4)
    # More qubits than the features need: the extra qubits read zero padding only.
    assert ansatz.build(3, n_features=4).n_features == 4
    with pytest.raises(ValueError, match="at most 6 features"):
        ansatz.build(2, n_features=7)
    with pytest.raises(ValueError, match="n_features"):
        ansatz.n_qubits(0)
    w = ansatz.initial_weights(2, random_state=0)
    assert w.shape == (24,) and np.all((w >= 0) & (w < 1))


# -- counts, offsets, composition -------------------------------------------------------------
ANSATZES = [
    RealAmplitudes(reps=2, entanglement="circular"),
    EfficientSU2(reps=1, su2_gates=("rx", "ry", "rz")),
    StronglyEntanglingLayers(n_layers=3),
    HardwareEfficient(n_layers=2),
    DataReuploading(n_layers=2),
]


@pytest.mark.parametrize("n_qubits, expected", [(1, [3, 6, 9, 4, 18]), (4, [12, 24, 36, 16, 72])])
def test_weight_counts(n_qubits, expected):
    counts = [a.n_weights(n_qubits) for a in ANSATZES]
    assert counts == expected
    # Every weight is used, the highest index is n_weights - 1.
    assert [a.build(n_qubits).n_weights for a in ANSATZES] == expected
    assert RealAmplitudes(2, skip_final_rotation_layer=True).n_weights(3) == 6
    assert EfficientSU2(reps=0, skip_final_rotation_layer=True).build(3).n_weights == 0


@pytest.mark.parametrize("ansatz", ANSATZES, ids=lambda a: type(a).__name__)
def test_offset_shifts_weight_indices(ansatz):
    n, offset = 3, 5
    base, shifted = ansatz.build(n), ansatz.build(n, offset=offset)
    assert shifted.n_weights == base.n_weights + offset
    for a, b in zip(base, shifted, strict=True):
        assert (a.name, a.qubits) == (b.name, b.qubits)
        for pa, pb in zip(a.params, b.params, strict=True):
            assert {j + offset for j in pa.weights} == pb.weights
            assert pa.features == pb.features
    X = np.random.default_rng(0).uniform(-1, 1, (2, 3 * n))
    w = _weights(base.n_weights)
    w_shifted = np.concatenate([np.full(offset, 7.0), w])  # the first `offset` are unused
    X = X if ansatz.reads_features else None
    np.testing.assert_allclose(simulate(shifted, X, w_shifted), simulate(base, X, w), atol=ATOL)


def test_ansatz_after_feature_map():
    # An ansatz composed after an encoding with its weights numbered from an offset: the
    # state is the ansatz's unitary applied to the encoded state.
    fm = ZZFeatureMap(reps=1).build(3)
    ansatz = HardwareEfficient(n_layers=1)
    circuit = fm.compose(ansatz.build(3, offset=2))
    x = np.array([0.3, -0.2, 1.1])
    w = _weights(2 + ansatz.n_weights(3))
    expected = circuit_unitary(ansatz.build(3), weights=w[2:]) @ _state(fm, x[None])
    np.testing.assert_allclose(_state(circuit, x[None], w), expected, atol=ATOL)


def test_hardware_efficient_definition():
    # RY then RZ on every qubit, CX ring (n-1, 0), (0, 1), ..., per layer; layer-major weights.
    n, ansatz = 3, HardwareEfficient(n_layers=2)
    ops = [
        (op.name, op.qubits, sorted(op.params[0].weights) if op.params else None)
        for op in ansatz.build(n)
    ]
    layer = lambda s: (  # noqa: E731
        [("ry", (q,), [s + q]) for q in range(n)]
        + [("rz", (q,), [s + n + q]) for q in range(n)]
        + [("cnot", p, None) for p in [(2, 0), (0, 1), (1, 2)]]
    )
    assert ops == layer(0) + layer(6)
    w = _weights(12)
    expected = circuit_unitary(ansatz.build(n), weights=w)[:, 0]
    np.testing.assert_allclose(_state(ansatz.build(n), None, w), expected, atol=ATOL)
    assert [op.qubits for op in HardwareEfficient(1).build(2) if op.name == "cnot"] == [(0, 1)]
    assert HardwareEfficient(1).build(1).count_ops() == {"ry": 1, "rz": 1}


@pytest.mark.parametrize("ansatz", ANSATZES, ids=lambda a: type(a).__name__)
def test_initial_weights(ansatz):
    w = ansatz.initial_weights(3, random_state=0)
    assert w.shape == (ansatz.n_weights(3),)
    np.testing.assert_array_equal(w, ansatz.initial_weights(3, random_state=0))
    np.testing.assert_array_equal(w, ansatz.initial_weights(3, np.random.default_rng(0)))
    assert not np.array_equal(w, ansatz.initial_weights(3, random_state=1))
    assert ansatz.initial_weights(3, np.random.RandomState(0)).shape == w.shape
    if not ansatz.reads_features:
        assert np.all((w >= -math.pi) & (w < math.pi))


# -- parameter objects ------------------------------------------------------------------------
def test_params_clone_equality():
    ansatz = RealAmplitudes(reps=2, entanglement="linear")
    assert ansatz.get_params() == {
        "reps": 2,
        "entanglement": "linear",
        "skip_final_rotation_layer": False,
    }
    copy = clone(ansatz)
    assert copy == ansatz and copy is not ansatz
    copy.set_params(reps=4)
    assert copy != ansatz and copy.build(2).n_weights == 10
    assert EfficientSU2() == EfficientSU2() and EfficientSU2() != RealAmplitudes()
    assert hash(HardwareEfficient(3)) == hash(HardwareEfficient(3))
    sel = StronglyEntanglingLayers(2, ranges=[1, 2])
    assert clone(sel) == sel and sel.set_params(n_layers=3).n_layers == 3
    assert repr(DataReuploading(n_layers=5)) == "DataReuploading(n_layers=5)"
    assert all(isinstance(a, Ansatz) for a in ANSATZES)


def test_grid_search_parameters():
    from sklearn.base import BaseEstimator

    class Model(BaseEstimator):
        def __init__(self, ansatz=None):
            self.ansatz = ansatz

    model = Model(ansatz=EfficientSU2())
    model.set_params(ansatz__reps=1, ansatz__entanglement="full")
    assert model.get_params()["ansatz__reps"] == 1
    assert model.ansatz.build(3).count_ops()["cnot"] == 3


@pytest.mark.parametrize(
    "ansatz, error, match",
    [
        (RealAmplitudes(reps=-1), ValueError, "reps must be an integer >= 0"),
        (RealAmplitudes(reps=1.5), ValueError, "reps"),
        (RealAmplitudes(entanglement="ring"), ValueError, "unknown entanglement"),
        (RealAmplitudes(entanglement=[(0, 1, 2)]), ValueError, "qubit pairs"),
        (RealAmplitudes(entanglement=[(0, 7)]), ValueError, "out of range"),
        (RealAmplitudes(skip_final_rotation_layer="no"), TypeError, "True or False"),
        (EfficientSU2(su2_gates=("ry", "h")), ValueError, "unsupported su2 gate"),
        (EfficientSU2(su2_gates=()), ValueError, "at least one gate"),
        (EfficientSU2(su2_gates=3), TypeError, "su2_gates"),
        (EfficientSU2(su2_gates=("ry", 1)), TypeError, "gate names"),
        (StronglyEntanglingLayers(n_layers=0), ValueError, "n_layers"),
        (StronglyEntanglingLayers(2, ranges=[1]), ValueError, "one entry per layer"),
        (StronglyEntanglingLayers(1, ranges=[3]), ValueError, "multiples of n_qubits"),
        (StronglyEntanglingLayers(1, ranges=[1.0]), TypeError, r"ranges\[0\] must be an integer"),
        (StronglyEntanglingLayers(1, ranges=5), TypeError, "sequence"),
        (StronglyEntanglingLayers(imprimitive="rzz"), ValueError, "without angles"),
        (StronglyEntanglingLayers(imprimitive="foo"), ValueError, "unknown gate"),
        (StronglyEntanglingLayers(imprimitive=None), TypeError, "gate name"),
        (HardwareEfficient(n_layers="2"), ValueError, "n_layers"),
        (HardwareEfficient(entanglement="star"), ValueError, "unknown entanglement"),
        (DataReuploading(n_layers=-1), ValueError, "n_layers"),
    ],
)
def test_bad_arguments(ansatz, error, match):
    with pytest.raises(error, match=match):
        ansatz.build(3)


@pytest.mark.parametrize("ansatz", ANSATZES, ids=lambda a: type(a).__name__)
def test_bad_sizes(ansatz):
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="n_qubits"):
            ansatz.build(bad)
        with pytest.raises(ValueError, match="n_qubits"):
            ansatz.n_weights(bad)
    with pytest.raises(ValueError, match="offset"):
        ansatz.build(2, offset=-1)


def test_one_qubit_circuits_have_no_entanglers():
    for ansatz in ANSATZES:
        counts = ansatz.build(1).count_ops()
        assert not {"cnot", "cz"} & counts.keys(), counts
    assert Circuit(1) == RealAmplitudes(0, skip_final_rotation_layer=True).build(1)


def test_messages_name_the_class_and_numpy_scalars_work():
    # One validator (skqml._validation): sklearn's InvalidParameterError, naming the class
    # the user built and the accepted range.
    with pytest.raises(
        InvalidParameterError, match=r"RealAmplitudes\.reps must be an integer >= 0"
    ):
        RealAmplitudes(reps=-1).build(2)
    with pytest.raises(InvalidParameterError, match=r"HardwareEfficient\.n_layers .* >= 1"):
        HardwareEfficient(n_layers=0).n_weights(2)
    with pytest.raises(InvalidParameterError, match=r"EfficientSU2\.skip_final_rotation_layer"):
        EfficientSU2(skip_final_rotation_layer="no").build(2)
    with pytest.raises(InvalidParameterError, match=r"RealAmplitudes\.entanglement .* pairs"):
        RealAmplitudes(entanglement=[(0, 1, 2)]).build(3)
    with pytest.raises(InvalidParameterError, match=r"StronglyEntanglingLayers\.imprimitive"):
        StronglyEntanglingLayers(imprimitive="rzz").build(2)
    # NumPy scalars, as a grid search over np.arange gives them, build the same circuits.
    assert RealAmplitudes(reps=np.int64(2)).build(np.int64(3), offset=np.int32(1)) == (
        RealAmplitudes(reps=2).build(3, offset=1)
    )
    assert StronglyEntanglingLayers(np.int64(2), ranges=np.array([1, 2])).build(3) == (
        StronglyEntanglingLayers(2, ranges=[1, 2]).build(3)
    )
    assert RealAmplitudes(skip_final_rotation_layer=np.True_).n_weights(2) == 2 * 3
    assert DataReuploading(np.int64(1)).n_qubits(np.int64(4)) == 2
