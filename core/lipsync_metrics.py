"""Lip-sync figures computed on mouth-opening series: lip closure, bilabial closure recall and
how much the mouth moves during speech. Plain numpy on arrays, so the audio training scores its
model with them and evaluation reports them (core.evaluation.voice_transfer measures other voices).

Lip closure: among the held-out frames where the real lips are closed while the person is speaking
(p, b, m and the like), the share where the predicted mouth is closed too.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import maximum_filter1d

SPEECH_HOLD_S = 0.3  # a frame within this of voiced audio counts as "during speech"
CLOSED_SPLIT = 0.15  # closed: below p5 + 15 % of the (p5..p95) range of the real openings


def lip_closure(real: np.ndarray, predicted: np.ndarray, gate: np.ndarray, fps: float) -> dict:
    """real, predicted: (T,) mouth openings of the held-out frames (NaN = unknown); gate: (T,)
    speech gate. Returns {"share", "share_within_1_frame", "frames", "threshold"}."""
    real = np.asarray(real, float)
    predicted = np.asarray(predicted, float)
    ok = np.isfinite(real) & np.isfinite(predicted)
    if ok.sum() < 10:
        return {"share": float("nan"), "share_within_1_frame": float("nan"), "frames": 0, "threshold": float("nan")}
    p5, p95 = np.percentile(real[ok], [5, 95])
    threshold = float(p5 + CLOSED_SPLIT * (p95 - p5))
    hold = max(1, int(round(SPEECH_HOLD_S * fps)))
    speaking = maximum_filter1d((np.asarray(gate) > 0.5).astype(np.uint8), size=2 * hold + 1) > 0
    closed = ok & speaking & (real <= threshold)
    pred_closed = np.where(np.isfinite(predicted), predicted, np.inf) <= threshold
    near = maximum_filter1d(pred_closed.astype(np.uint8), size=3) > 0
    n = int(closed.sum())
    return {"share": float(pred_closed[closed].mean()) if n else float("nan"),
            "share_within_1_frame": float(near[closed].mean()) if n else float("nan"),
            "frames": n, "threshold": threshold,
            "measure": "held-out frames with the real lips closed (tracked gap below p5 + 15 % of its "
                       "p5..p95 range) within 0.3 s of voiced audio; predicted: the mouth-opening probe "
                       "on the predicted expressions, same threshold"}


BILABIAL_SEARCH_S = (-0.20, 0.04)  # where the lips meet around the recogniser's p/b/m spike


def bilabial_recall(real: np.ndarray, predicted: np.ndarray, events: np.ndarray | None, fps: float) -> dict:
    """Bilabial closure recall over a stretch of frames (frame i centred at i / fps).

    real, predicted: (T,) mouth openings (NaN = unknown); events: times (s) of the p/b/m the phoneme
    recogniser found on the stretch's real audio. For each event, its bilabial frame is the frame
    of the tightest real lips from 200 ms before to 40 ms after the spike (the recogniser fires near
    the release, after the lips met); recall is the share of those frames where the prediction is
    closed (below the lip_closure threshold of the real openings). Returns {"share",
    "share_within_1_frame", "frames", "events", "threshold", "measure"}.
    """
    real = np.asarray(real, float)
    predicted = np.asarray(predicted, float)
    nan = float("nan")
    ok = np.isfinite(real)
    if events is None or ok.sum() < 10:
        return {"share": nan, "share_within_1_frame": nan, "frames": 0, "events": 0, "threshold": nan}
    p5, p95 = np.percentile(real[ok], [5, 95])
    threshold = float(p5 + CLOSED_SPLIT * (p95 - p5))
    frames = set()
    for e in np.asarray(events, float):
        lo = max(0, int(np.ceil((e + BILABIAL_SEARCH_S[0]) * fps)))
        hi = min(len(real) - 1, int(np.floor((e + BILABIAL_SEARCH_S[1]) * fps)))
        if hi < lo or not np.isfinite(real[lo:hi + 1]).any():
            continue
        frames.add(lo + int(np.nanargmin(real[lo:hi + 1])))
    idx = np.array(sorted(frames), int)
    pred_closed = np.where(np.isfinite(predicted), predicted, np.inf) <= threshold
    near = maximum_filter1d(pred_closed.astype(np.uint8), size=3) > 0
    n = len(idx)
    return {"share": float(pred_closed[idx].mean()) if n else nan,
            "share_within_1_frame": float(near[idx].mean()) if n else nan,
            "frames": n, "events": int(len(events)), "threshold": threshold,
            "measure": "per p/b/m the phoneme recogniser finds in the real audio, the frame of the tightest "
                       "real lips within -200..+40 ms of it; share of those frames predicted closed (mouth "
                       "probe at or below the lip-closure threshold of the real openings)"}


PAUSE_MIN_S = 0.3  # a pause: no voiced audio for at least this long


def speech_motion_share(opening: np.ndarray, gate: np.ndarray, fps: float, threshold: float) -> dict:
    """How a dub's mouth follows its speech: among the frames with voiced audio and the frames inside
    pauses (no voiced audio within a PAUSE_MIN_S window around them, i.e. about half of it on each
    side), the share where the mouth is open (opening above ``threshold``, the target's closed-lip
    level) on voice and closed in pauses.

    opening: (T,) mouth openings of the dub's frames (NaN = unknown); gate: (T,) speech gate of its
    audio. Returns {"share", "voiced_open", "pause_closed", "voiced_frames", "pause_frames"}.
    """
    opening = np.asarray(opening, float)
    voiced = np.asarray(gate) > 0.5
    run = max(1, int(round(PAUSE_MIN_S * fps)))
    near_voice = maximum_filter1d(voiced.astype(np.uint8), size=run, mode="nearest") > 0
    pause = ~near_voice
    ok = np.isfinite(opening)
    is_open = np.where(ok, opening, -np.inf) > threshold
    v, p = voiced & ok, pause & ok
    nan = float("nan")
    n = int(v.sum() + p.sum())
    return {"share": float((is_open[v].sum() + (~is_open[p]).sum()) / n) if n else nan,
            "voiced_open": float(is_open[v].mean()) if v.any() else nan,
            "pause_closed": float((~is_open[p]).mean()) if p.any() else nan,
            "voiced_frames": int(v.sum()), "pause_frames": int(p.sum())}
