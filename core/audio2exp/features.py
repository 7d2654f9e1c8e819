"""Audio features at exactly the video's frame times, normalised per utterance.

The paper feeds AT-net embeddings (weights not available here); we compute MFCCs ourselves:
librosa log-mel at 100 Hz (25 ms window, 10 ms hop, 16 kHz), 13 cepstra with c0 dropped, plus the
frame's log energy. Each video frame i (centre time i / fps, any fps) gets one row made of the
100 Hz features interpolated at ``substeps`` instants spread over that frame's duration, so no
25 fps assumption is baked in and a 40 ms frame still carries its 10 ms detail.

Per-utterance normalisation (mean and variance per coefficient) uses the statistics of the voiced
frames only, so another speaker, a child, another language or a TTS voice lands in the same range
as the target's own voice, and a near-silent clip is not amplified into loud noise. A soft energy
gate (relative to the utterance's speech level, and above an absolute floor) multiplies the
normalised features and is also given as an explicit channel: silence is the all-zero row, the same
as the zero padding at the ends of the window.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np


log = logging.getLogger(__name__)

SAMPLE_RATE = 16000


@dataclass(frozen=True)
class AudioFeatureConfig:
    """hop/win in samples at 16 kHz. The speech gate ramps up over ``gate_width_db`` around a
    threshold set ``gate_split`` of the way from the utterance's noise floor (5th percentile of frame
    energy) to its speech level (95th percentile), kept within ``gate_rel_db`` of the speech level,
    and above an absolute floor ``gate_abs_db`` (dBFS)."""

    n_mels: int = 40
    n_mfcc: int = 13
    win: int = 400
    hop: int = 160
    n_fft: int = 512
    substeps: int = 4
    gate_split: float = 0.4
    gate_rel_db: tuple[float, float] = (-30.0, -14.0)
    gate_width_db: float = 10.0
    gate_abs_db: tuple[float, float] = (-62.0, -52.0)
    clip_sigma: float = 5.0
    # kind "whisper": the rows are a Whisper encoder's features (core/audio2exp/speech.py); the
    # fields below are filled in by speech.resolve_features from the encoder actually loaded.
    kind: str = "mfcc"
    encoder_folder: str = ""
    encoder_sha256: str = ""
    encoder_dim: int = 0
    prior: bool = True
    prior_dim: int = 0
    prior_sha256: str = ""
    # kind "phonemes" / "whisper+phonemes": the phoneme recogniser's asset digest and the phoneme
    # part's size (phoneme_rows.py), filled in when resolved. kind is a name in registry.py.
    phoneme_sha256: str = ""
    phoneme_dim: int = 0

    @property
    def channels(self) -> int:
        """Values per 100 Hz step: cepstra c1.., log energy, gate."""
        return (self.n_mfcc - 1) + 2


@dataclass(frozen=True)
class FrameFeatures:
    """rows: float32 (T, F) one row per video frame; gate: float32 (T,) in [0, 1], 1 = speech;
    bilabial: float64 (E,) times in seconds of the p/b/m the phoneme recogniser found (None when the
    variant has no phoneme evidence)."""

    rows: np.ndarray
    gate: np.ndarray
    voiced_share: float
    bilabial: np.ndarray | None = None


def frame_count(n_samples: int, fps: float, sample_rate: int = SAMPLE_RATE) -> int:
    """Video frames covering ``n_samples`` of audio at ``fps`` (at least 1)."""
    return max(1, int(round(n_samples / sample_rate * fps)))


def _soft_ramp(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return np.clip((x - lo) / (hi - lo), 0.0, 1.0)


def speech_gate(energy_db: np.ndarray, config: AudioFeatureConfig) -> np.ndarray:
    """float (M,) frame energies in dBFS -> float (M,) gate in [0, 1] (1 = speech)."""
    floor, speech = np.percentile(energy_db, [5, 95])
    centre = np.clip(floor + config.gate_split * (speech - floor),
                     speech + config.gate_rel_db[0], speech + config.gate_rel_db[1])
    half = config.gate_width_db / 2
    return _soft_ramp(energy_db, centre - half, centre + half) * _soft_ramp(energy_db, *config.gate_abs_db)


def check_samples(samples) -> np.ndarray:
    """float32 (n,): the audio as every speech feature needs it (mono, not empty, finite);
    ValueError saying what is wrong otherwise."""
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim != 1:
        raise ValueError(f"audio must be mono (n,), got shape {samples.shape}")
    if samples.size == 0:
        raise ValueError("audio is empty")
    if not np.all(np.isfinite(samples)):
        raise ValueError("audio holds NaN or infinite samples")
    return samples


def step_features(samples: np.ndarray, config: AudioFeatureConfig = AudioFeatureConfig(),
                  block_steps: int = 6000) -> np.ndarray:
    """Normalised, gated features at 100 Hz.

    samples: float32 (n,) mono in [-1, 1] at 16 kHz. Returns float32 (M, config.channels), step k
    centred at time k * hop / 16000 s; the last column is the speech gate in [0, 1]. The spectra
    are computed ``block_steps`` steps (60 s) at a time, so memory does not grow with the audio's
    length beyond the small per-step rows.
    """
    samples = check_samples(samples)
    cepstra, energy_db = _cepstra_and_energy(samples, config, block_steps)
    gate = speech_gate(energy_db, config)
    values = np.concatenate([cepstra, energy_db[:, None]], axis=1)
    voiced = gate > 0.5
    if voiced.sum() >= 10:
        mean, std = values[voiced].mean(axis=0), values[voiced].std(axis=0)
    else:  # (near) silence: nothing to normalise by, and the gate zeroes the rows anyway
        mean, std = values.mean(axis=0), np.ones(values.shape[1])
    normed = np.clip((values - mean) / np.maximum(std, 1e-3), -config.clip_sigma, config.clip_sigma)
    out = np.concatenate([normed * gate[:, None], gate[:, None]], axis=1)
    return out.astype(np.float32)


def _cepstra_and_energy(samples: np.ndarray, config: AudioFeatureConfig,
                        block_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Cepstra without c0 (M, n_mfcc - 1) and frame energy in dBFS (M,), as one centred STFT over
    the whole signal would give them (zero padding at the ends), block by block."""
    import librosa  # heavy import (numba): only when features are computed

    half = config.n_fft // 2
    padded = np.pad(samples, half)
    n_steps = 1 + len(samples) // config.hop
    window_power = np.sum(np.hanning(config.win) ** 2)
    cepstra, energy = [], []
    for k0 in range(0, n_steps, block_steps):
        k1 = min(k0 + block_steps, n_steps)
        piece = padded[k0 * config.hop:(k1 - 1) * config.hop + config.n_fft]
        power = np.abs(librosa.stft(piece, n_fft=config.n_fft, hop_length=config.hop,
                                    win_length=config.win, center=False)) ** 2
        mel = librosa.feature.melspectrogram(S=power, sr=SAMPLE_RATE, n_mels=config.n_mels, fmin=40.0,
                                             fmax=SAMPLE_RATE / 2)
        log_mel = librosa.power_to_db(mel, ref=1.0, amin=1e-10, top_db=None)
        cepstra.append(librosa.feature.mfcc(S=log_mel, n_mfcc=config.n_mfcc)[1:].T)
        # Frame energy in dBFS of the windowed frame (a full-scale sine is about -3 dB).
        energy.append(10.0 * np.log10(power.sum(axis=0) * 2.0 / (config.n_fft * window_power) + 1e-12))
    return np.concatenate(cepstra), np.concatenate(energy)


