"""Feature maps: states equal to Qiskit's and PennyLane's, global phase included."""

import math

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils._param_validation import InvalidParameterError

import skqml.circuits
from skqml.circuits import (
    AngleEmbedding,
    FeatureMap,
    HeisenbergEmbedding,
    HubregtsenEmbedding,
    IQPEmbedding,
    PauliFeatureMap,
    QAOAEmbedding,
    ZZFeatureMap,
    bandwidth_as_weight,
)
from skqml.simulator import simulate

ATOL = 1e-10
ENTANGLEMENTS = ["full", "linear", "reverse_linear", "circular", "pairwise", "sca"]


def _samples(n_features, n_samples=3, seed=0):
    return np.random.default_rng(seed).uniform(0, 2 * math.pi, (n_samples, n_features))


def _qiskit_states(qc, X):
    from qiskit.quantum_info import Statevector

    return np.array([Statevector(qc.assign_parameters(list(x))).data for x in X])


def _big_to_little_endian(states, n):
    """PennyLane's wire 0 is the most significant bit; skqml's qubit 0 the least."""
    b = states.shape[0]
    return states.reshape((b,) + (2,) * n).transpose(0, *range(n, 0, -1)).reshape(b, 2**n)


# -- Qiskit -----------------------------------------------------------------------------------
@pytest.mark.parametrize("entanglement", ENTANGLEMENTS)
@pytest.mark.parametrize("reps", [1, 2, 3])
def test_zz_feature_map_equals_qiskit(entanglement, reps):
    lib = pytest.importorskip("qiskit.circuit.library")
    for n, alpha in ((2, 2.0), (4, 1.3)):
        X = _samples(n, seed=reps)
        fmap = ZZFeatureMap(reps=reps, entanglement=entanglement, alpha=alpha)
        qc = lib.zz_feature_map(n, reps=reps, entanglement=entanglement, alpha=alpha)
        np.testing.assert_allclose(simulate(fmap.build(n), X), _qiskit_states(qc, X), atol=ATOL)


def test_explicit_entanglement_equals_qiskit():
    # Qiskit takes explicit blocks as {block size: blocks}; skqml as one list of tuples, each
    # term using the tuples of its size; one-qubit terms act on every qubit when the list
    # has no 1-tuples.
    lib = pytest.importorskip("qiskit.circuit.library")
    singles, pairs = [(0,), (2,), (3,)], [(0, 2), (3, 1), (1, 2)]
    X = _samples(4)
    for blocks, mapping in (
        (singles + pairs, {1: singles, 2: pairs}),
        (pairs, {1: [(q,) for q in range(4)], 2: pairs}),
    ):
        qc = lib.pauli_feature_map(4, reps=2, entanglement=mapping, paulis=["Z", "ZZ"])
        got = simulate(ZZFeatureMap(entanglement=blocks).build(4), X)
        np.testing.assert_allclose(got, _qiskit_states(qc, X), atol=ATOL)
        fmap = PauliFeatureMap(paulis=("Y", "XZ"), entanglement=blocks, reps=2)
        qc = lib.pauli_feature_map(4, reps=2, entanglement=mapping, paulis=["Y", "XZ"])
        np.testing.assert_allclose(simulate(fmap.build(4), X), _qiskit_states(qc, X), atol=ATOL)


PAULI_CASES = [
    ("Z",),
    ("Z", "ZZ"),
    ("Z", "XX", "YZ"),
    ("X", "Y", "ZZ"),
    ("Y", "XY", "IZ"),
    ("ZI", "XX", "ZZZ"),
    ("XYZ", "YYY"),
]


@pytest.mark.parametrize(
    ("paulis", "entanglement"),
    [
        (p, e)
        for p in PAULI_CASES
        for e in ENTANGLEMENTS
        if e != "pairwise" or all(len(s) <= 2 for s in p)  # pairwise is for pairs only
    ],
    ids=lambda v: v if isinstance(v, str) else "-".join(v),
)
def test_pauli_feature_map_equals_qiskit(paulis, entanglement):
    lib = pytest.importorskip("qiskit.circuit.library")
    n = 4
    for reps, alpha in ((1, 2.0), (2, 0.7)):
        X = _samples(n, n_samples=2, seed=reps)
        fmap = PauliFeatureMap(paulis=paulis, reps=reps, entanglement=entanglement, alpha=alpha)
        qc = lib.pauli_feature_map(
            n, reps=reps, entanglement=entanglement, alpha=alpha, paulis=list(paulis)
        )
        np.testing.assert_allclose(simulate(fmap.build(n), X), _qiskit_states(qc, X), atol=ATOL)


