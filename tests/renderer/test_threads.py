"""The thread tuner keeps the count whose steps were faster."""

from __future__ import annotations

import torch

from core.renderer import threads as threads_module
from core.renderer.threads import ThreadTuner


def test_tuner_keeps_the_faster_thread_count(monkeypatch):
    step_cost = {1: 1.0, 2: 5.0}  # one thread is faster here, as on a busy shared machine
    now = {"t": 0.0}
    monkeypatch.setattr(threads_module.time, "perf_counter", lambda: now["t"])
    before = torch.get_num_threads()
    try:
        tuner = ThreadTuner(2, probe_steps=2, every_s=1e9)
        for _ in range(6):
            tuner.before_step()
            now["t"] += step_cost[torch.get_num_threads()]
            tuner.after_step()
        assert tuner.current == 1 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
