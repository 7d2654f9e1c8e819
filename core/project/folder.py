"""The project folder: one per target actor, with a versioned JSON manifest.

Layout (stage modules own their files; every write is atomic)::

    project.json        the manifest: source video, consent, settings, stage records
    project.json.bak    the manifest before the last save, used if project.json is damaged
    <stage files>       written by the stages (tracking.npz, face_model.npz, checkpoints/, ...)

A stage record says what produced a result: its status, a key (hash of its settings and of the keys
of the stages it read), and when. A stage is current only while its own key and its inputs' keys
still match, so a redone earlier stage invalidates what follows.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core import __version__
from core.atomic import write_bytes, write_json
from core.errors import MediaError, ProjectError
from core.media import probe
from core.project.fingerprint import file_fingerprint
from core.project.relink import relink, relink_if_found

log = logging.getLogger(__name__)

MANIFEST_NAME = "project.json"
MANIFEST_FORMAT = "portrait-dub project"
MANIFEST_VERSION = 1
CONSENT_TEXT = ("I have the right to use this person's face and voice, and the person agreed to "
                "being dubbed with this app.")

STATUSES = ("pending", "running", "done", "failed", "cancelled")


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def settings_key(settings: dict[str, Any], inputs: dict[str, str] | None = None) -> str:
    """A short hash of a stage's settings and the keys of the stages it read."""
    blob = json.dumps({"settings": settings, "inputs": inputs or {}}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass
class StageRecord:
    status: str = "pending"
    key: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, str] = field(default_factory=dict)
    updated: str | None = None
    message: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "StageRecord":
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        record = cls(**known)
        if record.status not in STATUSES:
            raise ValueError(f"unknown stage status {record.status!r}")
        return record


