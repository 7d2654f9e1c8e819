"""Trimming the dub audio as a user does: times typed in the In/Out boxes move the handles, a handle
dragged (caught a few pixels off its line) changes the typed times, and the export gets that trim."""

from __future__ import annotations

import pytest
import soundfile
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

import app.jobs
from app_fakes import FakePreview
OFF_LINE_PX = 7  # a quick drag lands this far from the line


@pytest.fixture
def dub_page(window, tmp_path, short_video, speech_wav, monkeypatch):
    from core.project import Project

    monkeypatch.setattr(app.jobs, "dub_preview", FakePreview)
    project = Project.create(tmp_path / "project", short_video, consent=True)
    window.session.open_project(project.root)
    window.actions_by_id["page_dub"].trigger()
    page = window.dub_page
    assert page.load_audio(speech_wav)
    return page


def type_into(qtbot, box, text: str) -> None:
    box.setFocus()
    box.selectAll()
    qtbot.keyClicks(box, text)
    qtbot.keyClick(box, Qt.Key.Key_Return)


def send_mouse(widget, kind, pos: QPoint, buttons) -> None:
    button = Qt.MouseButton.LeftButton if kind != QEvent.Type.MouseMove else Qt.MouseButton.NoButton
    event = QMouseEvent(kind, QPointF(pos), QPointF(widget.mapToGlobal(pos)), button, buttons,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def test_trim_times_typed_and_dragged(dub_page, qtbot, speech_wav):
    page = dub_page
    duration = soundfile.info(str(speech_wav)).duration
    times = page.trim_times
    assert times.isVisible() and times.in_box.isEnabled()
    assert times.in_box.value() == 0.0 and times.out_box.value() == pytest.approx(duration, abs=0.01)

    # typed: the handles move, the preview follows
    with qtbot.waitSignal(page.waveform.trim_changed, timeout=3000):
        type_into(qtbot, times.in_box, "1.5")
    with qtbot.waitSignal(page.waveform.trim_changed, timeout=3000):
        type_into(qtbot, times.out_box, "3.25")
    assert page.trim() == pytest.approx((1.5, 3.25), abs=0.01)
    assert "1.75 s" in times.length.text()
    qtbot.waitUntil(lambda: page.preview is not None, timeout=30000)
    assert page.preview.n_frames == round(1.75 * page.preview.fps)
    # an out time typed before the in time keeps the typed one and moves the other
    type_into(qtbot, times.out_box, "1.0")
    start, end = page.trim()
    assert end == pytest.approx(1.0, abs=0.01) and start < end

    # dragged: press a few pixels beside the out handle (not on its 1 px line), move left
    type_into(qtbot, times.out_box, "3.0")
    type_into(qtbot, times.in_box, "0.5")
    waveform = page.waveform
    view = waveform.viewport()
    qtbot.waitUntil(lambda: view.width() > 100, timeout=3000)
    vb = waveform.getPlotItem().vb

    def pixel(seconds: float) -> QPoint:
        point = waveform.mapFromScene(vb.mapViewToScene(QPointF(seconds, 0.0)))
        return QPoint(point.x(), point.y())

    grab = pixel(3.0) + QPoint(OFF_LINE_PX, 0)  # well off the drawn line
    target = pixel(2.0) + QPoint(OFF_LINE_PX, 0)
    send_mouse(view, QEvent.Type.MouseMove, grab, Qt.MouseButton.NoButton)
    send_mouse(view, QEvent.Type.MouseButtonPress, grab, Qt.MouseButton.LeftButton)
    qtbot.wait(600)  # held as a hand holds it (pyqtgraph starts a drag sooner than 0.5 s only past a distance)
    for k in range(1, 11):
        step = grab + (target - grab) * k / 10
        event = QMouseEvent(QEvent.Type.MouseMove, QPointF(step), QPointF(view.mapToGlobal(step)),
                            Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(view, event)
        qtbot.wait(20)
    send_mouse(view, QEvent.Type.MouseButtonRelease, target, Qt.MouseButton.NoButton)
    start, end = page.trim()
    assert start == pytest.approx(0.5, abs=0.01)
    assert end == pytest.approx(2.0, abs=0.15)  # one pixel is a few hundredths of a second here
    assert times.out_box.value() == pytest.approx(end, abs=0.01)  # the typed time followed the drag
    assert page.dub_audio_path() != speech_wav  # the export gets the trimmed audio
    assert soundfile.info(str(page.dub_audio_path())).duration == pytest.approx(end - start, abs=0.01)
