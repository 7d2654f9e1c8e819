"""Image and motion figures used by evaluate: the paper's SSIM and mean absolute error, PSNR,
masked SSIM/PSNR, and mouth-opening correlation."""

from __future__ import annotations

import cv2
import numpy as np
from skimage.metrics import structural_similarity

from core.landmarks import OUTER_LIPS


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


def mouth_box(landmarks: np.ndarray, frame_shape: tuple[int, ...], pad: float = 0.25) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1) full-frame pixel box around the outer lips of mediapipe ``landmarks``
    (P, 2+), widened by ``pad`` of its width on every side and clipped to the frame; None if the
    landmarks are missing or the box is empty."""
    pts = np.asarray(landmarks)[list(OUTER_LIPS), :2]
    if not np.all(np.isfinite(pts)):
        return None
    (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
    margin = pad * (x1 - x0)
    h, w = frame_shape[:2]
    box = (max(int(np.floor(x0 - margin)), 0), max(int(np.floor(y0 - margin)), 0),
           min(int(np.ceil(x1 + margin)), w), min(int(np.ceil(y1 + margin)), h))
    return box if box[2] - box[0] >= 4 and box[3] - box[1] >= 4 else None


def laplacian_variance(image: np.ndarray) -> float:
    """Sharpness: variance of the Laplacian of the grey image (uint8 RGB (H, W, 3) or grey)."""
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
    return float(cv2.Laplacian(grey.astype(np.float32), cv2.CV_32F, ksize=1).var())


class MouthSharpness:
    """Mean Laplacian variance of the mouth box of generated frames over that of the real frames,
    on the same frames and the same box (the real frame's tracked lips), at full resolution."""

    def __init__(self) -> None:
        self.generated: list[float] = []
        self.real: list[float] = []

    def add(self, generated: np.ndarray, real: np.ndarray, landmarks: np.ndarray) -> None:
        box = mouth_box(landmarks, real.shape)
        if box is None:
            return
        x0, y0, x1, y1 = box
        self.generated.append(laplacian_variance(generated[y0:y1, x0:x1]))
        self.real.append(laplacian_variance(real[y0:y1, x0:x1]))

    def figures(self) -> dict[str, float]:
        """mouth_sharpness (the ratio; 1 = as sharp as the real video), and both means."""
        if not self.real:
            return {}
        gen, real = float(np.mean(self.generated)), float(np.mean(self.real))
        return {"mouth_sharpness": gen / max(real, 1e-9), "mouth_sharpness_generated": gen,
                "mouth_sharpness_real": real}
