"""Loss gradients of circuits compiled once: small ones (up to ``SMALL_MAX_QUBITS`` qubits)
and, on the compiled sweeps, wider ones (up to ``_COMPILED_MAX_QUBITS``).

On a few qubits and a batch of tens of samples, the arithmetic of a training step is
microseconds; what costs is Python's work per gate (angle evaluation, matrix construction,
adjoint bookkeeping). This engine compiles a circuit once into arrays, so that a step's
NumPy calls do not grow with the number of gates (only with the number of slices below):

- **Angles**: every angle of every gate is a sum of terms ``coeff * prod(o + s x[i]) *
  prod(theta[j])``; one gather and product per factor slot evaluates all terms of all gates
  for all samples (a ``reduceat`` sums angles of several terms). The chain rule back to the
  weights is one ``bincount`` per weight slot.
- **Slices**: the circuit becomes a chain of slices, each a layer of single-qubit runs (the
  consecutive one-qubit gates of each qubit) followed by at most one entangler: a diagonal
  block (any diagonal gates: one phase vector; exponentiated once when parameter-free), a
  product of parameter-free gates (one constant matrix) or one parametrised multi-qubit gate
  (its dense matrix per sample). Run position ``j`` of qubit ``q`` in slice ``s`` is a
  "slot"; every one-qubit gate is ``cos(a) I - i sin(a) N`` up to a global phase (``N`` a
  Pauli axis), so the 2x2 matrices of all slots are written from one cosine and one sine of
  all slot angles, whatever the gate types. The products of each run's later gates
  ``P[j] = G[m-1] ... G[j]`` come from one product per run position over all runs at once (a
  logarithmic scan for long runs).
- **Chain**: a slice's runs act as the Kronecker product of their 2x2 matrices, built for
  all slices at once and applied as one matrix product per slice (two from 4 qubits on: the
  low and the high half of the qubits, ``K_high @ psi @ K_low^T``). The forward pass keeps
  the state at each slice boundary, the backward pass the cotangent ``lambda``.
- **Gradients** are read for all gates at once from the stored states: a run gate's term is
  ``2 Im Tr(K S^H Q S)`` with ``K`` its generator, ``S = P[j + 1]`` and ``Q`` the 2x2 cross
  density ``psi lambda^H`` reduced to its qubit; a diagonal gate's is
  ``-2 Im sum(conj(lambda) psi pattern)``; a multi-qubit rotation's is
  ``2 Im <lambda| K psi>`` at its slice's end.

Multi-angle gates (``rot``, ``u3``, ``crot``) are split into one-angle gates by the gate
table (up to a global phase, which expectation values do not see), exactly as the adjoint
tape does; each one-qubit gate's ``cos/sin`` form is checked against its table matrix when
the circuit is compiled. Results equal the general path's to rounding.

Wider circuits (numba installed): the compiled sweeps run them per sample, one pass over the
``2**n`` amplitudes per fused one-qubit run and per entangler, where the general path makes
a NumPy call per fused gate over all samples at once. The program then holds no ``2**n x
2**n`` matrix: parameter-free entanglers must be permutations with phases (CNOT, CZ, SWAP,
Toffoli, built from their local matrices) and parametrised multi-qubit gates diagonal (RZZ,
CRZ, MultiRZ, ...); other circuits take the general path.

Memory: the NumPy sweeps store the states of every slice, more per sample than the general
path (the compiled ones one final state per sample);
:func:`small_chunk_rows` sizes chunks from the budget (``max_memory_mb``) before anything is
allocated, and leaves the call to the general path when too few samples fit. The work arrays
of a chunk are kept between calls (per thread, at most ``_MAX_CACHED_BYTES``): allocating
them afresh every step cost more than the arithmetic on them (page faults).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence
from typing import NamedTuple
from weakref import WeakKeyDictionary

import numpy as np

from ..circuits._angle import Angle, Term
from ..circuits._circuit import Circuit, Operation
from ._memory import _MIB, resolve_max_memory_mb
from ._observables import (
    checked_cotangent,
    pauli_expectations,
    pauli_masks,
    weighted_pauli_sum,
)
from ._plan import _local_index
from ._split import SPLIT_MIN_QUBITS, split_chunk, split_schedule

__all__ = [
    "SMALL_MAX_QUBITS",
    "small_chunk_rows",
    "small_circuit_program",
    "small_expectation_vjp",
    "small_expectations",
]

# Widest circuit of the NumPy sweeps (and of the dense matrices the program holds). Their
# work per slice grows as 2**n * 2**(n/2) (Kronecker matrices of half the qubits on each
# axis) where the general path's grows as 2**n per fused step plus a fixed Python cost per
# gate. Measured (batch 32 re-uploading, 10 layers; VQC with 2 layers, N=200; one thread):
# the engine was faster at every width up to 8 (re-uploading 8 qubits 13 ms vs 243 ms, VQC 8
# qubits 40 ms vs 49 ms) and slower for VQC at 10 qubits (390 ms vs 200 ms).
SMALL_MAX_QUBITS = 8
# Qubits of one Kronecker group: one dense matrix per slice up to this width, else two
# groups (low and high qubits) whose matrices act on the two axes of a (2**h, 2**l) view.
_ONE_GROUP_MAX_QUBITS = 3
# Samples per chunk at most, so that a chunk's stored states stay in cache.
_MAX_CHUNK_ROWS = 256
# Fewest samples per chunk for the engine to run (else the general path runs).
_MIN_CHUNK_ROWS = 8
# Runs up to this length are multiplied out one gate at a time; longer ones by a scan.
_SEQUENTIAL_RUN_MAX = 8
# Largest dense read-out (labels x d x d entries) built for the expectation values.
_MAX_DENSE_PAULI_ENTRIES = 2**16
# The compiled sweeps (numba, when installed) run circuits up to this width. Measured
# against the general path (VQC of 2 layers, one thread): 10 qubits N=200 39 vs 93 ms,
# 12 qubits 182 vs 407 ms, 16 qubits 3.9 vs 9.2 s, 18 qubits N=8 0.70 vs 1.36 s, 20 qubits
# N=4 1.7 vs 4.3 s; IQP variational (3 layers, batch 32) 10 qubits 13 vs 41 ms.
_COMPILED_MAX_QUBITS = 20
# Off: always the NumPy sweeps (the tests compare the two).
USE_COMPILED = True
# The compiled kernels once imported (False: numba is not installed).
_KERNELS = None
# Slice kinds as the compiled sweeps read them.
_KIND_CODES = {None: 0, "diag": 1, "const": 2, "param": 3}
# Largest set of work arrays kept between calls (per program and thread).
_MAX_CACHED_BYTES = 16 * 1024**2

_PAULI = {
    "I": np.eye(2, dtype=complex),
    "X": np.array([[0, 1], [1, 0]], dtype=complex),
    "Y": np.array([[0, -1j], [1j, 0]], dtype=complex),
    "Z": np.array([[1, 0], [0, -1]], dtype=complex),
}


# -- angles ------------------------------------------------------------------------------------
class _AngleProgram:
    """All angles of a list of :class:`Angle` as arrays: values and weight gradients.

    Term ``t`` is ``coeff[t] * prod_f (offset[t, f] + scale[t, f] * x[feature[t, f]]) *
    prod_w theta[weight[t, w]]``; padded slots are the factor 1 (offset 1, scale 0) and the
    weight index ``n_weights`` (a 1 appended to theta).
    """

    def __init__(self, angles: Sequence, n_weights: int):
        # Every angle has at least one term (a zero one when it has none), in angle order.
        terms = [(a, t) for a, angle in enumerate(angles) for t in (angle.terms or (Term(0.0),))]
        n_terms = len(terms)
        n_factors = max((len(t.factors) for _, t in terms), default=0)
        n_wslots = max((len(t.weights) for _, t in terms), default=0)
        self.n_weights = n_weights
        self.expressions = list(angles)
        self.n_angles = len(angles)
        self.coeff = np.array([t.coeff for _, t in terms], dtype=float)
        self.feature = np.zeros((n_terms, n_factors), dtype=np.intp)
        self.offset = np.ones((n_terms, n_factors))
        self.scale = np.zeros((n_terms, n_factors))
        self.weight = np.full((n_terms, n_wslots), n_weights, dtype=np.intp)
        self.angle_of_term = np.array([a for a, _ in terms], dtype=np.intp)
        self.starts = np.searchsorted(self.angle_of_term, np.arange(len(angles)))
        self.one_term_each = n_terms == len(angles)
        for row, (_, t) in enumerate(terms):
            for f, (i, o, sc) in enumerate(t.factors):
                self.feature[row, f], self.offset[row, f], self.scale[row, f] = i, o, sc
            self.weight[row, : len(t.weights)] = t.weights
        # Terms that read features: only their columns need the feature product.
        self.feature_terms = np.array(
            [row for row, (_, t) in enumerate(terms) if t.factors], dtype=np.intp
        )
        self.reads_features = self.feature_terms.size > 0
        self.feature_angles = sorted({a for a, t in terms if t.factors})

    def evaluate(self, X, theta) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(angles, feature_part, theta_ext)``: angles of shape (rows or 1, n_angles)."""
        # The weights and a trailing 1 (the weight slot of terms with fewer weights).
        theta_ext = np.empty(self.n_weights + 1)
        theta_ext[:-1] = theta[: self.n_weights]
        theta_ext[-1] = 1.0
        with np.errstate(over="ignore", invalid="ignore"):  # checked below
            values = self._evaluate(X, theta_ext)
        if not np.isfinite(np.add.reduce(values[0], axis=None)):
            self.raise_overflow(X, theta)
        return values

    def raise_overflow(self, X, theta) -> None:
        """An angle is not finite: each expression's own evaluation says which, with
        advice."""
        for angle in self.expressions:
            angle.evaluate(X, theta)
        raise ValueError(
            "an angle of the circuit is not finite; check the features and weights for "
            "inf, NaN or values too large for their products"
        )

    def _evaluate(self, X, theta_ext):
        weight_part = self.coeff * theta_ext[self.weight].prod(axis=1)
        if self.reads_features:
            rows = self.feature_terms
            factors = X[:, self.feature[rows]]
            factors *= self.scale[rows]
            factors += self.offset[rows]
            feature_part = np.ones((X.shape[0], self.coeff.shape[0]))
            feature_part[:, rows] = factors.prod(axis=2)
            values = feature_part * weight_part
        else:
            feature_part = np.ones((1, self.coeff.shape[0]))
            values = weight_part[None, :]
        if self.one_term_each:
            return values, feature_part, theta_ext
        return np.add.reduceat(values, self.starts, axis=1), feature_part, theta_ext

    def weight_gradient(self, angle_grad, feature_part, theta_ext) -> np.ndarray:
        """``sum_i angle_grad[i, a] * d angle_a(x_i) / d theta``, shape (n_weights,)."""
        per_term = (angle_grad[:, self.angle_of_term] * feature_part).sum(axis=0)
        per_term *= self.coeff
        grad = np.zeros(self.n_weights + 1)
        slots = self.weight.shape[1]
        for s in range(slots):
            others = theta_ext[self.weight[:, [k for k in range(slots) if k != s]]].prod(axis=1)
            grad += np.bincount(self.weight[:, s], per_term * others, minlength=grad.shape[0])
        return grad[: self.n_weights]


