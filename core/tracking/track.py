"""The tracking stage: detect landmarks on every frame, stabilise crop boxes, cache the crops."""

from __future__ import annotations

import contextlib
import logging
import warnings
from dataclasses import asdict, dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d

from core.atomic import atomic_path, load_npz, save_npz
from core.crop_size import AUTO, auto_crop_size
from core.errors import DubError
from core.jobs import Job, ProgressClock
from core.media import VideoReader
from core.tracking.backends import BACKENDS, FaceFollower, MediapipeFaceMesh, make_backend
from core.tracking.crop import crop_image
from core.tracking.store import CROPS_FILE, TRACKING_FILE, Tracking, load_tracking

log = logging.getLogger(__name__)

PARTIAL_FILE = "tracking.partial.npz"
STAGE = "tracking"


@dataclass(frozen=True)
class TrackingConfig:
    """backend: 'mediapipe' (478-point mesh, default) or 'face-alignment' (adds the paper's 68
    points; its weights download on first use). crop_scale: crop side over the mesh's larger extent.
    smooth_s / size_smooth_s: Gaussian smoothing (seconds) of the box centre and of its size.
    crop_size: crop side in pixels, or AUTO (0): the face's own size up to the cap of ``profile``
    (core.crop_size). An already tracked project keeps its recorded size under AUTO; the stage
    records the resolved number, so an automatic 256 px crop has the key of an explicit 256."""

    backend: str = BACKENDS[0]
    crop_size: int = AUTO
    crop_scale: float = 1.4
    smooth_s: float = 0.12
    size_smooth_s: float = 1.0
    checkpoint_every: int = 250
    allow_download: bool = True
    profile: str = "auto"  # renderer profile whose network cap bounds an AUTO crop (not in the key)


def tracking_job(project, config: TrackingConfig, span: tuple[float, float] = (0.0, 1.0)) -> Job[Tracking]:
    """Track the project's video; resumes a half-done run and skips a finished one.

    Returns the Tracking. Raises DubError when no frame holds a face.
    """
    settings = asdict(config)
    settings.pop("allow_download")
    settings.pop("profile")
    if config.crop_size == AUTO:
        settings["crop_size"] = _recorded_crop_size(project, settings)
    key, _ = project.stage_key(settings)
    if project.is_current(STAGE) and project.stage(STAGE).key == key and project.path(CROPS_FILE).exists():
        return load_tracking(project)
    reader = VideoReader(project.source_video)
    n = reader.frame_count
    mid = span[0] + (span[1] - span[0]) * 0.8
    # The landmarks do not depend on the crop size: a partial run resumes whatever size it ends at.
    partial_key, _ = project.stage_key({**settings, "crop_size": AUTO})
    landmarks, has_face, start = _resume_partial(project, partial_key, n)
    project.set_stage(STAGE, "running", settings=settings)

    mesh = MediapipeFaceMesh()
    extra = make_backend("face-alignment", config.allow_download) if config.backend == "face-alignment" else None
    landmarks68 = np.full((n, 68, 3), np.nan, np.float32) if extra is not None else None
    follower = FaceFollower()
    clock = ProgressClock("Tracking the face", n - start, (span[0], mid))
    try:
        for i, frame in enumerate(reader.frames(start), start=start):
            face = follower.choose(mesh.detect(frame))
            if face is not None:
                landmarks[i], has_face[i] = face.landmarks, True
                if extra is not None:
                    others = extra.detect(frame)
                    if others:
                        nearest = min(others, key=lambda f: float(np.linalg.norm(f.centre - face.centre)))
                        landmarks68[i] = nearest.landmarks
            done = i + 1
            if done % config.checkpoint_every == 0 and done < n:
                save_npz(project.path(PARTIAL_FILE), key=np.array(partial_key), next=np.int64(done),
                         landmarks=landmarks, has_face=has_face)
            yield clock.step(done - start, message=f"{int(has_face[:done].sum())} of {done} frames with a face")
    finally:
        mesh.close()
    if not has_face.any():
        project.set_stage(STAGE, "failed", message="no face found")
        raise DubError(f"{project.source_video}: no face was found in any frame. Choose a video where "
                       "the person faces the camera.")
    boxes = stabilised_boxes(landmarks, has_face, reader.fps, config)
    box_px = float(np.median(boxes[has_face, 2]))
    crop_size = settings["crop_size"] or auto_crop_size(box_px, config.profile)
    settings["crop_size"] = crop_size
    log.info("face box %.0f px: %d px crops (%s)", box_px, crop_size,
             "automatic" if config.crop_size == AUTO else "chosen")
    tracking = Tracking(landmarks=landmarks, has_face=has_face, boxes=boxes, fps=reader.fps,
                        frame_size=(reader.width, reader.height), crop_size=crop_size,
                        landmarks68=landmarks68)
    yield from _write_crops(project, reader, boxes, crop_size, (mid, span[1]))
    tracking.save(project.path(TRACKING_FILE))
    with contextlib.suppress(OSError):
        project.path(PARTIAL_FILE).unlink()
    project.set_stage(STAGE, "done", settings=settings, metrics={
        "frames": n, "frames_with_face": int(has_face.sum()),
        "median_face_px": box_px / config.crop_scale, "median_box_px": box_px,
        "crop_size": crop_size, "crop_px_per_video_px": crop_size / box_px,
    })
    return tracking


