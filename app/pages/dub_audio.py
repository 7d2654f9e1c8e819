"""The Dub page's audio part: a file (or a dropped one), the microphone, the project's takes, and the
trim (handles on the waveform and typed times).

A mixin of DubPage (app/pages/dub.py): it keeps ``audio`` (float32 mono at jobs.DUB_AUDIO_RATE) and
``audio_path``; it calls the page's ``rebuild_preview``, ``stop_playing`` and ``_update_buttons``.
"""

from __future__ import annotations

import datetime as _dt
import logging
from pathlib import Path

import numpy as np
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (QComboBox, QGroupBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy,
                               QVBoxLayout)

from app import audio_io, jobs
from app.dialogs import choose_file, show_error
from app.widgets.level_meter import LevelMeter
from app.widgets.trim_times import TrimTimes
from app.widgets.waveform import Waveform

log = logging.getLogger(__name__)

AUDIO_FILTER = ("Audio (*.wav *.mp3 *.m4a *.aac *.flac *.ogg *.opus *.wma *.aiff *.mp4 *.mov *.mkv);;"
                "All files (*)")
TRIM_TOLERANCE_S = 0.01  # a trim closer than this to the ends counts as untrimmed
NO_AUDIO_TEXT = "No audio loaded yet. Load a file, drop one here, record, or type a script."


class DubAudio:
    def _init_audio(self) -> None:
        self.audio: np.ndarray | None = None  # float32 mono at jobs.DUB_AUDIO_RATE
        self.audio_path: Path | None = None
        self.recorder = audio_io.Recorder()
        self.devices: list[audio_io.InputDevice] = []
        self.setAcceptDrops(True)

    def _build_audio_box(self) -> QGroupBox:
        """The audio box, holding the script part's editor."""
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
        self._build_script()  # the script part (dub_script), made here to keep the tab order
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
        self.level_timer = QTimer(self)
        self.level_timer.setInterval(50)
        self.level_timer.timeout.connect(self._poll_recorder)
        return audio_box

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

    def clear_audio(self) -> None:
        """Nothing of the previous project's audio stays."""
        self.audio, self.audio_path = None, None
        self.waveform.clear_audio()
        self.audio_label.setText(NO_AUDIO_TEXT)
        self.refresh_takes()
