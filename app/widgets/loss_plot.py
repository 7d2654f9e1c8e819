"""Live training loss curves (pyqtgraph), one curve per named loss, redrawn at most 10 times a second."""

from __future__ import annotations

import pyqtgraph as pg
from superqt.utils import qthrottled

from app.widgets.plot_legend import legend_below

COLORS = ["#4e9af1", "#f1884e", "#5cc46b", "#d35cc4", "#e0c341", "#56c8d1", "#b0b0b0"]
# what the trainers report, in words for the legend
LABELS = {"d": "discriminator", "g_gan": "realism", "l1": "pixel error (L1 x 100)",
          "l1_255": "pixel error (of 255)", "val_l1_255": "held-out pixel error (of 255)",
          "detail": "detail", "loss": "error", "val_loss": "held-out error",
          "val_mouth_nmse": "held-out mouth error"}


def label(name: str) -> str:
    return LABELS.get(name, name.replace("_", " "))


class LossPlot(pg.PlotWidget):
    """``add_point(step, losses)`` stores the point at once and redraws throttled.

    log_y: a logarithmic loss axis, so losses of different scales (L1 x 100, GAN, errors in /255)
    share one plot; values <= 0 are then left out. skip: figures not drawn (e.g. PSNR, where higher
    is better, would read as a rising loss).
    """

    def __init__(self, title: str = "", log_y: bool = True, skip: tuple[str, ...] = (), parent=None) -> None:
        super().__init__(parent=parent, title=title)
        self.log_y, self.skip = log_y, set(skip)
        self.setLogMode(y=log_y)
        self.setObjectName("lossPlot")
        self.setBackground(None)
        self.showGrid(x=True, y=True, alpha=0.25)
        self.setLabel("bottom", "step")
        self.setLabel("left", "loss")
        legend_below(self, columns=2)
        self.setMinimumHeight(180)
        self.data: dict[str, tuple[list[float], list[float]]] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}

    def add_point(self, step: float, losses: dict[str, float]) -> None:
        for name, value in losses.items():
            if name in self.skip:
                continue
            try:
                value = float(value)
            except (TypeError, ValueError):
                continue
            if value != value or (self.log_y and value <= 0):  # NaN, or not drawable on a log axis
                continue
            xs, ys = self.data.setdefault(name, ([], []))
            xs.append(float(step))
            ys.append(value)
        self._redraw()

    def point_count(self) -> int:
        return sum(len(xs) for xs, _ in self.data.values())

    def clear_points(self) -> None:
        self.data.clear()
        for curve in self.curves.values():
            self.removeItem(curve)
        self.curves.clear()
        self.plotItem.legend.clear()

    @qthrottled(timeout=100)
    def _redraw(self) -> None:
        for name, (xs, ys) in self.data.items():
            curve = self.curves.get(name)
            if curve is None:
                color = COLORS[len(self.curves) % len(COLORS)]
                curve = self.plot(name=label(name), pen=pg.mkPen(color, width=2))
                self.curves[name] = curve
            # Figures reported rarely (validation) would be invisible as a line of one point.
            sparse = len(xs) < 30
            curve.setData(xs, ys, symbol="o" if sparse else None, symbolSize=5,
                          symbolBrush=curve.opts["pen"].color(), symbolPen=None)
