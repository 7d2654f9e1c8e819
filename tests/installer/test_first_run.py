"""First run: without the optional face-alignment weights the app says so in a banner and carries on."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings, QThreadPool
from PySide6.QtWidgets import QApplication, QMessageBox

import app.dialogs
from app.first_run import NoticeBanner
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


def test_missing_weights_show_a_dismissible_note_and_the_app_carries_on(torch_home, make_window, qtbot):
    win = make_window()
    banner = win.notice_banner
    assert banner is not None and banner.isVisible()
    assert banner.height() < 60  # one short line, not a paragraph across the window
    assert "details" in banner.label.text()
    details = banner.show_details()
    text = details.text()
    details.close()
    for name in FACE_ALIGNMENT_FILES:
        assert name in text
    assert str(torch_home / "hub" / "checkpoints") in text  # where to put them
    assert "mediapipe" in text and "instead" in text         # what the app does meanwhile
    assert QApplication.activeModalWidget() is None           # a note, not a blocking dialog
    # The pages stay usable under the banner.
    assert win.centralWidget().isAncestorOf(win.pages) and win.pages.isVisible()
    assert win.pages.count() == 5

    with qtbot.waitSignal(banner.dismissed, timeout=2000):
        banner.close_button.click()
    assert not banner.isVisible()
    assert win.pages.isVisible()
    assert make_window().notice_banner is None  # dismissed once: not shown again at the next start


def test_no_note_when_the_weights_are_present(torch_home, make_window):
    folder = torch_home / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    for name in FACE_ALIGNMENT_FILES:
        (folder / name).write_bytes(b"placeholder")  # only their presence is checked at start
    win = make_window()
    assert win.notice_banner is None
    assert win.centralWidget().isAncestorOf(win.pages) and not win.findChildren(NoticeBanner)


def test_one_missing_file_is_named_alone(torch_home, make_window):
    folder = torch_home / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    present, missing = FACE_ALIGNMENT_FILES
    (folder / present).write_bytes(b"placeholder")
    win = make_window()
    text = win.notice_banner.details
    assert missing in text and present not in text
