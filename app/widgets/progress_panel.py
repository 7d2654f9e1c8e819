"""Progress of one job: stage text, a bar, elapsed and remaining time, cancel (and pause) buttons."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from app.eta import RateEta
from core.jobs import Progress, format_eta

MEASURING = "measuring..."


class ProgressPanel(QWidget):
    cancel_requested = Signal()
    pause_requested = Signal(bool)  # True: pause, False: resume

    def __init__(self, pausable: bool = False, parent=None) -> None:
        super().__init__(parent)
        self.stage = QLabel("")
        self.stage.setObjectName("stageLabel")
        self.stage.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(True)
        self.times = QLabel("")
        self.times.setObjectName("timesLabel")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setCheckable(True)
        self.pause_button.setVisible(pausable)
        self.cancel_button = QPushButton("Cancel")
        row = QHBoxLayout()
        row.addWidget(self.bar, 1)
        row.addWidget(self.pause_button)
        row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stage)
        layout.addLayout(row)
        layout.addWidget(self.times)
        self.eta = RateEta()
        self._elapsed = None
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.pause_button.toggled.connect(self._on_pause)
        self.set_running(False)

    def set_running(self, running: bool) -> None:
        self.cancel_button.setEnabled(running)
        self.pause_button.setEnabled(running)
        self.cancel_button.setToolTip("Stop the job (finished work is kept)" if running else "Nothing is running")
        self.pause_button.setToolTip("Hold the job between two steps" if running else "Nothing is running")
        if running:
            self.eta.reset()
        else:
            if self.times.text().startswith("elapsed"):  # stopped without a closing line: no "remaining"
                self.times.setText(f"ran {format_eta(self._elapsed)}" if self._elapsed else "")
            self._elapsed = None
            blocked = self.pause_button.blockSignals(True)
            self.pause_button.setChecked(False)
            self.pause_button.setText("Pause")
            self.pause_button.blockSignals(blocked)

    def show_progress(self, record: Progress, elapsed_s: float) -> None:
        text = record.stage
        if record.step is not None and record.total:
            text += f"  ({record.step} / {record.total})"
        if record.message:
            text += f"  {record.message}"
        self.stage.setText(text)
        if record.fraction is None:
            self.bar.setRange(0, 0)  # busy indicator
        else:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(round(1000 * min(max(record.fraction, 0.0), 1.0))))
        self.bar.setFormat(f"{(record.fraction or 0) * 100:.0f} %")
        self._elapsed = elapsed_s
        self.eta.update(record.fraction)
        left = self.eta.remaining_s()
        self.times.setText(f"elapsed {format_eta(elapsed_s)}   remaining "
                           + (format_eta(left) if left is not None else MEASURING))

    def show_message(self, text: str, done: bool | None = None) -> None:
        """A closing line; ``done`` True fills the bar (and says how long the job took), False
        empties it, None leaves it."""
        self.stage.setText(text)
        if done is not None:
            elapsed = self._elapsed
            self.times.setText(f"took {format_eta(elapsed)}" if done and elapsed else "")
            self._elapsed = None
            self.eta.reset()
            self.bar.setRange(0, 1000)
            self.bar.setValue(1000 if done else 0)
            self.bar.setFormat("100 %" if done else "")

    def _on_pause(self, paused: bool) -> None:
        self.pause_button.setText("Resume" if paused else "Pause")
        self.pause_requested.emit(paused)
