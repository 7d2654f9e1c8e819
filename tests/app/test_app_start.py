"""Start page: new project (dialog, consent, drag and drop), recent projects, bad files."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from app_fakes import error_boxes
from app.main_window import PREPARE


def test_not_a_video_gets_a_dialog_not_a_traceback(window, qtbot, tmp_path, speech_wav):
    text_file = tmp_path / "notes.mp4"
    text_file.write_text("this is not a video")
    page = window.start_page
    assert page.start_new_project(text_file) is None
    qtbot.waitUntil(lambda: len(error_boxes(window)) == 1)
    box = error_boxes(window)[0]
    # The message names the file and says what to use instead (the wording is core's).
    assert "notes.mp4" in box.text() and "video" in box.text().lower()
    assert box.detailedText() == ""  # a user error: a plain message, no traceback
    box.close()
    # Sound without picture is refused the same way, with advice.
    assert page.start_new_project(speech_wav) is None
    qtbot.waitUntil(lambda: len(error_boxes(window)) == 1)
    assert "video" in error_boxes(window)[0].text()
    assert window.session.project is None
    assert not list(tmp_path.glob("*.portrait-dub"))


def test_new_project_needs_consent_and_stores_it(window, qtbot, tmp_path, short_video):
    page = window.start_page
    dialog = page.start_new_project(short_video)
    assert dialog is not None and dialog.isVisible()
    assert not dialog.create_button.isEnabled()  # no project without the confirmation
    dialog.folder.setText(str(tmp_path / "face5"))
    qtbot.mouseClick(dialog.consent, Qt.MouseButton.LeftButton)
    assert dialog.create_button.isEnabled()
    with qtbot.waitSignal(page.opened, timeout=10000):
        qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)
    manifest = json.loads((tmp_path / "face5" / "project.json").read_text())
    assert manifest["consent"]["confirmed"] is True
    assert "face and voice" in manifest["consent"]["text"]
    assert window.session.project.root == (tmp_path / "face5").resolve()
    assert window.pages.currentIndex() == PREPARE
    assert all(window.pages.isTabEnabled(i) for i in range(5))
    assert window.settings.recent_projects()[0] == (tmp_path / "face5").resolve()
    assert page.recent.count() == 1


def test_drop_a_video_opens_the_new_project_dialog(window, qtbot, short_video):
    page = window.start_page
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(short_video))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                       Qt.KeyboardModifier.NoModifier)
    page.dropEvent(event)
    assert page.dialog is not None and page.dialog.isVisible()
    assert page.dialog.video == short_video
    assert page.dialog.project_folder().name == short_video.stem + ".portrait-dub"
    page.dialog.reject()


def test_recent_projects_persist_and_a_missing_one_gets_a_dialog(qtbot, app_settings, tmp_path,
                                                                  short_video, monkeypatch):
    from app.main_window import MainWindow
    from core.project import Project

    project = Project.create(tmp_path / "p", short_video, consent=True)
    app_settings.add_recent_project(project.root)
    app_settings.add_recent_project(tmp_path / "gone")
    win = MainWindow(app_settings)
    qtbot.addWidget(win)
    page = win.start_page
    assert page.recent.count() == 2
    assert "(missing)" in page.recent.item(0).text()
    page._open_item(page.recent.item(0))
    qtbot.waitUntil(lambda: len(error_boxes(win)) == 1)
    assert "no project folder" in error_boxes(win)[0].text()
    error_boxes(win)[0].close()
    page._open_item(page.recent.item(1))
    assert win.session.project is not None and win.session.project.root == project.root
    assert Path(win.settings.recent_projects()[0]) == project.root
