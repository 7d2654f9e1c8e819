"""How much disk a project's stages write, and whether the free disk holds it.

Sizes follow the arrays the stages write: ``prepare`` keeps the face crops (uint8 N x S x S x 3,
core.tracking) and the tracking (478 landmarks of 3 float32 a frame and small per-frame arrays);
the renderer's training cache keeps one lossless PNG a frame of the lower-face render and mask
(core.renderer.cond_store), measured at 0.25 bytes per crop pixel on the test clips (estimated
here at 0.35 for margin), plus its checkpoints.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

GB = 1e9
TRACKING_BYTES_PER_FRAME = 478 * 3 * 4 + 64  # landmarks and the per-frame boxes and flags
CACHE_BYTES_PER_PIXEL = 0.35  # PNG of the masked render + mask (0.25 measured at 320 px)
CHECKPOINTS_BYTES = 100e6  # last.pt + best.pt of the largest renderer profile, with margin


@dataclass(frozen=True)
class DiskNeed:
    stage: str
    need_bytes: float
    free_bytes: float

    @property
    def fits(self) -> bool:
        return self.need_bytes <= self.free_bytes

    def warning(self) -> str:
        return (f"Not enough free disk for {self.stage}: it needs about {self.need_bytes / GB:.1f} GB and "
                f"{self.free_bytes / GB:.1f} GB are free. Free some space or move the project folder "
                "to a larger disk first.")


def prepare_bytes(n_frames: int, crop_px: int) -> float:
    """What ``prepare`` writes for ``n_frames`` at ``crop_px`` crops."""
    return n_frames * (crop_px * crop_px * 3 + TRACKING_BYTES_PER_FRAME)


def renderer_cache_bytes(n_frames: int, crop_px: int) -> float:
    """What renderer training writes: its training cache and checkpoints."""
    return n_frames * crop_px * crop_px * CACHE_BYTES_PER_PIXEL + CHECKPOINTS_BYTES


def free_bytes(folder: Path) -> float:
    """Free bytes on the disk holding ``folder`` (or its nearest existing parent)."""
    folder = Path(folder)
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return float(shutil.disk_usage(folder).free)


def check(stage: str, need_bytes: float, folder: Path) -> DiskNeed:
    """The need of ``stage`` against the free disk at ``folder``; logs a warning when it will not fit."""
    need = DiskNeed(stage, need_bytes, free_bytes(folder))
    if not need.fits:
        log.warning("%s", need.warning())
    return need