# -- compile -----------------------------------------------------------------------------------
def _split(op: Operation) -> list[Operation]:
    return [Operation(sub, op.qubits, (op.params[i],)) for sub, i in op.spec.split] or [op]


def _dense_generator(op: Operation, n: int) -> np.ndarray:
    """The generator ``K`` (``dU/dt = -i K U``) of a one-angle gate over ``n`` qubits."""
    gen = op.spec.generator
    q = op.qubits
    letters: dict[int, str] = {}
    if gen.pauli:
        pauli = gen.pauli * len(q) if len(gen.pauli) == 1 else gen.pauli
        letters = dict(zip(q, pauli, strict=True))
    P = np.ones((1, 1), dtype=complex)
    for qubit in range(n - 1, -1, -1):  # little-endian: qubit 0 is the last Kronecker factor
        P = np.kron(P, _PAULI[letters.get(qubit, "I")])
    mask_qubits = q if gen.mask is None else tuple(q[i] for i in gen.mask)
    index = np.arange(2**n)
    mask = np.ones(2**n)
    if mask_qubits:
        bits = np.array([(index >> b) & 1 for b in mask_qubits])
        mask = bits.prod(axis=0) if gen.mask_kind == "all" else bits.sum(axis=0) % 2
    return gen.coeff * mask[:, None] * P


def _embed_index(qubits: tuple[int, ...], n: int) -> np.ndarray:
    """Index (d, d) into a gate's flattened local matrix, ``D*D`` where it is zero."""
    index = np.arange(2**n)
    local = _local_index(index, qubits)
    rest_mask = ~sum(1 << q for q in qubits)
    same_rest = (index[:, None] & rest_mask) == (index[None, :] & rest_mask)
    dim = 2 ** len(qubits)
    flat = local[:, None] * dim + local[None, :]
    return np.where(same_rest, flat, dim * dim)


def _dense_constant(op: Operation, n: int) -> np.ndarray:
    local = op.spec.matrix(n_qubits=len(op.qubits))[0].ravel()
    return np.append(local, 0)[_embed_index(op.qubits, n)]


