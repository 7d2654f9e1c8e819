"""`run`: prepare + train + dub from two files with one command and a time budget."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from core.jobs import run_job
from core.media import load_audio, probe
from core.project import Project
from core.dubbing.run_all import RunConfig, run_all_job


@pytest.mark.parametrize("renderer", [None, "reference"])
def test_run_from_two_files_gives_a_dubbed_video(tmp_path, short_video, speech_wav, renderer):
    """By default `run` trains no network: the sample-based lower face dubs right after prepare and
    the audio model. With a network chosen, it is trained within the budget and dubs."""
    audio = tmp_path / "speech.wav"
    sf.write(audio, load_audio(speech_wav, 16000)[: 2 * 16000], 16000)
    project = Project.create(tmp_path / "p", short_video, consent=True)
    out = tmp_path / "out.mp4"
    seen = []
    config = RunConfig(minutes=10, renderer_steps=2, renderer=renderer)
    result = run_job(run_all_job(project, audio, out, config), seen.append)
    info = probe(out)
    assert (info.width, info.height) == (524, 524) and info.has_audio
    assert abs(info.frame_count / info.fps - 2.0) <= 1 / info.fps
    assert result.mode == (renderer or "sample")
    for stage in ("tracking", "fitting", "samples", "audio_model"):
        assert project.is_current(stage), stage
    assert project.is_current("renderer") == (renderer is not None)
    from core.project.history import history_path

    # the training curves are kept, as from the app or train-audio (a project made by run opened
    # with empty charts before)
    assert history_path(project, "audio_model").exists()
    assert history_path(project, "renderer").exists() == (renderer is not None)
    fractions = [p.fraction for p in seen if p.fraction is not None]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    assert np.isfinite(fractions).all()
