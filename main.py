"""portrait-dub: with no arguments opens the app; subcommands run the same jobs headless.

    python main.py                      open the desktop app
    python main.py info FILE            what a media file holds
    python main.py prepare VIDEO --project DIR
    python main.py train-audio --project DIR
    python main.py train-renderer --project DIR [--minutes 30 | --steps N]
    python main.py dub --project DIR --audio FILE --out OUT.mp4
    python main.py run VIDEO AUDIO --out OUT.mp4 [--project DIR] [--minutes N]
    python main.py evaluate --project DIR
    python main.py relink --project DIR VIDEO   the project's video moved: point the project at it
    python main.py benchmark VIDEO
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from core import APP_NAME, __version__
from core.errors import DubError, JobCancelled
from core.jobs import CancelToken, Job, Progress, format_eta, run_job


# ---- progress on the terminal ---------------------------------------------------------------
class TerminalProgress:
    """Draws Progress records as one updating line on stderr (plain lines when not a terminal)."""

    def __init__(self, stream=sys.stderr) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self._last_stage = None
        self._last_pct = -1

    def __call__(self, p: Progress) -> None:
        pct = int((p.fraction or 0.0) * 100)
        losses = "  ".join(f"{k} {v:.4g}" for k, v in p.losses.items())
        counter = f" {p.step}/{p.total}" if p.step is not None and p.total else ""
        width = 30
        bar = "#" * int(width * (p.fraction or 0.0))
        line = f"{p.stage:<24.24} [{bar:<{width}}] {pct:3d}%{counter}  ETA {format_eta(p.eta_s)}  {losses}"
        if p.message:
            line += f"  {p.message}"
        if self.tty:
            self.stream.write("\r" + line[:160].ljust(160))
        elif p.stage != self._last_stage or pct >= self._last_pct + 10:
            self.stream.write(line + "\n")
            self._last_pct = pct
        self._last_stage = p.stage
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self._last_stage is not None:
            self.stream.write("\n")
            self.stream.flush()


def drive(job: Job) -> object:
    """Run a job with a progress line; Ctrl+C cancels it cleanly (its checkpoints are kept)."""
    token = CancelToken()
    previous = signal.signal(signal.SIGINT, lambda *_: token.cancel())
    bar = TerminalProgress()
    try:
        return run_job(job, bar, token)
    finally:
        bar.close()
        signal.signal(signal.SIGINT, previous)


def positive(kind: type) -> Callable[[str], object]:
    """An argparse type: a number of ``kind`` above zero, else a usage error (not a traceback)."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be above zero, not {text}")
        return value
    return parse


# ---- commands --------------------------------------------------------------------------------
def cmd_info(args: argparse.Namespace) -> int:
    from core.media import probe

    print(probe(args.file).describe())
    return 0


def _open_or_create(project_dir: Path, video: Path | None, consent: bool):
    from core.project import MANIFEST_NAME, Project

    if (project_dir / MANIFEST_NAME).exists():
        return Project.open(project_dir)
    if video is None:
        return Project.open(project_dir)  # raises the clear "no project here" error
    if not consent:
        consent = _ask_consent()
    return Project.create(project_dir, video, consent=consent)


def _ask_consent() -> bool:
    from core.project import CONSENT_TEXT

    if not sys.stdin or not sys.stdin.isatty():
        raise DubError("Confirm that you have the right to use this person's face and voice: "
                       "add --i-have-consent to the command.")
    answer = input(f"{CONSENT_TEXT}\nConfirm [y/N]: ").strip().lower()
    return answer in ("y", "yes")


def cmd_prepare(args: argparse.Namespace) -> int:
    from core.prepare import PrepareConfig, prepare_job

    project = _open_or_create(args.project, args.video, args.i_have_consent)
    config = PrepareConfig(backend=args.backend, crop_size=args.crop_size)
    report = drive(prepare_job(project, config))
    print(report.describe() if hasattr(report, "describe") else report)
    return 0


def cmd_train_audio(args: argparse.Namespace) -> int:
    from core.audio2exp import AudioTrainConfig, train_audio_job
    from core.project import Project

    project = Project.open(args.project)
    config = AudioTrainConfig(**({"model": args.model} if args.model else {}),
                              **({"epochs": args.epochs} if args.epochs else {}))
    result = drive(train_audio_job(project, config))
    print(result.describe() if hasattr(result, "describe") else result)
    return 0


def cmd_train_renderer(args: argparse.Namespace) -> int:
    from core.renderer import RendererTrainConfig, train_renderer_job
    from core.project import Project

    project = Project.open(args.project)
    config = RendererTrainConfig.for_device(args.profile, minutes=args.minutes, steps=args.steps)
    if args.checkpoint_minutes is not None:
        config = dataclasses.replace(config, checkpoint_every_s=args.checkpoint_minutes * 60.0)
    result = drive(train_renderer_job(project, config))
    print(result.describe() if hasattr(result, "describe") else result)
    return 0


