"""Helpers shared by the benchmark scripts: timing, optional imports, environment record."""

from __future__ import annotations

import importlib.util
import os
import platform
import time
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np


def has(module: str) -> bool:
    """Whether an optional module is installed (without importing it)."""
    return importlib.util.find_spec(module) is not None


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    """Seconds of one call, best of 3 when a call takes under 1 s; and the first result."""
    start = time.perf_counter()
    result = fn()
    best = time.perf_counter() - start
    if best < 1.0:
        for _ in range(2):
            start = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - start)
    return best, result


def mean_time(fn: Callable[[], object], min_time: float) -> float:
    """Mean seconds per call over as many calls as fill ``min_time`` (at least one)."""
    calls, start = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            return elapsed / calls


def environment(peer_modules: Sequence[str]) -> list[str]:
    """Markdown bullet lines: platform, versions, BLAS/OpenMP pools, thread variables."""
    import scipy
    from threadpoolctl import threadpool_info

    import skqml

    lines = [
        f"- Python {platform.python_version()}, {platform.platform()}",
        f"- CPU count (os.cpu_count): {os.cpu_count()}; load average at the end of the run "
        f"(1, 5, 15 min): {', '.join(f'{x:.1f}' for x in os.getloadavg())}",
        f"- numpy {np.__version__}, scipy {scipy.__version__}, skqml {skqml.__version__}",
    ]
    for mod in peer_modules:
        if has(mod):
            try:
                ver = version(mod.replace("_", "-"))
            except PackageNotFoundError:
                ver = getattr(__import__(mod), "__version__", "?")
            lines.append(f"- {mod} {ver}")
    for pool in threadpool_info():
        lines.append(
            f"- thread pool: {pool.get('internal_api')} {pool.get('version')} "
            f"({pool.get('user_api')}, {pool.get('threading_layer', '')}), "
            f"num_threads={pool.get('num_threads')}, {Path(pool.get('filepath', '')).name}"
        )
    env = [
        f"{k}={os.environ[k]}"
        for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
        if k in os.environ
    ]
    lines.append(f"- thread environment variables: {', '.join(env) or 'none set'}")
    return lines


def replace_section(path: Path, title: str, report: str) -> None:
    """Replace the section of ``path`` that starts with the line ``title``, or append it.

    A section runs from its title to the next top-level (``# ``) title or the end, so each
    benchmark script rewrites only its own part of a shared Markdown page.
    """
    text = path.read_text() if path.exists() else ""
    lines = text.splitlines()
    try:
        start = lines.index(title)
    except ValueError:
        head = text.rstrip("\n")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text((head + "\n\n" if head else "") + report.rstrip("\n") + "\n")
        return
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("# ")), len(lines))
    new = [*lines[:start], *report.rstrip("\n").splitlines()]
    if end < len(lines):
        new += ["", *lines[end:]]
    path.write_text("\n".join(new) + "\n")
