"""Content keys and random streams shared by the sampling backends.

A row's key is a hash of its features; a call's context is a hash of the circuit and the
weights. Streams are ``SeedSequence(root, spawn_key=key words)``, so estimates depend on what
is run, never on where in a batch, in which block or on which worker it runs.
"""

from __future__ import annotations

import hashlib

import numpy as np

from ..circuits import Circuit

# Domain tags in the spawn keys, so that no two kinds of draw ever share a stream.
_SAMPLE_TAG = 1
_OVERLAP_TAG = 2


def root_entropy(seed: int | None) -> int:
    """The root of a call's streams: the seed, or fresh entropy for the call (not per row)."""
    return int(seed) if seed is not None else np.random.SeedSequence().entropy


def sample_frequencies(dist: np.ndarray, shots: int, seed, circuit: Circuit, X, weights):
    """Frequencies of ``shots`` multinomial draws per row of ``dist``, one stream per row.

    Row ``i`` draws from ``SeedSequence(root, spawn_key=words(tag, context, key_i))``, with
    ``context`` a hash of the circuit and the weights and ``key_i`` a hash of the row's
    features: a row's draws depend on what it runs, not on its batch, block or worker.
    Every backend that samples from exact distributions uses this one function, so the same
    seed gives the same draws on any of them.
    """
    dist = np.clip(dist, 0.0, None)
    # Rounding can leave a sum a few ulps above 1, which multinomial refuses.
    dist /= dist.sum(axis=1, keepdims=True)
    root = root_entropy(seed)
    context = _digest(_circuit_text(circuit), _weights_bytes(weights))
    keys = _row_keys(_features_or_empty(X, dist.shape[0]))
    counts = np.empty(dist.shape)
    for i, key in enumerate(keys):
        words = _words([_SAMPLE_TAG, context, key])
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(root, spawn_key=words)))
        counts[i] = rng.multinomial(shots, dist[i])
    return counts / shots


def _features_or_empty(X, n_rows: int) -> np.ndarray:
    return np.empty((n_rows, 0)) if X is None else np.asarray(X, dtype=float)


def _row_keys(X: np.ndarray) -> list[int]:
    """A 64-bit hash of each row's features (``-0.0`` and ``0.0`` hash alike)."""
    X = np.ascontiguousarray(X, dtype=float) + 0.0
    return [
        int.from_bytes(hashlib.blake2b(row.tobytes(), digest_size=8).digest(), "little")
        for row in X
    ]


def _circuit_text(circuit: Circuit) -> bytes:
    # Terms are frozen dataclasses of floats and ints: their repr is exact and stable across
    # processes (unlike hash(), which is salted per process for strings).
    ops = [(op.name, op.qubits, [a.terms for a in op.params]) for op in circuit]
    return repr((circuit.n_qubits, ops)).encode()


def _weights_bytes(weights) -> bytes:
    return b"" if weights is None else np.asarray(weights, dtype=float).ravel().tobytes()


def _digest(*parts: bytes) -> int:
    h = hashlib.blake2b(digest_size=8)
    for part in parts:
        h.update(len(part).to_bytes(8, "little"))
        h.update(part)
    return int.from_bytes(h.digest(), "little")


def _words(values) -> tuple[int, ...]:
    """64-bit key parts as fixed-width 32-bit words (low word first), as SeedSequence reads."""
    return tuple(w for v in values for w in (int(v) & _MASK32, int(v) >> 32))


# numpy's SeedSequence constants (numpy/random/bit_generator.pyx; fixed by its stability
# policy, and checked against SeedSequence itself in tests/test_shots.py).
_INIT_A, _MULT_A = 0x43B0D7E5, 0x931E8875
_INIT_B, _MULT_B = 0x8B51F9DD, 0x58F38DED
_MIX_MULT_L, _MIX_MULT_R = 0xCA01F9DD, 0x4973F715
_MASK32, _POOL_SIZE = 0xFFFFFFFF, 4


def _seed_states(root: int, keys: np.ndarray) -> np.ndarray:
    """``SeedSequence(root, spawn_key=_words(k)).generate_state(1, np.uint64)`` per row k.

    The same hash as numpy's SeedSequence, vectorised over rows (its mixing constants
    evolve identically for every key of the same length, so each step is one array
    operation): each key gets the stream that ``SeedSequence.spawn`` would give the child
    at that "index", without building one Python object per kernel pair.
    """
    keys = np.asarray(keys, dtype=np.uint64)
    m = keys.shape[0]
    run = [
        int(root) >> (32 * i) & _MASK32 for i in range(max(1, -(-int(root).bit_length() // 32)))
    ]
    run += [0] * (_POOL_SIZE - len(run))
    entropy = [np.full(m, w, dtype=np.uint32) for w in run]
    for col in keys.T:
        entropy += [(col & _MASK32).astype(np.uint32), (col >> 32).astype(np.uint32)]
    hash_const = _INIT_A

    def hashmix(value):
        nonlocal hash_const
        value = value ^ np.uint32(hash_const)
        hash_const = hash_const * _MULT_A & _MASK32
        value = value * np.uint32(hash_const)
        return value ^ (value >> np.uint32(16))

    def mix(x, y):
        result = np.uint32(_MIX_MULT_L) * x - np.uint32(_MIX_MULT_R) * y
        return result ^ (result >> np.uint32(16))

    pool = [hashmix(entropy[i]) for i in range(_POOL_SIZE)]
    for i_src in range(_POOL_SIZE):
        for i_dst in range(_POOL_SIZE):
            if i_src != i_dst:
                pool[i_dst] = mix(pool[i_dst], hashmix(pool[i_src]))
    for word in entropy[_POOL_SIZE:]:
        for i_dst in range(_POOL_SIZE):
            pool[i_dst] = mix(pool[i_dst], hashmix(word))
    state, hash_const = [], _INIT_B
    for word in pool[:2]:
        value = word ^ np.uint32(hash_const)
        hash_const = hash_const * _MULT_B & _MASK32
        value = value * np.uint32(hash_const)
        state.append((value ^ (value >> np.uint32(16))).astype(np.uint64))
    return state[0] | (state[1] << np.uint64(32))


def _uniforms(root: int, keys: np.ndarray) -> np.ndarray:
    """One uniform in (0, 1) per key, from the top 53 bits of its seed state."""
    return ((_seed_states(root, keys) >> np.uint64(11)).astype(float) + 0.5) * 2.0**-53
