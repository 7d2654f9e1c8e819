"""Training one audio-to-expression network: the loss, one step, the epoch loop with the best
held-out epoch kept, and its post-processing chosen on the held-out part."""

from __future__ import annotations

import logging
import time

import numpy as np
import torch

from core.audio2exp.closures import closure_mask
from core.audio2exp.data import TrainingData
from core.audio2exp.features import window_rows
from core.audio2exp.model import Audio2Expression, AudioModelMeta, PostProcess, postprocess, run_network
from core.audio2exp.networks import NetworkSpec, build_network
from core.audio2exp.normaliser import Normaliser, component_weights
from core.audio2exp.registry import variant
from core.audio2exp.scoring import (evaluate, fit_closure_forcing, fit_opening_calibration,
                                    held_out_bilabial_recall, held_out_closure)
from core.audio2exp.train_config import AudioTrainConfig, ModelScore
from core.jobs import Job, ProgressClock

log = logging.getLogger(__name__)

SMOOTHING_CHOICES_S = (0.0, 0.02, 0.04, 0.06)
EVAL_MOUTH_WEIGHT = 4.0  # held-out error: the component that moves the mouth most counts 5x


def drop_features(x: torch.Tensor, x_next: torch.Tensor, channels: int, p: float):
    """Zero a random share p of the first ``channels`` feature channels (the encoder's own, speaker
    dependent ones) per sample, the same in both windows of a pair, rescaled like dropout."""
    if p <= 0 or channels <= 0:
        return x, x_next
    keep = (torch.rand(x.shape[0], 1, channels, device=x.device) >= p).to(x.dtype) / (1 - p)
    mask = torch.cat([keep, torch.ones(x.shape[0], 1, x.shape[2] - channels, device=x.device)], dim=2)
    return x * mask, x_next * mask


def training_step(network, optimiser, x, y, x_next, y_next, weights, probe_w, config: AudioTrainConfig,
                  improved: bool) -> float:
    """One Adam step. x, x_next: (B, W, F) windows of frames i and i + 1; y, y_next: (B, K)."""
    network.train()
    optimiser.zero_grad(set_to_none=True)
    x, x_next = drop_features(x, x_next, variant(config.features.kind).speaker_channels(config.features),
                              config.feature_dropout)
    if improved:
        pred = network(torch.cat([x, x_next]))
        p, p_next = pred[:len(x)], pred[len(x):]
        loss = (weights * (p - y) ** 2).mean()
        loss = loss + config.mouth_loss * ((p - y) @ probe_w).pow(2).mean() / (probe_w.pow(2).sum() + 1e-12)
        loss = loss + config.velocity_loss * ((p_next - p) - (y_next - y)).pow(2).mean()
    else:
        loss = ((network(x) - y) ** 2).mean()
    loss.backward()
    optimiser.step()
    return float(loss.detach())

