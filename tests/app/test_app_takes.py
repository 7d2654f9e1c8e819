"""Takes: every audio loaded (or recorded, or spoken) in a project is kept in its take list; one
choice in the list dubs it again, and the list is there after reopening the project."""

from __future__ import annotations

import shutil

from core.project.takes import add_take, list_takes


def test_the_take_list_keeps_each_audio_once_newest_first(project_copy, speech_wav, tmp_path):
    other = tmp_path / "other.wav"
    shutil.copy(speech_wav, other)
    add_take(project_copy, speech_wav, 4.9, "file")
    add_take(project_copy, other, 4.9, "recording")
    add_take(project_copy, speech_wav, 4.9, "file")  # taken again: moves up, not listed twice
    assert [t.name for t in list_takes(project_copy)] == [speech_wav.name, "other.wav"]
    other.unlink()  # a take whose file is gone is not offered
    assert [t.name for t in list_takes(project_copy)] == [speech_wav.name]


def test_the_dub_page_switches_takes_and_keeps_them(window, project_copy, speech_wav, short_video, tmp_path):
    window.session.open_project(project_copy.root)
    page = window.dub_page
    assert not page.takes_combo.isEnabled()
    second = tmp_path / "second.wav"
    shutil.copy(speech_wav, second)
    assert page.load_audio(speech_wav) and page.load_audio(second)
    names = [page.takes_combo.itemText(i) for i in range(page.takes_combo.count())]
    assert len(names) == 2 and names[0].startswith("second.wav") and "s, file)" in names[0]
    assert page.takes_combo.currentIndex() == 0
    page._on_take_chosen(1)  # the user picks the earlier take
    assert page.audio_path.name == speech_wav.name and page.takes_combo.currentIndex() == 1
    window.session.open_project(project_copy.root)  # reopened: the takes are still listed
    assert page.takes_combo.count() == 2 and page.takes_combo.isEnabled()
