"""Feature rows from the Whisper encoder (and the multi-speaker prior), and the choice between them
and the MFCC rows.

Row of video frame i (centre i / fps), kind "whisper": the encoder's 50 Hz features linearly
interpolated at the frame's centre, normalised per utterance (mean/std over the voiced steps),
multiplied by the speech gate; then the prior's predicted lip gap and mouth width (also gated);
then the gate itself. Silence is the all-zero row but for the gate, as with the MFCC rows.

Encoder outputs are cached per audio (keyed by the samples' SHA-256 and the encoder's) in the
project's speech_cache/ folder, so training again or dubbing the same file again skips the encoder.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import numpy as np

from core.audio2exp.encoder import STEP_S, EncoderConfig, EncoderError, SpeechEncoder, load_encoder
from core.audio2exp.features import (AudioFeatureConfig, FrameFeatures, check_audio, gate_at_steps, sample_steps,
                                     step_features)
from core.audio2exp.prior import prior_for
from core.audio2exp.registry import DEFAULT, frame_rows, names, variant
from core.audio2exp.registry import resolve_features as resolve
from core.audio2exp.step_cache import audio_key, cached_rows

log = logging.getLogger(__name__)

CACHE_DIR = "speech_cache"


SETTING = "speech_encoder"


def project_encoder_folder(project) -> str:
    """The speech-encoder folder chosen for this project ("" = the bundled tiny.en)."""
    return str(project.manifest.get("settings", {}).get(SETTING, "") or "")


def set_project_encoder_folder(project, folder: str | Path | None) -> None:
    """Choose another CTranslate2 Whisper folder for this project (None or "" = the bundled one)."""
    project.manifest.setdefault("settings", {})[SETTING] = str(Path(folder).expanduser().resolve()) if folder else ""
    project.save()


FEATURES_SETTING = "speech_features"


def project_features(project) -> str:
    """The speech-feature variant chosen for this project (registry.py; default: registry.DEFAULT)."""
    kind = str(project.manifest.get("settings", {}).get(FEATURES_SETTING, "") or "")
    return kind if kind in names() else DEFAULT


def set_project_features(project, kind: str | None) -> None:
    """Choose the speech-feature variant for this project's next audio training (None = the default)."""
    if kind:
        variant(kind)  # ValueError naming the choices
    project.manifest.setdefault("settings", {})[FEATURES_SETTING] = kind or ""
    project.save()


def features_note(project, kind: str | None = None) -> str:
    """One line: which speech features this project's audio model will use, and why."""
    chosen = variant(kind or project_features(project))
    notes = [resolve_features(AudioFeatureConfig(kind=k, encoder_folder=project_encoder_folder(project)))[1]
             for k in (chosen.candidates or (chosen.name,))]
    return notes[0] if len(notes) == 1 else f"{chosen.label[0].upper()}{chosen.label[1:]}: " + " / ".join(notes)


def resolve_features(config: AudioFeatureConfig) -> tuple[AudioFeatureConfig, str]:
    """The registry's resolve (registry.py): the config with sizes and digests filled in, falling
    back along the variants when one cannot load, and one line saying which features are used."""
    return resolve(config)


def resolve_mfcc(config: AudioFeatureConfig) -> tuple[AudioFeatureConfig, str]:
    """kind "mfcc": nothing to load."""
    return replace(config, kind="mfcc", encoder_folder="", encoder_sha256="", encoder_dim=0, prior_dim=0,
                   prior_sha256="", phoneme_sha256="", phoneme_dim=0), "Speech features: MFCC."


def resolve_whisper(config: AudioFeatureConfig) -> tuple[AudioFeatureConfig, str]:
    """kind "whisper": load and check the encoder (EncoderError if it cannot), fill in its size and
    digest and the prior's."""
    encoder = load_encoder(EncoderConfig(folder=config.encoder_folder))
    prior = prior_for(encoder.sha256, encoder.dim) if config.prior else None
    resolved = replace(config, encoder_sha256=encoder.sha256, encoder_dim=encoder.dim,
                       prior_dim=prior.out_dim if prior else 0, prior_sha256=prior.sha256 if prior else "",
                       phoneme_sha256="", phoneme_dim=0)
    note = f"Speech features: {encoder.name}" + (" with the multi-speaker lip prior." if prior else ".")
    return resolved, note


