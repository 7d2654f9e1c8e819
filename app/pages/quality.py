"""Quality page: measure the trained models on the held-out tail of the video
(core.evaluation.evaluate, as a job), the figures beside the paper's, the mouth opening over the
held-out frames (real and each lower face), and the real | generated video side by side. Says when
later training made the figures out of date."""

from __future__ import annotations

import datetime as _dt
import json
import logging
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QGroupBox, QHBoxLayout, QHeaderView, QLabel,
                               QPushButton, QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from app import jobs
from app.dialogs import show_error
from app.job_wiring import RunsJobs
from app.session import Session
from app.widgets.clocked_playback import ClockedPlayback
from app.widgets.enabling import enable
from app.widgets.frame_viewer import FrameViewer
from app.widgets.plot_legend import legend_below
from app.widgets.progress_panel import ProgressPanel
from app.workers import LatestOnly

log = logging.getLogger(__name__)

JOB = "evaluate"
EVAL_DIR, METRICS_FILE, OPENING_FILE = "evaluation", "metrics.json", "mouth_opening.npz"
# figure key -> (row label, number format, what the paper reports for it)
ROWS = {
    "ssim_full": ("SSIM, whole frame (higher is better)", "{:.4f}", "0.9754-0.9858"),
    "mae_full": ("Mean absolute error, of 255 (lower is better)", "{:.2f}", "5.86-7.95"),
    "psnr_full": ("PSNR, whole frame, dB", "{:.2f}", "not reported"),
    "ssim_mouth": ("SSIM, mouth region", "{:.4f}", "not reported"),
    "psnr_mouth": ("PSNR, mouth region, dB", "{:.2f}", "not reported"),
    "mouth_landmark_px": ("Lip landmark error, px (lower is better)", "{:.2f}", "not reported"),
    "mouth_opening_corr": ("Mouth opening correlation with the real", "{:.3f}", "not reported"),
}
BASELINE = "baseline"
COLUMN_TIPS = {BASELINE: "The same person's real frames from the segment before the held-out one: what "
                         "a result with no lip sync at all scores",
               "draft": "The draft moves the real held-out frame's own mouth, so it starts from the truth; "
                        "its figures are optimistic beside the others'",
               "sample": "Mouths taken from the training part of the video only (never the held-out frames)"}
CURVE_COLORS = {"real": "#303030", "sample": "#2ca02c", "neural": "#4e9af1", "reference": "#4e9af1",
                "paper": "#9467bd", "draft": "#f1884e"}


def variant_title(name: str) -> str:
    """A lower-face variant's name for people ('neural': evaluations written before the registry)."""
    from core import lowerface

    if name in lowerface.VARIANTS:
        return lowerface.VARIANTS[name].label
    return {"neural": "Neural renderer", BASELINE: "Baseline (no lip sync)"}.get(name, name)


def measured_variants(figures: dict) -> list[str]:
    """The variants in an evaluation, in the registry's order (older names after)."""
    from core import lowerface

    order = [n for n in lowerface.VARIANTS if n in figures] + [n for n in figures if n not in lowerface.VARIANTS]
    return [n for n in order if n != BASELINE]
STAGES = {"renderer": "neural renderer", "audio_model": "audio model"}