def train_network_job(data: TrainingData, norm: Normaliser, model: str, config: AudioTrainConfig,
                      span: tuple[float, float]) -> Job[tuple[Audio2Expression, ModelScore]]:
    """Train one network; yields progress about every 0.25 s. Returns the model and its scores."""
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    device = torch.device(config.device)
    improved = model == "improved"
    half = config.improved_half if improved else config.baseline_half
    spec = NetworkSpec(model=model, row_size=data.rows.shape[1], n_exp=data.n_exp, half=half,
                       width=config.width, dropout=config.dropout)
    network = build_network(spec).to(device)
    lr = config.improved_lr if improved else config.lr
    batch_size = config.improved_batch_size if improved else config.batch_size
    optimiser = torch.optim.Adam(network.parameters(), lr=lr, weight_decay=config.weight_decay)

    windows_np = window_rows(data.rows, half)
    windows = torch.from_numpy(windows_np).to(device)
    z_all = np.zeros_like(data.expression)
    z_all[data.has_face] = norm.z(data.expression[data.has_face])
    targets = torch.from_numpy(z_all).to(device)
    weights_np = component_weights(norm, z_all[data.train], EVAL_MOUTH_WEIGHT)
    weights = torch.from_numpy(component_weights(norm, z_all[data.train], config.mouth_weight)).to(device)
    probe_w = torch.from_numpy(norm.probe_w).to(device)
    # Pairs (i, i + 1) inside the training part for the velocity term.
    train_set = np.zeros(len(z_all), bool)
    train_set[data.train] = True
    pairs = data.train[(data.train + 1 < len(z_all))]
    pairs = pairs[train_set[np.minimum(pairs + 1, len(z_all) - 1)]]
    if not improved:
        pairs = data.train
    steps_per_epoch = int(np.ceil(len(pairs) / batch_size))
    clock = ProgressClock(f"Training {model} audio model", config.epochs * steps_per_epoch, span)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, config.epochs * steps_per_epoch,
                                                       eta_min=lr * 0.05)
    start = time.monotonic()
    last_yield = 0.0
    best = (np.inf, None, 0)
    first_loss = None
    step = 0
    losses: list[float] = []
    for epoch in range(config.epochs):
        order = rng.permutation(pairs)
        for b in range(steps_per_epoch):
            idx = torch.from_numpy(order[b * batch_size:(b + 1) * batch_size]).to(device)
            nxt = torch.clamp(idx + 1, max=len(z_all) - 1)
            loss = training_step(network, optimiser, windows[idx], targets[idx], windows[nxt], targets[nxt],
                                 weights, probe_w, config, improved)
            sched.step()
            losses.append(loss)
            step += 1
            if time.monotonic() - last_yield > 0.25:
                last_yield = time.monotonic()
                yield clock.step(step, losses={"loss": float(np.mean(losses[-50:]))},
                                 message=f"epoch {epoch + 1}/{config.epochs}")
        if first_loss is None:
            first_loss = float(np.mean(losses))
        epoch_loss = float(np.mean(losses[-steps_per_epoch:]))
        z_pred = run_network(network, windows_np, device)
        val = evaluate(z_pred, data, norm, weights_np)["mouth_nmse"]
        log.info("%s epoch %d: train loss %.4f, held-out mouth NMSE %.4f", model, epoch + 1, epoch_loss, val)
        if val < best[0]:
            best = (val, {k: v.detach().clone() for k, v in network.state_dict().items()}, epoch + 1)
        yield clock.step(step, losses={"loss": epoch_loss, "val_mouth_nmse": val},
                         message=f"epoch {epoch + 1}/{config.epochs}")
    network.load_state_dict(best[1])
    train_s = time.monotonic() - start

    z_pred = run_network(network, windows_np, device)
    raw = evaluate(z_pred, data, norm, weights_np)
    chosen, chosen_figs = None, None
    for smooth_s in (SMOOTHING_CHOICES_S if improved else (0.0,)):
        post = PostProcess(smooth_s=smooth_s)
        figs = evaluate(postprocess(z_pred, data.gate, data.fps, norm.rest, post), data, norm, weights_np)
        if chosen_figs is None or figs["mouth_nmse"] < chosen_figs["mouth_nmse"]:
            chosen, chosen_figs = post, figs
    uncalibrated = chosen_figs
    calibration = fit_opening_calibration(z_pred, data, norm, chosen, config.closure_calibration)
    probe = (norm.probe_w, norm.probe_b)
    z_unforced = postprocess(z_pred, data.gate, data.fps, norm.rest, chosen, calibration, probe)
    forcing = fit_closure_forcing(data, norm) if config.bilabial_closures else None
    closures = None
    if forcing is not None:
        closures = (forcing, closure_mask(data.bilabial, data.fps, len(z_pred), forcing.offset_s, forcing.hold_s,
                                          forcing.merge_gap_s))
    z_final = postprocess(z_pred, data.gate, data.fps, norm.rest, chosen, calibration, probe, closures)
    if calibration is not None or closures is not None:
        chosen_figs = evaluate(z_final, data, norm, weights_np)
    closure = held_out_closure(postprocess(z_pred, data.gate, data.fps, norm.rest, chosen), data, norm)
    closure_cal = held_out_closure(z_final, data, norm)
    score = ModelScore(model=model, mse=chosen_figs["mse"], nmse=chosen_figs["nmse"], mouth_nmse=chosen_figs["mouth_nmse"],
                       mouth_corr=chosen_figs["mouth_corr"], mouth_corr_tracked=chosen_figs["mouth_corr_tracked"],
                       nmse_raw=raw["nmse"], mouth_corr_raw=raw["mouth_corr"],
                       amplitude_ratio=chosen_figs["amplitude_ratio"], smooth_s=chosen.smooth_s,
                       epochs_run=config.epochs, best_epoch=best[2], train_s=train_s,
                       loss_first=first_loss, loss_last=float(np.mean(losses[-steps_per_epoch:])),
                       lip_closure=closure_cal, lip_closure_uncalibrated=closure,
                       mouth_corr_tracked_uncalibrated=uncalibrated["mouth_corr_tracked"],
                       amplitude_ratio_uncalibrated=uncalibrated["amplitude_ratio"],
                       bilabial_recall=held_out_bilabial_recall(z_final, data, norm),
                       bilabial_recall_unforced=held_out_bilabial_recall(z_unforced, data, norm),
                       closure_offset_s=forcing.offset_s if forcing else float("nan"))
    meta = AudioModelMeta(spec=spec, features=config.features, post=chosen, fps=data.fps,
                          expr_mean=norm.mean, expr_scale=norm.scale, rest=norm.rest,
                          probe_weights=norm.probe_w, probe_bias=norm.probe_b, calibration=calibration,
                          closures=forcing)
    return Audio2Expression(network, meta, device), score

