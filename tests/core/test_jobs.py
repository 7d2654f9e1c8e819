"""The job protocol: progress records, cancel between yields, sub-job spans."""

from __future__ import annotations

import pytest

from core.errors import JobCancelled
from core.jobs import CancelToken, ProgressClock, format_eta, run_job, within


def counting_job(n, log):
    clock = ProgressClock("Counting", n)
    try:
        for i in range(n):
            log.append(i)
            yield clock.step(i + 1, losses={"value": float(i)})
    finally:
        log.append("closed")
    return sum(range(n))


def test_run_job_returns_the_result_and_reports_monotone_progress():
    seen, log = [], []
    assert run_job(counting_job(5, log), seen.append) == 10
    fractions = [p.fraction for p in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert seen[-1].losses == {"value": 4.0} and seen[-1].eta_s == pytest.approx(0.0, abs=1e-6)


def test_cancel_stops_between_yields_and_runs_cleanup():
    token, log = CancelToken(), []

    def on_progress(p):
        if p.step == 2:
            token.cancel()

    with pytest.raises(JobCancelled):
        run_job(counting_job(100, log), on_progress, token)
    assert log == [0, 1, "closed"]


def test_within_maps_fractions_into_the_span_and_passes_the_result():
    def outer(log):
        a = yield from within(counting_job(4, log), (0.0, 0.5))
        b = yield from within(counting_job(4, log), (0.5, 1.0))
        return a + b

    seen = []
    assert run_job(outer([]), seen.append) == 12
    assert seen[3].fraction == pytest.approx(0.5) and seen[-1].fraction == pytest.approx(1.0)
    assert all(a.fraction <= b.fraction for a, b in zip(seen, seen[1:]))


def test_format_eta():
    assert format_eta(None) == "--:--"
    assert format_eta(75) == "01:15"
    assert format_eta(3725) == "1:02:05"
