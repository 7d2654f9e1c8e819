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


def test_a_step_runs_on_the_tuned_count_and_gives_the_process_its_own_back(monkeypatch):
    now = {"t": 0.0}
    monkeypatch.setattr(threads_module.time, "perf_counter", lambda: now["t"])
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        tuner = ThreadTuner(2, probe_steps=1, every_s=1e9)
        seen = []
        for _ in range(3):
            with tuner.step():
                seen.append(torch.get_num_threads())
                now["t"] += {1: 1.0, 2: 5.0}[seen[-1]]
            assert torch.get_num_threads() == 2  # the caller's count, not the tuned one
        assert seen == [1, 2, 1] and tuner.current == 1
    finally:
        torch.set_num_threads(before)
