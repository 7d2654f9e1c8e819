"""The face model interface every implementation produces, and its file face_model.npz.

Model space (all implementations): x right, y down, z away from the camera, centred on the face,
scaled so the mean shape's vertices lie in about [-1, 1]. Identity is baked into ``mean_shape``
(the person-specific model's mean, or BFM's mean + identity basis @ alpha), reflectance into
``albedo``; what varies per frame is the expression, the pose and the lighting.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

from core.atomic import load_npz, save_npz
from core.errors import ProjectError

MODEL_FILE = "face_model.npz"


@dataclass(frozen=True, eq=False)
class FaceModel:
    """A linear face model with identity and albedo fixed.

    kind: "mediapipe" (person-specific, built from the video) or "bfm" (Basel Face Model 2009).
    mean_shape: float32 (V, 3). exp_basis: float32 (K, V, 3), geometry = mean + sum_k e_k basis_k.
    exp_std: float32 (K,) typical size of each coefficient (the prior's standard deviation).
    albedo: float32 (V, 3) RGB reflectance in [0, 1]. triangles: int64 (F, 3), outward-oriented.
    landmark_ids: int64 (L,) indices into the tracked landmarks (the 478 mediapipe points);
    landmark_vertices: int64 (L,) the model vertex of each. landmark_weights: float32 (L,).
    lower_vertices: bool (V,) vertices of the lower face (below the nose tip).
    jaw_index / jaw_open: the expression component that opens the jaw and its "fully open" value,
    sign included (positive for the built-in model; the paper's BFM basis opens with -8).
    mouth_cap: int64 (C, 3) triangles closing the mouth opening, drawn only into the masks (the
    region to re-synthesise includes the inside of the mouth); (0, 3) for models without a hole.
    """

    kind: str
    mean_shape: np.ndarray
    exp_basis: np.ndarray
    exp_std: np.ndarray
    albedo: np.ndarray
    triangles: np.ndarray
    landmark_ids: np.ndarray
    landmark_vertices: np.ndarray
    landmark_weights: np.ndarray
    lower_vertices: np.ndarray
    jaw_index: int
    jaw_open: float
    mouth_cap: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), np.int64))

    @property
    def n_vertices(self) -> int:
        return int(self.mean_shape.shape[0])

    @property
    def n_exp(self) -> int:
        return int(self.exp_basis.shape[0])

    def shape(self, expression: np.ndarray) -> np.ndarray:
        """float32 (B, V, 3) geometry for expression coefficients (B, K)."""
        e = np.asarray(expression, np.float32).reshape(-1, self.n_exp)
        return self.mean_shape[None] + (e @ self.exp_basis.reshape(self.n_exp, -1)).reshape(len(e), -1, 3)

    def save(self, path: Path) -> None:
        arrays = {f.name: np.asarray(getattr(self, f.name)) for f in fields(self)}
        save_npz(path, **arrays)

    @classmethod
    def load(cls, path: Path) -> "FaceModel":
        if not Path(path).exists():
            raise ProjectError(f"{path}: the face model is missing. Run 'prepare' first.")
        try:
            data = load_npz(path)
            return cls(
                kind=str(data["kind"]), mean_shape=data["mean_shape"].astype(np.float32),
                exp_basis=data["exp_basis"].astype(np.float32), exp_std=data["exp_std"].astype(np.float32),
                albedo=data["albedo"].astype(np.float32), triangles=data["triangles"].astype(np.int64),
                landmark_ids=data["landmark_ids"].astype(np.int64),
                landmark_vertices=data["landmark_vertices"].astype(np.int64),
                landmark_weights=data["landmark_weights"].astype(np.float32),
                lower_vertices=data["lower_vertices"].astype(bool), jaw_index=int(data["jaw_index"]),
                jaw_open=float(data["jaw_open"]),
                mouth_cap=data.get("mouth_cap", np.zeros((0, 3))).astype(np.int64),
            )
        except (OSError, KeyError, ValueError) as exc:
            raise ProjectError(f"{path}: the face model file is damaged ({exc}). Run 'prepare' again.") from exc


def lower_face(mean_shape: np.ndarray, nose_tip: int | np.ndarray) -> np.ndarray:
    """bool (V,): vertices below the nose tip (y down), the paper's lower-face region."""
    y_tip = float(np.mean(np.asarray(mean_shape)[np.atleast_1d(nose_tip), 1]))
    return np.asarray(mean_shape)[:, 1] > y_tip


def load_face_model(project) -> FaceModel:
    """The FaceModel the fitting stage wrote into ``project``."""
    return FaceModel.load(project.path(MODEL_FILE))
