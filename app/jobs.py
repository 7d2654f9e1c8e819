"""The seam between the pages and the core pipeline.

Pages call these functions (``from app import jobs``; ``jobs.prepare(project)``) and never import the
pipeline's job modules themselves, so tests can replace any of them with a small fake job. Every
import of the pipeline happens inside the function, so the app opens even while a stage's module is
missing or broken; the error then reaches the user as a dialog when they start that stage.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

DUB_AUDIO_RATE = 48000      # the rate the dub page keeps audio at (playback, trimming, export)


def _start(kind: str, project, **fields):
    """The job of a JobSpec of ``kind`` with ``fields`` for the open ``project``, built as the CLI
    and the batch runner build theirs (core.commands.build_job)."""
    from core import commands  # here, not at the top: see the module's docstring

    return commands.build_job(commands.JobSpec(kind, project=project.root, **fields), project)


def prepare(project):
    """Job: track the face, fit the 3D model, return a ReadinessReport."""
    return _start("prepare", project)


def train_audio(project):
    """Job: train the audio-to-expression model on the video's own speech (the project's chosen
    speech features)."""
    return _start("train-audio", project)


def train_renderer(project, minutes: float | None = None, steps: int | None = None,
                   renderer: str | None = None):
    """Job: train the neural renderer (``renderer``: 'reference' or 'paper'; None: the default) for
    ``minutes`` (or ``steps``) MORE than it already has (core.commands: the rule of every front end)."""
    return _start("train-renderer", project, minutes=minutes, steps=steps, renderer=renderer)


def renderer_trained_so_far(project) -> tuple[float, int]:
    """(minutes, steps) the renderer trained on the project's current face capture (0, 0 if none)."""
    from core.renderer.train import trained_so_far

    return trained_so_far(project)


def export(project, audio_path: Path, out_path: Path, renderer: str | None = None):
    """Job: dub ``audio_path`` onto the project's person and write ``out_path`` with the lower-face
    variant ``renderer`` (core.lowerface; None: the default)."""
    return _start("dub", project, audio=Path(audio_path), out=Path(out_path), renderer=renderer)


def evaluate(project):
    """Job: measure the trained models on the held-out tail (core.evaluation.evaluate); writes evaluation/."""
    return _start("evaluate", project)


def load_audio(path: Path) -> np.ndarray:
    """float32 (n,) mono in [-1, 1] at DUB_AUDIO_RATE, from any common audio or video format."""
    from core.media import load_audio as _load

    return _load(path, DUB_AUDIO_RATE)


def frame_source(project):
    """The prepared frames of a project with inspection overlays (see PreparedFrames)."""
    from app.frames import PreparedFrames

    return PreparedFrames(project)


def dub_preview(project, audio_path: Path, renderer: str | None = None):
    """A DubPreview of ``audio_path``: loads the models and predicts the expressions (slow)."""
    from app.frames import DubPreview

    return DubPreview(project, audio_path, renderer=renderer)


@dataclass(frozen=True)
class SpokenScript:
    """A script spoken by an offline voice: the WAV saved in the project, and the core.tts.Speech."""

    path: Path
    speech: object  # core.tts.Speech

    def describe(self) -> str:
        return self.speech.describe()


def voices():
    """The voices a script can be spoken with (core.tts.Voice): built in, then the user's voices
    folder (core.tts.default_voices_folder())."""
    from core.tts import list_voices

    return list_voices()


def speak(project, text: str, voice: str, rate: float = 1.0):
    """Job: speak ``text`` with ``voice`` (a name from voices() or a .onnx path) at ``rate``, with
    closed-mouth silence at both ends, and save it as a WAV in the project's scripts/ folder, the
    script as a .txt beside it. Returns a SpokenScript. Raises DubError for an empty or unspeakable
    script and for a voice that is missing or broken."""
    from core.dubbing.dub import speak_into_project_job
    from core.tts import TtsConfig

    path, speech = yield from speak_into_project_job(project, text, TtsConfig(voice=voice, rate=rate))
    return SpokenScript(path, speech)


def export_queue(project_root: Path):
    """Job: run the project's export queue (core.batch.queue) until no export waits; returns a
    QueueSummary. Every export runs through the batch core, in this process."""
    from core.batch.queue import queue_job

    return queue_job(project_root)
