"""Dub page: recording through a fake microphone, no-device messages, trimming, playback, errors."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile
from PySide6.QtCore import Qt

import app.audio_io
import app.jobs
import app.pages.dub_export
from app_fakes import error_boxes, fake_export, FakePreview, FakeSoundDevice
from core.errors import DubError
from core.media import load_audio

RATE = 16000
FAIL_AFTER_FRAMES = 10  # of the 50 in the 2 s trim


@pytest.fixture
def project_window(window, tmp_path, short_video):
    from core.project import Project

    project = Project.create(tmp_path / "project", short_video, consent=True)
    window.session.open_project(project.root)
    return window


@pytest.fixture
def fake_mic(monkeypatch, speech_wav):
    device = FakeSoundDevice(load_audio(speech_wav, RATE), RATE)
    monkeypatch.setattr(app.audio_io, "sounddevice", lambda: device)
    return device


def test_recording_from_a_fake_microphone(project_window, qtbot, fake_mic):
    page = project_window.dub_page
    project_window.actions_by_id["page_dub"].trigger()  # showing the page lists the devices again
    assert page.device_combo.currentText() == "Fake USB microphone"
    assert page.record_button.isEnabled() and page.level.isVisible()
    qtbot.mouseClick(page.record_button, Qt.MouseButton.LeftButton)
    assert page.recorder.recording and page.record_button.text() == "Stop"
    qtbot.waitUntil(lambda: page.recorder.seconds > 1.0, timeout=10000)
    qtbot.waitUntil(lambda: page.level.fraction > 0.2, timeout=5000)  # speech: well above -48 dBFS
    qtbot.mouseClick(page.record_button, Qt.MouseButton.LeftButton)
    assert not page.recorder.recording and page.record_button.text() == "Record"
    saved = sorted(project_window.session.project.path("recordings").glob("recording-*.wav"))
    assert len(saved) == 1
    samples, rate = soundfile.read(saved[0], dtype="float32")
    assert rate == RATE and len(samples) >= RATE
    # What was saved is what the microphone sent: the start of the real speech (16-bit rounding).
    np.testing.assert_allclose(samples, fake_mic.source[:len(samples)], atol=1.5 / 32768)
    assert page.audio_path == saved[0]
    assert page.waveform.duration == pytest.approx(len(samples) / rate, abs=0.01)
    assert project_window.settings.preferences().input_device == "Fake USB microphone"
    # The project is not prepared: the preview says so in the page, without a dialog.
    qtbot.waitUntil(lambda: page.preview_label.text().startswith("No preview"), timeout=30000)
    assert not error_boxes(project_window)


def test_no_microphone_is_said_in_the_page(project_window, monkeypatch):
    class NoDevices:
        def query_devices(self):
            return []

    monkeypatch.setattr(app.audio_io, "sounddevice", lambda: NoDevices())
    page = project_window.dub_page
    page.refresh_devices()
    assert not page.record_button.isEnabled()
    assert "No microphone" in page.record_label.text()
    assert app.audio_io.Player().play(np.zeros(100, np.float32), RATE) is False


def test_common_audio_formats_load_and_a_bad_file_gets_a_dialog(project_window, qtbot, shared_data, tmp_path):
    from PySide6.QtCore import QMimeData, QPointF, QUrl
    from PySide6.QtGui import QDropEvent

    page = project_window.dub_page
    # (A raw ADTS .aac has no reliable length in its header, so it is not in this list.)
    for name, seconds in (("audio/edtalk__teaser.mp3", 45.5), ("audio/whisper__jfk.flac", 11.0)):
        assert page.load_audio(shared_data / name), name
        assert page.waveform.duration == pytest.approx(seconds, abs=0.15), name  # MANIFEST.md lengths
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(shared_data / "audio/dreamtalk__acknowledgement_english.m4a"))])
    page.dropEvent(QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                              Qt.KeyboardModifier.NoModifier))
    assert page.audio_path.name == "dreamtalk__acknowledgement_english.m4a"
    assert page.waveform.duration == pytest.approx(16.6, abs=0.15)
    broken = tmp_path / "speech.wav"
    broken.write_bytes(b"RIFF not really")
    assert not page.load_audio(broken)
    qtbot.waitUntil(lambda: len(error_boxes(project_window)) == 1, timeout=5000)
    assert "speech.wav" in error_boxes(project_window)[0].text()
    assert page.audio_path.name.endswith(".m4a")  # the previous audio stays loaded


def test_missing_portaudio_is_reported_not_raised(monkeypatch):
    def broken():
        raise DubError("Sound is not available: the PortAudio library is missing.")

    monkeypatch.setattr(app.audio_io, "sounddevice", broken)
    assert app.audio_io.input_devices() == []
    assert not app.audio_io.has_output_device()


def test_trim_playback_and_a_failing_export(project_window, qtbot, fake_mic, speech_wav, monkeypatch, tmp_path):
    monkeypatch.setattr(app.jobs, "dub_preview", FakePreview)
    page = project_window.dub_page
    assert page.load_audio(speech_wav)
    page.waveform.set_trim(1.0, 3.0)
    qtbot.waitUntil(lambda: page.preview is not None and page.preview_key[1:3] == (1.0, 3.0), timeout=30000)
    fps = page.preview.fps
    assert page.viewer.frame_count == round(2.0 * fps)
    trimmed = page.dub_audio_path()
    assert trimmed.parent == project_window.session.project.path("audio")
    info = soundfile.info(trimmed)
    assert info.frames == pytest.approx(2.0 * info.samplerate, abs=2)
    # The trimmed file holds the same samples as the loaded audio between the handles.
    cut, _ = soundfile.read(trimmed, dtype="float32")
    np.testing.assert_allclose(cut, page.audio[48000:3 * 48000], atol=1.5 / 32768)

    # Playback: sound from the trim start, frames advance with the clock.
    fake_mic.query_devices = lambda: [{"name": "speaker", "max_input_channels": 0,
                                       "max_output_channels": 2, "default_samplerate": 48000.0}]
    page.player = None
    project_window.actions_by_id["page_dub"].trigger()
    project_window.actions_by_id["play_pause"].trigger()
    assert page.play_timer.isActive() and page.play_button.text() == "Pause"
    assert fake_mic.played == [(2 * 48000, 48000)]
    qtbot.waitUntil(lambda: page.viewer.frame >= 3, timeout=10000)
    project_window.actions_by_id["play_pause"].trigger()
    assert not page.play_timer.isActive()

    # An export that fails half-way through writing shows the core's message in a dialog and leaves
    # no file: neither under the chosen name nor the partial one being written.
    partial_sizes = []

    def failing_export(project, audio, out, renderer=None):
        frames = fake_export(project, audio, out)  # the real VideoWriter
        for record in frames:
            yield record
            if record.step == FAIL_AFTER_FRAMES:
                partial_sizes.extend(p.stat().st_size for p in out.parent.glob(f".{out.name}.*"))
                frames.throw(DubError("The renderer ran out of memory. Close other programs and export again."))

    monkeypatch.setattr(app.jobs, "export", failing_export)
    monkeypatch.setattr(app.pages.dub_export, "ask_save_path", lambda parent, suggested: tmp_path / "x.mp4")
    page.export()
    # (Encoding the frames before the failure takes seconds on a busy CPU.)
    qtbot.waitUntil(lambda: len(error_boxes(project_window)) == 1, timeout=60000)
    assert "Close other programs and export again" in error_boxes(project_window)[0].text()
    assert sorted(p.name for p in tmp_path.iterdir() if "x.mp4" in p.name) == []
    assert len(partial_sizes) == 1 and partial_sizes[0] > 0  # the failure came while the file was being written
    assert not page.reveal_button.isEnabled()
