"""portrait-dub: with no arguments opens the app; subcommands run the same jobs headless.

    python main.py                      open the desktop app
    python main.py info FILE            what a media file holds
    python main.py prepare VIDEO --project DIR
    python main.py train-audio --project DIR
    python main.py train-renderer --project DIR [--minutes 30 | --steps N] [--renderer reference|paper]
    python main.py dub --project DIR --audio FILE --out OUT.mp4 [--renderer sample|draft|reference|paper]
    python main.py run VIDEO AUDIO --out OUT.mp4 [--project DIR] [--minutes N] [--renderer NAME]
    python main.py evaluate --project DIR [--voices VIDEO...]
    python main.py relink --project DIR VIDEO   the project's video moved: point the project at it
    python main.py batch JOBS.csv --report DIR [--address auto|HOST:PORT]
    python main.py benchmark VIDEO
"""

from __future__ import annotations

import argparse
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

    def __init__(self, stream=None) -> None:
        # sys.stderr as it is now, not as it was at import (a test's captured stream, since closed)
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty()
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


def crop_size_arg(text: str) -> int:
    """An argparse type: 'auto' (0) or a crop side in pixels."""
    from core.crop_size import parse_crop_size

    try:
        return parse_crop_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


# ---- commands --------------------------------------------------------------------------------
def cmd_info(args: argparse.Namespace) -> int:
    from core.media import probe

    print(probe(args.file).describe())
    return 0


def _given(**options) -> dict:
    """The options the user gave; the others keep the defaults of JobSpec, which are the stage configs'."""
    return {name: value for name, value in options.items() if value is not None}


def _run_spec(spec) -> int:
    """Build the job that ``spec`` describes (core.commands, as batch and the app do) and drive it."""
    from core.commands import build_job

    if spec.creates_project and not spec.consent:
        spec = spec.replace(consent=_ask_consent())
    result = drive(build_job(spec))
    print(result.describe() if hasattr(result, "describe") else result)
    return 0


def _ask_consent() -> bool:
    from core.project import CONSENT_TEXT

    if not sys.stdin or not sys.stdin.isatty():
        raise DubError("Confirm that you have the right to use this person's face and voice: "
                       "add --i-have-consent to the command.")
    answer = input(f"{CONSENT_TEXT}\nConfirm [y/N]: ").strip().lower()
    return answer in ("y", "yes")


def cmd_prepare(args: argparse.Namespace) -> int:
    from core.commands import JobSpec

    return _run_spec(JobSpec("prepare", project=args.project, video=args.video, consent=args.i_have_consent,
                             crop_size=args.crop_size, speech_encoder=args.speech_encoder,
                             **_given(backend=args.backend)))


def cmd_train_audio(args: argparse.Namespace) -> int:
    from core.commands import JobSpec

    return _run_spec(JobSpec("train-audio", project=args.project, model=args.model, epochs=args.epochs,
                             features=args.features, speech_encoder=args.speech_encoder))


def cmd_train_renderer(args: argparse.Namespace) -> int:
    from core.commands import JobSpec

    return _run_spec(JobSpec("train-renderer", project=args.project, device=args.profile, minutes=args.minutes,
                             steps=args.steps, checkpoint_minutes=args.checkpoint_minutes, renderer=args.renderer))


def cmd_dub(args: argparse.Namespace) -> int:
    from core.commands import JobSpec

    text = args.text
    if args.text_file is not None:
        try:
            text = args.text_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise DubError(f"{args.text_file}: cannot read the script ({exc}). Save it as UTF-8 text.") from exc
    return _run_spec(JobSpec("dub", project=args.project, audio=args.audio, text=text, out=args.out,
                             draft=args.draft, renderer=args.renderer,
                             **_given(voice=args.voice, rate=args.rate)))


def cmd_run(args: argparse.Namespace) -> int:
    from core.commands import JobSpec

    return _run_spec(JobSpec("run", project=args.project, video=args.video, audio=args.audio, out=args.out,
                             minutes=args.minutes, consent=args.i_have_consent, crop_size=args.crop_size,
                             speech_encoder=args.speech_encoder, renderer=args.renderer))


