"""Pure training and evaluation steps (the D-then-G pix2pix update), free of files and loops."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from core.renderer.losses import gan_loss, gradient_l1, mouth_weight_map, weighted_l1


@dataclass
class Batch:
    """One batch on the training device.

    cond: float32 (B, 3n, S, S) in [0, 1], the n masked renders t-r..t+r stacked along channels.
    target: float32 (B, 3, S, S) in [0, 1], the real crop, 0 outside the mask.
    mask: float32 (B, 1, S, S) in {0, 1}, the expanded lower-face mask of frame t.
    mouth: float32 (B, 3) (x, y, sigma) of the lips in network pixels, NaN when unknown.
    """

    cond: torch.Tensor
    target: torch.Tensor
    mask: torch.Tensor
    mouth: torch.Tensor


def to_signed(x: torch.Tensor) -> torch.Tensor:
    return x * 2.0 - 1.0


def generate(gen: torch.nn.Module, cond: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Generator output in [0, 1], (B, 3, S, S); multiplied by ``mask`` when given."""
    out = (gen(to_signed(cond)) + 1.0) * 0.5
    return out * mask if mask is not None else out


def train_step(gen, disc, opt_g, opt_d, batch: Batch, l1_weight: float, gan_weight: float,
               mouth_weight: float, detail_weight: float = 0.0) -> dict[str, float]:
    """One discriminator update, then one generator update. Returns the losses as floats;
    ``l1_255`` is the plain masked mean absolute error in [0, 255] units. detail_weight: weight of
    the gradient L1 (same mouth weighting, inside the mask), 0 = off."""
    gen.train()
    disc.train()
    cond = to_signed(batch.cond)
    fake = generate(gen, batch.cond, batch.mask)
    real_s, fake_s = to_signed(batch.target), to_signed(fake)

    opt_d.zero_grad(set_to_none=True)
    d_fake = disc(torch.cat([cond, fake_s.detach()], 1))
    d_real = disc(torch.cat([cond, real_s], 1))
    loss_d = 0.5 * (gan_loss(d_fake, False) + gan_loss(d_real, True))
    loss_d.backward()
    opt_d.step()

    opt_g.zero_grad(set_to_none=True)
    for p in disc.parameters():
        p.requires_grad_(False)
    try:
        loss_gan = gan_loss(disc(torch.cat([cond, fake_s], 1)), True)
    finally:
        for p in disc.parameters():
            p.requires_grad_(True)
    weight = mouth_weight_map(batch.mask, batch.mouth, mouth_weight)
    loss_l1 = weighted_l1(fake, batch.target, weight)
    total = gan_weight * loss_gan + l1_weight * loss_l1
    losses = {}
    if detail_weight > 0:
        loss_detail = gradient_l1(fake, batch.target, weight * batch.mask)
        total = total + detail_weight * loss_detail
        losses["detail"] = loss_detail.item()
    total.backward()
    opt_g.step()
    with torch.no_grad():
        l1_255 = masked_mae_255(fake, batch.target, batch.mask).mean()
    return {"d": loss_d.item(), "g_gan": loss_gan.item(), "l1": loss_l1.item(), "l1_255": l1_255.item(),
            **losses}


def masked_mae_255(fake: torch.Tensor, real: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per-sample mean absolute error inside the mask in [0, 255] units: float (B,)."""
    err = (fake - real).abs().sum(dim=(1, 2, 3))
    area = (mask.sum(dim=(1, 2, 3)) * fake.shape[1]).clamp(min=1.0)
    return err / area * 255.0


def masked_psnr(fake: torch.Tensor, real: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per-sample PSNR (dB, peak 1) over the pixels inside the mask: float (B,)."""
    se = ((fake - real) ** 2).sum(dim=(1, 2, 3))
    area = (mask.sum(dim=(1, 2, 3)) * fake.shape[1]).clamp(min=1.0)
    return -10.0 * torch.log10((se / area).clamp(min=1e-10))


@torch.no_grad()
def eval_step(gen, batch: Batch) -> tuple[torch.Tensor, dict[str, float]]:
    """Generator in inference mode (batch-norm running statistics, no dropout) on a held-out batch.

    Returns the masked output (B, 3, S, S) in [0, 1] and the mean masked MAE (0-255) and PSNR (dB).
    """
    gen.eval()
    fake = generate(gen, batch.cond, batch.mask)
    return fake, {"val_l1_255": float(masked_mae_255(fake, batch.target, batch.mask).mean()),
                  "val_psnr": float(masked_psnr(fake, batch.target, batch.mask).mean())}
