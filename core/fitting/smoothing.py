"""Temporal smoothness as an exact quadratic problem: for each series x_hat (N,) with data weight w,
minimise w * |x - x_hat|^2 + strength * sum_t (x_t - x_{t-1})^2, a tridiagonal solve per column."""

from __future__ import annotations

import numpy as np
from scipy.linalg import solve_banded

from core.facemodel.geometry import nearest_rotation


def smooth_series(x: np.ndarray, strength: float | np.ndarray, weight: float | np.ndarray = 1.0) -> np.ndarray:
    """x: float (N, D). strength: scalar or (D,) >= 0; weight: scalar or (D,) > 0 data weights.
    Returns float64 (N, D). strength 0 returns x unchanged."""
    x = np.asarray(x, np.float64)
    n, d = x.shape
    lam = np.broadcast_to(np.asarray(strength, np.float64), (d,))
    w = np.broadcast_to(np.asarray(weight, np.float64), (d,))
    if n < 2:
        return x.copy()
    out = np.empty_like(x)
    degree = np.full(n, 2.0)
    degree[[0, -1]] = 1.0
    for j in range(d):
        if lam[j] <= 0:
            out[:, j] = x[:, j]
            continue
        ab = np.zeros((3, n))
        ab[0, 1:] = -lam[j]
        ab[1] = w[j] + lam[j] * degree
        ab[2, :-1] = -lam[j]
        out[:, j] = solve_banded((1, 1), ab, w[j] * x[:, j])
    return out


def fill_gaps(x: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """x: (N, ...) with meaningful rows where ``valid``; other rows become the linear interpolation
    of their neighbours (held at the ends). Needs at least one valid row."""
    x = np.asarray(x, np.float64)
    if valid.all():
        return x.copy()
    flat = x.reshape(len(x), -1)
    t, good = np.arange(len(x)), np.flatnonzero(valid)
    out = np.stack([np.interp(t, good, flat[good, j]) for j in range(flat.shape[1])], axis=1)
    return out.reshape(x.shape)


def smooth_rotations(rot: np.ndarray, strength: float) -> np.ndarray:
    """(N, 3, 3) rotations -> smoothed (N, 3, 3) (smoothing the matrix entries, then projecting
    each back onto SO(3): accurate for the small frame-to-frame turns of a head)."""
    if strength <= 0:
        return np.asarray(rot, np.float64).copy()
    flat = smooth_series(np.asarray(rot, np.float64).reshape(len(rot), 9), strength)
    return nearest_rotation(flat.reshape(-1, 3, 3))
