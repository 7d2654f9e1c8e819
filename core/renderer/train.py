"""The renderer training job: cache the conditioning, then train with checkpoints, validation and
previews until the time or step budget of the project is spent. Resumes from renderer/last.pt."""

from __future__ import annotations

import contextlib
import logging
import math
import time
from dataclasses import dataclass

import numpy as np
import torch

from core.atomic import remove_stale_parts
from core.errors import JobCancelled, ProjectError
from core.facerender.render import FaceRenderer
from core.jobs import Job, Progress
from core.renderer.checkpoint import (BEST_FILE, LAST_FILE, load_checkpoint, load_config,
                                      save_checkpoint, save_config)
from core.renderer.build import build_networks
from core.renderer.config import LEGACY_RENDERER, RendererTrainConfig
from core.renderer.data import FOLDER, TrainingData, build_cache_job
from core.renderer.preview import preview_grid
from core.renderer.steps import eval_step, train_step
from core.renderer.threads import ThreadTuner
from gpu.device import configure_threads, select_device

log = logging.getLogger(__name__)

STAGE = "renderer"
CACHE_SPAN = 0.08  # share of the progress bar for rendering the inputs


@dataclass
class RendererTrainResult:
    steps: int
    elapsed_s: float
    best_step: int
    val_l1_255: float
    val_psnr: float
    stopped_by: str

    def describe(self) -> str:
        return (f"Neural renderer: {self.steps} steps in {self.elapsed_s / 60:.1f} min ({self.stopped_by}); "
                f"best at step {self.best_step}: held-out error {self.val_l1_255:.2f}/255 inside the mask, "
                f"PSNR {self.val_psnr:.2f} dB")

    def metrics(self) -> dict:
        return dict(self.__dict__)


def trained_so_far(project) -> tuple[float, int]:
    """(minutes, steps) the renderer trained on the project's current face capture (0, 0 if none)."""
    record = project.stage(STAGE)
    if record.status == "pending" or record.inputs.get("fitting") != project.stage("fitting").key:
        return 0.0, 0
    metrics = record.metrics or {}
    return float(metrics.get("elapsed_s", 0.0)) / 60.0, int(metrics.get("steps", 0))


def budget_after(project, renderer: str, minutes: float | None, steps: int | None) -> tuple[float | None, int | None]:
    """The budgets of the whole training (RendererTrainConfig's minutes and steps, which a resumed
    run finishes) for ``minutes`` / ``steps`` MORE training of ``renderer`` than the project's
    current network has; neither given: the config's default minutes more. A network of the other
    kind, or one trained on an earlier face capture, starts afresh, so nothing is added for it."""
    if minutes is None and steps is None:
        minutes = RendererTrainConfig.minutes
    done_minutes, done_steps = trained_so_far(project)
    if project.stage(STAGE).settings.get("renderer", LEGACY_RENDERER) != renderer:
        done_minutes, done_steps = 0.0, 0
    return (None if minutes is None else done_minutes + minutes,
            None if steps is None else done_steps + steps)


def _device(config: RendererTrainConfig) -> torch.device:
    """The CPU profile trains on the CPU; the GPU profile on CUDA when torch sees it."""
    if config.device == "cpu":
        configure_threads()
        return torch.device("cpu")
    return select_device("auto").device


