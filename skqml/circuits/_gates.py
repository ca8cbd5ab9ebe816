"""The gate set: names, arities and matrices, vectorised over a batch of angles.

Matrix convention: a gate acting on qubits ``(q0, q1, ...)`` (in the order the operation lists
them) has its matrix written in the basis ``|b(q0) b(q1) ...>`` with ``q0`` the most
significant bit, the textbook order (so ``CNOT(control, target)`` is
``[[1,0,0,0],[0,1,0,0],[0,0,0,1],[0,0,1,0]]``). The state vector itself is numbered
little-endian (qubit 0 is the least significant bit of the basis index), as in Qiskit; the
simulator takes care of the mapping.

Each matrix function takes one array of shape ``(B,)`` per angle and returns ``(B, d, d)``
complex128. Diagonal gates also give their phases as ``const + sum_p angle_p * pattern_p``
over the local basis, which lets the simulator fuse runs of them into one phase vector.

The table is the one place that says what each layer needs of a gate: besides its matrix, its
inverse, its generator or decomposition for gradients, its parameter-shift rule, and how
OpenQASM export, Qiskit and PennyLane write it. The consumers read it when they compile or
translate a circuit, never per sample; tests/test_gate_table.py walks every gate through every
consumer. A consumer leaves a gate out only by declaring it (``GateSpec.unsupported``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from math import pi, sqrt

import numpy as np

__all__ = ["CONSUMERS", "GATES", "GateSpec", "gate_spec"]

_SQ2 = 1.0 / np.sqrt(2.0)


# Consumers of the table that a gate may legitimately not support (``GateSpec.unsupported``).
CONSUMERS = ("inverse", "adjoint", "parameter_shift", "qasm2", "qasm3", "qiskit", "pennylane")


@dataclass(frozen=True)
class Inverse:
    """The adjoint of a gate: ``gate`` (None: the gate itself) on the same qubits, with the
    angles ``-angles[i] for i in negate``.

    Self-inverse gates have ``Inverse()``, ``s`` has ``Inverse("sdg")``, ``rx`` negates its
    angle (``Inverse(negate=(0,))``), ``u3(t, p, l)`` has ``u3(-t, -l, -p)``
    (``negate=(0, 2, 1)``).
    """

    gate: str | None = None
    negate: tuple[int, ...] = ()


@dataclass(frozen=True)
class Generator:
    """The generator ``K`` of a one-angle gate, ``dU/dt = -i K U``: ``K = coeff * mask * P``.

    Attributes
    ----------
    coeff : float
        The scalar factor.
    pauli : str
        One Pauli letter per qubit of the operation (``"I"``: none), in the order the
        operation lists them; one letter on a gate of any arity acts on every qubit; ``""``:
        no Pauli factor.
    mask : tuple of int or None
        Positions (in the operation's qubits) of the 0/1 basis mask; ``None``: all qubits.
    mask_kind : {"all", "parity"}
        The mask is 1 where all its bits are 1, or where their parity is odd.
    """

    coeff: float
    pauli: str = ""
    mask: tuple[int, ...] | None = ()
    mask_kind: str = "all"


@dataclass(frozen=True)
class Parity:
    """A gate of any arity that is the one-qubit gate ``rotation`` on the parity of its qubits
    (a CX ladder collects the parity on the last qubit, ``rotation`` acts there, the ladder is
    undone). ``small``: ``(arity, gate)`` pairs of gates that equal it at that arity."""

    rotation: str
    small: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class Qasm:
    """How OpenQASM export writes a gate.

    ``name`` is its name in the include files of ``versions`` (2: Qiskit's ``qelib1.inc``,
    3: ``stdgates.inc``) with the same matrix, global phase included; for other versions (or
    without a name) the program defines it with ``definition``, built only from library gates
    whose global phase is exact. Without either, export writes the gate's ``parity`` ladder or
    its ``decomposition``.
    """

    name: str | None = None
    versions: tuple[int, ...] = (2, 3)
    definition: str | None = None


@dataclass(frozen=True)
class PennyLaneOp:
    """The PennyLane operation of a gate: the gate equals ``e^{i phase * angles[0]}`` times
    the operation ``name`` (or its adjoint) on the same wires, with the same angles."""

    name: str
    adjoint: bool = False
    phase: float = 0.0


# Parameter-shift rules ``((coefficient, shift), ...)``, ``dE/dt = sum c (E(t + s) - E(t - s))``.
# Two eigenvalues of the generator a unit apart (+-1/2 for rotations, Ising gates, MultiRZ and
# each angle of U3 and Rot; {0, -1} for P, CP and the parity phase): the two-term rule. The
# controlled rotations' generators have eigenvalues {0, +-1/2}: the four-term rule.
TWO_TERM = ((0.5, pi / 2),)
_C1, _C2 = (sqrt(2) + 1) / (4 * sqrt(2)), (sqrt(2) - 1) / (4 * sqrt(2))
FOUR_TERM = ((_C1, pi / 2), (-_C2, 3 * pi / 2))


@dataclass(frozen=True)
class GateSpec:
    """Static description of a gate type: everything each layer of skqml knows about it.

    Attributes
    ----------
    name : str
        Lower-case name used in circuits (``"rx"``, ``"cnot"``, ...).
    n_qubits : int or None
        Number of qubits; ``None`` for gates of any arity (``multirz``).
    n_params : int
        Number of angles.
    matrix : callable
        ``matrix(*angles, n_qubits=k)`` -> array ``(B, 2**k, 2**k)``.
    n_controls : int
        Leading qubits that act as controls; the rest is the target block ``target``.
    target : str or None
        Name of the gate applied to the targets when all controls are 1.
    diagonal : callable or None
        ``diagonal(k)`` -> ``(const, patterns)``: the gate equals
        ``diag(exp(i * (const + sum_p angle_p * patterns[p])))`` over the local basis.
    description : str
        What the gate is, in words (it also documents the :class:`Circuit` builder method).
    inverse : Inverse or None
        Its adjoint (:meth:`Circuit.inverse`, the adjoint gradient's backward sweep).
    generator : Generator or None
        One-angle gates: the generator (adjoint gradients).
    decomposition : tuple of (str, int)
        The gate as one-angle gates on the same qubits, in time order, each with the index of
        the angle it takes; exact, global phase included (Qiskit, OpenQASM, gradients).
    gradient_split : tuple of (str, int)
        As ``decomposition`` but only up to a global phase, which expectation values do not
        see: what adjoint gradients split the gate into (default: ``decomposition``).
    parity : Parity or None
        Gates of any arity: the parity ladder (Qiskit, OpenQASM).
    shift_rule : tuple of (float, float)
        Parameter-shift rule of each angle (``TWO_TERM`` or ``FOUR_TERM``).
    qasm : Qasm or None
        OpenQASM export.
    qiskit : str or None
        Name of the ``QuantumCircuit`` method that appends the gate with the same matrix
        (angles, then qubits in the operation's order); without it the Qiskit backend writes
        the ``parity`` ladder or the ``decomposition``.
    pennylane : PennyLaneOp or None
        The PennyLane operation.
    unsupported : tuple of str
        Consumers (of :data:`CONSUMERS`) that do not support the gate, on purpose.
    """

    name: str
    n_qubits: int | None
    n_params: int
    matrix: Callable[..., np.ndarray]
    n_controls: int = 0
    target: str | None = None
    diagonal: Callable[[int], tuple[np.ndarray, np.ndarray]] | None = None
    description: str = ""
    inverse: Inverse | None = None
    generator: Generator | None = None
    decomposition: tuple[tuple[str, int], ...] = ()
    gradient_split: tuple[tuple[str, int], ...] = ()
    parity: Parity | None = None
    shift_rule: tuple[tuple[float, float], ...] = ()
    qasm: Qasm | None = None
    qiskit: str | None = None
    pennylane: PennyLaneOp | None = None
    unsupported: tuple[str, ...] = ()

    @property
    def split(self) -> tuple[tuple[str, int], ...]:
        """One-angle gates equal to this one up to a global phase (``()``: none needed)."""
        return self.gradient_split or self.decomposition


def _const(m) -> Callable[..., np.ndarray]:
    m = np.asarray(m, dtype=complex)

    def matrix(n_qubits=None):
        return m[None]

    return matrix


def _bits(k: int) -> np.ndarray:
    """Bits of the local basis, shape (k, 2**k); row 0 is the most significant qubit."""
    idx = np.arange(2**k)
    return (idx[None, :] >> np.arange(k - 1, -1, -1)[:, None]) & 1


def _rx(t):
    c, s = np.cos(t / 2), np.sin(t / 2)
    out = np.empty((t.shape[0], 2, 2), dtype=complex)
    out[:, 0, 0] = out[:, 1, 1] = c
    out[:, 0, 1] = out[:, 1, 0] = -1j * s
    return out


def _ry(t):
    c, s = np.cos(t / 2), np.sin(t / 2)
    out = np.empty((t.shape[0], 2, 2), dtype=complex)
    out[:, 0, 0] = out[:, 1, 1] = c
    out[:, 0, 1] = -s
    out[:, 1, 0] = s
    return out


def _diag_matrix(diagonal: Callable[[int], tuple[np.ndarray, np.ndarray]], k: int | None = None):
    def matrix(*angles, n_qubits=None):
        n = k if k is not None else n_qubits
        const, patterns = diagonal(n)
        batch = max((a.shape[0] for a in angles), default=1)
        phase = np.broadcast_to(const, (batch, 2**n)).copy()
        for a, p in zip(angles, patterns, strict=True):
            phase += a[:, None] * p[None, :]
        out = np.zeros((batch, 2**n, 2**n), dtype=complex)
        idx = np.arange(2**n)
        out[:, idx, idx] = np.exp(1j * phase)
        return out

    return matrix


def _diag(const_fn, pattern_fns=()) -> Callable[[int], tuple[np.ndarray, np.ndarray]]:
    def diagonal(k):
        b = _bits(k).astype(float)
        const = const_fn(b) if const_fn is not None else np.zeros(2**k)
        patterns = np.array([f(b) for f in pattern_fns]).reshape(len(pattern_fns), 2**k)
        return np.asarray(const, dtype=float) * np.ones(2**k), patterns

    return diagonal


def _z(b):  # +1 for bit 0, -1 for bit 1
    return 1.0 - 2.0 * b


def _u3(theta, phi, lam):
    c, s = np.cos(theta / 2), np.sin(theta / 2)
    batch = max(theta.shape[0], phi.shape[0], lam.shape[0])
    out = np.empty((batch, 2, 2), dtype=complex)
    out[:, 0, 0] = c
    out[:, 0, 1] = -np.exp(1j * lam) * s
    out[:, 1, 0] = np.exp(1j * phi) * s
    out[:, 1, 1] = np.exp(1j * (phi + lam)) * c
    return out


def _rot(a, b, c):
    # Rot(a, b, c) = RZ(c) RY(b) RZ(a)
    cb, sb = np.cos(b / 2), np.sin(b / 2)
    batch = max(a.shape[0], b.shape[0], c.shape[0])
    out = np.empty((batch, 2, 2), dtype=complex)
    out[:, 0, 0] = np.exp(-0.5j * (a + c)) * cb
    out[:, 0, 1] = -np.exp(0.5j * (a - c)) * sb
    out[:, 1, 0] = np.exp(-0.5j * (a - c)) * sb
    out[:, 1, 1] = np.exp(0.5j * (a + c)) * cb
    return out


def _pauli_rotation(p: np.ndarray):
    """exp(-i t P / 2) for a Pauli product P with P @ P = I."""

    def matrix(t):
        c, s = np.cos(t / 2), np.sin(t / 2)
        eye = np.eye(p.shape[0])
        return c[:, None, None] * eye[None] - 1j * s[:, None, None] * p[None]

    return matrix


_X = np.array([[0, 1], [1, 0]], dtype=complex)
_Y = np.array([[0, -1j], [1j, 0]], dtype=complex)
_Zm = np.diag([1.0, -1.0]).astype(complex)
_H = _SQ2 * np.array([[1, 1], [1, -1]], dtype=complex)


def _controlled(base: np.ndarray) -> np.ndarray:
    d = base.shape[-1]
    out = np.zeros((*base.shape[:-2], 2 * d, 2 * d), dtype=complex)
    out[..., :d, :d] = np.eye(d)
    out[..., d:, d:] = base
    return out


def _controlled_fn(fn):
    def matrix(*angles, n_qubits=None):
        return _controlled(fn(*angles))

    return matrix


_DIAG_RZ = _diag(None, (lambda b: -0.5 * _z(b[0]),))
_DIAG_P = _diag(None, (lambda b: b[0],))
_DIAG_CP = _diag(None, (lambda b: b[0] * b[1],))
_DIAG_CRZ = _diag(None, (lambda b: -0.5 * b[0] * _z(b[1]),))
_DIAG_RZZ = _diag(None, (lambda b: -0.5 * _z(b[0]) * _z(b[1]),))
_DIAG_MULTIRZ = _diag(None, (lambda b: -0.5 * np.prod(_z(b), axis=0),))
# Phase e^{i l} on basis states of odd parity over the gate's qubits: the Z-string evolution of
# Qiskit's Pauli feature maps (CX chain, P(l), CX chain), global phase included.
_DIAG_MULTIPHASE = _diag(None, (lambda b: np.sum(b, axis=0) % 2,))


def _fixed_phase(phi):
    return _diag(lambda b: phi * b[0])


def _spec_list() -> list[GateSpec]:
    z_diag = _fixed_phase(np.pi)
    s_diag, sdg_diag = _fixed_phase(np.pi / 2), _fixed_phase(-np.pi / 2)
    t_diag, tdg_diag = _fixed_phase(np.pi / 4), _fixed_phase(-np.pi / 4)
    cz_diag = _diag(lambda b: np.pi * b[0] * b[1])
    self_inverse, negated = Inverse(), Inverse(negate=(0,))

    def fixed(name, k, matrix, pennylane, *, qiskit=None, inverse=self_inverse, **kw):
        # Most fixed gates have the same name in both OpenQASM libraries and in Qiskit.
        kw.setdefault("qasm", Qasm(name))
        return GateSpec(
            name,
            k,
            0,
            matrix,
            inverse=inverse,
            qiskit=qiskit or name,
            pennylane=PennyLaneOp(pennylane),
            **kw,
        )

    def rotation(name, k, matrix, pennylane, generator, *, shift=TWO_TERM, **kw):
        # One-angle gates: the angle negated inverts them.
        kw.setdefault("qasm", Qasm(name))
        return GateSpec(
            name,
            k,
            1,
            matrix,
            inverse=negated,
            generator=generator,
            shift_rule=shift,
            qiskit=name,
            pennylane=PennyLaneOp(pennylane),
            **kw,
        )

    # Conjugating ZZ by H (X = H Z H) or by H Sdg (Y = S H Z H Sdg) gives the XX and YY
    # rotations exp(-i t P P / 2) from the exact exp(-i t Z Z / 2) = CX RZ(t) CX.
    rxx_qasm = "gate rxx(theta) a, b { h a; h b; cx a, b; rz(theta) b; cx a, b; h a; h b; }"
    ryy_qasm = (
        "gate ryy(theta) a, b { sdg a; h a; sdg b; h b; cx a, b; rz(theta) b; cx a, b;"
        " h a; s a; h b; s b; }"
    )
    rzz_qasm = "gate rzz(theta) a, b { cx a, b; rz(theta) b; cx a, b; }"
    return [
        fixed("id", 1, _const(np.eye(2)), "Identity"),
        fixed("h", 1, _const(_H), "Hadamard"),
        fixed("x", 1, _const(_X), "PauliX"),
        fixed("y", 1, _const(_Y), "PauliY"),
        fixed("z", 1, _diag_matrix(z_diag, 1), "PauliZ", diagonal=z_diag),
        fixed("s", 1, _diag_matrix(s_diag, 1), "S", diagonal=s_diag, inverse=Inverse("sdg")),
        GateSpec(
            "sdg",
            1,
            0,
            _diag_matrix(sdg_diag, 1),
            diagonal=sdg_diag,
            inverse=Inverse("s"),
            qasm=Qasm("sdg"),
            qiskit="sdg",
            pennylane=PennyLaneOp("S", adjoint=True),
        ),
        fixed("t", 1, _diag_matrix(t_diag, 1), "T", diagonal=t_diag, inverse=Inverse("tdg")),
        GateSpec(
            "tdg",
            1,
            0,
            _diag_matrix(tdg_diag, 1),
            diagonal=tdg_diag,
            inverse=Inverse("t"),
            qasm=Qasm("tdg"),
            qiskit="tdg",
            pennylane=PennyLaneOp("T", adjoint=True),
        ),
        fixed(
            "sx",
            1,
            _const(0.5 * np.array([[1 + 1j, 1 - 1j], [1 - 1j, 1 + 1j]])),
            "SX",
            inverse=Inverse("sxdg"),
        ),
        GateSpec(
            "sxdg",
            1,
            0,
            _const(0.5 * np.array([[1 - 1j, 1 + 1j], [1 + 1j, 1 - 1j]])),
            inverse=Inverse("sx"),
            qiskit="sxdg",
            pennylane=PennyLaneOp("SX", adjoint=True),
            # In Qiskit's qelib1.inc, not in stdgates.inc. SX = H S H, so SXdg = H Sdg H
            # exactly (no global phase to track).
            qasm=Qasm("sxdg", (2,), "gate sxdg a { h a; sdg a; h a; }"),
        ),
        rotation("rx", 1, lambda t, n_qubits=None: _rx(t), "RX", Generator(0.5, "X")),
        rotation("ry", 1, lambda t, n_qubits=None: _ry(t), "RY", Generator(0.5, "Y")),
        rotation("rz", 1, _diag_matrix(_DIAG_RZ, 1), "RZ", Generator(0.5, "Z"), diagonal=_DIAG_RZ),
        # P(t) = diag(1, e^{it}): dP/dt = i |1><1| P, so K = -|1><1| (on all controls too).
        rotation(
            "p",
            1,
            _diag_matrix(_DIAG_P, 1),
            "PhaseShift",
            Generator(-1.0, mask=(0,)),
            diagonal=_DIAG_P,
        ),
        GateSpec(
            "u3",
            1,
            3,
            lambda a, b, c, n_qubits=None: _u3(a, b, c),
            inverse=Inverse(negate=(0, 2, 1)),
            # U3(t, p, l) = e^{i(p+l)/2} RZ(p) RY(t) RZ(l).
            gradient_split=(("rz", 2), ("ry", 0), ("rz", 1)),
            shift_rule=TWO_TERM,
            qasm=Qasm("u3"),
            qiskit="u",
            pennylane=PennyLaneOp("U3"),
        ),
        GateSpec(
            "rot",
            1,
            3,
            lambda a, b, c, n_qubits=None: _rot(a, b, c),
            inverse=Inverse(negate=(2, 1, 0)),
            decomposition=(("rz", 0), ("ry", 1), ("rz", 2)),
            shift_rule=TWO_TERM,
            pennylane=PennyLaneOp("Rot"),
        ),
        fixed(
            "cnot",
            2,
            _const(_controlled(_X)),
            "CNOT",
            n_controls=1,
            target="x",
            qasm=Qasm("cx"),
            qiskit="cx",
        ),
        fixed("cy", 2, _const(_controlled(_Y)), "CY", n_controls=1, target="y"),
        fixed("cz", 2, _diag_matrix(cz_diag, 2), "CZ", diagonal=cz_diag),
        fixed("ch", 2, _const(_controlled(_H)), "CH", n_controls=1, target="h"),
        fixed("swap", 2, _const(np.eye(4)[[0, 2, 1, 3]]), "SWAP"),
        rotation(
            "crx",
            2,
            _controlled_fn(_rx),
            "CRX",
            Generator(0.5, "IX", mask=(0,)),
            shift=FOUR_TERM,
            n_controls=1,
            target="rx",
        ),
        rotation(
            "cry",
            2,
            _controlled_fn(_ry),
            "CRY",
            Generator(0.5, "IY", mask=(0,)),
            shift=FOUR_TERM,
            n_controls=1,
            target="ry",
        ),
        rotation(
            "crz",
            2,
            _diag_matrix(_DIAG_CRZ, 2),
            "CRZ",
            Generator(0.5, "IZ", mask=(0,)),
            shift=FOUR_TERM,
            diagonal=_DIAG_CRZ,
        ),
        rotation(
            "cp",
            2,
            _diag_matrix(_DIAG_CP, 2),
            "ControlledPhaseShift",
            Generator(-1.0, mask=(0, 1)),
            diagonal=_DIAG_CP,
        ),
        GateSpec(
            "crot",
            2,
            3,
            _controlled_fn(_rot),
            n_controls=1,
            target="rot",
            inverse=Inverse(negate=(2, 1, 0)),
            # The controlled product is the product of the controlled factors.
            decomposition=(("crz", 0), ("cry", 1), ("crz", 2)),
            shift_rule=FOUR_TERM,
            pennylane=PennyLaneOp("CRot"),
        ),
        fixed("ccx", 3, _const(_controlled(_controlled(_X))), "Toffoli", n_controls=2, target="x"),
        rotation(
            "rxx",
            2,
            lambda t, n_qubits=None: _pauli_rotation(np.kron(_X, _X))(t),
            "IsingXX",
            Generator(0.5, "XX"),
            qasm=Qasm("rxx", (2,), rxx_qasm),
        ),
        rotation(
            "ryy",
            2,
            lambda t, n_qubits=None: _pauli_rotation(np.kron(_Y, _Y))(t),
            "IsingYY",
            Generator(0.5, "YY"),
            qasm=Qasm(definition=ryy_qasm),
        ),
        rotation(
            "rzz",
            2,
            _diag_matrix(_DIAG_RZZ, 2),
            "IsingZZ",
            Generator(0.5, "ZZ"),
            diagonal=_DIAG_RZZ,
            qasm=Qasm("rzz", (2,), rzz_qasm),
        ),
        GateSpec(
            "multirz",
            None,
            1,
            _diag_matrix(_DIAG_MULTIRZ),
            diagonal=_DIAG_MULTIRZ,
            inverse=negated,
            generator=Generator(0.5, "Z"),  # Z on every qubit
            shift_rule=TWO_TERM,
            # exp(-i t Z...Z / 2) = RZ(t) on the parity: the parity bit is the product of Zs.
            parity=Parity("rz", ((1, "rz"), (2, "rzz"))),
            pennylane=PennyLaneOp("MultiRZ"),
        ),
        GateSpec(
            "multiphase",
            None,
            1,
            _diag_matrix(_DIAG_MULTIPHASE),
            diagonal=_DIAG_MULTIPHASE,
            inverse=negated,
            generator=Generator(-1.0, mask=None, mask_kind="parity"),
            shift_rule=TWO_TERM,
            parity=Parity("p", ((1, "p"),)),
            # PennyLane has no such operation: e^{i l parity} = e^{i l/2} exp(-i l Z...Z / 2)
            # (a parity-odd basis state has Z...Z = -1, so MultiRZ gives it e^{i l/2}, an
            # even one e^{-i l/2}).
            pennylane=PennyLaneOp("MultiRZ", phase=0.5),
        ),
    ]


_DESCRIPTIONS = {
    "id": "identity",
    "h": "Hadamard gate",
    "x": "Pauli X (NOT) gate",
    "y": "Pauli Y gate",
    "z": "Pauli Z gate",
    "s": "S gate, ``diag(1, i)``",
    "sdg": "S-dagger gate, ``diag(1, -i)``",
    "t": "T gate, ``diag(1, e^{i pi/4})``",
    "tdg": "T-dagger gate, ``diag(1, e^{-i pi/4})``",
    "sx": "square root of X",
    "sxdg": "inverse square root of X",
    "rx": "X rotation ``RX(theta) = exp(-i theta X / 2)``",
    "ry": "Y rotation ``RY(theta) = exp(-i theta Y / 2)``",
    "rz": "Z rotation ``RZ(theta) = exp(-i theta Z / 2)``",
    "p": "phase gate ``P(lambda) = diag(1, e^{i lambda})``",
    "u3": "general one-qubit gate ``U3(theta, phi, lambda)`` (Qiskit's U)",
    "rot": "rotation ``Rot(a, b, c) = RZ(c) RY(b) RZ(a)`` (PennyLane's Rot)",
    "cnot": "controlled X (CNOT), control first",
    "cy": "controlled Y, control first",
    "cz": "controlled Z",
    "ch": "controlled Hadamard, control first",
    "swap": "SWAP of two qubits",
    "crx": "controlled X rotation, control first",
    "cry": "controlled Y rotation, control first",
    "crz": "controlled Z rotation, control first",
    "cp": "controlled phase ``CP(lambda)``, control first",
    "crot": "controlled ``Rot(a, b, c)``, control first",
    "ccx": "Toffoli (doubly controlled X), controls first",
    "rxx": "Ising XX coupling ``exp(-i theta X X / 2)``",
    "ryy": "Ising YY coupling ``exp(-i theta Y Y / 2)``",
    "rzz": "Ising ZZ coupling ``exp(-i theta Z Z / 2)``",
    "multirz": "Z-string rotation ``exp(-i theta Z...Z / 2)`` on any number of qubits",
    "multiphase": (
        "phase ``e^{i lambda}`` on basis states of odd parity over its qubits (Qiskit's "
        "Z-string evolution: CX chain, P, CX chain)"
    ),
}


GATES: dict[str, GateSpec] = {
    spec.name: replace(spec, description=_DESCRIPTIONS[spec.name]) for spec in _spec_list()
}
_ALIASES = {"cx": "cnot", "toffoli": "ccx", "phase": "p", "u": "u3", "isingxx": "rxx"}
_ALIASES.update({"isingyy": "ryy", "isingzz": "rzz", "hadamard": "h", "i": "id"})


def gate_spec(name: str) -> GateSpec:
    """Look up a gate by name (case-insensitive; ``cx``, ``isingzz``... are aliases).

    Examples
    --------
    >>> import numpy as np
    >>> from skqml.circuits import gate_spec
    >>> spec = gate_spec("CX")
    >>> spec.name, spec.n_qubits, spec.n_params
    ('cnot', 2, 0)
    >>> gate_spec("rx").matrix(np.array([np.pi]), n_qubits=1).round(12)[0]
    array([[0.+0.j, 0.-1.j],
           [0.-1.j, 0.+0.j]])
    """
    key = name.lower()
    key = _ALIASES.get(key, key)
    try:
        return GATES[key]
    except KeyError:
        known = ", ".join(sorted(GATES))
        raise ValueError(f"unknown gate {name!r}; known gates: {known}") from None
