"""The lower face painted by a trained network (the reference renderer or the paper's), and the
shared base of the crop-space variants.

A synthesizer turns (target frame indices, expressions) into, per output frame, a patch for that
frame (core.lowerface.patch), or None to pass the frame through (no face). ``timings`` accumulates
seconds per step for the benchmark.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator

import numpy as np
import torch

from core.facerender.composite import colour_match, colour_ring, composite_alpha
from core.facerender.render import FaceRenderer
from core.lowerface.patch import CropPatch
from core.renderer import NeuralRenderer
from core.renderer.checkpoint import BEST_FILE, LAST_FILE, load_config
from core.renderer.config import LEGACY_RENDERER
from core.renderer.data import FOLDER
from core.renderer.threads import ThreadTuner
from core.tracking import load_crops

log = logging.getLogger(__name__)

CHUNK = 8  # output frames rendered per batch


def has_trained_renderer(project) -> bool:
    """A checkpoint exists that was trained on the current face fit (a finished training, or one
    that was stopped part-way: its last checkpoint is usable)."""
    record, fitting = project.stage("renderer"), project.stage("fitting")
    folder = project.path(FOLDER)
    return (record.status in ("running", "cancelled", "done")
            and fitting.status == "done" and record.inputs.get("fitting") == fitting.key
            and ((folder / BEST_FILE).exists() or (folder / LAST_FILE).exists()))


def trained_kind(project) -> str:
    """'reference' or 'paper': the kind of the project's trained network (checkpoints from before
    the reference renderer record none and are the paper's)."""
    config = load_config(project.path(FOLDER))
    return config.renderer if config is not None else LEGACY_RENDERER


class CropSynthesizer:
    """Base of the variants that work in the project's face crops."""

    mode = "base"

    def __init__(self, project, ctx) -> None:
        self.project = project
        self.renderer = FaceRenderer(project, ctx)
        self.crops = load_crops(project)
        self.has_face = self.renderer.has_face
        self.timings: dict[str, float] = {}

    def frame_at(self, j: int, indices: np.ndarray, expressions: np.ndarray):
        """Output frame j of the sequence on its own (for scrubbing)."""
        return next(iter(self.frames(indices[j:j + 1], expressions[j:j + 1])), None)

    def _tick(self, key: str, since: float) -> float:
        now = time.perf_counter()
        self.timings[key] = self.timings.get(key, 0.0) + now - since
        return now


class NeuralSynthesizer(CropSynthesizer):
    """Renders t-3..t+3 with the predicted expressions, the U-Net makes the photoreal lower face (the
    reference renderer also sees the target frame around the blanked lower face and the project's
    reference frames), and it is colour-matched and blended into the target crop with the
    feathered mask."""

    mode = "neural"  # replaced by the network's kind once loaded

    def __init__(self, project, ctx) -> None:
        super().__init__(project, ctx)
        self.neural = NeuralRenderer.load(project, ctx)
        self.mode = self.neural.config.renderer
        self.coverage = self.neural.coverage
        # On a busy CPU one thread can beat all of them several times over: measure, keep the faster.
        self.tuner = ThreadTuner(torch.get_num_threads(), every_s=60.0) if not ctx.is_cuda else None

    def frames(self, indices: np.ndarray, expressions: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray] | None]:
        n = len(indices)
        half = self.neural.n_window // 2
        conditions: dict[int, torch.Tensor] = {}
        masks: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for c0 in range(0, n, CHUNK):
            c1 = min(c0 + CHUNK, n)
            t = time.perf_counter()
            needed = [j for j in range(max(c0 - half, 0), min(c1 + half, n)) if j not in conditions]
            if needed:
                out = self.renderer.render(indices[needed], expressions[needed])
                cond = self.neural.condition(out.image, out.expanded_mask)
                expanded = out.expanded_mask[:, 0].cpu().numpy()
                feathers = out.feather[:, 0].cpu().numpy()
                for k, j in enumerate(needed):
                    conditions[j] = cond[k]
                    masks[j] = (expanded[k], feathers[k])
            t = self._tick("render", t)
            window = torch.stack([torch.stack([conditions[min(max(j + d, 0), n - 1)]
                                               for d in range(-half, half + 1)]) for j in range(c0, c1)])
            frame = None
            if self.neural.uses_frame:  # the dubbed frame itself, its lower face blanked
                targets = [int(i) for i in indices[c0:c1]]
                vertices = None
                if self.neural.warp is not None:  # the references moved onto the new mouth's geometry
                    vertices = self.renderer.screen_vertices(indices[c0:c1], expressions[c0:c1]).cpu().numpy()
                frame = self.neural.frame_input(np.stack([np.asarray(self.crops[i]) for i in targets]),
                                                torch.from_numpy(np.stack([masks[j][0] for j in range(c0, c1)]))[:, None],
                                                vertices)
            with self.tuner.step() if self.tuner is not None else contextlib.nullcontext():
                generated = self.neural.to_crop(self.neural.generate(window, frame))
            generated = (generated.permute(0, 2, 3, 1).cpu().numpy() * 255.0)
            t = self._tick("neural", t)
            for k, j in enumerate(range(c0, c1)):
                target = int(indices[j])
                mask, feather = masks.pop(j)
                if not self.has_face[target]:
                    yield None
                    continue
                real = np.asarray(self.crops[target])
                alpha = composite_alpha(feather, self.coverage)
                matched = colour_match(generated[k], real, colour_ring(mask, alpha) & (alpha > 0))
                t = self._tick("composite", t)
                yield CropPatch(matched, alpha)
                t = time.perf_counter()
            for j in [j for j in conditions if j < c1 - half]:
                del conditions[j]


