"""The waveform of the dub audio with trim handles (LinearRegionItem) and a playhead."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal

MAX_POINTS = 4000  # the envelope drawn: min/max pairs per column
MIN_TRIM_S = 0.1  # the shortest trim the handles and the typed times allow
HANDLE_PEN = pg.mkPen("#2f6fc0", width=3)
HANDLE_HOVER_PEN = pg.mkPen("#f1884e", width=5)
HANDLE_MARKER_PX = 12  # the grip drawn on each handle; it also widens where a press catches it


def envelope(samples: np.ndarray, rate: int, columns: int = MAX_POINTS // 2) -> tuple[np.ndarray, np.ndarray]:
    """(times, values) of a min/max envelope: 2*columns points drawn as one line, cheap for hours."""
    n = len(samples)
    if n == 0:
        return np.zeros(0), np.zeros(0)
    columns = max(1, min(columns, n))
    edges = np.linspace(0, n, columns + 1).astype(np.int64)
    lo = np.minimum.reduceat(samples, edges[:-1])
    hi = np.maximum.reduceat(samples, edges[:-1])
    times = np.repeat(edges[:-1] / rate, 2)
    values = np.empty(2 * columns, np.float32)
    values[0::2], values[1::2] = lo, hi
    return times, values


class Waveform(pg.PlotWidget):
    """``trim_changed(start_s, end_s)`` when the user drags a trim handle (or the trim is typed);
    ``audio_changed()`` when audio is set or cleared."""

    trim_changed = Signal(float, float)
    audio_changed = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent=parent)
        self.setObjectName("waveform")
        self.setBackground(None)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.setMenuEnabled(False)
        self.getPlotItem().hideAxis("left")
        self.setLabel("bottom", "seconds")
        self.setYRange(-1, 1)
        self.setMinimumHeight(100)
        self.setMaximumHeight(140)
        self.setXRange(0, 10, padding=0)
        self.duration = 0.0
        self.curve = self.plot(pen=pg.mkPen("#4e9af1", width=1))
        self.region = pg.LinearRegionItem(values=(0, 0), brush=pg.mkBrush(78, 154, 241, 40),
                                          pen=HANDLE_PEN, hoverPen=HANDLE_HOVER_PEN)
        self.region.setZValue(10)
        self.region.setToolTip("Drag the edges to trim the audio")
        for line in self.region.lines:  # grips at both ends, easy to see and to catch
            line.addMarker("|>" if line is self.region.lines[0] else "<|", position=0.12, size=HANDLE_MARKER_PX)
            line.addMarker("|>" if line is self.region.lines[0] else "<|", position=0.88, size=HANDLE_MARKER_PX)
            line.setToolTip("Drag to trim the audio (or type the time below)")
        self.addItem(self.region)
        self.playhead = pg.InfiniteLine(0, angle=90, pen=pg.mkPen("#f1884e", width=2))
        self.addItem(self.playhead)
        self.region.sigRegionChangeFinished.connect(self._on_region)
        self.region.hide()

    def set_audio(self, samples: np.ndarray, rate: int) -> None:
        self.duration = len(samples) / rate
        times, values = envelope(samples, rate)
        self.curve.setData(times, values)
        self.setXRange(0, max(self.duration, 0.01), padding=0.01)
        self.region.setBounds((0, self.duration))
        self.region.setRegion((0, self.duration))
        self.region.show()
        self.audio_changed.emit()

    def clear_audio(self) -> None:
        self.duration = 0.0
        self.curve.setData([], [])
        self.region.hide()
        self.setXRange(0, 10, padding=0)
        self.audio_changed.emit()

    def trim(self) -> tuple[float, float]:
        start, end = self.region.getRegion()
        return float(max(start, 0.0)), float(min(end, self.duration))

    def set_trim(self, start: float, end: float) -> None:
        self.region.setRegion((start, end))  # emits sigRegionChangeFinished -> trim_changed

    def set_playhead(self, seconds: float) -> None:
        self.playhead.setValue(seconds)

    def _on_region(self) -> None:
        self.trim_changed.emit(*self.trim())