def frame_features(samples: np.ndarray, fps: float, n_frames: int | None = None,
                   config: AudioFeatureConfig = AudioFeatureConfig()) -> FrameFeatures:
    """One feature row per video frame, frame i centred at i / fps.

    samples: float32 (n,) mono at 16 kHz. fps: the target video's frame rate (any positive value,
    e.g. 29.97). n_frames: rows to return (default: the frames the audio covers); frames past the
    end of the audio get the silence row (zeros). Returns FrameFeatures with rows float32
    (n_frames, registry.row_size(config): values per frame) and gate float32 (n_frames,) in [0, 1].
    """
    if not (fps > 0 and np.isfinite(fps)):
        raise ValueError(f"fps must be a positive number, got {fps}")
    steps = step_features(samples, config)
    if n_frames is None:
        n_frames = frame_count(len(samples), fps)
    if n_frames < 1:
        raise ValueError(f"n_frames must be at least 1, got {n_frames}")
    sampled = sample_steps(steps, config.hop / SAMPLE_RATE, fps, n_frames, config.substeps)
    sampled = sampled.reshape(n_frames, config.substeps, config.channels)
    gate = sampled[:, :, -1].mean(axis=1)
    rows = sampled.reshape(n_frames, config.channels * config.substeps)
    voiced_share = float((steps[:, -1] > 0.5).mean())
    return FrameFeatures(rows=np.ascontiguousarray(rows, dtype=np.float32),
                         gate=gate.astype(np.float32), voiced_share=voiced_share)


