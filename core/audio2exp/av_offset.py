"""The target video's own audio/video offset, measured at training and removed from what the
audio model learns.

A clip whose sound lags its picture teaches the model to move the mouth early for every other
(synced) voice. The phoneme recogniser's "openness" (vowel classes up, p/b/m and f/v down,
smoothed over 60 ms) follows the tracked lip gap; the lag of their best correlation is found on
the training frames only. On eight clips with synced sound (styletalk andrew and the seven voice
clips of build_prior.VOICE_CLIPS) that lag is +0.00..+0.08 s, median +0.04 s (the recogniser's
spikes come a little after the mouth shapes them): that is the synced reference. What a clip's
lag differs from it by is its offset (edtalk__pose_source2: +0.14 s, so its sound is 0.10 s late).
Offsets within the synced clips' own spread are left alone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d

from core.audio2exp.phonemes import STEP_S
from core.audio2exp.visemes import CLASSES

log = logging.getLogger(__name__)

SYNCED_LAG_S = 0.04  # median best lag over 8 clips with synced sound (module docstring)
SEARCH_S = 0.20  # offsets searched: -0.2 .. +0.2 s around the synced lag
SEARCH_STEP_S = 0.01
DEAD_ZONE_S = 0.04  # synced clips spread 0.00..0.08 s around their median: no shift within it
SMOOTH_S = 0.06
MIN_FRAMES = 100
MIN_CORR = 0.15  # a flatter peak says nothing about timing
OPENNESS = {"open_vowel": 1.0, "mid_vowel": 0.7, "close_vowel": 0.3, "rounded_vowel": 0.5,
            "bilabial": -1.0, "labiodental": -0.5}


@dataclass(frozen=True)
class AvOffset:
    """offset_s: how late the sound is against the picture (s; negative = early) as measured;
    applied_s: what the training shifts the audio by (0 inside the dead zone or unmeasurable);
    corr: the correlation at the best lag (NaN when not measured); note: why nothing was applied."""

    offset_s: float = 0.0
    applied_s: float = 0.0
    corr: float = float("nan")
    note: str = ""


def openness(classes: np.ndarray) -> np.ndarray:
    """float (M,) at 50 Hz: the class posteriors (M, len(CLASSES) + 1) weighted towards an open mouth."""
    weights = np.zeros(np.asarray(classes).shape[1])
    for name, w in OPENNESS.items():
        weights[CLASSES.index(name)] = w
    return gaussian_filter1d(np.asarray(classes, np.float64) @ weights, SMOOTH_S / STEP_S)


def lag_curve(classes: np.ndarray, opening: np.ndarray, fps: float, frames: np.ndarray,
              lags: np.ndarray) -> np.ndarray:
    """Correlation of the openness at frame time + lag with the tracked opening over ``frames``."""
    signal = openness(classes)
    steps = np.arange(len(signal)) * STEP_S
    frames = frames[np.isfinite(opening[frames])]
    times = frames / fps
    out = np.full(len(lags), np.nan)
    for i, lag in enumerate(lags):
        inside = (times + lag >= 0) & (times + lag <= steps[-1])
        if inside.sum() < MIN_FRAMES:
            continue
        a = np.interp(times[inside] + lag, steps, signal)
        b = opening[frames[inside]]
        if a.std() > 1e-9 and b.std() > 1e-9:
            out[i] = np.corrcoef(a, b)[0, 1]
    return out


def measure_offset(classes: np.ndarray, opening: np.ndarray, fps: float, frames: np.ndarray) -> AvOffset:
    """The clip's audio/video offset from its phoneme class posteriors (M, C + 1) at 50 Hz and the
    tracked opening (N,) (NaN = unknown) over ``frames`` (the training part)."""
    frames = np.asarray(frames)
    frames = frames[(frames >= 0) & (frames < len(opening))]
    if len(classes) < 2 or np.isfinite(opening[frames]).sum() < MIN_FRAMES:
        return AvOffset(note="too few tracked frames to measure the audio/video offset")
    offsets = np.arange(-SEARCH_S, SEARCH_S + SEARCH_STEP_S / 2, SEARCH_STEP_S)
    curve = lag_curve(classes, opening, fps, frames, SYNCED_LAG_S + offsets)
    if not np.isfinite(curve).any() or np.nanmax(curve) < MIN_CORR:
        return AvOffset(corr=float(np.nanmax(curve)) if np.isfinite(curve).any() else float("nan"),
                        note="speech and lips correlate too weakly to measure the audio/video offset")
    best = int(np.nanargmax(curve))
    offset = float(np.round(offsets[best], 3))
    applied = offset if abs(offset) > DEAD_ZONE_S + 1e-9 else 0.0
    return AvOffset(offset_s=offset, applied_s=applied, corr=float(curve[best]))


def shift_audio(samples: np.ndarray, offset_s: float, sample_rate: int) -> np.ndarray:
    """The samples moved earlier by offset_s (sound late by offset_s -> synced), same length,
    zeros where nothing is left."""
    n = int(round(offset_s * sample_rate))
    if n == 0:
        return samples
    out = np.zeros_like(samples)
    if abs(n) >= len(samples):
        return out
    if n > 0:
        out[:len(samples) - n] = samples[n:]
    else:
        out[-n:] = samples[:len(samples) + n]
    return out
