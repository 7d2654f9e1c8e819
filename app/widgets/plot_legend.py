"""A plot's legend in its own row under the axis, never over the curves."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt

LEGEND_ROW = 4  # PlotItem's grid: 0 title, 1 top axis, 2 view, 3 bottom axis


class RowLegend(pg.LegendItem):
    """A LegendItem placed by its plot's layout: it asks for the height of its rows (LegendItem
    itself moves to (0, 0) of its parent whenever an entry is added)."""

    def updateSize(self) -> None:  # noqa: N802
        self.layout.setContentsMargins(4, 0, 4, 0)
        height = self.layout.effectiveSizeHint(Qt.SizeHint.PreferredSize).height()
        self.setMinimumHeight(height)
        self.setMaximumHeight(height)
        self.updateGeometry()


def legend_below(plot: pg.PlotWidget, columns: int = 3, text_size: str = "8pt") -> pg.LegendItem:
    """Give ``plot`` a legend laid out under its bottom axis in ``columns`` columns; curves plotted
    with a ``name`` join it as with addLegend. Returns the legend."""
    item = plot.getPlotItem()
    legend = RowLegend(offset=None, colCount=columns, labelTextSize=text_size, frame=False)
    item.layout.addItem(legend, LEGEND_ROW, 1)
    item.legend = legend  # PlotItem.addItem adds named curves to .legend
    return legend
