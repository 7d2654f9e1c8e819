"""The networks a renderer config trains: its generator (the U-Net, or with ``copy_refs`` the U-Net
that also moves and blends the references) and the discriminator."""

from __future__ import annotations

import torch
from torch import nn

from core.renderer.copying import ReferenceCopyingGenerator
from core.renderer.networks import PatchDiscriminator, UNetGenerator, init_weights


def build_generator(config, size: int) -> nn.Module:
    """The generator of ``config`` (config.in_channels -> 3 channels) at ``size`` px, not initialised:
    the U-Net, or with ``copy_refs`` the U-Net that also moves and blends the references."""
    if config.copy_refs:
        return ReferenceCopyingGenerator(config.in_channels, config.n_refs, size, config.ngf, config.dropout,
                                         config.max_channels)
    return UNetGenerator(config.in_channels, 3, size, config.ngf, config.dropout, config.max_channels)


def build_networks(config, device: torch.device, size: int | None = None
                   ) -> tuple[nn.Module, PatchDiscriminator]:
    """Generator (config.in_channels -> 3) and discriminator (its input + the image -> logits) at
    ``size`` px (default config.size), initialised."""
    gen = build_generator(config, size or config.size)
    disc = PatchDiscriminator(config.in_channels + 3, config.ndf)
    init_weights(gen)
    init_weights(disc)
    return gen.to(device), disc.to(device)
