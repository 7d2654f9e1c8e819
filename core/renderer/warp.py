"""Reference frames moved onto the target frame's face through the fitted mesh (``warp_refs``).

A reference crop is resampled so that its face takes the target's fitted geometry (pose and
expression): its real lips, teeth and skin land about where the target's are, so the generator
gets sharp, roughly aligned pixels to copy instead of having to paint them (DINet learns such a
deformation; here the 3D fit gives it for free). Uses the draft's mesh warper with every vertex
moving fully.
"""

from __future__ import annotations

import numpy as np

from core.facerender.draft import DraftWarper


def fitted_vertices(face_renderer, frames=None, chunk: int = 256) -> np.ndarray:
    """float32 (N, V, 3): the fitted geometry of ``frames`` (default all) in crop pixels, from a
    core.facerender.render.FaceRenderer (about 17 kB a frame)."""
    frames = np.arange(face_renderer.n_frames) if frames is None else np.asarray(frames, np.int64)
    return np.concatenate([face_renderer.screen_vertices(frames[s:s + chunk]).cpu().numpy()
                           for s in range(0, len(frames), chunk)]).astype(np.float32)


class ReferenceWarper:
    """The mesh warp of a face model (``model.triangles``, ``model.mean_shape``) in S px crops."""

    def __init__(self, model, size: int) -> None:
        n = len(model.mean_shape)
        self.warper = DraftWarper(model.triangles, n, int(size), np.ones(n, np.float32))

    def warp(self, ref_crop: np.ndarray, ref_vertices: np.ndarray, target_vertices: np.ndarray) -> np.ndarray:
        """uint8 (S, S, 3): ``ref_crop`` with its face (``ref_vertices`` (V, 3) crop pixels) moved
        onto ``target_vertices`` (V, 3)."""
        warped, _ = self.warper.warp(np.asarray(ref_crop), ref_vertices, target_vertices)
        return warped
