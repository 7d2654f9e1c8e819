"""Which part of an output frame the sample-based lower face replaces, in its face crop.

The union of the new mouth's lower face (rasterised by the warper with the wanted expression) and
the output frame's own lower face at the neutral and at the jaw-open expression (so the frame's own
jaw and lips are covered whatever the new mouth does: no double jaw), then dilated, eroded and
blurred as the face render's masks are. The two pose-only masks are rasterised once per output
frame with the fast mesh rasteriser and kept in a bounded cache (scrubbing revisits frames).
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from gpu.mesh_raster import coverage


class LowerFaceMask:
    def __init__(self, faces, mesh, cache_bytes: int = 64 << 20) -> None:
        """faces: the project's FaceRenderer (its model, crop size and mask settings); mesh: a
        PosedMesh in the same crop pixels."""
        model = faces.model
        triangles = np.concatenate([model.triangles, model.mouth_cap]).astype(np.int64)
        lower = model.lower_vertices[triangles].any(axis=1)
        lower[len(model.triangles):] = True  # the mouth's inside
        self.triangles = np.ascontiguousarray(triangles[lower])
        self.neutral = np.zeros(model.n_exp, np.float32)
        self.jaw_open = self.neutral.copy()
        self.jaw_open[model.jaw_index] = model.jaw_open
        self.faces, self.mesh, self.size = faces, mesh, faces.size
        self.cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self.cache_frames = max(16, cache_bytes // (self.size * self.size))

    def pose_only(self, frame: int) -> np.ndarray:
        """uint8 (S, S): the frame's own lower face at the neutral and the jaw-open expression."""
        if frame in self.cache:
            self.cache.move_to_end(frame)
            return self.cache[frame]
        union = np.maximum(*(coverage(self.mesh.posed(frame, exp), self.triangles, self.size, self.size)
                             for exp in (self.neutral, self.jaw_open)))
        self.cache[frame] = union
        while len(self.cache) > self.cache_frames:
            self.cache.popitem(last=False)
        return union

    def __call__(self, frame: int, lower: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(expanded, feather) float32 (S, S) for output frame ``frame`` whose new lower face is
        ``lower`` (S, S) in {0, 1}."""
        return self.faces.expand_and_feather(np.maximum(lower, self.pose_only(frame)))
