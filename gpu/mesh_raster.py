"""One small 2-D triangle mesh rasterised on the CPU, fast: which triangle covers each pixel, and where.

For the per-frame warps of the sample-based lower face (a couple of thousand triangles in a crop of
a few hundred pixels, one frame at a time), the batched torch rasteriser of ``gpu.rasterize`` spends
its time in op overhead (about 6 ms a frame here); this loop, compiled by numba (already a
dependency through librosa), takes a fraction of a millisecond. Orthographic, no depth: where
triangles overlap, the lower triangle index wins, as ``gpu.rasterize`` decides equal depths. Pixel
centres at integer + 0.5, x right, y down; a centre on a shared edge goes to the lower index, so a
closed surface has no holes.

numba compiles the loop on first use (a few seconds) and caches it beside this file, or in the
user's cache folder where this folder is read-only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np


@dataclass(frozen=True)
class MeshRaster:
    """ids: int32 (H, W), the triangle (row of ``faces``) at each pixel, -1 where none;
    bary: float32 (H, W, 3), its barycentric weights of faces[id, 0..2] (0 where none)."""

    ids: np.ndarray
    bary: np.ndarray

    @property
    def covered(self) -> np.ndarray:
        return self.ids >= 0

    def interpolate(self, values: np.ndarray, faces: np.ndarray) -> np.ndarray:
        """float32 (H, W, C): the per-vertex ``values`` (V, C) blended over each covered pixel's
        triangle; 0 where no triangle."""
        values = np.ascontiguousarray(values, np.float32)
        out = np.zeros(self.ids.shape + values.shape[1:], np.float32)
        _blend(self.ids, self.bary, np.ascontiguousarray(faces, np.int64), values, out)
        return out


def rasterize_mesh(xy: np.ndarray, faces: np.ndarray, height: int, width: int) -> MeshRaster:
    """xy: (V, 2+) vertex positions in pixels (only x, y are read); faces: (F, 3) vertex indices."""
    ids = np.full((height, width), -1, np.int32)
    bary = np.zeros((height, width, 3), np.float32)
    _fill(np.ascontiguousarray(np.asarray(xy)[:, :2], np.float64), np.ascontiguousarray(faces, np.int64), ids, bary)
    return MeshRaster(ids, bary)


def coverage(xy: np.ndarray, faces: np.ndarray, height: int, width: int) -> np.ndarray:
    """uint8 (H, W): 1 where any of ``faces`` covers the pixel centre."""
    return (rasterize_mesh(xy, faces, height, width).ids >= 0).astype(np.uint8)


@numba.njit(cache=True, nogil=True)
def _fill(xy, faces, ids, bary):  # pragma: no cover - compiled
    height, width = ids.shape
    for f in range(faces.shape[0]):
        a, b, c = faces[f, 0], faces[f, 1], faces[f, 2]
        ax, ay, bx, by, cx, cy = xy[a, 0], xy[a, 1], xy[b, 0], xy[b, 1], xy[c, 0], xy[c, 1]
        if not (np.isfinite(ax) and np.isfinite(ay) and np.isfinite(bx) and np.isfinite(by)
                and np.isfinite(cx) and np.isfinite(cy)):
            continue
        area = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)
        if area == 0.0:
            continue
        x0 = max(int(np.floor(min(ax, bx, cx) - 0.5)), 0)
        x1 = min(int(np.ceil(max(ax, bx, cx) - 0.5)), width - 1)
        y0 = max(int(np.floor(min(ay, by, cy) - 0.5)), 0)
        y1 = min(int(np.ceil(max(ay, by, cy) - 0.5)), height - 1)
        inv = 1.0 / area
        for y in range(y0, y1 + 1):
            py = y + 0.5
            for x in range(x0, x1 + 1):
                if ids[y, x] >= 0:
                    continue
                px = x + 0.5
                w0 = ((bx - px) * (cy - py) - (by - py) * (cx - px)) * inv
                w1 = ((cx - px) * (ay - py) - (cy - py) * (ax - px)) * inv
                w2 = 1.0 - w0 - w1
                if w0 >= 0.0 and w1 >= 0.0 and w2 >= 0.0:
                    ids[y, x] = f
                    bary[y, x, 0] = w0
                    bary[y, x, 1] = w1
                    bary[y, x, 2] = w2


@numba.njit(cache=True, nogil=True)
def _blend(ids, bary, faces, values, out):  # pragma: no cover - compiled
    height, width = ids.shape
    for y in range(height):
        for x in range(width):
            f = ids[y, x]
            if f < 0:
                continue
            for k in range(3):
                w = bary[y, x, k]
                v = faces[f, k]
                for c in range(values.shape[1]):
                    out[y, x, c] += w * values[v, c]
