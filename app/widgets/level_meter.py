"""A horizontal input level meter in dBFS, for the microphone."""

from __future__ import annotations

import math

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget

FLOOR_DB = -60.0


def level_to_fraction(rms: float) -> float:
    """RMS amplitude (full scale 1.0) -> 0..1 along a -60..0 dBFS scale."""
    if rms <= 0:
        return 0.0
    db = 20 * math.log10(rms)
    return min(max((db - FLOOR_DB) / -FLOOR_DB, 0.0), 1.0)


class LevelMeter(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("levelMeter")
        self.fraction = 0.0
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMaximumWidth(260)
        self.setToolTip("Microphone level (-60 to 0 dBFS); keep speech in the green")

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(200, 14)

    def set_level(self, rms: float) -> None:
        self.fraction = level_to_fraction(rms)
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        rect = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        painter.setPen(QColor("#555"))
        painter.setBrush(QColor("#222"))
        painter.drawRoundedRect(rect, 3, 3)
        width = rect.width() * self.fraction
        color = "#5cc46b" if self.fraction < 0.8 else "#e0c341" if self.fraction < 0.95 else "#e05c4e"
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(color))
        painter.drawRoundedRect(QRectF(rect.left(), rect.top(), width, rect.height()), 3, 3)
        painter.end()
