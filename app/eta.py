"""Time left from the measured rate: the only place the app estimates how long a job still runs.

The jobs' own eta_s covers their current stage only (a model load, then a loop of steps), so a
several-stage job said "00:09 left" at the start of a 56 s run. Here the rate is measured on the
job's overall fraction since its first progress record, and nothing is said until it is measured.
"""

from __future__ import annotations

import time

MIN_SPAN_S = 1.0  # measure over at least this long before saying anything


class RateEta:
    """Feed ``update(fraction)`` with each progress record of one run; ``remaining_s()`` is None
    until a rate was measured. ``reset()`` before the next run (or the next entry of a queue)."""

    def __init__(self, clock=time.monotonic) -> None:
        self.clock = clock
        self.reset()

    def reset(self) -> None:
        self.first: tuple[float, float] | None = None  # (time, fraction) of the first record
        self.last: tuple[float, float] | None = None

    def update(self, fraction: float | None) -> None:
        if fraction is None:
            return
        sample = (self.clock(), min(max(float(fraction), 0.0), 1.0))
        if self.first is None or sample[1] < self.first[1]:  # a fraction going back: a new run
            self.first = sample
        self.last = sample

    def remaining_s(self) -> float | None:
        if self.first is None or self.last is None:
            return None
        (t0, f0), (t1, f1) = self.first, self.last
        if f1 >= 1.0:
            return 0.0
        if t1 - t0 < MIN_SPAN_S or f1 <= f0:
            return None
        return (1.0 - f1) * (t1 - t0) / (f1 - f0)
