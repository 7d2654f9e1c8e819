"""What the app remembers between runs (QSettings): window geometry, recent projects, preferences
and the notes the user dismissed.

Only these things live in QSettings; everything about a project lives in its folder. Keys carry
a version so a future layout can ignore (not misread) old values.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

SETTINGS_VERSION = 1
MAX_RECENT = 8


@dataclass(frozen=True)
class Preferences:
    """User preferences. renderer_minutes: default time budget for training the neural renderer;
    renderer_kind: which renderer to train ('reference' or 'paper', see core.renderer.config)."""

    renderer_minutes: int = 30
    renderer_kind: str = ""  # "" = the app's default (core.renderer.config.DEFAULT_RENDERER)
    last_video_dir: str = ""
    last_audio_dir: str = ""
    last_export_dir: str = ""
    input_device: str = ""


class AppSettings:
    """Typed access to the app's QSettings under a versioned group."""

    def __init__(self, qsettings: QSettings | None = None) -> None:
        self._q = qsettings or QSettings()
        self._prefix = f"v{SETTINGS_VERSION}/"

    def _key(self, name: str) -> str:
        return self._prefix + name

    # ---- geometry --------------------------------------------------------------------------
    def geometry(self) -> QByteArray | None:
        value = self._q.value(self._key("window/geometry"))
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def set_geometry(self, value: QByteArray) -> None:
        self._q.setValue(self._key("window/geometry"), value)

    # ---- recent projects -------------------------------------------------------------------
    def recent_projects(self) -> list[Path]:
        value = self._q.value(self._key("recent_projects"), [])
        if isinstance(value, str):  # QSettings returns a lone string for a one-item list
            value = [value]
        return [Path(v) for v in (value or []) if v]

    def add_recent_project(self, root: Path) -> None:
        root = Path(root)
        items = [root] + [p for p in self.recent_projects() if p != root]
        self._q.setValue(self._key("recent_projects"), [str(p) for p in items[:MAX_RECENT]])

    def remove_recent_project(self, root: Path) -> None:
        items = [p for p in self.recent_projects() if p != Path(root)]
        self._q.setValue(self._key("recent_projects"), [str(p) for p in items])

    # ---- notes the user dismissed -------------------------------------------------------------
    def note_dismissed(self, name: str) -> bool:
        return name in self._dismissed_notes()

    def dismiss_note(self, name: str) -> None:
        self._q.setValue(self._key("dismissed_notes"), sorted(self._dismissed_notes() | {name}))
        self._q.sync()

    def _dismissed_notes(self) -> set[str]:
        value = self._q.value(self._key("dismissed_notes"), [])
        return {value} if isinstance(value, str) else set(value or [])

    # ---- preferences -----------------------------------------------------------------------
    def preferences(self) -> Preferences:
        defaults = Preferences()
        values = {}
        for f in fields(Preferences):
            raw = self._q.value(self._key(f"preferences/{f.name}"), getattr(defaults, f.name))
            try:
                values[f.name] = type(getattr(defaults, f.name))(raw)
            except (TypeError, ValueError):
                values[f.name] = getattr(defaults, f.name)
        return Preferences(**values)

    def update_preferences(self, **changes) -> Preferences:
        prefs = replace(self.preferences(), **changes)
        for name, value in asdict(prefs).items():
            self._q.setValue(self._key(f"preferences/{name}"), value)
        return prefs

    def sync(self) -> None:
        self._q.sync()
