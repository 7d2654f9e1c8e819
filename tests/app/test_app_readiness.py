"""Prepare page: the readiness report as pictures (head yaw and pitch, mouth opening, faceless frames
shaded); clicking a plot shows that frame."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, Qt

from app.widgets.readiness_plot import faceless_spans


def test_faceless_spans():
    has_face = np.array([0, 1, 1, 0, 0, 1, 0], bool)
    assert faceless_spans(has_face) == [(0, 1), (3, 5), (6, 7)]
    assert faceless_spans(np.ones(4, bool)) == []


def test_readiness_plots_show_pose_mouth_and_faceless_frames_and_jump(window, qtbot, project_copy):
    from core.atomic import load_npz, save_npz
    from core.tracking.store import TRACKING_FILE

    arrays = load_npz(project_copy.path(TRACKING_FILE))
    arrays["has_face"][40:50] = False  # as if the face were hidden for 10 frames
    save_npz(project_copy.path(TRACKING_FILE), **arrays)
    window.start_page.open_project(project_copy.root)
    page = window.prepare_page
    plots = page.readiness_plots
    n = project_copy.source_info["frame_count"]
    pose = {c.name(): c.getData() for c in plots.pose.listDataItems()}
    assert set(pose) == {"yaw", "pitch"}
    assert len(pose["yaw"][0]) == n and np.isnan(pose["yaw"][1][40:50]).all()
    assert np.nanmax(pose["yaw"][1]) - np.nanmin(pose["yaw"][1]) > 0.5  # the head does move
    (mouth,) = plots.mouth.listDataItems()
    assert np.nanmax(mouth.getData()[1]) > 0.03  # the mouth opens in the clip
    assert plots.spans == [(40, 50)]

    # Clicking the plot at 2.0 s shows frame 50 in the viewer.
    fps = project_copy.source_info["fps"]
    view = plots.mouth.plotItem.vb
    y = float(np.nanmean(mouth.getData()[1]))
    scene = view.mapViewToScene(QPointF(2.0, y))
    widget_pos = plots.mouth.mapFromScene(scene)
    qtbot.mouseClick(plots.mouth.viewport(), Qt.MouseButton.LeftButton, pos=widget_pos)
    assert page.viewer.frame == round(2.0 * fps)
    assert page.viewer.label.text().startswith(f"frame {round(2.0 * fps) + 1} / {n}")
