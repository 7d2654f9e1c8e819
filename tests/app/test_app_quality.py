"""Quality page: evaluate runs from the app as a job, writes the figures and shows them beside the
paper's, plots the mouth opening over the held-out frames, plays the side-by-side video, and says the
figures are out of date after the renderer trained again."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import numpy as np
import pytest
from PySide6.QtCore import Qt

from app.main_window import QUALITY
from core.lowerface import VARIANTS, trained_network
from app_fakes import error_boxes


@pytest.fixture
def quality_window(window, trained_project, tmp_path):
    root = tmp_path / "project"
    shutil.copytree(trained_project.root, root)
    window.start_page.open_project(root)
    window.actions_by_id["page_quality"].trigger()
    assert window.pages.currentIndex() == QUALITY
    return window


def table(page):
    t = page.table
    rows = [t.verticalHeaderItem(r).text() for r in range(t.rowCount())]
    columns = [t.horizontalHeaderItem(c).text() for c in range(t.columnCount())]
    return rows, columns, [[t.item(r, c).text() for c in range(t.columnCount())] for r in range(t.rowCount())]


@pytest.mark.timeout(1800)  # the trained fixture's setup counts too; on a busy machine it takes > 600 s
def test_evaluate_from_the_app_writes_and_shows_the_figures(quality_window, qtbot):
    window = quality_window
    page = window.quality_page
    assert "Not measured yet" in page.status.text() and page.table.rowCount() == 0
    with qtbot.waitSignal(window.session.runner.stopped, timeout=600000):
        qtbot.mouseClick(page.run_button, Qt.MouseButton.LeftButton)
        assert page.progress.cancel_button.isEnabled()  # a job: with progress and cancel
    assert not error_boxes(window), error_boxes(window)[0].text() if error_boxes(window) else ""
    project = window.session.project
    stored = json.loads(project.path("evaluation", "metrics.json").read_text())
    figures, n = stored["figures"], stored["frames"]
    network = trained_network(project)
    assert n > 10 and set(figures) == {"sample", "draft", network, "baseline"}

    rows, columns, cells = table(page)
    assert columns == ["Own mouth\n(sample-based)", "Draft", VARIANTS[network].label, "Baseline\n(no lip sync)",
                       "Paper\n(Wen et al.)"]
    ssim_row = rows.index("SSIM, whole frame (higher is better)")
    assert cells[ssim_row][0] == f"{figures['sample']['ssim_full']:.4f}"  # the figures just written
    assert cells[ssim_row][2] == f"{figures[network]['ssim_full']:.4f}"
    assert cells[ssim_row][3] == f"{figures['baseline']['ssim_full']:.4f}"
    assert cells[ssim_row][4] == "0.9754-0.9858"  # the paper's beside them
    mae_row = rows.index("Mean absolute error, of 255 (lower is better)")
    assert cells[mae_row][4] == "5.86-7.95"
    assert 0 < figures[network]["ssim_full"] <= 1

    # Mouth opening over the held-out tail: real and every variant, one value per held-out frame.
    from app.pages.quality import variant_title

    curves = {item.name(): item for item in page.plot.listDataItems()}  # named for people
    assert set(curves) == {"real", variant_title("sample"), variant_title("draft"), variant_title(network)}
    xs, real = curves["real"].getData()
    assert len(xs) == n and xs[0] == stored["segment"][0]
    assert np.nanmax(real) > np.nanmin(real)  # the real mouth opens and closes over the segment
    assert np.isfinite(curves[variant_title(network)].getData()[1]).sum() > n // 2

    # The side-by-side video: real | generated, the whole held-out segment.
    assert page.viewer.frame_count == n
    qtbot.waitUntil(lambda: page.viewer.view.array is not None, timeout=20000)
    width = project.source_info["width"]
    assert page.viewer.view.array.shape[1] == 2 * width
    page.viewer.set_frame(5)
    qtbot.mouseClick(page.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.viewer.frame >= 8, timeout=20000)
    page.stop_playing()
    assert "Out of date" not in page.status.text() and "Measured" in page.status.text()

    # Training the renderer again makes the figures out of date; the page says so.
    measured = dt.datetime.fromisoformat(project.manifest["reports"]["evaluation"]["measured_at"])
    project.set_stage("renderer", "done")
    project.stages["renderer"].updated = (measured + dt.timedelta(seconds=5)).isoformat(timespec="seconds")
    window.session.stages_changed.emit()
    assert page.is_out_of_date() and "Out of date: the neural renderer changed" in page.status.text()

    # Reopened, the page shows the stored figures again.
    window.start_page.open_project(project.root)
    assert table(window.quality_page)[2] == cells
