"""Angles, circuits, drawing, OpenQASM export and entanglement patterns."""

import dataclasses
import math
import pickle

import numpy as np
import pytest

from skqml.circuits import (
    GATES,
    Angle,
    AngleEmbedding,
    Circuit,
    HeisenbergEmbedding,
    IQPEmbedding,
    Operation,
    PauliFeatureMap,
    Term,
    ZZFeatureMap,
    entangler_map,
    feature,
    weight,
)
from skqml.simulator import simulate

PI = math.pi


# -- Angle ------------------------------------------------------------------------------------
def test_angle_arithmetic_and_evaluation():
    X = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
    theta = np.array([0.3, -1.2])
    x0, x1, x2 = X.T
    cases = [
        (feature(0) + 1, x0 + 1),
        (1 + feature(0), x0 + 1),
        (2 * feature(1), 2 * x1),
        (feature(1) * 2, 2 * x1),
        (feature(0) - feature(2), x0 - x2),
        (3 - feature(0), 3 - x0),
        (-feature(2), -x2),
        (feature(0) / 4, x0 / 4),
        (feature(0) * feature(1), x0 * x1),
        (2 * (PI - feature(0)) * (PI - feature(1)), 2 * (PI - x0) * (PI - x1)),
        (weight(0) * feature(2) + weight(1), theta[0] * x2 + theta[1]),
        (weight(0) * weight(0) * feature(1), theta[0] ** 2 * x1),
        ((feature(0) + weight(1)) * (feature(1) - 0.5), (x0 + theta[1]) * (x1 - 0.5)),
        (feature(0) - feature(0), np.zeros(1)),  # constant: one value for the batch
    ]
    for angle, expected in cases:
        assert isinstance(angle, Angle)
        np.testing.assert_allclose(angle.evaluate(X, theta), expected, atol=1e-14, err_msg=angle)


def test_angle_constants_and_weights_only():
    a = Angle.constant(1.5)
    assert a.is_constant() and a.value() == 1.5
    np.testing.assert_array_equal(a.evaluate(), [1.5])
    # Without features, one value is returned even for a batch: it broadcasts.
    np.testing.assert_array_equal(a.evaluate(np.zeros((4, 2))), [1.5])
    np.testing.assert_allclose((2 * weight(1)).evaluate(None, np.array([0.0, 3.0])), [6.0])
    assert Angle().is_constant() and Angle().value() == 0.0 and str(Angle()) == "0"
    assert Angle.constant(0.0) == Angle() == 0
    with pytest.raises(ValueError, match="depends on features or weights"):
        feature(0).value()


def test_angle_simplification():
    # c + a * (o + s x) folds into one affine factor, as the ZZ map's (pi - x) needs.
    a = 2 * (PI - feature(0))
    assert (PI - feature(0)).terms == (Term(1.0, ((0, PI, -1.0),)),)
    assert (1 + 2 * feature(3)).terms == (Term(1.0, ((3, 1.0, 2.0),)),)
    assert a.terms == (Term(2.0, ((0, PI, -1.0),)),)
    assert feature(0) + feature(0) == 2 * feature(0)
    assert feature(0) - feature(0) == Angle()
    assert (weight(1) * weight(0)).terms == (weight(0) * weight(1)).terms
    assert a.features == frozenset({0}) and a.weights == frozenset()
    b = weight(2) * feature(1) * feature(3) + weight(0)
    assert b.features == frozenset({1, 3}) and b.weights == frozenset({0, 2})


def test_angle_errors():
    with pytest.raises(ValueError, match="pass X"):
        feature(0).evaluate()
    with pytest.raises(ValueError, match="pass weights"):
        weight(0).evaluate()
    with pytest.raises(ValueError, match="pass weights"):
        (weight(0) * feature(0)).evaluate(np.ones((2, 1)))
    for bad in ("x", None, True, 1j):
        with pytest.raises(TypeError):
            feature(0) + bad
    with pytest.raises(TypeError):
        feature(0) / feature(1)


