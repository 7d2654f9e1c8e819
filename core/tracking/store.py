"""The tracking result as stored in the project folder."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from core.atomic import load_npz, save_npz
from core.errors import ProjectError
from core.landmarks import mouth_opening
from core.tracking.crop import to_crop_coords

TRACKING_FILE = "tracking.npz"
CROPS_FILE = "crops.npy"



@dataclass
class Tracking:
    """Per-frame tracking of one face.

    landmarks: float32 (N, P, 3) full-frame pixels, NaN where no face (P = 478 for mediapipe).
    has_face: bool (N,). boxes: float32 (N, 3) (cx, cy, side) for every frame.
    landmarks68: float32 (N, 68, 3) from the face-alignment backend, or None.
    """

    landmarks: np.ndarray
    has_face: np.ndarray
    boxes: np.ndarray
    fps: float
    frame_size: tuple[int, int]
    crop_size: int
    landmarks68: np.ndarray | None = None

    @property
    def n_frames(self) -> int:
        return int(self.has_face.shape[0])

    @cached_property
    def landmarks_crop(self) -> np.ndarray:
        """float32 (N, P, 3): the landmarks in each frame's crop pixels (NaN where no face)."""
        out = np.full_like(self.landmarks, np.nan)
        for i in np.flatnonzero(self.has_face):
            out[i] = to_crop_coords(self.landmarks[i], self.boxes[i], self.crop_size)
        return out

    def mouth_opening(self) -> np.ndarray:
        """float32 (N,): inner-lip gap over face height (about 0 closed, 0.1+ wide open); NaN if no face."""
        return mouth_opening(self.landmarks).astype(np.float32)

    def save(self, path) -> None:
        arrays = dict(landmarks=self.landmarks.astype(np.float32), has_face=self.has_face.astype(bool),
                      boxes=self.boxes.astype(np.float32), fps=np.float64(self.fps),
                      frame_size=np.asarray(self.frame_size, np.int32), crop_size=np.int32(self.crop_size))
        if self.landmarks68 is not None:
            arrays["landmarks68"] = self.landmarks68.astype(np.float32)
        save_npz(path, **arrays)


def load_tracking(project) -> Tracking:
    path = project.path(TRACKING_FILE)
    if not path.exists():
        raise ProjectError(f"{project.root}: the face has not been tracked yet. Run 'prepare' first.")
    try:
        data = load_npz(path)
        return Tracking(
            landmarks=data["landmarks"], has_face=data["has_face"].astype(bool), boxes=data["boxes"],
            fps=float(data["fps"]), frame_size=tuple(int(v) for v in data["frame_size"]),
            crop_size=int(data["crop_size"]), landmarks68=data.get("landmarks68"),
        )
    except (OSError, KeyError, ValueError) as exc:
        raise ProjectError(f"{path}: the tracking file is damaged ({exc}). Run 'prepare' again.") from exc


def load_crops(project) -> np.ndarray:
    """uint8 (N, S, S, 3) read-only memmap of the stabilised crops."""
    path = project.path(CROPS_FILE)
    if not path.exists():
        raise ProjectError(f"{project.root}: the face crops are missing. Run 'prepare' first.")
    try:
        return np.load(path, mmap_mode="r")
    except (OSError, ValueError) as exc:
        raise ProjectError(f"{path}: the crops file is damaged ({exc}). Run 'prepare' again.") from exc
