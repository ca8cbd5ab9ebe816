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
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

__all__ = ["GATES", "GateSpec", "gate_spec"]

_SQ2 = 1.0 / np.sqrt(2.0)


@dataclass(frozen=True)
class GateSpec:
    """Static description of a gate type.

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
    """

    name: str
    n_qubits: int | None
    n_params: int
    matrix: Callable[..., np.ndarray]
    n_controls: int = 0
    target: str | None = None
    diagonal: Callable[[int], tuple[np.ndarray, np.ndarray]] | None = None
    description: str = ""


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
    return [
        GateSpec("id", 1, 0, _const(np.eye(2))),
        GateSpec("h", 1, 0, _const(_H)),
        GateSpec("x", 1, 0, _const(_X)),
        GateSpec("y", 1, 0, _const(_Y)),
        GateSpec("z", 1, 0, _diag_matrix(z_diag, 1), diagonal=z_diag),
        GateSpec("s", 1, 0, _diag_matrix(s_diag, 1), diagonal=s_diag),
        GateSpec("sdg", 1, 0, _diag_matrix(sdg_diag, 1), diagonal=sdg_diag),
        GateSpec("t", 1, 0, _diag_matrix(t_diag, 1), diagonal=t_diag),
        GateSpec("tdg", 1, 0, _diag_matrix(tdg_diag, 1), diagonal=tdg_diag),
        GateSpec("sx", 1, 0, _const(0.5 * np.array([[1 + 1j, 1 - 1j], [1 - 1j, 1 + 1j]]))),
        GateSpec("sxdg", 1, 0, _const(0.5 * np.array([[1 - 1j, 1 + 1j], [1 + 1j, 1 - 1j]]))),
        GateSpec("rx", 1, 1, lambda t, n_qubits=None: _rx(t)),
        GateSpec("ry", 1, 1, lambda t, n_qubits=None: _ry(t)),
        GateSpec("rz", 1, 1, _diag_matrix(_DIAG_RZ, 1), diagonal=_DIAG_RZ),
        GateSpec("p", 1, 1, _diag_matrix(_DIAG_P, 1), diagonal=_DIAG_P),
        GateSpec("u3", 1, 3, lambda a, b, c, n_qubits=None: _u3(a, b, c)),
        GateSpec("rot", 1, 3, lambda a, b, c, n_qubits=None: _rot(a, b, c)),
        GateSpec("cnot", 2, 0, _const(_controlled(_X)), n_controls=1, target="x"),
        GateSpec("cy", 2, 0, _const(_controlled(_Y)), n_controls=1, target="y"),
        GateSpec("cz", 2, 0, _diag_matrix(cz_diag, 2), diagonal=cz_diag),
        GateSpec("ch", 2, 0, _const(_controlled(_H)), n_controls=1, target="h"),
        GateSpec("swap", 2, 0, _const(np.eye(4)[[0, 2, 1, 3]])),
        GateSpec("crx", 2, 1, _controlled_fn(_rx), n_controls=1, target="rx"),
        GateSpec("cry", 2, 1, _controlled_fn(_ry), n_controls=1, target="ry"),
        GateSpec("crz", 2, 1, _diag_matrix(_DIAG_CRZ, 2), diagonal=_DIAG_CRZ),
        GateSpec("cp", 2, 1, _diag_matrix(_DIAG_CP, 2), diagonal=_DIAG_CP),
        GateSpec("crot", 2, 3, _controlled_fn(_rot), n_controls=1, target="rot"),
        GateSpec("ccx", 3, 0, _const(_controlled(_controlled(_X))), n_controls=2, target="x"),
        GateSpec("rxx", 2, 1, lambda t, n_qubits=None: _pauli_rotation(np.kron(_X, _X))(t)),
        GateSpec("ryy", 2, 1, lambda t, n_qubits=None: _pauli_rotation(np.kron(_Y, _Y))(t)),
        GateSpec("rzz", 2, 1, _diag_matrix(_DIAG_RZZ, 2), diagonal=_DIAG_RZZ),
        GateSpec("multirz", None, 1, _diag_matrix(_DIAG_MULTIRZ), diagonal=_DIAG_MULTIRZ),
        GateSpec("multiphase", None, 1, _diag_matrix(_DIAG_MULTIPHASE), diagonal=_DIAG_MULTIPHASE),
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
    "multiphase": "phase ``e^{i lambda}`` on basis states of odd parity over its qubits (Qiskit's Z-string evolution: CX chain, P, CX chain)",
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
