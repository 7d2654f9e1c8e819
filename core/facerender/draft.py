"""The instant draft renderer: moves the target frame's own lower face with the fitted mesh.

For an output frame showing target frame i with predicted expression e, the mesh is posed twice in
the crop: with i's fitted expression (where the pixels are) and with e (where they should go). Every
pixel of the posed-with-e mesh samples the target crop at the matching point of the fitted mesh (a
piecewise-affine warp through the triangles). Two additions to the face mesh keep it seamless:
a fan of triangles closing the mouth hole (so the mouth interior moves with the lips and is darkened
where the mouth opens wider than in the source frame), and a skirt of triangles around the face
outline whose outer ring does not move (so the warp fades to the identity: no seam, no double jaw).
Only the lower face moves: vertex displacements are weighted from 1 below the nose to 0 above it.
"""

from __future__ import annotations

import logging
import time

import cv2
import numpy as np
import torch

from core import landmarks
from core.facerender.render import single_thread
from core.landmarks import the_other_way
from gpu.rasterize import interpolate, rasterize

log = logging.getLogger(__name__)

# mediapipe face mesh rings (ordered)
INNER_LIPS = np.array(the_other_way(landmarks.INNER_LIPS))  # over the lower lip first, as the fan is built
FACE_OVAL = np.array([10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378,
                      400, 377, 152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21,
                      54, 103, 67, 109])
NOSE_TIP, CHIN = 1, 152
SKIRT_SCALE = 0.45  # the fixed outer ring lies this far outside the oval, relative to centre distance
MOUTH_DARK = np.array([42.0, 18.0, 20.0], np.float32)  # the shade of an open mouth's inside (RGB)


def draft_mesh(triangles: np.ndarray, n_vertices: int) -> tuple[np.ndarray, int, int]:
    """Face triangles plus the mouth fan and the skirt band.

    Returns (faces (F', 3) int64, index of the mouth-centre vertex, index of the first skirt vertex);
    vertices are the face's V, then 1 mouth centre, then len(FACE_OVAL) skirt vertices.
    """
    centre = n_vertices
    skirt = n_vertices + 1
    fan = [(INNER_LIPS[k], INNER_LIPS[(k + 1) % len(INNER_LIPS)], centre) for k in range(len(INNER_LIPS))]
    band = []
    m = len(FACE_OVAL)
    for k in range(m):
        a, b = FACE_OVAL[k], FACE_OVAL[(k + 1) % m]
        ra, rb = skirt + k, skirt + (k + 1) % m
        band += [(a, b, rb), (a, rb, ra)]
    faces = np.concatenate([np.asarray(triangles, np.int64), np.array(fan, np.int64), np.array(band, np.int64)])
    return faces, centre, skirt


def extend_vertices(verts: np.ndarray, anchor: np.ndarray) -> np.ndarray:
    """(V,2+) posed vertices -> (V+1+len(FACE_OVAL), 3): add the mouth centre and the skirt ring.

    The skirt comes from ``anchor`` (the source pose), so it is identical for source and target.
    """
    mouth = verts[INNER_LIPS].mean(axis=0, keepdims=True)
    centre = anchor[FACE_OVAL].mean(axis=0)
    ring = anchor[FACE_OVAL] + (anchor[FACE_OVAL] - centre) * SKIRT_SCALE
    return np.concatenate([verts, mouth, ring], axis=0)


def lower_face_weights(neutral: np.ndarray) -> np.ndarray:
    """float32 (V,) in [0, 1]: 1 at and below the mouth, 0 above the nose tip, smooth in between.

    neutral: (V, 2+) upright vertices (y down), e.g. the mean shape in crop pixels.
    """
    y = neutral[:, 1]
    top, full = y[NOSE_TIP], y[INNER_LIPS].min()
    t = np.clip((y - top) / max(full - top, 1e-6), 0.0, 1.0)
    return (t * t * (3 - 2 * t)).astype(np.float32)


def polygon_area(points: np.ndarray) -> float:
    x, y = points[:, 0], points[:, 1]
    return 0.5 * float(abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))))


