"""The sample-based lower face: the person's own mouths, chosen by lip shape, moved by the mesh.

For a sequence of output frames (target video frames and wanted expressions): choose a stored real
frame per output frame (core.lowerface.samples.select), move its lower face onto the output
frame's mesh in the video's own pixels (core.lowerface.samples.warp), and hand over a FramePatch
with the feathered expanded mask as alpha. Where the chosen source jumps to another run, the
outgoing run is continued for a few frames and cross-faded into the incoming one after aligning
the two mouths with optical flow, so the change is a short dissolve, never a pop or a double set
of teeth. No training.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from core.facemodel.params import load_face_params
from core.lowerface.patch import FramePatch
from core.lowerface.samples.index import LipShape, load_sample_index
from core.lowerface.samples.mask import LowerFaceMask
from core.lowerface.samples.prefetch import DecodedSources
from core.lowerface.samples.select import SelectConfig, choose_sources
from core.lowerface.samples.warp import SampleWarper, region_of
from core.facerender.render import FaceRenderer
from core.tracking import load_tracking

log = logging.getLogger(__name__)

CHUNK = 8


@dataclass(frozen=True)
class SampleConfig:
    """fade: output frames over which a switch of source dissolves; align: align the outgoing and
    incoming mouths with optical flow before dissolving; exclude_from: stored frames from this video
    frame on are never used (the held-out tail when evaluating)."""

    select: SelectConfig = SelectConfig()
    fade: int = 3
    align: bool = True
    exclude_from: int | None = None
    motion_alpha: bool = True
    multiband: bool = True
    raster_scale: float = 0.5
    kernel: str = "lanczos"


class PosedMesh:
    """The fitted mesh of any frame, or a frame's head pose with another expression, in crop pixels
    (numpy: for one frame at a time this beats torch's overhead)."""

    def __init__(self, model, params, size: int) -> None:
        self.mean, self.basis = model.mean_shape, model.exp_basis.reshape(model.n_exp, -1)
        self.params, self.pixel_scale = params, size / params.crop_size

    def posed(self, frame: int, expression: np.ndarray) -> np.ndarray:
        shape = self.mean + (np.asarray(expression, np.float32) @ self.basis).reshape(-1, 3)
        p = self.params
        return (p.scale[frame] * self.pixel_scale) * (shape @ p.rotation[frame].T) + p.translation[frame] * self.pixel_scale

    def fitted(self, frame: int) -> np.ndarray:
        return self.posed(frame, self.params.expression[frame])


class SampleSynthesizer:
    mode = "sample"

    def __init__(self, project, ctx=None, config: SampleConfig = SampleConfig()) -> None:
        self.project, self.config = project, config
        self.index = load_sample_index(project)
        self.bank = DecodedSources(self.index)
        self.tracking = load_tracking(project)
        self.params = load_face_params(project)
        self.faces = FaceRenderer(project, ctx=None)
        self.has_face = self.faces.has_face
        model = self.faces.model
        self.lip_shape = LipShape(model, self.index.pixels_per_unit)
        self.warper = SampleWarper(model, self.faces.size, config.motion_alpha, config.raster_scale,
                                   config.kernel)
        self.mesh = PosedMesh(model, self.params, self.faces.size)
        self.lower_face_mask = LowerFaceMask(self.faces, self.mesh)
        self.frame_size = self.tracking.frame_size
        allowed = np.ones(len(self.index.frames), bool)
        if config.exclude_from is not None:
            allowed &= self.index.frames < config.exclude_from
        self.allowed = allowed
        self.timings: dict[str, float] = {}
        self._plan_key: tuple | None = None
        self._plan: np.ndarray | None = None
        self._flow = None

    # ---- the sequence ------------------------------------------------------------------------
    def plan(self, indices: np.ndarray, expressions: np.ndarray) -> np.ndarray:
        """int64 (T,): the video frame whose mouth each output frame shows (cached per sequence)."""
        key = (len(indices), hash(np.asarray(indices).tobytes()), hash(np.asarray(expressions).tobytes()))
        if key != self._plan_key:
            t = time.perf_counter()
            wanted = self.lip_shape(expressions)
            euler = self.params.euler_deg[np.asarray(indices)]
            chosen = choose_sources(self.index, wanted, euler, self.allowed, self.config.select)
            self._plan, self._plan_key = self.index.frames[chosen], key
            self._tick("select", t)
        return self._plan

    def frames(self, indices: np.ndarray, expressions: np.ndarray) -> Iterator[FramePatch | None]:
        sources = self.plan(indices, expressions)
        for c0 in range(0, len(indices), CHUNK):
            yield from self._chunk(indices, expressions, sources, c0, min(c0 + CHUNK, len(indices)))

    def frame_at(self, j: int, indices: np.ndarray, expressions: np.ndarray) -> FramePatch | None:
        """Output frame j of the sequence, as frames() would give it (for scrubbing)."""
        sources = self.plan(indices, expressions)
        return next(self._chunk(indices, expressions, sources, j, j + 1))

    def switches(self, indices: np.ndarray, expressions: np.ndarray) -> int:
        sources = self.plan(indices, expressions)
        return int(((sources[1:] != sources[:-1] + 1) & (sources[1:] != sources[:-1])).sum())

    # ---- one chunk ----------------------------------------------------------------------------
    def _chunk(self, indices, expressions, sources, c0: int, c1: int) -> Iterator[FramePatch | None]:
        t = time.perf_counter()
        self._prefetch(sources, c0, min(c1 + CHUNK, len(sources)))
        idx = np.asarray(indices[c0:c1])
        rasters = {}
        for k, target in enumerate(idx):
            if self.has_face[int(target)]:
                raster, lower_mask = self.warper.rasterize(self.mesh.posed(int(target), expressions[c0 + k]))
                rasters[k] = (raster, lower_mask, self.warper.motion_weight(raster))
        t = self._tick("raster", t)
        masks = {k: self.lower_face_mask(int(idx[k]), rasters[k][1]) for k in rasters}
        self._tick("masks", t)
        for k, j in enumerate(range(c0, c1)):
            if k not in rasters:
                yield None
                continue
            expanded, feather = masks[k]
            yield self._patch(j, int(idx[k]), rasters[k][0], expanded, feather * rasters[k][2], sources)

    def _patch(self, j: int, target: int, raster, expanded, feather, sources) -> FramePatch | None:
        t = time.perf_counter()
        ys, xs = np.nonzero(feather > 0)  # only where the result differs from the frame
        if len(xs) == 0:
            return None
        box = self.tracking.boxes[target]
        region = region_of(box, self.faces.size, (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1), self.frame_size)
        if region[2] < 2 or region[3] < 2:
            return None
        pixels = self._warped(int(sources[j]), raster, box, region)
        cover = self.warper.cover(raster.covered.astype(np.float32), box, region)
        t = self._tick("warp", t)
        fade = self._fade(j, sources)
        if fade is not None:
            outgoing, weight = fade
            pixels = self._dissolve(self._warped(outgoing, raster, box, region), pixels, weight)
            t = self._tick("crossfade", t)
        masks = self.warper.crop_to_region(np.dstack([feather, expanded]), box, region)
        alpha, mask = masks[..., 0] * cover, masks[..., 1] > 0.5
        ring = mask & (alpha < 0.95) & (alpha > 0)
        self._tick("masks", t)
        return FramePatch(region[0], region[1], pixels, np.clip(alpha, 0.0, 1.0), ring, self.config.multiband)

    def _warped(self, source: int, raster, box, region) -> np.ndarray:
        k = int(self.index.position[source])
        x0, y0 = int(self.index.rects[k, 0]), int(self.index.rects[k, 1])
        sample_map = self.warper.source_map(raster, self.mesh.fitted(source), self.tracking.boxes[source], (x0, y0))
        return self.warper.warp(self.bank.pixels(source), sample_map, box, region)

    def _prefetch(self, sources, j0: int, j1: int) -> None:
        """Start decoding the sources of output frames j0..j1 (and any outgoing run they dissolve from)."""
        wanted = [int(sources[j]) for j in range(j0, j1)]
        wanted += [fade[0] for fade in (self._fade(j, sources) for j in range(j0, j1)) if fade is not None]
        self.bank.prefetch(wanted)

    def _fade(self, j: int, sources) -> tuple[int, float] | None:
        """(outgoing source frame, weight of the incoming one) while output frame j lies within
        ``fade`` frames after a switch; None otherwise."""
        fade = self.config.fade
        for back in range(fade):
            s = j - back
            if s <= 0:
                break
            if sources[s] != sources[s - 1] + 1 and sources[s] != sources[s - 1]:
                outgoing = int(sources[s - 1]) + 1 + back
                if outgoing >= self.index.n_frames or self.index.position[outgoing] < 0:
                    return None
                if not self.allowed[self.index.position[outgoing]]:
                    return None
                return outgoing, (back + 1) / (fade + 1)
            if back > 0 and sources[s] != sources[s - 1] + 1:
                break
        return None

    def _dissolve(self, old: np.ndarray, new: np.ndarray, weight: float) -> np.ndarray:
        """Dissolve the outgoing into the incoming mouth without blurring either: with ``align``
        both are first moved part of the way toward each other along the optical flow between them
        (a morph, so lips and teeth meet instead of showing twice); then the coarse picture (shape,
        shading) blends by ``weight`` while the fine detail comes whole from the source that weighs
        more, since averaging two textures that never align exactly would soften them."""
        if self.config.align and min(old.shape[:2]) >= 16:
            if self._flow is None:
                self._flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
            grey_old = cv2.cvtColor(np.clip(old, 0, 255).astype(np.uint8), cv2.COLOR_RGB2GRAY)
            grey_new = cv2.cvtColor(np.clip(new, 0, 255).astype(np.uint8), cv2.COLOR_RGB2GRAY)
            flow = self._flow.calc(grey_new, grey_old, None)  # new pixel + flow -> the matching old pixel
            h, w = grey_old.shape
            gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
            # at weight w the picture sits (1 - w) of the way from the new toward the old positions
            new = cv2.remap(new, gx - (1 - weight) * flow[..., 0], gy - (1 - weight) * flow[..., 1],
                            cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
            old = cv2.remap(old, gx + weight * flow[..., 0], gy + weight * flow[..., 1],
                            cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
        sigma = max(1.0, min(old.shape[:2]) / 120)
        coarse_old, coarse_new = (cv2.GaussianBlur(x, (0, 0), sigma) for x in (old, new))
        detail = (new - coarse_new) if weight >= 0.5 else (old - coarse_old)
        return coarse_old * (1 - weight) + coarse_new * weight + detail

    def _tick(self, key: str, since: float) -> float:
        now = time.perf_counter()
        self.timings[key] = self.timings.get(key, 0.0) + now - since
        return now