def test_weight_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, (5, 3))
    theta = rng.uniform(-2, 2, 4)
    angle = (
        1.5 * weight(0) * feature(0)
        + weight(1) * weight(1) * feature(1)
        + weight(0) * weight(3)
        + 0.3 * (PI - feature(0)) * (PI - feature(2)) * weight(3)
        - 0.7
        + feature(1)
    )
    idx, grad = angle.weight_gradient(X, theta, 4)
    np.testing.assert_array_equal(idx, [0, 1, 3])
    assert grad.shape == (3, 5)
    eps = 1e-6
    for row, j in enumerate(idx):
        step = np.zeros(4)
        step[j] = eps
        fd = (angle.evaluate(X, theta + step) - angle.evaluate(X, theta - step)) / (2 * eps)
        np.testing.assert_allclose(grad[row], fd, atol=1e-8)
    # Weights only: one column.
    idx, grad = (weight(2) * weight(2)).weight_gradient(None, theta, 4)
    np.testing.assert_array_equal(idx, [2])
    np.testing.assert_allclose(grad, [[2 * theta[2]]])
    idx, grad = feature(0).weight_gradient(X, theta, 4)
    assert idx.shape == (0,) and grad.shape == (0, 5)


def test_angle_str_and_repr():
    assert str(feature(0)) == "x[0]"
    assert str(2 * feature(0)) == "2*x[0]"
    assert str(-feature(1)) == "-x[1]"
    assert str(PI - feature(0)) == "(pi - x[0])"
    assert str(2 * (PI - feature(0)) * (PI - feature(1))) == "2*(pi - x[0])*(pi - x[1])"
    assert str(weight(0) * feature(1) + weight(1) - 0.5) == "-0.5 + x[1]*θ[0] + θ[1]"
    assert str(PI / 2 - feature(2) * weight(1)) == "pi/2 - x[2]*θ[1]"
    assert str(Angle.constant(-PI / 4)) == "-pi/4"
    assert str(Angle.constant(0.123456)) == "0.1235"
    assert repr(feature(3)) == "Angle(x[3])"


def test_angle_equality_and_hash():
    a = 2 * feature(0) * weight(1) + 1
    b = 1 + weight(1) * feature(0) * 2
    assert a == b and hash(a) == hash(b)
    assert a != a + 1e-9
    assert len({a, b, feature(0)}) == 2
    assert Angle.constant(2.0) == 2.0 and Angle.constant(2.0) != 3
    assert feature(0) != "x[0]"
    assert pickle.loads(pickle.dumps(a)) == a


# -- Circuit ----------------------------------------------------------------------------------
def _demo_circuit():
    return (
        Circuit(3)
        .h(0)
        .cnot(0, 1)
        .rz(2 * feature(0), 1)
        .ry(weight(1) * feature(2), 2)
        .cz(1, 2)
        .rot(weight(0), 0.5, feature(1), 0)
    )


def test_circuit_building_is_immutable():
    c = Circuit(2)
    c1 = c.h(0)
    c2 = c1.cnot(0, 1)
    assert len(c) == 0 and len(c1) == 1 and len(c2) == 2
    assert c1.operations == (Operation("h", (0,)),)
    assert isinstance(c2.operations, tuple)
    with pytest.raises(dataclasses.FrozenInstanceError):
        c2.operations[0].name = "x"
    with pytest.raises(AttributeError):
        c2.n_qubits = 5
    assert list(c2) == list(c2.operations)


def test_circuit_properties():
    c = _demo_circuit()
    assert c.n_qubits == 3 and len(c) == 6
    assert c.n_features == 3 and c.n_weights == 2
    assert c.count_ops() == {"h": 1, "cnot": 1, "rz": 1, "ry": 1, "cz": 1, "rot": 1}
    assert c.depth() == 4
    assert Circuit(4).depth() == 0 and Circuit(4).n_features == 0 and Circuit(4).n_weights == 0
    assert Circuit(3).h(0).h(1).h(2).depth() == 1
    assert Circuit(3).h(0).cnot(0, 2).h(1).depth() == 2
    assert repr(c).startswith("<Circuit: 3 qubits, 6 gates (cnot: 1, cz: 1, h: 1,")


