"""Phoneme evidence: hama's phoneme recogniser (hama==1.7.0, Apache-2.0) at 50 Hz.

The recogniser (``hama/assets/asr_waveform.hama`` inside the wheel, run by hama's small native
engine through ``hama.asr.ASRModel``) gives per-step log-probabilities over 191 tokens (IPA
phonemes, diacritics, a word boundary and the CTC blank), one step per 320 samples at 16 kHz,
step k centred at k * 20 ms (the same clock as the Whisper encoder's steps). Its asset is checked
by SHA-256 before use. Which sound is spoken carries across voices and languages far better than
the voice-bound MFCC or English Whisper features (see NOTES.md).

Long audio is cut into windows (``window_s``) that overlap by 2 x ``margin_s``; each keeps only
its middle, so memory stays one window's worth and no step is recognised next to a cut edge.
Windows run on ``threads`` sessions at once (the engine is single-threaded per call).
"""

from __future__ import annotations

import hashlib
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.audio2exp.features import SAMPLE_RATE
from core.audio2exp.step_cache import audio_key, cached_rows
from core.errors import DubError

log = logging.getLogger(__name__)

STEP_S = 0.02                      # one posterior row per 20 ms (320 samples)
STEP_SAMPLES = 320
ASSET_NAME = "asr_waveform.hama"
ASSET_SHA256 = "a9fcfe73e179ca48e399cd76a90a6b3e1887bf5037ecc52b778d13a149563328"
RECOGNISER_NAME = "hama 1.7.0 phoneme recogniser"
N_TOKENS = 191


class PhonemeError(DubError):
    """The phoneme recogniser cannot be used (not installed, no native engine, damaged asset)."""


@dataclass(frozen=True)
class PhonemeConfig:
    """window_s / margin_s: recognition windows and the context dropped at each inner edge;
    threads: windows recognised at once (one engine session each)."""

    window_s: float = 20.0
    margin_s: float = 2.0
    threads: int = 2


def asset_path() -> Path | None:
    """The recogniser's asset inside the installed hama wheel, or None if hama is not installed."""
    import importlib.util

    spec = importlib.util.find_spec("hama")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "assets" / ASSET_NAME


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