def stored_evaluation(project) -> dict | None:
    """metrics.json of the last evaluation with "mouth_opening" (arrays) and "measured_at" added."""
    folder = project.path(EVAL_DIR)
    try:
        data = json.loads((folder / METRICS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    report = project.manifest.get("reports", {}).get("evaluation") or {}
    data["measured_at"] = report.get("measured_at") or _dt.datetime.fromtimestamp(
        (folder / METRICS_FILE).stat().st_mtime, _dt.timezone.utc).isoformat(timespec="seconds")
    try:
        with np.load(folder / OPENING_FILE) as arrays:
            data["mouth_opening"] = {k: arrays[k] for k in arrays.files}
    except (OSError, ValueError, KeyError):
        data["mouth_opening"] = {}
    return data


def out_of_date(project, measured_at: str) -> list[str]:
    """The models trained again after ``measured_at`` (an ISO time in UTC)."""
    return [label for stage, label in STAGES.items()
            if (project.stage(stage).updated or "") > measured_at and project.stage(stage).status == "done"]


class QualityPage(RunsJobs, QWidget):
    def __init__(self, session: Session, parent=None) -> None:
        super().__init__(parent)
        self.session = session
        self.evaluation: dict | None = None
        self.reader = None  # VideoReader of the side-by-side video shown

        title = QLabel("Quality")
        title.setObjectName("pageTitle")
        intro = QLabel("Measures the trained models on the last fifth of the video, which training never "
                       "saw: its own sound drives the person, and the result is compared with the real "
                       "frames, as in the paper.")
        intro.setWordWrap(True)
        self.run_button = QPushButton("Measure quality")
        self.run_button.setObjectName("primaryButton")
        self.run_button.clicked.connect(self.start)
        self.progress = ProgressPanel()
        self.progress.cancel_requested.connect(lambda: session.runner.cancel(JOB))
        self.status = QLabel("")
        self.status.setObjectName("qualityStatus")
        self.status.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(self.run_button, 0, Qt.AlignmentFlag.AlignTop)
        top.addWidget(self.progress, 1)

        self.table = QTableWidget(0, 0)
        self.table.setObjectName("qualityTable")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setWordWrap(True)
        self.plot = pg.PlotWidget(title="Mouth opening over the held-out frames")
        self.plot.setObjectName("openingPlot")
        self.plot.setBackground(None)
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setLabel("bottom", "frame")
        self.plot.setLabel("left", "lip gap / face height")
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        legend_below(self.plot, columns=4)
        self.plot.setMinimumHeight(200)
        figures = QWidget()
        figures_layout = QVBoxLayout(figures)
        figures_layout.setContentsMargins(0, 0, 0, 0)
        figures_layout.addWidget(self.table, 2)
        figures_layout.addWidget(self.plot, 3)

        self.viewer = FrameViewer("Measure quality to see the real and the generated video side by side.")
        self.viewer.frame_changed.connect(self._on_scrub)
        self.mode_combo = QComboBox()
        self.mode_combo.setObjectName("sideBySideMode")
        self.mode_combo.currentIndexChanged.connect(lambda _: self._open_video())
        self.play_button = QPushButton("Play")
        self.play_button.clicked.connect(self.toggle_play)
        self.open_button = QPushButton("Open in video player")
        self.open_button.setToolTip("Play the side-by-side video in the system's video player")
        self.open_button.clicked.connect(self._open_externally)
        video_row = QHBoxLayout()
        video_row.addWidget(self.play_button)
        video_row.addWidget(QLabel("Real | generated by:"))
        video_row.addWidget(self.mode_combo)
        video_row.addStretch(1)
        video_row.addWidget(self.open_button)
        video_box = QGroupBox("Held-out video: real (left) | generated (right)")
        video_layout = QVBoxLayout(video_box)
        video_layout.addWidget(self.viewer, 1)
        video_layout.addLayout(video_row)

        splitter = QSplitter()
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(figures)
        splitter.addWidget(video_box)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 16, 24, 16)
        layout.addWidget(title)
        layout.addWidget(intro)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addWidget(splitter, 1)

        self.renders = LatestOnly(self)
        self.renders.done.connect(self._on_frame)
        self.renders.failed.connect(lambda key, exc: log.warning("side-by-side frame %s: %s", key, exc))
        self.playback = ClockedPlayback(self.viewer, lambda: self.play_button.setText("Play"), self)
        self.play_timer = self.playback.timer
        self.wire_jobs(session, JOB, panel=self.progress, on_busy=self._update_buttons)
        session.project_changed.connect(lambda _: self.load())
        session.stages_changed.connect(self._update_status)
        self.load()

    # ---- showing a stored evaluation ------------------------------------------------------------------
    def load(self) -> None:
        project = self.session.project
        self.stop_playing()
        self.progress.show_message("", done=False)  # nothing of another project's run stays
        self.evaluation = stored_evaluation(project) if project is not None else None
        self._fill_table()
        self._fill_plot()
        self._fill_modes()
        self._update_status()
        self._update_buttons()

    def _fill_table(self) -> None:
        figures = (self.evaluation or {}).get("figures", {})
        columns = measured_variants(figures) + ([BASELINE] if BASELINE in figures else [])
        keys = [k for k in ROWS if any(k in figures[c] for c in columns)]
        keys += sorted({k for c in columns for k in figures[c]} - set(keys))
        self.table.clear()
        self.table.setRowCount(len(keys))
        self.table.setColumnCount(len(columns) + (1 if columns else 0))
        headers = [variant_title(c).replace(" (", "\n(") for c in columns] + (["Paper\n(Wen et al.)"] if columns else [])
        self.table.setHorizontalHeaderLabels(headers)
        for i, c in enumerate(columns):
            if c in COLUMN_TIPS:
                self.table.horizontalHeaderItem(i).setToolTip(COLUMN_TIPS[c])
        self.table.setVerticalHeaderLabels([ROWS.get(k, (k.replace("_", " "),))[0] for k in keys])
        for r, key in enumerate(keys):
            fmt = ROWS.get(key, ("", "{:.4g}", ""))[1]
            for c, column in enumerate(columns):
                value = figures[column].get(key)
                text = "-" if value is None or not np.isfinite(value) else fmt.format(value)
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
            paper = QTableWidgetItem(ROWS.get(key, ("", "", "not reported"))[2])
            paper.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(r, len(columns), paper)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)

    def _fill_plot(self) -> None:
        self.plot.clear()
        self.plot.plotItem.legend.clear()
        self.plot.enableAutoRange()  # another project's frame range must not stay
        openings = (self.evaluation or {}).get("mouth_opening", {})
        frames = openings.get("frames")
        for name in ["real"] + [n for n in measured_variants(openings) if n not in ("real", "frames")]:
            values = openings.get(name)
            if values is None or frames is None:
                continue
            pen = pg.mkPen(CURVE_COLORS.get(name, "#7f7f7f"), width=2 if name != "real" else 3)
            self.plot.plot(frames.astype(float), values.astype(float), pen=pen, connect="finite",
                           name="real" if name == "real" else variant_title(name))

    def _fill_modes(self) -> None:
        blocked = self.mode_combo.blockSignals(True)
        self.mode_combo.clear()
        project = self.session.project
        if project is not None and self.evaluation:
            for mode in measured_variants(self.evaluation.get("figures", {})):
                if project.path(EVAL_DIR, f"side_by_side_{mode}.mp4").exists():
                    self.mode_combo.addItem(variant_title(mode), mode)
        self.mode_combo.blockSignals(blocked)
        self._open_video()

    def _update_status(self) -> None:
        project = self.session.project
        if project is None:
            self.status.setText("Open a project first.")
        elif self.evaluation is None:
            trained = project.stage("audio_model").status == "done"
            self.status.setText("Not measured yet." if trained else
                                "Train the audio model on the Train page first.")
        else:
            segment = self.evaluation.get("segment", [0, 0])
            when = self.evaluation["measured_at"].replace("T", " ")[:16]
            text = (f"Measured {when} UTC on held-out frames {segment[0]}..{segment[1] - 1} "
                    f"({self.evaluation.get('frames', 0)} frames).")
            from core.lowerface.advice import measured_best

            advice = measured_best(self.evaluation.get("figures", {}))
            if advice is not None:
                text += " " + advice.describe() + " The Dub page uses it unless you choose another."
            changed = out_of_date(project, self.evaluation["measured_at"])
            if changed:
                text = (f"Out of date: the {' and the '.join(changed)} changed since these figures were "
                        "measured. Press Measure quality again. " + text)
            self.status.setText(text)
            self.status.setProperty("stale", bool(changed))
            self.status.style().polish(self.status)

    def is_out_of_date(self) -> bool:
        project = self.session.project
        return bool(project is not None and self.evaluation
                    and out_of_date(project, self.evaluation["measured_at"]))

    def _update_buttons(self) -> None:
        project, busy = self.session.project, self.session.runner.is_running()
        why = ("Open or create a project first" if project is None else
               "Train the audio model on the Train page first" if project.stage("audio_model").status != "done"
               else "Another job is running: wait for it, or cancel it (Work > Cancel)" if busy else None)
        enable(self.run_button, why, "Measure the models on the held-out tail of the video")
        no_video = None if self.reader is not None else "Measure quality first: it makes the side-by-side video"
        enable(self.play_button, no_video, "Play the side-by-side video here")
        enable(self.open_button, no_video, "Play the side-by-side video in the system's video player")

    # ---- the side-by-side video --------------------------------------------------------------------
    def _video_path(self) -> Path | None:
        project, mode = self.session.project, self.mode_combo.currentData()
        return project.path(EVAL_DIR, f"side_by_side_{mode}.mp4") if project is not None and mode else None

    def _open_video(self) -> None:
        from core.media import VideoReader

        self.stop_playing()
        self.reader = None
        path = self._video_path()
        if path is not None and path.exists():
            try:
                self.reader = VideoReader(path)
            except Exception as exc:  # noqa: BLE001 (a damaged file: measure again)
                log.warning("cannot read %s: %s", path, exc)
        if self.reader is None:
            self.viewer.set_frame_count(0)
            self.viewer.view.clear_image("Measure quality to see the real and the generated video side by side.")
        else:
            self.viewer.set_frame_count(self.reader.frame_count, self.reader.fps)
            self.viewer.set_frame(0)
            self._on_scrub(0)
        self._update_buttons()

    def _on_scrub(self, frame: int) -> None:
        reader = self.reader
        if reader is not None:
            self.renders.request((str(self._video_path()), frame), lambda: reader.read(frame))

    def _on_frame(self, key, image) -> None:
        if key[0] == str(self._video_path()):
            self.viewer.show_image(image)

    def _open_externally(self) -> None:
        path = self._video_path()
        if path is not None and not QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))):
            show_error(self, OSError(f"no video player on this computer opens {path.name}; it is in "
                                     f"{path.parent}"), "No video player found")

    def toggle_play(self) -> None:
        if self.play_timer.isActive():
            self.stop_playing()
        elif self.reader is not None:
            self.start_playing()

    def start_playing(self) -> None:
        frame = 0 if self.viewer.frame >= self.viewer.frame_count - 1 else self.viewer.frame
        audio = None
        try:
            from core.media import load_audio

            audio = load_audio(self._video_path(), jobs.DUB_AUDIO_RATE)
            audio = audio[int(frame / self.reader.fps * jobs.DUB_AUDIO_RATE):]
        except Exception as exc:  # noqa: BLE001 (no audio: play silently)
            log.info("side-by-side plays without sound: %s", exc)
        self.playback.start(self.reader.fps, audio, jobs.DUB_AUDIO_RATE)
        self.play_button.setText("Pause")

    def stop_playing(self) -> None:
        self.playback.stop()

    def step(self, delta: int) -> None:
        self.stop_playing()
        self.viewer.step(delta)

    # ---- the job -------------------------------------------------------------------------------------
    def start(self) -> None:
        project = self.session.project
        if project is None or self.session.runner.is_running():
            return
        self.stop_playing()
        self.reader = None  # the job rewrites the video files
        self.viewer.set_frame_count(0)
        self.viewer.view.clear_image("Measuring...")
        self.progress.set_running(True)
        self.progress.show_message("Measuring quality on the held-out frames...", done=False)
        self.session.runner.start(JOB, lambda: jobs.evaluate(project))
        self._update_buttons()

    def job_done(self, name: str, result) -> None:
        self.progress.show_message("Quality measured.", done=True)
        self.load()

    def job_failed(self, name: str, exc) -> None:
        self.progress.show_message("Measuring failed.", done=False)
        show_error(self, exc, "Quality could not be measured")
        self.load()

    def job_cancelled(self, name: str) -> None:
        self.progress.show_message("Cancelled; the previous figures are kept.", done=False)
        self.load()

    def job_stopped(self, name: str) -> None:
        self.progress.set_running(False)
        self._update_buttons()

    def shutdown(self) -> None:
        self.stop_playing()