def encoder_steps(samples: np.ndarray, encoder: SpeechEncoder, cache_dir: Path | None = None) -> np.ndarray:
    """Raw encoder features float32 (M, dim) at 50 Hz, from the cache when this audio was seen."""
    path = None
    if cache_dir is not None:
        path = Path(cache_dir) / f"{audio_key(samples)}_{encoder.sha256[:12]}_{encoder.config.margin_s:g}.npy"
    return cached_rows(path, encoder.dim, lambda: encoder.encode(samples), "speech")


def normalise_steps(raw: np.ndarray, gate: np.ndarray, clip_sigma: float = 5.0) -> np.ndarray:
    """Per-utterance normalisation over the voiced steps, then gated. raw (M, D), gate (M,)."""
    voiced = gate > 0.5
    if voiced.sum() >= 10:
        mean, std = raw[voiced].mean(axis=0), raw[voiced].std(axis=0)
    else:  # (near) silence: the gate zeroes the rows anyway
        mean, std = raw.mean(axis=0), np.ones(raw.shape[1], np.float32)
    z = np.clip((raw - mean) / np.maximum(std, 1e-3), -clip_sigma, clip_sigma)
    return (z * gate[:, None]).astype(np.float32)


def speech_steps(samples: np.ndarray, config: AudioFeatureConfig,
                 cache_dir: Path | None = None) -> tuple[np.ndarray, float]:
    """Whisper-kind features at 50 Hz: float32 (M, row_size) and the voiced share."""
    encoder = load_encoder(EncoderConfig(folder=config.encoder_folder),
                           expected_sha256=config.encoder_sha256 or None)
    if encoder.dim != config.encoder_dim:
        raise EncoderError(f"{encoder.folder}: this encoder gives {encoder.dim} features but the audio model "
                           f"was trained with {config.encoder_dim}. Train the audio model again.")
    raw = encoder_steps(samples, encoder, cache_dir)
    gate, voiced_share = gate_at_steps(samples, len(raw), config)
    z = normalise_steps(raw, gate, config.clip_sigma)
    parts = [z]
    if config.prior_dim:
        prior = prior_for(encoder.sha256, encoder.dim)
        if prior is None or prior.out_dim != config.prior_dim or (
                config.prior_sha256 and prior.sha256 != config.prior_sha256):
            raise EncoderError("The multi-speaker lip prior this audio model was trained with is missing "
                               "or changed (resources/speech_prior). Reinstall the app or train the audio "
                               "model again.")
        parts.append(prior.apply(z) * gate[:, None])
    parts.append(gate[:, None])
    return np.concatenate(parts, axis=1).astype(np.float32), voiced_share


def whisper_frame_rows(samples: np.ndarray, fps: float, n_frames: int | None, config: AudioFeatureConfig,
                       cache_dir: Path | None = None) -> FrameFeatures:
    """kind "whisper": rows float32 (T, encoder_dim + prior_dim + 1), the gate last."""
    samples, n_frames = check_audio(samples, fps, n_frames)
    steps, voiced_share = speech_steps(samples, config, cache_dir)
    rows = sample_steps(steps, STEP_S, fps, n_frames, 1)
    return FrameFeatures(rows=np.ascontiguousarray(rows), gate=np.clip(rows[:, -1], 0.0, 1.0),
                         voiced_share=voiced_share)


def features_for(samples: np.ndarray, fps: float, n_frames: int | None, config: AudioFeatureConfig,
                 cache_dir: Path | None = None) -> FrameFeatures:
    """One row per video frame with the variant the config (as resolved at training) names."""
    return frame_rows(samples, fps, n_frames, config, cache_dir)
