"""A stand-in with the core.facerender.render.FaceRenderer interface, drawn from the tracked mediapipe mesh.

It is structured like the real renders (a lower face whose lips and mouth opening follow the real
frame, a dilated expanded mask reaching below the chin), so a renderer can learn from it.
"""

from __future__ import annotations

from types import SimpleNamespace

import cv2
import numpy as np
import torch

from core.tracking import load_tracking

OUTER_LIPS = [61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185]
INNER_LIPS = [78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82, 81, 80, 191]
NOSE_TIP = 1


class LandmarkFaceRenderer:
    """render(frames, expression=None) -> namespace of float32 tensors like core.facerender.render.RenderOutput."""

    def __init__(self, project, size: int | None = None) -> None:
        self.tracking = load_tracking(project)
        self.size = size or self.tracking.crop_size
        self.n_frames = self.tracking.n_frames
        self.n_exp = 0
        self.calls = 0

    def _draw(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        s = self.size
        img = np.zeros((s, s, 3), np.uint8)
        expanded = np.zeros((s, s), np.uint8)
        if not self.tracking.has_face[i]:
            return img, expanded
        pts = self.tracking.landmarks_crop[i][:, :2] * (s / self.tracking.crop_size)
        lower = pts[pts[:, 1] > pts[NOSE_TIP, 1] - 0.02 * s]
        hull = cv2.convexHull(lower.astype(np.float32)).astype(np.int32)
        cv2.fillConvexPoly(img, hull, (190, 150, 130), lineType=cv2.LINE_AA)
        cv2.fillPoly(img, [pts[OUTER_LIPS].round().astype(np.int32)], (175, 85, 85), lineType=cv2.LINE_AA)
        cv2.fillPoly(img, [pts[INNER_LIPS].round().astype(np.int32)], (35, 10, 10), lineType=cv2.LINE_AA)
        cv2.fillConvexPoly(expanded, hull, 1)
        jaw = hull.copy()
        jaw[:, 0, 1] += int(0.08 * s)  # the jaw-open render reaches lower
        cv2.fillConvexPoly(expanded, jaw, 1)
        expanded = cv2.dilate(expanded, np.ones((3, 3), np.uint8), iterations=4)
        return img, expanded

    def render(self, frames, expression=None) -> SimpleNamespace:
        self.calls += 1
        frames = np.asarray(frames, dtype=np.int64).reshape(-1)
        imgs, masks = zip(*(self._draw(int(i)) for i in frames))
        image = torch.from_numpy(np.stack(imgs)).permute(0, 3, 1, 2).float() / 255
        expanded = torch.from_numpy(np.stack(masks)).float()[:, None]
        feather = np.stack([cv2.GaussianBlur(cv2.erode(m, np.ones((3, 3), np.uint8), iterations=9)
                                             .astype(np.float32), (5, 5), 0) for m in masks])
        face = (image.sum(1, keepdim=True) > 0).float()
        return SimpleNamespace(image=image * face, face_mask=face, lower_mask=face,
                               expanded_mask=expanded, feather=torch.from_numpy(feather)[:, None])
