"""A project whose video moved says so on opening and offers "Locate video..."; the wrong video is
refused; the frame counter is right from the first frame."""

from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import Qt

import app.main_window
from app_fakes import error_boxes


@pytest.fixture
def stranded(tmp_path, prepared_project):
    """A copy of the prepared project whose video is somewhere the app cannot guess."""
    from tests.conftest import copy_project

    video = tmp_path / "media" / "clip.mp4"
    video.parent.mkdir()
    shutil.copy(prepared_project.source_video, video)
    project = copy_project(prepared_project, tmp_path / "project")
    project.relink_source(video)
    far = tmp_path / "other-drive" / "renamed.mp4"
    far.parent.mkdir()
    shutil.move(video, far)
    shutil.rmtree(video.parent)
    return project.root, far


def test_missing_video_is_said_at_once_and_located(window, qtbot, stranded, monkeypatch):
    root, far = stranded
    window.start_page.open_project(root)
    bar = window.missing_video_bar
    assert bar.isVisible() and "clip.mp4" in bar.label.text() and "missing" in bar.label.text()
    monkeypatch.setattr(app.main_window, "ask_video_path", lambda parent, old: far)
    qtbot.mouseClick(bar.locate_button, Qt.MouseButton.LeftButton)
    assert not bar.isVisible() and not error_boxes(window)
    assert window.session.project.source_video == far.resolve()
    from core.project import Project

    assert Project.open(root).source_video == far.resolve()  # saved in the project


def test_the_wrong_video_is_refused(window, qtbot, stranded, monkeypatch):
    """An edited copy of the same size (one byte changed) is refused: the contents are compared."""
    root, far = stranded
    edited = far.parent / "edited.mp4"
    data = bytearray(far.read_bytes())
    data[-1] ^= 0xFF
    edited.write_bytes(bytes(data))
    window.start_page.open_project(root)
    monkeypatch.setattr(app.main_window, "ask_video_path", lambda parent, old: edited)
    window.actions_by_id["locate_video"].trigger()
    boxes = error_boxes(window)
    assert boxes and "not the video this project was made from (its contents differ)" in boxes[0].text()
    assert window.missing_video_bar.isVisible()
    assert window.session.project.source_missing


def test_a_video_beside_the_project_is_relinked_by_itself(window, stranded):
    root, far = stranded
    shutil.move(far, root.parent / "clip.mp4")
    window.start_page.open_project(root)
    assert not window.missing_video_bar.isVisible()
    assert window.session.project.source_video == (root.parent / "clip.mp4").resolve()
    assert "found it" in window.statusBar().currentMessage()


def test_frame_counter_is_right_from_the_first_frame(window, qtbot, project_copy):
    window.start_page.open_project(project_copy.root)
    viewer = window.prepare_page.viewer
    n = project_copy.source_info["frame_count"]
    assert viewer.frame_count == n
    assert viewer.label.text().startswith(f"frame 1 / {n}")