def cmd_dub(args: argparse.Namespace) -> int:
    from core.dub import DubConfig, dub_job, dub_text_job
    from core.project import Project

    project = Project.open(args.project)
    config = DubConfig(draft=args.draft)
    if args.audio is not None:
        job = dub_job(project, args.audio, args.out, config)
    else:
        from core.tts import TtsConfig

        text = args.text
        if args.text_file is not None:
            try:
                text = args.text_file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise DubError(f"{args.text_file}: cannot read the script ({exc}). Save it as UTF-8 text.") from exc
        job = dub_text_job(project, text, args.out, config, TtsConfig(voice=args.voice, rate=args.rate))
    result = drive(job)
    print(result.describe() if hasattr(result, "describe") else result)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from core.run_all import RunConfig, run_all_job

    project_dir = args.project or args.video.with_name(args.video.stem + ".portrait-dub")
    project = _open_or_create(project_dir, args.video, args.i_have_consent)
    result = drive(run_all_job(project, args.audio, args.out, RunConfig(minutes=args.minutes)))
    print(result.describe() if hasattr(result, "describe") else result)
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from core.evaluate import EvaluateConfig, evaluate_job
    from core.project import Project

    project = Project.open(args.project)
    result = drive(evaluate_job(project, EvaluateConfig()))
    print(result.describe() if hasattr(result, "describe") else result)
    return 0


def cmd_relink(args: argparse.Namespace) -> int:
    from core.project import Project

    project = Project.open(args.project)
    if project.relinked_from:
        print(f"The video had moved from {project.relinked_from}; found it at "
              f"{project.manifest['source']['path']}.")
    path = project.relink_source(args.video)
    print(f"{project.name}: the video is now {path}")
    return 0


def cmd_benchmark(args: argparse.Namespace) -> int:
    from core.benchmark import BenchmarkConfig, benchmark_job

    result = drive(benchmark_job(args.video, BenchmarkConfig(seconds=args.seconds, out=args.out)))
    print(result.describe() if hasattr(result, "describe") else result)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="main.py", description=f"{APP_NAME} {__version__}: dub talking-head video. "
        "Without a command, opens the desktop app.")
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, func: Callable[[argparse.Namespace], int], help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(func=func)
        return p

    p = add("info", cmd_info, "print duration, frame rate, resolution, codecs and audio rate of a file")
    p.add_argument("file", type=Path)

    consent_help = "confirm you have the right to use this person's face and voice"
    p = add("prepare", cmd_prepare, "track the face in every frame and fit the 3D face model")
    p.add_argument("video", type=Path, nargs="?", help="the target video (needed for a new project)")
    p.add_argument("--project", type=Path, required=True, help="project folder")
    p.add_argument("--backend", choices=["mediapipe", "face-alignment"], default="mediapipe")
    p.add_argument("--crop-size", type=int, default=256)
    p.add_argument("--i-have-consent", action="store_true", help=consent_help)

    p = add("train-audio", cmd_train_audio, "train the audio-to-expression model on the target's speech")
    p.add_argument("--project", type=Path, required=True)
    p.add_argument("--model", choices=["baseline", "improved", "auto"], default=None,
                   help="auto: train both, keep the one with the lower held-out error")
    p.add_argument("--epochs", type=positive(int), default=None)

    p = add("train-renderer", cmd_train_renderer, "train the neural face renderer (resumes if stopped)")
    p.add_argument("--project", type=Path, required=True)
    p.add_argument("--minutes", type=positive(float), default=None, help="time budget")
    p.add_argument("--steps", type=positive(int), default=None, help="step budget")
    p.add_argument("--profile", choices=["auto", "cpu", "gpu"], default="auto")
    p.add_argument("--checkpoint-minutes", type=positive(float), default=None,
                   help="how often to save a checkpoint to resume from (default 2)")

    p = add("dub", cmd_dub, "make the person speak an audio file; writes a full-resolution MP4")
    p.add_argument("--project", type=Path, required=True)
    speech = p.add_mutually_exclusive_group(required=True)
    speech.add_argument("--audio", type=Path, help="speech as an audio or video file")
    speech.add_argument("--text", help="what the person should say (spoken by an offline voice)")
    speech.add_argument("--text-file", type=Path, help="a UTF-8 text file with the script")
    p.add_argument("--voice", default="en_US-joe-medium", help="voice name or a Piper .onnx file")
    p.add_argument("--rate", type=float, default=1.0, help="speaking rate (1 = normal, 1.2 = faster)")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--draft", action="store_true", help="fast draft without the neural renderer")

    p = add("run", cmd_run, "prepare + train + dub in one go with a total time budget")
    p.add_argument("video", type=Path)
    p.add_argument("audio", type=Path)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--project", type=Path, default=None)
    p.add_argument("--minutes", type=positive(float), default=45.0)
    p.add_argument("--i-have-consent", action="store_true", help=consent_help)

    p = add("evaluate", cmd_evaluate, "self-reenactment figures on the held-out tail of the video")
    p.add_argument("--project", type=Path, required=True)

    p = add("relink", cmd_relink, "point a project at its moved video (checked to be the same video)")
    p.add_argument("--project", type=Path, required=True)
    p.add_argument("video", type=Path, help="the video's new place")

    p = add("benchmark", cmd_benchmark, "per-stage speed and peak memory on a video")
    p.add_argument("video", type=Path)
    p.add_argument("--seconds", type=positive(float), default=10.0, help="length of the clip to measure")
    p.add_argument("--out", type=Path, default=None, help="JSON file for the figures")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if args.command is None:
        from app.main_window import run_app

        return run_app()
    try:
        return args.func(args)
    except JobCancelled:
        print("Cancelled. Finished work and checkpoints are kept; run the command again to resume.",
              file=sys.stderr)
        return 130
    except DubError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