def test_pauli_feature_map_three_reps_small_sizes_equal_qiskit():
    lib = pytest.importorskip("qiskit.circuit.library")
    for n in (2, 3):  # Qiskit refuses Pauli strings longer than the qubit count
        X = _samples(n, seed=n)
        paulis = ["Z", "XX", "YZ"]
        fmap = PauliFeatureMap(paulis=paulis, reps=3, entanglement="circular")
        qc = lib.pauli_feature_map(n, reps=3, entanglement="circular", paulis=paulis)
        np.testing.assert_allclose(simulate(fmap.build(n), X), _qiskit_states(qc, X), atol=ATOL)


def test_zz_feature_map_is_pauli_z_zz():
    X = _samples(3)
    a = simulate(ZZFeatureMap(reps=2, alpha=1.5).build(3), X)
    b = simulate(PauliFeatureMap(("Z", "ZZ"), reps=2, alpha=1.5).build(3), X)
    np.testing.assert_allclose(a, b, atol=1e-14)
    assert ZZFeatureMap().build(3) == PauliFeatureMap().build(3)


def test_pauli_feature_map_closed_form():
    # One repetition of Z + ZZ on |+...+>: phases alpha * (x_i on odd bit i, (pi - x_i)(pi -
    # x_j) on odd parity of bits i, j) (REFERENCES.md), so the state is known exactly.
    n, alpha = 3, 2.0
    X = _samples(n)
    states = simulate(ZZFeatureMap(reps=1, alpha=alpha).build(n), X)
    bits = (np.arange(2**n)[:, None] >> np.arange(n)[None, :]) & 1
    for x, state in zip(X, states, strict=True):
        phase = alpha * bits @ x
        for i in range(n):
            for j in range(i + 1, n):
                phase += alpha * (np.pi - x[i]) * (np.pi - x[j]) * ((bits[:, i] + bits[:, j]) % 2)
        np.testing.assert_allclose(state, np.exp(1j * phase) / 2 ** (n / 2), atol=1e-12)


# -- PennyLane --------------------------------------------------------------------------------
def _pennylane_states(n, template, X):
    qml = pytest.importorskip("pennylane")
    dev = qml.device("default.qubit", wires=n)

    @qml.qnode(dev)
    def circuit(x):
        template(qml, x)
        return qml.state()

    states = np.array([circuit(x) for x in X])
    return _big_to_little_endian(states, n)


@pytest.mark.parametrize("n", [1, 2, 4])
@pytest.mark.parametrize("n_repeats", [1, 2])
def test_iqp_embedding_equals_pennylane(n, n_repeats):
    X = _samples(n, seed=n)
    expected = _pennylane_states(
        n, lambda qml, x: qml.IQPEmbedding(x, wires=range(n), n_repeats=n_repeats), X
    )
    got = simulate(IQPEmbedding(n_repeats=n_repeats).build(n), X)
    np.testing.assert_allclose(got, expected, atol=ATOL)


def test_iqp_embedding_pattern_equals_pennylane():
    n, pattern = 4, [[0, 3], [2, 1], [1, 3]]
    X = _samples(n)
    expected = _pennylane_states(
        n, lambda qml, x: qml.IQPEmbedding(x, wires=range(n), n_repeats=2, pattern=pattern), X
    )
    got = simulate(IQPEmbedding(n_repeats=2, pattern=pattern).build(n), X)
    np.testing.assert_allclose(got, expected, atol=ATOL)


@pytest.mark.parametrize("rotation", ["X", "Y", "Z"])
def test_angle_embedding_equals_pennylane(rotation):
    n = 3
    X = _samples(n)
    expected = _pennylane_states(
        n, lambda qml, x: qml.AngleEmbedding(x, wires=range(n), rotation=rotation), X
    )
    got = simulate(AngleEmbedding(rotation=rotation).build(n), X)
    np.testing.assert_allclose(got, expected, atol=ATOL)
    # With Hadamards first: H on every wire, then the embedding.
    expected = _pennylane_states(
        n,
        lambda qml, x: (
            [qml.Hadamard(w) for w in range(n)],
            qml.AngleEmbedding(x, wires=range(n), rotation=rotation),
        ),
        X,
    )
    got = simulate(AngleEmbedding(rotation=rotation.lower(), hadamard=True).build(n), X)
    np.testing.assert_allclose(got, expected, atol=ATOL)


