"""Dub page, typed script: speak it with the offline voice, hear it as the page's audio, speak an edited
take, export with the draft renderer; empty scripts and broken voice files get dialogs."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import soundfile
from PySide6.QtCore import Qt

import app.pages.dub
import app.pages.dub_export
import app.widgets.script_editor
from app.jobs import DUB_AUDIO_RATE
from app.widgets.script_editor import VOICE_FILE_ITEM
from app_fakes import error_boxes

SCRIPT = "Hello everyone."


def speak(window, qtbot, timeout=60000):
    """Press Speak and wait for the job to end; returns the error boxes shown."""
    page = window.dub_page
    with qtbot.waitSignal(window.session.runner.stopped, timeout=timeout,
                          check_params_cb=lambda name: name == app.pages.dub.SPEAK_JOB):
        qtbot.mouseClick(page.script.speak_button, Qt.MouseButton.LeftButton)
    return error_boxes(window)


def spoken_seconds(samples: np.ndarray, rate: int) -> float:
    """Seconds between the first and last sample above -40 dB of the peak (the voice, not padding)."""
    loud = np.flatnonzero(np.abs(samples) > 0.01 * np.abs(samples).max())
    return (loud[-1] - loud[0]) / rate


@pytest.fixture
def trained_window(window, trained_project, tmp_path):
    from core.project import Project

    root = tmp_path / "project"
    shutil.copytree(trained_project.root, root)  # the app writes scripts/ into it
    window.session.open_project(Project.open(root).root)
    window.actions_by_id["page_dub"].trigger()
    return window


def test_typed_script_is_spoken_edited_and_exported(trained_window, qtbot, tmp_path, monkeypatch):
    from core.dubbing.dub import output_frame_count
    from core.media import probe

    window, page = trained_window, trained_window.dub_page
    project = window.session.project
    assert page.script.voice() == "en_US-joe-medium"  # the built-in voice is offered first
    qtbot.keyClicks(page.script.text, SCRIPT)
    assert not speak(window, qtbot)

    takes = sorted(project.path("scripts").glob("script-*.wav"))
    assert len(takes) == 1
    assert takes[0].with_suffix(".txt").read_text() == SCRIPT
    first, rate = soundfile.read(takes[0], dtype="float32")
    first_s = len(first) / rate
    # Two words are about a second of speech, plus at least 0.3 s of silence at each end.
    assert 1.0 < first_s < 4.0
    assert np.abs(first[:int(0.25 * rate)]).max() < 0.01 and np.abs(first[-int(0.25 * rate):]).max() < 0.01
    # It is loaded exactly like a file: the page's audio and the waveform have the speech's length.
    assert page.audio_path == takes[0]
    assert page.waveform.duration == pytest.approx(first_s, abs=2 / DUB_AUDIO_RATE)
    assert len(page.audio) == pytest.approx(first_s * DUB_AUDIO_RATE, abs=2)
    assert "s of speech" in page.script.status()

    # Edit: a character the voice cannot say, and a faster rate. The new take replaces the audio.
    page.script.text.moveCursor(page.script.text.textCursor().MoveOperation.End)
    page.script.text.insertPlainText(" \u2603")  # (QTest cannot type characters beyond a keyboard's)
    page.script.rate_spin.setValue(1.5)
    assert not speak(window, qtbot)
    takes = sorted(project.path("scripts").glob("script-*.wav"))
    assert len(takes) == 2 and page.audio_path == takes[1]
    second, rate = soundfile.read(takes[1], dtype="float32")
    speech_s = len(second) / rate
    # Same words 1.5x faster: the voiced part shrinks to about 2/3 (Piper varies a little per run).
    assert spoken_seconds(second, rate) < 0.85 * spoken_seconds(first, rate)
    assert "\u2603" in page.script.status()  # the user is told what was left out
    assert page.waveform.duration == pytest.approx(speech_s, abs=2 / DUB_AUDIO_RATE)

    # Preview and export as with any audio, with the draft renderer.
    page.renderer_choice.setCurrentIndex(page.renderer_choice.findData("draft"))
    fps = project.source_info["fps"]
    n_frames = output_frame_count(len(second), rate, fps)
    qtbot.waitUntil(lambda: page.preview is not None and page.preview_key[0] == takes[1], timeout=60000)
    assert page.viewer.frame_count == n_frames
    out = tmp_path / "exports" / "script.mp4"
    monkeypatch.setattr(app.pages.dub_export, "ask_save_path", lambda parent, suggested: out)
    with qtbot.waitSignal(window.session.runner.stopped, timeout=180000,
                          check_params_cb=lambda name: name == app.pages.dub.EXPORT_JOB):
        window.actions_by_id["export"].trigger()
    assert not error_boxes(window)
    assert page.last_export == out
    info = probe(out)
    assert info.frame_count == n_frames and info.has_audio
    # The video covers the speech to within one frame.
    assert abs(info.frame_count / info.fps - speech_s) <= 1 / fps


@pytest.fixture
def plain_window(window, tmp_path, short_video):
    from core.project import Project

    project = Project.create(tmp_path / "project", short_video, consent=True)
    window.session.open_project(project.root)
    return window


def test_empty_script_and_broken_voice_file_get_dialogs(plain_window, qtbot, tmp_path, monkeypatch):
    window, page = plain_window, plain_window.dub_page
    boxes = speak(window, qtbot)  # nothing typed
    assert len(boxes) == 1 and "script is empty" in boxes[0].text()
    assert not boxes[0].detailedText()  # a message for the user, not a traceback
    boxes[0].close()
    assert page.audio is None and not window.session.project.path("scripts").exists()
    assert page.script.speak_button.text() == "Speak" and page.script.speak_button.isEnabled()

    # A voice file whose model is not an ONNX network (its settings file is a real voice's).
    from core.tts import list_voices

    builtin = list_voices()[0]
    broken = tmp_path / "voices" / "my-voice.onnx"
    broken.parent.mkdir()
    broken.write_bytes(b"this is not an onnx model")
    shutil.copy(builtin.config_path, broken.with_name("my-voice.onnx.json"))
    monkeypatch.setattr(app.widgets.script_editor, "ask_voice_file", lambda parent: broken)
    combo = page.script.voice_combo
    combo.activated.emit(combo.findText(VOICE_FILE_ITEM))
    assert page.script.voice() == str(broken) and combo.currentText() == "my-voice.onnx"
    qtbot.keyClicks(page.script.text, SCRIPT)
    qtbot.waitUntil(lambda: not error_boxes(window), timeout=5000)
    boxes = speak(window, qtbot)
    assert len(boxes) == 1 and "my-voice.onnx" in boxes[0].text() and "could not be loaded" in boxes[0].text()
    assert not boxes[0].detailedText()
    assert page.audio is None