def _permutation_form(ops: Sequence[Operation], n: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The product of parameter-free gates (``ops`` in circuit order) as a permutation with
    phases, ``(M psi)[i] = phase[i] psi[src[i]]``, built from each gate's local matrix (no
    ``2**n x 2**n`` matrix); None when a gate's matrix has a row with more than one entry
    (CNOT, CZ, SWAP, X and their products have one)."""
    index = np.arange(2**n)
    src = index.copy()
    phase = np.ones(2**n, dtype=complex)
    for op in ops:
        local = op.spec.matrix(n_qubits=len(op.qubits))[0]
        if np.any(np.count_nonzero(local, axis=1) != 1):
            return None
        column = np.argmax(local != 0, axis=1)
        row = _local_index(index, op.qubits)
        # The gate alone: (G psi)[i] = local[row, column[row]] psi[i with the gate's qubits
        # set to the bits of column[row]] (first listed qubit most significant).
        gate_src = index & ~sum(1 << q for q in op.qubits)
        k = len(op.qubits)
        for pos, q in enumerate(op.qubits):
            gate_src |= ((column[row] >> (k - 1 - pos)) & 1) << q
        # (G M psi)[i] = g[i] (M psi)[gate_src[i]] = g[i] phase[gate_src[i]] psi[src[...]].
        phase = local[row, column[row]] * phase[gate_src]
        src = src[gate_src]
    return src, phase


class _Slice:
    def __init__(self, n: int):
        self.runs: list[list[int]] = [[] for _ in range(n)]
        self.kind: str | None = None  # entangler: None, "diag", "const", "param"
        self.ent: list[int] = []
        self.ent_qubits: set[int] = set()


def _entangler_kind(op: Operation) -> str:
    if op.spec.diagonal is not None:
        return "diag"
    return "param" if op.params else "const"


class _CompiledBuffers(NamedTuple):
    """The work arrays of one chunk on the compiled sweeps (see
    :meth:`SmallProgram.compiled_buffers`)."""

    theta_ext: np.ndarray
    angles: np.ndarray
    parts: np.ndarray
    diag_rows: np.ndarray
    trig: np.ndarray
    final: np.ndarray
    run_store: np.ndarray
    work: np.ndarray
    slot_grad: np.ndarray
    diag_grad: np.ndarray
    param_grad: np.ndarray
    angle_grad: np.ndarray


class SmallProgram:
    """A circuit compiled for :func:`small_expectation_vjp` (see the module docstring).

    Up to ``SMALL_MAX_QUBITS`` the program holds what both sweeps need, dense matrices
    included; wider, only what the compiled sweeps read, which holds no ``2**n x 2**n``
    array: a wider circuit whose parameter-free entanglers are not permutations with phases
    or that has a parametrised multi-qubit gate that is not diagonal raises
    ``NotImplementedError`` (the general path runs it).
    """

    def __init__(self, circuit: Circuit):
        n = self.n_qubits = circuit.n_qubits
        d = 2**n
        self.dense = n <= SMALL_MAX_QUBITS
        ops = [s for op in circuit.operations for s in _split(op)]
        self.ops = ops
        slices: list[_Slice] = [_Slice(n)]
        for i, op in enumerate(ops):
            cur = slices[-1]
            if len(op.qubits) == 1:
                if op.qubits[0] in cur.ent_qubits:
                    cur = _Slice(n)
                    slices.append(cur)
                cur.runs[op.qubits[0]].append(i)
                continue
            kind = _entangler_kind(op)
            if cur.kind is None:
                cur.kind = kind
            elif (cur.kind == "diag" and kind == "diag") or (
                cur.kind == "const" and not op.params
            ):
                pass
            elif (
                cur.kind == "diag" and kind == "const" and not any(ops[j].params for j in cur.ent)
            ):
                cur.kind = "const"
            else:
                cur = _Slice(n)
                slices.append(cur)
                cur.kind = kind
            cur.ent.append(i)
            cur.ent_qubits.update(op.qubits)
        self.n_slices = S = len(slices)
        self.kinds = [s.kind for s in slices]
        self.run_lengths = np.array([[len(r) for r in sl.runs] for sl in slices], dtype=np.intp)

        # Angles: one slot per (split) gate with a parameter.
        angle_of: dict[int, int] = {}
        angles = []
        for i, op in enumerate(ops):
            if op.params:
                angle_of[i] = len(angles)
                angles.append(op.params[0])
        # One more angle without terms: the zero angle of fixed gates and padding.
        self.angles = _AngleProgram([*angles, Angle()], circuit.n_weights)
        self.trainable = {i for i, op in enumerate(ops) if op.params and op.params[0].weights}

        # Runs: slot (j, s, q) is position j of the run of qubit q in slice s. Every slot's
        # 2x2 matrix, up to a global phase (which expectation values and their gradients do
        # not see), is cos(a) I - i sin(a) N with a unit Pauli axis N: a = beta * angle for a
        # gate with an angle (its generator is alpha I + beta N), a constant for a fixed
        # gate, 0 for the identity that pads short runs. So all slots of all runs are built
        # by one cosine, one sine and two products per step, whatever the gate types.
        m = self.run_length = max(max((len(r) for s in slices for r in s.runs), default=0), 1)
        n_slots = m * S * n
        slot_angle = np.full(n_slots, len(angles), dtype=np.intp)  # a zero angle: no terms
        slot_scale = np.zeros(n_slots)
        slot_const = np.zeros(n_slots)
        slot_axis = np.zeros((2, 2, n_slots), dtype=complex)
        slot_axis[0, 0] = 1.0
        slot_axis[1, 1] = -1.0
        gen_rows: list = []  # (position, slice, qubit, angle)
        generators = []
        for s, sl in enumerate(slices):
            for q, run in enumerate(sl.runs):
                for j, i in enumerate(run):
                    slot = (j * S + s) * n + q
                    op = ops[i]
                    if op.params:
                        scale, axis = _rotation_axis(op)
                        slot_angle[slot], slot_scale[slot] = angle_of[i], scale
                        slot_axis[:, :, slot] = axis
                        if i in self.trainable:
                            gen_rows.append((j, s, q, angle_of[i]))
                            generators.append(scale * axis)
                    else:
                        slot_const[slot], slot_axis[:, :, slot] = _fixed_axis(op)
        self.slot_angle, self.slot_scale, self.slot_const = slot_angle, slot_scale, slot_const
        # Slots whose matrix differs between samples; the others are computed once.
        per_sample = np.isin(slot_angle, self.angles.feature_angles)
        self.sample_slots = np.flatnonzero(per_sample)
        self.shared_slots = np.flatnonzero(~per_sample)
        # The axis N = nx X + ny Y + nz Z of each slot, as columns (nx, ny, nz).
        self.slot_pauli_axis = np.stack(
            [slot_axis[1, 0].real, slot_axis[1, 0].imag, slot_axis[0, 0].real]
        )[:, :, None]
        # K^T per slot: [b, a, slot] = K[a, b] of the slot's trainable gate, 0 elsewhere.
        self.slot_generators_t = np.zeros((2, 2, n_slots), dtype=complex)
        self.trainable_slots = np.array(
            [(j * S + s) * n + q for j, s, q, _ in gen_rows], dtype=np.intp
        )
        for slot, K in zip(self.trainable_slots, generators, strict=True):
            self.slot_generators_t[:, :, slot] = K.T
        self.trainable_slot_angles = np.array([a for *_, a in gen_rows], dtype=np.intp)

        # Entanglers.
        index = np.arange(d)
        self.diag_slices = [s for s in range(S) if self.kinds[s] == "diag"]
        self.diag_const = np.zeros((len(self.diag_slices), d))
        diag_rows: list = []  # (row in diag_slices, angle, pattern)
        for r, s in enumerate(self.diag_slices):
            for i in slices[s].ent:
                op = ops[i]
                const, patterns = op.spec.diagonal(len(op.qubits))
                local = _local_index(index, op.qubits)
                self.diag_const[r] += const[local]
                if op.params:
                    diag_rows.append((r, angle_of[i], patterns[0][local], i in self.trainable))
        self.diag_param_row = np.array([r for r, *_ in diag_rows], dtype=np.intp)
        self.diag_param_angle = np.array([a for _, a, *_ in diag_rows], dtype=np.intp)
        self.diag_patterns = np.array([p for _, _, p, _ in diag_rows]).reshape(-1, d)
        self.diag_const_factor = np.exp(1j * self.diag_const)
        # For the compiled sweeps: the same as real and imaginary parts (slices, 2, d); the
        # diagonal slices with angles, and the position of each among them (or -1).
        self.diag_const_parts = np.stack(
            (self.diag_const_factor.real, self.diag_const_factor.imag), axis=1
        )
        self.diag_angle_slices = np.unique(self.diag_param_row)
        self.diag_row_of = np.full(len(self.diag_slices), -1, dtype=np.intp)
        self.diag_row_of[self.diag_angle_slices] = np.arange(self.diag_angle_slices.size)
        # diag_scatter[r, p] = 1 where diagonal angle p belongs to diagonal slice r.
        self.diag_scatter = np.zeros((len(self.diag_slices), len(diag_rows)))
        self.diag_scatter[self.diag_param_row, np.arange(len(diag_rows))] = 1.0
        trainable_diag = [k for k, row in enumerate(diag_rows) if row[3]]
        self.diag_grad_rows = np.array(trainable_diag, dtype=np.intp)

        self.const_slices = [s for s in range(S) if self.kinds[s] == "const"]
        # Each constant slice as a permutation with phases (None: dense); kept only in the
        # compiled sweeps' tables.
        permutations = [
            _permutation_form([ops[i] for i in slices[s].ent], n) for s in self.const_slices
        ]
        self.param_slices = [s for s in range(S) if self.kinds[s] == "param"]
        if not self.dense and (self.param_slices or None in permutations):
            raise NotImplementedError(
                "a dense entangler: the engine takes it up to SMALL_MAX_QUBITS qubits"
            )
        self.const_matrices = []
        for s in self.const_slices if self.dense else ():
            M = np.eye(d, dtype=complex)
            for i in slices[s].ent:
                M = _dense_constant(ops[i], n) @ M
            self.const_matrices.append(M)

        self.param_ops = [ops[slices[s].ent[0]] for s in self.param_slices]
        self.param_angle = [angle_of[slices[s].ent[0]] for s in self.param_slices]
        self.param_index = [_embed_index(op.qubits, n) for op in self.param_ops]
        self.param_trainable = [slices[s].ent[0] in self.trainable for s in self.param_slices]
        self.param_generators = [_dense_generator(op, n) for op in self.param_ops]
        self.jit_tables = _jit_tables(self, permutations)
        # Wide enough to run one sample's state in two parts (only wider than SMALL_MAX_QUBITS:
        # every entangler is then diagonal or a permutation); the schedule is built on first
        # use (many-sample programs never split), its tables counted in fixed_bytes.
        self.splits = n >= SPLIT_MIN_QUBITS and not self.dense

        self.workspace = _Workspace()
        self._row_bytes: dict = {}  # bytes_per_row by (number of labels, compiled sweeps)
        self._fixed_bytes: dict = {}  # fixed_bytes by compiled sweeps
        # Kronecker groups: qubits [0, low) and [low, n).
        self.low = n if n <= _ONE_GROUP_MAX_QUBITS else n // 2

    @functools.cached_property
    def split_schedule(self):
        """The rounds of the sweeps with the state in two parts (``_split.py``)."""
        return split_schedule(self.jit_tables["sweep"])

    def compiled_buffers(self, rows: int, feature_rows: int) -> _CompiledBuffers:
        """The compiled sweeps' work arrays for a chunk of ``rows`` samples (angles of
        ``feature_rows`` rows: 1 without features)."""
        a, d = self.angles, 2**self.n_qubits
        n_slots = self.slot_angle.shape[0]
        return _CompiledBuffers(
            theta_ext=np.empty(a.n_weights + 1),
            angles=np.empty((feature_rows, a.n_angles)),
            parts=np.empty((feature_rows, a.coeff.shape[0])),
            diag_rows=np.empty((self.diag_angle_slices.size, rows, 2, d)),
            trig=np.empty((2, n_slots, rows)),
            final=np.empty((rows, 2, d)),  # real and imaginary parts
            run_store=np.empty((self.n_slices, self.n_qubits, 4, rows)),  # quaternions
            work=np.empty((3, 2, d)),  # psi, lambda and scratch
            slot_grad=np.empty((n_slots, rows)),
            diag_grad=np.empty((rows, self.diag_grad_rows.size)),
            param_grad=np.empty((rows, len(self.param_slices))),
            angle_grad=np.empty((rows, a.n_angles)),
        )

    def bytes_per_row(self, n_labels: int) -> int:
        """Bytes per sample of one step reading ``n_labels`` observables on the sweeps that
        serve the program now: an upper bound of their work arrays."""
        key = (n_labels, _compiled_sweeps(self) is not None)
        if key not in self._row_bytes:
            self._row_bytes[key] = (
                self._compiled_bytes_per_row(n_labels) if key[1] else self._bytes_per_row(n_labels)
            )
        return self._row_bytes[key]

    def _bytes_per_row(self, n_labels: int) -> int:
        n, S, d = self.n_qubits, self.n_slices, 2**self.n_qubits
        dl, dh = 2**self.low, 2 ** (n - self.low)
        slots = self.run_length * S * n
        # The read-out P_k psi: all k at once when their dense matrices fit, else one.
        dense = n_labels * d * d <= _MAX_DENSE_PAULI_ENTRIES
        readout = (n_labels if dense else 1) * d
        # phi, psi, lambda, lambda after the runs, conj(lambda), entangler factors, read-out
        states = (6 * S + 1) * d + 3 * d + readout
        # Kronecker matrices with their conjugates, and the cross densities
        kron = 3 * S * (dl * dl + (dh * dh if dh > 1 else 0))
        # G, the products P (and the scan's second buffer and scratch), QS, Q_j, scratch
        runs = 4 * (slots * 7 + 4 * S * n)
        params = 2 * len(self.param_slices) * d * d
        reals = 2 * slots + 3 * self.angles.coeff.shape[0] + 2 * self.angles.n_angles
        return 16 * (states + kron + runs + params) + 8 * reals

    def _compiled_bytes_per_row(self, n_labels: int) -> int:
        # The compiled sweeps keep one final state per sample (the sweeps' psi and lambda
        # are per call, in fixed_bytes): the final state, the diagonal entanglers' phases
        # (with room for temporaries), the multi-qubit gates' matrices (up to
        # SMALL_MAX_QUBITS), the run quaternions and vectors k (7 reals per run, counted as
        # 4 complex), and the angles, the slots' arguments, cosines, sines and terms, the
        # gradient terms, the values and cotangents (see compiled_buffers).
        S, d = self.n_slices, 2**self.n_qubits
        slots = self.run_length * S * self.n_qubits
        # (only the diagonal slices with angles have phases per sample)
        states = d + 5 * self.diag_angle_slices.size * d + 2 * len(self.param_slices) * d * d
        grads = self.diag_grad_rows.size + len(self.param_slices)
        reals = 4 * slots + 3 * self.angles.coeff.shape[0] + 3 * self.angles.n_angles + grads
        return 16 * (states + 4 * S * self.n_qubits) + 8 * (reals + 3 * n_labels)

    def fixed_bytes(self) -> int:
        """Bytes held whatever the number of samples: phase patterns, constant and generator
        matrices, the read-out; on the compiled sweeps also their psi, lambda and scratch."""
        compiled = _compiled_sweeps(self) is not None
        if compiled not in self._fixed_bytes:
            self._fixed_bytes[compiled] = self._count_fixed_bytes(compiled)
        return self._fixed_bytes[compiled]

    def _count_fixed_bytes(self, compiled: bool) -> int:
        d = 2**self.n_qubits
        matrices = len(self.const_matrices) + 2 * len(self.param_ops)
        # diag_const (8 bytes per entry), its factor and the factor's parts (16 each)
        tables = 8 * (self.diag_patterns.size + 5 * self.diag_const.size) + 16 * matrices * d * d
        if compiled:  # + psi, lambda, scratch and a phase; the inverse permutations
            permutations = 2 if self.splits else 1
            return tables + 24 * permutations * len(self.const_slices) * d + 16 * 3 * d + 8 * d
        return tables + 16 * _MAX_DENSE_PAULI_ENTRIES


_PROGRAMS: WeakKeyDictionary = WeakKeyDictionary()


def small_circuit_program(circuit: Circuit, max_memory_mb=None) -> SmallProgram | None:
    """The compiled program of a circuit (cached per circuit), or None when the engine does
    not take it (too wide, a trainable gate without a generator, or, above
    ``SMALL_MAX_QUBITS``, tables that the budget ``max_memory_mb`` cannot hold)."""
    n = circuit.n_qubits
    if n > _COMPILED_MAX_QUBITS or (n > SMALL_MAX_QUBITS and not USE_COMPILED):
        return None
    program = _PROGRAMS.get(circuit)
    if program is None:
        for op in circuit.operations:
            for sub in _split(op):
                if sub.params and (
                    sub.spec.generator is None or "adjoint" in sub.spec.unsupported
                ):
                    _PROGRAMS[circuit] = False
                    return None
        if n > SMALL_MAX_QUBITS:
            # The budget first: the compiled kernels' first import (numba) takes memory of
            # its own, which a call that cannot use them should not spend.
            if _wide_build_bytes(circuit) > resolve_max_memory_mb(max_memory_mb) * _MIB:
                return None  # not cached: a larger budget may build it
            if _compiled_kernels() is None:  # numba is not installed
                _PROGRAMS[circuit] = False
                return None
        try:
            program = SmallProgram(circuit)
        except NotImplementedError:  # a gate without the form the engine relies on
            program = False
        _PROGRAMS[circuit] = program
    return program or None


def _wide_build_bytes(circuit: Circuit) -> int:
    """An upper bound of the bytes a program above ``SMALL_MAX_QUBITS`` allocates while it is
    built and holds afterwards: per multi-qubit gate, a diagonal slice's constant phases (8
    bytes per amplitude, 16 as a factor, 16 as its parts) or a permutation with phases (24,
    twice: its form and its compiled table); per parametrised diagonal gate, its pattern
    (8); and the index temporaries of the build (six arrays of 8)."""
    multi = sum(len(op.qubits) > 1 for op in circuit.operations)
    patterns = sum(len(op.qubits) > 1 and bool(op.params) for op in circuit.operations)
    return 2**circuit.n_qubits * (48 + 48 * multi + 8 * patterns)


_EYE = np.eye(2, dtype=complex)


def _rotation_axis(op: Operation) -> tuple[float, np.ndarray]:
    """``(beta, N)`` of a one-qubit one-angle gate: its generator is ``alpha I + beta N``
    with ``N`` a unit Pauli axis, so the gate is ``e^{-i alpha t} (cos(beta t) I - i
    sin(beta t) N)`` (checked against the gate table)."""
    K = _dense_generator(Operation(op.name, (0,), op.params), 1)
    alpha = np.trace(K).real / 2
    traceless = K - alpha * _EYE
    beta = float(np.sqrt(np.sum(np.abs(traceless) ** 2) / 2))
    axis = traceless / beta
    t = np.array([0.7])
    rotation = np.cos(beta * t[0]) * _EYE - 1j * np.sin(beta * t[0]) * axis
    built = np.exp(-1j * alpha * t[0]) * rotation
    if not np.allclose(op.spec.matrix(t, n_qubits=1)[0], built, atol=1e-12):
        raise NotImplementedError(f"gate {op.name!r} is not exp(-i t K)")
    return beta, axis


def _fixed_axis(op: Operation) -> tuple[float, np.ndarray]:
    """``(a, N)`` with the fixed gate ``= e^{i phi} (cos(a) I - i sin(a) N)``."""
    V = op.spec.matrix(n_qubits=1)[0]
    V = V * np.exp(-0.5j * np.angle(np.linalg.det(V)))  # special unitary
    cos_a = float(np.clip(np.trace(V).real / 2, -1.0, 1.0))
    a = float(np.arccos(cos_a))
    if abs(np.sin(a)) < 1e-12:  # +-identity: any axis
        axis = np.diag([1.0, -1.0]).astype(complex)
    else:
        axis = 1j * (V - cos_a * _EYE) / np.sin(a)
    if not np.allclose(np.cos(a) * _EYE - 1j * np.sin(a) * axis, V, atol=1e-12):
        raise NotImplementedError(f"gate {op.name!r} has no rotation form")
    return a, axis


# -- 2x2 arithmetic on component-first arrays (2, 2, ...) ----------------------------------------
def _mul(a: np.ndarray, b: np.ndarray, out: np.ndarray, tmp: np.ndarray) -> np.ndarray:
    """``a @ b`` for component-first arrays (2, 2, ...) into ``out`` (``tmp``: scratch)."""
    np.multiply(a[:, 0, None], b[0][None], out=out)
    np.multiply(a[:, 1, None], b[1][None], out=tmp)
    out += tmp
    return out


def _mul_dagger(a: np.ndarray, b: np.ndarray, out: np.ndarray, tmp: np.ndarray) -> np.ndarray:
    """``a^H b`` for component-first arrays: ``sum_c conj(a[c, i]) b[c, k]``."""
    np.multiply(a[0, :, None].conj(), b[0][None], out=out)
    np.multiply(a[1, :, None].conj(), b[1][None], out=tmp)
    out += tmp
    return out


@functools.lru_cache(maxsize=64)
def _pauli_masks(labels: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each Pauli string as ``P|b> = phase * (-1)^|b & zmask| |b ^ flip>``: ``(flips,
    phases, zmasks)``, each of shape (k,), for the compiled sweeps."""
    masks = [pauli_masks(label) for label in labels]
    flips = np.array([xmask for xmask, _, _ in masks], dtype=np.intp)
    zmasks = np.array([zmask for _, zmask, _ in masks], dtype=np.intp)
    # Y|0> = i|1>, Y|1> = -i|0>: i times Z's sign, read on the input index.
    phases = np.array([1j**n_y for _, _, n_y in masks], dtype=complex)
    return flips, phases, zmasks


