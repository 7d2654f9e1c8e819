"""The optional face-alignment weights: Help > About says whether they are here and where they go;
no banner greets every user."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings, QThreadPool
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

import app.dialogs
from app.settings import AppSettings
from core.tracking.backends import FACE_ALIGNMENT_FILES


@pytest.fixture
def torch_home(tmp_path, monkeypatch):
    """An empty torch home: face-alignment's weights are looked for in <it>/hub/checkpoints."""
    home = tmp_path / "torch-home"
    home.mkdir()
    monkeypatch.setenv("TORCH_HOME", str(home))
    return home


@pytest.fixture
def make_window(qtbot, tmp_path, monkeypatch):
    from app.main_window import MainWindow

    monkeypatch.setattr(app.dialogs, "ask", lambda *a, **k: True)
    settings = AppSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    windows = []

    def make():
        # Error boxes are non-modal-blocking notes that earlier tests may have left open; close them
        # so a modal widget seen below can only come from this window.
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, QMessageBox):
                widget.close()
        win = MainWindow(settings)
        qtbot.addWidget(win)
        win.show()
        qtbot.waitExposed(win)
        windows.append(win)
        return win

    yield make
    for win in windows:
        win.close()
    QThreadPool.globalInstance().waitForDone(30000)


def about_text(win) -> str:
    """Help > About, opened as the user would, its text read and the box closed."""
    win.actions_by_id["about"].trigger()
    box = win.findChild(QMessageBox, app.dialogs.ABOUT_BOX_NAME)
    assert box is not None and box.isVisible()
    text = box.text()
    box.close()
    return text


def test_missing_weights_are_explained_in_about_and_no_banner_greets_the_user(torch_home, make_window):
    win = make_window()
    assert not hasattr(win, "notice_banner")
    assert win.centralWidget().isAncestorOf(win.pages) and win.pages.isVisible()
    assert win.pages.count() == 5
    assert not [w for w in win.findChildren(QWidget) if w.objectName() == "noticeBanner"]
    text = about_text(win)
    for name in FACE_ALIGNMENT_FILES:
        assert name in text
    assert str(torch_home / "hub" / "checkpoints") in text  # where to put them
    assert "mediapipe" in text and "instead" in text         # what the app does meanwhile
    assert "Provenance" in text                              # still the About box


def test_about_says_the_backend_is_ready_when_the_weights_are_present(torch_home, make_window):
    folder = torch_home / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    for name in FACE_ALIGNMENT_FILES:
        (folder / name).write_bytes(b"placeholder")  # only their presence is checked
    text = about_text(make_window())
    assert "ready" in text and "not available" not in text
    assert not any(name in text for name in FACE_ALIGNMENT_FILES)


def test_one_missing_file_is_named_alone(torch_home, make_window):
    folder = torch_home / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    present, missing = FACE_ALIGNMENT_FILES
    (folder / present).write_bytes(b"placeholder")
    text = about_text(make_window())
    assert missing in text and present not in text
