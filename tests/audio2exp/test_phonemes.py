"""Phoneme evidence (hama's recogniser): checked asset, rows aligned with the video frames at any
fps, the fallback when the asset or engine is missing or damaged, the registry seam, and closed
lips on real p/b/m."""

from __future__ import annotations

import json
import logging
import shutil

import numpy as np
import pytest

from core.audio2exp import AudioTrainConfig, predict_expressions, train_audio_job
from core.audio2exp import phonemes as phon
from core.audio2exp import registry
from core.audio2exp.closures import closure_mask
from core.audio2exp.features import SAMPLE_RATE, AudioFeatureConfig
from core.audio2exp.model import META_FILE, load_audio_model
from core.audio2exp.speech import features_for, resolve_features
from core.audio2exp.visemes import BILABIAL, CLASSES, class_posteriors
from core.jobs import run_job
from core.media import load_audio
from core.project import Project
from tests.conftest import media


@pytest.fixture(scope="module")
def jfk() -> np.ndarray:
    return load_audio(media("audio/whisper__jfk.flac"), SAMPLE_RATE)  # 11 s


@pytest.fixture(scope="module")
def phoneme_config() -> AudioFeatureConfig:
    return resolve_features(AudioFeatureConfig(kind="phonemes"))[0]


def test_recogniser_is_checked_and_hears_the_sounds(jfk):
    rec = phon.load_recogniser()
    assert rec.sha256 == phon.ASSET_SHA256
    probs = rec.posteriors(jfk)
    assert probs.shape == (int(np.ceil(len(jfk) / 320)), phon.N_TOKENS)
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-3)
    classes = class_posteriors(probs, rec.tokens)
    # "And so my fellow Americans": the m of "my" is found as a bilabial spike near 1.1 s.
    bilabial = classes[:, BILABIAL]
    assert bilabial[int(0.9 / 0.02):int(1.3 / 0.02)].max() > 0.5
    # Silence is blank.
    silent = rec.posteriors(np.zeros(SAMPLE_RATE, np.float32))
    assert silent[:, rec.blank_id].mean() > 0.9


@pytest.mark.parametrize("fps", [25.0, 30.0])
def test_posteriors_line_up_with_the_video_frames(jfk, phoneme_config, fps):
    lead = 0.4  # s of silence in front: exactly 10 frames at 25 fps, 12 at 30
    shift = int(round(lead * fps))
    audio = jfk[:6 * SAMPLE_RATE]
    padded = np.concatenate([np.zeros(int(lead * SAMPLE_RATE), np.float32), audio])
    a = features_for(audio, fps, None, phoneme_config)
    b = features_for(padded, fps, None, phoneme_config)
    assert a.rows.shape == (round(6 * fps), registry.row_size(phoneme_config))
    assert b.rows.shape == (round(6.4 * fps), registry.row_size(phoneme_config))
    # The phoneme evidence of the padded audio is the same track moved by exactly `shift` frames.
    speech_a = a.rows[:, :len(CLASSES)].sum(axis=1)  # all non-blank class mass per frame
    speech_b = b.rows[:, :len(CLASSES)].sum(axis=1)
    lags = range(shift - 3, shift + 4)
    corr = [np.corrcoef(speech_a[:len(speech_a) - 4], speech_b[lag:lag + len(speech_a) - 4])[0, 1] for lag in lags]
    assert list(lags)[int(np.argmax(corr))] == shift and max(corr) > 0.9
    # The bilabial spikes move by the lead, within one 20 ms step.
    assert len(a.bilabial) >= 1 and len(a.bilabial) == len(b.bilabial)
    assert np.allclose(b.bilabial - a.bilabial, lead, atol=0.021)
    # The evidence starts where the speech does: first frame with phoneme mass vs the speech gate.
    first_gate = int(np.argmax(b.gate > 0.5))
    first_speech = int(np.argmax(speech_b > 0.3))
    assert abs(first_speech - first_gate) <= 0.15 * fps
    assert first_gate >= shift  # nothing before the silence ends


