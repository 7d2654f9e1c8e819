"""A generator that copies the person's real pixels: the U-Net also predicts, per reference frame,
a smooth flow that moves the reference onto the target, and per-pixel blend weights between its own
colours and the moved references (``copy_refs`` of the reference renderer).

Why: a U-Net that must draw lips and teeth from scratch is blurry for thousands of steps; moving
sharp pixels that exist in a reference frame is cheaper to learn. The flow is predicted at full
size and then averaged over ``flow_cell`` pixels, so neighbouring pixels move together and the
copied texture is not torn.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from core.renderer.networks import UNetGenerator


class ReferenceCopyingGenerator(nn.Module):
    """forward(x): float32 (B, in_ch, S, S) in [-1, 1] whose last 3 * n_refs channels are the
    references -> (B, 3, S, S) in [-1, 1], a per-pixel convex blend of the drawn colours and the
    moved references.

    max_shift: largest flow, as a fraction of the window side; blend_range: the blend logits span
    (-blend_range, blend_range)."""

    def __init__(self, in_ch: int, n_refs: int, size: int, ngf: int, dropout: float, max_channels: int,
                 max_shift: float = 0.25, blend_range: float = 4.0, flow_cell: int = 4):
        super().__init__()
        if n_refs < 1:
            raise ValueError("copying needs at least one reference frame")
        self.n_refs, self.size = n_refs, size
        self.max_shift, self.blend_range, self.flow_cell = max_shift, blend_range, flow_cell
        self.unet = UNetGenerator(in_ch, 3 + 3 * n_refs + 1, size, ngf, dropout, max_channels)
        ys, xs = torch.meshgrid(torch.linspace(-1, 1, size), torch.linspace(-1, 1, size), indexing="ij")
        # align_corners=True coordinates: -1 and 1 are the centres of the edge pixels.
        self.register_buffer("identity", torch.stack([xs, ys], dim=-1)[None], persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, s, _ = x.shape
        n = self.n_refs
        h = self.unet(x)
        colours = h[:, :3]
        flow = h[:, 3:3 + 2 * n] * (2.0 * self.max_shift)
        if self.flow_cell > 1:
            flow = F.interpolate(F.avg_pool2d(flow, self.flow_cell), size=(s, s), mode="bilinear",
                                 align_corners=False)
        logits = h[:, 3 + 2 * n:] * self.blend_range
        refs = x[:, -3 * n:].reshape(b * n, 3, s, s)
        grid = self.identity + flow.reshape(b * n, 2, s, s).permute(0, 2, 3, 1)
        moved = F.grid_sample(refs, grid, mode="bilinear", padding_mode="border", align_corners=True)
        sources = torch.cat([colours[:, None], moved.reshape(b, n, 3, s, s)], dim=1)  # (B, n+1, 3, S, S)
        weights = torch.softmax(logits, dim=1)[:, :, None]
        return (weights * sources).sum(dim=1)
