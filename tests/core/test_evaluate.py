"""evaluate: self-reenactment figures on the held-out tail, beside a no-lip-sync baseline."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from core.evaluation.evaluate import EvaluateConfig, evaluate_job
from core.jobs import run_job
from core.media import probe
from tests.conftest import media

FIGURES = ("ssim_full", "mae_full", "psnr_full", "ssim_mouth", "psnr_mouth", "mouth_landmark_px",
           "mouth_opening_corr")


def test_evaluate_reports_every_figure_for_renderers_and_baseline(trained_project, tmp_path):
    from core.lowerface import trained_network
    from tests.conftest import copy_project

    trained_project = copy_project(trained_project, tmp_path / "p")  # evaluate writes into it
    result = run_job(evaluate_job(trained_project, EvaluateConfig(max_frames=12)))
    network = trained_network(trained_project)
    assert set(result.figures) == {"sample", "draft", network, "baseline"}
    for name, figures in result.figures.items():
        for key in FIGURES:
            assert math.isfinite(figures[key]), (name, key)
        assert 0 < figures["ssim_full"] <= 1 and 0 <= figures["mae_full"] < 255
    # The draft moves only the lower face of the real frame: far closer to the truth than a
    # different segment of the video.
    assert result.figures["draft"]["mae_full"] < result.figures["baseline"]["mae_full"]
    assert result.figures["draft"]["ssim_full"] > result.figures["baseline"]["ssim_full"]
    saved = json.loads((result.folder / "metrics.json").read_text())
    assert set(saved["figures"]) == {"sample", "draft", network, "baseline"}
    assert "SSIM" in (result.folder / "report.txt").read_text()
    side = probe(result.folder / f"side_by_side_{network}.mp4")
    source = probe(trained_project.source_video)
    assert (side.width, side.height, side.frame_count) == (2 * source.width, source.height, 12)
    assert side.has_audio


def test_evaluate_measures_voice_transfer_and_lip_closure(trained_project, tmp_path):
    from tests.conftest import copy_project, media

    project = copy_project(trained_project, tmp_path / "p")
    voices = (media("video/videoretalking__face_3.mp4"), media("video/lipnet__GRID_bbaf2n.mpg"))
    # The whole held-out tail (24 frames of the 5 s clip): enough for a few lip closures.
    result = run_job(evaluate_job(project, EvaluateConfig(max_frames=1500, draft_too=False, voices=voices)))
    saved = json.loads((result.folder / "metrics.json").read_text())
    transfer = saved["voice_transfer"]
    assert set(transfer["clips"]) == {"videoretalking__face_3", "lipnet__GRID_bbaf2n"}
    for clip in transfer["clips"].values():
        assert -1.0 <= clip["corr"] <= 1.0 and clip["frames"] >= 70
    # The figures are voice_transfer_job's on the same clips (whose own test follows).
    from core.evaluation.voice_transfer import voice_transfer_job

    again = run_job(voice_transfer_job(project, list(voices), result.folder / "voices"))
    assert {k: round(c["corr"], 3) for k, c in again["clips"].items()} == {
        k: round(c["corr"], 3) for k, c in transfer["clips"].items()}
    assert math.isclose(transfer["mean"], sum(c["corr"] for c in transfer["clips"].values()) / 2)
    # Lip closure is lip_closure() of the tail's tracked lips, the probe on the expressions predicted
    # from the tail's own audio and that audio's speech gate.
    from core.audio2exp import load_audio_model, predict_expressions
    from core.audio2exp.features import SAMPLE_RATE, frame_features
    from core.holdout import holdout_start
    from core.lipsync_metrics import lip_closure
    from core.media import load_audio
    from core.tracking import load_tracking

    tracking = load_tracking(project)
    start, end = saved["segment"]
    assert start == holdout_start(min(tracking.n_frames, probe(project.source_video).frame_count))
    assert end - start == saved["frames"] >= 20
    fps = tracking.fps
    speech = load_audio(project.source_video, SAMPLE_RATE)[
        int(round(start / fps * SAMPLE_RATE)):int(round(end / fps * SAMPLE_RATE))]
    predicted = load_audio_model(project).mouth_opening(predict_expressions(project, speech, n_frames=end - start))
    expected = lip_closure(tracking.mouth_opening()[start:end], predicted,
                           frame_features(speech, fps, end - start).gate, fps)
    closure = saved["lip_closure"]
    assert closure["frames"] == expected["frames"] >= 3  # 5 when written
    assert closure["threshold"] == pytest.approx(expected["threshold"])
    for key in ("share", "share_within_1_frame"):  # a borderline frame may tip over, no more
        assert abs(closure[key] - expected[key]) <= 1 / expected["frames"] + 1e-9, key
    assert "voice transfer: mean r" in (result.folder / "report.txt").read_text()
    # A file that is not a talking video is refused with a message, not a traceback.
    from core.errors import DubError

    with pytest.raises(DubError, match="voice transfer|face"):
        run_job(evaluate_job(project, EvaluateConfig(max_frames=12, draft_too=False,
                                                     voices=(media("audio/whisper__jfk.flac"),))))


@pytest.fixture(scope="module")
def speaking_project(tmp_path_factory):
    """27 s of a man talking (tracked, stand-in expressions, audio model trained with the defaults):
    an audio model good enough for its voice transfer to follow the other clips' speech (r about 0.5
    when written, about 0.1 from the 5 s project's)."""
    from core.audio2exp import AudioTrainConfig, train_audio_job
    from tests.audio2exp.conftest import make_audio_project

    project = make_audio_project(tmp_path_factory.mktemp("speaking") / "andrew",
                                 media("video/styletalk__andrew_clip_2__muxed_av.mp4"))
    run_job(train_audio_job(project, AudioTrainConfig()))
    return project


