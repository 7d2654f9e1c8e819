"""Mouth-opening calibration: undo a regression model's pull towards the mean opening.

A network trained with a squared error predicts openings that rarely get down to closed lips
(p, b, m) or up to the widest ones. Calibration maps the predicted opening (the mouth probe on the
predicted expression) onto the distribution of the tracked openings by quantile matching, both
measured on the speaking frames of the training part, and moves the expression along the direction
that opens the mouth (the regression of the expression on the tracked opening) by ``strength`` x
the difference. The map is monotone, so the ranking of the openings (and so their correlation with
the truth) barely changes while closures reach the closed level. It runs before the silence gate,
so long pauses still fade to the resting, closed expression.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

LEVELS = np.linspace(0.0, 100.0, 41)


@dataclass(frozen=True)
class OpeningCalibration:
    """predicted / tracked: float (L,) quantiles of the predicted and tracked openings at LEVELS;
    direction: float32 (K,) normalised expression change per unit of tracked opening; strength:
    0 = off, 1 = the predicted distribution matches the tracked one."""

    predicted: np.ndarray
    tracked: np.ndarray
    direction: np.ndarray
    strength: float = 1.0

    def to_json(self) -> dict[str, Any]:
        return {"predicted": self.predicted.tolist(), "tracked": self.tracked.tolist(),
                "direction": self.direction.tolist(), "strength": float(self.strength)}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> "OpeningCalibration | None":
        if not data:
            return None
        return cls(predicted=np.asarray(data["predicted"], np.float64),
                   tracked=np.asarray(data["tracked"], np.float64),
                   direction=np.asarray(data["direction"], np.float32), strength=float(data["strength"]))

    def map_opening(self, opening: np.ndarray) -> np.ndarray:
        """Calibrated openings (T,); beyond the fitted range the end offsets carry on."""
        o = np.asarray(opening, np.float64)
        out = np.interp(o, self.predicted, self.tracked)
        low, high = o < self.predicted[0], o > self.predicted[-1]
        out[low] = o[low] + (self.tracked[0] - self.predicted[0])
        out[high] = o[high] + (self.tracked[-1] - self.predicted[-1])
        return out

    def apply(self, z: np.ndarray, probe_w: np.ndarray, probe_b: float) -> np.ndarray:
        """z: float32 (T, K) normalised expressions -> calibrated (T, K)."""
        gain = float(self.direction @ probe_w)
        if self.strength == 0 or abs(gain) < 1e-9 or len(z) == 0:
            return z
        opening = z @ probe_w + probe_b
        delta = self.strength * (self.map_opening(opening) - opening) / gain
        return (z + delta[:, None].astype(np.float32) * self.direction[None, :]).astype(np.float32)


def fit_calibration(predicted: np.ndarray, tracked: np.ndarray, direction: np.ndarray,
                    strength: float = 1.0) -> OpeningCalibration | None:
    """predicted, tracked: (N,) openings of the same training frames (speaking ones; NaN skipped);
    direction: (K,). None when there are too few frames to fit quantiles."""
    ok = np.isfinite(predicted) & np.isfinite(tracked)
    if ok.sum() < 50 or strength == 0:
        return None
    return OpeningCalibration(predicted=np.maximum.accumulate(np.percentile(predicted[ok], LEVELS)),
                              tracked=np.maximum.accumulate(np.percentile(tracked[ok], LEVELS)),
                              direction=np.asarray(direction, np.float32), strength=float(strength))