@pytest.mark.parametrize(("n", "steps", "t"), [(1, 1, 0.5), (3, 2, 1 / 3), (3, 5, 1 / 3)])
def test_heisenberg_embedding_equals_pennylane(n, steps, t):
    fmap = HeisenbergEmbedding(trotter_steps=steps, evolution_time=t, random_state=7)
    circuit = fmap.build(n)
    assert circuit.n_qubits == n + 1 == fmap.n_qubits(n)
    rots = [op for op in circuit if op.name == "rot"]
    assert [op.qubits for op in rots] == [(q,) for q in range(n + 1)]
    rot_angles = np.array([[p.value() for p in op.params] for op in rots])
    expected_angles = np.random.default_rng(7).uniform(size=(n + 1, 3)) * 2 * np.pi
    np.testing.assert_allclose(rot_angles, expected_angles, atol=0)

    def template(qml, x):
        for q in range(n + 1):
            qml.Rot(*rot_angles[q], wires=q)
        for _ in range(steps):
            for j in range(n):
                angle = x[j] * t * n / steps
                qml.IsingXX(angle, wires=[j, j + 1])
                qml.IsingYY(angle, wires=[j, j + 1])
                qml.IsingZZ(angle, wires=[j, j + 1])

    X = _samples(n)
    np.testing.assert_allclose(
        simulate(circuit, X), _pennylane_states(n + 1, template, X), atol=ATOL
    )


def test_heisenberg_random_state():
    a, b = HeisenbergEmbedding(random_state=1).build(3), HeisenbergEmbedding(random_state=1)
    assert a == b.build(3) and a != HeisenbergEmbedding(random_state=2).build(3)
    assert HeisenbergEmbedding().build(2) == HeisenbergEmbedding(random_state=0).build(2)
    legacy = HeisenbergEmbedding(random_state=np.random.RandomState(0)).build(2)
    assert legacy.n_qubits == 3 and legacy.count_ops()["rot"] == 3


# -- parameters and validation ----------------------------------------------------------------
ALL_MAPS = [
    ZZFeatureMap(reps=3, entanglement="linear", alpha=1.5),
    PauliFeatureMap(paulis=("Z", "XY"), reps=1),
    IQPEmbedding(n_repeats=2, pattern=[(0, 1)]),
    AngleEmbedding(rotation="X", hadamard=True),
    HeisenbergEmbedding(trotter_steps=2, evolution_time=0.5, random_state=3),
    HubregtsenEmbedding(n_layers=2, n_wires=3),
]


@pytest.mark.parametrize("fmap", ALL_MAPS, ids=lambda f: type(f).__name__)
def test_params_clone_and_equality(fmap):
    params = fmap.get_params()
    twin = clone(fmap)
    assert twin is not fmap and twin == fmap and hash(twin) == hash(fmap)
    assert twin.get_params() == params
    assert twin.build(2) == fmap.build(2)
    other = type(fmap)(**params)
    assert other == fmap
    key, value = next(iter(params.items()))
    changed = clone(fmap).set_params(**{key: _different(value)})
    assert changed != fmap and fmap.get_params() == params
    assert fmap != "not a feature map"


