"""Speech features behind one seam: a registry of variants keyed by AudioFeatureConfig.kind.

A variant knows how to resolve its config (load and check what it needs, fill in sizes and
digests), how to turn audio into one row per video frame, its row size, how many of its leading
channels are speaker-dependent (feature dropout while training), and which variant stands in when
it cannot load. train-audio, evaluate, the batch runner and the app list ``names()``; nothing else
names the variants. A new feature is one module plus one ``register`` call in variants.py.

Trained models record their config (kind included) in audio_model.json, so a model always predicts
with the features it was trained on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np

from core.errors import DubError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FeatureVariant:
    """name: the config value; label: one line for people; resolve(config) -> (config, note) or a
    DubError when the variant cannot be used here; rows(samples, fps, n_frames, config, cache_dir)
    -> FrameFeatures; row_size(config) -> values per frame; speaker_channels(config) -> leading
    channels dropped at random while training; fallback: the variant used when resolve fails;
    phonemes: whether the rows carry the recogniser's bilabial events (closure forcing);
    candidates: for a choice among variants ("auto"), the variants training tries; such an entry
    never makes rows itself (a model records the variant it kept)."""

    name: str
    label: str
    resolve: Callable
    rows: Callable
    row_size: Callable
    speaker_channels: Callable = lambda config: 0
    fallback: str = ""
    phonemes: bool = False
    candidates: tuple[str, ...] = ()  # a choice among variants: training tries each, keeps the best


_VARIANTS: dict[str, FeatureVariant] = {}
DEFAULT = "auto"


def register(variant: FeatureVariant) -> FeatureVariant:
    _VARIANTS[variant.name] = variant
    return variant


def names() -> tuple[str, ...]:
    """The registered variant names, in registration order."""
    return tuple(_VARIANTS)


def labels() -> dict[str, str]:
    """{name: one-line description} for menus and help texts."""
    return {name: v.label for name, v in _VARIANTS.items()}


def row_size(config) -> int:
    """Values per video frame of the features ``config`` names."""
    return variant(config.kind).row_size(config)


def variant(name: str) -> FeatureVariant:
    """The variant registered as ``name``; ValueError naming the choices otherwise."""
    if name not in _VARIANTS:
        raise ValueError(f"unknown speech features {name!r}; choose one of {', '.join(_VARIANTS)}")
    return _VARIANTS[name]


def resolve_features(config) -> tuple:
    """(resolved config, one line saying which features are used). When a variant cannot load,
    its fallback is tried in turn, and the line (also logged once) says what was missing."""
    kind, reasons = config.kind, []
    while True:
        v = variant(kind)
        try:
            resolved, note = v.resolve(replace(config, kind=kind))
        except DubError as exc:
            if not v.fallback:
                raise
            reasons.append(f"{v.label} unavailable ({exc})")
            kind = v.fallback
            continue
        if reasons:
            note = "; ".join(reasons) + f": using {variant(kind).label} instead. " + note
            log.warning("%s", note)
        return resolved, note


def frame_rows(samples: np.ndarray, fps: float, n_frames: int | None, config, cache_dir: Path | None = None):
    """One feature row per video frame with the variant the (resolved) config names."""
    return variant(config.kind).rows(samples, fps, n_frames, config, cache_dir)
