"""The app's export queue: dubs of one project run one after another in the background.

The queue is saved in the project (export_queue.json), so it survives closing the app: an export
that was running when the app closed is queued again and starts over when the queue runs next (a
finished export is never redone: the batch records skip it). Each entry runs through the batch core
(core.batch.execute.execute_job) in-process, without Ray.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from core.atomic import write_json
from core.batch.execute import execute_job, now_iso
from core.commands import JobSpec
from core.jobs import Job, Progress
from core.tts import DEFAULT_VOICE

QUEUE_FILE = "export_queue.json"
FINISHED = ("done", "skipped", "failed", "cancelled")
_locks: dict[Path, threading.Lock] = {}
_locks_guard = threading.Lock()


@dataclass
class QueueEntry:
    """One export. status: queued | running | done | skipped | failed | cancelled."""

    id: str
    out: str
    audio: str | None = None
    text: str | None = None
    voice: str = DEFAULT_VOICE
    rate: float = 1.0
    draft: bool = False  # queues written before the renderer choice: True = renderer 'draft'
    renderer: str | None = None
    status: str = "queued"
    added: str = field(default_factory=now_iso)
    start: str | None = None
    seconds: float = 0.0
    error: str | None = None
    message: str | None = None

    @property
    def label(self) -> str:
        if self.audio:
            return Path(self.audio).name
        words = (self.text or "").split()
        return "script: " + " ".join(words[:6]) + (" ..." if len(words) > 6 else "")

    def spec(self, project_root: Path) -> JobSpec:
        return JobSpec("dub", project=Path(project_root), audio=Path(self.audio) if self.audio else None,
                       text=self.text if not self.audio else None, voice=self.voice, rate=self.rate,
                       out=Path(self.out), draft=self.draft, renderer=self.renderer)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "QueueEntry":
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


class ExportQueue:
    """The queue file of the project in ``root``. Every change re-reads the file under a lock, so the
    page (GUI thread) and the running queue (worker thread) never overwrite each other's changes."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.path = self.root / QUEUE_FILE
        with _locks_guard:
            self._lock = _locks.setdefault(self.path.resolve(), threading.Lock())

    def entries(self) -> list[QueueEntry]:
        with self._lock:
            return self._load()

    def _load(self) -> list[QueueEntry]:
        if not self.path.is_file():
            return []
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return [QueueEntry.from_json(e) for e in data.get("entries", [])]
        except (OSError, ValueError, TypeError, AttributeError):
            backup = self.path.with_suffix(".damaged.json")
            self.path.replace(backup)  # keep it for the user; start an empty queue
            return []

    def _save(self, entries: list[QueueEntry]) -> None:
        write_json(self.path, {"format": "portrait-dub export queue", "version": 1,
                               "entries": [asdict(e) for e in entries]})

    def add(self, out: Path | str, audio: Path | str | None = None, text: str | None = None,
            voice: str = DEFAULT_VOICE, rate: float = 1.0, draft: bool = False,
            renderer: str | None = None) -> QueueEntry:
        entry = QueueEntry(id=uuid.uuid4().hex[:8], out=str(out), audio=str(audio) if audio else None,
                           text=text, voice=voice, rate=rate, draft=draft, renderer=renderer)
        entry.spec(self.root)  # a bad entry (neither audio nor text) fails here, not in the queue
        with self._lock:
            entries = self._load()
            entries.append(entry)
            self._save(entries)
        return entry

    def update(self, entry_id: str, **changes) -> QueueEntry | None:
        with self._lock:
            entries = self._load()
            for e in entries:
                if e.id == entry_id:
                    for k, v in changes.items():
                        setattr(e, k, v)
                    self._save(entries)
                    return e
        return None

    def remove(self, entry_id: str) -> None:
        with self._lock:
            entries = [e for e in self._load() if e.id != entry_id or e.status == "running"]
            self._save(entries)

    def retry(self, entry_id: str) -> None:
        self.update(entry_id, status="queued", error=None, message=None)

    def clear_finished(self) -> None:
        with self._lock:
            self._save([e for e in self._load() if e.status not in FINISHED])

    def requeue_interrupted(self) -> int:
        """Entries left 'running' by an app that closed or crashed go back to the queue."""
        with self._lock:
            entries = self._load()
            stale = [e for e in entries if e.status == "running"]
            for e in stale:
                e.status, e.message = "queued", "interrupted; starts again"
            if stale:
                self._save(entries)
            return len(stale)

    def next_queued(self) -> QueueEntry | None:
        return next((e for e in self.entries() if e.status == "queued"), None)


@dataclass
class QueueSummary:
    counts: dict[str, int]

    def describe(self) -> str:
        return "Queue finished: " + ", ".join(f"{n} {s}" for s, n in self.counts.items())


def queue_job(project_root: Path | str) -> Job[QueueSummary]:
    """Job: run the queued exports one after another until none is left (entries added meanwhile
    run too). Progress records name the export; a stop puts the running export back in the queue."""
    queue = ExportQueue(project_root)
    queue.requeue_interrupted()
    counts: dict[str, int] = {}
    while (entry := queue.next_queued()) is not None:
        queue.update(entry.id, status="running", start=now_iso(), error=None, message=None)
        position = sum(e.status in FINISHED for e in queue.entries()) + 1
        total = len(queue.entries())
        job = execute_job(entry.spec(queue.root))
        try:
            while True:
                try:
                    p: Progress = next(job)
                except StopIteration as stop:
                    outcome = stop.value
                    break
                yield Progress(p.fraction, f"{position} of {total}: {entry.label} · {p.stage}", p.eta_s,
                               p.step, p.total, p.losses, p.preview)
        except BaseException:
            job.close()
            queue.update(entry.id, status="queued", message="stopped; starts again when the queue runs")
            raise
        queue.update(entry.id, status=outcome.status, seconds=outcome.seconds, error=outcome.error,
                     message=outcome.message)
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    return QueueSummary(counts)