class DraftWarper:
    """Warps crops by mesh displacement (one frame at a time; CPU is fine: a few ms per frame)."""

    def __init__(self, triangles: np.ndarray, n_vertices: int, size: int, weights: np.ndarray,
                 closed_mouth_area: float = 0.0,
                 open_reference: tuple[np.ndarray, np.ndarray] | None = None,
                 closed_reference: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        """closed_mouth_area: inner-lip polygon area (crop px^2) of a closed mouth in this mesh (the
        mesh's lips have thickness, so a closed mouth still encloses some area). open_reference /
        closed_reference: (crop uint8 (S,S,3), posed vertices (V,3)) of the clip's widest-open and
        most-closed frames, whose mouth insides fill mouths that open or close more than in the source
        frame; without them, newly opened mouths are shaded dark."""
        self.faces_np, self.mouth_centre, self.skirt = draft_mesh(triangles, n_vertices)
        self.faces = torch.from_numpy(self.faces_np)
        self.size = size
        self.weights = weights
        self.closed_mouth_area = closed_mouth_area
        self.open_reference, self.closed_reference = open_reference, closed_reference
        self.fan_start = len(triangles)
        grid = np.mgrid[0:size, 0:size].astype(np.float32)
        self.identity_x, self.identity_y = grid[1], grid[0]
        self.timings: dict[str, float] = {}

    def _sample_reference(self, reference: tuple[np.ndarray, np.ndarray], raster) -> np.ndarray:
        ref_crop, ref_vertices = reference
        ref = extend_vertices(ref_vertices, ref_vertices)
        ref_xy = torch.from_numpy(np.ascontiguousarray(ref[:, :2], dtype=np.float32))[None]
        sample = interpolate(ref_xy, raster, self.faces)[0].numpy()
        return cv2.remap(ref_crop, sample[..., 0] - 0.5, sample[..., 1] - 0.5, cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REPLICATE).astype(np.float32)

    def warp(self, crop: np.ndarray, source: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """crop uint8 (S,S,3); source/target posed vertices (V, 3) in crop pixels (x, y, depth).

        Returns (warped uint8 (S,S,3), alpha float32 (S,S) in [0,1]).
        """
        with torch.no_grad(), single_thread():
            return self._warp(crop, source, target)

    def _warp(self, crop: np.ndarray, source: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        t0 = time.perf_counter()
        moved = source + (target - source) * self.weights[:, None]
        src = extend_vertices(source, source)
        dst = extend_vertices(moved, source)
        dst_t = torch.from_numpy(np.ascontiguousarray(dst, dtype=np.float32))[None]
        dst_t[..., 2] = 1.0  # orthographic draft: depth order from the face is not needed
        raster = rasterize(dst_t, self.faces, self.size, self.size, perspective=False)
        src_xy = torch.from_numpy(np.ascontiguousarray(src[:, :2], dtype=np.float32))[None]
        sample = interpolate(src_xy, raster, self.faces)[0].numpy()
        covered = (raster.tri_id[0] >= 0).numpy()
        self.timings["draft_raster"] = self.timings.get("draft_raster", 0.0) + time.perf_counter() - t0
        t0 = time.perf_counter()
        map_x = np.where(covered, sample[..., 0] - 0.5, self.identity_x)
        map_y = np.where(covered, sample[..., 1] - 0.5, self.identity_y)
        warped = cv2.remap(crop, map_x.astype(np.float32), map_y.astype(np.float32), cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
        # The inside of the mouth comes from the source frame while the mouth opens about as wide;
        # where it opens wider it comes from the clip's widest-open frame (the person's own teeth),
        # where it closes more from the most-closed frame (lips meeting), mapped through the fan.
        open_src = max(polygon_area(src[INNER_LIPS, :2]) - self.closed_mouth_area, 0.0)
        open_dst = max(polygon_area(dst[INNER_LIPS, :2]) - self.closed_mouth_area, 0.0)
        reference, amount = None, 0.0
        if open_dst > open_src and open_dst > 1.0:
            reference, amount = self.open_reference, 1.0 - open_src / open_dst
        elif open_src > open_dst and open_src > 1.0:
            reference, amount = self.closed_reference, 1.0 - open_dst / open_src
        if amount > 0.02:
            tri = raster.tri_id[0].numpy()
            in_mouth = ((tri >= self.fan_start) & (tri < self.fan_start + len(INNER_LIPS))).astype(np.float32)
            weight = cv2.GaussianBlur(in_mouth, (0, 0), max(self.size / 256, 0.6)) * amount
            if reference is not None:
                inside = self._sample_reference(reference, raster)
            else:
                inside = np.minimum(warped, MOUTH_DARK + 0.35 * warped) if open_dst > open_src else warped
            warped = warped * (1 - weight[..., None]) + inside * weight[..., None]
        # Blend only where pixels move: elsewhere the resampled crop would just soften the frame.
        shift = np.hypot(map_x - self.identity_x, map_y - self.identity_y)
        moving = ((shift > 0.1) & covered).astype(np.uint8)
        radius = max(self.size // 64, 2)
        moving = cv2.dilate(moving, np.ones((2 * radius + 1, 2 * radius + 1), np.uint8))
        alpha = cv2.GaussianBlur(moving.astype(np.float32), (0, 0), radius)
        self.timings["draft_warp"] = self.timings.get("draft_warp", 0.0) + time.perf_counter() - t0
        return np.clip(warped, 0, 255).astype(np.uint8), alpha.astype(np.float32)
