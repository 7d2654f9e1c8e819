"""Per-stage speed and peak memory on a real video: prepare, training, dubbing, and the decode +
encode floor. Figures are printed and written as JSON; nothing here asserts a speed."""

from __future__ import annotations

import logging
import resource
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from core.atomic import write_json
from core.audio2exp import AudioTrainConfig, train_audio_job
from core.dubbing.dub import DubConfig, dub_job
from core.jobs import Job, ProgressClock, within
from core.lowerface import ready_variants
from core.media import VideoReader, VideoWriter, load_audio, probe
from core.prepare import PrepareConfig, prepare_job
from core.project import Project
from core.renderer import RendererTrainConfig, train_renderer_job

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BenchmarkConfig:
    """seconds: length of the clip cut from the start of the video; renderer_steps: training steps
    timed (after the render cache is built)."""

    seconds: float = 10.0
    out: Path | None = None
    renderer_steps: int = 30
    device: str = "auto"


@dataclass
class BenchmarkResult:
    figures: dict[str, float] = field(default_factory=dict)
    json_path: Path | None = None

    def describe(self) -> str:
        lines = ["Benchmark (this machine, %d torch threads)" % torch.get_num_threads()]
        lines += [f"  {k:<40} {v:10.2f}" for k, v in self.figures.items()]
        if self.json_path:
            lines.append(f"written to {self.json_path}")
        return "\n".join(lines)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def benchmark_job(video: Path | str, config: BenchmarkConfig = BenchmarkConfig()) -> Job[BenchmarkResult]:
    video = Path(video)
    info = probe(video)
    figures: dict[str, float] = {"source_width": info.width, "source_height": info.height, "fps": info.fps}
    work = Path(tempfile.mkdtemp(prefix="portrait-dub-bench-"))
    try:
        clip = work / "clip.mp4"
        n = min(info.frame_count, int(round(config.seconds * info.fps)))
        reader = VideoReader(video, info)
        audio = load_audio(video, 48000, mono=False)[:, : int(n / info.fps * 48000)]
        clock = ProgressClock("Decode + encode floor", n, (0.0, 0.1))
        decode_s = encode_s = 0.0
        t = time.perf_counter()
        with VideoWriter(clip, info.width, info.height, info.fps, audio=audio, audio_rate=48000) as writer:
            for i, frame in enumerate(reader.frames(0, n)):
                decode_s += time.perf_counter() - t
                t = time.perf_counter()
                writer.write(frame)
                encode_s += time.perf_counter() - t
                yield clock.step(i + 1)
                t = time.perf_counter()
        figures.update(frames=n, decode_fps=n / decode_s, encode_fps=n / encode_s,
                       decode_encode_fps=n / (decode_s + encode_s))

        project = Project.create(work / "project", clip, consent=True)
        t = time.perf_counter()
        yield from within(prepare_job(project, PrepareConfig()), (0.1, 0.4))
        figures["prepare_fps"] = n / (time.perf_counter() - t)
        fit = project.stage("fitting").metrics
        for key in ("ms_per_frame", "landmark_error_px", "mouth_landmark_error_px", "photometric_error"):
            if key in fit:
                figures[f"fit_{key}"] = float(fit[key])

        t = time.perf_counter()
        yield from within(train_audio_job(project, AudioTrainConfig()), (0.4, 0.5))
        figures["audio_training_s"] = time.perf_counter() - t

        renderer_config = RendererTrainConfig.for_device("auto", steps=config.renderer_steps)
        t = time.perf_counter()
        result = yield from within(train_renderer_job(project, renderer_config), (0.5, 0.8))
        figures["renderer_training_total_s"] = time.perf_counter() - t
        if result.steps and result.elapsed_s > 0:  # elapsed_s counts training steps, not the render cache
            figures["renderer_steps_per_s"] = result.steps / result.elapsed_s


        modes = ready_variants(project)
        for k, mode in enumerate(modes):
            span = (0.8 + 0.2 * k / len(modes), 0.8 + 0.2 * (k + 1) / len(modes))
            dubbed = yield from within(dub_job(project, clip, work / f"dub_{mode}.mp4",
                                               DubConfig(renderer=mode, device=config.device)), span)
            for k, v in dubbed.ms_per_frame.items():
                figures[f"dub_{mode}_{k}_ms"] = v
            figures[f"dub_{mode}_fps"] = 1000.0 / dubbed.ms_per_frame["total"]
        figures["peak_memory_mb"] = _peak_mb()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out = config.out or Path(f"benchmark_{video.stem}.json")
    write_json(out, {"video": str(video), "seconds": config.seconds, "figures": figures})
    return BenchmarkResult(figures=figures, json_path=out)
