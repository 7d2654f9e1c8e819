"""The person's own lower faces, indexed: what each frame's mouth looks like, and its pixels.

Built once after the face fit (seconds): per frame with a face, the lip shape of the fitted
expression with the head pose removed (the lip vertices of the expression-only mesh, in crop
pixels), the head pose, how sharp the mouth is and how much teeth it shows, and the lower face's
pixels cut from the video frame at the video's own resolution (no resampling: an integer rectangle
of the frame, stored losslessly as PNG in one file and read on demand, so memory stays flat on long
targets).

Files in the project: samples/index.npz (the figures) and samples/bank.bin (the pixels); the
``samples`` stage records the fitting key they were made from.
"""

from __future__ import annotations

import logging
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import cv2
import numpy as np

from core.atomic import atomic_path, load_npz, save_npz
from core.facerender.draft import extend_vertices
from core.errors import ProjectError
from core.facemodel.topology import INNER_LIPS, NOSE_TIP, OUTER_LIPS
from core.facemodel.model import load_face_model
from core.facemodel.params import load_face_params
from core.jobs import Job, ProgressClock, run_job
from core.media import VideoReader
from core.metrics import laplacian_variance, mouth_box
from core.tracking import load_tracking
from core.tracking.crop import inverse_matrix

log = logging.getLogger(__name__)

STAGE = "samples"
FOLDER = "samples"
INDEX_FILE = "index.npz"
BANK_FILE = "bank.bin"
VERSION = 1
LIP_POINTS = np.array(OUTER_LIPS + INNER_LIPS)
PAD_PX = 6  # around the lower face: room for the sharp kernel's support


def lip_vertices(model) -> np.ndarray:
    """int64 model vertices of the outer and inner lip rings (mediapipe order)."""
    if model.kind == "mediapipe":
        return LIP_POINTS.astype(np.int64)
    lookup = dict(zip(model.landmark_ids.tolist(), model.landmark_vertices.tolist()))
    missing = [p for p in LIP_POINTS.tolist() if p not in lookup]
    if missing:
        raise ProjectError(f"the {model.kind} face model has no vertices for lip landmarks {missing[:4]}; "
                           "use the mediapipe face model for the sample-based lower face")
    return np.array([lookup[p] for p in LIP_POINTS.tolist()], np.int64)


class LipShape:
    """Lip descriptors: the lip vertices of the expression-only mesh (no pose), x and y, in crop
    pixels at the clip's median head size. Linear in the expression."""

    def __init__(self, model, pixels_per_unit: float) -> None:
        lips = lip_vertices(model)
        self.offset = (model.mean_shape[lips, :2] * pixels_per_unit).reshape(-1).astype(np.float32)
        basis = model.exp_basis[:, lips, :2] * pixels_per_unit
        self.basis = basis.reshape(model.n_exp, -1).astype(np.float32)

    def __call__(self, expressions: np.ndarray) -> np.ndarray:
        """float32 (B, 2L) for expressions (B, K)."""
        return np.asarray(expressions, np.float32) @ self.basis + self.offset


