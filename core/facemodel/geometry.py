"""Small geometry helpers shared by model building and fitting (numpy, float64 inside)."""

from __future__ import annotations

import numpy as np


def similarity_align(src: np.ndarray, dst: np.ndarray, weights: np.ndarray | None = None
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Least-squares similarity (Umeyama 1991) with dst ~ s * R @ src + t, batched.

    src: (L, 3) or (B, L, 3); dst: (B, L, 3); weights: (L,) >= 0 or None.
    Returns R float64 (B, 3, 3) proper rotations, s (B,), t (B, 3).
    """
    dst = np.asarray(dst, np.float64)
    src = np.broadcast_to(np.asarray(src, np.float64), dst.shape)
    if dst.ndim != 3 or dst.shape[-1] != 3:
        raise ValueError(f"dst must be (B, L, 3), not {dst.shape}")
    w = np.ones(dst.shape[1]) if weights is None else np.asarray(weights, np.float64)
    w = w / w.sum()
    mu_s = np.swapaxes(src, 1, 2) @ w
    mu_d = np.swapaxes(dst, 1, 2) @ w
    xs, xd = src - mu_s[:, None], dst - mu_d[:, None]
    cov = np.swapaxes(xd * w[:, None], 1, 2) @ xs
    u, sig, vt = np.linalg.svd(cov)
    d = np.ones((dst.shape[0], 3))
    d[:, 2] = np.sign(np.linalg.det(u) * np.linalg.det(vt))
    rot = u @ (d[:, :, None] * vt)
    var_s = (xs ** 2).sum(-1) @ w
    scale = (sig * d).sum(-1) / np.maximum(var_s, 1e-12)
    trans = mu_d - scale[:, None] * (rot @ mu_s[:, :, None])[:, :, 0]
    return rot, scale, trans


def nearest_rotation(m: np.ndarray) -> np.ndarray:
    """(..., 3, 3) -> the nearest proper rotation of each matrix (SVD projection)."""
    u, _, vt = np.linalg.svd(m)
    d = np.sign(np.linalg.det(u @ vt))
    u = u.copy()
    u[..., :, 2] *= d[..., None]
    return u @ vt


def rotation_to_euler_deg(rot: np.ndarray) -> np.ndarray:
    """(N, 3, 3) camera-from-model rotations -> float64 (N, 3) (yaw, pitch, roll) in degrees.

    Axes are the model space's (x right, y down, z away): yaw turns about y, pitch about x, roll
    about z; R = Rz(roll) @ Ry(yaw) @ Rx(pitch).
    """
    r = np.asarray(rot, np.float64)
    yaw = np.arcsin(np.clip(-r[:, 2, 0], -1.0, 1.0))
    pitch = np.arctan2(r[:, 2, 1], r[:, 2, 2])
    roll = np.arctan2(r[:, 1, 0], r[:, 0, 0])
    return np.degrees(np.stack([yaw, pitch, roll], axis=1))


def vertex_normals_np(vertices: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """float32 (B, V, 3) unit area-weighted vertex normals of (B, V, 3) vertices."""
    v = np.asarray(vertices, np.float32)
    a, b, c = v[:, triangles[:, 0]], v[:, triangles[:, 1]], v[:, triangles[:, 2]]
    face_n = np.cross(b - a, c - a)
    normals = np.zeros_like(v)
    for k in range(3):
        np.add.at(normals, (slice(None), triangles[:, k]), face_n)
    return normals / np.maximum(np.linalg.norm(normals, axis=-1, keepdims=True), 1e-12)


def sample_colours(image: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Bilinear colours of uint8 (S, S, 3) ``image`` at float (P, 2) pixel positions (pixel
    centres at integer + 0.5) -> float32 (P, 3) in [0, 1]; positions are clamped to the image."""
    img = np.asarray(image, np.float32) / 255.0
    h, w = img.shape[:2]
    x = np.clip(xy[:, 0] - 0.5, 0, w - 1.001)
    y = np.clip(xy[:, 1] - 0.5, 0, h - 1.001)
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    fx, fy = (x - x0)[:, None], (y - y0)[:, None]
    return (img[y0, x0] * (1 - fx) * (1 - fy) + img[y0, x0 + 1] * fx * (1 - fy)
            + img[y0 + 1, x0] * (1 - fx) * fy + img[y0 + 1, x0 + 1] * fx * fy)
