"""Run core job generators in worker threads (superqt) and hand their records to the GUI thread.

A job is a generator yielding core.jobs.Progress and returning a result (core/jobs.py). Here it runs
in a superqt GeneratorWorker: each yielded record reaches the GUI thread through a queued signal, the
result and errors likewise. ``cancel()`` asks the worker to stop; the check happens between yields,
and the job generator is then closed in the worker thread so its ``finally`` blocks (checkpoints,
temporary files) run there. Nothing here touches a widget from a worker thread.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, Signal, Slot
from superqt.utils import FunctionWorker, GeneratorWorker

from core.errors import JobCancelled
from core.jobs import Progress

log = logging.getLogger(__name__)

MIN_POOL_THREADS = 4  # a training job, a preview render and a recording helper at once


def ensure_pool_size() -> None:
    pool = QThreadPool.globalInstance()
    if pool.maxThreadCount() < MIN_POOL_THREADS:
        pool.setMaxThreadCount(MIN_POOL_THREADS)


def _drive(factory: Callable[[], Any]):
    """Build the job in the worker thread (factories may load models) and relay it."""
    job = factory()
    try:
        return (yield from job)
    finally:
        job.close()


class JobWorker(GeneratorWorker):
    """A GeneratorWorker that closes its generator when it stops, also after quit()."""

    def work(self):
        try:
            return super().work()
        finally:
            self._gen.close()


@dataclass
class JobHandle:
    """One running job as the GUI sees it."""

    name: str
    worker: JobWorker
    started: float = field(default_factory=time.monotonic)
    last: Progress | None = None
    cancelled: bool = False

    @property
    def elapsed_s(self) -> float:
        return time.monotonic() - self.started

    @property
    def paused(self) -> bool:
        return self.worker.is_paused


class JobRunner(QObject):
    """Starts jobs in worker threads and reports on them with signals (delivered in the GUI thread).

    Signals carry the job's name first: progress(name, Progress), finished_ok(name, result),
    failed(name, exception), cancelled(name), stopped(name) (always last), paused(name, bool).
    """

    progress = Signal(str, object)
    finished_ok = Signal(str, object)
    failed = Signal(str, object)
    cancelled = Signal(str)
    stopped = Signal(str)
    paused = Signal(str, bool)
    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.jobs: dict[str, JobHandle] = {}
        ensure_pool_size()

    # ---- starting and stopping ---------------------------------------------------------------
    def start(self, name: str, factory: Callable[[], Any]) -> JobHandle:
        """Run ``factory()`` (which returns a job generator) in a worker thread under ``name``."""
        if name in self.jobs:
            raise RuntimeError(f"job {name!r} is already running")
        worker = JobWorker(_drive, factory)
        handle = JobHandle(name, worker)
        self.jobs[name] = handle
        # Bound methods of this QObject: queued into the GUI thread, whatever thread emits.
        worker.yielded.connect(lambda record, n=name: self._on_progress(n, record))
        worker.returned.connect(lambda result, n=name: self._on_returned(n, result))
        worker.errored.connect(lambda exc, n=name: self._on_errored(n, exc))
        worker.aborted.connect(lambda n=name: self._on_aborted(n))
        worker.paused.connect(lambda n=name: self.paused.emit(n, True))
        worker.resumed.connect(lambda n=name: self.paused.emit(n, False))
        worker.finished.connect(lambda n=name: self._on_finished(n))
        worker.start()
        if len(self.jobs) == 1:
            self.busy_changed.emit(True)
        return handle

    def cancel(self, name: str) -> None:
        handle = self.jobs.get(name)
        if handle is not None:
            handle.cancelled = True
            handle.worker.quit()

    def cancel_all(self) -> None:
        for name in list(self.jobs):
            self.cancel(name)

    def pause(self, name: str) -> None:
        handle = self.jobs.get(name)
        if handle is not None and not handle.worker.is_paused:
            handle.worker.pause()

    def resume(self, name: str) -> None:
        handle = self.jobs.get(name)
        if handle is not None and handle.worker.is_paused:
            handle.worker.resume()

    def is_running(self, name: str | None = None) -> bool:
        return bool(self.jobs) if name is None else name in self.jobs

    def wait(self, msecs: int = 30000) -> bool:
        """Block until every worker thread has ended (after cancel_all on close). True if all ended."""
        return QThreadPool.globalInstance().waitForDone(msecs)

    # ---- worker signals (GUI thread) ---------------------------------------------------------
    @Slot(str, object)
    def _on_progress(self, name: str, record: object) -> None:
        handle = self.jobs.get(name)
        if handle is None or not isinstance(record, Progress):
            return
        handle.last = record
        self.progress.emit(name, record)

    def _on_returned(self, name: str, result: object) -> None:
        self.finished_ok.emit(name, result)

    def _on_errored(self, name: str, exc: object) -> None:
        if isinstance(exc, JobCancelled):
            self.cancelled.emit(name)
            return
        log.error("job %s failed", name, exc_info=exc if isinstance(exc, BaseException) else None)
        self.failed.emit(name, exc)

    def _on_aborted(self, name: str) -> None:
        self.cancelled.emit(name)

    def _on_finished(self, name: str) -> None:
        self.jobs.pop(name, None)
        self.stopped.emit(name)
        if not self.jobs:
            self.busy_changed.emit(False)


class LatestOnly(QObject):
    """Runs one slow function call at a time off the GUI thread; while it runs, only the newest
    request is kept (scrubbing fast renders the frame the user stopped on, not every frame passed).

    ``done(key, value)`` or ``failed(key, exception)`` report each finished call.
    """

    done = Signal(object, object)
    failed = Signal(object, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._worker: FunctionWorker | None = None
        self._pending: tuple[object, Callable[[], Any]] | None = None
        ensure_pool_size()

    @property
    def busy(self) -> bool:
        return self._worker is not None or self._pending is not None

    def request(self, key: object, func: Callable[[], Any]) -> None:
        self._pending = (key, func)
        if self._worker is None:
            self._next()

    def clear(self) -> None:
        self._pending = None

    def _next(self) -> None:
        if self._pending is None:
            return
        key, func = self._pending
        self._pending = None
        worker = FunctionWorker(func)
        self._worker = worker
        worker.returned.connect(lambda value, k=key: self.done.emit(k, value))
        worker.errored.connect(lambda exc, k=key: self.failed.emit(k, exc))
        worker.finished.connect(self._on_finished)
        worker.start()

    def _on_finished(self) -> None:
        self._worker = None
        self._next()
