"""Image and motion figures used by evaluate: the paper's SSIM and mean absolute error, PSNR,
masked SSIM/PSNR, and mouth-opening correlation."""

from __future__ import annotations

import numpy as np
from skimage.metrics import structural_similarity


def mean_abs_error(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute pixel error in [0, 255] between uint8 images of one shape."""
    return float(np.mean(np.abs(a.astype(np.float32) - b.astype(np.float32))))


def ssim(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> float:
    """SSIM of uint8 RGB images (per channel, averaged); inside ``mask`` (bool HxW) when given."""
    value, full = structural_similarity(a, b, channel_axis=2, data_range=255, full=True)
    if mask is None:
        return float(value)
    m = mask.astype(bool)
    return float(full[m].mean()) if m.any() else float("nan")


def psnr(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> float:
    diff = (a.astype(np.float64) - b.astype(np.float64)) ** 2
    if mask is not None:
        diff = diff[mask.astype(bool)]
    mse = float(diff.mean()) if diff.size else float("nan")
    return float("inf") if mse == 0 else 10.0 * np.log10(255.0 ** 2 / mse)


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation over the finite pairs; NaN when either side does not vary."""
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3 or np.std(a[ok]) < 1e-9 or np.std(b[ok]) < 1e-9:
        return float("nan")
    return float(np.corrcoef(a[ok], b[ok])[0, 1])