def sample_steps(steps: np.ndarray, step_s: float, fps: float, n_frames: int, substeps: int) -> np.ndarray:
    """Features at regular steps (step k at k * step_s seconds), linearly interpolated at
    ``substeps`` instants spread over each video frame (frame i centred at i / fps); before the
    first and after the last step they fade to zeros. Returns float32 (n_frames * substeps, C)."""
    centres = np.arange(n_frames) / fps
    offsets = ((np.arange(substeps) + 0.5) / substeps - 0.5) / fps
    times = (centres[:, None] + offsets[None, :]).reshape(-1)
    pos = times / step_s
    lo = np.floor(pos).astype(np.int64)
    frac = (pos - lo).astype(np.float32)[:, None]
    padded = np.concatenate([steps, np.zeros((1, steps.shape[1]), steps.dtype)])  # index -1 -> zeros

    def pick(idx: np.ndarray) -> np.ndarray:
        idx = np.where((idx >= 0) & (idx < len(steps)), idx, -1)
        return padded[idx]

    return ((1.0 - frac) * pick(lo) + frac * pick(lo + 1)).astype(np.float32)


def window_rows(rows: np.ndarray, half: int) -> np.ndarray:
    """Stack each row with ``half`` neighbours on each side, zero-padded at the ends.

    rows: float (T, F). Returns float32 (T, 2 * half + 1, F); [:, half] is the row itself.
    """
    if rows.ndim != 2:
        raise ValueError(f"rows must be (T, F), got shape {rows.shape}")
    if half < 0:
        raise ValueError("half must be >= 0")
    t = rows.shape[0]
    padded = np.concatenate([np.zeros((half, rows.shape[1]), rows.dtype), rows,
                             np.zeros((half, rows.shape[1]), rows.dtype)])
    idx = np.arange(t)[:, None] + np.arange(2 * half + 1)[None, :]
    return padded[idx].astype(np.float32, copy=False)


def check_audio(samples: np.ndarray, fps: float, n_frames: int | None) -> tuple[np.ndarray, int]:
    """The checks every variant makes: mono finite non-empty audio, positive fps, >= 1 frame."""
    if not (fps > 0 and np.isfinite(fps)):
        raise ValueError(f"fps must be a positive number, got {fps}")
    samples = check_samples(samples)
    if n_frames is None:
        n_frames = frame_count(len(samples), fps, SAMPLE_RATE)
    if n_frames < 1:
        raise ValueError(f"n_frames must be at least 1, got {n_frames}")
    return samples, n_frames


def gate_at_steps(samples: np.ndarray, n_steps: int, config: AudioFeatureConfig) -> tuple[np.ndarray, float]:
    """The MFCC path's speech gate (100 Hz) at the encoder's 50 Hz steps, and the voiced share."""
    gate100 = step_features(samples, config)[:, -1]
    gate = gate100[::2][:n_steps]
    if len(gate) < n_steps:
        gate = np.pad(gate, (0, n_steps - len(gate)))
    return gate.astype(np.float32), float((gate100 > 0.5).mean())
