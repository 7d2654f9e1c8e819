"""Expression statistics of the training frames: normalisation, mouth probe, resting mouth."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.audio2exp.data import TrainingData


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

