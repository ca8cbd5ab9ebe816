"""Every gate of the gate table through every consumer of it.

A gate is declared once, in ``skqml/circuits/_gates.py``; the simulator, ``Circuit.inverse``,
the adjoint and parameter-shift gradients, OpenQASM export and the Qiskit and PennyLane
backends read that declaration. This walk runs each gate (at each arity, for gates of any
arity) through each consumer against an independent reference, so a gate that a consumer
does not know fails here with a message naming both. A consumer may leave a gate out only
by declaring it (``GateSpec.unsupported``): then the consumer must refuse the gate with
``NotImplementedError``, and that is what is checked.

References: dense unitaries built gate by gate from the declared matrices (``_reference``),
central finite differences for gradients, Qiskit's OpenQASM importers and ``Operator`` for
export and translation, PennyLane's ``default.qubit`` states for its translation.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from _reference import circuit_unitary
from test_gates import GATE_CASES, _random_angle
from test_gradients import (
    N_QUBITS,
    _angle,
    adjoint,
    exact_shift,
    finite_differences,
    random_inputs,
)

from skqml.circuits import GATES, Circuit, Operation, feature, weight
from skqml.circuits._gates import CONSUMERS

ATOL = 1e-12
N = 4  # qubits of the walk's circuits: every arity of the table fits


def _one_gate(name: str, k: int, seed: int) -> tuple[Circuit, np.ndarray, np.ndarray]:
    """The gate alone on ``k`` random qubits of ``N``, angles mixing features and weights."""
    rng = np.random.default_rng(seed)
    qubits = tuple(int(q) for q in rng.permutation(N)[:k])
    params = [_random_angle(rng) for _ in range(GATES[name].n_params)]
    circuit = Circuit(N, [Operation(name, qubits, params)])
    return circuit, rng.uniform(-3, 3, 2), rng.uniform(-3, 3, 2)


def _where(name: str, k: int, consumer: str) -> str:
    return f"gate {name!r} ({k} qubits), consumer {consumer!r}"


# -- the consumers ----------------------------------------------------------------------------
def _check_matrix(name, k, seed):
    """The simulator's two forms: the dense matrix is unitary and equals the diagonal form."""
    spec = GATES[name]
    rng = np.random.default_rng(seed)
    angles = [rng.uniform(-5, 5, 1) for _ in range(spec.n_params)]
    m = spec.matrix(*angles, n_qubits=k)[0]
    np.testing.assert_allclose(m @ m.conj().T, np.eye(2**k), atol=ATOL)
    if spec.diagonal is not None:
        # The simulator fuses diagonal gates from their phase patterns: they must be the matrix.
        const, patterns = spec.diagonal(k)
        phase = const + sum((a[0] * p for a, p in zip(angles, patterns, strict=True)), 0.0)
        np.testing.assert_allclose(m, np.diag(np.exp(1j * phase)), atol=ATOL)


def _check_inverse(name, k, seed):
    circuit, x, w = _one_gate(name, k, seed)
    u, u_inv = circuit_unitary(circuit, x, w), circuit_unitary(circuit.inverse(), x, w)
    np.testing.assert_allclose(u_inv @ u, np.eye(2**N), atol=ATOL)
    np.testing.assert_allclose(u_inv, u.conj().T, atol=ATOL)


def _gradient_circuit(name: str, k: int, seed: int) -> Circuit:
    """The gate between trainable layers, in a generic entangled state.

    Trainable gates before it make the backward sweep undo the gate (its inverse); a gate with
    angles gets trainable ones (the test_gradients expressions), so its own derivative counts.
    """
    rng = np.random.default_rng(seed)
    c = Circuit(N_QUBITS)
    for q in range(N_QUBITS):
        c = c.h(q).ry(feature(q % 3), q).rx(weight(q), q)
    for q in range(N_QUBITS - 1):
        c = c.cnot(q, q + 1)
    qubits = tuple(int(q) for q in rng.permutation(N_QUBITS)[:k])
    c = c.append(name, qubits, *[_angle(rng) for _ in range(GATES[name].n_params)])
    for q in range(N_QUBITS):
        c = c.ry(weight(4 + q) * feature((q + 1) % 3), q)
    return c.cnot(0, N_QUBITS - 1)


def _check_adjoint(name, k, seed):
    circuit = _gradient_circuit(name, k, seed)
    X, theta, G = random_inputs(seed)
    fd = finite_differences(circuit, X, theta, G)
    assert np.abs(fd).max() > 0.1  # the comparison is not trivially between zeros
    np.testing.assert_allclose(adjoint(circuit, X, theta, G)[1], fd, atol=1e-6)


def _check_parameter_shift(name, k, seed):
    circuit = _gradient_circuit(name, k, seed)
    X, theta, G = random_inputs(seed)
    fd = finite_differences(circuit, X, theta, G)
    np.testing.assert_allclose(exact_shift(circuit, X, theta, G), fd, atol=1e-6)