class Project:
    """An open project folder. Create with :meth:`create`, open with :meth:`open`."""

    def __init__(self, root: Path, manifest: dict[str, Any]) -> None:
        self.root = root
        self.manifest = manifest
        self.relinked_from: str | None = None  # the video's old path when open() found it moved
        self.stages: dict[str, StageRecord] = {
            name: StageRecord.from_json(rec) for name, rec in manifest.get("stages", {}).items()
        }

    # ---- creating and opening -------------------------------------------------------------
    @classmethod
    def create(cls, root: Path | str, video: Path | str, consent: bool, name: str | None = None) -> "Project":
        """Make a new project for ``video`` in ``root`` (created if needed, must not hold a project).

        ``consent`` must be True: the user confirmed the right to use the person's face and voice.
        """
        root, video = Path(root).expanduser().resolve(), Path(video).expanduser().resolve()
        if not consent:
            raise ProjectError("Creating a project needs your confirmation that you have the right to "
                               "use this person's face and voice.")
        if (root / MANIFEST_NAME).exists():
            raise ProjectError(f"{root} already holds a project. Open it, or choose an empty folder.")
        info = probe(video)
        if not info.has_video:
            raise MediaError(f"{video}: the file has no video stream. Choose a video of the person talking.")
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ProjectError(f"{root}: cannot create the project folder ({exc}).") from exc
        manifest = {
            "format": MANIFEST_FORMAT,
            "version": MANIFEST_VERSION,
            "app_version": __version__,
            "created": _now(),
            "name": name or video.stem,
            "source": {
                "path": str(video),
                "fingerprint": file_fingerprint(video),
                "info": {
                    "duration": info.duration, "width": info.width, "height": info.height,
                    "fps": info.fps, "fps_fraction": str(info.fps_fraction), "frame_count": info.frame_count,
                    "rotation": info.rotation, "variable_frame_rate": info.variable_frame_rate,
                    "has_audio": info.has_audio, "audio_rate": info.audio_rate,
                },
            },
            "consent": {"confirmed": True, "text": CONSENT_TEXT, "at": _now()},
            "settings": {},
            "stages": {},
        }
        project = cls(root, manifest)
        project.save()
        log.info("created project %s for %s", root, video)
        return project

    @classmethod
    def open(cls, root: Path | str) -> "Project":
        root = Path(root).expanduser().resolve()
        path = root / MANIFEST_NAME
        if not root.is_dir():
            raise ProjectError(f"{root}: there is no project folder here.")
        if not path.exists():
            raise ProjectError(f"{root}: this folder holds no project ({MANIFEST_NAME} is missing). "
                               "Create a project from a video first.")
        try:
            manifest = cls._read_manifest(path)
        except ProjectError as first:
            backup = path.with_name(MANIFEST_NAME + ".bak")
            if not backup.exists():
                raise
            try:
                manifest = cls._read_manifest(backup)
            except ProjectError:
                raise first from None
            log.warning("%s was damaged; opened the previous manifest from %s", path, backup.name)
        try:
            project = cls(root, manifest)
        except (TypeError, ValueError, AttributeError) as exc:
            raise ProjectError(f"{path}: the project's stage records are damaged ({exc}). "
                               "Create a new project from the same video.") from exc
        old_path = manifest["source"].get("path")
        if relink_if_found(project) is not None:
            project.relinked_from = old_path
        return project

    @staticmethod
    def _read_manifest(path: Path) -> dict[str, Any]:
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ProjectError(f"{path}: the project file is damaged and cannot be read ({exc}). "
                               "Create a new project from the same video.") from exc
        if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
            raise ProjectError(f"{path}: this is not a portrait-dub project file.")
        version = manifest.get("version")
        if not isinstance(version, int):
            raise ProjectError(f"{path}: the project file has no format version; it is damaged.")
        if version > MANIFEST_VERSION:
            raise ProjectError(f"{path}: the project was made by a newer version of the app (format "
                               f"{version}; this app reads up to {MANIFEST_VERSION}). Update the app.")
        if version < MANIFEST_VERSION:
            manifest = migrate(manifest, path)
        for key in ("source", "stages"):
            if not isinstance(manifest.get(key), dict):
                raise ProjectError(f"{path}: the project file lacks its '{key}' section; it is damaged.")
        return manifest

    # ---- saving -----------------------------------------------------------------------------
    def save(self) -> None:
        """Write the manifest atomically, keeping the previous one as project.json.bak."""
        self.manifest["stages"] = {name: rec.__dict__ for name, rec in self.stages.items()}
        self.manifest["app_version"] = __version__
        source = self.manifest.get("source", {})
        if source.get("path") and Path(source["path"]).exists():  # lets a moved pair find it again
            try:
                source["relative_path"] = os.path.relpath(source["path"], self.root)
            except ValueError:  # another drive (Windows)
                source.pop("relative_path", None)
        path = self.root / MANIFEST_NAME
        try:
            if path.exists():
                write_bytes(path.with_name(MANIFEST_NAME + ".bak"), path.read_bytes())
            write_json(path, self.manifest)
        except OSError as exc:
            raise ProjectError(f"{path}: saving the project failed ({exc}). Is the disk full or "
                               "the folder read-only? Nothing was lost: the previous save is intact.") from exc

    # ---- paths and source ----------------------------------------------------------------------
    def path(self, *parts: str) -> Path:
        return self.root.joinpath(*parts)

    @property
    def name(self) -> str:
        return self.manifest.get("name", self.root.name)

    @property
    def source_info(self) -> dict[str, Any]:
        return self.manifest["source"]["info"]

    @property
    def source_missing(self) -> bool:
        return not Path(self.manifest["source"]["path"]).exists()

    @property
    def source_video(self) -> Path:
        """The source video; raises ProjectError if it was moved, deleted or changed."""
        path = Path(self.manifest["source"]["path"])
        if not path.exists():
            raise ProjectError(f"The project's video {path} is missing. Put it back, or point the "
                               "project at its new place: 'Locate video...' in the app's File menu, "
                               f"or: python main.py relink --project \"{self.root}\" VIDEO")
        return path

    def relink_source(self, new_path: Path | str) -> Path:
        """Point the project at a moved copy of the same video (checked by fingerprint)."""
        return relink(self, new_path)

    def source_changed(self) -> bool:
        return file_fingerprint(self.source_video) != self.manifest["source"]["fingerprint"]

    # ---- stages --------------------------------------------------------------------------------
    def stage(self, name: str) -> StageRecord:
        return self.stages.get(name, StageRecord())

    def stage_key(self, settings: dict[str, Any], inputs: tuple[str, ...] = ()) -> tuple[str, dict[str, str]]:
        """The key a stage would have with these settings, reading these earlier stages."""
        input_keys = {name: self.stage(name).key or "" for name in inputs}
        return settings_key(settings, input_keys), input_keys

    def is_current(self, name: str) -> bool:
        """Done, and none of the stages it read was redone since."""
        rec = self.stage(name)
        if rec.status != "done":
            return False
        return all(self.stage(dep).status == "done" and self.stage(dep).key == key
                   for dep, key in rec.inputs.items())

    def set_stage(self, name: str, status: str, *, settings: dict[str, Any] | None = None,
                  inputs: tuple[str, ...] | None = None, message: str | None = None,
                  metrics: dict[str, Any] | None = None) -> StageRecord:
        """Record a stage's status (and, with settings, its key) and save the manifest."""
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        rec = self.stages.setdefault(name, StageRecord())
        if settings is not None:
            rec.settings = settings
            rec.key, rec.inputs = self.stage_key(settings, inputs or tuple(rec.inputs))
        rec.status, rec.updated, rec.message = status, _now(), message
        if metrics is not None:
            rec.metrics = metrics
        self.save()
        return rec

    def remove_stage_files(self, *relative: str) -> None:
        for rel in relative:
            target = self.path(rel)
            if target.is_dir():
                shutil.rmtree(target, ignore_errors=True)
            elif target.exists():
                target.unlink()


def migrate(manifest: dict[str, Any], path: Path) -> dict[str, Any]:
    """Bring an older manifest to the current version (none exist yet before version 1)."""
    raise ProjectError(f"{path}: the project uses an old format (version {manifest.get('version')}) "
                       "that this app cannot convert. Create a new project from the same video.")
