"""kill -9 in the middle of long jobs: the project opens, finished work is kept, the job resumes,
and no partial file appears under a final name (issue 8)."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time

import numpy as np
import soundfile as sf

from core.jobs import run_job
from core.media import load_audio
from core.project import Project
from core.renderer import train_renderer_job
from core.renderer.checkpoint import load_checkpoint, load_config
from core.tracking import TrackingConfig, tracking_job
from core.tracking.track import PARTIAL_FILE
from tests.conftest import REPO, copy_project, media


def _start(*args):
    env = dict(os.environ, GLOG_minloglevel="2")
    return subprocess.Popen([sys.executable, "main.py", *map(str, args)], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _kill_when(proc, condition, timeout=240.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return
        if proc.poll() is not None:
            raise AssertionError(f"the job ended (exit {proc.returncode}) before it could be killed")
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("the condition to kill the job never came")


def test_kill_during_prepare_then_resume(tmp_path):
    clip = media("video/styletalk__feifeili_clip2_short__muxed_av.mp4")  # 452 frames
    root = tmp_path / "p"
    proc = _start("prepare", clip, "--project", root, "--i-have-consent")
    _kill_when(proc, lambda: (root / PARTIAL_FILE).exists())
    project = Project.open(root)  # opens after the kill
    assert project.stage("tracking").status == "running"
    seen = []
    tracking = run_job(tracking_job(project, TrackingConfig()), seen.append)
    first = next(p for p in seen if p.stage.startswith("Tracking"))
    assert first.total <= 452 - 250  # resumed from the checkpoint at frame 250, not from 0
    assert tracking.n_frames == 452 and tracking.has_face.mean() > 0.95
    assert project.is_current("tracking")


def test_kill_during_export_leaves_no_file_under_the_final_name(trained_project, tmp_path):
    speech = load_audio(trained_project.source_video, 16000)
    audio = tmp_path / "long.wav"
    sf.write(audio, np.tile(speech, 4), 16000)  # 20 s: long enough to be killed mid-way
    out = tmp_path / "out" / "dubbed.mp4"
    proc = _start("dub", "--project", trained_project.root, "--audio", audio, "--out", out, "--draft")

    def writing():
        folder = out.parent
        return folder.exists() and any(p.name.endswith(".part") and p.stat().st_size > 50_000
                                       for p in folder.iterdir())

    _kill_when(proc, writing)
    assert not out.exists()
    project = Project.open(trained_project.root)
    assert project.is_current("audio_model")  # finished work is kept


def test_kill_during_renderer_training_then_resume(prepared_project, tmp_path):
    project = copy_project(prepared_project, tmp_path / "p")
    last = project.path("renderer", "last.pt")
    proc = _start("train-renderer", "--project", project.root, "--steps", 5000, "--checkpoint-minutes", 0.002)
    _kill_when(proc, lambda: last.exists() and load_checkpoint(last)["step"] >= 3, timeout=400)

    project = Project.open(project.root)  # opens after the kill
    assert project.is_current("fitting")  # finished work is kept
    assert project.stage("renderer").status == "running"
    saved = load_checkpoint(last)["step"]
    config = dataclasses.replace(load_config(project.path("renderer")), steps=saved + 2, minutes=None)
    seen = []
    result = run_job(train_renderer_job(project, config), seen.append)
    steps = [p.step for p in seen if p.stage == "Training renderer" and p.step]
    assert steps[0] == saved + 1  # resumed from the checkpoint, not from step 0
    assert result.steps == saved + 2 and project.stage("renderer").status == "done"
    assert not [p.name for p in project.path("renderer").iterdir() if p.name.endswith(".part")]