def _different(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    if isinstance(value, str):
        return "Z" if value != "Z" else "X"
    if value is None:
        return [(0, 1)]
    return ("Z",) if tuple(value) != ("Z",) else ("X",)


def test_set_params_changes_the_circuit():
    fmap = ZZFeatureMap()
    assert fmap.get_params() == {"reps": 2, "entanglement": "full", "alpha": 2.0}
    before = fmap.build(3)
    assert fmap.set_params(reps=1) is fmap
    assert len(fmap.build(3)) < len(before)
    assert PauliFeatureMap().get_params()["paulis"] == ("Z", "ZZ")


@pytest.mark.parametrize(
    ("fmap", "error"),
    [
        (ZZFeatureMap(reps=0), ValueError),
        (ZZFeatureMap(reps=1.5), ValueError),
        (ZZFeatureMap(reps=True), ValueError),
        (ZZFeatureMap(alpha=np.nan), ValueError),
        (ZZFeatureMap(alpha=np.inf), ValueError),
        (ZZFeatureMap(alpha="2"), TypeError),
        (ZZFeatureMap(alpha=None), TypeError),
        (ZZFeatureMap(entanglement="nope"), ValueError),
        (PauliFeatureMap(paulis=()), ValueError),
        (PauliFeatureMap(paulis=("Z", "ZA")), ValueError),
        (PauliFeatureMap(paulis=("",)), ValueError),
        (PauliFeatureMap(paulis=(1,)), ValueError),
        (PauliFeatureMap(paulis=("ZZZ",), entanglement="pairwise"), ValueError),
        (IQPEmbedding(n_repeats=0), ValueError),
        (IQPEmbedding(pattern=[(0, 1, 2)]), ValueError),
        (IQPEmbedding(pattern=[(0, 5)]), ValueError),
        (AngleEmbedding(rotation="W"), ValueError),
        (AngleEmbedding(rotation=1), ValueError),
        (HeisenbergEmbedding(trotter_steps=0), ValueError),
        (HeisenbergEmbedding(evolution_time="1"), TypeError),
        (HubregtsenEmbedding(n_layers=0), ValueError),
        (HubregtsenEmbedding(n_layers=1.5), ValueError),
        (HubregtsenEmbedding(n_wires=0), ValueError),
        (HubregtsenEmbedding(n_wires="5"), ValueError),
    ],
    ids=repr,
)
def test_invalid_parameters(fmap, error):
    with pytest.raises(error):
        fmap.build(3)


@pytest.mark.parametrize("n_features", [0, -1, 2.5])
def test_invalid_n_features(n_features):
    with pytest.raises(ValueError, match="n_features"):
        ZZFeatureMap().build(n_features)


def test_one_feature_has_no_pair_terms():
    for fmap in (ZZFeatureMap(), PauliFeatureMap(("Z", "XX", "YZ")), IQPEmbedding()):
        c = fmap.build(1)
        assert c.n_qubits == 1 and c.n_features == 1
        assert all(len(op.qubits) == 1 for op in c)
    X = np.array([[0.3], [1.7]])
    # ZZ map on one qubit, two reps: (P(2x) H) twice on |0>.
    c = ZZFeatureMap().build(1)
    assert c.count_ops() == {"h": 2, "p": 2}
    h = np.array([[1, 1], [1, -1]]) / np.sqrt(2)
    for x, state in zip(X[:, 0], simulate(c, X), strict=True):
        p = np.diag([1, np.exp(2j * x)])
        np.testing.assert_allclose(state, p @ h @ p @ h @ [1, 0], atol=1e-14)
    assert HeisenbergEmbedding().build(1).n_qubits == 2


def test_messages_name_the_class_and_numpy_scalars_work():
    # One validator (skqml._validation) for every number: sklearn's InvalidParameterError
    # naming the class the user built and the accepted range.
    with pytest.raises(InvalidParameterError, match=r"ZZFeatureMap\.reps must be an integer >= 1"):
        ZZFeatureMap(reps=0).build(2)
    with pytest.raises(InvalidParameterError, match=r"PauliFeatureMap\.alpha must be a finite"):
        PauliFeatureMap(alpha=np.inf).build(2)
    with pytest.raises(InvalidParameterError, match=r"IQPEmbedding\.n_repeats"):
        IQPEmbedding(n_repeats=1.0).build(2)
    with pytest.raises(InvalidParameterError, match=r"HeisenbergEmbedding\.trotter_steps"):
        HeisenbergEmbedding(trotter_steps=True).build(2)
    with pytest.raises(InvalidParameterError, match="n_features must be an integer >= 1"):
        HeisenbergEmbedding().n_qubits(0)
    # NumPy scalars (a grid over np.array values) build the same circuit as Python numbers.
    assert ZZFeatureMap(reps=np.int64(1), alpha=np.float32(1.5)).build(np.int64(3)) == (
        ZZFeatureMap(reps=1, alpha=1.5).build(3)
    )
    assert HeisenbergEmbedding(np.int32(2), np.float64(0.5)).build(np.int64(2)) == (
        HeisenbergEmbedding(2, 0.5).build(2)
    )


def test_pauli_terms_are_checked_as_pauli_labels():
    # Terms of any length; the letters are checked by the one Pauli-label validator, and
    # lower case is read as upper case, as everywhere in skqml.
    with pytest.raises(
        ValueError, match=r"PauliFeatureMap\.paulis term 'ZA' must be 2 characters"
    ):
        PauliFeatureMap(paulis=("Z", "ZA")).build(2)
    with pytest.raises(InvalidParameterError, match=r"PauliFeatureMap\.paulis .*non-empty"):
        PauliFeatureMap(paulis=("Z", "")).build(2)
    with pytest.raises(InvalidParameterError, match=r"PauliFeatureMap\.paulis .*sequence"):
        PauliFeatureMap(paulis=3).build(2)
    lower = PauliFeatureMap(paulis=("x", "yz"), reps=1).build(2)
    assert lower == PauliFeatureMap(paulis=("X", "YZ"), reps=1).build(2)


@pytest.mark.parametrize("hadamard", ["yes", 1, None])
def test_angle_embedding_hadamard_must_be_a_bool(hadamard):
    # A truthy string or number used to add Hadamards silently.
    with pytest.raises(
        InvalidParameterError, match=r"AngleEmbedding\.hadamard must be True or False"
    ):
        AngleEmbedding(hadamard=hadamard).build(2)
    assert AngleEmbedding(hadamard=np.True_).build(2) == AngleEmbedding(hadamard=True).build(2)


# -- trainable embeddings ---------------------------------------------------------------------
def _demo_layer(qml, x, params, wires, i0):
    """The layer of PennyLane's demo "Training and evaluating quantum kernels" (its current
    form, without the removed ``qml.broadcast``)."""
    i = i0
    for j, wire in enumerate(wires):
        qml.Hadamard(wires=[wire])
        qml.RZ(x[i % len(x)], wires=[wire])
        i += 1
        qml.RY(params[0, j], wires=[wire])
    n_wires = len(wires)
    for p, w in zip(params[1], wires, strict=True):
        qml.CRZ(p, wires=[w % n_wires, (w + 1) % n_wires])


@pytest.mark.parametrize(
    ("n_features", "n_wires", "n_layers"), [(2, 5, 3), (4, 3, 2), (2, 2, 2), (3, None, 1)]
)
def test_hubregtsen_embedding_equals_pennylane_demo(n_features, n_wires, n_layers):
    fmap = HubregtsenEmbedding(n_layers=n_layers, n_wires=n_wires)
    n = fmap.n_qubits(n_features)
    params = np.random.default_rng(n).uniform(0, 2 * np.pi, (n_layers, 2, n))

    def template(qml, x):
        for layer, layer_params in enumerate(params):
            _demo_layer(qml, x, layer_params, list(range(n)), i0=layer * n)

    X = _samples(n_features, seed=n_layers)
    expected = _pennylane_states(n, template, X)
    got = simulate(fmap.build(n_features), X, params.ravel())
    np.testing.assert_allclose(got, expected, atol=ATOL)


def test_hubregtsen_embedding_gate_sequence():
    # Three wires, two features, two layers: the features continue cycling in layer 1
    # (x[(3 l + j) mod 2]); weights layer by layer, RY angles then the CRZ ring.
    got = [
        (op.name, op.qubits, str(op.params[0]) if op.params else None)
        for op in HubregtsenEmbedding(n_layers=2, n_wires=3).build(2)
    ]
    expected = []
    for layer, features in ((0, (0, 1, 0)), (1, (1, 0, 1))):
        for j, i in enumerate(features):
            w = 6 * layer + j
            expected += [("h", (j,), None), ("rz", (j,), f"x[{i}]"), ("ry", (j,), f"θ[{w}]")]
        expected += [
            ("crz", (0, 1), f"θ[{6 * layer + 3}]"),
            ("crz", (1, 2), f"θ[{6 * layer + 4}]"),
            ("crz", (2, 0), f"θ[{6 * layer + 5}]"),
        ]
    assert got == expected
    # One wire: no ring, one weight per layer.
    one = HubregtsenEmbedding(n_layers=2, n_wires=1).build(3)
    assert one.count_ops() == {"h": 2, "rz": 2, "ry": 2} and one.n_weights == 2
    assert [str(op.params[0]) for op in one if op.name == "rz"] == ["x[0]", "x[1]"]


def test_hubregtsen_initial_weights_are_the_demos_draw():
    fmap = HubregtsenEmbedding(n_layers=6, n_wires=5)
    # The demo: np.random.seed(1359); np.random.uniform(0, 2 pi, (6, 2, 5)).
    demo = np.random.RandomState(1359).uniform(0, 2 * np.pi, (6, 2, 5))
    got = fmap.initial_weights(2, random_state=np.random.RandomState(1359))
    np.testing.assert_array_equal(got, demo.ravel())
    assert got.shape == (fmap.build(2).n_weights,) == (60,)
    again = fmap.initial_weights(2, random_state=0)
    np.testing.assert_array_equal(again, fmap.initial_weights(2, random_state=0))
    assert ((again >= 0) & (again < 2 * np.pi)).all()


@pytest.mark.parametrize("fmap", ALL_MAPS, ids=lambda f: type(f).__name__)
def test_initial_weights_fit_the_circuit(fmap):
    for n_features in (2, 3):
        weights = fmap.initial_weights(n_features, random_state=0)
        assert weights.shape == (fmap.build(n_features).n_weights,)
        simulate(fmap.build(n_features), _samples(n_features), weights)


def test_a_map_with_weights_must_define_its_initial_weights():
    class Weighted(FeatureMap):
        def build(self, n_features):
            return AngleEmbedding().build(n_features).ry(skqml.circuits.weight(0), 0)

    with pytest.raises(NotImplementedError, match="Weighted builds a circuit with 1 trainable"):
        Weighted().initial_weights(2)


def test_maps_with_weights_document_their_order():
    maps = [getattr(skqml.circuits, name) for name in skqml.circuits.__all__]
    maps = [m for m in maps if isinstance(m, type) and issubclass(m, FeatureMap)]
    trainable = [m for m in maps if m is not FeatureMap and m().build(3).n_weights]
    assert set(trainable) == {HubregtsenEmbedding, QAOAEmbedding}
    for cls in trainable:
        assert "Weights, in order:" in cls.__doc__
        assert "initial_weights" in vars(cls)


@pytest.mark.parametrize(
    "fmap",
    [
        ZZFeatureMap(reps=2),
        IQPEmbedding(n_repeats=2),
        HeisenbergEmbedding(trotter_steps=2),
        AngleEmbedding(rotation="X"),
        HubregtsenEmbedding(n_layers=2, n_wires=4),
        QAOAEmbedding(n_layers=2),
    ],
    ids=lambda f: type(f).__name__,
)
def test_bandwidth_as_weight_scales_the_features(fmap):
    circuit = fmap.build(3)
    scaled = bandwidth_as_weight(circuit)
    assert scaled.n_weights == circuit.n_weights + 1
    assert scaled.n_qubits == circuit.n_qubits and scaled.n_features == circuit.n_features
    X = _samples(3, n_samples=4)
    weights = fmap.initial_weights(3, random_state=1)
    for bandwidth in (0.37, 1.0, 2.5):
        np.testing.assert_allclose(
            simulate(scaled, X, np.append(weights, bandwidth)),
            simulate(circuit, X * bandwidth, weights),
            atol=1e-12,
        )


def test_bandwidth_as_weight_without_features():
    circuit = skqml.circuits.Circuit(1).ry(skqml.circuits.weight(0), 0)
    assert bandwidth_as_weight(circuit) == circuit  # nothing to scale: the weight is unread


def test_heisenberg_rotations_given_explicitly():
    angles = np.random.default_rng(3).uniform(size=(3, 3)) * 2 * np.pi
    # The same circuit as drawing them: random_state=3 draws exactly these.
    assert HeisenbergEmbedding(rotations=angles).build(2) == HeisenbergEmbedding(
        random_state=3
    ).build(2)
    with pytest.raises(ValueError, match=r"shape \(4, 3\)"):
        HeisenbergEmbedding(rotations=angles).build(3)
    with pytest.raises(ValueError, match="finite"):
        HeisenbergEmbedding(rotations=np.full((3, 3), np.nan)).build(2)
