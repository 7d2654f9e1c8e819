"""Landmark detectors: mediapipe's 478-point face mesh (default, offline) and face-alignment's
68-point network (the paper's; its weights download on first use)."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import MissingWeightsError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DetectedFace:
    """landmarks: float32 (P, 3) in full-frame pixels (x right, y down, z in pixels)."""

    landmarks: np.ndarray

    @property
    def box(self) -> tuple[float, float, float, float]:
        x, y = self.landmarks[:, 0], self.landmarks[:, 1]
        return float(x.min()), float(y.min()), float(x.max()), float(y.max())

    @property
    def area(self) -> float:
        x0, y0, x1, y1 = self.box
        return (x1 - x0) * (y1 - y0)

    @property
    def centre(self) -> np.ndarray:
        x0, y0, x1, y1 = self.box
        return np.array([(x0 + x1) / 2, (y0 + y1) / 2])


class MediapipeFaceMesh:
    """mediapipe 0.10.21 FaceMesh in video mode, refined (478 points incl. irises)."""

    name = "mediapipe"
    n_points = 478

    def __init__(self, max_faces: int = 3, video_mode: bool = True) -> None:
        os.environ.setdefault("GLOG_minloglevel", "2")
        import mediapipe as mp  # heavy import: only when tracking

        self._mesh = mp.solutions.face_mesh.FaceMesh(
            static_image_mode=not video_mode, max_num_faces=max_faces, refine_landmarks=True,
            min_detection_confidence=0.5, min_tracking_confidence=0.5,
        )

    def detect(self, frame: np.ndarray) -> list[DetectedFace]:
        """All faces in an uint8 RGB (H, W, 3) frame."""
        h, w = frame.shape[:2]
        result = self._mesh.process(np.ascontiguousarray(frame))
        faces = []
        for face in result.multi_face_landmarks or ():
            pts = np.array([(p.x * w, p.y * h, p.z * w) for p in face.landmark], dtype=np.float32)
            faces.append(DetectedFace(pts))
        return faces

    def close(self) -> None:
        self._mesh.close()


FACE_ALIGNMENT_FILES = ("s3fd-619a316812.pth", "2DFAN4-11f355bf06.pth.tar")


def face_alignment_weights_dir() -> Path:
    import torch  # lazy: the first-run check reads this without loading torch otherwise

    return Path(torch.hub.get_dir()) / "checkpoints"


class FaceAlignment68:
    """face-alignment's 2D-FAN (68 points) with its S3FD detector, on the CPU or CUDA.

    Its weights are downloaded by face-alignment on first use into torch's hub folder. With
    ``allow_download=False`` (or offline) a MissingWeightsError says which files to put where.
    """

    name = "face-alignment"
    n_points = 68

    def __init__(self, device: str = "cpu", allow_download: bool = True) -> None:
        folder = face_alignment_weights_dir()
        missing = [f for f in FACE_ALIGNMENT_FILES if not (folder / f).exists()]
        if missing and not allow_download:
            raise MissingWeightsError(self._missing_message(folder, missing))
        try:
            import face_alignment  # lazy: the optional 68-point backend

            self._fa = face_alignment.FaceAlignment(
                face_alignment.LandmarksType.TWO_D, device=device, face_detector="sfd",
            )
        except (OSError, RuntimeError, ValueError) as exc:  # URLError is an OSError
            raise MissingWeightsError(self._missing_message(folder, missing or list(FACE_ALIGNMENT_FILES))
                                      + f" (download failed: {exc})") from exc

    @staticmethod
    def _missing_message(folder: Path, missing: list[str]) -> str:
        return ("The face-alignment landmark backend needs its network weights, which are not on this "
                f"machine: {', '.join(missing)}. Connect to the internet once so face-alignment can "
                f"download them, or copy them into {folder}. The default backend (mediapipe) needs "
                "no download.")

    def detect(self, frame: np.ndarray) -> list[DetectedFace]:
        preds = self._fa.get_landmarks_from_image(frame) or []
        out = []
        for p in preds:
            pts = np.zeros((p.shape[0], 3), dtype=np.float32)
            pts[:, :2] = p[:, :2]
            out.append(DetectedFace(pts))
        return out

    def close(self) -> None:
        pass


BACKENDS = ("mediapipe", "face-alignment")  # the first is the tracking stage's default


def make_backend(name: str, allow_download: bool = True):
    if name == "mediapipe":
        return MediapipeFaceMesh()
    if name == "face-alignment":
        return FaceAlignment68(allow_download=allow_download)
    raise ValueError(f"unknown landmark backend {name!r}: use {' or '.join(BACKENDS)}")


class FaceFollower:
    """Picks one face per video: the largest at first, then the one nearest the previous position."""

    def __init__(self, max_jump: float = 0.5) -> None:
        self.max_jump = max_jump
        self._last_centre: np.ndarray | None = None
        self._last_size: float | None = None

    def choose(self, faces: list[DetectedFace]) -> DetectedFace | None:
        if not faces:
            return None
        if self._last_centre is None:
            chosen = max(faces, key=lambda f: f.area)
        else:
            chosen = min(faces, key=lambda f: float(np.linalg.norm(f.centre - self._last_centre)))
            jump = float(np.linalg.norm(chosen.centre - self._last_centre)) / max(self._last_size, 1.0)
            if jump > self.max_jump:  # the followed face is gone; take the largest again
                chosen = max(faces, key=lambda f: f.area)
        self._last_centre = chosen.centre
        self._last_size = float(np.sqrt(chosen.area))
        return chosen
