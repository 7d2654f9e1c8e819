"""The target clip's own audio/video offset: a known shift of its sound is found and removed."""

from __future__ import annotations

import numpy as np
import pytest

from core.audio2exp.av_offset import DEAD_ZONE_S, measure_offset, shift_audio
from core.audio2exp.data import load_training_data
from core.audio2exp.features import SAMPLE_RATE, AudioFeatureConfig
from core.audio2exp.phoneme_rows import phoneme_class_steps
from core.holdout import holdout_start
from core.media import load_audio
from core.tracking import load_tracking

DELAY_S = 0.12


@pytest.fixture(scope="module")
def clip(audio_project):
    """(speech, opening, fps, training frames) of the 27 s andrew clip, whose sound is synced."""
    tracking = load_tracking(audio_project)
    n = tracking.n_frames
    train = np.arange(holdout_start(n))
    return load_audio(audio_project.source_video, SAMPLE_RATE), tracking.mouth_opening(), tracking.fps, train


def _offset(samples, clip):
    _, opening, fps, train = clip
    return measure_offset(phoneme_class_steps(samples, AudioFeatureConfig(kind="phonemes"), None), opening, fps, train)


def test_a_known_delay_of_the_sound_is_found_and_removed(clip):
    speech = clip[0]
    synced = _offset(speech, clip)
    assert abs(synced.offset_s) <= DEAD_ZONE_S and synced.applied_s == 0.0, synced
    assert synced.corr > 0.3

    delayed = np.concatenate([np.zeros(int(DELAY_S * SAMPLE_RATE), speech.dtype), speech])[:len(speech)]
    late = _offset(delayed, clip)
    assert late.applied_s == pytest.approx(synced.offset_s + DELAY_S, abs=0.02), late

    early = _offset(shift_audio(speech, DELAY_S, SAMPLE_RATE), clip)  # sound 120 ms ahead of the lips
    assert early.applied_s == pytest.approx(synced.offset_s - DELAY_S, abs=0.02), early

    repaired = _offset(shift_audio(delayed, late.applied_s, SAMPLE_RATE), clip)
    assert abs(repaired.offset_s - synced.offset_s) <= 0.02 and repaired.applied_s == 0.0, repaired


def test_training_data_learns_from_the_synced_sound(audio_project_copy, monkeypatch):
    import core.audio2exp.data

    speech = load_audio(audio_project_copy.source_video, SAMPLE_RATE)
    delay = int(DELAY_S * SAMPLE_RATE)
    # the clip's own sound, delayed, where the training data reads it
    monkeypatch.setattr(core.audio2exp.data, "load_audio", lambda path, rate, **kw: np.concatenate(
        [np.zeros(delay, speech.dtype), speech])[:len(speech)])
    features = AudioFeatureConfig(kind="mfcc")
    data = load_training_data(audio_project_copy, features, 0.2)
    assert data.av_offset.applied_s == pytest.approx(DELAY_S, abs=0.04), data.av_offset
    unsynced = load_training_data(audio_project_copy, features, 0.2, sync=False)
    assert unsynced.av_offset.applied_s == 0.0
    monkeypatch.undo()
    original = load_training_data(audio_project_copy, features, 0.2, sync=False)
    # The synced rows match the original sound's rows (but for the zeros at the end); the delayed do not.
    head = len(original.rows) - 10
    synced_err = np.abs(data.rows[:head] - original.rows[:head]).mean()
    delayed_err = np.abs(unsynced.rows[:head] - original.rows[:head]).mean()
    assert synced_err < 0.5 * delayed_err, (synced_err, delayed_err)
