"""Timelines: a click on the scrubber jumps to the frame under the mouse (a plain slider would
step a page toward it)."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt

from app.widgets.frame_viewer import FrameViewer


def test_clicking_the_scrubber_jumps_to_the_click(qtbot):
    viewer = FrameViewer("")
    qtbot.addWidget(viewer)
    viewer.resize(600, 300)
    viewer.show()
    qtbot.waitExposed(viewer)
    viewer.set_frame_count(500, 25.0)
    seen = []
    viewer.frame_changed.connect(seen.append)
    slider = viewer.slider
    y = slider.height() // 2
    qtbot.mouseClick(slider, Qt.MouseButton.LeftButton, pos=QPoint(int(slider.width() * 0.75), y))
    assert abs(viewer.frame - 375) <= 12 and seen and seen[-1] == viewer.frame
    qtbot.mouseClick(slider, Qt.MouseButton.LeftButton, pos=QPoint(int(slider.width() * 0.1), y))
    assert abs(viewer.frame - 50) <= 12
