"""Dub page preview: it fills its space (the larger share of the page), the before/after divider and
the held key show the original frame, the mouth zoom shows the mouth region."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

import app.jobs
from app.widgets.compare_view import mouth_region
from app_fakes import FakeComparePreview


@pytest.fixture
def dub_page(window, qtbot, tmp_path, short_video, speech_wav, monkeypatch):
    from core.project import Project

    project = Project.create(tmp_path / "project", short_video, consent=True)
    window.session.open_project(project.root)
    window.resize(1280, 800)
    monkeypatch.setattr(app.jobs, "dub_preview", FakeComparePreview)
    window.actions_by_id["page_dub"].trigger()
    page = window.dub_page
    assert page.load_audio(speech_wav)
    qtbot.waitUntil(lambda: page.compare_view.array is not None, timeout=30000)
    return page


def test_preview_fills_the_larger_share_of_the_page(dub_page):
    view, left = dub_page.compare_view, dub_page.splitter.widget(0)
    assert view.width() > left.width()
    rect = view.target_rect()
    frame = view.array
    assert frame.shape[:2] == (524, 524)  # the clip's own size, not a thumbnail
    # Scaled to fill one dimension of the space, the aspect ratio kept.
    assert max(rect.width() / view.width(), rect.height() / view.height()) == pytest.approx(1.0, abs=0.01)
    assert rect.width() / rect.height() == pytest.approx(1.0, abs=0.01)
    assert rect.height() > 380


def test_before_after_divider_and_held_key_show_the_source_frame(dub_page, qtbot):
    page, view = dub_page, dub_page.compare_view
    source, dubbed = view.before, view.array
    assert not np.array_equal(source, dubbed)
    assert np.array_equal(view.composite(), dubbed)  # normally: the dub alone

    qtbot.mouseClick(page.compare_check, Qt.MouseButton.LeftButton)
    rect = view.target_rect()
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(int(rect.left() + rect.width() * 0.25),
                                                                  int(rect.center().y())))
    cut = int(round(view.split * source.shape[1]))
    assert cut == pytest.approx(source.shape[1] * 0.25, abs=3)
    shown = view.composite()
    assert np.array_equal(shown[:, :cut], source[:, :cut])  # the original left of the divider
    assert np.array_equal(shown[:, cut:], dubbed[:, cut:])  # the dub right of it
    # On screen too: a pixel left of the divider is the original's, one right of it the dub's.
    grab = view.grab().toImage()
    ratio = grab.width() / view.width()
    for fx, expected in ((0.1, source), (0.7, dubbed)):
        x, y = rect.left() + rect.width() * fx, rect.center().y()
        colour = grab.pixelColor(int(x * ratio), int(y * ratio))
        ix, iy = int(fx * source.shape[1]), int(source.shape[0] / 2)
        got = np.array([colour.red(), colour.green(), colour.blue()])
        assert np.abs(got - expected[iy - 2:iy + 3, ix - 2:ix + 3].reshape(-1, 3).mean(0)).max() < 40

    qtbot.mousePress(page.original_button, Qt.MouseButton.LeftButton)
    assert np.array_equal(view.composite(), source)  # held: the whole original
    qtbot.mouseRelease(page.original_button, Qt.MouseButton.LeftButton)
    assert np.array_equal(view.composite(), shown)
    view.setFocus()
    qtbot.keyPress(view, Qt.Key.Key_B)
    assert np.array_equal(view.composite(), source)  # the B key does the same
    qtbot.keyRelease(view, Qt.Key.Key_B)
    assert np.array_equal(view.composite(), shown)


def test_mouth_zoom_shows_the_mouth_region_sharp(dub_page, qtbot):
    page, view = dub_page, dub_page.compare_view
    qtbot.mouseClick(page.zoom_check, Qt.MouseButton.LeftButton)
    x0, y0, x1, y1 = mouth_region(FakeComparePreview.MOUTH, 524, 524)
    assert x0 <= 200 and x1 >= 320 and y0 <= 300 and y1 >= 360
    assert np.array_equal(view.composite(), view.array[y0:y1, x0:x1])
    assert view.target_rect().width() / (x1 - x0) > 1.5  # enlarged to the space
    page.viewer.step(5)  # the zoom follows the frames
    qtbot.waitUntil(lambda: page.preview.requested[-1] == 5, timeout=10000)
    qtbot.waitUntil(lambda: np.array_equal(view.composite(), view.array[y0:y1, x0:x1])
                    and not np.array_equal(view.array, 255 - page.preview.frame(0)), timeout=10000)
