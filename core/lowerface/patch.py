"""What a lower-face variant hands over per output frame, and the one step that composites it.

A variant either works in the project's face crop (``CropPatch``: the crop pixels and their alpha,
pasted back through the crop transform) or directly in the video frame's own pixels (``FramePatch``:
a rectangle of the frame, its alpha and the ring of skin to colour-match on). ``patch.apply(frame,
box)`` returns the composited uint8 frame; pixels where alpha is 0 stay the frame's, bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.facerender.composite import blend, colour_match, multiband_blend
from core.tracking.crop import paste_back


@dataclass
class CropPatch:
    """crop: uint8 or float (S, S, 3) in [0, 255], already colour-matched; alpha: float (S, S)."""

    crop: np.ndarray
    alpha: np.ndarray

    def apply(self, frame: np.ndarray, box: np.ndarray) -> np.ndarray:
        return paste_back(frame, self.crop, self.alpha, box)

    def __iter__(self):  # (crop, alpha) unpacking, as the synthesizers' tuples were
        return iter((self.crop, self.alpha))


@dataclass
class FramePatch:
    """A rectangle of the full-resolution frame: x0, y0 its top-left pixel; pixels float32 (h, w, 3)
    in [0, 255]; alpha float32 (h, w) in [0, 1]; ring bool (h, w): where the new and the real skin
    meet (colour-matched there), or None to keep the colours."""

    x0: int
    y0: int
    pixels: np.ndarray
    alpha: np.ndarray
    ring: np.ndarray | None = None
    multiband: bool = False

    def apply(self, frame: np.ndarray, box: np.ndarray | None = None) -> np.ndarray:
        out = frame.copy()
        h, w = self.alpha.shape
        region = out[self.y0:self.y0 + h, self.x0:self.x0 + w]
        if region.shape[:2] != (h, w):
            raise ValueError(f"patch {w}x{h} at ({self.x0}, {self.y0}) leaves the {frame.shape[1]}x"
                             f"{frame.shape[0]} frame")
        pixels = self.pixels
        if self.ring is not None:
            pixels = colour_match(pixels, region, self.ring)
        if self.multiband:
            region[...] = multiband_blend(region, pixels, self.alpha)
        else:
            region[...] = blend(region, pixels, self.alpha)
        return out
