"""Torch thread settings: a job driven on one thread gives the caller its count back while suspended."""

from __future__ import annotations

import pytest
import torch

from gpu.device import on_threads


def test_a_job_on_one_thread_leaves_the_callers_count_while_suspended():
    seen = []

    def job():
        seen.append(torch.get_num_threads())
        yield "step"
        seen.append(torch.get_num_threads())
        return "done"

    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        steps = on_threads(job(), 1)
        assert next(steps) == "step" and torch.get_num_threads() == 2  # suspended: the caller's count
        with pytest.raises(StopIteration) as stop:
            next(steps)
        assert stop.value.value == "done"
        assert seen == [1, 1] and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