@functools.lru_cache(maxsize=64)
def _dense_paulis(labels: tuple[str, ...]) -> np.ndarray | None:
    """``(d, k * d)``: column block k is ``P_k^T``, so ``psi @ it`` gives every ``P_k psi``;
    None when the matrices would exceed ``_MAX_DENSE_PAULI_ENTRIES``."""
    d = 2 ** len(labels[0])
    if len(labels) * d * d > _MAX_DENSE_PAULI_ENTRIES:
        return None
    out = np.empty((d, len(labels) * d), dtype=complex)
    for k, label in enumerate(labels):
        P = np.ones((1, 1), dtype=complex)
        for ch in label:  # leftmost character: the highest qubit, the first Kronecker factor
            P = np.kron(P, _PAULI[ch])
        out[:, k * d : (k + 1) * d] = P.T
    return out


def _suffix_products(G: np.ndarray, P: np.ndarray, ws) -> np.ndarray:
    """``P[j] = G[m-1] ... G[j]`` for j = 0..m, ``P[m] = I``, for component-first ``G`` of
    shape (2, 2, m, N), in ``P`` of shape (2, 2, m + 1, N).

    Short runs: one product per position. Long runs (one qubit and many gates): a
    Hillis-Steele scan, ``ceil(log2(m + 1))`` products over all positions at once, so the
    number of NumPy calls grows with the logarithm of the run's length.
    """
    m = G.shape[2]
    P[:, :, m] = 0.0
    P[0, 0, m] = P[1, 1, m] = 1.0
    if m <= _SEQUENTIAL_RUN_MAX:
        scratch = ws.get("scratch", (2, 2, G.shape[3]))
        for j in range(m - 1, -1, -1):
            _mul(P[:, :, j + 1], G[:, :, j], P[:, :, j], scratch)
        return P
    P[:, :, :m] = G
    other = ws.get("prods_scan", P.shape)
    scratch = ws.get("scratch_scan", P.shape)
    shift = 1
    while shift <= m:
        # P_j <- P_(j + shift) P_j: each P_j then covers 2 * shift gates (or up to the end).
        stop = m + 1 - shift
        _mul(P[:, :, shift:], P[:, :, :stop], other[:, :, :stop], scratch[:, :, :stop])
        other[:, :, stop:] = P[:, :, stop:]
        P, other = other, P
        shift *= 2
    return P