def _recorded_crop_size(project, settings: dict) -> int:
    """Under AUTO: the crop size of the project's finished tracking when everything else matches
    (so a project tracked before AUTO existed, or at another cap, is not redone), else AUTO."""
    rec = project.stage(STAGE)
    recorded = rec.settings.get("crop_size") if rec.status == "done" else None
    same = {k: v for k, v in rec.settings.items() if k != "crop_size"} == {
        k: v for k, v in settings.items() if k != "crop_size"}
    if same and isinstance(recorded, int) and recorded > 0 and project.path(CROPS_FILE).exists():
        return recorded
    return AUTO


def _resume_partial(project, key: str, n: int) -> tuple[np.ndarray, np.ndarray, int]:
    path = project.path(PARTIAL_FILE)
    if path.exists():
        try:
            data = load_npz(path)
            if str(data["key"]) == key and data["landmarks"].shape[0] == n:
                start = int(data["next"])
                log.info("resuming tracking at frame %d of %d", start, n)
                return data["landmarks"], data["has_face"].astype(bool), start
        except (OSError, KeyError, ValueError) as exc:
            log.warning("ignoring a damaged partial tracking file (%s)", exc)
    return np.full((n, 478, 3), np.nan, np.float32), np.zeros(n, bool), 0


def raw_boxes(landmarks: np.ndarray, crop_scale: float) -> np.ndarray:
    """float64 (N, 3) (cx, cy, side) around each frame's landmarks (NaN where no face)."""
    x, y = landmarks[..., 0], landmarks[..., 1]
    with warnings.catch_warnings():  # all-NaN rows (no face) warn; they stay NaN on purpose
        warnings.simplefilter("ignore", RuntimeWarning)
        x0, x1 = np.nanmin(x, axis=1), np.nanmax(x, axis=1)
        y0, y1 = np.nanmin(y, axis=1), np.nanmax(y, axis=1)
    side = np.maximum(x1 - x0, y1 - y0) * crop_scale
    # Centre a little below the mesh centre: the jaw opens downwards and the forehead matters least.
    cy = (y0 + y1) / 2 + 0.06 * side
    return np.stack([(x0 + x1) / 2, cy, side], axis=1)


def stabilised_boxes(landmarks: np.ndarray, has_face: np.ndarray, fps: float,
                     config: TrackingConfig) -> np.ndarray:
    """float32 (N, 3): boxes filled over faceless frames and smoothed over time (zero phase)."""
    boxes = raw_boxes(landmarks, config.crop_scale)
    idx = np.arange(len(boxes))
    good = has_face & np.isfinite(boxes).all(axis=1)
    filled = np.stack([np.interp(idx, idx[good], boxes[good, k]) for k in range(3)], axis=1)
    out = np.empty_like(filled)
    for k, seconds in ((0, config.smooth_s), (1, config.smooth_s), (2, config.size_smooth_s)):
        sigma = max(seconds * fps, 1e-3)
        out[:, k] = gaussian_filter1d(filled[:, k], sigma, mode="nearest")
    return out.astype(np.float32)


def _write_crops(project, reader: VideoReader, boxes: np.ndarray, size: int,
                 span: tuple[float, float]) -> Job[None]:
    n = len(boxes)
    clock = ProgressClock("Cutting face crops", n, span)
    final = project.path(CROPS_FILE)
    with atomic_path(final) as tmp:
        crops = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=(n, size, size, 3))
        last = None
        for i, frame in enumerate(reader.frames()):
            if i >= n:
                break
            crops[i] = crop_image(frame, boxes[i], size)
            last = i
            if i % 10 == 0:
                yield clock.step(i + 1)
        if last is None or last < n - 1:  # a short decode: repeat the last crop so indices stay valid
            crops[(last or 0) + 1:] = crops[last or 0]
        crops.flush()
        del crops
    yield clock.step(n)
