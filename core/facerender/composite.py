"""Compositing the generated lower face: colour-matched to the surrounding skin, blended with the
feathered mask, and pasted back into the full-resolution frame through the crop transform.

Arrays at this edge are numpy: crops uint8 or float32 (S, S, 3) in [0, 255], masks float (S, S).
"""

from __future__ import annotations

import cv2
import numpy as np

from core.tracking.crop import paste_back

# Limits of the colour correction: the generated face may drift in exposure, but a larger change
# means the ring holds something other than skin (hair, a hand) and must not be trusted.
MAX_SHIFT = 24.0
GAIN_RANGE = (0.85, 1.18)
MIN_RING_PIXELS = 30


def colour_ring(mask: np.ndarray, feather: np.ndarray, inner: float = 0.95) -> np.ndarray:
    """bool (S, S): the outer band of the generated region (inside ``mask``, where ``feather`` is
    below ``inner``), i.e. where generated and real skin meet in the result."""
    return (np.asarray(mask) > 0.5) & (np.asarray(feather) < inner)


def colour_match(generated: np.ndarray, real: np.ndarray, ring: np.ndarray) -> np.ndarray:
    """Per-channel gain and offset making the generated ring's mean and spread match the real ring's.

    generated, real: (S, S, 3) uint8 or float in [0, 255]; ring: bool (S, S).
    Returns float32 (S, S, 3) in [0, 255]; unchanged if the ring has too few pixels.
    """
    if generated.shape != real.shape or generated.shape[:2] != ring.shape:
        raise ValueError(f"shapes differ: generated {generated.shape}, real {real.shape}, ring {ring.shape}")
    gen = generated.astype(np.float32)
    mask = np.ascontiguousarray(ring, np.uint8)
    if cv2.countNonZero(mask) < MIN_RING_PIXELS:
        return gen
    g_mean, g_std = (v[:, 0] for v in cv2.meanStdDev(gen, mask=mask))
    r_mean, r_std = (v[:, 0] for v in cv2.meanStdDev(np.ascontiguousarray(real), mask=mask))
    gain = np.clip(r_std / np.maximum(g_std, 1e-3), *GAIN_RANGE)
    shift = np.clip(r_mean - g_mean, -MAX_SHIFT, MAX_SHIFT)
    out = gen * gain.astype(np.float32)
    out += (g_mean * (1 - gain) + shift).astype(np.float32)
    return np.clip(out, 0.0, 255.0, out=out)


def blend(real: np.ndarray, generated: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """uint8 (S, S, 3): generated over real weighted by ``alpha`` (S, S) in [0, 1]; where alpha is 0
    the real pixels are kept bit for bit."""
    a = np.clip(np.asarray(alpha, np.float32), 0.0, 1.0)[..., None]
    out = real.astype(np.float32) * (1 - a) + generated.astype(np.float32) * a
    result = np.clip(np.rint(out), 0, 255).astype(np.uint8)
    keep = a[..., 0] == 0
    result[keep] = real[keep]
    return result


def multiband_blend(real: np.ndarray, generated: np.ndarray, alpha: np.ndarray, levels: int = 4) -> np.ndarray:
    """uint8 (H, W, 3): ``generated`` over ``real`` blended band by band (Burt and Adelson's
    Laplacian pyramids): fine detail switches over the width of ``alpha``'s edge, coarse shading
    over a wider one, so a difference in lighting fades out instead of showing as a seam. Where
    alpha is 0 the real pixels are kept bit for bit."""
    a = np.clip(np.asarray(alpha, np.float32), 0.0, 1.0)
    levels = max(1, min(levels, int(np.log2(max(min(a.shape), 2))) - 2))
    r, g = real.astype(np.float32), generated.astype(np.float32)
    out_levels, alphas = [], [a]
    for _ in range(levels - 1):
        alphas.append(cv2.pyrDown(alphas[-1]))
    for k in range(levels):
        if k == levels - 1:
            band_r, band_g = r, g
        else:
            down_r, down_g = cv2.pyrDown(r), cv2.pyrDown(g)
            size = (r.shape[1], r.shape[0])
            band_r, band_g = r - cv2.pyrUp(down_r, dstsize=size), g - cv2.pyrUp(down_g, dstsize=size)
            r, g = down_r, down_g
        w = alphas[k][..., None]
        out_levels.append(band_r * (1 - w) + band_g * w)
    out = out_levels[-1]
    for band in reversed(out_levels[:-1]):
        out = cv2.pyrUp(out, dstsize=(band.shape[1], band.shape[0])) + band
    result = np.clip(np.rint(out), 0, 255).astype(np.uint8)
    keep = a == 0
    result[keep] = real[keep]
    return result


def composite_alpha(feather: np.ndarray, coverage: np.ndarray | None = None) -> np.ndarray:
    """float32 (S, S): the feather mask limited to where the generator has output (``coverage``)."""
    a = np.clip(np.asarray(feather, np.float32), 0.0, 1.0)
    return a * coverage if coverage is not None else a


def composite_crop(real_crop: np.ndarray, generated_crop: np.ndarray, mask: np.ndarray,
                   feather: np.ndarray, coverage: np.ndarray | None = None) -> np.ndarray:
    """The composited crop, uint8 (S, S, 3): colour-matched generated face blended over the real
    crop. mask: expanded mask (S, S) in {0, 1}; feather: (S, S) in [0, 1]; coverage: see
    composite_alpha."""
    alpha = composite_alpha(feather, coverage)
    matched = colour_match(generated_crop, real_crop, colour_ring(mask, alpha) & (alpha > 0))
    return blend(real_crop, matched, alpha)


def composite_frame(frame: np.ndarray, box: np.ndarray, real_crop: np.ndarray, generated_crop: np.ndarray,
                    mask: np.ndarray, feather: np.ndarray, coverage: np.ndarray | None = None) -> np.ndarray:
    """Paste the colour-matched generated face into the full-resolution frame.

    frame: uint8 (H, W, 3) original frame; box: (cx, cy, side) crop box of this frame; real_crop:
    uint8 (S, S, 3) crop of this frame; generated_crop: uint8/float (S, S, 3) in [0, 255]; mask,
    feather, coverage as in composite_crop. Returns a new uint8 (H, W, 3) frame that equals
    ``frame`` bit for bit wherever the warped alpha is 0. The blend happens at full resolution, so
    the untouched face keeps its original detail.
    """
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise ValueError(f"frame must be uint8 (H, W, 3), got {frame.dtype} {frame.shape}")
    alpha = composite_alpha(feather, coverage)
    matched = colour_match(generated_crop, real_crop, colour_ring(mask, alpha) & (alpha > 0))
    return paste_back(frame, matched, alpha, box)