def test_voice_transfer_follows_each_clip_s_own_audio_in_time(speaking_project, tmp_path, monkeypatch):
    """Each clip's r beats the same clip with its audio reversed or a second late: the figure pairs
    a clip's own speech with its own lips, frame by frame (r 0.75 / 0.45 vs reversed 0.03 / 0.18
    and late 0.08 / 0.06 when written)."""
    from core.audio2exp.features import SAMPLE_RATE
    from core.evaluation import voice_transfer
    from core.evaluation.voice_transfer import voice_transfer_job

    voices = [media("video/videoretalking__face_4.mp4"), media("video/videoretalking__face_2.mp4")]
    cache = tmp_path / "voices"
    right = run_job(voice_transfer_job(speaking_project, voices, cache))
    load = voice_transfer.load_audio
    controls = {}
    for name, change in (("reversed", lambda x: x[::-1].copy()), ("late", lambda x: np.roll(x, SAMPLE_RATE))):
        monkeypatch.setattr(voice_transfer, "load_audio", lambda *a, change=change, **k: change(load(*a, **k)))
        controls[name] = run_job(voice_transfer_job(speaking_project, voices, cache))
    assert set(right["clips"]) == {"videoretalking__face_4", "videoretalking__face_2"}
    for clip, figures in right["clips"].items():
        r = figures["corr"]
        assert r > 0.3, (clip, r)
        for name, control in controls.items():
            assert r > control["clips"][clip]["corr"] + 0.1, (clip, name, r, control["clips"][clip]["corr"])


def test_lip_closure_counts_the_closures_of_a_longer_tail(speaking_project):
    """On the 27 s clip's held-out tail (well over 10 closed-lip frames during speech) evaluate's
    lip closure is lip_closure() of the tail's tracked lips against the prediction from the tail's
    own audio: a count of real closures and a finite share, never 0 frames and NaN."""
    from core.audio2exp import load_audio_model, predict_expressions
    from core.audio2exp.features import SAMPLE_RATE, frame_features
    from core.evaluation.evaluate import _lip_closure
    from core.holdout import holdout_start
    from core.lipsync_metrics import lip_closure
    from core.media import load_audio
    from core.tracking import load_tracking

    tracking = load_tracking(speaking_project)
    fps, n = tracking.fps, tracking.n_frames
    start = holdout_start(n)
    indices = np.arange(start, n)
    speech = load_audio(speaking_project.source_video, SAMPLE_RATE)[
        int(round(start / fps * SAMPLE_RATE)):int(round(n / fps * SAMPLE_RATE))]
    expressions = predict_expressions(speaking_project, speech, n_frames=len(indices))
    predicted = load_audio_model(speaking_project).mouth_opening(expressions)
    closure = _lip_closure(tracking, indices, predicted, speech, fps)
    expected = lip_closure(tracking.mouth_opening()[indices], predicted, frame_features(speech, fps, len(indices)).gate,
                           fps)
    assert closure["frames"] == expected["frames"] >= 10
    assert 0.0 <= closure["share"] <= closure["share_within_1_frame"] <= 1.0
    assert closure["share"] == pytest.approx(expected["share"])


def test_the_tail_s_speech_is_moved_by_the_clip_s_measured_offset(trained_project, tmp_path, monkeypatch):
    """The audio model learnt from the clip's sound moved by its own audio/video offset; evaluate
    drives it with the tail's sound moved the same way (as a synced voice would drive it)."""
    import core.evaluation.evaluate as evaluate
    from core.audio2exp import load_audio_model
    from core.audio2exp.av_offset import shift_audio
    from core.media import load_audio
    from tests.conftest import copy_project

    project = copy_project(trained_project, tmp_path / "p")
    model = load_audio_model(project)
    model.meta.metrics["av_offset_applied_s"] = 0.2
    model.save(project)
    driven = []
    real_predict = evaluate.predict_expressions
    monkeypatch.setattr(evaluate, "predict_expressions",
                        lambda p, segment, **kw: driven.append(segment) or real_predict(p, segment, **kw))
    run_job(evaluate_job(project, EvaluateConfig(max_frames=10, draft_too=False)))
    fps = probe(project.source_video).fps
    start = evaluate.holdout_start(min(evaluate.load_tracking(project).n_frames, probe(project.source_video).frame_count))
    rate = evaluate.FEATURE_RATE
    speech = load_audio(project.source_video, rate)
    a, b = int(round(start / fps * rate)), int(round((start + 10) / fps * rate))
    assert np.array_equal(driven[0], shift_audio(speech, 0.2, rate)[a:b])
    assert not np.allclose(driven[0], speech[a:b])
