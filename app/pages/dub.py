"""Dub page: the audio (a file, the microphone or a typed script), a trimmed waveform, a live preview,
and export."""

from __future__ import annotations

import datetime as _dt
import logging
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QGroupBox, QHBoxLayout, QLabel, QPushButton,
                               QSizePolicy, QSplitter, QVBoxLayout, QWidget)

from app import audio_io, jobs
from app.dialogs import choose_file, show_error
from app.session import Session
from app.pages.clip_frames import ClipFrames
from app.widgets.clocked_playback import ClockedPlayback
from app.widgets.compare_view import ComparePreview
from app.widgets.frame_viewer import FrameViewer
from app.widgets.level_meter import LevelMeter
from app.widgets.progress_panel import ProgressPanel
from app.widgets.enabling import enable
from app.widgets.export_queue import ExportQueuePanel
from app.widgets.script_editor import ScriptEditor
from app.widgets.trim_times import TrimTimes
from app.widgets.waveform import Waveform
from app.workers import LatestOnly

log = logging.getLogger(__name__)

AUDIO_FILTER = ("Audio (*.wav *.mp3 *.m4a *.aac *.flac *.ogg *.opus *.wma *.aiff *.mp4 *.mov *.mkv);;"
                "All files (*)")
EXPORT_JOB = "export"
SPEAK_JOB = "speak"
TRIM_TOLERANCE_S = 0.01  # a trim closer than this to the ends counts as untrimmed
PREVIEW_CACHE_BYTES = 600 * 1024 * 1024
LEFT_COLUMN_SHARE = 0.36  # of the page's width; the preview gets the rest


def _frame_pair(preview, frame: int):
    """The preview's FramePair for ``frame`` (a preview without originals shows its frame alone)."""
    if hasattr(preview, "frame_pair"):
        return preview.frame_pair(frame)
    from app.frames import FramePair

    image = preview.frame(frame)
    return FramePair(image, image, None)


class FrameCache:
    """Rendered preview frames by key, the oldest dropped beyond ``limit`` bytes."""

    def __init__(self, limit: int) -> None:
        self.limit, self.items, self.bytes = limit, {}, 0

    def get(self, key):
        pair = self.items.pop(key, None)
        if pair is not None:
            self.items[key] = pair  # most recently used last
        return pair

    def put(self, key, pair) -> None:
        if key in self.items:
            return
        self.items[key] = pair
        self.bytes += pair.nbytes
        while self.bytes > self.limit and len(self.items) > 1:
            old = self.items.pop(next(iter(self.items)))
            self.bytes -= old.nbytes

    def clear(self) -> None:
        self.items.clear()
        self.bytes = 0


NO_AUDIO_TEXT = "No audio loaded yet. Load a file, drop one here, record, or type a script."


def ask_save_path(parent, suggested: Path) -> Path | None:
    """The export file the user picks (tests replace this)."""
    path, _ = QFileDialog.getSaveFileName(parent, "Export the dubbed video", str(suggested),
                                          "MP4 video (*.mp4)")
    if not path:
        return None
    path = Path(path)
    return path if path.suffix.lower() == ".mp4" else path.with_suffix(".mp4")


def reveal(path: Path) -> None:
    """Show the folder holding ``path`` in the system's file manager (or say where it is)."""
    if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(path.parent))):
        log.info("no file manager opened %s", path.parent)
        return False
    return True


