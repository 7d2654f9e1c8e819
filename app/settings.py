"""What the app remembers between runs (QSettings): window geometry, recent projects and preferences.

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
    input_device: str = ""
    auto_capture: bool = True  # face capture starts by itself when a project is made


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

    # ---- the folder each kind of file dialog used last ---------------------------------------
    def last_folder(self, purpose: str) -> Path:
        """Where a file dialog for ``purpose`` ('video', 'project', 'audio', 'export', ...) opens: the
        folder last used for it, else the last folder any dialog used, else the home folder (never
        the folder the app was started from). A folder that is gone is skipped."""
        keys = (f"folders/{purpose}", f"preferences/last_{purpose}_dir", "folders/any")  # 2nd: before v6
        for key in keys:
            value = self._q.value(self._key(key), "")
            if isinstance(value, str) and value and Path(value).is_dir():
                return Path(value)
        return Path.home()

    def remember_folder(self, purpose: str, folder: Path) -> None:
        for key in (f"folders/{purpose}", "folders/any"):
            self._q.setValue(self._key(key), str(folder))

    # ---- preferences -----------------------------------------------------------------------
    def preferences(self) -> Preferences:
        defaults = Preferences()
        values = {}
        for f in fields(Preferences):
            raw = self._q.value(self._key(f"preferences/{f.name}"), getattr(defaults, f.name))
            try:
                kind = type(getattr(defaults, f.name))
                if kind is bool and isinstance(raw, str):  # an INI file keeps "true"/"false"
                    raw = raw.strip().lower() in ("true", "1", "yes")
                values[f.name] = kind(raw)
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
