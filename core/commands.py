"""One job description for every front end: the CLI, the batch runner and the app's export queue
turn a :class:`JobSpec` into the pipeline's job with :func:`build_job`, so there is one code path.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from core.crop_size import AUTO
from core.errors import DubError
from core.jobs import Job

KINDS = ("prepare", "train-audio", "train-renderer", "dub", "run", "evaluate")
DEVICES = ("auto", "cpu", "gpu", "cuda")
DEFAULT_VOICE = "en_US-joe-medium"
RUN_PROJECT_SUFFIX = ".portrait-dub"


@dataclass(frozen=True)
class JobSpec:
    """What to run. ``project`` may be None only for ``run`` (the folder is made beside the video).

    device: 'auto' | 'cpu' | 'gpu' ('cuda' is the same as 'gpu'); for train-renderer it picks the
    training profile. consent: the user confirmed the right to use the face and voice (needed
    to create a project from ``video``). steps / epochs / model / checkpoint_minutes / backend /
    crop_size are the CLI's finer options.
    """

    kind: str
    project: Path | None = None
    video: Path | None = None
    audio: Path | None = None
    text: str | None = None
    voice: str = DEFAULT_VOICE
    rate: float = 1.0
    out: Path | None = None
    minutes: float | None = None
    draft: bool = False
    device: str = "auto"
    consent: bool = False
    steps: int | None = None
    epochs: int | None = None
    model: str | None = None
    checkpoint_minutes: float | None = None
    backend: str = "mediapipe"
    crop_size: int = AUTO  # prepare / run: pixels, or AUTO (core.crop_size: the face's own, capped)
    features: str | None = None  # train-audio: a name in core.audio2exp.registry (None: its DEFAULT)
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
        need = {"dub": ("project", "out"), "run": ("video", "audio", "out"), "prepare": ("project",),
                "train-audio": ("project",), "train-renderer": ("project",), "evaluate": ("project",)}
        missing = [name for name in need[self.kind] if getattr(self, name) in (None, "")]
        if missing:
            raise DubError(f"a {self.kind} job needs {' and '.join(missing)}")
        if self.renderer is not None:
            from core.lowerface import get_variant

            variant = get_variant(self.renderer)
            if self.kind == "train-renderer" and not variant.trains:
                raise DubError(f"{self.renderer!r} has no network to train; train-renderer trains one of "
                               f"{', '.join(_network_names())}")
        if self.features is not None:
            from core.audio2exp.registry import variant

            try:
                variant(self.features)
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
        from core.project import MANIFEST_NAME

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


def _network_names() -> list[str]:
    from core.lowerface import names

    return names(trains=True)


def open_project(spec: JobSpec):
    """The job's project: opened, or created from ``spec.video`` (needs ``spec.consent``)."""
    from core.project import Project

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


def build_job(spec: JobSpec, project=None) -> Job:
    """The pipeline job that ``spec`` describes (``project``: already open, else opened here)."""
    project = project if project is not None else open_project(spec)
    if spec.speech_encoder is not None:
        from core.audio2exp.speech import set_project_encoder_folder

        folder = str(spec.speech_encoder)
        set_project_encoder_folder(project, None if folder in ("", "bundled") else folder)
    kind = spec.kind
    if kind == "prepare":
        from core.prepare import PrepareConfig, prepare_job

        return prepare_job(project, PrepareConfig(backend=spec.backend, crop_size=spec.crop_size,
                                                  profile=spec.renderer_profile))
    if kind == "train-audio":
        from core.audio2exp import AudioTrainConfig, train_audio_job

        from core.audio2exp.features import AudioFeatureConfig

        from core.audio2exp.registry import DEFAULT

        config = AudioTrainConfig(**({"model": spec.model} if spec.model else {}),
                                  **({"epochs": spec.epochs} if spec.epochs else {}),
                                  features=AudioFeatureConfig(kind=spec.features or DEFAULT))
        from core.project.history import record_history

        return record_history(project, "audio_model", train_audio_job(project, config), continues=False)
    if kind == "train-renderer":
        from core.renderer import RendererTrainConfig, train_renderer_job

        config = RendererTrainConfig.for_device(spec.renderer_profile, minutes=spec.minutes, steps=spec.steps,
                                                **({"renderer": spec.renderer} if spec.renderer else {}))
        if spec.checkpoint_minutes is not None:
            config = dataclasses.replace(config, checkpoint_every_s=spec.checkpoint_minutes * 60.0)
        from core.project.history import record_history

        return record_history(project, "renderer", train_renderer_job(project, config))  # curves kept
    if kind == "dub":
        from core.dubbing.dub import DubConfig, dub_job, dub_text_job

        config = DubConfig(renderer=spec.renderer, draft=spec.draft, device=spec.torch_device)
        if spec.audio is not None:
            return dub_job(project, spec.audio, spec.out, config)
        from core.tts import TtsConfig

        return dub_text_job(project, script_text(spec), spec.out, config,
                            TtsConfig(voice=spec.voice, rate=spec.rate))
    if kind == "run":
        from core.dubbing.run_all import RunConfig, run_all_job

        config = RunConfig(minutes=spec.minutes if spec.minutes is not None else RunConfig.minutes,
                           device=spec.torch_device, crop_size=spec.crop_size, renderer=spec.renderer)
        return run_all_job(project, spec.audio, spec.out, config)
    from core.evaluation.evaluate import EvaluateConfig, evaluate_job

    return evaluate_job(project, EvaluateConfig(device=spec.torch_device, voices=tuple(spec.voices)))
