"""What a lower-face variant hands over per output frame, and the one step that composites it.

A variant either works in the project's face crop (``CropPatch``: the crop pixels and their alpha,
moved into the frame through the crop transform) or directly in the video frame's own pixels
(``FramePatch``: a rectangle of the frame, its alpha and the ring of skin to colour-match on). Both
composite the same way, ``FramePatch.apply``: multi-band blending in the frame's pixels.
``patch.apply(frame, box)`` returns the composited uint8 frame; pixels where alpha is 0 stay the
frame's, bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from core.facerender.composite import blend, colour_match, multiband_blend
from core.tracking.crop import box_rectangle, inverse_matrix


@dataclass
class CropPatch:
    """crop: uint8 or float (S, S, 3) in [0, 255], already colour-matched; alpha: float (S, S).
    Composited as a FramePatch: moved into the frame (one bilinear resampling through the crop
    transform, as before) and blended there band by band like the sample-based lower face."""

    crop: np.ndarray
    alpha: np.ndarray
    multiband: bool = True

    def apply(self, frame: np.ndarray, box: np.ndarray) -> np.ndarray:
        patch = self.in_frame(box, frame.shape[:2])
        return frame.copy() if patch is None else patch.apply(frame)

    def in_frame(self, box: np.ndarray, frame_size: tuple[int, int]) -> "FramePatch | None":
        """The patch moved into the frame's pixels (h, w = frame_size): the crop box's bounding
        rectangle; None where the box lies outside the frame."""
        size = self.crop.shape[0]
        if self.crop.shape[:2] != self.alpha.shape[:2] or self.crop.shape[0] != self.crop.shape[1]:
            raise ValueError(f"crop {self.crop.shape} and alpha {self.alpha.shape} must be the same square size")
        x0, y0, x1, y1 = box_rectangle(box, frame_size)
        if x1 <= x0 or y1 <= y0:
            return None
        inv = inverse_matrix(box, size)
        inv[:, 2] -= (x0, y0)  # into the rectangle's coordinates
        region = (x1 - x0, y1 - y0)
        alpha = cv2.warpAffine(np.asarray(self.alpha, np.float32), inv, region, flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        pixels = cv2.warpAffine(np.asarray(self.crop, np.float32), inv, region, flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_REPLICATE)
        return FramePatch(x0, y0, pixels, np.clip(alpha, 0.0, 1.0), None, self.multiband)

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
