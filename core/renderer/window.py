"""The square part of the face crop the network sees, and the resampling into and out of it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class CropWindow:
    """A square (x0, y0, side) inside a crop of ``crop_size`` pixels, resampled to ``size`` x ``size``."""

    x0: int
    y0: int
    side: int
    crop_size: int
    size: int

    def __post_init__(self) -> None:
        if not (0 <= self.x0 and 0 <= self.y0 and self.side > 0
                and self.x0 + self.side <= self.crop_size and self.y0 + self.side <= self.crop_size):
            raise ValueError(f"window ({self.x0}, {self.y0}, {self.side}) does not fit in a "
                             f"{self.crop_size} px crop")

    @classmethod
    def full(cls, crop_size: int, size: int) -> "CropWindow":
        return cls(0, 0, crop_size, crop_size, size)

    @classmethod
    def around(cls, union_mask: np.ndarray, size: int, pad: float = 0.06) -> "CropWindow":
        """Smallest centred square holding the True pixels of ``union_mask`` (S, S) plus ``pad`` of
        its side on each edge, shifted to lie inside the crop. All False -> the whole crop."""
        crop_size = int(union_mask.shape[0])
        ys, xs = np.nonzero(union_mask)
        if len(xs) == 0:
            return cls.full(crop_size, size)
        x_lo, x_hi, y_lo, y_hi = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
        side = int(np.ceil(max(x_hi - x_lo, y_hi - y_lo) * (1 + 2 * pad)))
        side = min(max(side, 8), crop_size)
        x0 = int(round((x_lo + x_hi - side) / 2))
        y0 = int(round((y_lo + y_hi - side) / 2))
        x0 = min(max(x0, 0), crop_size - side)
        y0 = min(max(y0, 0), crop_size - side)
        return cls(x0, y0, side, crop_size, size)

    def to_json(self) -> list[int]:
        return [self.x0, self.y0, self.side, self.crop_size, self.size]

    @classmethod
    def from_json(cls, data) -> "CropWindow":
        return cls(*(int(v) for v in data))

    @property
    def scale(self) -> float:
        """Network pixels per crop pixel."""
        return self.size / self.side

    def cut(self, images: torch.Tensor) -> torch.Tensor:
        """float (B, C, crop, crop) -> (B, C, size, size): the window, area-averaged or bilinear."""
        if images.shape[-1] != self.crop_size or images.shape[-2] != self.crop_size:
            raise ValueError(f"expected {self.crop_size} px crops, got {tuple(images.shape)}")
        part = images[..., self.y0:self.y0 + self.side, self.x0:self.x0 + self.side]
        return resize(part, self.size)

    def paste(self, images: torch.Tensor) -> torch.Tensor:
        """float (B, C, size, size) -> (B, C, crop, crop): resampled into the window, 0 elsewhere."""
        if images.shape[-1] != self.size:
            raise ValueError(f"expected {self.size} px images, got {tuple(images.shape)}")
        out = images.new_zeros(*images.shape[:-2], self.crop_size, self.crop_size)
        out[..., self.y0:self.y0 + self.side, self.x0:self.x0 + self.side] = resize(images, self.side)
        return out

    def coverage(self) -> np.ndarray:
        """float32 (crop, crop): 1 inside the window, 0 outside."""
        out = np.zeros((self.crop_size, self.crop_size), np.float32)
        out[self.y0:self.y0 + self.side, self.x0:self.x0 + self.side] = 1.0
        return out

    def points_to_window(self, xy: np.ndarray) -> np.ndarray:
        """Crop pixel coordinates (..., 2) -> network pixel coordinates."""
        return (np.asarray(xy, np.float64) - (self.x0, self.y0)) * self.scale


def resize(images: torch.Tensor, side: int) -> torch.Tensor:
    """float (..., C, H, W) -> (..., C, side, side): area averaging to shrink, bilinear to enlarge."""
    if images.shape[-1] == side and images.shape[-2] == side:
        return images
    lead = images.shape[:-3]
    flat = images.reshape(-1, *images.shape[-3:])
    if side < images.shape[-1]:
        out = F.interpolate(flat, size=(side, side), mode="area")
    else:
        out = F.interpolate(flat, size=(side, side), mode="bilinear", align_corners=False)
    return out.reshape(*lead, *out.shape[-3:])