@dataclass(frozen=True)
class SampleIndex:
    """frames: int (M,) the video frames in the bank; lips float32 (M, 2L); euler float32 (M, 3)
    (yaw, pitch, roll in degrees); sharpness float32 (M,) Laplacian variance of the mouth; teeth
    float32 (M,) share of bright pixels between the lips; rects int32 (M, 4) x0, y0, w, h of the
    stored pixels in the frame; offsets int64 (M + 1,) into the bank file; n_frames: frames of the
    video; pixels_per_unit: the LipShape scale; key: the fitting key it was built from."""

    frames: np.ndarray
    lips: np.ndarray
    euler: np.ndarray
    sharpness: np.ndarray
    teeth: np.ndarray
    rects: np.ndarray
    offsets: np.ndarray
    n_frames: int
    pixels_per_unit: float
    key: str
    bank_path: Path

    @cached_property
    def position(self) -> np.ndarray:
        """int (n_frames,): the bank entry of each video frame, -1 where none."""
        out = np.full(self.n_frames, -1, np.int64)
        out[self.frames] = np.arange(len(self.frames))
        return out

    @cached_property
    def _bank(self) -> np.memmap:
        return np.memmap(self.bank_path, dtype=np.uint8, mode="r")

    def has(self, frame: int) -> bool:
        return 0 <= frame < self.n_frames and self.position[frame] >= 0

    def pixels(self, frame: int) -> np.ndarray:
        """uint8 (h, w, 3) RGB: the stored lower face of video frame ``frame``."""
        k = int(self.position[frame])
        if k < 0:
            raise KeyError(f"frame {frame} has no stored lower face")
        data = np.asarray(self._bank[self.offsets[k]:self.offsets[k + 1]])
        image = cv2.imdecode(data, cv2.IMREAD_COLOR)
        if image is None:
            raise ProjectError(f"{self.bank_path}: the stored lower face of frame {frame} is damaged. "
                               "Run 'prepare' again.")
        return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)

    def save(self, folder: Path) -> None:
        save_npz(folder / INDEX_FILE, frames=self.frames, lips=self.lips, euler=self.euler,
                 sharpness=self.sharpness, teeth=self.teeth, rects=self.rects, offsets=self.offsets,
                 n_frames=np.int64(self.n_frames), pixels_per_unit=np.float64(self.pixels_per_unit),
                 key=np.array(self.key), version=np.int64(VERSION))

    @classmethod
    def load(cls, folder: Path) -> "SampleIndex":
        path = folder / INDEX_FILE
        try:
            d = load_npz(path)
            if int(d["version"]) != VERSION:
                raise ValueError(f"version {int(d['version'])}")
            index = cls(frames=d["frames"].astype(np.int64), lips=d["lips"].astype(np.float32),
                        euler=d["euler"].astype(np.float32), sharpness=d["sharpness"].astype(np.float32),
                        teeth=d["teeth"].astype(np.float32), rects=d["rects"].astype(np.int32),
                        offsets=d["offsets"].astype(np.int64), n_frames=int(d["n_frames"]),
                        pixels_per_unit=float(d["pixels_per_unit"]), key=str(d["key"]),
                        bank_path=folder / BANK_FILE)
        except (OSError, KeyError, ValueError) as exc:
            raise ProjectError(f"{path}: the index of the person's mouths is missing or damaged ({exc}). "
                               "Run 'prepare' again.") from exc
        if not index.bank_path.exists() or index.bank_path.stat().st_size != int(index.offsets[-1]):
            raise ProjectError(f"{index.bank_path}: the stored mouths are missing or incomplete. "
                               "Run 'prepare' again.")
        return index


def index_is_current(project) -> bool:
    fitting = project.stage("fitting")
    return (project.is_current(STAGE) and fitting.status == "done"
            and (project.path(FOLDER) / INDEX_FILE).exists())


def load_sample_index(project) -> SampleIndex:
    """The project's index, built first if it is missing or older than the face fit."""
    if not index_is_current(project):
        return run_job(build_sample_index_job(project))
    return SampleIndex.load(project.path(FOLDER))


def source_rect(vertices: np.ndarray, box: np.ndarray, crop_size: int, frame_size: tuple[int, int]) -> tuple[int, int, int, int]:
    """(x0, y0, w, h) integer rectangle of the video frame holding the lower face and the band
    around it: every extended mesh vertex (mouth centre and skirt included) below the eyes.
    vertices: (V, 3) fitted vertices in crop pixels; frame_size: (width, height)."""
    ext = extend_vertices(vertices, vertices)
    nose_y = vertices[NOSE_TIP, 1]
    chin_span = max(float(ext[:, 1].max() - nose_y), 1.0)
    lower = ext[ext[:, 1] >= nose_y - 0.45 * chin_span, :2]
    inv = inverse_matrix(box, crop_size)
    pts = lower @ inv[:, :2].T + inv[:, 2]
    w, h = frame_size
    x0, y0 = np.floor(pts.min(axis=0)).astype(int) - PAD_PX
    x1, y1 = np.ceil(pts.max(axis=0)).astype(int) + PAD_PX
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    return int(x0), int(y0), int(max(x1 - x0, 1)), int(max(y1 - y0, 1))


