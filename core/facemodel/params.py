"""Per-frame face parameters, stored in face_params.npz.

Camera: weak perspective (scaled orthographic) in the crop's pixel space. A model-space point v
lands at crop pixel (x, y) = scale * (R @ v)[:2] + translation[:2]; depth = scale * (R @ v)[2]
+ translation[2] grows away from the camera. Normals rotate with R.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from core.atomic import load_npz, save_npz
from core.errors import ProjectError

PARAMS_FILE = "face_params.npz"


@dataclass(frozen=True, eq=False)
class FaceParams:
    """expression float32 (N, K); has_face bool (N,) (False: interpolated, leave the frame alone);
    rotation float32 (N, 3, 3) camera-from-model; scale float32 (N,) crop pixels per model unit;
    translation float32 (N, 3) crop pixels; sh float32 (N, 27) RGB blocks of 9 SH coefficients;
    euler_deg float32 (N, 3) (yaw, pitch, roll); crop_size: S of the crops the fit was made in."""

    expression: np.ndarray
    has_face: np.ndarray
    rotation: np.ndarray
    scale: np.ndarray
    translation: np.ndarray
    sh: np.ndarray
    euler_deg: np.ndarray
    crop_size: int

    @property
    def n_frames(self) -> int:
        return int(self.has_face.shape[0])

    def project(self, vertices: np.ndarray, frames: np.ndarray | None = None) -> np.ndarray:
        """float (B, V, 3) model-space vertices of the frames ``frames`` (default: all) ->
        float32 (B, V, 3) crop pixels x, y and depth."""
        sel = slice(None) if frames is None else np.asarray(frames)
        rot, scale, trans = self.rotation[sel], self.scale[sel], self.translation[sel]
        out = scale[:, None, None] * (vertices @ np.swapaxes(rot, 1, 2)) + trans[:, None]
        return out.astype(np.float32)

    def save(self, path: Path) -> None:
        save_npz(path, **{f.name: np.asarray(getattr(self, f.name)) for f in fields(self)})

    @classmethod
    def load(cls, path: Path) -> "FaceParams":
        if not Path(path).exists():
            raise ProjectError(f"{path}: the face fit is missing. Run 'prepare' first.")
        try:
            d = load_npz(path)
            return cls(expression=d["expression"].astype(np.float32), has_face=d["has_face"].astype(bool),
                       rotation=d["rotation"].astype(np.float32), scale=d["scale"].astype(np.float32),
                       translation=d["translation"].astype(np.float32), sh=d["sh"].astype(np.float32),
                       euler_deg=d["euler_deg"].astype(np.float32), crop_size=int(d["crop_size"]))
        except (OSError, KeyError, ValueError) as exc:
            raise ProjectError(f"{path}: the face fit file is damaged ({exc}). Run 'prepare' again.") from exc


def load_face_params(project) -> FaceParams:
    """The FaceParams the fitting stage wrote into ``project``."""
    return FaceParams.load(project.path(PARAMS_FILE))
