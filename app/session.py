"""The open project and the job runner, shared by every page (pages observe it through signals)."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from app.settings import AppSettings
from app.workers import JobRunner

log = logging.getLogger(__name__)


class Session(QObject):
    """``project_changed(project)`` when a project is opened; ``stages_changed()`` when a job changed
    the project's stage records (pages re-read them)."""

    project_changed = Signal(object)
    stages_changed = Signal()

    def __init__(self, settings: AppSettings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.project = None
        self.runner = JobRunner(self)

    def open_project(self, root: Path):
        """Open the project in ``root``; raises ProjectError with advice if it cannot."""
        from core.project import Project

        project = Project.open(root)
        self._set(project)
        return project

    def create_project(self, root: Path, video: Path, consent: bool):
        """Create and open a project; the consent confirmation is stored in its manifest."""
        from core.project import Project

        project = Project.create(root, video, consent=consent)
        self._set(project)
        return project

    def _set(self, project) -> None:
        if self.runner.is_running():
            raise RuntimeError("cannot switch projects while a job runs")
        self.project = project
        self.settings.add_recent_project(project.root)
        log.info("project %s open", project.root)
        self.project_changed.emit(project)
