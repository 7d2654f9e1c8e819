"""Words for people: a finished job says how long it took (not "remaining --:--"), and the loss
legends name what each curve measures instead of the trainers' keys."""

from __future__ import annotations

from app.widgets.loss_plot import LossPlot
from app.widgets.progress_panel import ProgressPanel
from core.jobs import Progress


def test_a_finished_job_says_how_long_it_took(qtbot):
    panel = ProgressPanel()
    qtbot.addWidget(panel)
    panel.show_progress(Progress(fraction=0.5, stage="Training", eta_s=9.0, step=5, total=10), 65.0)
    assert "remaining 00:09" in panel.times.text()
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