class _Workspace(threading.local):
    """Arrays of a program reused across steps, one set per thread.

    Allocating the step's large temporaries afresh each time cost more than the arithmetic
    on them (the allocator hands freed memory back to the system between steps, and the
    next step pays the page faults again). Only sets up to ``_MAX_CACHED_BYTES`` are kept.
    """

    def __init__(self):
        self.arrays: dict = {}
        self.nbytes = 0

    def get(self, name: str, shape: tuple, dtype=complex) -> np.ndarray:
        key = (name, shape, dtype)
        array = self.arrays.get(key)
        if array is None:
            array = self.arrays[key] = np.empty(shape, dtype)
            self.nbytes += array.nbytes
        return array

    def get_set(self, key: tuple, make) -> tuple:
        """The arrays ``make(*key[1:])`` returns (a named tuple), made once per key."""
        arrays = self.arrays.get(key)
        if arrays is None:
            arrays = self.arrays[key] = make(*key[1:])
            self.nbytes += sum(x.nbytes for x in arrays)
        return arrays

    def release_if_large(self) -> None:
        if self.nbytes > _MAX_CACHED_BYTES:
            self.arrays.clear()
            self.nbytes = 0


def _kron_groups(U: np.ndarray, qubits: range) -> np.ndarray:
    """``U[q_hi] (x) ... (x) U[q_lo]`` for every slice and sample: (S, rows, D, D).

    ``U`` has shape (2, 2, S, n, rows).
    """
    hi = qubits[-1]
    K = U[:, :, :, hi].transpose(2, 3, 0, 1)  # (S, rows, 2, 2)
    for q in reversed(qubits[:-1]):
        u = U[:, :, :, q].transpose(2, 3, 0, 1)
        D = K.shape[-1]
        K = (K[:, :, :, None, :, None] * u[:, :, None, :, None, :]).reshape(
            K.shape[0], K.shape[1], 2 * D, 2 * D
        )
    return K


