"""The multi-speaker lip prior: speech-encoder features -> normalised lip motion, for any speaker.

A small temporal convolution network trained across the clips listed in resources/speech_prior/
(made by ``python -m core.audio2exp.build_prior``) maps the per-utterance normalised Whisper
encoder features at 50 Hz to each clip's own z-scored inner-lip gap and mouth width. It knows
nothing about the target; the per-person network receives its outputs as extra input channels and
learns how this person's expression coefficients follow them, so a 30 s target starts from lip
motion learned from many voices.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from core.audio2exp.encoder import file_sha256

log = logging.getLogger(__name__)

PRIOR_DIR = Path(__file__).resolve().parents[2] / "resources" / "speech_prior"
# For measurements only: another prior folder (e.g. a leave-one-out build, see NOTES.md).
PRIOR_ENV = "PORTRAIT_DUB_SPEECH_PRIOR"
WEIGHTS_FILE = "prior.pt"
META_FILE = "prior.json"
OUTPUTS = ("lip_gap", "mouth_width")


class PriorNet(nn.Module):
    """(B, D, M) normalised encoder steps -> (B, len(OUTPUTS), M); receptive field +-0.3 s."""

    def __init__(self, dim: int, width: int = 64, outputs: int = len(OUTPUTS), dropout: float = 0.3) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Dropout(dropout), nn.Conv1d(dim, width, 1), nn.GELU(),
            nn.Conv1d(width, width, 5, padding=2), nn.GELU(), nn.Dropout(dropout),
            nn.Conv1d(width, width, 5, padding=4, dilation=2), nn.GELU(),
            nn.Conv1d(width, width, 5, padding=8, dilation=4), nn.GELU(),
            nn.Conv1d(width, outputs, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


@dataclass
class SpeechPrior:
    network: PriorNet
    encoder_sha256: str
    dim: int
    meta: dict
    sha256: str = ""  # of prior.pt: a model trained with another prior is refused

    @property
    def out_dim(self) -> int:
        return len(OUTPUTS)

    @torch.no_grad()
    def apply(self, steps: np.ndarray, block: int = 15000) -> np.ndarray:
        """steps: float32 (M, dim) normalised, gated encoder features at 50 Hz. Returns float32
        (M, 2) predicted z-scored lip gap and mouth width (computed in blocks: flat memory)."""
        self.network.eval()
        pad = 14  # the receptive field's half width in steps
        out = []
        for a in range(0, len(steps), block):
            lo, hi = max(0, a - pad), min(len(steps), a + block + pad)
            x = torch.from_numpy(np.ascontiguousarray(steps[lo:hi].T))[None]
            y = self.network(x)[0].T.numpy()
            out.append(y[a - lo:a - lo + min(block, len(steps) - a)])
        return np.concatenate(out).astype(np.float32)


_CACHE: dict[str, SpeechPrior | None] = {}


def load_prior(folder: Path | None = None) -> SpeechPrior | None:
    """The shipped prior, or None (logged) when its files are missing or damaged."""
    folder = Path(folder or os.environ.get(PRIOR_ENV) or PRIOR_DIR)
    key = str(folder)
    if key not in _CACHE:
        try:
            meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
            network = PriorNet(int(meta["dim"]), int(meta["width"]))
            network.load_state_dict(torch.load(folder / WEIGHTS_FILE, map_location="cpu", weights_only=True))
            _CACHE[key] = SpeechPrior(network.eval(), str(meta["encoder_sha256"]), int(meta["dim"]), meta,
                                      file_sha256(folder / WEIGHTS_FILE))
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
            log.warning("speech prior in %s not usable (%s): training without it", folder, exc)
            _CACHE[key] = None
    return _CACHE[key]


def prior_for(encoder_sha256: str, dim: int) -> SpeechPrior | None:
    """The prior if it was trained on this encoder's features, else None."""
    prior = load_prior()
    if prior is None or prior.encoder_sha256 != encoder_sha256 or prior.dim != dim:
        return None
    return prior