def train_renderer_job(project, config: RendererTrainConfig, face_renderer=None) -> Job[RendererTrainResult]:
    """Train the neural face renderer of ``project`` (paper 3.3) within ``config``'s budget.

    face_renderer: optional object with the core.facerender.render.FaceRenderer interface (tests pass a stand-in).
    Writes renderer/{cond,mask}.npy, cache.json, config.json, last.pt, best.pt and the "renderer"
    stage record (inputs: "fitting"). Cancelling saves last.pt; running again resumes from it.
    """
    if face_renderer is None and not project.is_current("fitting"):
        raise ProjectError("The 3D face model is not fitted yet (or tracking changed since). "
                           "Run 'prepare' first.")
    device = _device(config)
    folder = project.path(FOLDER)
    if folder.exists():
        for name in remove_stale_parts(folder):
            log.info("removed %s, left by a run that was killed", name)
    cache = yield from build_cache_job(project, face_renderer, span=(0.0, CACHE_SPAN))
    window = cache.window_for(config)
    settings = {**config.stage_settings(), "window": window.to_json()}

    previous = load_config(folder)
    resume = (folder / LAST_FILE).exists() and previous is not None \
        and previous.architecture() == config.architecture()
    state = load_checkpoint(folder / LAST_FILE, device) if resume else None
    if state is not None and (state.get("window") != window.to_json()
                              or state.get("fitting_key") != project.stage("fitting").key):
        log.warning("the face fit changed since the last checkpoint: training the renderer afresh")
        state = None
    if state is None:
        project.remove_stage_files(f"{FOLDER}/{LAST_FILE}", f"{FOLDER}/{BEST_FILE}")
    save_config(folder, config)

    torch.manual_seed(config.seed)
    gen, disc = build_networks(config, device, window.size)
    opt_g = torch.optim.Adam(gen.parameters(), lr=config.lr, betas=(config.beta1, 0.999))
    opt_d = torch.optim.Adam(disc.parameters(), lr=config.lr, betas=(config.beta1, 0.999))
    rng = np.random.default_rng(config.seed)
    step, elapsed0, best = 0, 0.0, {"step": 0, "val_l1_255": math.inf, "val_psnr": 0.0}
    starts = [0]  # the step each run of this training started at (a resumed run adds its own)
    if state is not None:
        gen.load_state_dict(state["generator"])
        disc.load_state_dict(state["discriminator"])
        opt_g.load_state_dict(state["opt_g"])
        opt_d.load_state_dict(state["opt_d"])
        step, elapsed0, best = int(state["step"]), float(state["elapsed_s"]), dict(state["best"])
        rng.bit_generator.state = state["numpy_rng"]
        torch.set_rng_state(state["torch_rng"])
        starts = [int(s) for s in state.get("starts", [0])] + [step]
        log.info("resuming renderer training at step %d (%.1f min done)", step, elapsed0 / 60)

    if config.warp_refs and face_renderer is None:
        face_renderer = FaceRenderer(project)
    data = TrainingData(project, cache, window, config, device, face_renderer)
    references = [] if data.references is None else [int(i) for i in data.references.fixed]
    if references:
        log.info("reference frames (open, closed mouth): %s", references)
    val_batch = data.batch(data.val_indices)
    centre = slice(3 * config.radius, 3 * config.radius + 3)
    project.set_stage(STAGE, "running", settings=settings, inputs=("fitting",))

    def snapshot() -> dict:
        return {"generator": gen.state_dict(), "discriminator": disc.state_dict(),
                "opt_g": opt_g.state_dict(), "opt_d": opt_d.state_dict(), "step": step,
                "elapsed_s": elapsed(), "best": best, "numpy_rng": rng.bit_generator.state,
                "torch_rng": torch.get_rng_state(), "window": window.to_json(),
                "fitting_key": project.stage("fitting").key, "config": config.to_json(),
                "references": references, "starts": starts}

    def evaluate() -> tuple[dict[str, float], np.ndarray]:
        fake, figures = eval_step(gen, val_batch)
        if figures["val_l1_255"] < best["val_l1_255"]:
            best.update(step=step, **figures)
            save_checkpoint(folder / BEST_FILE, {"generator": gen.state_dict(), "step": step,
                                                 "window": window.to_json(), "config": config.to_json(),
                                                 "references": references, **figures})
        return figures, preview_grid(val_batch.cond[:, centre], fake, val_batch.target)

    def fraction() -> float:
        parts = []
        if config.steps is not None:
            parts.append(step / config.steps)
        if config.minutes is not None:
            parts.append(elapsed() / (config.minutes * 60.0))
        return min(max(parts), 1.0)

    threads_before = torch.get_num_threads()
    tuner = None
    if device.type == "cpu" and config.cpu_threads:
        torch.set_num_threads(config.cpu_threads)
    elif device.type == "cpu":
        tuner = ThreadTuner(threads_before)
    run_start = time.monotonic()

    def elapsed() -> float:
        return elapsed0 + time.monotonic() - run_start

    saved_step, last_save = step, time.monotonic()
    f0 = fraction()
    figures: dict[str, float] = {}
    status = "failed"
    try:
        if step == 0:
            figures, preview = evaluate()
            yield Progress(CACHE_SPAN, "Training renderer", step=0, losses=figures, preview=preview)
        while fraction() < 1.0:
            picks = rng.choice(data.train_indices, size=config.batch_size,
                               replace=len(data.train_indices) < config.batch_size)
            with tuner.step() if tuner is not None else contextlib.nullcontext():
                losses = train_step(gen, disc, opt_g, opt_d, data.batch(picks, rng), config.l1_weight,
                                    config.gan_weight, config.mouth_weight, config.detail_weight)
            step += 1
            preview = None
            if step % config.eval_every == 0:
                figures, preview = evaluate()
            if time.monotonic() - last_save >= config.checkpoint_every_s:
                save_checkpoint(folder / LAST_FILE, snapshot())
                saved_step, last_save = step, time.monotonic()
            f = fraction()
            eta = (elapsed() - elapsed0) * (1 - f) / (f - f0) if f > f0 else None
            yield Progress(CACHE_SPAN + (1 - CACHE_SPAN) * f, "Training renderer", eta_s=eta, step=step,
                           total=config.steps, losses={**losses, **figures}, preview=preview)
        if best["step"] != step:
            figures, _ = evaluate()
        status = "done"
    except (GeneratorExit, JobCancelled, KeyboardInterrupt):  # the user stopped it: resumable
        status = "cancelled"
        raise
    finally:
        torch.set_num_threads(threads_before)
        if step > saved_step or status == "done":
            save_checkpoint(folder / LAST_FILE, snapshot())
        result = RendererTrainResult(
            steps=step, elapsed_s=elapsed(), best_step=int(best["step"]),
            val_l1_255=float(best["val_l1_255"]), val_psnr=float(best["val_psnr"]),
            stopped_by="step budget" if config.steps is not None and step >= config.steps else "time budget")
        project.set_stage(STAGE, status, settings=settings, inputs=("fitting",), metrics=result.metrics(),
                          message=None if status == "done" else f"stopped at step {step}; run again to resume")
    return result
