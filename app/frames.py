"""Images the pages show: prepared face crops with inspection overlays, and single dubbed frames.

Both are slow enough (disk, models) to be called from a worker thread (app.workers.LatestOnly); they
hold no widgets and return numpy uint8 RGB images.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from core.facemodel.topology import N_MESH_VERTICES

log = logging.getLogger(__name__)

OVERLAYS = ("landmarks", "mesh", "render", "mask", "expanded_mask")
OVERLAY_LABELS = {"landmarks": "Landmarks", "mesh": "3D mesh", "render": "Synthetic render",
                  "mask": "Mask", "expanded_mask": "Expanded mask"}


class PreparedFrames:
    """The stabilised face crops of a prepared project, with overlays drawn on request.

    ``image(i, overlays)`` -> uint8 (S, S, 3). Overlays needing the fitted face model (mesh, render,
    masks) are listed in ``unavailable`` with the reason while the model is missing.
    """

    def __init__(self, project) -> None:
        from core.tracking import load_crops, load_tracking

        self.project = project
        self.tracking = load_tracking(project)
        self.crops = load_crops(project)
        self.n_frames = int(self.crops.shape[0])
        self.size = int(self.crops.shape[1])
        self._renderer = None
        self.unavailable: dict[str, str] = {}
        if not project.is_current("fitting"):
            reason = "Available after the 3D face model is fitted (run face capture)."
            self.unavailable = {name: reason for name in ("mesh", "render", "mask", "expanded_mask")}

    def _face_renderer(self):
        if self._renderer is None:
            from core.facerender.render import FaceRenderer

            self._renderer = FaceRenderer(self.project)
        return self._renderer

    def _wire_triangles(self, model) -> np.ndarray:
        """The triangles the mesh overlay draws: mediapipe's own 468-point mesh where the model is
        built on it (the subdivided fitting mesh is so dense that it hides the face at 256 px)."""
        if model.kind != "mediapipe" or model.n_vertices < N_MESH_VERTICES:
            return model.triangles
        if not hasattr(self, "_coarse"):
            from core.facemodel.topology import mediapipe_triangles, orient_triangles

            self._coarse = orient_triangles(model.mean_shape[:N_MESH_VERTICES], mediapipe_triangles())
        return self._coarse

    def image(self, index: int, overlays: frozenset[str] | set[str] = frozenset()) -> np.ndarray:
        from core.facerender import overlays as draw

        if not 0 <= index < self.n_frames:
            raise IndexError(f"frame {index} is outside 0..{self.n_frames - 1}")
        image = np.array(self.crops[index])
        wanted = [o for o in OVERLAYS if o in overlays and o not in self.unavailable]
        if not self.tracking.has_face[index]:
            return image
        if {"render", "mask", "expanded_mask"} & set(wanted):
            out = self._face_renderer().render(np.array([index]))
            if "render" in wanted:
                image = draw.blend_render(image, _to_numpy_image(out.image[0]), _to_numpy_mask(out.face_mask[0]))
            if "expanded_mask" in wanted:
                image = draw.tint_mask(image, _to_numpy_mask(out.expanded_mask[0]), color=(255, 170, 0))
            if "mask" in wanted:
                image = draw.tint_mask(image, _to_numpy_mask(out.face_mask[0]), color=(0, 160, 255))
        if "mesh" in wanted:
            renderer = self._face_renderer()
            vertices = renderer.screen_vertices(np.array([index]))[0].detach().cpu().numpy()
            image = draw.draw_wireframe(image, vertices, self._wire_triangles(renderer.model), opacity=0.3)
        if "landmarks" in wanted:
            image = draw.draw_landmarks(image, self.tracking.landmarks_crop[index])
        return image


def _to_numpy_image(tensor) -> np.ndarray:
    """(3, S, S) float in [0, 1] (torch or numpy) -> uint8 (S, S, 3)."""
    array = tensor.detach().cpu().numpy() if hasattr(tensor, "detach") else np.asarray(tensor)
    return np.clip(np.rint(array.transpose(1, 2, 0) * 255), 0, 255).astype(np.uint8)


def _to_numpy_mask(tensor) -> np.ndarray:
    """(1, S, S) float (torch or numpy) -> float32 (S, S)."""
    array = tensor.detach().cpu().numpy() if hasattr(tensor, "detach") else np.asarray(tensor)
    return array[0].astype(np.float32)


class DubPreview:
    """Single frames of the dubbed video for an audio file, for scrubbing and playback.

    Builds everything the export builds (expressions from the audio model, the synthesizer), then
    ``frame(j)`` -> uint8 (H, W, 3) full-resolution output frame j, like frame j of the export.
    """

    def __init__(self, project, audio_path: Path, renderer: str | None = None) -> None:
        from core.audio2exp import predict_expressions
        from core.dubbing.dub import FEATURE_RATE, output_frame_count
        from core.media import VideoReader, load_audio
        from core.lowerface import make_synthesizer
        from core.dubbing.timeline import pingpong_indices
        from core.tracking import load_tracking

        self.project = project
        speech = load_audio(audio_path, FEATURE_RATE)
        self.reader = VideoReader(project.source_video)
        self.fps = self.reader.fps
        self.n_frames = output_frame_count(len(speech), FEATURE_RATE, self.fps)
        self.expressions = predict_expressions(project, speech, n_frames=self.n_frames)
        self.indices = pingpong_indices(self.n_frames, self.reader.frame_count)
        self.synth = make_synthesizer(project, renderer)
        self.mode = getattr(self.synth, "mode", "")
        self.tracking = load_tracking(project)

    def frame(self, j: int) -> np.ndarray:
        return self.frame_pair(j).dubbed

    def frame_pair(self, j: int) -> "FramePair":
        """Frame j of the dub beside the original frame it was made from, and the mouth's box."""
        if not 0 <= j < self.n_frames:
            raise IndexError(f"frame {j} is outside 0..{self.n_frames - 1}")
        target = int(self.indices[j])
        frame = self.reader.read(target)
        if not self.tracking.has_face[target]:
            return FramePair(frame, frame, None)
        box = mouth_box(self.tracking.landmarks[target])
        patch = self.synth.frame_at(j, self.indices, self.expressions)
        if patch is None:
            return FramePair(frame, frame, box)
        return FramePair(frame, patch.apply(frame, self.tracking.boxes[target]), box)


# mediapipe mesh: lip corners, the outer lips' top and bottom, the chin's top
MOUTH_POINTS = np.array([61, 291, 0, 17, 13, 14, 40, 270, 91, 321])


def mouth_box(landmarks: np.ndarray) -> tuple[float, float, float, float] | None:
    """(x0, y0, x1, y1) full-frame pixels around the lips of one frame's landmarks (P, 3), or None."""
    points = landmarks[MOUTH_POINTS, :2]
    if not np.isfinite(points).all():
        return None
    (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
    return float(x0), float(y0), float(x1), float(y1)


class FramePair:
    """One preview frame: ``source`` (the original frame), ``dubbed``, ``mouth`` box or None; uint8
    (H, W, 3) images of the same size."""

    __slots__ = ("source", "dubbed", "mouth")

    def __init__(self, source: np.ndarray, dubbed: np.ndarray, mouth) -> None:
        self.source, self.dubbed, self.mouth = source, dubbed, mouth

    @property
    def nbytes(self) -> int:
        return int(self.source.nbytes + self.dubbed.nbytes)