def _qiskit_operator(qc) -> np.ndarray:
    from qiskit.quantum_info import Operator

    return Operator(qc).data


def _check_qasm(version):
    def check(name, k, seed):
        qiskit = pytest.importorskip("qiskit")
        circuit, x, w = _one_gate(name, k, seed)
        source = circuit.to_qasm(x, w, version=version)
        if version == 2:
            # Qiskit's qelib1.inc, as Qiskit ships it (p, sxdg, rxx, rzz, ...).
            legacy = qiskit.qasm2.LEGACY_CUSTOM_INSTRUCTIONS
            qc = qiskit.qasm2.loads(source, custom_instructions=legacy)
        else:
            if importlib.util.find_spec("qiskit_qasm3_import") is None:
                pytest.skip("OpenQASM 3 import needs qiskit_qasm3_import")
            qc = qiskit.qasm3.loads(source)
        # Global phase included: library gates and definitions keep it exactly.
        np.testing.assert_allclose(
            _qiskit_operator(qc), circuit_unitary(circuit, x, w), atol=1e-10, err_msg=source
        )

    return check


def _check_qiskit(name, k, seed):
    pytest.importorskip("qiskit")
    from skqml.backends._qiskit import _angle_values, _to_qiskit

    circuit, x, w = _one_gate(name, k, seed)
    values = _angle_values(circuit, x[None], w, 1)[0]
    qc = _to_qiskit(circuit, measure=False).assign_parameters(values)
    np.testing.assert_allclose(_qiskit_operator(qc), circuit_unitary(circuit, x, w), atol=ATOL)


def _check_pennylane(name, k, seed):
    pytest.importorskip("pennylane")
    from test_pennylane_backend import _entangled_start, _pennylane_states

    from skqml.simulator import simulate

    rng = np.random.default_rng(seed)
    qubits = tuple(int(q) for q in rng.permutation(N)[:k])
    # A feature, a weight and a constant: broadcast and constant angles in one gate.
    kinds = [0.7 * feature(0) + 0.2, 1.3 * weight(0) - feature(1), 0.9]
    circuit = _entangled_start(N).append(name, qubits, *kinds[: GATES[name].n_params])
    X, w = rng.uniform(-np.pi, np.pi, (3, 2)), np.array([0.8])
    # States, global phase included.
    np.testing.assert_allclose(
        _pennylane_states(circuit, X, w), simulate(circuit, X, w), rtol=0, atol=ATOL
    )


CHECKS = {
    "matrix": _check_matrix,
    "inverse": _check_inverse,
    "adjoint": _check_adjoint,
    "parameter_shift": _check_parameter_shift,
    "qasm2": _check_qasm(2),
    "qasm3": _check_qasm(3),
    "qiskit": _check_qiskit,
    "pennylane": _check_pennylane,
}


# -- the walk ---------------------------------------------------------------------------------
def test_every_consumer_is_walked():
    assert set(CHECKS) == {"matrix", *CONSUMERS}
    for name, spec in GATES.items():
        unknown = set(spec.unsupported) - set(CONSUMERS)
        assert not unknown, f"gate {name!r} declares unknown consumers {unknown}"


@pytest.mark.parametrize("consumer", list(CHECKS))
@pytest.mark.parametrize(("name", "k"), GATE_CASES)
def test_gate_through_consumer(name, k, consumer):
    seed = [sorted(GATES).index(name), k, list(CHECKS).index(consumer)]
    seed = int(np.random.SeedSequence(seed).generate_state(1)[0])
    if consumer in GATES[name].unsupported:
        # Declared unsupported: the consumer refuses the gate by name.
        with pytest.raises(NotImplementedError, match=name):
            CHECKS[consumer](name, k, seed)
        return
    try:
        CHECKS[consumer](name, k, seed)
    except NotImplementedError as exc:
        pytest.fail(
            f"{_where(name, k, consumer)}: not supported ({exc}). Declare it in the gate table "
            "(skqml/circuits/_gates.py), or list the consumer in its GateSpec.unsupported"
        )
    except AssertionError as exc:
        raise AssertionError(f"{_where(name, k, consumer)}: {exc}") from None


@pytest.mark.parametrize("name", sorted(GATES))
def test_declarations_are_consistent(name):
    """What the gradients need is declared for every gate with angles, and only for them."""
    spec = GATES[name]
    if spec.n_params == 0:
        assert spec.generator is None and not spec.shift_rule and not spec.split, name
        return
    assert spec.shift_rule, f"gate {name!r} has angles but no shift rule"
    if spec.split:
        # Each part is a one-angle gate with a generator; every angle is used once.
        assert sorted(i for _, i in spec.split) == list(range(spec.n_params)), name
        for sub, _ in spec.split:
            assert GATES[sub].n_params == 1 and GATES[sub].generator is not None, (name, sub)
    else:
        assert spec.n_params == 1 and spec.generator is not None, name
