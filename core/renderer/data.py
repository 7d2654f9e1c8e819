"""Training data of the renderer, streamed from the project folder.

The job's first phase renders the conditioning of every frame once (FaceRenderer: the shaded face
render masked by the expanded lower-face mask) beside the checkpoints (core.renderer.cond_store)::

    renderer/cond.bin        one lossless PNG a frame: the masked render (RGB) and expanded mask (alpha)
    renderer/cond_index.npy  int64 (N + 1) byte offsets of the PNGs
    renderer/cache.json      which fitting result (stage key) they were made from, and the lower-face window

The render is zero outside the mask, so this keeps only what training reads (the lower face):
26 KB a frame at 320 px where the raw arrays of version 1 (cond.npy + mask.npy) took 410 KB.
Batches then decode only the frames they need, and read the real pixels from crops.npy.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from core.atomic import atomic_path, write_json
from core.errors import ProjectError
from core.facerender.render import FaceRenderer
from core.holdout import holdout_start
from core.jobs import Job, ProgressClock
from core.renderer.cond_store import CondStore, CondWriter, store_files
from core.renderer.references import ReferencePicker, blank_lower_face
from core.renderer.steps import Batch
from core.renderer.warp import ReferenceWarper, fitted_vertices
from core.renderer.window import CropWindow, resize
from core.tracking import load_crops, load_tracking

log = logging.getLogger(__name__)

FOLDER = "renderer"
CACHE_FILE = "cache.json"
OLD_FILES = ("cond.npy", "mask.npy")  # version 1: whole crops, raw (removed on rebuilding)
CACHE_VERSION = 2
# mediapipe mesh: mouth corners and the outer lip midpoints
MOUTH_CORNERS = (61, 291)
MOUTH_MIDPOINTS = (0, 17)


@dataclass(frozen=True)
class CacheInfo:
    """The conditioning cache: where it is and the union window of its expanded masks (crop pixels)."""

    folder: Path
    n_frames: int
    crop_size: int
    union_box: tuple[int, int, int, int]  # x0, y0, x1, y1 of the union of expanded masks; empty if none

    def window(self, size: int, lower_face: bool) -> CropWindow:
        if not lower_face:
            return CropWindow.full(self.crop_size, size)
        union = np.zeros((self.crop_size, self.crop_size), bool)
        x0, y0, x1, y1 = self.union_box
        union[y0:y1, x0:x1] = True
        return CropWindow.around(union, size)

    def window_for(self, config) -> CropWindow:
        """The window of a RendererTrainConfig, at the network size it chooses for the window's side."""
        window = self.window(config.size, config.lower_face_window)
        return dataclasses.replace(window, size=config.network_size(window.side))


def fitting_key(project) -> str:
    return project.stage("fitting").key or ""


