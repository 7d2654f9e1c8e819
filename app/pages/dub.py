"""Dub page: the audio (a file, the microphone or a typed script), a trimmed waveform, a live preview,
and export. Its parts live beside it: dub_audio (file, microphone, takes, trim), dub_script (a typed
script spoken), dub_preview (the dubbed frames, playback, the mouth) and dub_export (export and the
queue); this module lays them out and routes the page's jobs to them."""

from __future__ import annotations

import logging

from PySide6.QtWidgets import QLabel, QSplitter, QVBoxLayout, QWidget

from app.job_wiring import RunsJobs
from app.pages.dub_audio import DubAudio
from app.pages.dub_export import EXPORT_JOB, DubExport
from app.pages.dub_preview import DubPreviewPart
from app.pages.dub_script import SPEAK_JOB, DubScript
from app.session import Session
from app.widgets.enabling import enable
from app.widgets.export_queue import ExportQueuePanel

log = logging.getLogger(__name__)

LEFT_COLUMN_SHARE = 0.36  # of the page's width; the preview gets the rest


class DubPage(RunsJobs, DubAudio, DubScript, DubPreviewPart, DubExport, QWidget):
    def __init__(self, session: Session, parent=None) -> None:
        super().__init__(parent)
        self.session = session
        self.last_export = None  # Path of the last export written
        self._init_audio()
        self._init_preview()

        title = QLabel("Dub")
        title.setObjectName("pageTitle")
        audio_box = self._build_audio_box()
        preview_box = self._build_preview_box()
        export_box = self._build_export_box()
        self.export_queue = ExportQueuePanel(session)

        # The preview gets the larger share: audio, export and the queue in a column at the left.
        left = QWidget()
        self.left_column = QVBoxLayout(left)
        self.left_column.setContentsMargins(0, 0, 0, 0)
        self.left_column.addWidget(audio_box)
        self.left_column.addWidget(export_box)
        self.left_column.addWidget(self.export_queue)
        self.left_column.addStretch(1)
        self.splitter = QSplitter()
        self.splitter.setObjectName("dubSplitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(left)
        self.splitter.addWidget(preview_box)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self._split_set = False

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 16, 24, 16)
        layout.addWidget(title)
        layout.addWidget(self.splitter, 1)

        self.wire_jobs(session, EXPORT_JOB, SPEAK_JOB, on_busy=self._update_buttons)
        session.project_changed.connect(self._on_project)
        session.stages_changed.connect(self._on_models_changed)
        self.refresh_devices()
        self.refresh_voices()
        self.refresh_takes()
        self._update_buttons()

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if not self._split_set and self.width() > 0:
            self._split_set = True
            left = max(int(self.width() * LEFT_COLUMN_SHARE), self.splitter.widget(0).minimumSizeHint().width())
            self.splitter.setSizes([left, max(self.width() - left, 1)])
        if not self.recorder.recording:
            self.refresh_devices()  # a microphone may have been plugged in meanwhile
        self.refresh_voices()  # likewise a voice put in the voices folder

    # ---- the page's jobs: an export and speaking a script ------------------------------------------------
    def job_progress(self, name: str, record) -> None:
        if name == EXPORT_JOB:
            self.show_job_progress(self.export_progress, name, record)
        else:
            self.script.show_progress(record)

    def job_done(self, name: str, result) -> None:
        if name == EXPORT_JOB:
            self._export_done(result)
            self._update_buttons()
        else:
            self._on_spoken(result)

    def job_failed(self, name: str, exc) -> None:
        if name == EXPORT_JOB:
            self._export_failed(exc)
        else:
            self._speak_failed(exc)

    def job_cancelled(self, name: str) -> None:
        if name == EXPORT_JOB:
            self.export_progress.show_message("Export cancelled; no file was written.", done=False)
        else:
            self._speak_cancelled()

    def job_stopped(self, name: str) -> None:
        if name == EXPORT_JOB:
            self.export_progress.set_running(False)
        else:
            self.script.set_running(False)
        self._update_buttons()

    # ---- state ---------------------------------------------------------------------------------------
    def _on_project(self, project) -> None:
        self.stop_playing()
        self.preview = None
        self.preview_key = None
        self._models_version += 1
        self.refresh_renderers(advise=True)
        # nothing of the previous project stays on screen: its audio, export result and script status
        self.last_export = None
        self.clear_audio()
        self.export_progress.show_message("", done=False)
        self.script.show_message("", done=False)
        self.show_clip(project)
        self._update_buttons()

    def _on_models_changed(self) -> None:
        self._models_version += 1
        self.refresh_renderers()
        if self.audio is not None:
            self.rebuild_preview()

    def _update_buttons(self) -> None:
        has_project = self.session.project is not None
        busy = self.session.runner.is_running()
        no_project = "Open or create a project first" if not has_project else None
        enable(self.load_button, no_project, "Load the audio the person will speak (Ctrl+L)")
        if not self.record_button.isChecked():
            enable(self.record_button, no_project or (None if self.devices else "No microphone found"),
                   "Record from the chosen microphone; press again to stop")
        self.device_combo.setEnabled(bool(self.devices))
        enable(self.reveal_button, None if self.last_export is not None else "Nothing exported yet",
               "Show the exported video in the file manager")
        self.export_button.setEnabled(has_project and self.audio is not None and not busy)
        self.queue_button.setEnabled(has_project and self.audio is not None)
        # a greyed-out button says why
        why = ("Open or create a project first" if not has_project else
               "Load, record or speak the audio to dub first" if self.audio is None else
               "Another job is running (training, an export or the queue): wait for it, or use "
               "Add to queue" if busy else
               "Write the dubbed video at the original resolution and frame rate (Ctrl+E)")
        self.export_button.setToolTip(why)
        self.queue_button.setToolTip(why if not self.queue_button.isEnabled() else
                                     "Export this audio later, after the exports already queued; the "
                                     "queue runs in the background and is kept in the project")
        if not self.session.runner.is_running(SPEAK_JOB):  # while speaking, the button cancels
            enable(self.script.speak_button, no_project or (
                "Another job is running: wait for it, or cancel it" if busy else None),
                "Synthesise the script and load it as the audio to dub")

    def shutdown(self) -> None:
        """Stop recording and playback (the window is closing)."""
        self.stop_playing()
        if self.recorder.recording:
            self.level_timer.stop()
            self.recorder.stop()
