"""Run one batch row: skip it when already done, else run its core job and record what it did.

The same function runs a row in a Ray worker (on_ray.py), in the CLI's process and in the app's
export queue (queue.py). A failure becomes an Outcome with the job's own message; only a cancel
(JobCancelled, or the generator being closed) stops the caller.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from core.batch import records
from core.commands import KINDS, JobSpec, build_job, open_project
from core.errors import DubError, JobCancelled
from core.jobs import Job

log = logging.getLogger(__name__)

STATUSES = ("queued", "running", "done", "skipped", "failed", "cancelled", "blocked")


@dataclass
class Outcome:
    """How a row ended. status: done | skipped | failed | cancelled | blocked (not run because an
    earlier job of its project failed). start: ISO time (UTC); seconds: wall time."""

    status: str
    start: str | None = None
    seconds: float = 0.0
    output: str | None = None
    message: str | None = None
    error: str | None = None
    attempts: int = 1
    node: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Outcome":
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def output_of(spec: JobSpec) -> str:
    if spec.out is not None:
        return str(spec.out)
    if spec.kind == "evaluate":
        return str(spec.project_dir / records.EVALUATION_FILE.parent)
    return str(spec.project_dir)


def remove_parts_of(out: Path | None) -> None:
    """Temporary files a killed writer of ``out`` left (core.atomic names them .<name>.*.part)."""
    if out is None or not Path(out).parent.is_dir():
        return
    for part in Path(out).parent.glob(f".{Path(out).name}.*.part"):
        with contextlib.suppress(OSError):
            part.unlink()
            log.info("removed %s left by an interrupted run", part)


def stopped_message(spec: JobSpec) -> str:
    if KINDS[spec.kind].changes_project:
        return "stopped; it continues from its checkpoint on the next run"
    return "stopped before it finished; it runs again on the next run"


def execute_job(spec: JobSpec) -> Job[Outcome]:
    """Job: run ``spec`` unless it is already done; returns its Outcome (failures included)."""
    start, t0 = now_iso(), time.monotonic()
    output = output_of(spec)
    try:
        if records.already_done(spec):
            return Outcome("skipped", start, time.monotonic() - t0, output,
                           message="already done with the same inputs")
        project = open_project(spec)
        remove_parts_of(spec.out)
        inputs = records.inputs_of(spec, project)
        result = yield from build_job(spec, project)
        records.write_record(spec, project, inputs, now_iso())
        summary = result.describe().splitlines()[0] if hasattr(result, "describe") else None
        return Outcome("done", start, time.monotonic() - t0, output, message=summary)
    except JobCancelled:
        return Outcome("cancelled", start, time.monotonic() - t0, output, message=stopped_message(spec))
    except DubError as exc:
        return Outcome("failed", start, time.monotonic() - t0, output, error=str(exc))
    except MemoryError:
        return Outcome("failed", start, time.monotonic() - t0, output,
                       error="out of memory: run fewer jobs side by side, or on a machine with more memory")
    except Exception as exc:  # noqa: BLE001 (a bug must not stop the other jobs; its trace goes to the log)
        log.exception("%s %s failed", spec.kind, output)
        return Outcome("failed", start, time.monotonic() - t0, output, error=f"{type(exc).__name__}: {exc}")