def cmd_evaluate(args: argparse.Namespace) -> int:
    from core.commands import JobSpec

    return _run_spec(JobSpec("evaluate", project=args.project, voices=tuple(args.voices or ())))


def cmd_batch(args: argparse.Namespace) -> int:
    import threading

    from core.batch import read_rows
    from core.batch.on_ray import run_batch
    from core.batch.ray_session import RayConfig

    rows = read_rows(args.jobs, consent=args.i_have_consent)
    in_process = args.in_process or (getattr(sys, "frozen", False) and args.address is None)
    stop = threading.Event()

    def on_interrupt(*_):
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = signal.signal(signal.SIGINT, on_interrupt)
    say = lambda line: print(line, flush=True)  # noqa: E731
    try:
        if in_process:
            from core.batch.in_process import run_in_process
            from core.batch.report import BatchReport

            say(f"batch: {len(rows)} job(s) one after another in this process (no Ray)")
            report = run_in_process(rows, BatchReport(rows, args.report, say=say), stop)
        else:
            report = run_batch(rows, args.report, RayConfig(address=args.address, num_cpus=args.workers,
                                                            max_retries=args.retries), say=say, stop=stop)
    finally:
        signal.signal(signal.SIGINT, previous)
    c = report.counts()
    print(f"Report: {args.report / 'report.csv'} and report.json")
    if stop.is_set():
        print("Stopped. Finished jobs and checkpoints are kept; run the same command again to continue.",
              file=sys.stderr)
        return 130
    return 0 if report.ok else 1 if c.get("failed") or c.get("blocked") else 0


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
    from core.evaluation.benchmark import BenchmarkConfig, benchmark_job

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
    from core import lowerface
    from core.renderer.config import DEFAULT_RENDERER

    renderer_help = ("the lower face: " + "; ".join(f"{n}: {v.summary.rstrip('.')}" for n, v in lowerface.VARIANTS.items())
                     + f" (default: {lowerface.DEFAULT})")
    encoder_help = ("a CTranslate2 Whisper model folder for the speech features, remembered by the "
                    "project ('bundled' = the built-in tiny.en)")
    from core.crop_size import MIN_CROP, crop_cap

    crop_help = (f"side of the face crops in pixels; auto (default): the face's own size, at least {MIN_CROP}, "
                 f"at most {crop_cap('cpu')} (CPU) or {crop_cap('gpu')} (GPU); a project already tracked keeps its size")
    p = add("prepare", cmd_prepare, "track the face in every frame and fit the 3D face model")
    p.add_argument("video", type=Path, nargs="?", help="the target video (needed for a new project)")
    p.add_argument("--project", type=Path, required=True, help="project folder")
    p.add_argument("--backend", default=None,
                   help="landmark backend: mediapipe (the default) or face-alignment (the paper's 68 points)")
    p.add_argument("--crop-size", type=crop_size_arg, default="auto", metavar="auto|N",
                   help=crop_help)
    p.add_argument("--i-have-consent", action="store_true", help=consent_help)
    p.add_argument("--speech-encoder", type=Path, default=None, metavar="FOLDER", help=encoder_help)

    p = add("train-audio", cmd_train_audio, "train the audio-to-expression model on the target's speech")
    p.add_argument("--project", type=Path, required=True)
    p.add_argument("--model", choices=["baseline", "improved", "auto"], default=None,
                   help="auto: train both, keep the one with the lower held-out error")
    p.add_argument("--epochs", type=positive(int), default=None)
    from core.audio2exp import registry as speech_features

    p.add_argument("--features", choices=speech_features.names(), default=speech_features.DEFAULT,
                   help="speech features: " + "; ".join(f"{n}: {label}" for n, label in speech_features.labels().items())
                   + f" (default: {speech_features.DEFAULT}; a variant that cannot load falls back, and says so)")
    p.add_argument("--speech-encoder", type=Path, default=None, metavar="FOLDER", help=encoder_help)

    p = add("train-renderer", cmd_train_renderer, "train the neural face renderer (resumes if stopped)")
    p.add_argument("--project", type=Path, required=True)
    p.add_argument("--minutes", type=positive(float), default=None,
                   help="train this many minutes more than the network already has")
    p.add_argument("--steps", type=positive(int), default=None, help="train this many steps more")
    p.add_argument("--profile", choices=["auto", "cpu", "gpu"], default="auto")
    p.add_argument("--renderer", choices=lowerface.names(trains=True), default=None,
                   help="the network to train: " + "; ".join(
                       f"{n}: {lowerface.VARIANTS[n].summary.rstrip('.')}" for n in lowerface.names(trains=True))
                   + f" (default: {DEFAULT_RENDERER})")
    p.add_argument("--checkpoint-minutes", type=positive(float), default=None,
                   help="how often to save a checkpoint to resume from (default 2)")

    p = add("dub", cmd_dub, "make the person speak an audio file; writes a full-resolution MP4")
    p.add_argument("--project", type=Path, required=True)
    speech = p.add_mutually_exclusive_group(required=True)
    speech.add_argument("--audio", type=Path, help="speech as an audio or video file")
    speech.add_argument("--text", help="what the person should say (spoken by an offline voice)")
    speech.add_argument("--text-file", type=Path, help="a UTF-8 text file with the script")
    p.add_argument("--voice", default=None, help="voice name or a Piper .onnx file (default: the built-in voice)")
    p.add_argument("--rate", type=float, default=None, help="speaking rate (1 = normal, 1.2 = faster)")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--renderer", choices=lowerface.names(), default=None, help=renderer_help)
    p.add_argument("--draft", action="store_true", help="the same as --renderer draft")

    p = add("run", cmd_run, "prepare + train + dub in one go with a total time budget")
    p.add_argument("video", type=Path)
    p.add_argument("audio", type=Path)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--project", type=Path, default=None)
    p.add_argument("--minutes", type=positive(float), default=None,
                   help="total time budget (default: the run's own); a network chosen with --renderer "
                        "trains in what is left")
    p.add_argument("--renderer", choices=lowerface.names(), default=None, help=renderer_help)
    p.add_argument("--crop-size", type=crop_size_arg, default="auto", metavar="auto|N", help=crop_help)
    p.add_argument("--i-have-consent", action="store_true", help=consent_help)
    p.add_argument("--speech-encoder", type=Path, default=None, metavar="FOLDER", help=encoder_help)

    p = add("evaluate", cmd_evaluate, "self-reenactment figures on the held-out tail of the video")
    p.add_argument("--project", type=Path, required=True)
    p.add_argument("--voices", type=Path, nargs="+", default=None, metavar="VIDEO",
                   help="other people's talking videos: their audio drives this model and the predicted "
                        "mouth opening is correlated with their own tracked mouth (voice transfer)")

    p = add("relink", cmd_relink, "point a project at its moved video (checked to be the same video)")
    p.add_argument("--project", type=Path, required=True)
    p.add_argument("video", type=Path, help="the video's new place")

    p = add("batch", cmd_batch, "run a job list (CSV or JSON) on Ray, on this machine or on a cluster")
    p.add_argument("jobs", type=Path, help="JOBS.csv or JOBS.json: one job per row (see README)")
    p.add_argument("--report", type=Path, required=True, help="folder for report.csv, report.json, Ray's logs")
    p.add_argument("--address", default=None,
                   help="'auto' or HOST:PORT of a running Ray cluster (default: a local Ray for this run)")
    p.add_argument("--workers", type=positive(int), default=None,
                   help="jobs side by side on this machine (default: one per core)")
    p.add_argument("--retries", type=int, default=3, help="restarts of a job whose worker process died")
    p.add_argument("--in-process", action="store_true",
                   help="no Ray: the jobs one after another in this process (the desktop bundle does this)")
    p.add_argument("--i-have-consent", action="store_true", help=consent_help + " (rows that create projects)")

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
