"""The readiness report as pictures: head yaw and pitch, and mouth opening, over the clip's time, with
the frames without a face shaded; clicking a plot asks to show that frame (``frame_clicked(i)``)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

NO_FACE_BRUSH = (224, 92, 78, 70)
POSE_TITLE = "Head turn, degrees"
POSE_CURVES = (("yaw", "#4e9af1"), ("pitch", "#5cc46b"))


def faceless_spans(has_face: np.ndarray) -> list[tuple[int, int]]:
    """[(first, last + 1)] of each run of frames without a face."""
    missing = np.concatenate([[False], ~has_face.astype(bool), [False]])
    edges = np.flatnonzero(np.diff(missing.astype(np.int8)))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]


class ReadinessPlots(QWidget):
    frame_clicked = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.fps = 25.0
        self.n_frames = 0
        self.pose = self._plot(POSE_TITLE, "deg")
        self.mouth = self._plot("Mouth opening", "gap / face")
        self.mouth.setXLink(self.pose)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pose)
        layout.addWidget(self.mouth)
        self.cursors = [pg.InfiniteLine(angle=90, pen=pg.mkPen("#e0c341", width=1)) for _ in range(2)]
        for plot, cursor in zip((self.pose, self.mouth), self.cursors):
            plot.addItem(cursor)
        self.spans: list[tuple[int, int]] = []

    def _plot(self, title: str, unit: str) -> pg.PlotWidget:
        plot = pg.PlotWidget(title=title)
        plot.setBackground(None)
        plot.showGrid(x=True, y=True, alpha=0.25)
        plot.setLabel("bottom", "seconds")
        plot.setLabel("left", unit)
        plot.getAxis("left").enableAutoSIPrefix(False)
        plot.setMinimumHeight(130)
        plot.setMouseEnabled(x=True, y=False)
        plot.scene().sigMouseClicked.connect(lambda event, p=plot: self._on_click(p, event))
        return plot

    def set_data(self, fps: float, has_face: np.ndarray, mouth_opening: np.ndarray,
                 euler_deg: np.ndarray | None) -> None:
        """has_face bool (N,); mouth_opening float (N,) NaN without a face; euler_deg (N, 3) yaw,
        pitch, roll in degrees, or None before the 3D fit."""
        self.fps, self.n_frames = float(fps or 25.0), int(len(has_face))
        t = np.arange(self.n_frames) / self.fps
        for plot in (self.pose, self.mouth):
            plot.clear()
            if plot.plotItem.legend is not None:
                plot.plotItem.legend.clear()
        self.pose.setTitle(POSE_TITLE)
        if euler_deg is not None and len(euler_deg) == self.n_frames:
            # a small plot: the curves are named in its title, in their colours (no legend over them)
            self.pose.setTitle(POSE_TITLE + ": " + ", ".join(f'<span style="color:{c}">{n}</span>'
                                                              for n, c in POSE_CURVES))
            for k, (name, color) in enumerate(POSE_CURVES):
                values = np.where(has_face, euler_deg[:, k], np.nan).astype(float)
                self.pose.plot(t, values, name=name, pen=pg.mkPen(color, width=2), connect="finite")
        opening = np.where(has_face, mouth_opening, np.nan).astype(float)
        self.mouth.plot(t, opening, pen=pg.mkPen("#f1884e", width=2), connect="finite")
        self.spans = faceless_spans(has_face)
        for plot in (self.pose, self.mouth):
            for a, b in self.spans:
                region = pg.LinearRegionItem((a / self.fps, b / self.fps), movable=False,
                                             brush=pg.mkBrush(*NO_FACE_BRUSH), pen=pg.mkPen(None))
                region.setToolTip("no face found in these frames: they are left untouched")
                plot.addItem(region)
        for plot, cursor in zip((self.pose, self.mouth), self.cursors):
            plot.addItem(cursor)
        self.pose.setXRange(0, max(t[-1] if len(t) else 1.0, 1e-3), padding=0.01)

    def clear(self) -> None:
        for plot in (self.pose, self.mouth):
            plot.clear()
        self.n_frames, self.spans = 0, []

    def set_cursor(self, frame: int) -> None:
        for cursor in self.cursors:
            cursor.setValue(frame / self.fps)

    def frame_at(self, plot: pg.PlotWidget, scene_pos) -> int | None:
        if not self.n_frames or not plot.plotItem.vb.sceneBoundingRect().contains(scene_pos):
            return None
        x = plot.plotItem.vb.mapSceneToView(scene_pos).x()
        return int(min(max(round(x * self.fps), 0), self.n_frames - 1))

    def _on_click(self, plot: pg.PlotWidget, event) -> None:
        frame = self.frame_at(plot, event.scenePos())
        if frame is not None:
            self.frame_clicked.emit(frame)
