"""The built-in speech-feature variants, registered in the order menus list them.

    mfcc              MFCC rows (features.py)
    whisper           Whisper encoder + multi-speaker lip prior (speech.py), else mfcc
    phonemes          hama phoneme posteriors as viseme classes (phoneme_rows.py), else whisper
    whisper+phonemes  both side by side, the Whisper channels first; without the recogniser it is
                      whisper, without the encoder phonemes
    auto              training tries phonemes and whisper+phonemes and keeps the lower held-out
                      mouth error (the model records which)
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import numpy as np

from core.audio2exp.encoder import EncoderError
from core.audio2exp.features import FrameFeatures, frame_features
from core.audio2exp.phoneme_rows import phoneme_frame_rows, resolve_phonemes
from core.audio2exp.registry import FeatureVariant, register
from core.audio2exp.speech import resolve_mfcc, resolve_whisper, whisper_frame_rows

log = logging.getLogger(__name__)


def _both_resolve(config) -> tuple:
    phon, phon_note = resolve_phonemes(config)  # PhonemeError: the registry falls back to whisper
    try:
        whisper, note = resolve_whisper(config)
    except EncoderError as exc:
        note = f"Whisper encoder unavailable ({exc}): using phoneme features alone. {phon_note}"
        log.warning("%s", note)
        return replace(phon, kind="phonemes"), note
    resolved = replace(whisper, phoneme_sha256=phon.phoneme_sha256, phoneme_dim=phon.phoneme_dim)
    return resolved, note.rstrip(".") + ", and " + phon_note[len("Speech features: "):]


def _both_rows(samples: np.ndarray, fps: float, n_frames: int | None, config, cache_dir: Path | None = None):
    whisper = whisper_frame_rows(samples, fps, n_frames, config, cache_dir)
    phon = phoneme_frame_rows(samples, fps, len(whisper.rows), config, cache_dir)
    rows = np.concatenate([whisper.rows[:, :-1], phon.rows], axis=1)  # one gate, last
    return FrameFeatures(rows=np.ascontiguousarray(rows, np.float32), gate=phon.gate,
                         voiced_share=phon.voiced_share, bilabial=phon.bilabial)


register(FeatureVariant(
    name="mfcc", label="MFCC features", resolve=resolve_mfcc,
    rows=lambda samples, fps, n_frames, config, cache_dir=None: frame_features(samples, fps, n_frames, config),
    row_size=lambda c: c.channels * c.substeps))
register(FeatureVariant(
    name="whisper", label="Whisper encoder features", resolve=resolve_whisper, rows=whisper_frame_rows,
    row_size=lambda c: c.encoder_dim + c.prior_dim + 1, speaker_channels=lambda c: c.encoder_dim,
    fallback="mfcc"))
register(FeatureVariant(
    name="phonemes", label="phoneme features", resolve=resolve_phonemes, rows=phoneme_frame_rows,
    row_size=lambda c: c.phoneme_dim + 1, fallback="whisper", phonemes=True))
register(FeatureVariant(
    name="whisper+phonemes", label="Whisper + phoneme features", resolve=_both_resolve, rows=_both_rows,
    row_size=lambda c: c.encoder_dim + c.prior_dim + c.phoneme_dim + 1, speaker_channels=lambda c: c.encoder_dim,
    fallback="whisper", phonemes=True))



def _not_a_variant(*_args, **_kwargs):
    raise ValueError("'auto' is a choice made while training: the model records the variant it kept")


register(FeatureVariant(
    name="auto", label="the better of phoneme and Whisper + phoneme features on this clip",
    resolve=_not_a_variant, rows=_not_a_variant, row_size=_not_a_variant,
    candidates=("phonemes", "whisper+phonemes")))
