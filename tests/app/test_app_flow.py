"""The whole app on a real clip with tiny budgets: import -> prepare -> overlays -> train -> audio ->
preview -> export, driven through the widgets as a user would."""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import pytest
from PySide6.QtCore import Qt

import app.jobs
import app.pages.dub_export
from app.main_window import DUB, PREPARE, TRAIN
from app_fakes import error_boxes, FakePreview, fake_export

HAS_SYNTHESIS = importlib.util.find_spec("core.lowerface") is not None


def create_project(window, qtbot, video, folder):
    page = window.start_page
    dialog = page.start_new_project(video)
    dialog.folder.setText(str(folder))
    dialog.consent.setChecked(True)
    with qtbot.waitSignal(page.opened, timeout=10000):
        qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)
    return window.session.project


def wait_job(qtbot, window, name, timeout):
    runner = window.session.runner
    with qtbot.waitSignal(runner.stopped, timeout=timeout, check_params_cb=lambda n: n == name):
        pass
    assert not error_boxes(window), error_boxes(window)[0].text() if error_boxes(window) else ""


def snapshot(window, name):
    """With APP_SNAPSHOT_DIR set, save the window as a PNG there (for looking at the pages)."""
    folder = os.environ.get("APP_SNAPSHOT_DIR")
    if folder:
        window.grab().save(os.path.join(folder, f"{name}.png"))


def shown(viewer):
    return None if viewer.view.array is None else viewer.view.array.copy()


