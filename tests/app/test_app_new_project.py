"""A new project as a user makes one: the clip shows (and plays) on Prepare and Dub before anything is
computed, and face capture starts by itself after the project is made, with Cancel at hand; not when
the user turned that off."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6.QtCore import Qt

import app.jobs
from app_fakes import endless_job


def make_project(window, qtbot, video, folder):
    """New project from a video through the Start page's dialog: consent ticked, Create pressed."""
    dialog = window.start_page.start_new_project(video)
    assert dialog is not None
    dialog.folder.setText(str(folder))
    dialog.consent.setChecked(True)
    qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.session.project is not None, timeout=10000)
    return window.session.project


def shown(viewer) -> np.ndarray | None:
    return viewer.view.array  # the image the view holds (ImageView and ComparePreview)


@pytest.fixture
def capture_job(monkeypatch):
    """Face capture that runs until cancelled (the real one takes minutes)."""
    closed, started = threading.Event(), threading.Event()
    monkeypatch.setattr(app.jobs, "prepare", lambda project: endless_job(closed, started))
    return closed, started


def test_capture_starts_by_itself_and_the_clip_shows_first(window, qtbot, tmp_path, short_video, capture_job):
    from core.media import VideoReader

    closed, started = capture_job
    project = make_project(window, qtbot, short_video, tmp_path / "new")
    page = window.prepare_page
    assert window.pages.currentWidget() is page
    qtbot.waitUntil(started.is_set, timeout=10000)  # capture started by itself
    assert window.session.runner.is_running("prepare")
    assert page.progress.cancel_button.isEnabled() and page.progress.cancel_button.isVisible()

    # the viewer shows the clip's own frames meanwhile, not a black box
    reader = VideoReader(project.source_video)
    assert page.viewer.frame_count == reader.frame_count
    first = reader.read(0)
    qtbot.waitUntil(lambda: shown(page.viewer) is not None and shown(page.viewer).shape == first.shape,
                    timeout=10000)
    assert np.abs(shown(page.viewer).astype(int) - first).mean() < 1.0
    page.viewer.set_frame(10)
    tenth = reader.read(10)
    qtbot.waitUntil(lambda: np.abs(shown(page.viewer).astype(int) - tenth).mean() < 1.0, timeout=10000)
    page.toggle_play()  # plays: the frame moves on by itself
    qtbot.waitUntil(lambda: page.viewer.frame > 12, timeout=10000)
    page.stop_playing()

    # the Dub page shows the clip too before audio is loaded, and plays it silently
    window.actions_by_id["page_dub"].trigger()
    dub = window.dub_page
    assert dub.viewer.frame_count == reader.frame_count and dub.audio is None
    qtbot.waitUntil(lambda: dub.compare_view.array is not None, timeout=10000)
    assert np.abs(dub.compare_view.array.astype(int) - first).mean() < 1.0
    dub.toggle_play()
    qtbot.waitUntil(lambda: dub.viewer.frame > 3, timeout=10000)
    dub.stop_playing()

    qtbot.mouseClick(page.progress.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.session.runner.is_running(), timeout=10000)
    qtbot.waitUntil(closed.is_set, timeout=10000)


def test_capture_waits_when_turned_off(window, qtbot, tmp_path, short_video, capture_job):
    closed, started = capture_job
    page = window.prepare_page
    page.auto_check.setChecked(False)
    assert window.settings.preferences().auto_capture is False  # kept for the next start
    make_project(window, qtbot, short_video, tmp_path / "new")
    qtbot.wait(300)
    assert not started.is_set() and not window.session.runner.is_running()
    assert page.start_button.isEnabled()
    assert page.viewer.frame_count > 0  # the clip still shows


def test_opening_a_project_does_not_start_capture(window, qtbot, tmp_path, short_video, capture_job):
    from core.project import Project

    closed, started = capture_job
    project = Project.create(tmp_path / "project", short_video, consent=True)
    window.start_page.open_project(project.root)
    qtbot.wait(300)
    assert not started.is_set() and not window.session.runner.is_running()
