"""Words for people: a finished job says how long it took (not "remaining --:--"), and the loss
legends name what each curve measures instead of the trainers' keys."""

from __future__ import annotations

from app.widgets.loss_plot import LossPlot
from app.widgets.progress_panel import ProgressPanel
from core.jobs import Progress


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_remaining_time_comes_from_the_measured_rate(qtbot):
    """As Measure quality ran: a stage's own guess said 00:09 while the whole job took 56 s."""
    panel = ProgressPanel()
    qtbot.addWidget(panel)
    clock = panel.eta.clock = FakeClock()
    panel.set_running(True)
    panel.show_progress(Progress(fraction=0.05, stage="Dubbing held-out frames", eta_s=9.0), 3.0)
    assert "remaining measuring..." in panel.times.text()  # no guess before a rate is measured
    clock.now += 20.0
    panel.show_progress(Progress(fraction=0.25, stage="Dubbing held-out frames", eta_s=9.0), 23.0)
    assert "remaining 01:15" in panel.times.text()  # 0.2 of the job in 20 s: 0.75 more in 75 s
    clock.now += 30.0
    panel.show_progress(Progress(fraction=0.55, stage="Measuring", eta_s=2.0), 53.0)
    assert "remaining 00:45" in panel.times.text()
    # cancelled (a closing line without done): the line no longer says "remaining"
    panel.show_message("Cancelled.")
    panel.set_running(False)
    assert "remaining" not in panel.times.text() and panel.times.text() == "ran 00:53"
    # the next run measures afresh
    panel.set_running(True)
    panel.show_progress(Progress(fraction=0.1, stage="Again", eta_s=1.0), 1.0)
    assert "measuring..." in panel.times.text()


def test_a_finished_job_says_how_long_it_took(qtbot):
    panel = ProgressPanel()
    qtbot.addWidget(panel)
    panel.show_progress(Progress(fraction=0.5, stage="Training", eta_s=9.0, step=5, total=10), 65.0)
    assert "remaining" in panel.times.text()
    panel.show_message("Audio model trained.", done=True)
    assert panel.times.text() == "took 01:05" and panel.bar.value() == 1000
    panel.show_message("", done=False)  # reset: nothing of the last run stays
    assert panel.times.text() == "" and panel.bar.value() == 0


def test_loss_legends_use_plain_names(qtbot):
    plot = LossPlot("Renderer losses")
    qtbot.addWidget(plot)
    plot.add_point(1, {"d": 0.7, "g_gan": 1.2, "l1_255": 8.0})
    plot._redraw.flush() if hasattr(plot._redraw, "flush") else None
    qtbot.waitUntil(lambda: len(plot.curves) == 3, timeout=3000)
    names = {item.name() for item in plot.listDataItems()}
    assert names == {"discriminator", "realism", "pixel error (of 255)"}
    assert set(plot.data) == {"d", "g_gan", "l1_255"}  # the stored series keep the trainers' keys


def test_legends_sit_outside_the_curves(qtbot):
    """The legend is laid out under the axis: its box never overlaps the area the curves are drawn in."""
    import numpy as np
    import pyqtgraph as pg

    from app.widgets.plot_legend import legend_below

    plot = LossPlot("Renderer losses")
    qtbot.addWidget(plot)
    plot.resize(420, 260)
    plot.show()
    for step in range(1, 40):
        plot.add_point(step, {"d": 0.7, "g_gan": 1.2 / step, "l1_255": 8.0 / step, "val_l1_255": 9.0 / step})
    qtbot.waitUntil(lambda: len(plot.curves) == 4, timeout=3000)
    opening = pg.PlotWidget()
    qtbot.addWidget(opening)
    opening.resize(420, 260)
    opening.show()
    legend_below(opening, columns=4)
    for name in ("real", "own mouth", "draft"):
        opening.plot(np.arange(50.0), np.random.default_rng(0).random(50), name=name)
    for widget in (plot, opening):
        item = widget.getPlotItem()
        qtbot.waitUntil(lambda: item.legend.sceneBoundingRect().height() > 0, timeout=3000)
        legend, view = item.legend.sceneBoundingRect(), item.vb.sceneBoundingRect()
        assert len(item.legend.items) == len(item.listDataItems())  # every curve named
        assert not legend.intersects(view), (legend, view)
        assert legend.top() >= view.bottom()  # below the curves
        for sample, label in item.legend.items:  # every name drawn whole inside the widget
            assert widget.rect().contains(label.sceneBoundingRect().toRect().adjusted(2, 3, -2, -3))  # its padding may touch the edge
        assert view.height() > 100  # the curves keep most of the room
