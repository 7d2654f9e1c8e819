"""The dub preview: the dubbed frame scaled to fill the space (aspect kept), compared with the original.

Before/after: with ``set_compare(True)`` a divider splits the picture, the original frame left of it and
the dubbed one right of it; drag it (or click) to move it. ``hold_original(True)`` (a held button or the
B key) shows the whole original frame until released. ``set_zoom(True)`` shows only the mouth region.
Scaling is smooth when shrinking; when enlarging twofold or more, pixels are drawn as they are (no
blur), so the mouth can be judged.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.widgets.image_view import to_qimage

ZOOM_MARGIN = 0.6    # the mouth box grows by this share of its size on each side
SHARP_FROM_SCALE = 2.0


def mouth_region(box: tuple[float, float, float, float], width: int, height: int) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) integer square around the mouth box, with margin, inside the frame."""
    x0, y0, x1, y1 = box
    side = max(x1 - x0, y1 - y0) * (1 + 2 * ZOOM_MARGIN)
    side = int(min(max(side, 32), width, height))
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    left = int(round(min(max(cx - side / 2, 0), width - side)))
    top = int(round(min(max(cy - side / 2, 0), height - side)))
    return left, top, left + side, top + side


class ComparePreview(QWidget):
    """``split_changed(fraction)`` when the user moves the divider."""

    split_changed = Signal(float)

    def __init__(self, placeholder: str = "", parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("comparePreview")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(QSize(200, 160))
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.placeholder = placeholder
        self.array: np.ndarray | None = None     # the dubbed frame
        self.before: np.ndarray | None = None    # the original frame
        self.mouth_box: tuple[float, float, float, float] | None = None
        self.compare = False
        self.zoom = False
        self.holding = False
        self.split = 0.5
        self._qimage = None
        self._shown: np.ndarray | None = None

    # ---- what to show ------------------------------------------------------------------------------
    def set_image(self, image: np.ndarray | None) -> None:
        self.set_images(image)

    def set_images(self, after: np.ndarray | None, before: np.ndarray | None = None,
                   mouth_box: tuple[float, float, float, float] | None = None) -> None:
        self.array, self.before, self.mouth_box = after, before, mouth_box
        self._update_composite()

    def clear_image(self, placeholder: str | None = None) -> None:
        if placeholder is not None:
            self.placeholder = placeholder
        self.set_images(None)

    def set_compare(self, on: bool) -> None:
        self.compare = bool(on)
        self._update_composite()

    def set_zoom(self, on: bool) -> None:
        self.zoom = bool(on)
        self._update_composite()

    def hold_original(self, on: bool) -> None:
        self.holding = bool(on)
        self._update_composite()

    def set_split(self, fraction: float) -> None:
        self.split = float(min(max(fraction, 0.0), 1.0))
        self._update_composite()
        self.split_changed.emit(self.split)

    @property
    def zoom_available(self) -> bool:
        return self.mouth_box is not None

    def composite(self) -> np.ndarray | None:
        """uint8 (h, w, 3): the picture as shown, before scaling (cropped to the mouth when zoomed)."""
        return self._shown

    def _update_composite(self) -> None:
        after = self.array
        if after is None:
            self._shown, self._qimage = None, None
            self.update()
            return
        before = self.before if self.before is not None and self.before.shape == after.shape else None
        if before is not None and self.holding:
            image = before
        elif before is not None and self.compare:
            cut = int(round(self.split * after.shape[1]))
            image = np.concatenate([before[:, :cut], after[:, cut:]], axis=1)
        else:
            image = after
        if self.zoom and self.mouth_box is not None:
            x0, y0, x1, y1 = mouth_region(self.mouth_box, image.shape[1], image.shape[0])
            image = image[y0:y1, x0:x1]
        self._shown = np.ascontiguousarray(image)
        self._qimage = to_qimage(self._shown)
        self.update()

    # ---- geometry ------------------------------------------------------------------------------------
    def target_rect(self) -> QRectF:
        """Where the picture is drawn: as large as fits, aspect ratio kept, centred."""
        if self._shown is None:
            return QRectF()
        h, w = self._shown.shape[:2]
        scale = min(self.width() / w, self.height() / h)
        tw, th = w * scale, h * scale
        return QRectF((self.width() - tw) / 2, (self.height() - th) / 2, tw, th)

    def _split_x(self, rect: QRectF) -> float | None:
        """The divider's x in widget pixels (it follows the crop when zoomed), or None if off-picture."""
        if self.array is None:
            return None
        cut = self.split * self.array.shape[1]
        if self.zoom and self.mouth_box is not None:
            x0, _, x1, _ = mouth_region(self.mouth_box, self.array.shape[1], self.array.shape[0])
            if not x0 <= cut <= x1:
                return None
            return rect.left() + (cut - x0) / (x1 - x0) * rect.width()
        return rect.left() + self.split * rect.width()

    # ---- painting and mouse ---------------------------------------------------------------------------
    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#111"))
        if self._qimage is None:
            painter.setPen(QColor("#bbb"))
            painter.drawText(self.rect().adjusted(12, 12, -12, -12),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.placeholder)
            painter.end()
            return
        rect = self.target_rect()
        sharp = rect.width() / max(self._shown.shape[1], 1) >= SHARP_FROM_SCALE
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, not sharp)
        painter.drawImage(rect, self._qimage)
        if self.before is not None and self.compare and not self.holding:
            x = self._split_x(rect)
            if x is not None:
                painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
                painter.setPen(QPen(QColor(255, 255, 255, 220), 2))
                painter.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))
                painter.setBrush(QColor(255, 255, 255, 220))
                painter.drawEllipse(QPointF(x, rect.center().y()), 7, 7)
            self._label(painter, rect, "original", left=True)
            self._label(painter, rect, "dubbed", left=False)
        elif self.holding and self.before is not None:
            self._label(painter, rect, "original", left=True)
        painter.end()

    @staticmethod
    def _label(painter: QPainter, rect: QRectF, text: str, left: bool) -> None:
        metrics = painter.fontMetrics()
        w, h = metrics.horizontalAdvance(text) + 12, metrics.height() + 6
        box = QRectF(rect.left() + 8 if left else rect.right() - w - 8, rect.top() + 8, w, h)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 150))
        painter.drawRoundedRect(box, 4, 4)
        painter.setPen(QColor("#fff"))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)

    def _split_from_x(self, x: float) -> None:
        if self.array is None or not self.compare:
            return
        rect = self.target_rect()
        if rect.width() <= 0:
            return
        if self.zoom and self.mouth_box is not None:
            x0, _, x1, _ = mouth_region(self.mouth_box, self.array.shape[1], self.array.shape[0])
            image_x = x0 + (x - rect.left()) / rect.width() * (x1 - x0)
        else:
            image_x = (x - rect.left()) / rect.width() * self.array.shape[1]
        self.set_split(image_x / self.array.shape[1])

    def mousePressEvent(self, event) -> None:  # noqa: N802
        self._split_from_x(event.position().x())

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._split_from_x(event.position().x())

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_B and not event.isAutoRepeat():
            self.hold_original(True)
        else:
            super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_B and not event.isAutoRepeat():
            self.hold_original(False)
        else:
            super().keyReleaseEvent(event)
