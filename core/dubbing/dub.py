"""The dub job: any audio in, the target person speaking it out, at full resolution."""

from __future__ import annotations

import datetime as _dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from core.atomic import write_text
from core.audio2exp import predict_expressions
from core.audio2exp.features import SAMPLE_RATE
from core.dubbing.timeline import frames_in_order, pingpong_indices
from core.errors import DubError
from core.jobs import Job, ProgressClock, within
from core.lowerface import make_synthesizer
from core.media import VideoReader, VideoWriter, load_audio, stream_audio
from core.project.provenance import synthetic_metadata
from core.tracking import load_tracking
from core.tts import TtsConfig, speech_for_dub_job

log = logging.getLogger(__name__)

FEATURE_RATE = SAMPLE_RATE  # the rate the audio model listens at, defined by its features
OUTPUT_AUDIO_RATE = 48000


@dataclass(frozen=True)
class DubConfig:
    """renderer: the lower-face variant (core.lowerface; None: its DEFAULT, the sample-based lower
    face); draft: the same as renderer 'draft' (kept for job lists and queues written before).
    device: 'auto' | 'cpu' | 'cuda'. crf: H.264 quality (lower is better, 18 is visually lossless)."""

    renderer: str | None = None
    draft: bool = False
    device: str = "auto"
    crf: int = 18
    preview_every: int = 25

    @property
    def lower_face(self) -> str | None:
        return "draft" if self.draft else self.renderer


@dataclass
class DubResult:
    out: Path
    frames: int
    duration_s: float
    fps: float
    size: tuple[int, int]
    mode: str
    ms_per_frame: dict[str, float] = field(default_factory=dict)

    def describe(self) -> str:
        timing = ", ".join(f"{k} {v:.1f} ms" for k, v in self.ms_per_frame.items())
        return (f"Wrote {self.out} ({self.frames} frames, {self.duration_s:.2f} s, "
                f"{self.size[0]}x{self.size[1]} at {self.fps:.3f} fps, {self.mode} renderer)\n"
                f"Per frame: {timing}")


def output_frame_count(n_samples: int, rate: int, fps: float) -> int:
    """Frames whose span covers the audio: duration matches the audio within half a frame."""
    return max(1, int(round(n_samples / rate * fps)))


def dub_job(project, audio_path: Path | str, out_path: Path | str, config: DubConfig = DubConfig()) -> Job[DubResult]:
    """Dub ``audio_path`` onto the project's person and write ``out_path`` (H.264 + AAC MP4).

    Audio longer than the video plays the video forward and backward; shorter uses its start.
    """
    audio_path, out_path = Path(audio_path), Path(out_path)
    speech = load_audio(audio_path, FEATURE_RATE)
    reader = VideoReader(project.source_video)
    n_out = output_frame_count(len(speech), FEATURE_RATE, reader.fps)
    yield ProgressClock("Listening to the audio", 1, (0.0, 0.02)).step(0)
    t0 = time.perf_counter()
    expressions = predict_expressions(project, speech, n_frames=n_out)
    expression_ms = 1000 * (time.perf_counter() - t0) / n_out
    indices = pingpong_indices(n_out, reader.frame_count)
    synth = make_synthesizer(project, config.lower_face, device=config.device)
    audio_out = stream_audio(audio_path, OUTPUT_AUDIO_RATE)  # never the whole track in memory
    result = yield from write_synthesized(
        project, reader, indices, expressions, synth, out_path, audio_out, OUTPUT_AUDIO_RATE,
        synthetic_metadata(synth.mode, audio_path.name), config, span=(0.02, 1.0))
    result.ms_per_frame = {"expression": expression_ms, **result.ms_per_frame}
    return result


