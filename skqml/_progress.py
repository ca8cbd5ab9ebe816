"""Progress lines for long computations, printed to stdout like scikit-learn's ``verbose``.

One small reporter shared by everything that iterates over known work (Gram-matrix blocks,
training epochs): it prints a bounded number of lines however many steps there are, so a
Gram matrix of 10,000 blocks prints about ten lines, not 10,000.
"""

from __future__ import annotations

import math
import sys
import time

__all__ = ["ProgressReporter", "format_seconds"]


def format_seconds(seconds: float) -> str:
    """A duration for a progress line: ``0.42s``, ``12.3s``, ``4m05s``, ``2h03m``.

    Examples
    --------
    >>> from skqml._progress import format_seconds
    >>> format_seconds(0.4213), format_seconds(12.34), format_seconds(245.0)
    ('0.42s', '12.3s', '4m05s')
    >>> format_seconds(7380.0), format_seconds(float("nan"))
    ('2h03m', '?')
    """
    if not math.isfinite(seconds):
        return "?"
    if seconds < 10:
        return f"{seconds:.2f}s"
    if seconds < 60:
        return f"{seconds:.1f}s"
    if seconds < 3600:
        minutes, secs = divmod(round(seconds), 60)
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours}h{minutes:02d}m"


def _format_count(value: float) -> str:
    # Rates and totals span many orders of magnitude; three significant digits suffice.
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.3g}"


class ProgressReporter:
    """Counts steps of known total work and prints a throttled progress line.

    A line is printed when the finished work crosses the next of ``n_lines`` evenly spaced
    milestones (10 at ``verbose=1``, 20 at ``verbose>=2``) and always at the last step, so
    the output is bounded whatever the number of steps. Nothing is printed when ``verbose``
    is 0 (and the clock is not even read).

    Parameters
    ----------
    total : int
        Number of steps (blocks, epochs...).
    verbose : int
        0: silent; 1: about 10 lines; 2 or more: about 20 lines.
    name : str
        Prefix of every line, in brackets (the class that reports).
    unit : str, default="blocks"
        What a step is, for the line.
    total_work : float, default=None
        When steps differ in size (a Gram matrix's last row block is smaller), the total of
        the ``work`` passed to :meth:`update`, in ``work_unit``: percentages, the rate and
        the time left are then computed from work, not from steps.
    work_unit : str, default="entries"
        Unit of ``work`` for the rate.
    stream : file-like, default=None
        Where to print; ``None`` means ``sys.stdout`` at the time of printing (so pytest's
        ``capsys`` and ``contextlib.redirect_stdout`` see the lines).

    Examples
    --------
    >>> from skqml._progress import ProgressReporter
    >>> progress = ProgressReporter(4, verbose=1, name="Demo", unit="blocks")
    >>> for _ in range(4):
    ...     progress.update()  # doctest: +ELLIPSIS
    [Demo] 1/4 blocks (25%) | ... blocks/s | elapsed ... | left ...
    [Demo] 2/4 blocks (50%) | ... blocks/s | elapsed ... | left ...
    [Demo] 3/4 blocks (75%) | ... blocks/s | elapsed ... | left ...
    [Demo] 4/4 blocks (100%) | ... blocks/s | elapsed ... | left 0.00s
    >>> ProgressReporter(4, verbose=0, name="Demo").update()  # silent
    """

    def __init__(
        self,
        total: int,
        verbose: int,
        name: str,
        *,
        unit: str = "blocks",
        total_work: float | None = None,
        work_unit: str = "entries",
        stream=None,
    ):
        self.total = int(total)
        self.verbose = int(verbose)
        self.name = name
        self.unit = unit
        self.total_work = None if total_work is None else float(total_work)
        self.work_unit = work_unit
        self.stream = stream
        self.done = 0
        self.work = 0.0
        self._next_line = 1
        self._n_lines = 10 if self.verbose <= 1 else 20
        self._start = time.perf_counter() if self.verbose > 0 else 0.0

    def message(self, text: str) -> None:
        """Print one free-form line with the reporter's prefix (when verbose)."""
        if self.verbose > 0:
            print(f"[{self.name}] {text}", file=self.stream or sys.stdout, flush=True)

    def update(self, steps: int = 1, work: float | None = None) -> None:
        """Record finished steps (and their work); print a line at each milestone."""
        if self.verbose <= 0:
            return
        self.done += int(steps)
        if work is not None:
            self.work += float(work)
        fraction = self._fraction()
        if self.done < self.total and fraction * self._n_lines < self._next_line:
            return
        # Skip milestones crossed at once (few, big steps): one line per update at most.
        self._next_line = math.floor(fraction * self._n_lines) + 1
        self.message(self._line(fraction))

    def _fraction(self) -> float:
        if self.total_work:
            return min(self.work / self.total_work, 1.0)
        return min(self.done / self.total, 1.0) if self.total else 1.0

    def _line(self, fraction: float) -> str:
        elapsed = time.perf_counter() - self._start
        amount, unit = (self.work, self.work_unit) if self.total_work else (self.done, self.unit)
        rate = f"{_format_count(amount / elapsed) if elapsed > 0 else '?'} {unit}/s"
        left = elapsed * (1 - fraction) / fraction if fraction > 0 else float("nan")
        return (
            f"{self.done}/{self.total} {self.unit} ({fraction:.0%}) | {rate} | "
            f"elapsed {format_seconds(elapsed)} | left {format_seconds(left)}"
        )
