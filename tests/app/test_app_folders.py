"""File dialogs open in the folder the user used last (home the first time, never the folder the app
was started from), remembered in the app's settings per kind of file, with one shared fallback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

import app.pages.dub_export
from app_fakes import FakePreview


class DialogSpy:
    """Stands in for QFileDialog's static functions: records the folder each opened in and answers
    with the next prepared path ("" = the user cancelled)."""

    def __init__(self, monkeypatch) -> None:
        self.opened_in: list[Path] = []
        self.answers: list[str] = []
        for name in ("getOpenFileName", "getSaveFileName"):
            monkeypatch.setattr(QFileDialog, name, staticmethod(self._file))
        monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(self._folder))

    def _start(self, where: str) -> None:
        path = Path(where)
        self.opened_in.append(path if path.is_dir() else path.parent)

    def _file(self, parent, title, where, filters="", *args):
        self._start(where)
        return (self.answers.pop(0) if self.answers else ""), ""

    def _folder(self, parent, title, where, *args):
        self._start(where)
        return self.answers.pop(0) if self.answers else ""


@pytest.fixture
def spy(monkeypatch):
    return DialogSpy(monkeypatch)


def test_dialogs_open_in_the_last_folder_used(window, qtbot, tmp_path, short_video, speech_wav, spy,
                                              monkeypatch):
    import app.jobs
    from core.project import Project

    monkeypatch.setattr(app.jobs, "dub_preview", FakePreview)
    monkeypatch.chdir(tmp_path)  # "the install folder": no dialog may open here
    # first time: home
    window.actions_by_id["new_project"].trigger()
    assert spy.opened_in[-1] == Path.home()

    # a project and an audio file from a folder of the user's
    project = Project.create(tmp_path / "project", short_video, consent=True)
    window.session.open_project(project.root)
    window.actions_by_id["page_dub"].trigger()
    voice_folder = tmp_path / "my recordings"
    voice_folder.mkdir()
    audio = voice_folder / "line1.wav"
    shutil.copy(speech_wav, audio)
    spy.answers.append(str(audio))
    window.actions_by_id["load_audio"].trigger()
    assert spy.opened_in[-1] == Path.home()
    page = window.dub_page
    assert page.audio_path == audio
    # the next audio dialog opens where the last audio came from
    window.actions_by_id["load_audio"].trigger()
    assert spy.opened_in[-1] == voice_folder
    # a kind of dialog never used yet opens in the last folder any dialog used (not the project's
    # scripts/ nor the start folder)
    suggested = []
    monkeypatch.setattr(app.pages.dub_export, "ask_save_path",
                        lambda parent, path: suggested.append(path) or None)
    qtbot.mouseClick(page.queue_button, Qt.MouseButton.LeftButton)
    assert suggested[-1].parent == voice_folder
    # once exported somewhere, exports and the queue go there
    exports = tmp_path / "exports"
    exports.mkdir()
    monkeypatch.setattr(app.pages.dub_export, "ask_save_path", lambda parent, path: exports / "take.mp4")
    page.add_to_queue()  # only adds (Run queue starts it)
    monkeypatch.setattr(app.pages.dub_export, "ask_save_path",
                        lambda parent, path: suggested.append(path) or None)
    page.export()
    assert suggested[-1].parent == exports
    # new project: its own kind was never used, so the shared last folder
    window.actions_by_id["new_project"].trigger()
    assert spy.opened_in[-1] == exports
    assert all(p != tmp_path for p in spy.opened_in)


def test_the_folders_are_kept_between_runs(app_settings, tmp_path):
    from app.settings import AppSettings

    videos = tmp_path / "videos"
    videos.mkdir()
    assert app_settings.last_folder("video") == Path.home()
    app_settings.remember_folder("video", videos)
    app_settings.sync()
    again = AppSettings(app_settings._q.__class__(app_settings._q.fileName(), app_settings._q.format()))
    assert again.last_folder("video") == videos
    assert again.last_folder("audio") == videos  # the shared fallback
    videos.rmdir()
    assert again.last_folder("video") == Path.home()  # a folder that is gone is skipped
