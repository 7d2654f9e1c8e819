"""The trim of the dub audio as numbers: in and out times in seconds, typed or stepped, kept in
step with the waveform's handles both ways."""

from __future__ import annotations

from PySide6.QtWidgets import QDoubleSpinBox, QHBoxLayout, QLabel, QWidget

from app.widgets.waveform import MIN_TRIM_S, Waveform


def _seconds_box(name: str, tip: str) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setObjectName(name)
    box.setDecimals(2)
    box.setSingleStep(0.1)
    box.setSuffix(" s")
    box.setKeyboardTracking(False)  # typing "12.5" trims once, at Enter or on leaving the box
    box.setToolTip(tip)
    return box


class TrimTimes(QWidget):
    """In and out spin boxes for ``waveform``'s trim."""

    def __init__(self, waveform: Waveform, parent=None) -> None:
        super().__init__(parent)
        self.waveform = waveform
        self.in_box = _seconds_box("trimIn", "Where the dub starts in the audio, in seconds")
        self.out_box = _seconds_box("trimOut", "Where the dub ends in the audio, in seconds")
        self.length = QLabel("")
        self.length.setObjectName("trimLength")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("In:"))
        row.addWidget(self.in_box)
        row.addWidget(QLabel("Out:"))
        row.addWidget(self.out_box)
        row.addWidget(self.length, 1)
        self.in_box.valueChanged.connect(self._on_typed)
        self.out_box.valueChanged.connect(self._on_typed)
        waveform.region.sigRegionChanged.connect(self.show_trim)  # live while a handle is dragged
        waveform.audio_changed.connect(self.show_trim)
        self.show_trim()

    def show_trim(self, *_) -> None:
        duration = self.waveform.duration
        start, end = self.waveform.trim() if duration else (0.0, 0.0)
        for box, value in ((self.in_box, start), (self.out_box, end)):
            blocked = box.blockSignals(True)
            box.setRange(0.0, duration)
            box.setValue(value)
            box.blockSignals(blocked)
            box.setEnabled(duration > 0)
        self.length.setText(f"{end - start:.2f} s of {duration:.2f} s" if duration else "")

    def _on_typed(self, *_) -> None:
        start, end = self.in_box.value(), self.out_box.value()
        if end - start < MIN_TRIM_S:  # typed past the other end: keep the one typed, move the other
            if self.sender() is self.in_box:
                end = min(start + MIN_TRIM_S, self.waveform.duration)
                start = min(start, end - MIN_TRIM_S)
            else:
                start = max(end - MIN_TRIM_S, 0.0)
                end = max(end, start + MIN_TRIM_S)
        self.waveform.set_trim(start, end)
        self.show_trim()
