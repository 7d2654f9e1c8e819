"""The audio-model training job: learn the target's own audio -> fitted expressions.

Paper: MSE, Adam, 10 epochs, batch 5. Here the last ``holdout`` share of the video is held out; the
epoch with the lowest held-out error is kept, the post-processing (smoothing) is chosen on the
held-out part too, and with model="auto" both networks are trained and the better one is saved.

The improved network's loss adds, on top of the MSE: a weight on the components that move the mouth
(found by the mouth-opening probe), an MSE on the mouth opening itself, and an MSE on frame-to-frame
velocities; together they fight the low-amplitude, jittery lips of a plain MSE regression.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import torch

from core.audio2exp.calibration import fit_calibration
from core.audio2exp.data import TrainingData, load_training_data
from core.audio2exp.features import AudioFeatureConfig, window_rows
from core.audio2exp.model import (META_FILE, MODEL_FILE, Audio2Expression, AudioModelMeta, PostProcess,
                                  postprocess, run_network)
from core.audio2exp.closures import ClosureForcing, closure_mask, fit_offset
from core.audio2exp.networks import MODELS, NetworkSpec, build_network
from core.audio2exp.registry import variant
from core.errors import JobCancelled
from core.holdout import HOLDOUT_FRACTION
from core.jobs import Job, Progress, ProgressClock
from gpu.device import on_threads

log = logging.getLogger(__name__)

STAGE = "audio_model"
SMOOTHING_CHOICES_S = (0.0, 0.02, 0.04, 0.06)
EVAL_MOUTH_WEIGHT = 4.0  # held-out error: the component that moves the mouth most counts 5x


@dataclass(frozen=True)
class AudioTrainConfig:
    """model: "baseline" (paper), "improved" (default: lower held-out error on our test videos, see
    NOTES.md), or "auto" (train both, keep the one with the lower mouth-weighted held-out error).
    epochs / batch_size / lr: the paper's Adam schedule (10 epochs, batch 5) for the baseline; the
    improved network uses improved_batch_size / improved_lr (3x faster, same held-out error).
    holdout: share of the face frames at the end of the video used for validation. Loss weights
    apply to "improved". closure_calibration: after training, the predicted mouth openings are mapped
    onto the distribution of the tracked ones (fitted on the training part) with this strength."""

    model: str = "improved"
    epochs: int = 10
    batch_size: int = 5
    lr: float = 1e-3
    improved_batch_size: int = 16
    improved_lr: float = 2e-3
    weight_decay: float = 1e-4
    holdout: float = HOLDOUT_FRACTION
    baseline_half: int = 3
    improved_half: int = 6
    width: int = 96
    dropout: float = 0.2
    mouth_weight: float = 2.0
    mouth_loss: float = 1.0
    velocity_loss: float = 0.5
    feature_dropout: float = 0.5  # training only: share of the encoder's (speaker-dependent) channels zeroed per sample
    closure_calibration: float = 1.0  # strength of the mouth-opening calibration (calibration.py), 0 = off
    bilabial_closures: bool = True  # with phoneme features: close the lips on p/b/m (closures.py)
    seed: int = 0
    device: str = "cpu"
    # The library default stays the Whisper features that callers written before issue 23 (run,
    # benchmark, the calibration tests) were measured with; what a user chooses from (train-audio,
    # the app, batch lists) defaults to registry.DEFAULT.
    features: AudioFeatureConfig = field(default_factory=lambda: AudioFeatureConfig(kind="whisper"))

    def __post_init__(self) -> None:
        if self.model not in MODELS + ("auto",):
            raise ValueError(f"model must be one of {MODELS + ('auto',)}, not {self.model!r}")
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError("epochs and batch_size must be at least 1")


@dataclass(frozen=True)
class ModelScore:
    """Held-out figures of one trained network. nmse: MSE over the variance of the fitted
    expressions (0 perfect, 1 = no better than their mean); mse in expression units; mouth_corr:
    Pearson correlation of the probe's mouth opening, predicted vs fitted; *_raw before
    post-processing. mouth_nmse: the NMSE with each component weighted by how much it moves the
    mouth (only the lower face is re-rendered, so this is the error that shows); it picks the model."""

    model: str
    mse: float
    nmse: float
    mouth_nmse: float
    mouth_corr: float
    mouth_corr_tracked: float
    nmse_raw: float
    mouth_corr_raw: float
    amplitude_ratio: float
    smooth_s: float
    epochs_run: int
    best_epoch: int
    train_s: float
    loss_first: float
    loss_last: float
    # Held-out share of closed-lip frames during speech predicted closed (core.lipsync_metrics), and
    # the figures before the mouth-opening calibration (reported, never used to choose anything).
    lip_closure: float = float("nan")
    lip_closure_uncalibrated: float = float("nan")
    mouth_corr_tracked_uncalibrated: float = float("nan")
    amplitude_ratio_uncalibrated: float = float("nan")  # the network's own damping
    # With phoneme features: held-out bilabial closure recall (core.lipsync_metrics) with the
    # closure forcing and without it, and the closure offset fitted on the training frames.
    bilabial_recall: float = float("nan")
    bilabial_recall_unforced: float = float("nan")
    closure_offset_s: float = float("nan")

    def describe(self) -> str:
        return (f"{self.model}: held-out NMSE {self.nmse:.3f} (raw {self.nmse_raw:.3f}, mouth-weighted "
                f"{self.mouth_nmse:.3f}), MSE {self.mse:.4g}, "
                f"mouth-opening correlation {self.mouth_corr:.3f} (vs tracked lips {self.mouth_corr_tracked:.3f}), "
                f"mouth amplitude {self.amplitude_ratio:.2f}x fitted, lip closure {self.lip_closure:.0%} "
                f"(uncalibrated {self.lip_closure_uncalibrated:.0%}, tracked-lips correlation "
                f"{self.mouth_corr_tracked_uncalibrated:.3f})"
                + (f", bilabial closure recall {self.bilabial_recall:.0%} (without forcing "
                   f"{self.bilabial_recall_unforced:.0%})" if np.isfinite(self.bilabial_recall) else "")
                + f", {self.train_s:.1f} s")


@dataclass(frozen=True)
class AudioTrainResult:
    chosen: str
    scores: dict[str, ModelScore]
    frames_train: int
    frames_val: int
    skipped: bool = False
    features_note: str = ""

    def describe(self) -> str:
        head = ("Audio model already trained with these settings." if self.skipped else
                f"Audio model trained on {self.frames_train} frames, checked on the last "
                f"{self.frames_val} frames.")
        lines = [head] + ([self.features_note] if self.features_note else [])
        lines += [f"  {s.describe()}" for s in self.scores.values()]
        lines.append(f"Kept: {self.chosen}")
        return "\n".join(lines)


# ---- pieces -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Normaliser:
    """expression = z * scale + mean; mouth opening = z @ probe_w + probe_b."""

    mean: np.ndarray
    scale: float
    probe_w: np.ndarray
    probe_b: float
    rest: np.ndarray
    open_direction: np.ndarray  # E[z | tracked opening] per unit of opening: the calibration moves z along it

    def z(self, expression: np.ndarray) -> np.ndarray:
        return ((expression - self.mean[None, :]) / self.scale).astype(np.float32)


def fit_normaliser(data: TrainingData) -> Normaliser:
    """Statistics, mouth probe and resting expression, from the training frames only."""
    e = data.expression[data.train]
    mean = e.mean(axis=0)
    scale = float(np.sqrt(np.mean(e.var(axis=0)))) or 1.0
    z = (e - mean) / scale
    opening = data.opening[data.train]
    ok = np.isfinite(opening)
    if ok.sum() > z.shape[1]:
        a = np.concatenate([z[ok], np.ones((ok.sum(), 1))], axis=1)
        ridge = 1e-3 * len(a) * np.eye(a.shape[1])
        ridge[-1, -1] = 0.0
        coef = np.linalg.solve(a.T @ a + ridge, a.T @ opening[ok])
        probe_w, probe_b = coef[:-1], float(coef[-1])
    else:
        probe_w, probe_b = np.zeros(z.shape[1]), 0.0
    # Resting mouth: the expression expected when the lips are closed, E[z | opening] from a
    # regression on the tracked opening, at its 5th percentile. Components unrelated to the mouth
    # (blinks, brows) stay at their mean instead of copying a few arbitrary frames.
    if ok.sum() > 10:
        o = opening[ok]
        slope = ((o - o.mean())[:, None] * z[ok]).sum(axis=0) / max(((o - o.mean()) ** 2).sum(), 1e-12)
        rest = z[ok].mean(axis=0) + slope * (np.percentile(o, 5) - o.mean())
    else:
        slope = np.zeros(z.shape[1])
        rest = np.zeros(z.shape[1])
    return Normaliser(mean=mean.astype(np.float32), scale=scale, probe_w=probe_w.astype(np.float32),
                      probe_b=probe_b, rest=rest.astype(np.float32), open_direction=slope.astype(np.float32))


def component_weights(norm: Normaliser, z_train: np.ndarray, mouth_weight: float) -> np.ndarray:
    """float32 (K,): 1 + mouth_weight x (how much each component moves the mouth, max 1)."""
    importance = np.abs(norm.probe_w) * z_train.std(axis=0)
    if importance.max() <= 0:
        return np.ones(z_train.shape[1], np.float32)
    return (1.0 + mouth_weight * importance / importance.max()).astype(np.float32)


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


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3 or a[ok].std() < 1e-12 or b[ok].std() < 1e-12:
        return 0.0
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


def evaluate(z_pred: np.ndarray, data: TrainingData, norm: Normaliser,
             weights: np.ndarray | None = None) -> dict[str, float]:
    """Held-out figures of a full-length normalised prediction (T, K); weights (K,) for mouth_nmse."""
    v = data.val
    z_true = norm.z(data.expression[v])
    err = z_pred[v] - z_true
    variance = float(np.mean(z_true.var(axis=0)))
    w = np.ones(z_true.shape[1]) if weights is None else weights
    mouth_nmse = float(np.sum(w * np.mean(err ** 2, axis=0)) / max(np.sum(w * z_true.var(axis=0)), 1e-12))
    mouth_pred, mouth_true = z_pred[v] @ norm.probe_w, z_true @ norm.probe_w
    return {
        "mse": float(np.mean(err ** 2) * norm.scale ** 2),
        "nmse": float(np.mean(err ** 2) / max(variance, 1e-12)),
        "mouth_nmse": mouth_nmse,
        "mouth_corr": _corr(mouth_pred, mouth_true),
        "mouth_corr_tracked": _corr(mouth_pred, data.opening[v]),
        "amplitude_ratio": float(mouth_pred.std() / max(mouth_true.std(), 1e-12)),
    }


def fit_opening_calibration(z_pred: np.ndarray, data: TrainingData, norm: Normaliser, post: PostProcess,
                            strength: float):
    """The mouth-opening calibration from the training part's speaking frames only (the network's
    smoothed output before the silence gate vs the tracked openings); None when off or unfittable."""
    if strength <= 0:
        return None
    smoothed = postprocess(z_pred, np.ones(len(z_pred), np.float32), data.fps, norm.rest, post)
    frames = data.train[data.gate[data.train] > 0.5]
    return fit_calibration(smoothed[frames] @ norm.probe_w + norm.probe_b, data.opening[frames],
                           norm.open_direction, strength)


def _held_out_closure(z: np.ndarray, data: TrainingData, norm: Normaliser) -> float:
    from core.lipsync_metrics import lip_closure

    v = data.val
    return float(lip_closure(data.opening[v], z[v] @ norm.probe_w + norm.probe_b, data.gate[v], data.fps)["share"])


def _held_out_bilabial_recall(z: np.ndarray, data: TrainingData, norm: Normaliser) -> float:
    from core.lipsync_metrics import bilabial_recall

    if data.bilabial is None:
        return float("nan")
    v0, v1 = int(data.val[0]), int(data.val[-1]) + 1
    events = data.bilabial - v0 / data.fps
    events = events[(events >= 0) & (events < (v1 - v0) / data.fps)]
    predicted = z[v0:v1] @ norm.probe_w + norm.probe_b
    real = np.full(v1 - v0, np.nan)
    real[data.val - v0] = data.opening[data.val]
    return float(bilabial_recall(real, predicted, events, data.fps)["share"])


def fit_closure_forcing(data: TrainingData, norm: Normaliser) -> ClosureForcing | None:
    """Closure forcing for phoneme features: the closed opening (5th percentile of the tracked
    openings on the training part's speaking frames) and the spike-to-closure offset fitted on the
    training frames. None without phoneme evidence or tracked openings."""
    if data.bilabial is None:
        return None
    frames = data.train[(data.gate[data.train] > 0.5) & np.isfinite(data.opening[data.train])]
    if len(frames) < 50:
        return None
    p5, p95 = np.percentile(data.opening[frames], [5, 95])
    from core.lipsync_metrics import CLOSED_SPLIT

    offset, share = fit_offset(data.bilabial, data.opening, data.fps, data.train, p5 + CLOSED_SPLIT * (p95 - p5))
    log.info("closure offset %.2f s (tracked lips closed at %.0f %% of the training spikes)", offset, 100 * share)
    return ClosureForcing(closed=float(p5), direction=norm.open_direction.astype(np.float32), offset_s=offset)


# ---- one network ---------------------------------------------------------------------------------
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
    closure = _held_out_closure(postprocess(z_pred, data.gate, data.fps, norm.rest, chosen), data, norm)
    closure_cal = _held_out_closure(z_final, data, norm)
    score = ModelScore(model=model, mse=chosen_figs["mse"], nmse=chosen_figs["nmse"], mouth_nmse=chosen_figs["mouth_nmse"],
                       mouth_corr=chosen_figs["mouth_corr"], mouth_corr_tracked=chosen_figs["mouth_corr_tracked"],
                       nmse_raw=raw["nmse"], mouth_corr_raw=raw["mouth_corr"],
                       amplitude_ratio=chosen_figs["amplitude_ratio"], smooth_s=chosen.smooth_s,
                       epochs_run=config.epochs, best_epoch=best[2], train_s=train_s,
                       loss_first=first_loss, loss_last=float(np.mean(losses[-steps_per_epoch:])),
                       lip_closure=closure_cal, lip_closure_uncalibrated=closure,
                       mouth_corr_tracked_uncalibrated=uncalibrated["mouth_corr_tracked"],
                       amplitude_ratio_uncalibrated=uncalibrated["amplitude_ratio"],
                       bilabial_recall=_held_out_bilabial_recall(z_final, data, norm),
                       bilabial_recall_unforced=_held_out_bilabial_recall(z_unforced, data, norm),
                       closure_offset_s=forcing.offset_s if forcing else float("nan"))
    meta = AudioModelMeta(spec=spec, features=config.features, post=chosen, fps=data.fps,
                          expr_mean=norm.mean, expr_scale=norm.scale, rest=norm.rest,
                          probe_weights=norm.probe_w, probe_bias=norm.probe_b, calibration=calibration,
                          closures=forcing)
    return Audio2Expression(network, meta, device), score


# ---- the job ---------------------------------------------------------------------------------------
def _settings(config: AudioTrainConfig) -> dict[str, Any]:
    settings = asdict(config)
    settings.pop("device")
    return settings


def train_audio_job(project, config: AudioTrainConfig = AudioTrainConfig()) -> Job[AudioTrainResult]:
    """Train the audio model on the project's own audio and fitted expressions.

    Writes audio_model.pt + audio_model.json and the stage record "audio_model" (inputs: fitting).
    Skips the work when the model is current with the same settings. Cancelling between yields
    leaves the previous model (if any) untouched.
    """
    from core.audio2exp.speech import project_encoder_folder, resolve_features

    yield Progress(0.0, "Loading the speech features")
    features = config.features
    if not features.encoder_folder:  # the project's Whisper folder (variants without Whisper drop it)
        features = replace(features, encoder_folder=project_encoder_folder(project))
    # "auto" features: each candidate variant trained, the lowest held-out mouth error kept.
    kinds = variant(features.kind).candidates or (features.kind,)
    candidates: dict[str, tuple[AudioFeatureConfig, str]] = {}
    for kind in kinds:
        resolved, note = resolve_features(replace(features, kind=kind))
        candidates.setdefault(resolved.kind, (resolved, note))  # two fallbacks to one variant: once
    if len(candidates) == 1:
        config = replace(config, features=next(iter(candidates.values()))[0])
        settings = _settings(config)
    else:
        settings = _settings(config)
        settings["features_resolved"] = {k: asdict(c) for k, (c, _) in candidates.items()}
    key, _ = project.stage_key(settings, ("fitting",))
    record = project.stage(STAGE)
    if (project.is_current(STAGE) and record.key == key and project.path(MODEL_FILE).exists()
            and project.path(META_FILE).exists()):
        return _result_from_record(record, skipped=True)

    project.set_stage(STAGE, "running", settings=settings, inputs=("fitting",))
    models = MODELS if config.model == "auto" else (config.model,)
    runs = [(kind, model) for kind in candidates for model in models]
    trained: dict[tuple[str, str], tuple[Audio2Expression, ModelScore]] = {}  # (features, model)
    notes: dict[str, str] = {}
    sizes = (0, 0)
    try:
        for kind, (resolved, note) in candidates.items():
            yield Progress(None, "Computing audio features", message=note)
            data = load_training_data(project, resolved, config.holdout)
            norm = fit_normaliser(data)
            sizes = (len(data.train), len(data.val))
            for model in models:
                i = runs.index((kind, model))
                span = (0.02 + 0.96 * i / len(runs), 0.02 + 0.96 * (i + 1) / len(runs))
                job = train_network_job(data, norm, model, replace(config, features=resolved), span)
                # These networks are tiny: one CPU thread per step beats several, by far on a busy machine.
                trained[(kind, model)] = yield from (on_threads(job, 1) if config.device == "cpu" else job)
                notes[kind] = note
    except (GeneratorExit, JobCancelled):
        project.set_stage(STAGE, "cancelled", message="cancelled by the user")
        raise
    except Exception as exc:
        project.set_stage(STAGE, "failed", message=str(exc))
        raise
    kind, chosen = min(trained, key=lambda km: trained[km][1].mouth_nmse)
    model, _ = trained[(kind, chosen)]
    scores = {m: s for (k, m), (_, s) in trained.items() if k == kind}
    note = notes[kind]
    metrics = {"chosen": chosen, "frames_train": int(sizes[0]), "frames_val": int(sizes[1]),
               "features": kind, "features_note": note,
               "scores": {m: asdict(s) for m, s in scores.items()}}
    if len(candidates) > 1:
        others = {k: {m: asdict(s) for (k2, m), (_, s) in trained.items() if k2 == k} for k in candidates if k != kind}
        note += f" Auto: kept {kind} (lower held-out mouth error than {', '.join(others)})."
        metrics.update(features_note=note, features_tried=others)
    model.meta = replace(model.meta, metrics=metrics)
    model.save(project)
    project.set_stage(STAGE, "done", settings=settings, inputs=("fitting",), metrics=metrics)
    yield Progress(1.0, "Audio model trained", message=f"kept {chosen}")
    return AudioTrainResult(chosen=chosen, scores=scores, frames_train=sizes[0], frames_val=sizes[1],
                            features_note=note)


def _result_from_record(record, skipped: bool) -> AudioTrainResult:
    m = record.metrics
    scores = {name: ModelScore(**s) for name, s in m.get("scores", {}).items()}
    return AudioTrainResult(chosen=m.get("chosen", ""), scores=scores, frames_train=m.get("frames_train", 0),
                            frames_val=m.get("frames_val", 0), skipped=skipped,
                            features_note=m.get("features_note", ""))
