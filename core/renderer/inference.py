"""Inference with a trained renderer: masked face renders (and, for the reference renderer, the
target frame with its lower face blanked plus the project's reference frames) in, photoreal lower
face out."""

from __future__ import annotations

import logging

import numpy as np
import torch

from core.errors import ProjectError
from core.facerender.render import FaceRenderer
from core.renderer.build import build_generator
from core.renderer.checkpoint import BEST_FILE, LAST_FILE, load_checkpoint
from core.renderer.config import RendererTrainConfig
from core.renderer.data import FOLDER
from core.renderer.references import blank_lower_face
from core.renderer.steps import generate
from core.renderer.warp import ReferenceWarper, fitted_vertices
from core.renderer.window import CropWindow
from core.tracking import load_crops

log = logging.getLogger(__name__)


class NeuralRenderer:
    """A trained generator and the crop window it works in.

    Typical use per output frame t (S = crop size, s = network size)::

        cond_t = nr.condition(render.image, render.expanded_mask)      # (B, 3, s, s), once per frame
        frame_t = nr.frame_input(real_crop_t, render.expanded_mask)   # reference renderer only
                                             # (+ the target's vertices when it warps references)
        out = nr.generate(torch.stack([cond_{t-3}, ..., cond_{t+3}], 1), frame_t) # (B, 3, s, s)
        crop_out = nr.to_crop(out)                                        # (B, 3, S, S), 0 off-window
    then core.facerender.composite.composite_frame(...) with the render's feather mask times ``nr.coverage``.

    references: float (1, 3 * n_refs, s, s) windows of the project's reference frames in [0, 1]
    (reference renderer; None for the paper's). With ``warp_refs``: ``warp`` = (ReferenceWarper,
    reference crops uint8 (n_refs, S, S, 3), their fitted vertices float (n_refs, V, 3)), and
    frame_input() needs the target's vertices.
    """

    def __init__(self, generator: torch.nn.Module, config: RendererTrainConfig, window: CropWindow,
                 device: torch.device, step: int = 0, references: torch.Tensor | None = None,
                 warp=None) -> None:
        self.generator = generator.eval()
        self.config, self.window, self.device, self.step = config, window, device, step
        if config.renderer == "reference" and (references is None or references.shape[1] != 3 * config.n_refs):
            raise ValueError(f"the reference renderer needs {config.n_refs} reference frames")
        if config.renderer == "reference" and config.warp_refs and warp is None:
            raise ValueError("this renderer warps its references: give the warper and the reference crops")
        self.references = None if references is None else references.to(device).float()
        self.warp = warp if config.warp_refs else None

    @property
    def uses_frame(self) -> bool:
        """Whether generate() needs frame_input(): the reference renderer sees the target frame."""
        return self.config.renderer == "reference"

    @classmethod
    def load(cls, project, ctx=None) -> "NeuralRenderer":
        """The best checkpoint (by held-out error) of the project, else the last one.

        ctx: gpu.device.ComputeContext or None (CPU). Raises ProjectError if nothing is trained.
        """
        device = ctx.device if ctx is not None else torch.device("cpu")
        folder = project.path(FOLDER)
        path = folder / BEST_FILE if (folder / BEST_FILE).exists() else folder / LAST_FILE
        if not path.exists():
            raise ProjectError(f"{project.root}: the neural renderer is not trained yet. Run "
                               "'python main.py train-renderer --project DIR' first.")
        state = load_checkpoint(path, device)
        config = RendererTrainConfig.from_json(state["config"])
        window = CropWindow.from_json(state["window"])
        gen = build_generator(config, window.size)
        try:
            gen.load_state_dict(state["generator"])
        except RuntimeError as exc:
            raise ProjectError(f"{path}: this renderer checkpoint does not match this version of the "
                               f"app ({exc.__class__.__name__}). Train the renderer again.") from exc
        references = None
        if config.renderer == "reference":
            frames = [int(i) for i in state.get("references", [])]
            if len(frames) != config.n_refs:
                raise ProjectError(f"{path}: the checkpoint names no reference frames. Train the "
                                   "renderer again.")
            crops = load_crops(project)
            ref_crops = np.stack([np.asarray(crops[i]) for i in frames])
            pixels = torch.from_numpy(ref_crops).permute(0, 3, 1, 2)
            references = window.cut(pixels.float() / 255.0).reshape(1, -1, window.size, window.size)
            warp = None
            if config.warp_refs:
                faces = FaceRenderer(project, ctx)
                warp = (ReferenceWarper(faces.model, faces.size), ref_crops, fitted_vertices(faces, frames))
        return cls(gen.to(device), config, window, device, int(state.get("step", 0)), references,
                   warp if config.renderer == "reference" else None)

    @property
    def n_window(self) -> int:
        return self.config.n_window

    @property
    def coverage(self) -> np.ndarray:
        """float32 (S, S): 1 where the generator's output lies in the crop, 0 elsewhere."""
        return self.window.coverage()

    def condition(self, image: torch.Tensor, expanded_mask: torch.Tensor) -> torch.Tensor:
        """Network input of one frame: float (B, 3, S, S) render in [0, 1] and (B, 1, S, S) mask in
        {0, 1} -> float (B, 3, s, s) in [0, 1] on the renderer's device (quantised to 8 bits like
        the training cache)."""
        if image.ndim != 4 or image.shape[1] != 3 or expanded_mask.shape[-2:] != image.shape[-2:]:
            raise ValueError(f"expected image (B,3,S,S) and mask (B,1,S,S), got {tuple(image.shape)} "
                             f"and {tuple(expanded_mask.shape)}")
        m = (expanded_mask.to(self.device).float() > 0.5).float()
        masked = ((image.to(self.device).float() * m).clamp(0, 1) * 255).round() / 255
        return self.window.cut(masked)

    def frame_input(self, real_crop, expanded_mask: torch.Tensor, vertices: np.ndarray | None = None) -> torch.Tensor:
        """What the reference renderer sees of the target frames besides the renders: real crop
        (B, S, S, 3) uint8 (numpy or torch) and the expanded mask (B, 1, S, S) of the expression
        being rendered -> float (B, 4 + 3 n_refs, s, s): the window with the mask blanked, the
        mask, then the references (as in training). vertices: float (B, V, 3) target geometry
        with the rendered expression (needed when the references are warped)."""
        real = torch.from_numpy(np.array(real_crop, np.uint8)).to(self.device).permute(0, 3, 1, 2).float() / 255.0
        mask = (self.window.cut(expanded_mask.to(self.device).float()) > 0.5).float()
        b = real.shape[0]
        if self.warp is not None:
            if vertices is None or len(vertices) != b:
                raise ValueError("this renderer warps its references onto the target: give its vertices")
            warper, crops, ref_vertices = self.warp
            moved = np.stack([warper.warp(crops[k], ref_vertices[k], np.asarray(v))
                              for v in vertices for k in range(len(crops))])
            refs = self.window.cut(torch.from_numpy(moved).to(self.device).permute(0, 3, 1, 2).float() / 255.0)
            refs = refs.reshape(b, -1, self.window.size, self.window.size)
        else:
            refs = self.references.expand(b, -1, -1, -1)
        return torch.cat([blank_lower_face(self.window.cut(real), mask), refs], dim=1)

    @torch.no_grad()
    def generate(self, window: torch.Tensor, frame: torch.Tensor | None = None) -> torch.Tensor:
        """float (B, n_window, 3, s, s) conditions of frames t-3..t+3 in [0, 1] (and, for the
        reference renderer, ``frame``: frame_input() of the target frames) -> float (B, 3, s, s)
        generated lower face in [0, 1] on the renderer's device (valid inside the expanded mask)."""
        expected = (self.n_window, 3, self.window.size, self.window.size)
        if window.ndim != 5 or tuple(window.shape[1:]) != expected:
            raise ValueError(f"expected a window of shape (B, {expected}), got {tuple(window.shape)}")
        x = window.to(self.device).float().flatten(1, 2)
        if self.uses_frame:
            if frame is None or frame.shape[0] != x.shape[0]:
                raise ValueError("the reference renderer needs the target frames (frame_input)")
            x = torch.cat([x, frame.to(self.device).float()], dim=1)
        return generate(self.generator, x).clamp(0, 1)

    def to_crop(self, generated: torch.Tensor) -> torch.Tensor:
        """float (B, 3, s, s) -> (B, 3, S, S) in crop coordinates, 0 outside the window."""
        return self.window.paste(generated)