class PhonemeRecogniser:
    """A loaded, checked recogniser. ``posteriors`` turns 16 kHz mono audio into (M, 191) float32
    probabilities at 50 Hz; ``tokens`` names the columns."""

    def __init__(self, models: list, tokens: list[str], blank_id: int, sha256: str,
                 config: PhonemeConfig) -> None:
        self._models, self.tokens, self.blank_id = models, tokens, blank_id
        self.sha256, self.config, self.name = sha256, config, RECOGNISER_NAME

    @classmethod
    def load(cls, config: PhonemeConfig = PhonemeConfig(), asset: Path | None = None) -> "PhonemeRecogniser":
        """Check and load the asset (default: the one in the hama wheel). Raises PhonemeError with
        what is wrong and what to do."""
        try:
            from hama import _engine
            from hama.asr import ASRModel
        except ImportError as exc:
            raise PhonemeError("The phoneme recogniser is not installed (package hama missing): "
                               "run 'bash setup.sh app' again.") from exc
        asset = Path(asset) if asset is not None else asset_path()
        if asset is None or not asset.is_file():
            raise PhonemeError(f"The phoneme recogniser's asset {asset} is missing: reinstall hama==1.7.0 "
                               "(bash setup.sh app).")
        if not _engine.available():
            raise PhonemeError("The phoneme recogniser's native engine (libhama) is not available on this "
                               "platform.")
        sha = _sha256(asset)
        if sha != ASSET_SHA256:
            raise PhonemeError(f"{asset}: the phoneme recogniser's asset differs from the one expected "
                               f"(SHA-256 {sha[:12]}... instead of {ASSET_SHA256[:12]}...): it is damaged or "
                               "was replaced. Reinstall hama==1.7.0 (bash setup.sh app).")
        try:
            models = [ASRModel(model_path=asset) for _ in range(max(1, config.threads))]
        except (RuntimeError, OSError, ValueError, KeyError) as exc:
            raise PhonemeError(f"{asset}: cannot load the phoneme recogniser ({exc}). Reinstall "
                               "hama==1.7.0 (bash setup.sh app).") from exc
        tokens = list(models[0].decoder_tokens)
        if len(tokens) != N_TOKENS:
            raise PhonemeError(f"The phoneme recogniser has {len(tokens)} tokens, {N_TOKENS} expected: "
                               "install hama==1.7.0.")
        log.info("phoneme recogniser %s, sha256 %s", RECOGNISER_NAME, sha[:12])
        return cls(models, tokens, models[0].blank_id, sha, config)

    def _run(self, model, chunk: np.ndarray) -> np.ndarray:
        wav = np.ascontiguousarray(chunk, np.float32)[None, :]
        log_probs, lengths = model.session.run(
            [model._log_probs_output_name, model._out_lengths_output_name],
            {model._waveform_input_name: wav, model._waveform_lengths_input_name: np.array([wav.shape[1]])})
        n = int(np.asarray(lengths).reshape(-1)[0])
        return np.exp(np.asarray(log_probs[0][:n], np.float32))

    def posteriors(self, samples: np.ndarray, fold: np.ndarray | None = None) -> np.ndarray:
        """samples: float32 (n,) mono in [-1, 1] at 16 kHz. Returns float32 (ceil(n / 320), 191)
        probabilities (rows sum to 1), row k centred at k * 20 ms. fold: float (191, C), e.g.
        visemes.class_matrix: each window's rows are multiplied by it before they are kept, so a
        long audio holds (M, C) instead of (M, 191)."""
        samples = np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0)
        if samples.ndim != 1 or samples.size == 0:
            raise ValueError(f"audio must be non-empty mono (n,), got shape {samples.shape}")
        n_steps = -(-len(samples) // STEP_SAMPLES)
        window = int(round(self.config.window_s / STEP_S))
        margin = int(round(self.config.margin_s / STEP_S))
        keep = window - 2 * margin
        starts, start = [], 0
        while True:  # windows [start, start + window) in steps; the first keeps its start, the last its end
            starts.append(start)
            if start + window >= n_steps:
                break
            start += keep
        width = N_TOKENS if fold is None else fold.shape[1]
        silence = np.zeros(N_TOKENS, np.float32)
        silence[self.blank_id] = 1.0
        if fold is not None:
            fold = np.asarray(fold, np.float32)
            silence = silence @ fold
        out = np.empty((n_steps, width), np.float32)
        out[:] = silence

        def one(i: int) -> tuple[int, np.ndarray]:
            s = starts[i]
            model = self._models[i % len(self._models)]
            return i, self._run(model, samples[s * STEP_SAMPLES:(s + window) * STEP_SAMPLES])

        # Batches of len(models) windows, one per session: never two calls on one session at once,
        # and at most that many windows' outputs in memory.
        n_models = len(self._models)
        with ThreadPoolExecutor(n_models) as pool:
            for b in range(0, len(starts), n_models):
                for i, probs in pool.map(one, range(b, min(b + n_models, len(starts)))):
                    s = starts[i]
                    lo = 0 if i == 0 else margin
                    hi = min(len(probs), n_steps - s) if i == len(starts) - 1 else window - margin
                    hi = min(hi, len(probs), n_steps - s)
                    out[s + lo:s + hi] = probs[lo:hi] if fold is None else probs[lo:hi] @ fold
        return out


_LOADED: dict[PhonemeConfig, PhonemeRecogniser] = {}


def load_recogniser(config: PhonemeConfig = PhonemeConfig()) -> PhonemeRecogniser:
    """PhonemeRecogniser.load, kept loaded for this process; the asset is re-checked when its file
    changed on disk."""
    asset = asset_path()
    stamp = (asset.stat().st_size, asset.stat().st_mtime) if asset is not None and asset.is_file() else None
    cached = _LOADED.get(config)
    if cached is None or getattr(cached, "_stamp", None) != stamp:
        _LOADED.pop(config, None)
        recogniser = PhonemeRecogniser.load(config)
        recogniser._stamp = stamp
        _LOADED[config] = recogniser
    return _LOADED[config]


def recogniser_available() -> tuple[bool, str]:
    """(True, name) if the recogniser loads, else (False, the one-line reason)."""
    try:
        return True, load_recogniser().name
    except PhonemeError as exc:
        return False, str(exc)


def cached_posteriors(samples: np.ndarray, recogniser: PhonemeRecogniser, cache_dir: Path | None,
                      fold: np.ndarray | None = None, fold_name: str = "") -> np.ndarray:
    """recogniser.posteriors (folded by ``fold``, named ``fold_name`` in the cache), from the
    project's speech cache when this audio was seen (float16 on disk, keyed by the samples' SHA-256,
    the asset's and the fold)."""
    path = None
    width = N_TOKENS if fold is None else fold.shape[1]
    if cache_dir is not None:
        cfg = recogniser.config
        path = Path(cache_dir) / (f"{audio_key(samples)}_phon{fold_name}_{recogniser.sha256[:12]}_"
                                  f"{cfg.window_s:g}_{cfg.margin_s:g}.npy")
    return cached_rows(path, width, lambda: recogniser.posteriors(samples, fold), "phoneme")
