"""The small preview image shown while training: held-out frames as input | output | real."""

from __future__ import annotations

import numpy as np
import torch


def preview_grid(cond_centre: torch.Tensor, fake: torch.Tensor, real: torch.Tensor, rows: int = 3,
                 max_side: int = 128) -> np.ndarray:
    """uint8 (rows*s, 3*s, 3) RGB: one row per frame, columns render, generated, real.

    All inputs float (B, 3, S, S) in [0, 1] on any device; images larger than ``max_side`` shrink.
    """
    k = min(rows, fake.shape[0])
    tiles = torch.stack([cond_centre[:k], fake[:k], real[:k]], dim=1).detach().float().cpu()
    if tiles.shape[-1] > max_side:
        tiles = torch.nn.functional.interpolate(tiles.flatten(0, 1), size=(max_side, max_side),
                                                mode="area").view(k, 3, 3, max_side, max_side)
    s = tiles.shape[-1]
    grid = tiles.permute(0, 3, 1, 4, 2).reshape(k * s, 3 * s, 3)
    return (grid.clamp(0, 1) * 255).round().to(torch.uint8).numpy()
