"""Feature rows from phoneme evidence (kind "phonemes"): viseme-class posteriors per video frame.

Per 20 ms step (phonemes.py, visemes.py): the 13 mouth classes' probabilities (CTC spikes), their
distribution among the non-blank mass, and the blank probability; the class parts are multiplied by
the MFCC path's speech gate (as the Whisper rows are), so digital silence is the all-zero row but
for the blank and the gate; then the loudness (the MFCC path's normalised, gated log energy). Per video frame i (centre i / fps, any fps) the steps are averaged
over the frame's duration (8 instants of the linear interpolation), so a one-step spike counts
whether it falls on a frame centre or between two frames (at 25 fps a frame spans two steps, at 30
fps one or two). The row ends with the gate. The bilabial spike times go along with the rows for
the closure forcing (closures.py).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import numpy as np

from core.audio2exp.features import FrameFeatures, check_audio, gate_at_steps, sample_steps, step_features
from core.audio2exp.phonemes import STEP_S, PhonemeError, cached_posteriors, load_recogniser
from core.audio2exp.visemes import CLASSES, bilabial_events, class_matrix, phoneme_steps

log = logging.getLogger(__name__)

POOL_SUBSTEPS = 8
PHONEME_DIM = 2 * len(CLASSES) + 2  # spikes, non-blank share, blank, loudness


def resolve_phonemes(config) -> tuple:
    """Check that the recogniser loads; fill in its digest and row size. Raises PhonemeError."""
    recogniser = load_recogniser()
    resolved = replace(config, phoneme_sha256=recogniser.sha256, phoneme_dim=PHONEME_DIM, encoder_folder="",
                       encoder_sha256="", encoder_dim=0, prior_dim=0, prior_sha256="")
    return resolved, f"Speech features: phoneme posteriors ({recogniser.name})."


def phoneme_class_steps(samples: np.ndarray, config, cache_dir: Path | None) -> np.ndarray:
    """Class posteriors (M, len(CLASSES) + 1) at 50 Hz, blank last, with the recogniser the config
    was trained with (PhonemeError when it is missing or another one)."""
    recogniser = load_recogniser()
    if config.phoneme_sha256 and recogniser.sha256 != config.phoneme_sha256:
        raise PhonemeError("The phoneme recogniser differs from the one this audio model was trained with: "
                           "install hama==1.7.0 or train the audio model again.")
    # Folded to the classes window by window: 14 values per 20 ms kept, not 191.
    return cached_posteriors(samples, recogniser, cache_dir, class_matrix(recogniser.tokens), "-visemes")


def pooled_phoneme_rows(classes: np.ndarray, gate_steps: np.ndarray, fps: float, n_frames: int,
                        loudness: np.ndarray | None = None) -> np.ndarray:
    """Gated step features (M, D) pooled over each frame's duration -> (T, D); D = 2 C + 1, plus
    one when ``loudness`` (M,) is given (appended last, already gated)."""
    steps = phoneme_steps(classes)
    n = min(len(steps), len(gate_steps))
    steps, gate = steps[:n], gate_steps[:n]
    steps[:, :-1] *= gate[:, None]
    if loudness is not None:
        level = np.zeros(n, np.float32)
        level[:min(n, len(loudness))] = loudness[:n]
        steps = np.concatenate([steps, level[:, None]], axis=1)
    pooled = sample_steps(steps, STEP_S, fps, n_frames, POOL_SUBSTEPS)
    return pooled.reshape(n_frames, POOL_SUBSTEPS, -1).mean(axis=1).astype(np.float32)


def phoneme_frame_rows(samples: np.ndarray, fps: float, n_frames: int | None, config,
                       cache_dir: Path | None = None) -> FrameFeatures:
    """Rows float32 (T, PHONEME_DIM + 1): pooled phoneme features, then the speech gate."""
    samples, n_frames = check_audio(samples, fps, n_frames)
    classes = phoneme_class_steps(samples, config, cache_dir)
    gate, voiced_share = gate_at_steps(samples, len(classes), config)
    # Loudness (models trained with it: phoneme_dim 2 C + 2): the MFCC path's log energy, normalised
    # per utterance over its voiced steps and gated, at the 50 Hz steps. The jaw opens with the
    # vowel's intensity, which the phoneme classes alone do not say.
    loudness = step_features(samples, config)[::2, -2] if config.phoneme_dim == PHONEME_DIM else None
    rows = pooled_phoneme_rows(classes, gate, fps, n_frames, loudness)
    frame_gate = sample_steps(gate[:, None], STEP_S, fps, n_frames, 1)[:, 0]
    rows = np.concatenate([rows, frame_gate[:, None]], axis=1)
    return FrameFeatures(rows=np.ascontiguousarray(rows, np.float32), gate=np.clip(frame_gate, 0.0, 1.0),
                         voiced_share=voiced_share, bilabial=bilabial_events(classes, STEP_S))