def load_cache_info(project) -> CacheInfo | None:
    """The cache if it exists, is complete and was made from the current fitting result."""
    folder = project.path(FOLDER)
    try:
        meta = json.loads((folder / CACHE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (meta.get("version") != CACHE_VERSION or meta.get("fitting_key") != fitting_key(project)
            or not all(p.exists() for p in store_files(folder))):
        return None
    return CacheInfo(folder, int(meta["n_frames"]), int(meta["crop_size"]), tuple(meta["union_box"]))


def build_cache_job(project, face_renderer=None, batch: int = 8,
                    span: tuple[float, float] = (0.0, 1.0)) -> Job[CacheInfo]:
    """Render the masked conditioning of every frame into renderer/cond.npy and mask.npy.

    face_renderer: an object with the core.facerender.render.FaceRenderer interface (``n_frames``, ``size``,
    ``render(frames, None)``); by default FaceRenderer(project). Skipped when already current.
    """
    info = load_cache_info(project)
    if info is not None:
        return info
    if face_renderer is None:
        face_renderer = FaceRenderer(project)
    tracking = load_tracking(project)
    n, size = int(face_renderer.n_frames), int(face_renderer.size)
    if n != tracking.n_frames:
        raise ProjectError(f"the face fit has {n} frames but the tracking has {tracking.n_frames}. "
                           "Run 'prepare' again.")
    if size != tracking.crop_size:
        raise ProjectError(f"the face renders are {size} px but the crops are {tracking.crop_size} px. "
                           "Run 'prepare' again.")
    folder = project.path(FOLDER)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / CACHE_FILE).unlink(missing_ok=True)
    for old in OLD_FILES:
        (folder / old).unlink(missing_ok=True)
    clock = ProgressClock("Rendering training inputs", n, span)
    union = np.zeros((size, size), bool)
    blob_path, index_path = store_files(folder)
    with atomic_path(blob_path) as blob_tmp, atomic_path(index_path) as index_tmp:
        writer = CondWriter(blob_tmp, n)
        try:
            for start in range(0, n, batch):
                frames = np.arange(start, min(start + batch, n))
                with torch.no_grad():
                    out = face_renderer.render(frames, None)
                    m = (out.expanded_mask > 0.5).float()
                    img = (out.image.float() * m).clamp(0, 1)
                cond = (img * 255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
                m_np = m[:, 0].to(torch.uint8).cpu().numpy()
                for c, k in zip(cond, m_np):
                    writer.add(c, k)
                faces = tracking.has_face[frames]
                if faces.any():
                    union |= m_np[faces].any(axis=0).astype(bool)
                yield clock.step(int(frames[-1]) + 1)
        finally:
            writer.fh.close()
        writer.close()
        with open(index_tmp, "wb") as fh:
            np.save(fh, writer.offsets)
    ys, xs = np.nonzero(union)
    box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1) if len(xs) else (0, 0, 0, 0)
    write_json(folder / CACHE_FILE, {"version": CACHE_VERSION, "fitting_key": fitting_key(project),
                                     "n_frames": n, "crop_size": size, "union_box": box})
    return CacheInfo(folder, n, size, box)


def mouth_gaussians(landmarks_crop: np.ndarray) -> np.ndarray:
    """float32 (N, 3): lip centre (x, y) and a Gaussian sigma (0.6 x mouth width) in crop pixels,
    from mediapipe landmarks (N, 478, 3) in crop pixels; NaN where no face."""
    pts = landmarks_crop[:, list(MOUTH_CORNERS + MOUTH_MIDPOINTS), :2]
    centre = pts.mean(axis=1)
    width = np.linalg.norm(pts[:, 0] - pts[:, 1], axis=-1)
    return np.concatenate([centre, 0.6 * width[:, None]], axis=1).astype(np.float32)


class TrainingData:
    """Held-out split and batch assembly from the memmaps (nothing is loaded whole).

    Validation is the project's held-out tail (core.holdout: the last ``val_fraction`` of the clip);
    training frames stop ``radius`` frames before it so no training window reaches into it.
    Frames without a face are never targets. The reference renderer's references come from the
    training frames only (``references``, see core.renderer.references).
    """

    def __init__(self, project, cache: CacheInfo, window: CropWindow, config, device: torch.device,
                 face_renderer=None) -> None:
        n_window, val_fraction, val_frames = config.n_window, config.val_fraction, config.val_frames
        self.store = CondStore(cache.folder)
        self.crops = load_crops(project)
        tracking = load_tracking(project)
        n = tracking.n_frames
        if len(self.store) != n or self.crops.shape[0] != n or self.crops.shape[1] != cache.crop_size:
            raise ProjectError("the renderer's cached inputs do not match the tracked clip. "
                               "Run 'prepare' again.")
        self.window, self.radius, self.device = window, n_window // 2, device
        mouth = mouth_gaussians(tracking.landmarks_crop)
        self.mouth = np.concatenate([window.points_to_window(mouth[:, :2]),
                                     mouth[:, 2:] * window.scale], axis=1).astype(np.float32)
        boundary = holdout_start(n, val_fraction)
        frames = np.arange(n)
        self.train_indices = frames[tracking.has_face & (frames < boundary - self.radius)]
        held_out = frames[tracking.has_face & (frames >= boundary)]
        if len(self.train_indices) < 8 or len(held_out) < 1:
            raise ProjectError(f"only {len(self.train_indices)} training frames with a face: the "
                               "clip is too short to train the renderer. Use at least 20 s of video.")
        pick = np.linspace(0, len(held_out) - 1, min(val_frames, len(held_out))).round().astype(int)
        self.val_indices = held_out[np.unique(pick)]
        self.n_frames = n
        self.references: ReferencePicker | None = None
        if config.renderer == "reference":
            self.references = ReferencePicker(self.train_indices, tracking.mouth_opening(), config.n_refs,
                                              gap=int(round(config.ref_gap_s * tracking.fps)))
        self.warper = self.vertices = None
        if config.renderer == "reference" and config.warp_refs:
            if face_renderer is None or not hasattr(face_renderer, "screen_vertices"):
                raise ProjectError("warping the references needs the fitted face model. Run 'prepare' first.")
            self.vertices = fitted_vertices(face_renderer)
            self.warper = ReferenceWarper(face_renderer.model, cache.crop_size)

    def batch(self, indices: np.ndarray, rng: np.random.Generator | None = None) -> Batch:
        """The Batch (see steps.Batch) of the given target frame indices, on the device. The
        reference renderer's references are drawn with ``rng`` (training), else the fixed ones."""
        indices = np.asarray(indices, dtype=np.int64)
        w = self.window
        ys, xs = slice(w.y0, w.y0 + w.side), slice(w.x0, w.x0 + w.side)
        offsets = np.arange(-self.radius, self.radius + 1)
        neighbours = np.clip(indices[:, None] + offsets, 0, self.n_frames - 1).reshape(-1)
        cond_pixels, masks = self.store.read(np.concatenate([neighbours, indices]))
        cond = self._window_of(cond_pixels[:len(neighbours), ys, xs], 255.0)  # (B*n, 3, s, s)
        cond = cond.reshape(len(indices), -1, w.size, w.size)
        mask = self._window_of(masks[len(neighbours):, ys, xs][..., None], 1.0)
        mask = (mask > 0.5).float()
        real = self._window_of(self.crops[indices, ys, xs], 255.0)
        target = real * mask
        if self.references is not None:
            refs = (self.references.sample(indices, rng) if rng is not None
                    else np.broadcast_to(self.references.fixed, (len(indices), len(self.references.fixed))))
            refs = np.ascontiguousarray(refs)
            if self.warper is not None:
                moved = np.stack([self.warper.warp(self.crops[r], self.vertices[r], self.vertices[t])
                                  for t, row in zip(indices, refs) for r in row])
                ref_pixels = self._window_of(moved[:, ys, xs], 255.0)
            else:
                ref_pixels = self._window_of(self.crops[refs.reshape(-1), ys, xs], 255.0)
            cond = torch.cat([cond, blank_lower_face(real, mask),
                              ref_pixels.reshape(len(indices), -1, w.size, w.size)], dim=1)
        mouth = torch.from_numpy(self.mouth[indices]).to(self.device)
        return Batch(cond=cond, target=target, mask=mask, mouth=mouth)

    def _window_of(self, pixels: np.ndarray, scale: float) -> torch.Tensor:
        """uint8 (B, h, w, C) -> float (B, C, size, size), divided by ``scale``."""
        t = torch.from_numpy(np.ascontiguousarray(pixels)).to(self.device)
        return resize(t.permute(0, 3, 1, 2).float().div_(scale), self.window.size)
