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
FEATURE_RATE = 16000        # the rate the audio model listens at


def prepare(project):
    """Job: track the face, fit the 3D model, return a ReadinessReport."""
    from core.prepare import PrepareConfig, prepare_job

    return prepare_job(project, PrepareConfig())


def train_audio(project):
    """Job: train the audio-to-expression model on the video's own speech."""
    from core.audio2exp import AudioTrainConfig, train_audio_job
    from core.audio2exp.features import AudioFeatureConfig
    from core.audio2exp.speech import project_features
    from core.project.history import record_history

    config = AudioTrainConfig(features=AudioFeatureConfig(kind=project_features(project)))
    return record_history(project, "audio_model", train_audio_job(project, config), continues=False)


def train_renderer(project, minutes: float | None = None, steps: int | None = None,
                   renderer: str | None = None):
    """Job: train the neural renderer (``renderer``: 'reference' or 'paper') for ``minutes`` (or
    ``steps``) MORE than it already has.

    The renderer's budgets count the whole training of the project (a resumed run finishes the same
    budget), so the time already spent on the current face capture is added here (nothing when the
    project's renderer is the other kind: that one starts afresh).
    """
    from core.project.history import record_history
    from core.renderer import RendererTrainConfig, train_renderer_job
    from core.renderer.config import DEFAULT_RENDERER

    renderer = renderer or DEFAULT_RENDERER
    done_minutes, done_steps = renderer_trained_so_far(project)
    if project.stage("renderer").settings.get("renderer", "paper") != renderer:
        done_minutes, done_steps = 0.0, 0
    config = RendererTrainConfig.for_device(
        "auto", minutes=None if minutes is None else done_minutes + minutes,
        steps=None if steps is None else done_steps + steps, renderer=renderer)
    return record_history(project, "renderer", train_renderer_job(project, config))


def renderer_trained_so_far(project) -> tuple[float, int]:
    """(minutes, steps) the renderer trained on the project's current face capture (0, 0 if none)."""
    record = project.stage("renderer")
    if record.status == "pending" or record.inputs.get("fitting") != project.stage("fitting").key:
        return 0.0, 0
    metrics = record.metrics or {}
    return float(metrics.get("elapsed_s", 0.0)) / 60.0, int(metrics.get("steps", 0))


def export(project, audio_path: Path, out_path: Path, renderer: str | None = None):
    """Job: dub ``audio_path`` onto the project's person and write ``out_path`` with the lower-face
    variant ``renderer`` (core.lowerface; None: the default)."""
    from core.dubbing.dub import DubConfig, dub_job

    return dub_job(project, audio_path, out_path, DubConfig(renderer=renderer))


def evaluate(project):
    """Job: measure the trained models on the held-out tail (core.evaluation.evaluate); writes evaluation/."""
    from core.evaluation.evaluate import EvaluateConfig, evaluate_job

    return evaluate_job(project, EvaluateConfig())


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
