"""Audio2Expression networks: the paper's linear baseline and a non-linear temporal variant.

Both map a window of feature rows, float32 (B, W, F) with W = 2 * half + 1 frames, to an
expression vector float32 (B, K) in the trainer's normalised units (see train.py).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

MODELS = ("baseline", "improved")


@dataclass(frozen=True)
class NetworkSpec:
    """Everything needed to rebuild a network (saved in audio_model.json)."""

    model: str
    row_size: int
    n_exp: int
    half: int
    width: int = 96
    dropout: float = 0.2

    @property
    def window(self) -> int:
        return 2 * self.half + 1

    def to_json(self) -> dict:
        return asdict(self)


class BaselineNet(nn.Module):
    """Paper, Table 1: the W window steps are the input channels of three Conv1D (kernel 3) along
    the feature axis (W -> 5 -> 3 -> 1 channels), then one fully connected layer to K. Like the
    reference code it has no non-linearity, so it is a linear map of the window."""

    def __init__(self, spec: NetworkSpec) -> None:
        super().__init__()
        if spec.row_size < 7:
            raise ValueError("the baseline needs feature rows of at least 7 values")
        self.convs = nn.Sequential(
            nn.Conv1d(spec.window, 5, 3), nn.Conv1d(5, 3, 3), nn.Conv1d(3, 1, 3),
        )
        self.fc = nn.Linear(spec.row_size - 6, spec.n_exp)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.convs(x).squeeze(1))


class ImprovedNet(nn.Module):
    """Convolutions along time (the feature values are the channels) with GELU and dropout over
    a wider window, then a fully connected head; a linear path from the centre frames is added so
    the model starts from what the baseline can do and learns the non-linear rest."""

    def __init__(self, spec: NetworkSpec) -> None:
        super().__init__()
        w = spec.width
        self.body = nn.Sequential(
            nn.Conv1d(spec.row_size, w, 3, padding=1), nn.GELU(), nn.Dropout(spec.dropout),
            nn.Conv1d(w, w, 3, padding=2, dilation=2), nn.GELU(), nn.Dropout(spec.dropout),
            nn.Conv1d(w, w // 2, 3, padding=1), nn.GELU(),
        )
        self.head = nn.Linear((w // 2) * spec.window, spec.n_exp)
        self.centre = spec.half
        self.linear = nn.Linear(3 * spec.row_size, spec.n_exp)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.body(x.transpose(1, 2))  # (B, W/2.., W)
        c = self.centre
        return self.head(h.flatten(1)) + self.linear(x[:, c - 1:c + 2].flatten(1))


def build_network(spec: NetworkSpec) -> nn.Module:
    """A fresh network for ``spec.model`` ("baseline" or "improved")."""
    if spec.model == "baseline":
        return BaselineNet(spec)
    if spec.model == "improved":
        if spec.half < 1:
            raise ValueError("the improved network needs a window of at least 1 frame each side")
        return ImprovedNet(spec)
    raise ValueError(f"unknown audio model {spec.model!r}; choose one of {MODELS}")
