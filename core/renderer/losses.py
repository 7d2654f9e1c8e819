"""Losses of the renderer: vanilla GAN (binary cross-entropy on logits), weighted masked L1, and an
L1 on image gradients (the detail term: it punishes lost high frequencies that plain L1 tolerates)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def gan_loss(logits: torch.Tensor, real: bool) -> torch.Tensor:
    """Binary cross-entropy of PatchGAN logits (any shape) against all-real or all-fake labels."""
    target = torch.ones_like(logits) if real else torch.zeros_like(logits)
    return F.binary_cross_entropy_with_logits(logits, target)


def weighted_l1(fake: torch.Tensor, real: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Mean of |fake - real| * weight over all pixels and channels.

    fake, real: float (B, 3, H, W) on one scale; weight: float (B, 1, H, W) >= 0, same device.
    """
    if fake.shape != real.shape or weight.shape[-2:] != fake.shape[-2:]:
        raise ValueError(f"shapes differ: fake {tuple(fake.shape)}, real {tuple(real.shape)}, "
                         f"weight {tuple(weight.shape)}")
    return ((fake - real).abs() * weight).mean()


def mouth_weight_map(mask: torch.Tensor, mouth: torch.Tensor, extra: float) -> torch.Tensor:
    """L1 weights: 1 everywhere plus ``extra`` times a Gaussian around the lips, inside the mask.

    mask: float (B, 1, S, S) in {0, 1}. mouth: float (B, 3) (x, y, sigma) in the same pixels; rows
    with NaN get no Gaussian. Returns float (B, 1, S, S) on mask's device.
    """
    b, _, h, w = mask.shape
    ys = torch.arange(h, device=mask.device, dtype=mask.dtype).view(1, h, 1) + 0.5
    xs = torch.arange(w, device=mask.device, dtype=mask.dtype).view(1, 1, w) + 0.5
    m = torch.nan_to_num(mouth.to(mask), nan=0.0)
    valid = torch.isfinite(mouth).all(dim=1).to(mask)
    cx, cy, sigma = (m[:, k].view(b, 1, 1) for k in range(3))
    sigma = sigma.clamp(min=1.0)
    blob = torch.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * sigma ** 2)) * valid.view(b, 1, 1)
    return 1.0 + extra * blob.unsqueeze(1) * mask


def gradient_l1(fake: torch.Tensor, real: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Mean |d fake - d real| over horizontal and vertical finite differences, weighted by
    ``weight`` (B, 1, H, W) taken at both pixels of each difference (so nothing across the mask
    edge counts where the weight is 0)."""
    dx = lambda t: t[..., :, 1:] - t[..., :, :-1]  # noqa: E731
    dy = lambda t: t[..., 1:, :] - t[..., :-1, :]  # noqa: E731
    wx = torch.minimum(weight[..., :, 1:], weight[..., :, :-1])
    wy = torch.minimum(weight[..., 1:, :], weight[..., :-1, :])
    return 0.5 * (((dx(fake) - dx(real)).abs() * wx).mean() + ((dy(fake) - dy(real)).abs() * wy).mean())
