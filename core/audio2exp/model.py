"""A trained Audio2Expression model: saving, loading, and predicting expressions for any audio.

Files in the project: audio_model.pt (the network's state_dict, loaded with weights_only=True) and
audio_model.json (network spec, feature settings, expression normalisation, resting expression,
mouth-opening probe, post-processing and metrics).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy.ndimage import gaussian_filter1d, maximum_filter1d

from core.atomic import atomic_path, write_json
from core.audio2exp.calibration import OpeningCalibration
from core.audio2exp.closures import ClosureForcing, apply_closures, closure_mask
from core.audio2exp.features import SAMPLE_RATE, AudioFeatureConfig, window_rows
from core.audio2exp.networks import NetworkSpec, build_network
from core.audio2exp.speech import CACHE_DIR, features_for
from core.errors import ProjectError
from core.media import load_audio

log = logging.getLogger(__name__)

MODEL_FILE = "audio_model.pt"
META_FILE = "audio_model.json"
FORMAT = "portrait-dub audio2exp"
VERSION = 1


@dataclass(frozen=True)
class PostProcess:
    """smooth_s: Gaussian sigma (seconds) over the predicted sequence, 0 = off. Silence gate: the
    speech gate is held for ``hold_s`` on each side and softened by ``soften_s``; where it is still 0
    (pauses longer than 2 x hold_s) the output is the resting expression. Shorter pauses are left
    to the network: people keep their lips parted in them (see NOTES.md)."""

    smooth_s: float = 0.0
    hold_s: float = 0.3
    soften_s: float = 0.06


@dataclass
class AudioModelMeta:
    """What audio_model.json holds besides the weights. Arrays are plain lists in JSON."""

    spec: NetworkSpec
    features: AudioFeatureConfig
    post: PostProcess
    fps: float
    expr_mean: np.ndarray          # float32 (K,)
    expr_scale: float              # expression = z * scale + mean
    rest: np.ndarray               # float32 (K,) resting (closed-mouth) expression, normalised units
    probe_weights: np.ndarray      # float32 (K,) mouth opening = z @ w + b
    probe_bias: float
    metrics: dict[str, Any] = field(default_factory=dict)
    calibration: OpeningCalibration | None = None  # of the mouth opening (calibration.py); None = off
    closures: ClosureForcing | None = None  # bilabial closures (closures.py); None = off or no phonemes

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT, "version": VERSION, "spec": self.spec.to_json(),
            "features": asdict(self.features), "post": asdict(self.post), "fps": self.fps,
            "expr_mean": self.expr_mean.tolist(), "expr_scale": float(self.expr_scale),
            "rest": self.rest.tolist(), "probe_weights": self.probe_weights.tolist(),
            "probe_bias": float(self.probe_bias), "metrics": self.metrics,
            "calibration": self.calibration.to_json() if self.calibration else None,
            "closures": self.closures.to_json() if self.closures else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "AudioModelMeta":
        feats = dict(data["features"])
        for key in ("gate_rel_db", "gate_abs_db"):
            feats[key] = tuple(feats[key])
        return cls(
            spec=NetworkSpec(**data["spec"]), features=AudioFeatureConfig(**feats),
            post=PostProcess(**data["post"]), fps=float(data["fps"]),
            expr_mean=np.asarray(data["expr_mean"], np.float32), expr_scale=float(data["expr_scale"]),
            rest=np.asarray(data["rest"], np.float32),
            probe_weights=np.asarray(data["probe_weights"], np.float32),
            probe_bias=float(data["probe_bias"]), metrics=dict(data.get("metrics", {})),
            calibration=OpeningCalibration.from_json(data.get("calibration")),
            closures=ClosureForcing.from_json(data.get("closures")),
        )


def postprocess(z: np.ndarray, gate: np.ndarray, fps: float, rest: np.ndarray, post: PostProcess,
                calibration: OpeningCalibration | None = None,
                probe: tuple[np.ndarray, float] | None = None,
                closures: tuple[ClosureForcing, np.ndarray] | None = None) -> np.ndarray:
    """Smooth, calibrate the mouth opening (when given with the probe's weights and bias), close the
    lips on bilabials (closures: the forcing and bool (T,) frames to close; needs the probe), and
    silence-gate a predicted sequence.

    z: float32 (T, K) normalised expressions; gate: float (T,) in [0, 1]; rest: (K,). Returns (T, K).
    """
    out = z
    if post.smooth_s > 0 and len(z) > 1:
        out = gaussian_filter1d(out, sigma=post.smooth_s * fps, axis=0, mode="nearest")
    if calibration is not None and probe is not None:
        out = calibration.apply(out, probe[0], probe[1])
    if closures is not None and probe is not None:
        out = apply_closures(out, closures[1], closures[0], probe[0], probe[1])
    g = gate.astype(np.float32)
    hold = int(round(post.hold_s * fps))
    if hold > 0:
        g = maximum_filter1d(g, size=2 * hold + 1, mode="nearest")
    if post.soften_s > 0:
        g = gaussian_filter1d(g, sigma=post.soften_s * fps, mode="nearest")
    return (rest[None, :] + g[:, None] * (out - rest[None, :])).astype(np.float32)


@torch.no_grad()
def run_network(network: torch.nn.Module, windows: np.ndarray, device: torch.device,
                batch: int = 1024) -> np.ndarray:
    """Network in eval mode over float32 (T, W, F) windows -> float32 (T, K) numpy on the CPU."""
    network.eval()
    out = [network(torch.from_numpy(windows[i:i + batch]).to(device)).cpu().numpy()
           for i in range(0, len(windows), batch)]
    return np.concatenate(out).astype(np.float32)


class Audio2Expression:
    """A loaded model. ``predict`` turns mono 16 kHz audio into expressions at the video's fps."""

    def __init__(self, network: torch.nn.Module, meta: AudioModelMeta, device: torch.device) -> None:
        self.network = network.eval()
        self.meta = meta
        self.device = device
        self.cache_dir: Path | None = None  # speech_cache/ of the project, when loaded from one

    # ---- files --------------------------------------------------------------------------------
    @classmethod
    def load(cls, project, ctx=None) -> "Audio2Expression":
        """Load audio_model.pt/.json from the project (ctx: gpu.device.ComputeContext or None = CPU).

        Raises ProjectError when the model is missing or damaged.
        """
        model = cls.load_files(project.path(MODEL_FILE), project.path(META_FILE), ctx)
        model.cache_dir = project.path(CACHE_DIR)
        return model

    @classmethod
    def load_files(cls, weights: Path, meta_path: Path, ctx=None) -> "Audio2Expression":
        device = ctx.device if ctx is not None else torch.device("cpu")
        if not weights.exists() or not meta_path.exists():
            raise ProjectError(f"{weights.parent}: the audio model has not been trained yet. "
                               "Run 'train-audio' first.")
        try:
            data = json.loads(meta_path.read_text(encoding="utf-8"))
            if data.get("format") != FORMAT or int(data.get("version", 0)) > VERSION:
                raise ValueError("unknown format or newer version")
            meta = AudioModelMeta.from_json(data)
            network = build_network(meta.spec)
            network.load_state_dict(torch.load(weights, map_location=device, weights_only=True))
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
            raise ProjectError(f"{weights.parent}: the audio model files are damaged or from another "
                               f"version ({exc}). Run 'train-audio' again.") from exc
        return cls(network.to(device), meta, device)

    def save(self, project) -> None:
        """Write audio_model.pt and audio_model.json atomically."""
        with atomic_path(project.path(MODEL_FILE)) as tmp:
            torch.save({k: v.detach().cpu() for k, v in self.network.state_dict().items()}, tmp)
        write_json(project.path(META_FILE), self.meta.to_json())

    # ---- prediction ---------------------------------------------------------------------------
    @property
    def n_exp(self) -> int:
        return self.meta.spec.n_exp

    @property
    def fps(self) -> float:
        return self.meta.fps

    def predict_normalised(self, rows: np.ndarray) -> np.ndarray:
        """Raw network output. rows: float32 (T, F) feature rows. Returns float32 (T, K), normalised."""
        half, block = self.meta.spec.half, 2048  # windows built block by block: flat memory for long audio
        out = []
        for a in range(0, len(rows), block):
            lo, hi = max(0, a - half), min(len(rows), a + block + half)
            windows = window_rows(rows[lo:hi], half)[a - lo:a - lo + min(block, len(rows) - a)]
            out.append(run_network(self.network, windows, self.device))
        return np.concatenate(out) if out else np.zeros((0, self.n_exp), np.float32)

    def denormalise(self, z: np.ndarray) -> np.ndarray:
        return (z * self.meta.expr_scale + self.meta.expr_mean[None, :]).astype(np.float32)

    def predict(self, samples: np.ndarray, n_frames: int | None = None, fps: float | None = None) -> np.ndarray:
        """Expressions for audio.

        samples: float32 (n,) mono in [-1, 1] at 16 kHz. n_frames: rows to return (default: the
        frames the audio covers at ``fps``; past the end of the audio the mouth rests). fps: frame
        rate (default: the target video's). Returns float32 (T, K) in the face model's expression
        units, on the CPU.
        """
        fps = float(fps or self.meta.fps)
        feats = features_for(samples, fps, n_frames, self.meta.features, self.cache_dir)
        z = self.predict_normalised(feats.rows)
        z = postprocess(z, feats.gate, fps, self.meta.rest, self.meta.post, self.meta.calibration,
                        (self.meta.probe_weights, self.meta.probe_bias), self.closures_for(feats, fps, len(z)))
        return self.denormalise(z)

    def closures_for(self, feats, fps: float, n_frames: int) -> tuple[ClosureForcing, np.ndarray] | None:
        """The closure forcing and the frames it closes for these features (None: off, or the
        features carry no phoneme evidence)."""
        forcing = self.meta.closures
        if forcing is None or feats.bilabial is None:
            return None
        return forcing, closure_mask(feats.bilabial, fps, n_frames, forcing.offset_s, forcing.hold_s,
                                     forcing.merge_gap_s)

    def mouth_opening(self, expression: np.ndarray) -> np.ndarray:
        """Linear probe: float (T, K) expressions -> float32 (T,) inner-lip gap over face height
        (about 0 closed, 0.1+ wide open), fitted on the target's tracked landmarks 13/14."""
        expression = np.asarray(expression, np.float32)
        if expression.ndim != 2 or expression.shape[1] != self.n_exp:
            raise ValueError(f"expression must be (T, {self.n_exp}), got {expression.shape}")
        z = (expression - self.meta.expr_mean[None, :]) / self.meta.expr_scale
        return (z @ self.meta.probe_weights + self.meta.probe_bias).astype(np.float32)


_CACHE: dict[tuple[str, float, str], Audio2Expression] = {}


def load_audio_model(project, ctx=None) -> Audio2Expression:
    """Audio2Expression.load, cached while audio_model.pt is unchanged."""
    path = project.path(MODEL_FILE)
    device = str(ctx.device) if ctx is not None else "cpu"
    key = (str(path), path.stat().st_mtime if path.exists() else -1.0, device)
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = Audio2Expression.load(project, ctx)
    return _CACHE[key]


def predict_expressions(project, audio: Path | str | np.ndarray, n_frames: int | None = None,
                        ctx=None) -> np.ndarray:
    """Expressions for any audio, at the project's frame rate (what the dub job and GUI call).

    audio: a path to any audio or video file with sound, or float32 (n,) mono samples at 16 kHz.
    n_frames: rows to return (default: the frames the audio covers). Returns float32 (T, K).
    Raises ProjectError when no audio model is trained, MediaError for unreadable audio.
    """
    model = load_audio_model(project, ctx)
    if isinstance(audio, (str, Path)):
        samples = load_audio(Path(audio), SAMPLE_RATE)
    else:
        samples = np.asarray(audio, dtype=np.float32)
        if samples.ndim != 1:
            raise ValueError(f"audio samples must be mono (n,), got shape {samples.shape}")
    return model.predict(samples, n_frames=n_frames)
