"""Fixtures for the app tests: a temporary QSettings file, the main window, no worker left running."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings, QThread, QThreadPool

import app.dialogs
from app.settings import AppSettings


@pytest.fixture
def app_settings(tmp_path) -> AppSettings:
    """Settings in a private INI file: tests never read or write the user's real settings."""
    return AppSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


GRACE_MS = 2000


@pytest.fixture(autouse=True)
def _no_dangling_threads(qapp, monkeypatch):
    """A test that leaves a worker thread (pool or QThread) running fails, as in napari's conftest."""
    started: list[QThread] = []
    base_start = QThread.start

    def start_and_remember(self, *args):
        started.append(self)
        base_start(self, *args)

    monkeypatch.setattr(QThread, "start", start_and_remember)
    yield
    pool = QThreadPool.globalInstance()
    # A worker that has sent its last signal may still be returning from run(): give it a moment,
    # so only workers that really keep running fail the test.
    pool.waitForDone(GRACE_MS)
    left = pool.activeThreadCount()
    running = [t for t in started if not t.wait(GRACE_MS)]
    if left or running:
        pool.waitForDone(10000)
        for t in running:
            t.quit()
            t.wait(10000)
        pytest.fail(f"the test left {left} pool worker(s) and {len(running)} QThread(s) running")


@pytest.fixture
def window(qtbot, app_settings, monkeypatch):
    """The main window, with closing confirmed automatically; closed and its workers awaited after."""
    from app.main_window import MainWindow

    monkeypatch.setattr(app.dialogs, "ask", lambda *a, **k: True)
    win = MainWindow(app_settings)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()
    QThreadPool.globalInstance().waitForDone(30000)
