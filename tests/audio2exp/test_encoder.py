"""The Whisper speech encoder: bundled model checked by SHA-256, 50 Hz features without seams
between its 30 s windows, clear refusals of bad folders, and the MFCC fallback."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from core.audio2exp.encoder import (BUNDLED_SHA256, STEP_S, EncoderConfig, EncoderError, SpeechEncoder,
                                    bundled_folder, load_encoder)
from core.audio2exp.features import SAMPLE_RATE, AudioFeatureConfig
from core.audio2exp.registry import row_size
from core.audio2exp.speech import features_for, resolve_features
from core.media import load_audio
from tests.conftest import media


@pytest.fixture(scope="module")
def encoder() -> SpeechEncoder:
    return load_encoder()


@pytest.fixture(scope="module")
def jfk() -> np.ndarray:
    return load_audio(media("audio/whisper__jfk.flac"), SAMPLE_RATE)  # 11 s


def test_bundled_encoder_is_checked_and_gives_50_hz_features(encoder, jfk):
    assert encoder.sha256 == BUNDLED_SHA256 and encoder.dim == 384 and encoder.n_mels == 80
    steps = encoder.encode(jfk)
    assert steps.shape == (int(np.ceil(len(jfk) / (STEP_S * SAMPLE_RATE))), 384)
    assert np.isfinite(steps).all()
    # Speech and silence give different features: the encoder really listens.
    silent = encoder.encode(np.zeros_like(jfk))
    assert np.abs(steps - silent).mean() > 0.1 * np.abs(silent).mean()


def test_long_audio_has_no_seams_between_windows(encoder, jfk):
    # 66 s: three overlapping 30 s windows; the first keeps 0..27 s, the second from 27 s on.
    # (Whisper's features depend on where in its window a sound falls, so windows placed
    # differently never agree exactly; what must not happen is a jump where they meet.)
    audio = np.concatenate([jfk] * 6)
    steps = encoder.encode(audio)
    assert steps.shape[0] == int(np.ceil(len(audio) / 320))
    cut = int(27.0 / STEP_S)
    # And the two sides of the cut are as alike as any two neighbouring steps elsewhere.
    jump = np.abs(steps[cut] - steps[cut - 1]).mean()
    typical = np.median(np.abs(np.diff(steps[100:1000], axis=0)).mean(axis=1))
    assert jump < 3 * typical


def test_bad_folders_are_refused_with_what_to_do(tmp_path):
    with pytest.raises(EncoderError, match="no such speech-encoder folder"):
        SpeechEncoder.load(EncoderConfig(folder=str(tmp_path / "missing")))
    (tmp_path / "empty").mkdir()
    with pytest.raises(EncoderError, match="not a CTranslate2 model folder"):
        SpeechEncoder.load(EncoderConfig(folder=str(tmp_path / "empty")))
    other = tmp_path / "translator"
    other.mkdir()
    (other / "model.bin").write_bytes(b"\0" * 1000)
    (other / "config.json").write_text(json.dumps({"add_source_bos": False, "decoder_start_token": "<s>"}))
    with pytest.raises(EncoderError, match="not a Whisper speech model"):
        SpeechEncoder.load(EncoderConfig(folder=str(other)))
    # A damaged copy of the bundled model: the weights file cut short.
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    source = bundled_folder()
    for name in ("config.json", "vocabulary.txt", "tokenizer.json"):
        shutil.copy(source / name, damaged / name)
    (damaged / "model.bin").write_bytes((source / "model.bin").read_bytes()[:5_000_000])
    with pytest.raises(EncoderError, match="cannot load this Whisper model"):
        SpeechEncoder.load(EncoderConfig(folder=str(damaged)))
    # The same file where the bundled one (or the one a model was trained with) is expected.
    with pytest.raises(EncoderError, match="damaged or was replaced"):
        SpeechEncoder.load(EncoderConfig(folder=str(damaged)), expected_sha256=BUNDLED_SHA256)


def test_without_an_encoder_the_mfcc_rows_are_used_and_said_so(tmp_path, jfk):
    config, note = resolve_features(AudioFeatureConfig(kind="whisper", encoder_folder=str(tmp_path / "gone")))
    assert config.kind == "mfcc" and "using MFCC features instead" in note and "\n" not in note
    assert features_for(jfk, 25.0, None, config).rows.shape == (round(11.0 * 25), row_size(config))


def test_whisper_rows_one_per_frame_silence_is_zero(jfk):
    config, note = resolve_features(AudioFeatureConfig(kind="whisper"))
    assert config.kind == "whisper" and config.encoder_dim == 384 and "tiny.en" in note
    audio = np.concatenate([np.zeros(2 * SAMPLE_RATE, np.float32), jfk[:3 * SAMPLE_RATE]])
    feats = features_for(audio, 30000 / 1001, None, config)
    assert feats.rows.shape == (round(5.0 * 30000 / 1001), row_size(config))
    first = int(np.argmax(feats.gate > 0.5))
    assert 1.9 < first / (30000 / 1001) < 2.6  # JFK's first word starts soon after the 2 s of silence
    assert np.all(feats.rows[:first - 12] == 0.0)  # digital silence: the all-zero row
