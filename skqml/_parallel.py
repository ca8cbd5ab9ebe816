"""How skqml spreads blocks of work over cores: one place, one policy.

Every parallel loop in skqml runs fixed blocks (chosen by size and memory, never by
``n_jobs``), so that every ``n_jobs`` gives the same numbers; this module only decides where
the blocks run.

- Work on exact states (simulation blocks, Gram blocks, batched gradients) runs in
  **threads**. NumPy's passes over blocks of states and BLAS release the GIL, and threads
  share the states: process workers would pickle every block back to the parent (256 states
  of 12 qubits are 16 MiB) and start a process pool first. BLAS runs on one thread inside
  these blocks, whatever ``n_jobs``: so that ``n_jobs`` workers use ``n_jobs`` cores instead
  of ``n_jobs`` times BLAS's own pool (on 2 cores, two workers with two OpenBLAS threads
  each were slower than one worker), and because OpenBLAS's products differ in the last
  bits between one thread and several (a ``zgemm`` of 512 x 4096 states by 1.1e-16), which
  would make the results depend on ``n_jobs``. ``n_jobs`` is the number of cores used.
- Work through a backend that is not exact (shots, SDK devices) runs in joblib's default
  **processes**: its Python-level work (transpiling, device calls) holds the GIL.

Both are joblib's preferences only: ``joblib.parallel_config(backend=...)`` (dask, ray, loky)
still decides for the user.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext

from joblib import Parallel, delayed, effective_n_jobs
from threadpoolctl import ThreadpoolController

__all__ = [
    "CONCURRENT_BLOCKS",
    "block_slices",
    "map_blocks",
    "n_workers",
    "single_blas_thread",
    "state_part_runner",
]

# Blocks that share one memory budget (each sized for its share), whatever n_jobs: a block's
# size must not depend on n_jobs, or results would change in the last bits.
CONCURRENT_BLOCKS = 4


# The loaded BLAS libraries, found once per set of imported modules (a new import may load
# another BLAS, e.g. SciPy's after NumPy's).
_CONTROLLER: tuple[int, ThreadpoolController] | None = None


def single_blas_thread():
    """A context in which BLAS runs on one thread (process-wide, lifted on exit).

    The loaded BLAS libraries are looked up again only after new modules were imported
    (``threadpool_limits`` looks them up at every entry, reading the process's memory map:
    about 7 ms, more than a small Gram matrix or a training step).
    """
    global _CONTROLLER
    n_modules = len(sys.modules)
    if _CONTROLLER is None or _CONTROLLER[0] != n_modules:
        _CONTROLLER = (n_modules, ThreadpoolController())
    return _CONTROLLER[1].limit(limits=1, user_api="blas")


def block_slices(n: int, block: int) -> list[slice]:
    """Consecutive slices of ``block`` items (the last may be shorter) covering ``range(n)``."""
    return [slice(i, min(i + block, n)) for i in range(0, n, block)]


def even_block(n: int, block: int) -> int:
    """The size of as few blocks of at most ``block`` items as cover ``n``, made as equal
    as possible: with it, :func:`block_slices` gives workers equal shares (400 rows in
    blocks of at most 128: four of 100, not 128, 128, 128 and 16, which left one of two
    workers 256 rows)."""
    if n <= block:
        return max(n, 1)
    count = -(-n // block)
    return -(-n // count)


def n_workers(n_jobs: int | None, n_blocks: int) -> int:
    """Workers that ``n_jobs`` gives ``n_blocks`` blocks: at least 1, at most one per block."""
    return max(1, min(n_blocks, effective_n_jobs(n_jobs)))


def map_blocks(
    function: Callable,
    blocks: Sequence[tuple],
    n_jobs: int | None,
    *,
    threads: bool = True,
    lazy: bool = False,
) -> list | Iterator:
    """``[function(*args) for args in blocks]``, in order, on ``n_jobs`` workers.

    Parameters
    ----------
    function : callable
        Computes one block.
    blocks : sequence of tuple
        The arguments of each call.
    n_jobs : int or None
        joblib's ``n_jobs``; one worker runs the calls in this thread, without joblib.
    threads : bool, default=True
        Prefer threads (work on exact states) over processes (see the module docstring).
    lazy : bool, default=False
        Return an iterator that yields each result as soon as it and those before it are
        done (to place, report and free blocks while later ones run).

    Returns
    -------
    results : list or iterator
        The results in the order of ``blocks``.
    """
    results = _run(function, blocks, n_workers(n_jobs, len(blocks)), threads)
    return results if lazy else list(results)


def _run(function, blocks: Iterable[tuple], workers: int, threads: bool) -> Iterator:
    # A generator, so that the BLAS limit lasts exactly as long as the blocks run (it is
    # process-wide, and lifted when the generator finishes or is closed).
    limits = single_blas_thread() if threads else nullcontext()
    with limits:
        if workers == 1:  # in this thread, without joblib
            for args in blocks:
                yield function(*args)
            return
        yield from Parallel(
            n_jobs=workers,
            prefer="threads" if threads else None,
            return_as="generator",
            pre_dispatch="2*n_jobs",
        )(delayed(function)(*args) for args in blocks)


@contextmanager
def state_part_runner(n_jobs: int | None) -> Iterator[Callable]:
    """A context giving ``run(function)``: ``function(0)`` and ``function(1)``, the two parts
    of one round over a state split in two (``simulator/_split.py``), done when it returns.

    With two workers from ``n_jobs``, part 1 runs in a second thread while this one runs part
    0; else one after the other. Always threads of this process, whatever joblib's backend:
    a round lasts tens of microseconds to milliseconds, far below any backend's dispatch.
    """
    if n_workers(n_jobs, 2) < 2:

        def in_turn(function):
            function(0)
            function(1)

        yield in_turn
        return
    with ThreadPoolExecutor(max_workers=1) as pool:

        def in_two_threads(function):
            other = pool.submit(function, 1)
            try:
                function(0)
            finally:
                other.result()

        yield in_two_threads