@functools.cache
def _trace_index(g: int) -> np.ndarray:
    """Index (g, 2, 2, 2**(g-1)) into a flattened (D, D) matrix, D = 2**g: entry
    ``[k, b, a, r]`` is ``(b on bit k, rest r), (a on bit k, rest r)``."""
    dim = 2**g
    out = np.empty((g, 2, 2, dim // 2), dtype=np.intp)
    rest = np.arange(dim // 2)
    for k in range(g):
        low_bits = rest & ((1 << k) - 1)
        high_bits = (rest >> k) << (k + 1)
        for b in (0, 1):
            for a in (0, 1):
                row = high_bits | (b << k) | low_bits
                col = high_bits | (a << k) | low_bits
                out[k, b, a] = row * dim + col
    return out


# -- compiled sweeps (numba) -------------------------------------------------------------------
# The program's tables as the compiled kernels take them: tuples in these orders (the
# kernels unpack them by position).
_SWEEP_TABLES = (
    "n_qubits", "run_lengths", "axis", "kinds", "pos", "diag_shared", "diag_row_of",
    "const_src", "const_phase", "const_mats",
)  # fmt: skip
_GRAD_TABLES = (
    "slot_trainable", "diag_slice", "diag_grad_patterns", "param_generators", "param_trainable",
)  # fmt: skip
_CHAIN_TABLES = (
    "grad_slots", "grad_slot_angles", "grad_slot_scales", "diag_angles", "param_angles",
)  # fmt: skip
_ANGLE_TABLES = ("coeff", "feature", "offset", "scale", "weight", "angle_of_term")
_TRIG_TABLES = ("slot_angle", "slot_scale", "slot_const", "sample_slots", "shared_slots")
_DIAG_TABLES = (
    "diag_param_angle", "diag_param_row", "diag_param_patterns", "diag_const", "diag_row_of",
)  # fmt: skip


def _jit_tables(program: SmallProgram, permutations: list) -> dict:
    """The program's slice structure as the compiled kernels read it: the table groups
    ``"sweep"``, ``"grad"``, ``"chain"``, ``"angle"``, ``"trig"`` and ``"diag"`` (tuples in
    the orders above) and stand-ins for absent inputs; ``permutations``: each constant
    slice's :func:`_permutation_form` (None: dense)."""
    d = 2**program.n_qubits
    a = program.angles
    pos = np.zeros(program.n_slices, dtype=np.intp)
    for slices in (program.diag_slices, program.const_slices, program.param_slices):
        pos[slices] = np.arange(len(slices))
    slot_trainable = np.zeros(program.slot_angle.shape[0], dtype=np.bool_)
    slot_trainable[program.trainable_slots] = True
    rows_k = program.diag_grad_rows
    # Constant entanglers with one entry per row (CNOT, CZ, SWAP and their products) are
    # applied as a permutation with phases: row i takes entry src[i] (src[0] = -1: dense,
    # only up to SMALL_MAX_QUBITS; the dense matrices are passed only when one is used).
    const_src = np.full((len(permutations), d), -1, dtype=np.intp)
    const_phase = np.zeros((len(permutations), 2, d))  # real and imaginary parts
    for c, form in enumerate(permutations):
        if form is not None:
            const_src[c] = form[0]
            const_phase[c] = form[1].real, form[1].imag
    const_mats = np.zeros((0, 1, 1), dtype=complex)
    if None in permutations:
        const_mats = np.array(program.const_matrices, dtype=complex).reshape(-1, d, d)
    tables = {
        "n_qubits": program.n_qubits,
        "run_lengths": program.run_lengths,
        "axis": np.ascontiguousarray(program.slot_pauli_axis[:, :, 0]),
        "kinds": np.array([_KIND_CODES[k] for k in program.kinds], dtype=np.intp),
        "pos": pos,
        "diag_shared": program.diag_const_parts,
        "diag_row_of": program.diag_row_of,
        "const_src": const_src,
        "const_phase": const_phase,
        "const_mats": const_mats,
        "slot_trainable": slot_trainable,
        "diag_slice": np.asarray(program.diag_slices, dtype=np.intp)[
            program.diag_param_row[rows_k]
        ].reshape(-1),
        "diag_grad_patterns": np.ascontiguousarray(program.diag_patterns[rows_k]).reshape(-1, d),
        "param_generators": np.array(program.param_generators, dtype=complex).reshape(-1, d, d),
        "param_trainable": np.array(program.param_trainable, dtype=np.bool_).reshape(-1),
        # The chain rule's scatter: each trainable slot's, diagonal angle's and multi-qubit
        # gate's gradient goes to its angle (-1: a fixed multi-qubit gate).
        "grad_slots": program.trainable_slots,
        "grad_slot_angles": program.trainable_slot_angles,
        "grad_slot_scales": np.ascontiguousarray(program.slot_scale[program.trainable_slots]),
        "diag_angles": program.diag_param_angle[rows_k],
        "param_angles": np.array(
            [
                a if trainable else -1
                for a, trainable in zip(program.param_angle, program.param_trainable, strict=True)
            ],
            dtype=np.intp,
        ).reshape(-1),
        "coeff": a.coeff,
        "feature": a.feature,
        "offset": a.offset,
        "scale": a.scale,
        "weight": a.weight,
        "angle_of_term": a.angle_of_term,
        "slot_angle": program.slot_angle,
        "slot_scale": program.slot_scale,
        "slot_const": program.slot_const,
        "sample_slots": program.sample_slots,
        "shared_slots": program.shared_slots,
        "diag_param_angle": program.diag_param_angle,
        "diag_param_row": program.diag_param_row,
        "diag_param_patterns": np.ascontiguousarray(program.diag_patterns).reshape(-1, d),
        "diag_const": program.diag_const,
    }
    groups = {
        "sweep": _SWEEP_TABLES, "grad": _GRAD_TABLES, "chain": _CHAIN_TABLES,
        "angle": _ANGLE_TABLES, "trig": _TRIG_TABLES, "diag": _DIAG_TABLES,
    }  # fmt: skip
    return {
        **{group: tuple(tables[name] for name in names) for group, names in groups.items()},
        # Stand-ins: no features, no multi-qubit gate matrices, no initial states.
        "no_features": np.zeros((1, 0)),
        "no_param_mats": np.zeros((0, 1, d, d), dtype=complex),
        "no_initial": np.zeros((0, 2, d)),
        "no_prob_cotangent": np.zeros((0, d)),
    }


def _compiled_array(a: np.ndarray) -> np.ndarray:
    """``a`` as a writable C-contiguous array: the compiled functions are specialised on
    layout and writability, and a read-only view (``broadcast_to``, joblib's memory maps)
    would compile a second copy of them."""
    return a if a.flags.c_contiguous and a.flags.writeable else np.array(a, order="C")


def _compiled_kernels():
    """The compiled kernels (``_small_jit.CompiledKernels``) when numba is installed and
    ``USE_COMPILED`` is on, else None."""
    if not USE_COMPILED:
        return None
    global _KERNELS
    if _KERNELS is None:
        try:
            from ._small_jit import KERNELS as _KERNELS
        except ImportError:  # numba is not installed: the NumPy sweeps
            _KERNELS = False
    return _KERNELS or None


def _split_kernels() -> dict:
    """The compiled rounds of a state in two parts (imported with the compiled sweeps)."""
    from ._split_jit import SPLIT_KERNELS

    return SPLIT_KERNELS


def _compiled_sweeps(program: SmallProgram):
    """The compiled kernels when they serve this program (at most ``_COMPILED_MAX_QUBITS``
    qubits), else None."""
    return _compiled_kernels() if program.n_qubits <= _COMPILED_MAX_QUBITS else None


def compiled_inputs(program: SmallProgram, Xc, weights, rows: int, initial):
    """``(X, buffers, initial_parts)`` of a chunk on the compiled sweeps: the features as the
    kernels take them, the chunk's work arrays with ``theta_ext`` (the weights and a
    trailing 1) filled in, and the initial states as real and imaginary parts (a stand-in
    without rows for ``|0...0>``)."""
    t = program.jit_tables
    # Work arrays kept between steps (per thread): allocated afresh, their page faults cost
    # more than a small step's arithmetic and serialise the threads of n_jobs; on one to
    # a few qubits, so did the allocations' own cost per call.
    X = t["no_features"] if Xc is None else _compiled_array(Xc)
    buf = program.workspace.get_set(("compiled", rows, X.shape[0]), program.compiled_buffers)
    buf.theta_ext[:-1] = weights[: program.angles.n_weights]
    buf.theta_ext[-1] = 1.0
    if initial is None:
        initial_parts = t["no_initial"]
    else:  # real and imaginary parts, as the sweeps hold states
        initial_parts = np.stack((initial.real, initial.imag), axis=1)
    return X, buf, initial_parts


def _compiled_chunk(program, kernels, labels, Xc, weights, cotangent, rows_slice, values, initial):
    """One chunk by the compiled sweeps (two kernel calls around the cotangent): the
    weights' gradient, or None when no cotangent asks for it. ``labels``: the Pauli
    strings read out, or None for the Born probabilities. ``initial``: the chunk's initial
    states (complex), or None for ``|0...0>``."""
    t = program.jit_tables
    a = program.angles
    rows = rows_slice.stop - rows_slice.start
    X, buf, initial_parts = compiled_inputs(program, Xc, weights, rows, initial)
    theta_ext = buf.theta_ext
    param_mats = t["no_param_mats"]
    if program.param_slices:  # their matrices come from the gate library, in NumPy
        if not kernels.angles(X, theta_ext, *t["angle"], buf.angles, buf.parts):
            a.raise_overflow(Xc, weights)
        param_mats = np.ascontiguousarray(np.stack(_param_matrices(program, buf.angles, rows)))
    probabilities = labels is None
    flips, phases, zmasks = _pauli_masks(() if probabilities else tuple(labels))
    E = np.empty((rows, len(flips)))  # fresh: the cotangent function may keep it
    finite = kernels.forward_step(
        X, theta_ext, t["angle"], t["trig"], t["diag"], t["sweep"], param_mats, flips, phases,
        zmasks, buf.angles, buf.parts, buf.diag_rows, buf.trig, initial_parts, buf.final, E,
        buf.run_store, buf.work, bool(program.param_slices),
    )  # fmt: skip
    if not finite:
        a.raise_overflow(Xc, weights)
    if probabilities:
        np.square(buf.final[:, 0], out=values)
        values += np.square(buf.final[:, 1])
    else:
        values[...] = E
    if cotangent is None:
        return None
    if probabilities:
        Gc = E  # no Pauli string's cotangent
        Gp = _compiled_array(checked_cotangent(cotangent, values, rows_slice))
    else:
        Gc = _compiled_array(checked_cotangent(cotangent, E, rows_slice))
        Gp = t["no_prob_cotangent"]
    grad = np.zeros(a.n_weights + 1)
    kernels.backward_step(
        t["sweep"], buf.diag_rows, param_mats, flips, phases, zmasks, buf.trig, buf.run_store,
        buf.final, Gc, Gp, t["grad"], t["chain"], t["angle"], buf.parts, theta_ext, buf.slot_grad,
        buf.diag_grad, buf.param_grad, buf.angle_grad, grad, buf.work,
    )  # fmt: skip
    return grad[: a.n_weights]


def _param_matrices(program: SmallProgram, angles: np.ndarray, rows: int) -> list:
    """Each parametrised multi-qubit gate's matrix per sample, (rows, d, d), from the
    angles (rows or 1, n_angles)."""
    if angles.shape[0] != rows:
        angles = np.broadcast_to(angles, (rows, angles.shape[1]))
    mats = []
    for op, a_idx, index in zip(
        program.param_ops, program.param_angle, program.param_index, strict=True
    ):
        local = op.spec.matrix(angles[:, a_idx], n_qubits=len(op.qubits))
        flat = np.concatenate([local.reshape(rows, -1), np.zeros((rows, 1))], axis=1)
        mats.append(flat[:, index])  # (rows, d, d)
    return mats


# -- one step ----------------------------------------------------------------------------------
def _chunk_step(
    program: SmallProgram, labels, Xc, weights, cotangent, rows_slice, values, initial, n_jobs
):
    kernels = _compiled_sweeps(program)
    one_row = rows_slice.stop - rows_slice.start == 1
    if kernels is not None and program.splits and labels is None and one_row:
        return split_chunk(
            program, _split_kernels(), Xc, weights, cotangent, rows_slice, values, initial,
            n_jobs,
        )  # fmt: skip
    if kernels is not None:
        return _compiled_chunk(
            program, kernels, labels, Xc, weights, cotangent, rows_slice, values, initial
        )
    n, S = program.n_qubits, program.n_slices
    d = 2**n
    angles, feature_part, theta_ext = program.angles.evaluate(Xc, weights)
    rows = rows_slice.stop - rows_slice.start
    if angles.shape[0] != rows:
        angles = np.broadcast_to(angles, (rows, angles.shape[1]))

    # Entangler factors.
    diag_factor = None
    if program.diag_slices:
        # Parameter-free phases were exponentiated at compile time.
        diag_factor = program.diag_const_factor[:, None, :]
        if program.diag_param_row.size:
            a = angles[:, program.diag_param_angle]  # (rows, P)
            phase = (a[:, None, :] * program.diag_scatter) @ program.diag_patterns
            diag_factor = diag_factor * np.exp(1j * phase.transpose(1, 0, 2))
    param_mats = _param_matrices(program, angles, rows)

    diag_pos = {s: r for r, s in enumerate(program.diag_slices)}
    const_pos = {s: r for r, s in enumerate(program.const_slices)}
    param_pos = {s: r for r, s in enumerate(program.param_slices)}
    # Run matrices (2, 2, m, S, n, rows), then suffix products and the fused run matrices.
    m = program.run_length
    ws = program.workspace
    P = m * S * n
    cos, sin = ws.get("cos", (P, rows), float), ws.get("sin", (P, rows), float)
    if program.sample_slots.size:
        # Slot-major and contiguous, so that the products below run over long rows.
        a = np.ascontiguousarray(angles[:, program.slot_angle[program.sample_slots]].T)
        a *= program.slot_scale[program.sample_slots, None]
        a += program.slot_const[program.sample_slots, None]
        cos[program.sample_slots] = np.cos(a)
        sin[program.sample_slots] = np.sin(a)
    if program.shared_slots.size:  # the same matrix for every sample: computed once
        a = angles[0, program.slot_angle[program.shared_slots]]
        a *= program.slot_scale[program.shared_slots]
        a += program.slot_const[program.shared_slots]
        cos[program.shared_slots] = np.cos(a)[:, None]
        sin[program.shared_slots] = np.sin(a)[:, None]
    # cos(a) I - i sin(a) (nx X + ny Y + nz Z), entry by entry on real and imaginary parts.
    G = ws.get("G", (2, 2, P, rows))
    nx, ny, nz = program.slot_pauli_axis
    G.real[0, 0] = cos
    G.real[1, 1] = cos
    np.multiply(sin, -nz, out=G.imag[0, 0])
    np.negative(G.imag[0, 0], out=G.imag[1, 1])
    np.multiply(sin, -ny, out=G.real[0, 1])
    np.negative(G.real[0, 1], out=G.real[1, 0])
    np.multiply(sin, -nx, out=G.imag[0, 1])
    G.imag[1, 0] = G.imag[0, 1]
    G = G.reshape(2, 2, m, S * n * rows)
    # P[j] = G[m-1] ... G[j] (P[m] = I): the run matrix is P[0], and the gates after
    # position j are P[j + 1].
    N = S * n * rows
    prods = _suffix_products(G, ws.get("prods", (2, 2, m + 1, N)), ws)
    U = prods[:, :, 0]
    U = U.reshape(2, 2, S, n, rows)

    low = program.low
    K_low = _kron_groups(U, range(0, low))  # (S, rows, dl, dl)
    K_high = _kron_groups(U, range(low, n)) if low < n else None
    dl = 2**low
    dh = d // dl

    # Forward: phi[s] before slice s, psi[s] after its runs (before its entangler).
    phi = ws.get("phi", (S + 1, rows, d))
    psi = ws.get("psi", (S, rows, d))
    if initial is None:
        phi[0] = 0.0
        phi[0, :, 0] = 1.0
    else:
        phi[0] = initial
    K_low_t = K_low.swapaxes(-1, -2)
    for s in range(S):
        if K_high is None:
            np.matmul(K_low[s], phi[s][:, :, None], out=psi[s][:, :, None])
        else:
            view = phi[s].reshape(rows, dh, dl)
            np.matmul(K_high[s] @ view, K_low_t[s], out=psi[s].reshape(rows, dh, dl))
        kind = program.kinds[s]
        if kind is None:
            phi[s + 1] = psi[s]
        elif kind == "diag":
            np.multiply(psi[s], diag_factor[diag_pos[s]], out=phi[s + 1])
        elif kind == "const":
            np.matmul(psi[s], program.const_matrices[const_pos[s]].T, out=phi[s + 1])
        else:
            np.matmul(param_mats[param_pos[s]], psi[s][:, :, None], out=phi[s + 1][:, :, None])

    final = phi[S]
    lam = ws.get("lam", (S, rows, d))
    if not _read_out(labels, final, values, cotangent, rows_slice, out=lam[S - 1]):
        return None  # expectation values only

    # Backward: lam[s] at the end of slice s, lam_runs[s] after its runs (before entangler).
    lam_runs = ws.get("lam_runs", (S, rows, d))
    K_low_c = K_low.conj()
    K_high_h = None if K_high is None else K_high.conj().swapaxes(-1, -2)
    for s in range(S - 1, -1, -1):
        kind = program.kinds[s]
        if kind is None:
            lam_runs[s] = lam[s]
        elif kind == "diag":
            np.multiply(lam[s], diag_factor[diag_pos[s]].conj(), out=lam_runs[s])
        elif kind == "const":
            np.matmul(lam[s], program.const_matrices[const_pos[s]].conj(), out=lam_runs[s])
        else:
            mat = param_mats[param_pos[s]]
            np.matmul(mat.conj().swapaxes(-1, -2), lam[s][:, :, None], out=lam_runs[s][:, :, None])
        if s == 0:
            break
        if K_high is None:
            np.matmul(
                K_low_c[s].swapaxes(-1, -2), lam_runs[s][:, :, None], out=lam[s - 1][:, :, None]
            )
        else:
            view = lam_runs[s].reshape(rows, dh, dl)
            np.matmul(K_high_h[s] @ view, K_low_c[s], out=lam[s - 1].reshape(rows, dh, dl))

    angle_grad = np.zeros((rows, program.angles.n_angles))
    # Run gates: 2 Im Tr(K Q_j), Q_j = S_j^H Q S_j with Q the cross density on the qubit.
    ang = program.trainable_slot_angles
    if ang.size:
        Q = ws.get("Q", (2, 2, S, n, rows))
        lam_c = np.conjugate(lam_runs, out=ws.get("lam_c", (S, rows, d)))
        # Cross densities psi lambda^H of each Kronecker group, then each qubit's 2x2 by a
        # partial trace (a gather and a sum): Q[b, a] = sum_rest psi_(b, rest) conj(lam_(a, rest)).
        if K_high is None:
            crosses = [(psi[..., :, None] * lam_c[..., None, :], range(0, n))]
        else:
            psi_v = psi.reshape(S, rows, dh, dl)
            lam_v = lam_c.reshape(S, rows, dh, dl)
            crosses = [
                (psi_v.swapaxes(-1, -2) @ lam_v, range(0, low)),
                (psi_v @ lam_v.swapaxes(-1, -2), range(low, n)),
            ]
        for cross, group in crosses:
            dim = cross.shape[-1]
            traced = cross.reshape(S, rows, dim * dim)[..., _trace_index(len(group))].sum(axis=-1)
            Q[:, :, :, group.start : group.stop] = traced.transpose(3, 4, 0, 2, 1)
        # Every slot at once (no gathers): Q_j = S_j^H Q S_j with S_j = prods[j + 1], then
        # Tr(K Q_j) = sum_ab K[a, b] Q_j[b, a] with K zero on slots without a trainable gate.
        later = prods[:, :, 1:]  # (2, 2, m, S * n * rows)
        shape = later.shape
        QS = _mul(Q.reshape(2, 2, 1, -1), later, ws.get("QS", shape), ws.get("QS_tmp", shape))
        Qj = _mul_dagger(later, QS, ws.get("Qj", shape), ws.get("QS_tmp", shape))
        weighted = ws.get("QS_tmp", shape).reshape(2, 2, m * S * n, rows)
        np.multiply(program.slot_generators_t[..., None], Qj.reshape(weighted.shape), out=weighted)
        traces = weighted.sum(axis=(0, 1))  # (slots, rows)
        angle_grad[:, ang] = 2.0 * traces[program.trainable_slots].imag.T
    # Diagonal gates: -2 Im sum(conj(lambda) psi pattern) at the slice's end.
    if program.diag_grad_rows.size:
        rows_k = program.diag_grad_rows
        at = np.asarray(program.diag_slices)[program.diag_param_row[rows_k]]
        cross = lam_runs[at].conj()
        cross *= psi[at]  # (k, rows, d)
        values_k = cross @ program.diag_patterns[rows_k][:, :, None].astype(complex)
        angle_grad[:, program.diag_param_angle[rows_k]] = -2.0 * values_k[:, :, 0].imag.T
    # Parametrised multi-qubit gates: 2 Im <lambda| K psi> at the slice's end.
    for r, s in enumerate(program.param_slices):
        if program.param_trainable[r]:
            kpsi = phi[s + 1] @ program.param_generators[r].T
            angle_grad[:, program.param_angle[r]] = (
                2.0 * np.einsum("rd,rd->r", lam[s].conj(), kpsi).imag
            )
    return _weight_gradient(program, angle_grad, feature_part, theta_ext, rows)


def _weight_gradient(program, angle_grad, feature_part, theta_ext, rows) -> np.ndarray:
    """The chain rule from the angles' gradients (rows, n_angles) to the weights."""
    if feature_part.shape[0] == 1 and rows > 1:
        angle_grad = angle_grad.sum(axis=0, keepdims=True)
    return program.angles.weight_gradient(angle_grad, feature_part, theta_ext)


def _read_out(labels, final, values, cotangent, rows_slice, out) -> bool:
    """Expectation values of the final states into ``values`` (``labels`` None: the Born
    probabilities); with a cotangent, writes the backward pass's start ``sum_k g_k P_k psi``
    (``g * psi`` for probabilities) into ``out`` and returns True."""
    if labels is None:
        np.square(final.real, out=values)
        values += np.square(final.imag)
        if cotangent is None:
            return False
        np.multiply(final, checked_cotangent(cotangent, values, rows_slice), out=out)
        return True
    rows, d = final.shape
    paulis = _dense_paulis(tuple(labels))
    if paulis is not None:  # all P_k psi in one product: (rows, k, d)
        pauli_states = (final @ paulis).reshape(rows, len(labels), d)
        E = np.matmul(pauli_states, final.conj()[:, :, None])[:, :, 0].real
    else:
        E = pauli_expectations(final, labels)
    values[...] = E
    if cotangent is None:
        return False
    Gc = checked_cotangent(cotangent, E, rows_slice)
    if paulis is not None:
        np.matmul(Gc[:, None, :].astype(complex), pauli_states, out=out[:, None, :])
    else:
        weighted_pauli_sum(final, labels, Gc, out)
    return True


def small_chunk_rows(
    program: SmallProgram, max_memory_mb, n_samples: int, n_labels: int, initial: bool = False
) -> int:
    """Samples per chunk of the engine within the budget, or 0 when it should not run.

    The engine stores the state and cotangent at every slice, several times what the
    general path holds per sample; when fewer than ``min(n_samples, _MIN_CHUNK_ROWS)`` rows
    fit the budget, the general path (which needs less memory) runs instead. ``initial``:
    the samples start from initial states (the caller holds them; a chunk's copy as the
    sweeps read them is counted).
    """
    if not program.dense and _compiled_sweeps(program) is None:
        return 0  # wider than the NumPy sweeps take (the compiled ones are off)
    budget = resolve_max_memory_mb(max_memory_mb) * _MIB
    room = budget - program.fixed_bytes()
    per_row = program.bytes_per_row(n_labels) + (16 * 2**program.n_qubits if initial else 0)
    rows = n_samples if room == np.inf else int(room // per_row) if room > 0 else 0
    if not rows or rows < min(n_samples, _MIN_CHUNK_ROWS):
        return 0
    # Chunks whose work arrays can stay cached between calls, unless that is too few rows.
    cached = max(_MIN_CHUNK_ROWS, _MAX_CACHED_BYTES // per_row)
    return min(rows, cached, _MAX_CHUNK_ROWS)


def n_outputs(program: SmallProgram, labels) -> int:
    """Values per sample of a read-out: one per Pauli string, or (``labels`` None) one
    Born probability per basis state."""
    return 2**program.n_qubits if labels is None else len(labels)


def _n_rows(X, initial_states) -> int:
    """Samples of a call: one per initial state, else one per row of X (one without X)."""
    if initial_states is not None:
        return initial_states.shape[0]
    return 1 if X is None else X.shape[0]


def small_expectations(
    program: SmallProgram, labels, X, weights, *, chunk: int, initial_states=None
):
    """:func:`~skqml.simulator.expectations` by the small-circuit engine (inputs checked),
    ``chunk`` samples at a time (from :func:`small_chunk_rows`)."""
    if weights is None:
        weights = np.zeros(0)
    n_samples = _n_rows(X, initial_states)
    values = np.empty((n_samples, n_outputs(program, labels)))
    for start in range(0, n_samples, chunk):
        stop = min(start + chunk, n_samples)
        Xc = None if X is None else X[start:stop]
        initial = None if initial_states is None else initial_states[start:stop]
        _chunk_step(
            program, labels, Xc, weights, None, slice(start, stop), values[start:stop], initial,
            None,
        )  # fmt: skip
    program.workspace.release_if_large()
    return values


def small_expectation_vjp(
    program: SmallProgram,
    labels: Sequence[str] | None,
    X,
    weights,
    cotangent_fn,
    chunk: int,
    initial_states=None,
    n_jobs: int | None = None,
):
    """:func:`~skqml.simulator.expectation_vjp` by the small-circuit engine (inputs checked),
    ``chunk`` samples at a time (from :func:`small_chunk_rows`); ``labels`` None: that of
    :func:`~skqml.simulator.probability_vjp`, the values being the Born probabilities.
    ``n_jobs``: the threads that share a state run in two parts (see ``_split.py``)."""
    if weights is None:
        weights = np.zeros(0)
    n_samples = _n_rows(X, initial_states)
    values = np.empty((n_samples, n_outputs(program, labels)))
    grad = np.zeros(weights.shape[0])
    for start in range(0, n_samples, chunk):
        stop = min(start + chunk, n_samples)
        Xc = None if X is None else X[start:stop]
        initial = None if initial_states is None else initial_states[start:stop]
        g = _chunk_step(
            program, labels, Xc, weights, cotangent_fn, slice(start, stop), values[start:stop],
            initial, n_jobs,
        )  # fmt: skip
        grad[: g.shape[0]] += g
    program.workspace.release_if_large()
    return values, grad
