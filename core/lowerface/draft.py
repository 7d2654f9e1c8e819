"""The instant draft as a lower-face variant: the target frame's own lower face moved by the mesh
(core.facerender.draft)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np

from core.facerender.draft import INNER_LIPS, DraftWarper, lower_face_weights, polygon_area
from core.lowerface.network import CHUNK, CropSynthesizer
from core.lowerface.patch import CropPatch


class DraftSynthesizer(CropSynthesizer):
    """Warps the target frame's own lower face through the mesh (core.facerender.draft)."""

    mode = "draft"

    def __init__(self, project, ctx) -> None:
        super().__init__(project, ctx)
        model = self.renderer.model
        neutral = self.renderer.screen_vertices([0], np.zeros((1, model.n_exp), np.float32))[0].cpu().numpy()
        fitted = self.renderer.screen_vertices(np.arange(self.renderer.n_frames))[:, INNER_LIPS, :2].cpu().numpy()
        areas = np.array([polygon_area(ring) for ring in fitted])
        faces = np.flatnonzero(self.has_face)
        widest, closest = int(faces[np.argmax(areas[faces])]), int(faces[np.argmin(areas[faces])])
        reference = lambda i: (np.asarray(self.crops[i]), self.renderer.screen_vertices([i])[0].cpu().numpy())
        self.warper = DraftWarper(model.triangles, len(model.mean_shape), self.renderer.size,
                                  lower_face_weights(neutral),
                                  closed_mouth_area=float(np.percentile(areas[faces], 5)),
                                  open_reference=reference(widest), closed_reference=reference(closest))

    def frames(self, indices: np.ndarray, expressions: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray] | None]:
        n = len(indices)
        for c0 in range(0, n, CHUNK):
            c1 = min(c0 + CHUNK, n)
            t = time.perf_counter()
            idx = indices[c0:c1]
            source = self.renderer.screen_vertices(idx).cpu().numpy()
            target = self.renderer.screen_vertices(idx, expressions[c0:c1]).cpu().numpy()
            self._tick("render", t)
            for k, frame in enumerate(idx):
                if not self.has_face[int(frame)]:
                    yield None
                    continue
                yield CropPatch(*self.warper.warp(np.asarray(self.crops[int(frame)]), source[k], target[k]))
            for key, value in self.warper.timings.items():
                self.timings[key] = value
