"""The takes of a project: every audio the user loaded, recorded or had spoken for a dub, so any of
them can be dubbed again with one click. Kept in the project as takes.json (newest first)."""

from __future__ import annotations

import datetime as _dt
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

from core.atomic import write_json

log = logging.getLogger(__name__)

TAKES_FILE = "takes.json"
SOURCES = ("file", "recording", "script")


@dataclass(frozen=True)
class Take:
    """path: the audio file; seconds: its length; source: file | recording | script; added: ISO time."""

    path: str
    seconds: float
    source: str
    added: str

    @property
    def name(self) -> str:
        return Path(self.path).name

    def describe(self) -> str:
        return f"{self.name} ({self.seconds:.1f} s, {self.source})"


def list_takes(project) -> list[Take]:
    """The project's takes whose files still exist, newest first (a damaged list reads as empty)."""
    try:
        data = json.loads(project.path(TAKES_FILE).read_text(encoding="utf-8"))
        takes = [Take(**{k: entry[k] for k in ("path", "seconds", "source", "added")}) for entry in data["takes"]]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    return [t for t in takes if Path(t.path).exists()]


def add_take(project, path: Path | str, seconds: float, source: str) -> list[Take]:
    """Put ``path`` at the top of the takes (once: an audio taken again moves up). Returns the list."""
    if source not in SOURCES:
        raise ValueError(f"unknown take source {source!r}")
    path = str(Path(path).resolve())
    takes = [t for t in list_takes(project) if t.path != path]
    now = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    takes.insert(0, Take(path, round(float(seconds), 3), source, now))
    write_json(project.path(TAKES_FILE), {"format": "portrait-dub takes", "version": 1,
                                          "takes": [asdict(t) for t in takes]})
    return takes
