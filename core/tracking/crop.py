"""Square face crops: the transform between the full frame and a crop, and pasting a crop back.

A box is (cx, cy, side) in full-frame pixels; the crop of size S maps the box's square onto
[0, S] x [0, S] (pixel centres at integer + 0.5 on both sides).
"""

from __future__ import annotations

import cv2
import numpy as np


def crop_matrix(box: np.ndarray, size: int) -> np.ndarray:
    """(2,3) float64 affine mapping full-frame pixel coordinates into crop pixel coordinates."""
    cx, cy, side = (float(v) for v in box)
    scale = size / side
    return np.array([[scale, 0.0, size / 2 - scale * cx],
                     [0.0, scale, size / 2 - scale * cy]], dtype=np.float64)


def inverse_matrix(box: np.ndarray, size: int) -> np.ndarray:
    """(2,3) float64 affine mapping crop pixel coordinates back into the full frame."""
    return cv2.invertAffineTransform(crop_matrix(box, size))


def to_crop_coords(points: np.ndarray, box: np.ndarray, size: int) -> np.ndarray:
    """Points (..., 2+) in full-frame pixels -> same shape in crop pixels (z scaled alike)."""
    m = crop_matrix(box, size)
    out = np.array(points, dtype=np.float64, copy=True)
    xy = out[..., :2]
    out[..., :2] = xy @ m[:, :2].T + m[:, 2]
    if out.shape[-1] > 2:
        out[..., 2:] *= m[0, 0]
    return out.astype(np.float32)


def crop_image(frame: np.ndarray, box: np.ndarray, size: int) -> np.ndarray:
    """uint8 (size, size, 3) crop of an uint8 RGB frame; outside the frame is edge-replicated."""
    return cv2.warpAffine(frame, crop_matrix(box, size), (size, size), flags=cv2.INTER_AREA
                          if box[2] > size else cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def box_rectangle(box: np.ndarray, frame_size: tuple[int, int]) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1): the frame pixels a crop box touches (a pixel of margin), clipped to the
    frame of size (h, w)."""
    h, w = frame_size
    cx, cy, side = (float(v) for v in box)
    x0, y0 = max(int(np.floor(cx - side / 2)) - 1, 0), max(int(np.floor(cy - side / 2)) - 1, 0)
    x1, y1 = min(int(np.ceil(cx + side / 2)) + 1, w), min(int(np.ceil(cy + side / 2)) + 1, h)
    return x0, y0, x1, y1


def paste_back(frame: np.ndarray, crop: np.ndarray, alpha: np.ndarray, box: np.ndarray) -> np.ndarray:
    """Blend ``crop`` over ``frame`` inside the box, weighted by ``alpha``.

    frame: uint8 (H, W, 3); crop: uint8 or float in [0, 255] (S, S, 3); alpha: float (S, S) in [0, 1].
    Returns a new uint8 frame; pixels whose warped alpha is 0 are the input's, bit for bit. Only the
    box's bounding rectangle is touched, so this costs little on a 4K frame.
    """
    size = crop.shape[0]
    if crop.shape[:2] != alpha.shape[:2] or crop.shape[0] != crop.shape[1]:
        raise ValueError(f"crop {crop.shape} and alpha {alpha.shape} must be the same square size")
    x0, y0, x1, y1 = box_rectangle(box, frame.shape[:2])
    out = frame.copy()
    if x1 <= x0 or y1 <= y0:
        return out
    inv = inverse_matrix(box, size)
    inv[:, 2] -= (x0, y0)  # into the region's coordinates
    region = (x1 - x0, y1 - y0)
    a = cv2.warpAffine(alpha.astype(np.float32), inv, region, flags=cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    c = cv2.warpAffine(crop.astype(np.float32), inv, region, flags=cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_REPLICATE)
    a = np.clip(a, 0.0, 1.0)[..., None]
    roi = out[y0:y1, x0:x1].astype(np.float32)
    blended = roi * (1.0 - a) + c * a
    touched = a[..., 0] > 0
    roi_out = out[y0:y1, x0:x1]
    roi_out[touched] = np.clip(np.rint(blended[touched]), 0, 255).astype(np.uint8)
    return out
