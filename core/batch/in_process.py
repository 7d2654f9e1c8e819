"""Rows one after another in this process, without Ray: the same plan, core jobs, records and report
as on Ray (`batch --in-process`, and the desktop bundle, which has no Python for Ray's workers)."""

from __future__ import annotations

import threading

from core.batch.execute import Outcome, execute_job, stopped_message
from core.batch.plan import Plan
from core.batch.report import BatchReport
from core.batch.rows import BatchRow
from core.errors import JobCancelled
from core.jobs import CancelToken, run_job

STOP_POLL_S = 0.5


def run_in_process(rows: list[BatchRow], report: BatchReport, stop: threading.Event | None = None) -> BatchReport:
    stop = stop or threading.Event()
    token, finished = CancelToken(), threading.Event()

    def watch() -> None:
        while not finished.is_set():
            if stop.wait(STOP_POLL_S):
                token.cancel()
                return

    threading.Thread(target=watch, daemon=True).start()
    plan = Plan(rows)
    try:
        while not stop.is_set() and (row := plan.take_one()) is not None:
            report.running(row)
            try:
                outcome = run_job(execute_job(row.spec), lambda p, row=row: report.progress(row, p.fraction), token)
            except JobCancelled:
                outcome = Outcome("cancelled", message=stopped_message(row.spec))
            report.ended(row, outcome)
            for blocked_row, blocked in plan.finished(row, outcome):
                report.ended(blocked_row, blocked)
    finally:
        finished.set()
    for row in plan.remaining():
        report.state[row.number].message = "not started; runs on the next run of the same list"
    report.write()
    return report
