"""Inspection overlays drawn over a frame or crop (numpy + OpenCV only; the GUI shows the result).

Every function takes an uint8 RGB (H, W, 3) image and returns a new uint8 RGB image of the same
size; the input is never modified. Points are in the image's pixels (centres at integer + 0.5).
"""

from __future__ import annotations

import cv2
import numpy as np

LANDMARK_COLOR = (80, 255, 80)
MOUTH_COLOR = (255, 80, 200)
WIRE_COLOR = (90, 200, 255)
_SHIFT = 4  # sub-pixel bits for cv2 drawing
_ONE = 1 << _SHIFT


def _check_image(image: np.ndarray) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected an uint8 RGB (H, W, 3) image, got {getattr(image, 'shape', type(image))}")
    return np.ascontiguousarray(image).copy()


def _fixed(points: np.ndarray) -> np.ndarray:
    return np.rint((np.asarray(points, np.float64)[..., :2] - 0.5) * _ONE).astype(np.int32)


def draw_landmarks(image: np.ndarray, points: np.ndarray, color=LANDMARK_COLOR, radius: float = 1.2,
                   highlight: np.ndarray | None = None, highlight_color=MOUTH_COLOR) -> np.ndarray:
    """Dots at float (P, 2+) ``points`` (NaN rows skipped); ``highlight`` (indices) in another color."""
    out = _check_image(image)
    pts = np.asarray(points, np.float64)
    special = np.zeros(len(pts), bool)
    if highlight is not None:
        special[np.asarray(highlight, np.int64)] = True
    r = max(int(round(radius * _ONE)), 1)
    finite = np.isfinite(pts[:, :2]).all(axis=1)
    for p, hot in zip(_fixed(pts[finite]), special[finite]):
        if np.abs(p).max() < 1 << 28:
            cv2.circle(out, (int(p[0]), int(p[1])), r, highlight_color if hot else color, -1,
                       cv2.LINE_AA, _SHIFT)
    return out


def draw_wireframe(image: np.ndarray, vertices: np.ndarray, triangles: np.ndarray, color=WIRE_COLOR,
                   only_facing: bool = True, opacity: float = 1.0) -> np.ndarray:
    """Triangle edges of a mesh projected into the image, drawn at ``opacity`` over it.

    vertices: float (V, 2+) pixels (a third column, depth growing away from the camera, is used to
    hide triangles facing away when ``only_facing``); triangles: int (F, 3).
    """
    out = _check_image(image)
    v = np.asarray(vertices, np.float64)
    tri = np.asarray(triangles, np.int64)
    if only_facing:
        a, b, c = v[tri[:, 0], :2], v[tri[:, 1], :2], v[tri[:, 2], :2]
        cross = (b - a)[:, 0] * (c - a)[:, 1] - (b - a)[:, 1] * (c - a)[:, 0]
        # Outward-oriented triangles facing the camera run clockwise on screen (y down): cross < 0.
        tri = tri[cross < 0] if (cross < 0).sum() >= (cross > 0).sum() else tri[cross > 0]
    polys = _fixed(v)[tri]
    lines = out.copy() if opacity < 1.0 else out
    cv2.polylines(lines, list(polys), True, color, 1, cv2.LINE_AA, _SHIFT)
    if opacity < 1.0:
        out = cv2.addWeighted(lines, opacity, out, 1.0 - opacity, 0.0)
    return out


def tint_mask(image: np.ndarray, mask: np.ndarray, color=(255, 60, 60), strength: float = 0.45,
              outline: bool = True) -> np.ndarray:
    """Tint where ``mask`` (H, W) float in [0, 1] (or bool) is set, optionally outlining its edge."""
    out = _check_image(image)
    m = np.asarray(mask, np.float32)
    if m.shape != out.shape[:2]:
        raise ValueError(f"mask {m.shape} does not match the image {out.shape[:2]}")
    a = np.clip(m, 0.0, 1.0)[..., None] * float(strength)
    out = np.rint(out * (1 - a) + np.asarray(color, np.float32) * a).astype(np.uint8)
    if outline:
        contours, _ = cv2.findContours((m > 0.5).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(out, contours, -1, color, 1, cv2.LINE_AA)
    return out


def blend_render(image: np.ndarray, render: np.ndarray, mask: np.ndarray, opacity: float = 1.0) -> np.ndarray:
    """The synthetic render (float (H, W, 3) in [0, 1], or uint8) over the image, weighted by
    ``mask`` (H, W) in [0, 1] times ``opacity``."""
    out = _check_image(image).astype(np.float32)
    r = np.asarray(render)
    r = r.astype(np.float32) * 255.0 if r.dtype.kind == "f" else r.astype(np.float32)
    a = np.clip(np.asarray(mask, np.float32), 0, 1)[..., None] * float(opacity)
    return np.rint(out * (1 - a) + r * a).clip(0, 255).astype(np.uint8)


def fit_overview(crop: np.ndarray, render_image: np.ndarray, face_mask: np.ndarray, lower_mask: np.ndarray,
                 expanded_mask: np.ndarray, landmarks: np.ndarray | None = None) -> np.ndarray:
    """Three panels side by side: the crop with its landmarks, the render over the crop, and the
    lower (green) and expanded (red) masks tinted over the crop. Arrays as in the functions above."""
    left = crop if landmarks is None else draw_landmarks(crop, landmarks)
    middle = blend_render(crop, render_image, face_mask)
    right = tint_mask(tint_mask(crop, expanded_mask, (255, 60, 60)), lower_mask, (60, 220, 60))
    return np.concatenate([_check_image(left), middle, right], axis=1)
