"""The batch report (report.csv and report.json, rewritten atomically at every change) and the
terminal lines: one per job state change and an overall line with jobs done of total and an ETA."""

from __future__ import annotations

import csv
import io
import logging
import time
from collections.abc import Callable
from pathlib import Path

from core.atomic import write_json, write_text
from core.batch.execute import Outcome, now_iso, output_of
from core.batch.rows import BatchRow
from core.jobs import format_eta

log = logging.getLogger(__name__)

COLUMNS = ("row", "kind", "project", "output", "status", "start", "seconds", "attempts", "node", "error",
           "message")
FINAL = ("done", "skipped", "failed", "cancelled", "blocked")


class BatchReport:
    """Every row's state; ``say`` receives the lines for the user (the CLI prints them)."""

    def __init__(self, rows: list[BatchRow], folder: Path | None, say: Callable[[str], None] = log.info,
                 workers: int = 1) -> None:
        self.rows = rows
        self.folder = Path(folder) if folder is not None else None
        self.say = say
        self.workers = max(1, workers)
        self.started = time.monotonic()
        self.state: dict[int, Outcome] = {r.number: Outcome("queued", output=_output(r)) for r in rows}
        self.fractions: dict[int, float] = {}
        self.pids: dict[int, int] = {}  # the worker process of each running row (Ray)
        self.facts: dict[str, object] = {}  # how the rows ran (Ray's address, start-up time, workers)
        self._ran_seconds: list[float] = []
        self._began: dict[int, float] = {}
        self.write()

    # ---- state changes ---------------------------------------------------------------------------
    def running(self, row: BatchRow, attempt: int = 1, node: str | None = None) -> None:
        outcome = self.state[row.number]
        outcome.status, outcome.attempts, outcome.node = "running", attempt, node
        outcome.start = outcome.start or _now()
        self._began.setdefault(row.number, time.monotonic())
        again = f" (attempt {attempt}: the previous worker stopped)" if attempt > 1 else ""
        self.say(f"{row.label}: running{again}" + (f" on {node}" if node else ""))
        self.write()
        self.overall()

    def progress(self, row: BatchRow, fraction: float | None) -> None:
        if fraction is not None:
            self.fractions[row.number] = fraction

    def ended(self, row: BatchRow, outcome: Outcome) -> None:
        previous = self.state[row.number]
        outcome.attempts = max(outcome.attempts, previous.attempts)
        outcome.node = outcome.node or previous.node
        outcome.output = outcome.output or previous.output
        outcome.start = outcome.start or previous.start
        if not outcome.seconds and row.number in self._began:
            outcome.seconds = time.monotonic() - self._began[row.number]
        self.state[row.number] = outcome
        self.fractions.pop(row.number, None)
        if outcome.status == "done":
            self._ran_seconds.append(outcome.seconds)
        detail = outcome.error or outcome.message or ""
        took = f" in {outcome.seconds:.1f} s" if outcome.status in ("done", "failed") else ""
        self.say(f"{row.label}: {outcome.status}{took}" + (f": {detail}" if detail else ""))
        self.write()
        self.overall()

    # ---- summaries ---------------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for o in self.state.values():
            out[o.status] = out.get(o.status, 0) + 1
        return out

    def eta_s(self) -> float | None:
        left = [n for n, o in self.state.items() if o.status not in FINAL]
        if not left:
            return 0.0
        if not self._ran_seconds:
            return None
        mean = sum(self._ran_seconds) / len(self._ran_seconds)
        work = sum(mean * (1.0 - self.fractions.get(n, 0.0)) for n in left)
        return work / min(self.workers, len(left))

    def overall(self) -> None:
        c = self.counts()
        finished = sum(c.get(s, 0) for s in FINAL)
        parts = [f"{c[s]} {s}" for s in ("done", "skipped", "failed", "blocked", "cancelled", "running")
                 if c.get(s)]
        self.say(f"batch: {finished} of {len(self.rows)} jobs finished ({', '.join(parts)}), "
                 f"elapsed {format_eta(time.monotonic() - self.started)}, ETA {format_eta(self.eta_s())}")

    @property
    def ok(self) -> bool:
        return all(o.status in ("done", "skipped") for o in self.state.values())

    # ---- files -------------------------------------------------------------------------------------
    def table(self) -> list[dict[str, object]]:
        out = []
        for row in self.rows:
            o = self.state[row.number]
            out.append({"row": row.number, "kind": row.spec.kind, "project": str(row.spec.project_dir),
                        "output": o.output, "status": o.status, "start": o.start,
                        "seconds": round(o.seconds, 2), "attempts": o.attempts, "node": o.node,
                        "error": o.error, "message": o.message})
        return out

    def write(self) -> None:
        if self.folder is None:
            return
        table = self.table()
        write_json(self.folder / "report.json", {"jobs": table, "counts": self.counts(), "run": self.facts})
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
        writer.writeheader()
        for entry in table:
            writer.writerow({k: ("" if v is None else v) for k, v in entry.items()})
        write_text(self.folder / "report.csv", buffer.getvalue())


def _output(row: BatchRow) -> str:
    return output_of(row.spec)


def _now() -> str:
    return now_iso()
