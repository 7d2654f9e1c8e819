"""Drawing inspection overlays on uint8 RGB crops with OpenCV: points, a triangle wireframe, tinted masks.

(Used while core.overlays, which the face-model engineer owns, is not in the repository; see
app.frames for the switch.)
"""

from __future__ import annotations

import cv2
import numpy as np


def draw_landmarks(image: np.ndarray, points: np.ndarray, color=(80, 255, 120)) -> np.ndarray:
    """Dots at points (P, 2+) in image pixels; NaN points are skipped. Returns a new image."""
    out = image.copy()
    radius = max(1, round(image.shape[0] / 256))
    for x, y in np.asarray(points)[:, :2]:
        if np.isfinite(x) and np.isfinite(y):
            cv2.circle(out, (int(round(x)), int(round(y))), radius, color, -1, cv2.LINE_AA)
    return out


def draw_wireframe(image: np.ndarray, points: np.ndarray, triangles: np.ndarray,
                   color=(255, 255, 255), opacity: float = 0.45) -> np.ndarray:
    """The edges of triangles (F, 3) over vertices (V, 2+) in image pixels, half transparent."""
    pts = np.asarray(points)[:, :2]
    tri = np.asarray(triangles, np.int64)
    edges = np.unique(np.sort(np.concatenate([tri[:, [0, 1]], tri[:, [1, 2]], tri[:, [2, 0]]]), axis=1), axis=0)
    lines = np.round(pts[edges] * 16).astype(np.int32)  # 4 fractional bits for sub-pixel lines
    layer = image.copy()
    cv2.polylines(layer, list(lines), False, color, 1, cv2.LINE_AA, shift=4)
    return cv2.addWeighted(layer, opacity, image, 1 - opacity, 0)


def tint_mask(image: np.ndarray, mask: np.ndarray, color=(0, 160, 255), opacity: float = 0.4) -> np.ndarray:
    """Colour the pixels where mask (H, W) > 0.5, with the mask's outline drawn solid."""
    inside = np.asarray(mask) > 0.5
    out = image.copy()
    out[inside] = (out[inside] * (1 - opacity) + np.array(color) * opacity).astype(np.uint8)
    contours, _ = cv2.findContours(inside.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(out, contours, -1, color, 1, cv2.LINE_AA)
    return out


def blend_render(image: np.ndarray, render: np.ndarray, mask: np.ndarray, opacity: float = 1.0) -> np.ndarray:
    """The synthetic render (H, W, 3) uint8 over the image where mask (H, W) > 0.5."""
    inside = np.asarray(mask) > 0.5
    out = image.copy()
    out[inside] = (render[inside] * opacity + out[inside] * (1 - opacity)).astype(np.uint8)
    return out
