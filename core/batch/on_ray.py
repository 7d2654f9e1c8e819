"""Rows on Ray: each row is one Ray task running :func:`core.batch.execute.execute_job` (the same core
jobs as the CLI), on the Ray that ray_session.py starts or joins. A task whose worker process dies
is retried by Ray (``max_retries``); the retried job finds the checkpoints and skips what it
finished. A small actor (``Board``) carries state changes and progress from the workers to the
driver, and the driver's stop request back to them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from pathlib import Path

from core.batch.execute import Outcome, execute_job, stopped_message
from core.batch.plan import Plan
from core.batch.ray_session import RayConfig, import_ray, node_name, ray_session
from core.batch.report import BatchReport
from core.batch.rows import BatchRow
from core.batch.storage import check_shared_storage
from core.commands import JobSpec
from core.errors import DubError, JobCancelled
from core.jobs import CancelToken, run_job

log = logging.getLogger(__name__)

TRAINING_KINDS = ("train-renderer", "run")
PROGRESS_EVERY_S = 1.0


# ---- worker side -------------------------------------------------------------------------------------
class Board:
    """A Ray actor: state changes and progress from the workers, the stop request from the driver."""

    def __init__(self) -> None:
        self.events: list[tuple] = []
        self.starts: dict[int, int] = {}
        self.stopping = False

    def started(self, number: int, node: str, pid: int) -> tuple[int, bool]:
        self.starts[number] = self.starts.get(number, 0) + 1
        self.events.append(("running", number, self.starts[number], node, pid))
        return self.starts[number], self.stopping

    def progress(self, number: int, fraction: float | None) -> bool:
        self.events.append(("progress", number, fraction))
        return self.stopping

    def stop(self) -> None:
        self.stopping = True

    def take(self) -> list[tuple]:
        events, self.events = self.events, []
        return events


def run_row(spec: JobSpec, number: int, board) -> dict:
    """A Ray task: one row, its progress sent to ``board`` at most once a second."""
    ray = import_ray()
    node = node_name()
    attempt, stopping = ray.get(board.started.remote(number, node, os.getpid()))
    token = CancelToken()
    if stopping:
        token.cancel()
    last = [0.0]

    def on_progress(record) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY_S:
            last[0] = now
            if ray.get(board.progress.remote(number, record.fraction)):
                token.cancel()

    try:
        outcome = run_job(execute_job(spec), on_progress, token)
    except JobCancelled:
        outcome = Outcome("cancelled", message=stopped_message(spec))
    outcome.attempts, outcome.node = attempt, node
    return outcome.to_json()


# ---- driver side ---------------------------------------------------------------------------------------
def _wants_gpu(spec: JobSpec, cluster_gpus: float) -> bool:
    """Training asks for a GPU on the GPU profile (device gpu, or auto where the cluster has GPUs);
    other jobs only when their row says gpu."""
    if spec.kind not in TRAINING_KINDS:
        return spec.uses_gpu
    return spec.uses_gpu or (spec.device == "auto" and cluster_gpus > 0)


def run_on_ray(rows: list[BatchRow], report: BatchReport, config: RayConfig,
               stop: threading.Event | None = None, cluster_gpus: float = 0.0) -> BatchReport:
    """Run ``rows`` on the Ray this process is connected to; the report follows every change.

    Setting ``stop`` asks running jobs to stop at their next progress record (training saves its
    checkpoint), waits up to ``config.stop_grace_s``, then ends the rest; rows not started stay
    queued for the next run.
    """
    ray = import_ray()
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy  # Ray's, once it is loaded

    stop = stop or threading.Event()
    plan = Plan(rows)
    # the board lives on the driver's own node: a worker node lost mid-batch must not take it along
    here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False)
    board = ray.remote(Board).options(num_cpus=0, scheduling_strategy=here).remote()
    task = ray.remote(run_row)
    pending: dict = {}
    by_number = {r.number: r for r in rows}
    stopping_since = None
    try:
        while pending or (not plan.done and stopping_since is None):
            if stopping_since is None:
                for row in plan.ready():
                    gpu = _wants_gpu(row.spec, cluster_gpus)
                    if gpu and cluster_gpus <= 0:  # Ray would wait for a GPU forever
                        outcome = Outcome("failed", error="the row asks for a GPU (device gpu) but no machine "
                                          "of the Ray cluster has one; use device auto or cpu")
                        report.ended(row, outcome)
                        for blocked_row, blocked in plan.finished(row, outcome):
                            report.ended(blocked_row, blocked)
                        continue
                    ref = task.options(num_cpus=1, num_gpus=1 if gpu else 0, max_retries=config.max_retries,
                                       name=f"row-{row.number}").remote(row.spec, row.number, board)
                    pending[ref] = row
            finished, _ = ray.wait(list(pending), num_returns=1, timeout=0.5) if pending else ([], [])
            _relay(ray.get(board.take.remote()), by_number, report)
            for ref in finished:
                row = pending.pop(ref)
                outcome = _outcome_of(ray, ref, config)
                report.ended(row, outcome)
                for blocked_row, blocked in plan.finished(row, outcome):
                    report.ended(blocked_row, blocked)
            if stop.is_set() and stopping_since is None:
                stopping_since = time.monotonic()
                board.stop.remote()
                report.say(f"batch: stopping; {len(pending)} running job(s) save their work first")
            if stopping_since is not None and time.monotonic() - stopping_since > config.stop_grace_s:
                for ref, row in pending.items():
                    ray.cancel(ref, force=True)
                    report.ended(row, Outcome("cancelled", message="stopped before it finished"))
                pending.clear()
        _relay(ray.get(board.take.remote()), by_number, report)
    except (ray.exceptions.RayError, ConnectionError) as exc:  # the head (or this node's Ray) went away
        raise _cluster_lost(exc, config, pending, plan, report) from None
    finally:
        with contextlib.suppress(Exception):
            ray.kill(board)
    for row in plan.remaining():
        report.state[row.number].message = "not started; runs on the next run of the same list"
    report.write()
    return report


def _cluster_lost(exc: Exception, config: RayConfig, pending: dict, plan: Plan, report: BatchReport) -> DubError:
    """The Ray cluster stopped answering mid-batch: the running rows are marked to run again, the
    report is written, and one line says what happened and what to do."""
    for row in pending.values():
        report.state[row.number] = Outcome("cancelled", start=report.state[row.number].start,
                                           attempts=report.state[row.number].attempts,
                                           node=report.state[row.number].node,
                                           message="the Ray cluster was lost while it ran; it runs again on the next run")
    pending.clear()
    for row in plan.remaining():
        if report.state[row.number].status == "queued":
            report.state[row.number].message = "not started; runs on the next run of the same list"
    report.write()
    finished = sum(1 for o in report.state.values() if o.status in ("done", "skipped"))
    where = f"the Ray head at {config.address}" if config.address else "the local Ray"
    log.info("cluster lost: %s", exc)
    return DubError(f"{where} stopped answering mid-batch ({type(exc).__name__}); {finished} of {len(report.state)} "
                    f"job(s) finished, report in {report.folder}. Start the head again and run the same "
                    "command: it runs only what is missing.")


def _relay(events: list[tuple], by_number: dict[int, BatchRow], report: BatchReport) -> None:
    for event in events:
        if event[0] == "running":
            _, number, attempt, node, pid = event
            report.pids[number] = pid
            report.running(by_number[number], attempt, node)
        elif event[0] == "progress":
            report.progress(by_number[event[1]], event[2])


def _outcome_of(ray, ref, config: RayConfig) -> Outcome:
    try:
        return Outcome.from_json(ray.get(ref))
    except ray.exceptions.TaskCancelledError:
        return Outcome("cancelled", message="stopped before it finished")
    except (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError, ray.exceptions.RayTaskError,
            ray.exceptions.RaySystemError) as exc:
        cause = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return Outcome("failed", error=f"its worker stopped {config.max_retries + 1} times (out of memory, or "
                       f"killed?): {cause[:200]}", attempts=config.max_retries + 1)


def run_batch(rows: list[BatchRow], report_dir: Path, config: RayConfig, say=log.info,
              stop: threading.Event | None = None) -> BatchReport:
    """The `batch` command: start or join Ray, check the storage, run every row, write the report."""
    report_dir = Path(report_dir)
    with ray_session(config, report_dir) as facts:
        say(f"batch: Ray ready in {facts['startup_s']:.1f} s ({facts['address']}, {facts['nodes']} node(s), "
            f"{facts['cpus']:.0f} CPU, {facts['gpus']:.0f} GPU); {len(rows)} job(s); Ray's logs in {report_dir}")
        if config.address is not None:
            check_shared_storage(rows)
        report = BatchReport(rows, report_dir, say=say, workers=int(facts["cpus"]) or 1)
        report.facts = facts
        run_on_ray(rows, report, config, stop, cluster_gpus=facts["gpus"])
    return report
