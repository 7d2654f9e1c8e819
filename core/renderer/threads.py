"""Choosing torch's CPU thread count while training.

On a machine shared with other busy processes, two OpenMP threads can be several times slower than
one (a descheduled thread stalls the other at every barrier); on an idle machine, all cores win.
So the training loop measures both now and then and keeps the faster.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator

import torch

log = logging.getLogger(__name__)


class ThreadTuner:
    """Run each step inside ``with tuner.step():`` (or call ``before_step()`` / ``after_step()``).

    Every ``every_s`` seconds it times ``probe_steps`` steps with each candidate count (1 and all
    cores) and keeps the one with the lower median step time. Probe steps are ordinary steps.
    """

    def __init__(self, max_threads: int, probe_steps: int = 2, every_s: float = 600.0) -> None:
        self.candidates = sorted({1, max(1, int(max_threads))})
        self.probe_steps, self.every_s = probe_steps, every_s
        self.current = self.candidates[-1]
        self._queue: list[int] = []
        self._times: dict[int, list[float]] = {}
        self._next_probe = time.monotonic()
        self._start = 0.0

    def before_step(self) -> None:
        if len(self.candidates) > 1 and not self._queue and time.monotonic() >= self._next_probe:
            self._queue = [c for c in self.candidates for _ in range(self.probe_steps)]
            self._times = {c: [] for c in self.candidates}
        if self._queue:
            torch.set_num_threads(self._queue[0])
        self._start = time.perf_counter()

    @contextlib.contextmanager
    def step(self) -> Iterator[None]:
        """One step on the tuned thread count; the process's count is restored afterwards, so a
        long-lived process (the GUI) is not left on one thread by a dub or a training run."""
        previous = torch.get_num_threads()
        self.before_step()
        torch.set_num_threads(self._queue[0] if self._queue else self.current)
        try:
            yield
            self.after_step()
        finally:
            torch.set_num_threads(previous)

    def after_step(self) -> None:
        if not self._queue:
            return
        self._times[self._queue.pop(0)].append(time.perf_counter() - self._start)
        if not self._queue:
            medians = {c: sorted(t)[len(t) // 2] for c, t in self._times.items()}
            self.current = min(medians, key=medians.get)
            torch.set_num_threads(self.current)
            self._next_probe = time.monotonic() + self.every_s
            log.info("training with %d CPU thread(s): %s s per step", self.current,
                     {c: round(m, 3) for c, m in medians.items()})