def teeth_share(pixels: np.ndarray, inner_lips: np.ndarray) -> float:
    """Share of the inner-lip polygon's pixels that are bright and unsaturated (teeth)."""
    mask = np.zeros(pixels.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(inner_lips).astype(np.int32)], 1)
    if mask.sum() < 4:
        return 0.0
    hsv = cv2.cvtColor(pixels, cv2.COLOR_RGB2HSV)
    bright = (hsv[..., 2] > 140) & (hsv[..., 1] < 90)
    return float(bright[mask > 0].mean())


def _encode(region: np.ndarray) -> bytes:
    """Lossless PNG of an RGB region (fast setting: the bank is read far more than written)."""
    ok, png = cv2.imencode(".png", region[..., ::-1], [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:
        raise ProjectError("a lower face could not be stored")
    return png.tobytes()


def build_sample_index_job(project, span: tuple[float, float] = (0.0, 1.0)) -> Job[SampleIndex]:
    """Read the video once and write the index and the pixel bank of every frame with a face."""
    fitting = project.stage("fitting")
    if fitting.status != "done":
        raise ProjectError(f"{project.root}: the face is not fitted yet. Run 'prepare' first.")
    tracking = load_tracking(project)
    model, params = load_face_model(project), load_face_params(project)
    n = min(params.n_frames, tracking.n_frames)
    faces = np.flatnonzero(params.has_face[:n] & tracking.has_face[:n])
    if len(faces) == 0:
        raise ProjectError(f"{project.root}: no frame of the video shows a face to learn the mouth from.")
    pixels_per_unit = float(np.median(params.scale[faces]))
    lips = LipShape(model, pixels_per_unit)(params.expression[faces])
    folder = project.path(FOLDER)
    folder.mkdir(parents=True, exist_ok=True)
    rects = np.zeros((len(faces), 4), np.int32)
    offsets = np.zeros(len(faces) + 1, np.int64)
    sharpness = np.zeros(len(faces), np.float32)
    teeth = np.zeros(len(faces), np.float32)
    position = {int(f): k for k, f in enumerate(faces)}
    clock = ProgressClock("Indexing the person's mouths", n, span)
    reader = VideoReader(project.source_video)
    frame_size = (reader.width, reader.height)
    inner = list(INNER_LIPS)
    pending: deque = deque()  # (entry, PNG future): encoded on a second thread while decoding goes on

    def store(bank, k: int, future) -> None:
        png = future.result()
        bank.write(png)
        offsets[k + 1] = offsets[k] + len(png)

    with atomic_path(folder / BANK_FILE) as tmp, open(tmp, "wb") as bank, \
            ThreadPoolExecutor(max_workers=2, thread_name_prefix="mouth-bank") as pool:
        for i, frame in enumerate(reader):
            if i >= n:
                break
            k = position.get(i)
            if k is not None:
                vertices = params.project(model.shape(params.expression[i:i + 1]), np.array([i]))[0]
                x0, y0, w, h = source_rect(vertices, tracking.boxes[i], tracking.crop_size, frame_size)
                region = np.ascontiguousarray(frame[y0:y0 + h, x0:x0 + w])
                pending.append((k, pool.submit(_encode, region)))
                rects[k] = (x0, y0, w, h)
                landmarks = tracking.landmarks[i]
                mb = mouth_box(landmarks, frame.shape)
                if mb is not None:
                    sharpness[k] = laplacian_variance(frame[mb[1]:mb[3], mb[0]:mb[2]])
                teeth[k] = teeth_share(region, landmarks[inner, :2] - (x0, y0))
                while len(pending) > 8:
                    store(bank, *pending.popleft())
            if i % 25 == 0:
                yield clock.step(i + 1)
        while pending:
            store(bank, *pending.popleft())
    index = SampleIndex(frames=faces.astype(np.int64), lips=lips, euler=params.euler_deg[faces].astype(np.float32),
                        sharpness=sharpness, teeth=teeth, rects=rects, offsets=offsets, n_frames=int(params.n_frames),
                        pixels_per_unit=pixels_per_unit, key=fitting.key or "", bank_path=folder / BANK_FILE)
    index.save(folder)
    project.set_stage(STAGE, "done", settings={"version": VERSION}, inputs=("fitting",),
                      metrics={"frames": int(len(faces)), "bank_mb": round(offsets[-1] / 2 ** 20, 1)})
    yield clock.step(n)
    log.info("indexed %d mouths (%.1f MB of pixels)", len(faces), offsets[-1] / 2 ** 20)
    return index