def test_full_flow_on_a_real_clip(window, qtbot, tmp_path, short_video, speech_wav, monkeypatch):
    from core.media import probe

    project = create_project(window, qtbot, short_video, tmp_path / "face5")
    assert window.pages.currentIndex() == PREPARE

    # ---- prepare: the real tracking and 3D fit, with progress ----------------------------------
    prepare = window.prepare_page
    records = []
    window.session.runner.progress.connect(lambda n, p: records.append(p))
    qtbot.mouseClick(prepare.start_button, Qt.MouseButton.LeftButton)
    assert not prepare.start_button.isEnabled()  # one job at a time
    wait_job(qtbot, window, "prepare", 120000)
    assert records and records[-1].fraction > 0.9
    fractions = [p.fraction for p in records if p.fraction is not None]
    assert fractions == sorted(fractions)  # the bar only moves forward
    assert prepare.progress.bar.value() == 1000
    assert "Verdict" in prepare.report.toPlainText()
    n_frames = project.source_info["frame_count"]
    assert prepare.viewer.frame_count == n_frames

    # ---- overlays: each toggle changes the picture, only inside the face -----------------------
    from core.tracking import load_crops

    crops = load_crops(project)
    prepare.viewer.set_frame(60)
    qtbot.waitUntil(lambda: shown(prepare.viewer) is not None and
                    np.array_equal(shown(prepare.viewer), crops[60]), timeout=10000)
    plain = shown(prepare.viewer)
    for name in ("landmarks", "mesh", "render", "mask", "expanded_mask"):
        box = prepare.toggles[name]
        assert box.isEnabled(), f"{name}: {box.toolTip()}"
        box.setChecked(True)
        qtbot.waitUntil(lambda: not np.array_equal(shown(prepare.viewer), plain), timeout=30000)
        changed = np.any(shown(prepare.viewer) != plain, axis=2)
        # Overlays are drawn on the face: the image border (outside any face) stays untouched.
        assert 0.002 < changed.mean() < 0.8, name
        assert not changed[:, :8].any() and not changed[:, -8:].any(), name
        box.setChecked(False)
        qtbot.waitUntil(lambda: np.array_equal(shown(prepare.viewer), plain), timeout=30000)
    prepare.toggles["landmarks"].setChecked(True)
    prepare.toggles["expanded_mask"].setChecked(True)
    qtbot.waitUntil(lambda: not prepare.renders.busy, timeout=30000)
    snapshot(window, "2_prepare")
    prepare.toggles["landmarks"].setChecked(False)
    prepare.toggles["expanded_mask"].setChecked(False)
    window.actions_by_id["next_frame"].trigger()
    assert prepare.viewer.frame == 61

    # ---- train: the real audio model (one epoch) and the real neural renderer (two tiny steps) --
    monkeypatch.setattr(app.jobs, "train_audio", lambda p: _real_audio_training(p))
    monkeypatch.setattr(app.jobs, "train_renderer", lambda p, **_: _real_renderer_training(p))
    window.actions_by_id["page_train"].trigger()
    assert window.pages.currentIndex() == TRAIN
    train = window.train_page
    audio_panel, renderer_panel = train.panels["train_audio"], train.panels["train_renderer"]
    qtbot.mouseClick(audio_panel.start, Qt.MouseButton.LeftButton)
    wait_job(qtbot, window, "train_audio", 120000)
    assert audio_panel.plot.point_count() > 0
    assert project.is_current("audio_model")
    assert "Trained" in audio_panel.status.text()
    assert "built-in Whisper tiny.en" in audio_panel.status.text()
    # Another speech encoder: a folder that is not a model is refused in a box; the bundled
    # model's folder is accepted and remembered by the project; an empty choice goes back.
    from core.audio2exp.encoder import bundled_folder

    train.choose_encoder(str(tmp_path))
    assert error_boxes(window) and project.manifest["settings"].get("speech_encoder", "") == ""
    for box in error_boxes(window):
        box.close()
    train.choose_encoder(str(bundled_folder()))
    assert project.manifest["settings"]["speech_encoder"] == str(bundled_folder().resolve())
    assert str(bundled_folder().resolve()) in audio_panel.status.text()
    train.choose_encoder("")
    assert project.manifest["settings"]["speech_encoder"] == ""
    qtbot.mouseClick(renderer_panel.start, Qt.MouseButton.LeftButton)
    wait_job(qtbot, window, "train_renderer", 180000)
    assert "l1" in renderer_panel.plot.data and len(renderer_panel.plot.data["l1"][0]) == 2  # 2 steps
    # Held-out frames as rows of render | generated | real, at the 32 px training size.
    assert train.preview.array is not None and train.preview.array.shape[1] == 3 * 32
    assert project.is_current("renderer")
    assert renderer_panel.start.text() == "Continue training"
    assert "2 steps" in renderer_panel.status.text()
    assert "100" in renderer_panel.progress.bar.text()
    snapshot(window, "3_train")

    # ---- dub: load audio, preview, scrub, export -------------------------------------------------
    if not HAS_SYNTHESIS:
        monkeypatch.setattr(app.jobs, "dub_preview", FakePreview)
        monkeypatch.setattr(app.jobs, "export", fake_export)
    window.actions_by_id["page_dub"].trigger()
    assert window.pages.currentIndex() == DUB
    dub = window.dub_page
    assert dub.load_audio(speech_wav)
    audio_s = probe(speech_wav).duration
    assert dub.waveform.duration == pytest.approx(audio_s, abs=0.05)
    qtbot.waitUntil(lambda: dub.preview is not None, timeout=120000)
    fps = project.source_info["fps"]
    assert dub.viewer.frame_count == round(audio_s * fps)
    qtbot.waitUntil(lambda: shown(dub.viewer) is not None, timeout=30000)
    first = shown(dub.viewer)
    assert first.shape == (project.source_info["height"], project.source_info["width"], 3)
    dub.viewer.set_frame(40)  # scrub
    qtbot.waitUntil(lambda: not np.array_equal(shown(dub.viewer), first), timeout=30000)
    assert abs(dub.waveform.playhead.value() - 40 / fps) < 1e-6

    snapshot(window, "4_dub")
    out = tmp_path / "exports" / "dubbed.mp4"
    monkeypatch.setattr(app.pages.dub_export, "ask_save_path", lambda parent, suggested: out)
    window.actions_by_id["export"].trigger()
    wait_job(qtbot, window, "export", 180000)
    assert dub.last_export == out and dub.reveal_button.isEnabled()
    info = probe(out)
    assert (info.width, info.height) == (project.source_info["width"], project.source_info["height"])
    assert info.fps == pytest.approx(fps, rel=1e-3)
    # Output covers the audio to within a frame (plus AAC's one-frame padding).
    assert info.duration == pytest.approx(audio_s, abs=1.5 / fps + 0.03)
    assert info.has_audio
    snapshot(window, "4_dub_exported")


def _real_renderer_training(project):
    import dataclasses

    from core.renderer import RendererTrainConfig, train_renderer_job

    config = RendererTrainConfig.for_device("cpu", steps=2)
    config = dataclasses.replace(config, size=32, val_frames=4, eval_every=1)
    return train_renderer_job(project, config)


def _real_audio_training(project):
    from core.audio2exp import AudioTrainConfig, train_audio_job

    return train_audio_job(project, AudioTrainConfig(model="baseline", epochs=1))
