"""The paper's networks (3.3, after pix2pix): a U-Net generator and a PatchGAN discriminator."""

from __future__ import annotations

import torch
from torch import nn


def unet_levels(size: int) -> int:
    """Stride-2 levels of the U-Net for a ``size`` px input: halve while even (a power of two goes
    down to 1 x 1 as in the paper; 192 stops at 3 x 3)."""
    levels = 0
    while size % 2 == 0 and size > 1:
        size //= 2
        levels += 1
    return levels


class UNetGenerator(nn.Module):
    """U-Net from ``size`` x ``size`` down to a few pixels and back, with skip connections.

    Down: 4x4 stride-2 conv + batch norm + LeakyReLU(0.2); up: ReLU + 4x4 stride-2 transposed conv +
    batch norm (+ dropout on the three deepest decoders below the bottleneck).
    forward(x): float32 (B, in_ch, size, size) in [-1, 1] -> (B, out_ch, size, size) in [-1, 1] (tanh).
    """

    def __init__(self, in_ch: int, out_ch: int = 3, size: int = 128, ngf: int = 32, dropout: float = 0.5,
                 max_channels: int = 0):
        super().__init__()
        levels = unet_levels(size)
        if levels < 5:
            raise ValueError(f"size must be a multiple of 32, not {size}")
        widest = max_channels or 8 * ngf
        ch = [min(ngf * 2 ** i, widest) for i in range(levels)]
        self.size = size
        enc = [nn.Conv2d(in_ch, ch[0], 4, 2, 1)]
        for i in range(1, levels):
            innermost = i == levels - 1
            layers = [nn.LeakyReLU(0.2, True), nn.Conv2d(ch[i - 1], ch[i], 4, 2, 1, bias=innermost)]
            if not innermost:
                layers.append(nn.BatchNorm2d(ch[i]))
            enc.append(nn.Sequential(*layers))
        dec = [nn.Sequential(nn.ReLU(True), nn.ConvTranspose2d(2 * ch[0], out_ch, 4, 2, 1), nn.Tanh())]
        for i in range(1, levels):
            in_c = ch[i] if i == levels - 1 else 2 * ch[i]
            layers = [nn.ReLU(True), nn.ConvTranspose2d(in_c, ch[i - 1], 4, 2, 1, bias=False),
                      nn.BatchNorm2d(ch[i - 1])]
            if dropout > 0 and levels - 4 <= i <= levels - 2:
                layers.append(nn.Dropout(dropout))
            dec.append(nn.Sequential(*layers))
        self.encoders = nn.ModuleList(enc)
        self.decoders = nn.ModuleList(dec)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = []
        h = x
        for enc in self.encoders:
            h = enc(h)
            feats.append(h)
        for i in range(len(self.decoders) - 1, -1, -1):
            h = self.decoders[i](h)
            if i > 0:
                h = torch.cat([feats[i - 1], h], dim=1)
        return h


class PatchDiscriminator(nn.Module):
    """70 x 70 PatchGAN: real/fake logits per overlapping patch.

    forward(x): float32 (B, in_ch, H, W) in [-1, 1] (condition stack + image) -> (B, 1, H/8-2, W/8-2).
    """

    def __init__(self, in_ch: int, ndf: int = 32, n_layers: int = 3):
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(in_ch, ndf, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        c = ndf
        for i in range(1, n_layers + 1):
            c_next = ndf * min(2 ** i, 8)
            stride = 2 if i < n_layers else 1
            layers += [nn.Conv2d(c, c_next, 4, stride, 1, bias=False), nn.BatchNorm2d(c_next),
                       nn.LeakyReLU(0.2, True)]
            c = c_next
        layers.append(nn.Conv2d(c, 1, 4, 1, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def init_weights(module: nn.Module, std: float = 0.02) -> None:
    """The paper's init: conv weights N(0, std^2), batch-norm scales N(1, std^2), biases 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, std)
            nn.init.zeros_(m.bias)
