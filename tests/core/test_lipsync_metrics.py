"""Lip closure on real tracked mouths: a prediction that closes with the real lips scores all of
them, one that never closes scores none, and the closed frames counted are during speech."""

from __future__ import annotations

import numpy as np

from core.audio2exp.features import SAMPLE_RATE, frame_features
from core.evaluation.voice_transfer import tracked_opening
from core.lipsync_metrics import lip_closure
from core.media import load_audio
from tests.conftest import media


def test_lip_closure_counts_closed_lips_during_speech(tmp_path):
    video = media("video/styletalk__feifeili_clip2_short__muxed_av.mp4")  # 15 s, 30 fps
    real, fps = tracked_opening(video, tmp_path)
    assert real.shape == (452,) and fps == 30.0 and np.isfinite(real).mean() > 0.9
    again, _ = tracked_opening(video, tmp_path)  # cached
    np.testing.assert_array_equal(again, real)
    gate = frame_features(load_audio(video, SAMPLE_RATE), fps, len(real)).gate
    same = lip_closure(real, real, gate, fps)
    assert same["frames"] >= 10 and same["share"] == 1.0
    always_open = lip_closure(real, np.full_like(real, np.nanpercentile(real, 90)), gate, fps)
    assert always_open["share"] == 0.0 and always_open["frames"] == same["frames"]
    # One frame late: every closure counts within one frame, but strictly only where the lips
    # were already closed the frame before.
    late = lip_closure(real, np.roll(real, 1), gate, fps)
    assert late["share_within_1_frame"] == 1.0 and late["frames"] == same["frames"]
    assert 0.0 < late["share"] < 1.0
    # Without speech there is nothing to count.
    assert lip_closure(real, real, np.zeros_like(gate), fps)["frames"] == 0


def test_lip_closure_counts_on_time_and_within_one_frame_apart():
    """Ten closures during speech: four predicted on time, three one frame late or early, three two
    frames off or never: 4/10 strictly, 7/10 within one frame."""
    rng = np.random.default_rng(0)
    real = rng.uniform(0.5, 1.0, 100)
    shut = np.arange(5, 100, 10)  # 10 single closed frames
    real[shut] = 0.0
    predicted = np.ones(100)
    predicted[shut[:4]] = 0.0  # on time
    predicted[shut[4:6] + 1] = 0.0  # a frame late
    predicted[shut[6] - 1] = 0.0  # a frame early
    predicted[shut[7] + 2] = 0.0  # two frames late
    predicted[shut[8] - 2] = 0.0  # two frames early; shut[9] never closes
    figures = lip_closure(real, predicted, np.ones(100), 25.0)
    assert figures["frames"] == 10
    assert figures["share"] == 0.4 and figures["share_within_1_frame"] == 0.7