def test_closures_hold_two_frames_and_short_openings_do_not_flicker():
    # One spike: at least two frames closed at 25 and at 30 fps.
    for fps in (25.0, 30.0, 50.0):
        mask = closure_mask(np.array([1.0]), fps, 100, offset_s=-0.08)
        assert mask.sum() >= 2 and np.all(np.diff(np.flatnonzero(mask)) == 1)
        assert mask[int(round(0.92 * fps))]  # centred 80 ms before the spike
    # Two spikes whose closures leave a 40 ms (one frame at 25 fps) opening: it is closed too.
    mask = closure_mask(np.array([1.0, 1.12]), 25.0, 100, offset_s=-0.08, hold_s=0.08)
    run = np.flatnonzero(mask)
    assert np.all(np.diff(run) == 1) and len(run) >= 5


def _damaged_copy(tmp_path):
    bad = tmp_path / phon.ASSET_NAME
    data = bytearray(phon.asset_path().read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte in the weights
    bad.write_bytes(bytes(data))
    return bad


@pytest.mark.parametrize("case", ["missing", "damaged", "no engine"])
def test_missing_or_damaged_asset_gives_one_clear_line_and_whisper_features(case, tmp_path, monkeypatch, caplog, jfk):
    if case == "missing":
        monkeypatch.setattr(phon, "asset_path", lambda: tmp_path / "gone" / phon.ASSET_NAME)
        expect = "is missing"
    elif case == "damaged":
        bad = _damaged_copy(tmp_path)
        monkeypatch.setattr(phon, "asset_path", lambda: bad)
        expect = "damaged or was replaced"
    else:
        from hama import _engine

        monkeypatch.setattr(_engine, "available", lambda: False)
        monkeypatch.setattr(phon, "_LOADED", {})
        expect = "native engine"
    with caplog.at_level(logging.WARNING):
        for kind in ("phonemes", "whisper+phonemes"):
            caplog.clear()
            config, note = resolve_features(AudioFeatureConfig(kind=kind))
            assert config.kind == "whisper" and config.encoder_dim == 384 and config.phoneme_dim == 0
            assert expect in note and "using Whisper encoder features instead" in note and "\n" not in note
            lines = [r for r in caplog.records if r.levelno >= logging.WARNING]
            assert len(lines) == 1 and expect in lines[0].getMessage()
    # The fallback features work: Whisper rows, no phoneme evidence.
    feats = features_for(jfk[:2 * SAMPLE_RATE], 25.0, None, config)
    assert feats.rows.shape == (50, registry.row_size(config)) and feats.bilabial is None
    # A model trained with phonemes cannot silently predict without them.
    with pytest.raises(phon.PhonemeError):
        features_for(jfk[:SAMPLE_RATE], 25.0, None, resolve_features_ok())


def resolve_features_ok() -> AudioFeatureConfig:
    return AudioFeatureConfig(kind="phonemes", phoneme_sha256=phon.ASSET_SHA256, phoneme_dim=27)


def test_registry_lists_the_variants_and_refuses_unknown_ones(capsys):
    assert registry.names() == ("mfcc", "whisper", "phonemes", "whisper+phonemes", "auto")
    assert registry.DEFAULT == "auto" and registry.variant("auto").candidates == ("phonemes", "whisper+phonemes")
    with pytest.raises(ValueError, match="choose one of"):
        registry.variant("visemes")
    import main

    with pytest.raises(SystemExit):
        main.main(["train-audio", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert all(name in help_text for name in registry.names())


@pytest.fixture(scope="module")
def phoneme_model(tmp_path_factory, audio_project):
    root = tmp_path_factory.mktemp("phonemes") / "project"
    shutil.copytree(audio_project.root, root)
    project = Project.open(root)
    # The default "auto" choice: both phoneme variants trained, the lower held-out mouth error kept.
    result = run_job(train_audio_job(project, AudioTrainConfig(features=AudioFeatureConfig(kind="auto"), epochs=4)))
    return project, result


def test_auto_features_keep_the_variant_with_the_lower_held_out_error(phoneme_model):
    project, result = phoneme_model
    meta = json.loads(project.path(META_FILE).read_text())
    kept = meta["features"]["kind"]
    assert kept in registry.variant("auto").candidates and meta["metrics"]["features"] == kept
    (other, scores), = meta["metrics"]["features_tried"].items()
    assert other != kept and other in registry.variant("auto").candidates
    assert result.scores[result.chosen].mouth_nmse <= min(s["mouth_nmse"] for s in scores.values())
    assert f"kept {kept}" in result.features_note and "\n" not in result.features_note


def test_a_recorded_bilabial_closes_the_predicted_lips(phoneme_model, jfk):
    project, result = phoneme_model
    meta = json.loads(project.path(META_FILE).read_text())
    assert registry.variant(meta["features"]["kind"]).phonemes and meta["closures"] is not None
    score = result.scores[result.chosen]
    assert -0.2 <= score.closure_offset_s <= 0.0
    model = load_audio_model(project)
    fps = model.fps
    # JFK's "my" and "Americans": every p/b/m the recogniser finds closes the lips for >= 2 frames.
    feats = features_for(jfk, fps, None, model.meta.features)
    assert len(feats.bilabial) >= 2
    opening = model.mouth_opening(predict_expressions(project, jfk))
    forcing = model.meta.closures
    mask = closure_mask(feats.bilabial, fps, len(opening), forcing.offset_s)
    assert np.all(opening[mask] <= forcing.closed + 1e-4)
    # ... which the network alone does not do: without the forcing some of those frames are open.
    model.meta.closures = None
    try:
        free = model.mouth_opening(model.predict(jfk))
    finally:
        model.meta.closures = forcing
    assert np.any(free[mask] > forcing.closed + 0.005)
    # Lips open on the vowels around them: the closures are closures, not a shut mouth.
    speaking = (feats.gate > 0.5) & ~mask
    assert np.median(opening[speaking]) > forcing.closed + 0.005


def test_an_audio_model_trained_before_phonemes_still_dubs(tmp_path, audio_project, jfk):
    """A model saved by the code before issue 23: no phoneme fields, no closures entry."""
    root = tmp_path / "project"
    shutil.copytree(audio_project.root, root)
    project = Project.open(root)
    run_job(train_audio_job(project, AudioTrainConfig(features=AudioFeatureConfig(kind="whisper"), epochs=1)))
    meta = json.loads(project.path(META_FILE).read_text())
    for key in ("phoneme_sha256", "phoneme_dim"):
        meta["features"].pop(key)
    meta.pop("closures")
    project.path(META_FILE).write_text(json.dumps(meta))
    again = Project.open(root)
    expressions = predict_expressions(again, jfk[:3 * SAMPLE_RATE])
    model = load_audio_model(again)
    assert model.meta.features.kind == "whisper" and model.meta.closures is None
    assert expressions.shape == (round(3 * model.fps), model.n_exp) and np.isfinite(expressions).all()
    assert model.mouth_opening(expressions).std() > 1e-3  # the mouth moves with the speech


def test_batch_rows_choose_features_from_the_registry(tmp_path, audio_project):
    from core.batch.rows import read_rows
    from core.errors import DubError

    good = tmp_path / "jobs.csv"
    good.write_text(f"kind,project,features\ntrain-audio,{audio_project.root},phonemes\n")
    assert read_rows(good)[0].spec.features == "phonemes"
    bad = tmp_path / "bad.csv"
    bad.write_text(f"kind,project,features\ntrain-audio,{audio_project.root},visemes\n")
    with pytest.raises(DubError, match="row 1|line 2") as info:
        read_rows(bad)
    assert "whisper+phonemes" in str(info.value)


def test_bilabial_recall_and_speech_motion_share_on_built_cases():
    from core.lipsync_metrics import bilabial_recall, speech_motion_share

    fps = 25.0
    real = np.linspace(0.03, 0.07, 100)
    real[[5, 6, 20, 21, 40, 41, 60, 61, 80, 81]] = 0.0  # real closures (threshold about 0.01)
    predicted = real.copy()
    predicted[[60, 61]] = 0.05  # the second one missed by one frame
    predicted[59] = 0.0
    # Spikes 100 ms after each closure (the recogniser fires near the release).
    out = bilabial_recall(real, predicted, np.array([0.9, 2.5]), fps)
    assert out["frames"] == 2 and out["share"] == 0.5 and out["share_within_1_frame"] == 1.0
    assert np.isnan(bilabial_recall(real, predicted, None, fps)["share"])
    gate = np.zeros(100)
    gate[:50] = 1.0
    opening = np.full(100, 0.05)
    opening[40:50] = 0.0  # closed while speaking: wrong
    opening[50:60] = 0.05  # still open at the start of the pause
    opening[60:] = 0.0
    share = speech_motion_share(opening, gate, fps, threshold=0.01)
    assert share["voiced_open"] == 0.8
    assert share["pause_frames"] == 46 and share["pause_closed"] == 40 / 46
    assert share["share"] == (40 + 40) / (50 + 46)
