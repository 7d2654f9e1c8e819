"""An image with a timeline scrubber: frame slider, step buttons, and the time of the frame."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QStyle, QStyleOptionSlider, QToolButton, QVBoxLayout, QWidget

from app.widgets.image_view import ImageView


class SeekSlider(QSlider):
    """A slider that jumps to where it is clicked (a plain QSlider steps a page toward the click),
    then drags from there."""

    def mousePressEvent(self, event) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton and self.maximum() > self.minimum():
            option = QStyleOptionSlider()
            self.initStyleOption(option)
            handle = self.style().subControlRect(QStyle.ComplexControl.CC_Slider, option,
                                                 QStyle.SubControl.SC_SliderHandle, self)
            if not handle.contains(event.position().toPoint()):
                span = max(self.width() - handle.width(), 1)
                x = int(event.position().x() - handle.width() / 2)
                self.setValue(QStyle.sliderValueFromPosition(self.minimum(), self.maximum(), x, span,
                                                             option.upsideDown))
        super().mousePressEvent(event)


class FrameViewer(QWidget):
    """Emits ``frame_changed(i)`` when the user (or ``set_frame``/``step``) moves to frame i.

    The owner answers by calling ``show_image`` with that frame's picture (possibly later).
    """

    frame_changed = Signal(int)

    def __init__(self, placeholder: str = "", parent=None, view: QWidget | None = None) -> None:
        """view: the picture widget (set_image, clear_image, array); an ImageView by default."""
        super().__init__(parent)
        self.fps = 25.0
        self._count = 0  # not slider.isEnabled(): that is False while the whole page is disabled
        self.view = view if view is not None else ImageView(placeholder)
        self.slider = SeekSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("scrubber")
        self.slider.setRange(0, 0)
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space and arrows stay window shortcuts
        self.back = QToolButton(text="\u25c0")
        self.back.setToolTip("Previous frame (Left)")
        self.forward = QToolButton(text="\u25b6")
        self.forward.setToolTip("Next frame (Right)")
        self.label = QLabel("")
        self.label.setMinimumWidth(170)
        self.label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

        bar = QHBoxLayout()
        bar.addWidget(self.back)
        bar.addWidget(self.slider, 1)
        bar.addWidget(self.forward)
        bar.addWidget(self.label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addLayout(bar)

        self.slider.valueChanged.connect(self._on_value)
        self.back.clicked.connect(lambda: self.step(-1))
        self.forward.clicked.connect(lambda: self.step(1))
        self.set_frame_count(0)

    @property
    def frame(self) -> int:
        return self.slider.value()

    @property
    def frame_count(self) -> int:
        return self._count

    def set_frame_count(self, n: int, fps: float | None = None) -> None:
        if fps:
            self.fps = float(fps)
        self._count = max(int(n), 0)
        blocker = self.slider.blockSignals(True)
        self.slider.setRange(0, max(n - 1, 0))
        self.slider.blockSignals(blocker)
        self.slider.setEnabled(n > 0)
        for button, tip in ((self.back, "Previous frame (Left)"), (self.forward, "Next frame (Right)")):
            button.setEnabled(n > 0)
            button.setToolTip(tip if n > 0 else "No frames to show yet")
        self._update_label()

    def set_frame(self, index: int) -> None:
        self.slider.setValue(int(index))

    def step(self, delta: int) -> None:
        if self._count:
            self.slider.setValue(min(max(self.slider.value() + delta, 0), self.slider.maximum()))

    def show_image(self, image: np.ndarray | None) -> None:
        self.view.set_image(image)

    def _on_value(self, value: int) -> None:
        self._update_label()
        self.frame_changed.emit(value)

    def _update_label(self) -> None:
        if not self._count:
            self.label.setText("no frames")
            return
        i, n = self.slider.value(), self.slider.maximum() + 1
        self.label.setText(f"frame {i + 1} / {n}   {i / self.fps:6.2f} s")