def test_circuit_equality_hash_and_pickle():
    a, b = _demo_circuit(), _demo_circuit()
    assert a == b and hash(a) == hash(b) and a is not b
    assert a != a.h(1) and a != Circuit(4, a.operations)
    assert a != a.operations
    assert len({a, b, a.x(0)}) == 2
    c = pickle.loads(pickle.dumps(a))
    assert c == a and hash(c) == hash(a)
    assert c.n_features == 3 and c.n_weights == 2
    X = np.random.default_rng(0).uniform(size=(2, 3))
    np.testing.assert_array_equal(simulate(c, X, [0.1, 0.2]), simulate(a, X, [0.1, 0.2]))


def test_circuit_compose_and_aliases():
    a = Circuit(3).h(0)
    b = Circuit(2).cnot(0, 1)
    assert (a + b).operations == a.operations + b.operations
    assert a.compose(b) == a + b
    with pytest.raises(ValueError, match="cannot compose"):
        b.compose(a)
    assert Circuit(2).append("CX", (0, 1)) == Circuit(2).cnot(0, 1) == Circuit(2).cx(0, 1)
    assert Circuit(2).append("isingzz", (0, 1), 0.3) == Circuit(2).rzz(0.3, 0, 1)
    assert Circuit(3).append("toffoli", (0, 1, 2)).operations[0].name == "ccx"
    assert str(Operation("rx", (1,), (feature(0),))) == "RX(x[0]) [1]"


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: Circuit(0), "positive integer"),
        (lambda: Circuit(1.5), "positive integer"),
        (lambda: Circuit(2).h(2), "uses qubit 2"),
        (lambda: Circuit(2).cnot(0, 0), "repeated qubits"),
        (lambda: Circuit(2).append("rx", 0), "takes 1 angles"),
        (lambda: Circuit(2).append("cnot", (0,)), "acts on 2 qubits"),
        (lambda: Circuit(2).append("foo", 0), "unknown gate"),
        (lambda: Circuit(2).h(-1), "non-negative"),
        (lambda: Circuit(2).multirz(0.1, ()), "at least one qubit"),
    ],
)
def test_circuit_errors(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_circuit_rejects_non_operations():
    with pytest.raises(TypeError, match="expected Operation"):
        Circuit(2, ["h"])
    with pytest.raises(TypeError, match="gate angle"):
        Circuit(1).rx("0.5", 0)


# -- drawing ----------------------------------------------------------------------------------
def _every_gate_circuit(n=4, seed=0):
    rng = np.random.default_rng(seed)
    c = Circuit(n)
    for name, spec in GATES.items():
        k = spec.n_qubits or 3
        params = [
            rng.uniform(-1, 1) + rng.uniform(-1, 1) * feature(rng.integers(3))
            + rng.uniform(-1, 1) * weight(rng.integers(2))
            for _ in range(spec.n_params)
        ]  # fmt: skip
        c = c.append(name, tuple(rng.permutation(n)[:k]), *params)
    return c


def test_draw_one_row_per_qubit():
    for n in (1, 2, 4, 11):
        c = _every_gate_circuit(n=max(n, 3)) if n >= 3 else Circuit(n).h(0).rx(feature(0), n - 1)
        text = c.draw()
        assert text == str(c)
        lines = text.split("\n")
        rows = [line for line in lines if line.startswith("q")]
        assert [r.split(":")[0] for r in rows] == [f"q{q}" for q in range(c.n_qubits)]
        assert len(lines) == 2 * c.n_qubits - 1
        # Rows start aligned, so the wires line up.
        assert len({len(r.split("─", 1)[0]) for r in rows}) == 1


def test_draw_labels():
    text = Circuit(2).h(0).cnot(0, 1).rz(2 * feature(0), 1).draw()
    assert "H" in text and "●" in text and "RZ(2*x[0])" in text
    rows = text.split("\n")
    assert "X" in rows[2] and "●" in rows[0] and "│" in rows[1]
    assert "x" in Circuit(2).swap(0, 1).draw().split("\n")[0]
    assert "RX(θ[0])" in Circuit(2).crx(weight(0), 0, 1).draw()


# -- OpenQASM ---------------------------------------------------------------------------------
def _qiskit_state(source: str, version: int = 2) -> np.ndarray:
    qiskit = pytest.importorskip("qiskit")
    from qiskit.quantum_info import Statevector

    if version == 2:
        qc = qiskit.QuantumCircuit.from_qasm_str(source)
    else:
        pytest.importorskip("qiskit_qasm3_import")
        qc = qiskit.qasm3.loads(source)
    return Statevector(qc).data


def _random_circuit(rng, n, n_gates=30):
    names = [g for g, s in GATES.items() if (s.n_qubits or 1) <= n]
    c = Circuit(n)
    for _ in range(n_gates):
        name = names[rng.integers(len(names))]
        spec = GATES[name]
        k = spec.n_qubits or int(rng.integers(1, n + 1))
        params = [
            rng.uniform(-3, 3) * feature(rng.integers(3)) * weight(rng.integers(2))
            + rng.uniform(-3, 3) * (PI - feature(rng.integers(3)))
            for _ in range(spec.n_params)
        ]
        c = c.append(name, tuple(rng.permutation(n)[:k]), *params)
    return c


@pytest.mark.parametrize("version", [2, 3])
@pytest.mark.parametrize("seed", range(6))
def test_qasm_random_circuits_equal_qiskit_state(seed, version):
    rng = np.random.default_rng(seed)
    c = _random_circuit(rng, n=2 + seed % 4)
    x, w = rng.uniform(-PI, PI, 3), rng.uniform(-2, 2, 2)
    source = c.to_qasm(x, w, version=version)
    expected = simulate(c, x[None], w)[0]
    np.testing.assert_allclose(_qiskit_state(source, version), expected, atol=1e-10)


@pytest.mark.parametrize("version", [2, 3])
def test_qasm_every_gate_equals_qiskit_state(version):
    c = _every_gate_circuit()
    for k in (1, 2, 4):  # the variable-arity gates at other sizes too
        c = c.multirz(feature(0), tuple(range(k))[::-1]).multiphase(feature(1), tuple(range(k)))
    x, w = np.array([0.3, -1.2, 2.1]), np.array([0.7, -0.4])
    # Hadamards first, so that no gate acts on a basis state only.
    c = Circuit(4).h(0).h(1).h(2).h(3).ry(0.3, 0) + c
    expected = simulate(c, x[None], w)[0]
    np.testing.assert_allclose(
        _qiskit_state(c.to_qasm(x, w, version), version), expected, atol=1e-10
    )


FEATURE_MAPS = [
    ZZFeatureMap(reps=2),
    ZZFeatureMap(reps=1, entanglement="linear", alpha=1.3),
    ZZFeatureMap(reps=3, entanglement="circular"),
    ZZFeatureMap(reps=2, entanglement="sca"),
    PauliFeatureMap(paulis=("Z", "XX", "YZ"), reps=2),
    PauliFeatureMap(paulis=("X", "Y", "ZZ"), reps=1, entanglement="pairwise"),
    PauliFeatureMap(paulis=("ZI", "XYZ"), reps=1, entanglement="full"),
    IQPEmbedding(n_repeats=2),
    IQPEmbedding(pattern=[(0, 2), (1, 3)]),
    AngleEmbedding(),
    AngleEmbedding(rotation="X"),
    AngleEmbedding(rotation="Z", hadamard=True),
    HeisenbergEmbedding(trotter_steps=2),
]


@pytest.mark.parametrize("version", [2, 3])
@pytest.mark.parametrize("fmap", FEATURE_MAPS, ids=repr)
def test_qasm_feature_maps_equal_qiskit_state(fmap, version):
    if isinstance(fmap, PauliFeatureMap) and fmap.entanglement == "pairwise":
        n = 4  # pairwise is for pairs only: the ZZZ term needs another name
        fmap = fmap.set_params(paulis=("X", "Y", "ZZ"))
    else:
        n = 4
    c = fmap.build(n)
    x = np.random.default_rng(1).uniform(0, 2 * PI, c.n_features)
    expected = simulate(c, x[None])[0]
    np.testing.assert_allclose(
        _qiskit_state(c.to_qasm(x, version=version), version), expected, atol=1e-10
    )


def test_qasm_text():
    c = Circuit(3).h(0).cnot(0, 1).ryy(feature(0), 1, 2).rx(1e-5, 0).multiphase(0.25, (2, 0))
    text = c.to_qasm(x=[0.1 + 0.2])
    lines = text.splitlines()
    assert lines[:2] == ["OPENQASM 2.0;", 'include "qelib1.inc";']
    assert "qreg q[3];" in lines
    assert "cx q[0], q[1];" in lines
    # Full precision, and a decimal point even in exponent notation (QASM 2 needs it).
    assert f"ryy({0.1 + 0.2!r}) q[1], q[2];" in lines
    assert "rx(1.0e-05) q[0];" in lines
    # Parity gates act on sorted qubits; only the definitions used are emitted.
    assert "multiphase_2(0.25) q[0], q[2];" in lines
    assert sum(line.startswith("gate ") for line in lines) == 2
    assert text.endswith("\n")
    v3 = c.to_qasm(x=[0.3], version=3).splitlines()
    assert v3[:2] == ["OPENQASM 3.0;", 'include "stdgates.inc";']
    assert "qubit[3] q;" in v3
    # The defined gates' parameters parse back to the same floats.
    for value in (PI, -1 / 3, 1e-300, 123456789.123):
        line = Circuit(1).rz(value, 0).to_qasm().splitlines()[-1]
        assert float(line[3:].split(")")[0]) == value


def test_qasm_small_angles_parse_in_qiskit():
    c = Circuit(1).rx(1e-5, 0).rz(-2.5e-17, 0).ry(1e20, 0)
    np.testing.assert_allclose(_qiskit_state(c.to_qasm()), simulate(c)[0], atol=1e-10)


def test_qasm_errors():
    c = Circuit(2).rx(feature(1), 0).rz(weight(0), 1)
    with pytest.raises(ValueError, match="pass x"):
        c.to_qasm(weights=[1.0])
    with pytest.raises(ValueError, match="pass weights"):
        c.to_qasm(x=[1.0, 2.0])
    with pytest.raises(ValueError, match="needs 2 x values"):
        c.to_qasm(x=[1.0], weights=[1.0])
    with pytest.raises(ValueError, match="NaN or infinity"):
        c.to_qasm(x=[1.0, np.nan], weights=[1.0])
    with pytest.raises(ValueError, match="NaN or infinity"):
        c.to_qasm(x=[1.0, 1.0], weights=[np.inf])
    with pytest.raises(ValueError, match="one sample"):
        c.to_qasm(x=np.ones((2, 2)), weights=[1.0])
    for version in (1, 4, "2", 2.5, True, None):
        with pytest.raises(ValueError, match="version must be 2 or 3"):
            c.to_qasm(x=[1.0, 2.0], weights=[1.0], version=version)
    # A single row and extra values are accepted.
    assert c.to_qasm(x=[[1.0, 2.0, 3.0]], weights=[1.0, 5.0]) == c.to_qasm([1.0, 2.0], [1.0])
    assert Circuit(1).h(0).to_qasm(version=3).endswith("qubit[1] q;\nh q[0];\n")


# -- entanglement -----------------------------------------------------------------------------
def test_entangler_map_explicit_lists():
    n = 4
    assert entangler_map("full", 2, n) == [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]
    assert entangler_map("full", 3, n) == [(0, 1, 2), (0, 1, 3), (0, 2, 3), (1, 2, 3)]
    assert entangler_map("linear", 2, n) == [(0, 1), (1, 2), (2, 3)]
    assert entangler_map("linear", 3, n) == [(0, 1, 2), (1, 2, 3)]
    assert entangler_map("reverse_linear", 2, n) == [(2, 3), (1, 2), (0, 1)]
    assert entangler_map("reverse_linear", 3, n) == [(1, 2, 3), (0, 1, 2)]
    assert entangler_map("circular", 2, n) == [(3, 0), (0, 1), (1, 2), (2, 3)]
    assert entangler_map("circular", 3, n) == [(2, 3, 0), (3, 0, 1), (0, 1, 2), (1, 2, 3)]
    assert entangler_map("pairwise", 2, n) == [(0, 1), (2, 3), (1, 2)]
    assert entangler_map("pairwise", 2, 5) == [(0, 1), (2, 3), (1, 2), (3, 4)]
    sca = [
        [(3, 0), (0, 1), (1, 2), (2, 3)],
        [(3, 2), (0, 3), (1, 0), (2, 1)],
        [(1, 2), (2, 3), (3, 0), (0, 1)],
        [(1, 0), (2, 1), (3, 2), (0, 3)],
    ]
    for offset, expected in enumerate(sca):
        assert entangler_map("sca", 2, n, offset=offset) == expected
    assert entangler_map("full", 1, 3) == [(0,), (1,), (2,)]
    # Single-qubit blocks keep Qiskit's order too.
    assert entangler_map("reverse_linear", 1, 3) == [(2,), (1,), (0,)]
    assert entangler_map("sca", 1, 3, offset=1) == [(2,), (0,), (1,)]
    assert entangler_map("pairwise", 1, 3) == [(0,), (1,), (2,)]
    assert entangler_map("linear", 3, 2) == []


NAMES = ["full", "linear", "reverse_linear", "circular", "pairwise", "sca"]


@pytest.mark.parametrize("name", NAMES)
def test_entangler_map_equals_qiskit(name):
    pytest.importorskip("qiskit")
    from qiskit.circuit.library.n_local.n_local import get_entangler_map

    for n in range(1, 7):
        for k in range(1, min(n, 4) + 1):
            if name == "pairwise" and k > 2:
                continue
            for offset in range(4):
                expected = [tuple(b) for b in get_entangler_map(k, n, name, offset=offset)]
                got = entangler_map(name, k, n, offset=offset)
                assert got == expected, (name, k, n, offset)


def test_entangler_map_explicit_and_errors():
    assert entangler_map([(0, 1), (2,), [1, 2]], 2, 3) == [(0, 1), (1, 2)]
    assert entangler_map([(0, 1), (2,), [1, 2]], 1, 3) == [(2,)]
    assert entangler_map(np.array([[0, 1], [1, 2]]), 2, 3) == [(0, 1), (1, 2)]
    for bad in ("ful", "Linear", "", "all"):
        with pytest.raises(ValueError, match="unknown entanglement"):
            entangler_map(bad, 2, 3)
    with pytest.raises(ValueError, match="out of range"):
        entangler_map([(0, 3)], 2, 3)
    with pytest.raises(ValueError, match="out of range"):
        entangler_map([(-1, 0)], 2, 3)
    with pytest.raises(ValueError, match="repeats a qubit"):
        entangler_map([(1, 1)], 2, 3)
    with pytest.raises(ValueError, match="list of qubit tuples"):
        entangler_map([0, 1], 2, 3)
    with pytest.raises(ValueError, match="pairwise"):
        entangler_map("pairwise", 3, 4)
    with pytest.raises(ValueError, match="unknown entanglement"):
        ZZFeatureMap(entanglement="bogus").build(3)
    # Sizes and qubit indices are integers: a float is refused, not truncated.
    with pytest.raises(ValueError, match="entanglement qubit index must be an integer"):
        entangler_map([(0, 1.5)], 2, 3)
    with pytest.raises(ValueError, match="n_qubits must be an integer >= 1"):
        entangler_map("linear", 2, 2.5)
    with pytest.raises(ValueError, match="block_size must be an integer >= 1"):
        entangler_map("linear", 0, 3)
    assert entangler_map("sca", np.int64(2), np.int64(3), offset=np.int64(1)) == (
        entangler_map("sca", 2, 3, offset=1)
    )
