"""Shows a numpy RGB image scaled to fit, keeping its aspect ratio."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QLabel, QSizePolicy


def to_qimage(image: np.ndarray) -> QImage:
    """uint8 (H, W, 3) RGB or (H, W) gray -> a QImage that owns a copy of the pixels."""
    if image.dtype != np.uint8 or image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] != 3):
        raise ValueError(f"expected uint8 (H, W, 3) or (H, W), got {image.dtype} {image.shape}")
    image = np.ascontiguousarray(image)
    h, w = image.shape[:2]
    fmt = QImage.Format.Format_RGB888 if image.ndim == 3 else QImage.Format.Format_Grayscale8
    return QImage(image.data, w, h, image.strides[0], fmt).copy()


class ImageView(QLabel):
    """A label that shows the last image given to ``set_image``, scaled to its size."""

    def __init__(self, placeholder: str = "", parent=None) -> None:
        super().__init__(placeholder, parent)
        self.placeholder = placeholder
        self.setWordWrap(True)  # the placeholder wraps instead of being cut at both edges
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(QSize(160, 160))
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setObjectName("imageView")
        self._pixmap: QPixmap | None = None
        self.array: np.ndarray | None = None

    def set_image(self, image: np.ndarray | None) -> None:
        self.array = image
        self._pixmap = None if image is None else QPixmap.fromImage(to_qimage(image))
        self._rescale()

    def clear_image(self, placeholder: str = "") -> None:
        self.array, self._pixmap = None, None
        self.setPixmap(QPixmap())
        self.setText(placeholder)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        self._rescale()

    def _rescale(self) -> None:
        if self._pixmap is None:
            return
        self.setPixmap(self._pixmap.scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                           Qt.TransformationMode.SmoothTransformation))
