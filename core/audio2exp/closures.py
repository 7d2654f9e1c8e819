"""Bilabial closures that happen: where the phoneme recogniser finds a p, b or m, the predicted
mouth is driven to the person's own closed-lip opening.

The recogniser is a CTC model: a phoneme shows as a spike near its acoustic release, after the
lips met. On our clips the tracked lips are most often closed 60 ms (andrew) to 140 ms (edtalk,
whose sound is a little late on its picture) before the spike, so the offset is fitted per person
on the training frames (``fit_offset``) among OFFSETS_S. Each closure covers ``hold_s`` (80 ms =
two frames at 25 fps) centred at spike + offset, and always at least two frames; an opening of
less than ``merge_gap_s`` (70 ms) between two closures is closed too, so short shapes do not
flicker. Forcing moves the expression along the direction that opens the mouth (the regression of
the expression on the tracked opening) just far enough to reach the closed opening; frames already
at or below it are left alone. It runs after the opening calibration and before the silence gate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

OFFSETS_S = tuple(np.round(np.arange(-0.20, 0.0001, 0.02), 3))
DEFAULT_OFFSET_S = -0.08
MIN_EVENTS_TO_FIT = 5


@dataclass(frozen=True)
class ClosureForcing:
    """closed: the person's closed-lip opening (mouth-probe units, inner-lip gap over face height);
    direction: float32 (K,) normalised expression change per unit of opening; offset_s: closure
    centre relative to the recogniser's spike; hold_s: closure length; merge_gap_s: shorter
    openings between closures are closed."""

    closed: float
    direction: np.ndarray
    offset_s: float = DEFAULT_OFFSET_S
    hold_s: float = 0.08
    merge_gap_s: float = 0.07

    def to_json(self) -> dict[str, Any]:
        return {"closed": float(self.closed), "direction": self.direction.tolist(), "offset_s": float(self.offset_s),
                "hold_s": float(self.hold_s), "merge_gap_s": float(self.merge_gap_s)}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> "ClosureForcing | None":
        if not data:
            return None
        return cls(closed=float(data["closed"]), direction=np.asarray(data["direction"], np.float32),
                   offset_s=float(data["offset_s"]), hold_s=float(data["hold_s"]),
                   merge_gap_s=float(data["merge_gap_s"]))


def closure_mask(events: np.ndarray | None, fps: float, n_frames: int, offset_s: float = DEFAULT_OFFSET_S,
                 hold_s: float = 0.08, merge_gap_s: float = 0.07) -> np.ndarray:
    """bool (n_frames,): frames (centre i / fps) to close for spikes at ``events`` (seconds)."""
    mask = np.zeros(n_frames, bool)
    if events is None or len(events) == 0 or n_frames == 0:
        return mask
    min_frames = 2
    for e in np.asarray(events, float):
        centre = (e + offset_s) * fps
        first = int(np.ceil(centre - hold_s * fps / 2 - 1e-9))
        last = int(np.floor(centre + hold_s * fps / 2 - 1e-9))
        if last - first + 1 < min_frames:  # always two frames: the two nearest the centre
            first = int(np.floor(centre))
            last = first + 1
        first, last = max(first, 0), min(last, n_frames - 1)
        if first <= last:
            mask[first:last + 1] = True
    gap = int(np.floor(merge_gap_s * fps + 1e-9))  # open runs of at most this many frames are closed
    if gap >= 1:
        idx = np.flatnonzero(mask)
        for a, b in zip(idx[:-1], idx[1:]):
            if 1 < b - a <= gap + 1:
                mask[a:b] = True
    return mask


def apply_closures(z: np.ndarray, mask: np.ndarray, forcing: ClosureForcing, probe_w: np.ndarray,
                   probe_b: float) -> np.ndarray:
    """z: float32 (T, K) normalised expressions; mask: bool (T,). Masked frames whose opening is
    above ``forcing.closed`` move along the opening direction down to it. Returns (T, K)."""
    gain = float(forcing.direction @ probe_w)
    if abs(gain) < 1e-9 or not np.any(mask):
        return z
    opening = z @ probe_w + probe_b
    delta = np.where(mask, np.minimum(forcing.closed - opening, 0.0), 0.0) / gain
    return (z + delta[:, None].astype(np.float32) * forcing.direction[None, :]).astype(np.float32)


def fit_offset(events: np.ndarray, opening: np.ndarray, fps: float, frames: np.ndarray,
               closed_threshold: float) -> tuple[float, float]:
    """(offset_s, share): the offset among OFFSETS_S at which the tracked lips (opening (N,), NaN =
    unknown) are most often closed (<= closed_threshold) at spike + offset, over the spikes that
    fall on ``frames`` (the training part). DEFAULT_OFFSET_S and NaN with too few spikes."""
    allowed = np.zeros(len(opening), bool)
    allowed[frames] = True
    best, best_share = DEFAULT_OFFSET_S, float("nan")
    counts = []
    for offset in OFFSETS_S:
        idx = np.round((np.asarray(events) + offset) * fps).astype(int)
        idx = idx[(idx >= 0) & (idx < len(opening))]
        idx = idx[allowed[idx] & np.isfinite(opening[idx])]
        counts.append(len(idx))
        if len(idx) < MIN_EVENTS_TO_FIT:
            continue
        share = float((opening[idx] <= closed_threshold).mean())
        if not share <= best_share:  # first, or better (ties keep the earlier, longer lead)
            best, best_share = float(offset), share
    return best, best_share
