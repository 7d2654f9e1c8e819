"""The one job protocol shared by the GUI and the command line.

A job is a generator that yields :class:`Progress` records and returns its result::

    def prepare_job(...) -> Job[PrepareResult]:
        clock = ProgressClock("Tracking faces", total=n)
        for i in range(n):
            ...
            yield clock.step(i + 1, losses={"landmarks": err})
        return result

The CLI drives it with :func:`run_job` and draws a progress bar; the GUI drives the same generator in
a worker thread (app/workers.py). A job is cancelled between yields: the driver closes the generator
(``GeneratorExit`` runs its ``finally`` blocks) and raises :class:`~core.errors.JobCancelled`. Code that
cannot yield (a long library call) takes a :class:`CancelToken` and calls ``token.raise_if_cancelled()``.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from core.errors import JobCancelled

R = TypeVar("R")
Job = Generator["Progress", None, R]


@dataclass(frozen=True)
class Progress:
    """One progress record.

    fraction: 0..1 of the whole job, or None when unknown.
    stage: short text for the user ("Tracking faces", "Training renderer").
    eta_s: seconds left, or None.
    step / total: counters of the current stage, when they mean something.
    losses: named scalar figures to plot (training losses, errors).
    preview: a small uint8 RGB HxWx3 image (numpy, never a CUDA tensor), or None.
    """

    fraction: float | None
    stage: str
    eta_s: float | None = None
    step: int | None = None
    total: int | None = None
    losses: dict[str, float] = field(default_factory=dict)
    preview: np.ndarray | None = None
    message: str | None = None


class CancelToken:
    """Thread-safe cancel flag, set by the GUI or by Ctrl+C, read by the job."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise JobCancelled()


class ProgressClock:
    """Builds Progress records for a stage with a known number of steps, with an ETA.

    ``span`` maps the stage's own 0..1 onto a part of the whole job, so a job of several stages
    reports one monotone fraction.
    """

    def __init__(self, stage: str, total: int, span: tuple[float, float] = (0.0, 1.0)) -> None:
        self.stage = stage
        self.total = max(int(total), 1)
        self.span = span
        self._start = time.monotonic()

    def step(self, done: int, **extra: Any) -> Progress:
        local = min(max(done / self.total, 0.0), 1.0)
        elapsed = time.monotonic() - self._start
        eta = elapsed * (1.0 - local) / local if local > 0 else None
        lo, hi = self.span
        return Progress(
            fraction=lo + (hi - lo) * local, stage=self.stage, eta_s=eta,
            step=int(done), total=self.total, **extra,
        )


def run_job(
    job: Job[R],
    on_progress: Callable[[Progress], None] | None = None,
    cancel: CancelToken | None = None,
) -> R:
    """Drive a job to its end and return its result.

    Raises JobCancelled (after closing the generator) when ``cancel`` is set between two yields.
    """
    while True:
        if cancel is not None and cancel.cancelled:
            job.close()
            raise JobCancelled()
        try:
            record = next(job)
        except StopIteration as stop:
            return stop.value
        if on_progress is not None:
            on_progress(record)


def format_eta(seconds: float | None) -> str:
    if seconds is None or seconds != seconds:
        return "--:--"
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def within(job: Job[R], span: tuple[float, float]) -> Job[R]:
    """Run a sub-job as the part ``span`` of a larger job: its fractions are mapped into the span.

    Closing the outer generator closes the sub-job too (its ``finally`` blocks run).
    """
    lo, hi = span
    try:
        while True:
            try:
                p = next(job)
            except StopIteration as stop:
                return stop.value
            yield dataclasses.replace(p, fraction=None if p.fraction is None else lo + (hi - lo) * p.fraction)
    finally:
        job.close()
