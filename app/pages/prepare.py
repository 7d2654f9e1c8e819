"""Prepare page: run face capture (tracking + 3D fit) and inspect the result frame by frame."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (QCheckBox, QHBoxLayout, QLabel, QPushButton, QSplitter, QTextBrowser,
                               QVBoxLayout, QWidget)

from app import jobs
from app.dialogs import show_error
from app.frames import OVERLAY_LABELS, OVERLAYS
from app.job_wiring import RunsJobs
from app.pages.clip_frames import ClipFrames
from app.session import Session
from app.widgets.enabling import enable
from app.widgets.frame_viewer import FrameViewer
from app.widgets.readiness_plot import ReadinessPlots
from app.widgets.progress_panel import ProgressPanel
from app.workers import LatestOnly

log = logging.getLogger(__name__)

JOB = "prepare"


class PreparePage(RunsJobs, QWidget):
    def __init__(self, session: Session, parent=None) -> None:
        super().__init__(parent)
        self.session = session
        self.frames = None  # PreparedFrames of the open project, or its ClipFrames before capture
        self.prepared = False
        self.renders = LatestOnly(self)
        self.renders.done.connect(self._on_image)
        self.renders.failed.connect(self._on_image_failed)
        self.play_timer = QTimer(self)
        self.play_timer.timeout.connect(self._play_step)

        title = QLabel("Face capture")
        title.setObjectName("pageTitle")
        intro = QLabel("Finds the face in every frame, follows it, and fits a 3D model of it. "
                       "Then check the result: step through the frames with the overlays on.")
        intro.setWordWrap(True)
        self.start_button = QPushButton("Capture face")
        self.start_button.setObjectName("primaryButton")
        self.start_button.clicked.connect(self.start)
        self.progress = ProgressPanel()
        self.progress.cancel_requested.connect(lambda: session.runner.cancel(JOB))
        self.auto_check = QCheckBox("Start by itself for a new project")
        self.auto_check.setObjectName("autoCapture")
        self.auto_check.setToolTip("Face capture starts as soon as a project is made (Cancel stops it; "
                                   "Capture face continues it)")
        self.auto_check.setChecked(session.settings.preferences().auto_capture)
        self.auto_check.toggled.connect(lambda on: session.settings.update_preferences(auto_capture=on))
        start_column = QVBoxLayout()
        start_column.addWidget(self.start_button)
        start_column.addWidget(self.auto_check)
        start_column.addStretch(1)
        top = QHBoxLayout()
        top.addLayout(start_column)
        top.addWidget(self.progress, 1)

        self.toggles: dict[str, QCheckBox] = {}
        toggle_row = QHBoxLayout()
        toggle_row.addWidget(QLabel("Show:"))
        for name in OVERLAYS:
            box = QCheckBox(OVERLAY_LABELS[name])
            box.setObjectName(f"overlay_{name}")
            box.toggled.connect(self.refresh_image)
            self.toggles[name] = box
            toggle_row.addWidget(box)
        toggle_row.addStretch(1)
        self.viewer = FrameViewer("Run face capture to see the tracked face here.")
        self.viewer.frame_changed.connect(self.refresh_image)
        viewer_box = QWidget()
        viewer_layout = QVBoxLayout(viewer_box)
        viewer_layout.setContentsMargins(0, 0, 0, 0)
        viewer_layout.addLayout(toggle_row)
        viewer_layout.addWidget(self.viewer, 1)

        self.report = QTextBrowser()
        self.report.setObjectName("readinessReport")
        self.report.setPlaceholderText("The readiness report appears here after face capture.")
        report_box = QWidget()
        report_layout = QVBoxLayout(report_box)
        report_layout.setContentsMargins(0, 0, 0, 0)
        report_title = QLabel("Is this clip good training material?")
        report_title.setObjectName("sectionTitle")
        report_layout.addWidget(report_title)
        report_layout.addWidget(self.report, 2)
        self.readiness_plots = ReadinessPlots()
        self.readiness_plots.setObjectName("readinessPlots")
        self.readiness_plots.setToolTip("Click a plot to show that frame; shaded: no face found")
        self.readiness_plots.frame_clicked.connect(self.viewer.set_frame)
        self.viewer.frame_changed.connect(self.readiness_plots.set_cursor)
        report_layout.addWidget(self.readiness_plots, 3)
        splitter = QSplitter()
        splitter.addWidget(viewer_box)
        splitter.addWidget(report_box)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 16, 24, 16)
        layout.addWidget(title)
        layout.addWidget(intro)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)

        session.project_changed.connect(self.load_project)
        self.wire_jobs(session, JOB, panel=self.progress, on_busy=self._update_buttons)
        self._update_buttons()

    def _update_buttons(self) -> None:
        why = ("Open or create a project first" if self.session.project is None else
               "Another job is running: wait for it, or cancel it (Work > Cancel)"
               if self.session.runner.is_running() else None)
        enable(self.start_button, why, "Find and follow the face in every frame and fit the 3D model")

    # ---- project ---------------------------------------------------------------------------------
    def load_project(self, project=None) -> None:
        """Show what the open project already holds: frames, overlays, the last readiness report."""
        project = self.session.project
        self.stop_playing()
        self._update_buttons()
        self.frames = None
        self.prepared = False  # self.frames: the prepared crops, or else the clip itself
        self.show_report(self._stored_report(project) if project else "")
        self.readiness_plots.clear()
        if project is None:
            return
        try:
            self.frames = jobs.frame_source(project)
        except Exception as exc:  # noqa: BLE001 (not prepared yet is the usual reason)
            log.info("no prepared frames: %s", exc)
            self.start_button.setText("Capture face")
            self._show_clip(project)
            return
        self.prepared = True
        self.start_button.setText("Capture face again")
        self.viewer.set_frame_count(self.frames.n_frames, project.source_info.get("fps"))
        self._plot_readiness(project)
        self._update_toggles()
        self.refresh_image()

    def _show_clip(self, project) -> None:
        """Before face capture: the video itself, to scrub and play."""
        try:
            self.frames = ClipFrames(project)
        except Exception as exc:  # noqa: BLE001 (a missing video: the bar above the pages says so)
            log.info("the clip cannot be shown: %s", exc)
            self.viewer.set_frame_count(0)
            self.viewer.view.clear_image("Run face capture to see the tracked face here.")
            self._update_toggles()
            return
        self.viewer.set_frame_count(self.frames.n_frames, self.frames.fps)
        self._update_toggles()
        self.refresh_image()

    def show_report(self, text: str) -> None:
        """The readiness report, its verdict line in bold and its advice as a list."""
        from html import escape

        parts, advice = [], []
        for line in text.splitlines():
            if line.startswith("  - "):
                advice.append(f"<li>{escape(line[4:])}</li>")
            elif line.startswith("Verdict:"):
                parts.append(f"<p><b>{escape(line)}</b></p>")
            elif line.strip():
                parts.append(f"{escape(line)}<br>")
        if advice:
            parts.append("<ul>" + "".join(advice) + "</ul>")
        self.report.setHtml("".join(parts))

    def _plot_readiness(self, project) -> None:
        """Head pose and mouth opening over time (the pose once the 3D model is fitted)."""
        tracking = self.frames.tracking
        euler = None
        if project.is_current("fitting"):
            try:
                from core.fitting import load_face_params

                euler = load_face_params(project).euler_deg
            except Exception as exc:  # noqa: BLE001 (an older fit: the mouth plot alone)
                log.info("no head pose to plot: %s", exc)
        self.readiness_plots.set_data(tracking.fps, tracking.has_face, tracking.mouth_opening(), euler)
        self.readiness_plots.set_cursor(self.viewer.frame)

    @staticmethod
    def _stored_report(project) -> str:
        data = project.manifest.get("reports", {}).get("readiness")
        if not data:
            return ""
        try:
            from core.prepare import ReadinessReport

            return ReadinessReport(**data).describe()
        except Exception as exc:  # noqa: BLE001 (an older report format: show nothing)
            log.info("stored readiness report unreadable: %s", exc)
            return ""

    def _update_toggles(self) -> None:
        unavailable = getattr(self.frames, "unavailable", {}) if self.frames else {}
        for name, box in self.toggles.items():
            reason = "Available after face capture." if self.frames is None else unavailable.get(name)
            box.setEnabled(reason is None)
            box.setToolTip(reason or f"Draw the {OVERLAY_LABELS[name].lower()} over the face")

    def active_overlays(self) -> frozenset[str]:
        return frozenset(n for n, b in self.toggles.items() if b.isChecked() and b.isEnabled())

    # ---- viewer ------------------------------------------------------------------------------------
    def refresh_image(self, *_) -> None:
        if self.frames is None:
            return
        index, overlays, frames = self.viewer.frame, self.active_overlays(), self.frames
        self.renders.request((index, overlays), lambda: frames.image(index, overlays))

    def _on_image(self, key, image) -> None:
        if self.frames is not None and key == (self.viewer.frame, self.active_overlays()):
            self.viewer.show_image(image)
        elif self.frames is not None and not self.renders.busy:
            self.viewer.show_image(image)

    def _on_image_failed(self, key, exc) -> None:
        log.warning("overlay drawing failed for %s: %s", key, exc)
        # Show the failure once per overlay set, then switch that overlay off.
        for name in key[1]:
            self.toggles[name].setChecked(False)
        show_error(self, exc, "The overlay cannot be drawn")

    def toggle_play(self) -> None:
        if self.play_timer.isActive():
            self.stop_playing()
        elif self.frames is not None:
            self.play_timer.start(int(1000 / max(self.viewer.fps, 1)))

    def stop_playing(self) -> None:
        self.play_timer.stop()

    def _play_step(self) -> None:
        if self.viewer.frame >= self.viewer.frame_count - 1:
            self.stop_playing()
        elif not self.renders.busy:  # drop frames rather than queue them
            self.viewer.step(1)

    def step(self, delta: int) -> None:
        self.viewer.step(delta)

    # ---- the job -------------------------------------------------------------------------------------
    def start_for_new_project(self) -> bool:
        """A project was just made: start face capture unless the user turned that off or it is
        already prepared. True if it started."""
        project = self.session.project
        if (project is None or not self.session.settings.preferences().auto_capture
                or project.is_current("fitting") or self.session.runner.is_running()):
            return False
        self.start()
        return self.session.runner.is_running(JOB)

    def start(self) -> None:
        project = self.session.project
        if project is None or self.session.runner.is_running():
            return
        if self.prepared:  # the crops are written again: nothing to show meanwhile
            self.frames, self.prepared = None, False
        self.progress.set_running(True)
        self.progress.show_message("Starting face capture...", done=False)
        self.session.runner.start(JOB, lambda: jobs.prepare(project))
        self._update_buttons()

    def job_done(self, name: str, result) -> None:
        self.progress.show_message("Face capture finished.", done=True)
        self.session.stages_changed.emit()
        self.load_project()
        self.show_report(result.describe() if hasattr(result, "describe") else str(result))

    def job_failed(self, name: str, exc) -> None:
        self.progress.show_message("Face capture failed.", done=False)
        show_error(self, exc, "Face capture failed")

    def job_cancelled(self, name: str) -> None:
        self.progress.show_message("Face capture cancelled. Finished work is kept; start again "
                                   "to continue.", done=False)

    def job_stopped(self, name: str) -> None:
        self.progress.set_running(False)
        if not self.prepared:
            self.load_project()