def write_synthesized(project, reader: VideoReader, indices: np.ndarray, expressions: np.ndarray, synth,
                      out_path: Path, audio, audio_rate: int, metadata: dict[str, str],
                      config: DubConfig, span: tuple[float, float] = (0.0, 1.0),
                      on_frame: Callable[[int, np.ndarray, np.ndarray], None] | None = None) -> Job[DubResult]:
    """Render the target frames ``indices`` speaking ``expressions`` and encode them with ``audio``.

    indices: int (T,) target frame per output frame; expressions: float32 (T, K); audio: an array or
    an iterable of (channels, n) chunks (see VideoWriter), or None.
    Frames whose target has no face pass through untouched. ``on_frame(j, frame, source)`` sees every
    finished uint8 frame before it is encoded, with the target frame it was made from (evaluation
    measures them there without decoding the video again).
    """
    if len(indices) != len(expressions):
        raise ValueError(f"{len(indices)} frames but {len(expressions)} expressions")
    tracking = load_tracking(project)
    n_out = len(indices)
    clock = ProgressClock(f"Dubbing ({synth.mode})", n_out, span)
    encode_s = 0.0
    start = time.perf_counter()
    try:
        with VideoWriter(out_path, reader.width, reader.height, reader.fps, audio=audio, audio_rate=audio_rate,
                         metadata=metadata, crf=config.crf) as writer:
            synthesized = synth.frames(indices, expressions)
            for j, (source, patch) in enumerate(zip(frames_in_order(reader, indices), synthesized)):
                target = int(indices[j])
                frame = source
                if patch is not None and tracking.has_face[target]:
                    t0 = time.perf_counter()
                    frame = patch.apply(frame, tracking.boxes[target])
                    synth.timings["paste"] = synth.timings.get("paste", 0.0) + time.perf_counter() - t0
                if on_frame is not None:
                    on_frame(j, frame, source)
                t0 = time.perf_counter()
                writer.write(frame)
                encode_s += time.perf_counter() - t0
                preview = None
                if config.preview_every and j % config.preview_every == 0:
                    preview = _small(frame)
                yield clock.step(j + 1, preview=preview)
            written = writer.frames_written
    except OSError as exc:
        raise DubError(f"{out_path}: the video could not be written ({exc}). Choose another folder "
                       "with free space.") from exc
    if written != n_out:
        raise DubError(f"Only {written} of {n_out} frames could be read from {project.source_video}; "
                       "the video may be damaged.")
    total = time.perf_counter() - start
    timings = {k: 1000 * v / n_out for k, v in synth.timings.items()}
    timings["encode"] = 1000 * encode_s / n_out
    timings["total"] = 1000 * total / n_out
    return DubResult(out=out_path, frames=n_out, duration_s=n_out / reader.fps, fps=reader.fps,
                     size=(reader.width, reader.height), mode=synth.mode, ms_per_frame=timings)


def _small(frame: np.ndarray, width: int = 320) -> np.ndarray:
    h, w = frame.shape[:2]
    if w <= width:
        return frame
    return cv2.resize(frame, (width, max(1, round(h * width / w))), interpolation=cv2.INTER_AREA)


def dub_text_job(project, text: str, out_path: Path | str, config: DubConfig = DubConfig(),
                 tts=None) -> Job[DubResult]:
    """Speak ``text`` with an offline voice (core.tts), then dub that speech.

    The speech is kept in the project's scripts/ folder so the user can listen to it again.
    """
    wav, _ = yield from within(speak_into_project_job(project, text, tts), (0.0, 0.15))
    result = yield from within(dub_job(project, wav, out_path, config), (0.15, 1.0))
    return result


def speak_into_project_job(project, text: str, tts=None):
    """Job: speak ``text`` (core.tts.TtsConfig ``tts``, default voice if None) and keep it in the
    project's scripts/ folder as script-<time>.wav with the script as a .txt beside it.
    Returns (wav path, core.tts.Speech)."""
    speech = yield from speech_for_dub_job(text, tts or TtsConfig())
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")[:-3]  # ms: two takes a second apart differ
    wav = speech.save_wav(project.path("scripts", f"script-{stamp}.wav"))
    write_text(wav.with_suffix(".txt"), text)
    return wav, speech
