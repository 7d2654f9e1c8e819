"""A script to speak: the text, a voice, a speaking rate, Speak (Cancel while it runs) and a one-line
progress (a script takes seconds: no times, no pause)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QPlainTextEdit,
                               QProgressBar, QPushButton, QVBoxLayout, QWidget)

from core.jobs import Progress

VOICE_FILE_ITEM = "Voice file..."
MIN_RATE, MAX_RATE = 0.5, 2.0  # core.tts accepts 0.25-4; beyond this range speech is hard to follow


def ask_voice_file(parent) -> Path | None:
    """A Piper .onnx voice the user picks (tests replace this); the dialog opens in the folder last
    used for voices (``parent.settings``, app.settings.AppSettings)."""
    from app.dialogs import choose_file

    return choose_file(parent, getattr(parent, "settings", None), "voice",
                       "A Piper voice (.onnx, with its .onnx.json beside it)", "Piper voice (*.onnx);;All files (*)")


class ScriptEditor(QWidget):
    """``speak_requested()`` when the user asks to hear the script, ``cancel_requested()`` when they
    stop it; the page runs the job and reports on it with set_running, show_progress and
    show_message. The voice is a name the core knows or the path of a .onnx file."""

    speak_requested = Signal()
    cancel_requested = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.text = QPlainTextEdit()
        self.text.setObjectName("scriptText")
        self.text.setPlaceholderText("Or type what the person should say, then press Speak.")
        self.text.setToolTip("Edit the text and speak again until it sounds right")
        self.text.setTabChangesFocus(True)
        line = self.text.fontMetrics().lineSpacing()
        self.text.setFixedHeight(3 * line + 14)  # three lines: the rest scrolls
        self.voice_combo = QComboBox()
        self.voice_combo.setToolTip("The offline voice that reads the script. Add Piper voices (.onnx "
                                    "with .onnx.json) to your voices folder, or pick a file.")
        self.voice_combo.setMinimumContentsLength(16)
        self.voice_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.voice_combo.activated.connect(self._on_voice_activated)
        self.rate_spin = QDoubleSpinBox()
        self.rate_spin.setRange(MIN_RATE, MAX_RATE)
        self.rate_spin.setSingleStep(0.05)
        self.rate_spin.setValue(1.0)
        self.rate_spin.setSuffix(" x")
        self.rate_spin.setToolTip("Speaking rate: 1 is the voice's own pace, 1.2 a fifth faster")
        self.speak_button = QPushButton("Speak")
        self.speak_button.setToolTip("Synthesise the script and load it as the audio to dub")
        self.speak_button.clicked.connect(self._on_speak_clicked)
        self.bar = QProgressBar()  # its text is the status line: progress, then what came out
        self.bar.setObjectName("scriptProgress")
        self.bar.setRange(0, 1000)
        self.bar.setValue(0)
        self.bar.setFormat("")
        self._running = False

        rate_row = QHBoxLayout()
        rate_row.addWidget(QLabel("Rate"))
        rate_row.addWidget(self.rate_spin)
        rate_row.addStretch(1)
        rate_row.addWidget(self.speak_button)
        controls = QVBoxLayout()
        controls.setSpacing(4)
        voice_row = QHBoxLayout()
        voice_row.addWidget(QLabel("Voice"))
        voice_row.addWidget(self.voice_combo, 1)
        controls.addLayout(voice_row)
        controls.addLayout(rate_row)
        controls.addWidget(self.bar)
        controls_box = QWidget()
        controls_box.setLayout(controls)
        controls.setContentsMargins(0, 0, 0, 0)
        controls_box.setFixedWidth(280)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.text, 1)
        layout.addWidget(controls_box)
        self._last_voice = 0

    def script(self) -> str:
        return self.text.toPlainText()

    def rate(self) -> float:
        return float(self.rate_spin.value())

    def voice(self) -> str:
        """The chosen voice: a name from core.tts.list_voices() or a .onnx path."""
        return str(self.voice_combo.currentData() or "")

    def set_voices(self, voices) -> None:
        """Fill the picker from core.tts.Voice objects (name, label, builtin, model_path), keeping the
        current choice when it is still there, and picked voice files."""
        current = self.voice()
        files = [self.voice_combo.itemData(i) for i in range(self.voice_combo.count())
                 if str(self.voice_combo.itemData(i) or "").lower().endswith(".onnx")]
        self.voice_combo.clear()
        for v in voices:
            self.voice_combo.addItem(v.name, v.name if v.builtin else str(v.model_path))
            self.voice_combo.setItemData(self.voice_combo.count() - 1, v.label, Qt.ItemDataRole.ToolTipRole)
        for path in files:
            if self.voice_combo.findData(path) < 0:
                self.voice_combo.addItem(Path(path).name, path)
        self.voice_combo.addItem(VOICE_FILE_ITEM, None)
        index = self.voice_combo.findData(current) if current else -1
        self._select(max(index, 0))

    def add_voice_file(self, path: Path) -> None:
        """Offer (and choose) a voice file; whether it works is found out when it speaks."""
        key = str(path)
        index = self.voice_combo.findData(key)
        if index < 0:
            index = self.voice_combo.count() - 1  # before "Voice file..."
            self.voice_combo.insertItem(index, Path(path).name, key)
            self.voice_combo.setItemData(index, key, Qt.ItemDataRole.ToolTipRole)
        self._select(index)

    def set_running(self, running: bool) -> None:
        """While a script is spoken the Speak button cancels it."""
        self._running = running
        self.speak_button.setText("Cancel" if running else "Speak")
        self.speak_button.setEnabled(True)

    def show_progress(self, record: Progress) -> None:
        self.bar.setValue(int(round(1000 * min(max(record.fraction or 0.0, 0.0), 1.0))))
        self._say(record.stage + (f": {record.message}" if record.message else ""))

    def show_message(self, text: str, done: bool | None = None) -> None:
        if done is not None:
            self.bar.setValue(1000 if done else 0)
        self._say(text)

    def status(self) -> str:
        """The whole status line (the bar shows what fits)."""
        return self.bar.toolTip()

    def _say(self, text: str) -> None:
        self.bar.setToolTip(text)
        width = max(self.bar.width() - 12, 100)
        self.bar.setFormat(self.bar.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, width))

    def _on_speak_clicked(self) -> None:
        (self.cancel_requested if self._running else self.speak_requested).emit()

    def _select(self, index: int) -> None:
        self.voice_combo.setCurrentIndex(index)
        self._last_voice = index

    def _on_voice_activated(self, index: int) -> None:
        if self.voice_combo.itemText(index) != VOICE_FILE_ITEM or self.voice_combo.itemData(index):
            self._last_voice = index
            return
        path = ask_voice_file(self)
        if path is None:
            self.voice_combo.setCurrentIndex(self._last_voice)
        else:
            self.add_voice_file(path)
