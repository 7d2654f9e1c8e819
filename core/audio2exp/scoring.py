"""Held-out figures of a trained network, and what is fitted on the training frames after it
(the mouth-opening calibration, the bilabial closure forcing)."""

from __future__ import annotations

import logging

import numpy as np

from core.audio2exp.calibration import fit_calibration
from core.audio2exp.closures import ClosureForcing, fit_offset
from core.audio2exp.data import TrainingData
from core.audio2exp.model import PostProcess, postprocess
from core.audio2exp.normaliser import Normaliser
from core.lipsync_metrics import CLOSED_SPLIT, bilabial_recall, lip_closure

log = logging.getLogger(__name__)


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


def held_out_closure(z: np.ndarray, data: TrainingData, norm: Normaliser) -> float:
    v = data.val
    return float(lip_closure(data.opening[v], z[v] @ norm.probe_w + norm.probe_b, data.gate[v], data.fps)["share"])


def held_out_bilabial_recall(z: np.ndarray, data: TrainingData, norm: Normaliser) -> float:
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
    offset, share = fit_offset(data.bilabial, data.opening, data.fps, data.train, p5 + CLOSED_SPLIT * (p95 - p5))
    log.info("closure offset %.2f s (tracked lips closed at %.0f %% of the training spikes)", offset, 100 * share)
    return ClosureForcing(closed=float(p5), direction=norm.open_direction.astype(np.float32), offset_s=offset)

