"""Audio features: one row per video frame at any fps, aligned to frame times, normalised per
utterance, silence as the all-zero row."""

from __future__ import annotations

import numpy as np
import pytest

from core.audio2exp import AudioFeatureConfig, frame_features, window_rows
from core.audio2exp.features import SAMPLE_RATE
from core.audio2exp.registry import row_size
from core.media import load_audio
from tests.conftest import media

CONFIG = AudioFeatureConfig()
GATE = -1  # the last value of each row is the speech gate


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    """5 s of a man's real speech, 16 kHz mono."""
    return load_audio(media("audio/videoretalking__audio_2.wav"), SAMPLE_RATE)


@pytest.fixture(scope="module")
def burst_audio(speech) -> tuple[np.ndarray, float]:
    """4 s of digital silence with 0.5 s of real speech starting exactly at 2.0 s."""
    onset = 2.0
    loud = speech[np.argmax(np.abs(speech) > 0.3 * np.abs(speech).max()):][: SAMPLE_RATE // 2]
    audio = np.zeros(4 * SAMPLE_RATE, np.float32)
    start = int(onset * SAMPLE_RATE)
    audio[start:start + len(loud)] = loud
    return audio, onset


@pytest.mark.parametrize("fps", [24.0, 25.0, 30000 / 1001, 30.0])
def test_one_row_per_frame_aligned_to_frame_times(burst_audio, fps):
    audio, onset = burst_audio
    feats = frame_features(audio, fps)
    assert feats.rows.shape == (round(4.0 * fps), row_size(CONFIG))
    assert feats.gate.shape == (feats.rows.shape[0],)
    # Frame i is centred at i / fps: the first frame whose gate opens is the one whose span
    # [t - 1/(2 fps), t + 1/(2 fps)] reaches the onset, give or take the 25 ms analysis window.
    first = int(np.argmax(feats.gate > 0.1))
    assert abs(first / fps - onset) <= 0.5 / fps + 0.025 + 1e-9
    assert np.all(feats.rows[: first - 1] == 0.0)  # digital silence is the all-zero row
    # Asking for more frames than the audio covers pads with silence, never errors.
    longer = frame_features(audio, fps, n_frames=feats.rows.shape[0] + 7)
    assert longer.rows.shape[0] == feats.rows.shape[0] + 7
    assert np.all(longer.rows[-3:] == 0.0)


def test_window_is_three_frames_each_side_zero_padded():
    rows = np.arange(1, 1 + 10 * 4, dtype=np.float32).reshape(10, 4)
    win = window_rows(rows, 3)
    assert win.shape == (10, 7, 4)
    np.testing.assert_array_equal(win[:, 3], rows)
    np.testing.assert_array_equal(win[0, :3], 0.0)
    np.testing.assert_array_equal(win[-1, 4:], 0.0)
    np.testing.assert_array_equal(win[5, 0], rows[2])


def test_per_utterance_normalisation_ignores_loudness_and_speaker(speech):
    fps = 25.0
    normal = frame_features(speech, fps)
    quiet = frame_features(speech * 0.1, fps)  # the same speech recorded 20 dB quieter
    voiced = (normal.gate > 0.9) & (quiet.gate > 0.9)
    assert voiced.mean() > 0.3
    # Same words at another level give (almost) the same features: normalisation removes the level.
    diff = np.abs(normal.rows[voiced] - quiet.rows[voiced]).mean()
    assert diff < 0.1 * np.abs(normal.rows[voiced]).mean()
    # Another speaker (a TTS voice) lands in the same range: voiced values about zero mean, unit std.
    tts = frame_features(load_audio(media("audio/audiodvp__audio.aac"), SAMPLE_RATE), fps)
    for feats in (normal, tts):
        values = feats.rows[feats.gate > 0.9].reshape(-1, CONFIG.substeps, CONFIG.channels)[:, :, :-1]
        assert np.all(np.abs(values.mean(axis=(0, 1))) < 0.5)
        assert np.all((values.std(axis=(0, 1)) > 0.5) & (values.std(axis=(0, 1)) < 1.5))


def test_near_silent_noise_is_not_amplified():
    rng = np.random.default_rng(0)
    hiss = rng.normal(0.0, 3e-4, 3 * SAMPLE_RATE).astype(np.float32)  # about -70 dBFS
    feats = frame_features(hiss, 30.0)
    assert feats.voiced_share == 0.0
    assert np.all(feats.rows == 0.0)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="fps"):
        frame_features(np.zeros(16000, np.float32), 0.0)
    with pytest.raises(ValueError, match="mono"):
        frame_features(np.zeros((2, 16000), np.float32), 25.0)


def test_features_computed_block_by_block_equal_one_pass():
    from core.audio2exp.features import step_features

    speech = load_audio(media("audio/whisper__jfk.flac"), SAMPLE_RATE)  # 11 s
    whole = step_features(speech, block_steps=10**9)
    blocks = step_features(speech, block_steps=97)  # odd block size: boundaries fall everywhere
    assert blocks.shape == whole.shape == (1 + len(speech) // 160, AudioFeatureConfig().channels)
    np.testing.assert_allclose(blocks, whole, atol=1e-4)
