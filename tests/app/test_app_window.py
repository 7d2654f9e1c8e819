"""Main window: closing during work, shortcuts, settings kept, training controls, About."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMessageBox

import app.dialogs
import app.jobs
from app.actions import action_specs
from app.main_window import DUB, START, TRAIN, MainWindow
from app_fakes import FakeTraining, endless_job


@pytest.fixture
def project_window(window, tmp_path, short_video):
    from core.project import Project

    project = Project.create(tmp_path / "project", short_video, consent=True)
    window.session.open_project(project.root)
    return window


def test_closing_during_work_asks_and_then_stops_the_job(project_window, qtbot, monkeypatch):
    window = project_window
    closed, stepped = threading.Event(), threading.Event()
    monkeypatch.setattr(app.jobs, "train_audio", lambda project: endless_job(closed, stepped))
    window.train_page.start("train_audio")
    qtbot.waitUntil(stepped.is_set, timeout=5000)
    questions = []
    monkeypatch.setattr(app.dialogs, "ask", lambda parent, title, q: questions.append(q) or False)
    assert not window.close()  # the user said No: the window stays, the work goes on
    assert window.isVisible() and window.session.runner.is_running("train_audio")
    assert "train_audio" in questions[0] and "checkpoints are kept" in questions[0]
    monkeypatch.setattr(app.dialogs, "ask", lambda parent, title, q: questions.append(q) or True)
    assert window.close()
    assert closed.is_set()  # the job was cancelled and its generator closed before the window went
    assert len(questions) == 2


def test_train_controls_pause_resume_cancel(project_window, qtbot, monkeypatch):
    window = project_window
    closed, stepped = threading.Event(), threading.Event()
    monkeypatch.setattr(app.jobs, "train_renderer", lambda project, **_: endless_job(closed, stepped))
    window.actions_by_id["page_train"].trigger()
    panel = window.train_page.panels["train_renderer"]
    qtbot.mouseClick(panel.start, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.plot.point_count() > 3, timeout=10000)
    assert not window.train_page.panels["train_audio"].start.isEnabled()  # one training at a time
    with qtbot.waitSignal(window.session.runner.paused, timeout=5000):
        qtbot.mouseClick(panel.progress.pause_button, Qt.MouseButton.LeftButton)
    assert panel.progress.pause_button.text() == "Resume"
    assert "Paused" in panel.progress.stage.text()
    with qtbot.waitSignal(window.session.runner.paused, timeout=5000):
        qtbot.mouseClick(panel.progress.pause_button, Qt.MouseButton.LeftButton)
    count = panel.plot.point_count()
    qtbot.waitUntil(lambda: panel.plot.point_count() > count, timeout=5000)  # training goes on
    with qtbot.waitSignal(window.session.runner.stopped, timeout=10000):
        qtbot.mouseClick(panel.progress.cancel_button, Qt.MouseButton.LeftButton)
    assert closed.is_set()
    assert "Cancelled" in panel.progress.stage.text()
    assert panel.start.isEnabled() and not panel.progress.cancel_button.isEnabled()


def test_training_shows_the_loss_curve_and_previews(project_window, qtbot, monkeypatch):
    window = project_window
    monkeypatch.setattr(app.jobs, "train_renderer", FakeTraining(steps=6))
    train = window.train_page
    panel = train.panels["train_renderer"]
    qtbot.mouseClick(panel.start, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(window.session.runner.stopped, timeout=30000):
        pass
    assert panel.plot.point_count() == 2 * 6  # two losses, six steps
    l1 = panel.plot.data["l1"][1]
    assert l1[-1] < l1[0]  # the curve shows the loss going down
    assert train.preview.array.shape == (64, 192, 3)  # render | generated | real, side by side
    assert "step 6" in train.preview_caption.text()
    assert "Trained 6 steps" in panel.progress.stage.text()


def test_the_renderer_choice_reaches_the_training_job(project_window, qtbot, monkeypatch):
    """The Train page offers both renderers; the chosen one is what the job trains, and is kept.
    The training job itself is stubbed, so the one builder (core.commands) turns the choice into its config."""
    import core.commands

    chosen = []
    fake = FakeTraining(steps=2)
    monkeypatch.setattr(core.commands, "train_renderer_job",
                        lambda project, config, *a, **kw: chosen.append(config) or fake(project))
    train = project_window.train_page
    assert [train.renderer_kind.itemData(i) for i in range(train.renderer_kind.count())] == ["reference", "paper"]
    assert train.renderer_kind.currentData() == "reference"  # the default
    train.renderer_kind.setCurrentIndex(1)
    qtbot.mouseClick(train.panels["train_renderer"].start, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(project_window.session.runner.stopped, timeout=30000):
        pass
    assert len(chosen) == 1 and chosen[0].renderer == "paper"
    assert chosen[0].in_channels == 21  # the paper's inputs: the renders alone
    assert project_window.session.settings.preferences().renderer_kind == "paper"


def test_renderer_budget_adds_to_past_training(project_window, monkeypatch):
    project = project_window.session.project
    project.set_stage("fitting", "done", settings={"k": 1})
    project.set_stage("renderer", "cancelled", settings={"r": 1}, inputs=("fitting",),
                      metrics={"steps": 120, "elapsed_s": 600.0, "val_psnr": 21.0})
    assert app.jobs.renderer_trained_so_far(project) == (10.0, 120)
    project_window.session.stages_changed.emit()
    panel = project_window.train_page.panels["train_renderer"]
    assert panel.start.text() == "Continue training"
    assert "120 steps, 10.0 min so far" in panel.status.text()
    # A redone face capture makes the old training irrelevant: nothing is added.
    project.set_stage("fitting", "done", settings={"k": 2})
    assert app.jobs.renderer_trained_so_far(project) == (0.0, 0)


def test_shortcuts_are_unique_and_drive_the_pages(project_window, qtbot):
    window = project_window
    specs = action_specs()
    shortcuts = [s["shortcut"] for s in specs.values() if s.get("shortcut")]
    assert len(shortcuts) == len(set(shortcuts))
    for action_id, spec in specs.items():
        assert window.actions_by_id[action_id].shortcut() == QKeySequence(spec["shortcut"])
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert window.pages.currentIndex() == TRAIN
    qtbot.keyClick(window, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
    assert window.pages.currentIndex() == DUB
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert window.pages.currentIndex() == START


def test_settings_keep_geometry_and_preferences(qtbot, app_settings, monkeypatch):
    monkeypatch.setattr(app.dialogs, "ask", lambda *a: True)
    first = MainWindow(app_settings)
    qtbot.addWidget(first)
    first.show()
    first.resize(1100, 760)
    first.train_page.budget.setValue(45)
    saved = first.saveGeometry()
    assert first.close()
    restored = []
    original = MainWindow.restoreGeometry
    monkeypatch.setattr(MainWindow, "restoreGeometry",
                        lambda self, g: restored.append(bytes(g)) or original(self, g))
    second = MainWindow(app_settings)
    qtbot.addWidget(second)
    # The offscreen screen is smaller than the window, so Qt may fit it in; the bytes must match.
    assert restored == [bytes(saved)]
    assert second.train_page.budget.value() == 45
    keys = app_settings._q.allKeys()
    assert keys and all(k.startswith("v1/") for k in keys)  # versioned keys only


def test_about_box_carries_the_provenance_note(window, qtbot):
    window.actions_by_id["about"].trigger()
    box = window.findChild(QMessageBox, app.dialogs.ABOUT_BOX_NAME)
    text = box.text()
    box.close()
    assert "synthetic" in text and "consent" in text and "Wen" in text


def test_escape_cancels_face_capture_and_says_what_is_kept(project_window, qtbot, monkeypatch):
    window = project_window
    closed, stepped = threading.Event(), threading.Event()
    monkeypatch.setattr(app.jobs, "prepare", lambda project: endless_job(closed, stepped))
    page = window.prepare_page
    qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(stepped.is_set, timeout=5000)
    assert page.progress.cancel_button.isEnabled() and not window.start_page.isEnabled()
    with qtbot.waitSignal(window.session.runner.stopped, timeout=10000):
        window.actions_by_id["cancel_job"].trigger()  # Esc
    assert closed.is_set()
    assert "cancelled" in page.progress.stage.text() and "kept" in page.progress.stage.text()
    assert page.start_button.isEnabled() and window.start_page.isEnabled()
    # nothing prepared: the viewer shows the video itself
    from core.media import VideoReader

    assert page.viewer.frame_count == VideoReader(window.session.project.source_video).frame_count
    assert not page.toggles["landmarks"].isEnabled()


def test_recent_menu_lists_projects(project_window):
    window = project_window
    window._fill_recent_menu()
    texts = [a.text() for a in window.recent_menu.actions()]
    assert texts == [str(window.session.project.root)]
