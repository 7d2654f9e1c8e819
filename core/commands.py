"""One way to start a job, for every front end: the CLI (main.py), the app (app/jobs.py), its export
queue and the batch runner each describe the job as a :class:`JobSpec` and hand it to
:func:`build_job`. ``KINDS`` is the table behind it: per kind, the small function that builds the
pipeline job, the spec fields it needs, and the project stages it reads and makes (which the batch
records and plan read too).

Rules every front end shares live here, once:
- a renderer training's ``minutes`` / ``steps`` are MORE training on top of what the project's
  current network already has (core.renderer.train.budget_after), as the app's *Train N more
  minutes* says; with neither given, the config's default minutes more;
- a speech-feature variant not named in the spec is the project's chosen one
  (core.audio2exp.speech.project_features), else the registry's default;
- a default not given in the spec is the stage config's own (PrepareConfig, TtsConfig,
  RunConfig, core.renderer.config.DEFAULT_RENDERER, core.lowerface.DEFAULT).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.audio2exp import AudioTrainConfig, train_audio_job
from core.audio2exp.features import AudioFeatureConfig
from core.audio2exp.registry import variant as feature_variant
from core.audio2exp.speech import project_features, set_project_encoder_folder
from core.crop_size import AUTO
from core.dubbing.dub import DubConfig, dub_job, dub_text_job
from core.dubbing.run_all import RunConfig, run_all_job
from core.errors import DubError
from core.evaluation.evaluate import EvaluateConfig, evaluate_job
from core.jobs import Job
from core.lowerface import get_variant, names
from core.prepare import PrepareConfig, prepare_job
from core.project import MANIFEST_NAME, Project
from core.project.history import record_history
from core.renderer import RendererTrainConfig, train_renderer_job
from core.renderer.config import DEFAULT_RENDERER
from core.renderer.train import budget_after
from core.tracking.backends import BACKENDS
from core.tts import DEFAULT_VOICE, TtsConfig

DEVICES = ("auto", "cpu", "gpu", "cuda")
RUN_PROJECT_SUFFIX = ".portrait-dub"


@dataclass(frozen=True)
class JobSpec:
    """What to run. ``project`` may be None only for ``run`` (the folder is made beside the video).

    device: 'auto' | 'cpu' | 'gpu' ('cuda' is the same as 'gpu'); for train-renderer it picks the
    training profile. consent: the user confirmed the right to use the face and voice (needed
    to create a project from ``video``). steps / epochs / model / checkpoint_minutes / backend /
    crop_size are the CLI's finer options. minutes / steps of train-renderer: MORE training (see the
    module's rules); of run: the whole run's time budget (None: RunConfig's).
    """

    kind: str
    project: Path | None = None
    video: Path | None = None
    audio: Path | None = None
    text: str | None = None
    voice: str = DEFAULT_VOICE
    rate: float = TtsConfig.rate
    out: Path | None = None
    minutes: float | None = None
    draft: bool = False
    device: str = "auto"
    consent: bool = False
    steps: int | None = None
    epochs: int | None = None
    model: str | None = None
    checkpoint_minutes: float | None = None
    backend: str = PrepareConfig.backend
    crop_size: int = AUTO  # prepare / run: pixels, or AUTO (core.crop_size: the face's own, capped)
    features: str | None = None  # train-audio: a name in core.audio2exp.registry (None: the project's)
    speech_encoder: Path | None = None  # another CTranslate2 Whisper folder, kept by the project; "bundled" = back
    voices: tuple = ()  # evaluate: other talking videos for the voice-transfer figure
    # dub / run / evaluate: the lower-face variant (core.lowerface; None: its DEFAULT); train-renderer:
    # the network to train ("reference" or "paper"; None: core.renderer.config.DEFAULT_RENDERER)
    renderer: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise DubError(f"unknown job kind {self.kind!r}; use one of {', '.join(KINDS)}")
        if self.device not in DEVICES:
            raise DubError(f"unknown device {self.device!r}; use auto, cpu or gpu")
        if self.backend not in BACKENDS:
            raise DubError(f"unknown landmark backend {self.backend!r}; use {' or '.join(BACKENDS)}")
        missing = [name for name in KINDS[self.kind].needs if getattr(self, name) in (None, "")]
        if missing:
            raise DubError(f"a {self.kind} job needs {' and '.join(missing)}")
        if self.renderer is not None:
            variant = get_variant(self.renderer)
            if self.kind == "train-renderer" and not variant.trains:
                raise DubError(f"{self.renderer!r} has no network to train; train-renderer trains one of "
                               f"{', '.join(names(trains=True))}")
        if self.features is not None:
            try:
                feature_variant(self.features)
            except ValueError as exc:
                raise DubError(str(exc)) from None
        if self.kind == "dub" and (self.audio is None) == (self.text is None):
            raise DubError("a dub job needs either audio (a file) or text (a script), not both")

    @property
    def project_dir(self) -> Path:
        """The project folder the job works in (for ``run`` without a project: beside the video)."""
        if self.project is not None:
            return Path(self.project).expanduser().resolve()
        video = Path(self.video).expanduser().resolve()
        return video.with_name(video.stem + RUN_PROJECT_SUFFIX)

    @property
    def creates_project(self) -> bool:
        """True when the job makes a new project from ``video`` (and so needs consent)."""
        return (self.kind in ("prepare", "run") and self.video is not None
                and not (self.project_dir / MANIFEST_NAME).exists())

    @property
    def uses_gpu(self) -> bool:
        """The job trains (or renders) on the GPU profile when one is asked for."""
        return self.device in ("gpu", "cuda")

    @property
    def torch_device(self) -> str:
        return {"gpu": "cuda"}.get(self.device, self.device)

    @property
    def renderer_profile(self) -> str:
        return {"cuda": "gpu"}.get(self.device, self.device)

    def replace(self, **changes) -> "JobSpec":
        return dataclasses.replace(self, **changes)


def open_project(spec: JobSpec) -> Project:
    """The job's project: opened, or created from ``spec.video`` (needs ``spec.consent``)."""
    if spec.creates_project:
        return Project.create(spec.project_dir, spec.video, consent=spec.consent)
    return Project.open(spec.project_dir)  # raises the clear "no project here" error


def script_text(spec: JobSpec) -> str:
    """The script of a text dub: ``text`` itself, or the contents of the .txt file it names."""
    text = spec.text or ""
    candidate = Path(text.strip()).expanduser() if len(text) < 4096 and "\n" not in text.strip() else None
    if candidate is not None and candidate.suffix.lower() == ".txt" and candidate.is_file():
        try:
            return candidate.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise DubError(f"{candidate}: cannot read the script ({exc}). Save it as UTF-8 text.") from exc
    return text


def build_job(spec: JobSpec, project: Project | None = None) -> Job:
    """The pipeline job that ``spec`` describes (``project``: already open, else opened here)."""
    project = project if project is not None else open_project(spec)
    if spec.speech_encoder is not None:
        folder = str(spec.speech_encoder)
        set_project_encoder_folder(project, None if folder in ("", "bundled") else folder)
    return KINDS[spec.kind].build(spec, project)


# ---- one small function per kind ---------------------------------------------------------------
def _prepare(spec: JobSpec, project: Project) -> Job:
    return prepare_job(project, PrepareConfig(backend=spec.backend, crop_size=spec.crop_size,
                                              profile=spec.renderer_profile))


def _train_audio(spec: JobSpec, project: Project) -> Job:
    config = AudioTrainConfig(**({"model": spec.model} if spec.model else {}),
                              **({"epochs": spec.epochs} if spec.epochs else {}),
                              features=AudioFeatureConfig(kind=spec.features or project_features(project)))
    return record_history(project, "audio_model", train_audio_job(project, config), continues=False)


def _train_renderer(spec: JobSpec, project: Project) -> Job:
    renderer = spec.renderer or DEFAULT_RENDERER
    minutes, steps = budget_after(project, renderer, spec.minutes, spec.steps)
    config = RendererTrainConfig.for_device(spec.renderer_profile, minutes=minutes, steps=steps, renderer=renderer)
    if spec.checkpoint_minutes is not None:
        config = dataclasses.replace(config, checkpoint_every_s=spec.checkpoint_minutes * 60.0)
    return record_history(project, "renderer", train_renderer_job(project, config))  # curves kept


def _dub(spec: JobSpec, project: Project) -> Job:
    config = DubConfig(renderer=spec.renderer, draft=spec.draft, device=spec.torch_device)
    if spec.audio is not None:
        return dub_job(project, spec.audio, spec.out, config)
    return dub_text_job(project, script_text(spec), spec.out, config, TtsConfig(voice=spec.voice, rate=spec.rate))


def _run(spec: JobSpec, project: Project) -> Job:
    config = RunConfig(minutes=spec.minutes if spec.minutes is not None else RunConfig.minutes,
                       device=spec.torch_device, crop_size=spec.crop_size, renderer=spec.renderer)
    return run_all_job(project, spec.audio, spec.out, config)


def _evaluate(spec: JobSpec, project: Project) -> Job:
    return evaluate_job(project, EvaluateConfig(device=spec.torch_device, voices=tuple(spec.voices)))


@dataclass(frozen=True)
class JobKind:
    """build: the pipeline job of a spec; needs: the spec fields it cannot run without; reads /
    makes: the project stages whose keys are its inputs / outputs (batch records); changes_project:
    later jobs of the same project wait for it, and a stopped one resumes from its checkpoint."""

    build: Callable[[JobSpec, Project], Job]
    needs: tuple[str, ...]
    reads: tuple[str, ...] = ()
    makes: tuple[str, ...] = ()
    changes_project: bool = False


MODEL_STAGES = ("tracking", "fitting", "audio_model", "renderer")
KINDS: dict[str, JobKind] = {
    "prepare": JobKind(_prepare, ("project",), makes=("tracking", "fitting"), changes_project=True),
    "train-audio": JobKind(_train_audio, ("project",), reads=("tracking", "fitting"), makes=("audio_model",),
                           changes_project=True),
    "train-renderer": JobKind(_train_renderer, ("project",), reads=("tracking", "fitting"), makes=("renderer",),
                              changes_project=True),
    "dub": JobKind(_dub, ("project", "out"), reads=MODEL_STAGES),
    "run": JobKind(_run, ("video", "audio", "out"), changes_project=True),
    "evaluate": JobKind(_evaluate, ("project",), reads=MODEL_STAGES),
}
