"""One command from two files: prepare, train the audio model, dub; with a network chosen as the
lower face, train it within the time budget first."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from core.audio2exp import AudioTrainConfig, train_audio_job
from core.crop_size import AUTO
from core.dubbing.dub import FEATURE_RATE, DubConfig, DubResult, dub_job, output_frame_count
from core.jobs import Job, within
from core.lowerface import DEFAULT, get_variant
from core.media import probe
from core.prepare import PrepareConfig, prepare_job
from core.project.history import record_history
from core.renderer import RendererTrainConfig, train_renderer_job

log = logging.getLogger(__name__)

# Rough CPU costs used to split the budget; the renderer gets what is left.
DUB_SECONDS_PER_FRAME = 0.08
MIN_RENDERER_MINUTES = 1.0


@dataclass(frozen=True)
class RunConfig:
    """minutes: total time budget for everything (prepare + training + dubbing); renderer: the
    lower-face variant (None: core.lowerface.DEFAULT, the sample-based lower face, which needs no
    training); a network variant ('reference', 'paper') is trained in what is left of the budget."""

    minutes: float = 45.0
    device: str = "auto"
    renderer_steps: int | None = None  # a step budget instead of time (tests)
    crop_size: int = AUTO  # pixels, or AUTO (core.crop_size)
    renderer: str | None = None


def run_all_job(project, audio_path: Path | str, out_path: Path | str, config: RunConfig = RunConfig()) -> Job[DubResult]:
    variant = get_variant(config.renderer or DEFAULT)
    started = time.monotonic()
    report = yield from within(prepare_job(project, PrepareConfig(
        crop_size=config.crop_size, profile=config.device)), (0.0, 0.2))
    log.info("readiness: %s", report.verdict)
    # the curves are kept as the app's Train page and train-audio keep them
    yield from within(record_history(project, "audio_model", train_audio_job(project, AudioTrainConfig()),
                                     continues=False), (0.2, 0.25))
    info = probe(audio_path)
    n_out = output_frame_count(int(info.duration * FEATURE_RATE), FEATURE_RATE, project.source_info["fps"])
    used = (time.monotonic() - started) / 60
    minutes = config.minutes - used - n_out * DUB_SECONDS_PER_FRAME / 60
    renderer = variant.name
    if variant.trains and (config.renderer_steps is not None or minutes >= MIN_RENDERER_MINUTES):
        renderer_config = RendererTrainConfig.for_device(
            "auto", minutes=None if config.renderer_steps else minutes, steps=config.renderer_steps,
            renderer=variant.name)
        yield from within(record_history(project, "renderer", train_renderer_job(project, renderer_config)),
                          (0.25, 0.85))
    elif variant.trains:
        log.warning("%.1f minutes left for the %s: dubbing with the sample-based lower face", minutes, variant.label)
        renderer = DEFAULT
    result = yield from within(dub_job(project, audio_path, out_path, DubConfig(renderer=renderer, device=config.device)),
                               (0.85, 1.0))
    return result