class DubPage(QWidget):
    def __init__(self, session: Session, parent=None) -> None:
        super().__init__(parent)
        self.session = session
        self.audio: np.ndarray | None = None  # float32 mono at jobs.DUB_AUDIO_RATE
        self.audio_path: Path | None = None
        self.preview = None  # DubPreview for the current audio and trim
        self.preview_key: tuple | None = None
        self.clip = None  # ClipFrames: the video itself, shown until audio is loaded
        self.last_export: Path | None = None
        self.recorder = audio_io.Recorder()
        self.devices: list[audio_io.InputDevice] = []
        self._models_version = 0  # bumped when training changed the models the preview uses
        self.frame_cache = FrameCache(PREVIEW_CACHE_BYTES)  # frames rendered once play again at once

        self.setAcceptDrops(True)
        self.builder = LatestOnly(self)  # builds DubPreview objects (loads models: slow)
        self.builder.done.connect(self._on_preview_built)
        self.builder.failed.connect(self._on_preview_failed)
        self.renders = LatestOnly(self)  # renders single preview frames
        self.renders.done.connect(self._on_frame)
        self.renders.failed.connect(self._on_frame_failed)

        title = QLabel("Dub")
        title.setObjectName("pageTitle")

        # audio source
        self.load_button = QPushButton("Load audio file...")
        self.load_button.setObjectName("primaryButton")
        self.load_button.clicked.connect(self.choose_audio)
        self.device_combo = QComboBox()
        self.device_combo.setMinimumWidth(170)
        self.record_button = QPushButton("Record")
        self.record_button.setCheckable(True)
        self.record_button.setObjectName("recordButton")
        self.record_button.toggled.connect(self._on_record_toggled)
        self.level = LevelMeter()
        self.record_label = QLabel("")
        self.audio_label = QLabel(NO_AUDIO_TEXT)
        self.takes_combo = QComboBox()
        self.takes_combo.setObjectName("takesCombo")
        self.takes_combo.setToolTip("Every audio loaded, recorded or spoken in this project: choose one to "
                                    "dub it again")
        self.takes_combo.activated.connect(self._on_take_chosen)
        self.audio_label.setObjectName("audioLabel")
        self.record_label.setWordWrap(True)
        load_row = QHBoxLayout()
        load_row.addWidget(self.load_button)
        load_row.addStretch(1)
        record_row = QHBoxLayout()
        record_row.addWidget(QLabel("or record from:"))
        record_row.addWidget(self.device_combo, 1)
        record_row.addWidget(self.record_button)
        file_and_mic = QVBoxLayout()
        file_and_mic.addLayout(load_row)
        file_and_mic.addLayout(record_row)
        file_and_mic.addWidget(self.level)
        file_and_mic.addWidget(self.record_label)
        self.script = ScriptEditor()
        self.script.settings = session.settings  # where its voice-file dialog opens
        self.script.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)  # no gaps
        self.script.speak_requested.connect(self.speak)
        self.script.cancel_requested.connect(lambda: session.runner.cancel(SPEAK_JOB))
        self.waveform = Waveform()
        self.waveform.trim_changed.connect(self._on_trim)
        audio_box = QGroupBox("Audio the person will speak")
        audio_box.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        audio_layout = QVBoxLayout(audio_box)
        audio_layout.addLayout(file_and_mic)
        audio_layout.addWidget(self.script)
        takes_row = QHBoxLayout()
        takes_row.addWidget(QLabel("Takes:"))
        takes_row.addWidget(self.takes_combo, 1)
        audio_layout.addLayout(takes_row)
        audio_layout.addWidget(self.audio_label)
        audio_layout.addWidget(self.waveform)
        self.trim_times = TrimTimes(self.waveform)
        audio_layout.addWidget(self.trim_times)
        self.audio_label.setWordWrap(True)

        # preview
        self.compare_view = ComparePreview("Load audio to preview the dubbed video.")
        self.viewer = FrameViewer(view=self.compare_view)
        self.viewer.frame_changed.connect(self._on_scrub)
        self.advice_label = QLabel("")
        self.advice_label.setObjectName("adviceLabel")
        self.advice_label.setWordWrap(True)
        self.renderer_choice = QComboBox()
        self.renderer_choice.setObjectName("rendererChoice")
        self.renderer_choice.setToolTip("How the dubbed mouth is made, for the preview and the export")
        self.refresh_renderers()
        self.renderer_choice.currentIndexChanged.connect(lambda _: self.rebuild_preview())
        self.play_button = QPushButton("Play")
        self.play_button.setToolTip("Play the preview with sound (Space)")
        self.play_button.clicked.connect(self.toggle_play)
        self.compare_check = QCheckBox("Before / after")
        self.compare_check.setObjectName("compareCheck")
        self.compare_check.setToolTip("Split the picture: the original frame left of the divider, the dubbed "
                                      "one right of it. Drag the divider to move it.")
        self.compare_check.toggled.connect(self.compare_view.set_compare)
        self.original_button = QPushButton("Hold: original")
        self.original_button.setObjectName("holdOriginal")
        self.original_button.setToolTip("Shows the original frame while held (or hold B over the picture)")
        self.original_button.pressed.connect(lambda: self.compare_view.hold_original(True))
        self.original_button.released.connect(lambda: self.compare_view.hold_original(False))
        self.zoom_check = QCheckBox("Zoom on mouth")
        self.zoom_check.setObjectName("zoomCheck")
        self.zoom_check.setToolTip("Show only the mouth region, enlarged with its pixels kept sharp")
        self.zoom_check.toggled.connect(self.compare_view.set_zoom)
        self.preview_label = QLabel("")
        self.preview_label.setObjectName("previewLabel")
        self.preview_label.setWordWrap(True)
        play_row = QHBoxLayout()
        play_row.addWidget(self.play_button)
        play_row.addWidget(self.compare_check)
        play_row.addWidget(self.original_button)
        play_row.addWidget(self.zoom_check)
        play_row.addStretch(1)
        mouth_row = QHBoxLayout()
        mouth_row.addWidget(QLabel("Mouth:"))
        mouth_row.addWidget(self.renderer_choice)
        mouth_row.addWidget(self.advice_label, 1)
        preview_box = QGroupBox("Preview")
        preview_layout = QVBoxLayout(preview_box)
        preview_layout.addWidget(self.viewer, 1)
        preview_layout.addLayout(play_row)
        preview_layout.addLayout(mouth_row)
        preview_layout.addWidget(self.preview_label)
        self.playback = ClockedPlayback(self.viewer, lambda: self.play_button.setText("Play"), self)
        self.play_timer = self.playback.timer
        self.level_timer = QTimer(self)
        self.level_timer.setInterval(50)
        self.level_timer.timeout.connect(self._poll_recorder)

        # export
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

        runner = session.runner
        runner.progress.connect(self._on_progress)
        runner.finished_ok.connect(self._on_exported)
        runner.failed.connect(self._on_export_failed)
        runner.cancelled.connect(self._on_export_cancelled)
        runner.stopped.connect(self._on_stopped)
        runner.busy_changed.connect(lambda _: self._update_buttons())
        session.project_changed.connect(self._on_project)
        session.stages_changed.connect(self._on_models_changed)
        self.refresh_devices()
        self.refresh_voices()
        self.refresh_takes()
        self._update_buttons()

    # ---- devices and recording ---------------------------------------------------------------------
    def refresh_devices(self) -> None:
        self.devices = audio_io.input_devices()
        self.device_combo.clear()
        for d in self.devices:
            self.device_combo.addItem(d.name)
        wanted = self.session.settings.preferences().input_device
        names = [d.name for d in self.devices]
        if wanted in names:
            self.device_combo.setCurrentIndex(names.index(wanted))
        self.level.setVisible(bool(self.devices))
        if not self.devices:
            self.device_combo.addItem("no microphone found")
            self.record_label.setText("No microphone on this computer: load an audio file instead.")
        else:
            self.record_label.setText("")
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

    def _on_record_toggled(self, on: bool) -> None:
        if on:
            self.start_recording()
        else:
            self.stop_recording()

    def start_recording(self) -> None:
        if not self.devices or self.session.project is None:
            self._set_checked(self.record_button, False)
            return
        device = self.devices[self.device_combo.currentIndex()]
        self.stop_playing()
        try:
            self.recorder.start(device)
        except Exception as exc:  # noqa: BLE001
            self._set_checked(self.record_button, False)
            show_error(self, exc, "Recording failed")
            return
        self.session.settings.update_preferences(input_device=device.name)
        self.record_button.setText("Stop")
        self.level_timer.start()

    def stop_recording(self) -> Path | None:
        if not self.recorder.recording:
            return None
        self.level_timer.stop()
        samples = self.recorder.stop()
        rate = self.recorder.rate
        self._set_checked(self.record_button, False)
        self.record_button.setText("Record")
        self.level.set_level(0.0)
        if len(samples) < rate * 0.2:
            self.record_label.setText("The recording was too short; nothing kept.")
            return None
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        path = self.session.project.path("recordings", f"recording-{stamp}.wav")
        try:
            audio_io.save_wav(path, samples, rate)
        except Exception as exc:  # noqa: BLE001
            show_error(self, exc, "The recording could not be saved")
            return None
        self.record_label.setText(f"Recorded {len(samples) / rate:.1f} s")
        self.load_audio(path, source="recording")
        return path

    def _poll_recorder(self) -> None:
        self.level.set_level(self.recorder.level)
        self.record_label.setText(f"recording {self.recorder.seconds:5.1f} s")

    @staticmethod
    def _set_checked(button: QPushButton, value: bool) -> None:
        blocked = button.blockSignals(True)
        button.setChecked(value)
        button.blockSignals(blocked)

    # ---- typed script --------------------------------------------------------------------------------
    def refresh_voices(self) -> None:
        try:
            voices = jobs.voices()
        except Exception as exc:  # noqa: BLE001  (speaking then names the problem in a dialog)
            log.warning("no voices listed: %s", exc)
            voices = []
        self.script.set_voices(voices)

    def speak(self) -> None:
        """Synthesise the script in a worker; the speech then loads like any audio file."""
        project = self.session.project
        if project is None or self.session.runner.is_running():
            return
        self.stop_playing()
        text, voice, rate = self.script.script(), self.script.voice(), self.script.rate()
        self.script.show_message("Speaking the script...", done=False)
        self.session.runner.start(SPEAK_JOB, lambda: jobs.speak(project, text, voice, rate))
        self.script.set_running(True)

    def _on_spoken(self, result) -> None:
        speech = result.speech
        note = f"; left out (unspeakable): {' '.join(speech.skipped)}" if speech.skipped else ""
        self.script.show_message(f"{speech.duration_s:.1f} s of speech{note}", done=True)
        self.load_audio(result.path, source="script")

    # ---- audio ---------------------------------------------------------------------------------------
    def choose_audio(self) -> None:
        path = choose_file(self, self.session.settings, "audio", "Audio the person will speak", AUDIO_FILTER)
        if path:
            self.load_audio(path)

    def load_audio(self, path: Path, source: str = "file", remember: bool = True) -> bool:
        """Load an audio to dub; ``remember``: put it at the top of the project's takes (False
        when it was chosen from them: the list keeps its order)."""
        try:
            audio = jobs.load_audio(path)
        except Exception as exc:  # noqa: BLE001
            show_error(self, exc, "This audio cannot be used")
            return False
        self.stop_playing()
        self.audio, self.audio_path = audio, Path(path)
        if self.session.project is not None and remember:
            from core.project.takes import add_take

            try:
                add_take(self.session.project, path, len(audio) / jobs.DUB_AUDIO_RATE, source)
            except OSError as exc:
                log.warning("the take list could not be saved: %s", exc)
        self.refresh_takes()
        seconds = len(audio) / jobs.DUB_AUDIO_RATE
        self.audio_label.setText(f"{self.audio_path.name}: {seconds:.1f} s. Drag the edges of the "
                                 "blue band to trim it, or type the times.")
        self.waveform.set_audio(audio, jobs.DUB_AUDIO_RATE)
        self.rebuild_preview()
        self._update_buttons()
        return True

    def refresh_takes(self) -> None:
        """List the project's takes (newest first), the loaded one selected."""
        from core.project.takes import list_takes

        project = self.session.project
        takes = list_takes(project) if project is not None else []
        blocked = self.takes_combo.blockSignals(True)
        self.takes_combo.clear()
        for take in takes:
            self.takes_combo.addItem(take.describe(), take.path)
        if not takes:
            self.takes_combo.addItem("none yet", None)
        current = str(self.audio_path.resolve()) if self.audio_path is not None else None
        self.takes_combo.setCurrentIndex(max(self.takes_combo.findData(current), 0))
        self.takes_combo.setEnabled(bool(takes))
        self.takes_combo.blockSignals(blocked)

    def _on_take_chosen(self, index: int) -> None:
        path = self.takes_combo.itemData(index)
        if path and (self.audio_path is None or str(self.audio_path.resolve()) != path):
            from core.project.takes import list_takes

            source = next((t.source for t in list_takes(self.session.project) if t.path == path), "file")
            self.load_audio(Path(path), source=source, remember=False)

    def trim(self) -> tuple[float, float]:
        return self.waveform.trim() if self.audio is not None else (0.0, 0.0)

    def _on_trim(self, start: float, end: float) -> None:
        self.rebuild_preview()

    def dub_audio_path(self) -> Path:
        """The audio file to dub: the loaded file, or a trimmed copy of it in the project folder."""
        if self.audio is None or self.audio_path is None:
            raise RuntimeError("no audio loaded")
        start, end = self.trim()
        duration = len(self.audio) / jobs.DUB_AUDIO_RATE
        if start <= TRIM_TOLERANCE_S and end >= duration - TRIM_TOLERANCE_S:
            return self.audio_path
        a, b = int(round(start * jobs.DUB_AUDIO_RATE)), int(round(end * jobs.DUB_AUDIO_RATE))
        path = self.session.project.path(
            "audio", f"{self.audio_path.stem}-{int(start * 1000)}-{int(end * 1000)}ms.wav")
        if not path.exists():
            audio_io.save_wav(path, self.audio[a:b], jobs.DUB_AUDIO_RATE)
        return path

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if self.session.project is not None and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        files = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if files and self.session.project is not None:
            event.acceptProposedAction()
            self.load_audio(files[0])

    # ---- preview -------------------------------------------------------------------------------------
    def rebuild_preview(self) -> None:
        project = self.session.project
        if project is None or self.audio is None:
            return
        start, end = self.trim()
        if end - start < 0.1:
            self.preview_label.setText("The trimmed audio is too short to dub.")
            return
        key = (self.audio_path, round(start, 3), round(end, 3), self.session.project.root,
               self._models_version, self.renderer())
        if key == self.preview_key:
            return  # the region re-emits on repaints; nothing changed
        self.stop_playing()
        # the same audio and trim with another setting (the mouth, retrained models): stay on the frame
        same_audio = self.preview_key is not None and self.preview_key[:4] == key[:4]
        self._resume_frame = self.viewer.frame if same_audio else 0
        self.preview, self.preview_key = None, key
        self.frame_cache.clear()
        self.renders.clear()
        self.preview_label.setText("Preparing the preview (loading the models)...")
        try:
            path = self.dub_audio_path()
        except Exception as exc:  # noqa: BLE001
            show_error(self, exc, "The trimmed audio could not be saved")
            return
        renderer = self.renderer()
        self.builder.request(self.preview_key, lambda: jobs.dub_preview(project, path, renderer=renderer))

    def _on_preview_built(self, key, preview) -> None:
        if key != self.preview_key:
            return
        self.preview = preview
        self.viewer.set_frame_count(preview.n_frames, preview.fps)
        from core import lowerface

        mode = getattr(preview, "mode", "")
        label = lowerface.VARIANTS[mode].label.lower() if mode in lowerface.VARIANTS else mode
        self.preview_label.setText(f"{preview.n_frames} frames at {preview.fps:.2f} fps"
                                   + (f", mouth: {label}" if label else "")
                                   + ". Scrub the timeline or press Play.")
        frame = min(getattr(self, "_resume_frame", 0), preview.n_frames - 1)
        self.viewer.set_frame(frame)
        self._request_frame(frame)

    def _on_preview_failed(self, key, exc) -> None:
        if key != self.preview_key:
            return
        message = str(exc) if isinstance(exc, Exception) else "unknown error"
        log.info("no preview: %s", message)
        self.viewer.set_frame_count(0)
        self.viewer.view.clear_image("No preview yet.")
        self.preview_label.setText(f"No preview: {message}")

    def _on_scrub(self, frame: int) -> None:
        if self.preview is not None:
            start, _ = self.trim()
            self.waveform.set_playhead(start + frame / self.preview.fps)
            self._request_frame(frame)
        elif self.clip is not None and self.audio is None:
            self._request_frame(frame)

    def _request_frame(self, frame: int) -> None:
        preview = self.preview if self.preview is not None else self.clip
        cached = self.frame_cache.get((self.preview_key, frame))
        if cached is not None:
            self._show_pair(cached)
            return
        self.renders.request((self.preview_key, frame), lambda: _frame_pair(preview, frame))

    def _on_frame(self, key, pair) -> None:
        preview_key, frame = key
        if preview_key == self.preview_key:
            self.frame_cache.put(key, pair)
            self._show_pair(pair)  # while playing, the newest frame made (slower renders skip frames)

    def _show_pair(self, pair) -> None:
        self.compare_view.set_images(pair.dubbed, pair.source, pair.mouth)

    def _on_frame_failed(self, key, exc) -> None:
        self.stop_playing()
        self.preview_label.setText(f"The preview frame could not be made: {exc}")

    def toggle_play(self) -> None:
        if self.play_timer.isActive():
            self.stop_playing()
        else:
            self.start_playing()

    def start_playing(self) -> None:
        if self.preview is None and self.clip is not None and self.audio is None:
            self.playback.start(self.clip.fps)  # the clip alone, before any audio
            self.play_button.setText("Pause")
            return
        if self.preview is None or self.audio is None:
            return
        frame = 0 if self.viewer.frame >= self.viewer.frame_count - 1 else self.viewer.frame
        start, end = self.trim()
        a = int(round((start + frame / self.preview.fps) * jobs.DUB_AUDIO_RATE))
        b = int(round(end * jobs.DUB_AUDIO_RATE))
        if not self.playback.start(self.preview.fps, self.audio[a:b], jobs.DUB_AUDIO_RATE):
            self.preview_label.setText("No sound output device: playing without sound.")
        self.play_button.setText("Pause")

    def stop_playing(self) -> None:
        self.playback.stop()

    def step(self, delta: int) -> None:
        self.stop_playing()
        self.viewer.step(delta)

    # ---- export --------------------------------------------------------------------------------------
    def export(self) -> None:
        project = self.session.project
        if project is None or self.audio is None or self.session.runner.is_running():
            return
        folder = self.session.settings.last_folder("export")
        out = ask_save_path(self, folder / f"{project.name}-dubbed.mp4")
        if out is None:
            return
        self.session.settings.remember_folder("export", out.parent)
        try:
            audio_path = self.dub_audio_path()
        except Exception as exc:  # noqa: BLE001
            show_error(self, exc, "The trimmed audio could not be saved")
            return
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
        folder = self.session.settings.last_folder("export")
        out = ask_save_path(self, folder / f"{project.name}-{self.audio_path.stem}-dubbed.mp4")
        if out is None:
            return
        self.session.settings.remember_folder("export", out.parent)
        try:
            audio_path = self.dub_audio_path()
        except Exception as exc:  # noqa: BLE001
            show_error(self, exc, "The trimmed audio could not be saved")
            return
        self.export_queue.add(out, audio=audio_path, renderer=self.renderer())

    def _on_progress(self, name: str, record) -> None:
        if name == EXPORT_JOB:
            handle = self.session.runner.jobs.get(name)
            self.export_progress.show_progress(record, handle.elapsed_s if handle else 0.0)
        elif name == SPEAK_JOB:
            self.script.show_progress(record)

    def _on_exported(self, name: str, result) -> None:
        if name == SPEAK_JOB:
            self._on_spoken(result)
        if name != EXPORT_JOB:
            return
        self.last_export = Path(getattr(result, "out", "")) if getattr(result, "out", None) else None
        self.export_progress.show_message(
            result.describe().splitlines()[0] if hasattr(result, "describe") else "Exported.", done=True)
        self._update_buttons()

    def _on_export_failed(self, name: str, exc) -> None:
        if name == EXPORT_JOB:
            self.export_progress.show_message("Export failed.", done=False)
            show_error(self, exc, "Export failed")
        elif name == SPEAK_JOB:
            self.script.show_message("The script was not spoken.", done=False)
            show_error(self, exc, "The script could not be spoken")

    def _on_export_cancelled(self, name: str) -> None:
        if name == EXPORT_JOB:
            self.export_progress.show_message("Export cancelled; no file was written.", done=False)
        elif name == SPEAK_JOB:
            self.script.show_message("Speaking cancelled; the audio is unchanged.", done=False)

    def _on_stopped(self, name: str) -> None:
        if name == EXPORT_JOB:
            self.export_progress.set_running(False)
            self._update_buttons()
        elif name == SPEAK_JOB:
            self.script.set_running(False)
            self._update_buttons()

    # ---- state ---------------------------------------------------------------------------------------
    def _reveal_export(self) -> None:
        if self.last_export is not None and not reveal(self.last_export):
            show_error(self, OSError(f"no file manager opened the folder; the video is {self.last_export}"),
                       "Show in folder")

    def renderer(self) -> str | None:
        """The lower-face variant chosen (None: the default)."""
        return self.renderer_choice.currentData()

    def refresh_renderers(self, advise: bool = False) -> None:
        """List the registry's variants; those this project cannot dub with yet are greyed out and
        say why. Keeps the choice where it can; with ``advise`` (a project just opened), chooses the
        variant the project's own measurements found best, and says so."""
        from core import lowerface
        from core.lowerface.advice import advice_for

        project = self.session.project
        current = self.renderer_choice.currentData() if self.renderer_choice.count() else None
        advice = advice_for(project) if project is not None else None
        self.advice_label.setText(advice.describe() if advice else "")
        if advise:
            current = advice.variant if advice else None
        self.renderer_choice.blockSignals(True)
        self.renderer_choice.clear()
        model = self.renderer_choice.model()
        for name, variant in lowerface.VARIANTS.items():
            reason = variant.ready(project) if project is not None else ""
            self.renderer_choice.addItem(variant.label, name)
            row = self.renderer_choice.count() - 1
            self.renderer_choice.setItemData(row, variant.summary + (f"\nNot available: {reason}." if reason else ""),
                                             Qt.ItemDataRole.ToolTipRole)
            if reason:
                model.item(row).setEnabled(False)
        keep = self.renderer_choice.findData(current or lowerface.DEFAULT)
        if keep < 0 or not model.item(keep).isEnabled():
            keep = self.renderer_choice.findData(lowerface.DEFAULT)
        self.renderer_choice.setCurrentIndex(max(keep, 0))
        self.renderer_choice.blockSignals(False)

    def _on_project(self, project) -> None:
        self.stop_playing()
        self.preview = None
        self.preview_key = None
        self._models_version += 1
        self.refresh_renderers(advise=True)
        # nothing of the previous project stays on screen: its audio, export result and script status
        self.audio, self.audio_path, self.last_export = None, None, None
        self.waveform.clear_audio()
        self.audio_label.setText(NO_AUDIO_TEXT)
        self.refresh_takes()
        self._update_buttons()
        self.export_progress.show_message("", done=False)
        self.script.show_message("", done=False)
        self.show_clip(project)
        self._update_buttons()

    def show_clip(self, project) -> None:
        """Until audio is loaded the preview shows the video itself (scrub it, play it silently)."""
        self.clip = None
        self.frame_cache.clear()  # the last project's clip frames were kept under the same keys
        self.renders.clear()
        if project is not None:
            try:
                self.clip = ClipFrames(project)
            except Exception as exc:  # noqa: BLE001 (a moved video: the bar above the pages says so)
                log.info("the clip cannot be shown: %s", exc)
        if self.clip is None:
            self.viewer.set_frame_count(0)
            self.viewer.view.clear_image("Load audio to preview the dubbed video.")
            return
        self.viewer.set_frame_count(self.clip.n_frames, self.clip.fps)
        self.preview_label.setText("The video as it is: load, record or speak audio to preview the dub.")
        self.viewer.set_frame(0)
        self._request_frame(0)

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
