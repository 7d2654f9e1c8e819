"""The Dub page's export part: export now (a job with progress and cancel), add to the export queue,
and show the file written.

A mixin of DubPage (app/pages/dub.py): it exports the audio part's ``dub_audio_path()`` with the
preview part's ``renderer()``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog, QGroupBox, QHBoxLayout, QPushButton, QSizePolicy, QVBoxLayout

from app import jobs
from app.dialogs import show_error
from app.widgets.progress_panel import ProgressPanel

log = logging.getLogger(__name__)

EXPORT_JOB = "export"


def ask_save_path(parent, suggested: Path) -> Path | None:
    """The export file the user picks (tests replace this)."""
    path, _ = QFileDialog.getSaveFileName(parent, "Export the dubbed video", str(suggested),
                                          "MP4 video (*.mp4)")
    if not path:
        return None
    path = Path(path)
    return path if path.suffix.lower() == ".mp4" else path.with_suffix(".mp4")


def reveal(path: Path) -> bool:
    """Show the folder holding ``path`` in the system's file manager (or say where it is)."""
    if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(path.parent))):
        log.info("no file manager opened %s", path.parent)
        return False
    return True


class DubExport:
    def _build_export_box(self) -> QGroupBox:
        session = self.session
        self.export_button = QPushButton("Export video...")
        self.export_button.setObjectName("primaryButton")
        self.export_button.setToolTip("Write the dubbed video at the original resolution and frame "
                                      "rate (Ctrl+E)")
        self.export_button.clicked.connect(self.export)
        self.export_progress = ProgressPanel()
        self.export_progress.cancel_requested.connect(lambda: session.runner.cancel(EXPORT_JOB))
        self.reveal_button = QPushButton("Show in folder")
        self.reveal_button.clicked.connect(self._reveal_export)
        export_box = QGroupBox("Export")
        export_box.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        export_layout = QVBoxLayout(export_box)
        export_buttons = QHBoxLayout()
        export_buttons.addWidget(self.export_button)
        self.queue_button = QPushButton("Add to queue")
        self.queue_button.setToolTip("Export this audio later, after the exports already queued; the "
                                     "queue runs in the background and is kept in the project")
        self.queue_button.clicked.connect(self.add_to_queue)
        export_buttons.addWidget(self.queue_button)
        export_buttons.addStretch(1)
        export_buttons.addWidget(self.reveal_button)
        export_layout.addLayout(export_buttons)
        export_layout.addWidget(self.export_progress)
        return export_box

    def export(self) -> None:
        project = self.session.project
        if project is None or self.audio is None or self.session.runner.is_running():
            return
        chosen = self._ask_export(f"{project.name}-dubbed.mp4")
        if chosen is None:
            return
        out, audio_path = chosen
        self.stop_playing()
        self.last_export = None
        self._update_buttons()
        self.export_progress.show_message(f"Exporting {out.name}...", done=False)
        renderer = self.renderer()
        self.session.runner.start(EXPORT_JOB, lambda: jobs.export(project, audio_path, out, renderer=renderer))
        self.export_progress.set_running(True)

    def add_to_queue(self) -> None:
        """Queue an export of the current audio (as trimmed) with the current lower-face choice."""
        project = self.session.project
        if project is None or self.audio is None:
            return
        chosen = self._ask_export(f"{project.name}-{self.audio_path.stem}-dubbed.mp4")
        if chosen is None:
            return
        out, audio_path = chosen
        self.export_queue.add(out, audio=audio_path, renderer=self.renderer())

    def _ask_export(self, name: str):
        """(where to write the video, the audio as trimmed) after asking where (in the folder last
        used for exports); None when the user cancels or the trimmed audio cannot be saved."""
        out = ask_save_path(self, self.session.settings.last_folder("export") / name)
        if out is None:
            return None
        self.session.settings.remember_folder("export", out.parent)
        try:
            return out, self.dub_audio_path()
        except Exception as exc:  # noqa: BLE001
            show_error(self, exc, "The trimmed audio could not be saved")
            return None

    def _reveal_export(self) -> None:
        if self.last_export is not None and not reveal(self.last_export):
            show_error(self, OSError(f"no file manager opened the folder; the video is {self.last_export}"),
                       "Show in folder")

    # ---- the EXPORT_JOB, as the page's job hooks hand it over ----------------------------------------
    def _export_done(self, result) -> None:
        self.last_export = Path(getattr(result, "out", "")) if getattr(result, "out", None) else None
        self.export_progress.show_message(
            result.describe().splitlines()[0] if hasattr(result, "describe") else "Exported.", done=True)

    def _export_failed(self, exc) -> None:
        self.export_progress.show_message("Export failed.", done=False)
        show_error(self, exc, "Export failed")
