"""Renders of the fitted face and the masks the neural renderer and the compositing use (paper 3.3).

``FaceRenderer(project).render(frames, expression)`` draws, per frame, in the crop's pixel space:
the SH-shaded face, its mask, the lower-face mask (triangles touching a vertex below the nose tip,
plus the inside of the mouth),
the expanded mask (lower face ∪ the lower face with the jaw fully open ∪ the lower face with the
neutral expression, dilated), and the feathered compositing mask (the expanded mask eroded and
blurred). Camera: weak perspective (see core.facemodel.params); rasterised orthographically.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from core.errors import DubError
from core.facemodel.model import load_face_model
from core.facemodel.params import load_face_params
from gpu.device import torch_threads
from gpu.rasterize import interpolate, rasterize
from gpu.shading import sh_shade, vertex_normals

log = logging.getLogger(__name__)

# Mask sizes of the reference code at 256 px, scaled with the render size.
DILATE_STEPS, ERODE_STEPS, BLUR_KERNEL = 4, 9, 5


@dataclass
class RenderOutput:
    """Batch of B renders, S x S, float32 tensors on the renderer's device.

    image (B, 3, S, S) in [0, 1], 0 outside the face; face_mask, lower_mask, expanded_mask
    (B, 1, S, S) in {0, 1}; feather (B, 1, S, S) in [0, 1]."""

    image: torch.Tensor
    face_mask: torch.Tensor
    lower_mask: torch.Tensor
    expanded_mask: torch.Tensor
    feather: torch.Tensor


def single_thread(enabled: bool = True):
    """Run torch's CPU kernels on one thread inside the block. The tensors here are small (one
    crop, a few hundred vertices): threading gains little, and on a busy machine OpenMP's waiting
    made each op 10-100 times slower (measured: 466 vs 38 ms per render under load)."""
    return torch_threads(1, enabled)


def dilate(mask: torch.Tensor, steps: int) -> torch.Tensor:
    """(B, 1, H, W) {0,1} -> dilated by a 3x3 square ``steps`` times, i.e. by a (2*steps+1) square,
    done as two 1-D max pools (a square is separable)."""
    if steps <= 0:
        return mask
    k = 2 * steps + 1
    out = F.max_pool2d(mask, (1, k), stride=1, padding=(0, steps))
    return F.max_pool2d(out, (k, 1), stride=1, padding=(steps, 0))


def erode(mask: torch.Tensor, steps: int) -> torch.Tensor:
    return 1.0 - dilate(1.0 - mask, steps)


def gaussian_blur(mask: torch.Tensor, kernel: int) -> torch.Tensor:
    """(B, 1, H, W) -> blurred by a normalised ``kernel`` x ``kernel`` Gaussian (sigma as OpenCV's default)."""
    if kernel <= 1:
        return mask
    sigma = 0.3 * ((kernel - 1) * 0.5 - 1) + 0.8
    x = torch.arange(kernel, dtype=mask.dtype, device=mask.device) - (kernel - 1) / 2
    g = torch.exp(-x ** 2 / (2 * sigma ** 2))
    g = g / g.sum()
    pad = kernel // 2
    out = F.conv2d(F.pad(mask, (pad, pad, 0, 0), mode="replicate"), g.view(1, 1, 1, -1))
    return F.conv2d(F.pad(out, (0, 0, pad, pad), mode="replicate"), g.view(1, 1, -1, 1))


class FaceRenderer:
    """The fitted face model of a project, ready to render any frame with any expression.

    n_frames: frames of the target video; n_exp: K expression coefficients; size: S render pixels.
    Everything is on ``ctx.device`` (CPU by default). The pose-only part of the expanded mask
    (neutral and jaw-open renders) is cached per frame.
    """

    def __init__(self, project, ctx=None, size: int | None = None, cache_frames: int | None = None) -> None:
        self.model = load_face_model(project)
        self.params = load_face_params(project)
        self.device = torch.device("cpu") if ctx is None else ctx.device
        self.size = int(size or self.params.crop_size)
        if self.size < 16:
            raise ValueError(f"render size must be at least 16 pixels, not {self.size}")
        self.pixel_scale = self.size / self.params.crop_size
        t = lambda a, dtype=torch.float32: torch.as_tensor(np.asarray(a), dtype=dtype, device=self.device)
        m, p = self.model, self.params
        self._mean = t(m.mean_shape)
        self._basis = t(m.exp_basis.reshape(m.n_exp, -1))
        self._albedo = t(m.albedo)
        # The surface, then the mouth cap (drawn into the masks only): tri_id >= n_surface is the
        # inside of the mouth.
        self._n_surface = len(m.triangles)
        all_triangles = np.concatenate([m.triangles, m.mouth_cap]).astype(np.int64)
        self._triangles = t(m.triangles, torch.int64)
        self._all_triangles = t(all_triangles, torch.int64)
        lower = m.lower_vertices[all_triangles].any(axis=1)
        lower[self._n_surface:] = True
        self._lower_triangles = t(all_triangles[lower], torch.int64)
        self._is_lower_triangle = t(np.r_[lower, False], torch.bool)  # index -1 (no triangle) -> False
        self._rotation, self._scale = t(p.rotation), t(p.scale) * self.pixel_scale
        self._translation = t(p.translation) * self.pixel_scale
        self._sh, self._expression = t(p.sh), t(p.expression)
        self._jaw = torch.zeros(m.n_exp, device=self.device)
        self._jaw[m.jaw_index] = m.jaw_open
        self._static_cache: OrderedDict[int, torch.Tensor] = OrderedDict()
        # About 64 MB of bool masks: 1024 frames at 256 px, 163 at 640 px.
        self._cache_frames = cache_frames or max(64, (64 << 20) // (self.size * self.size))
        ratio = self.size / 256
        self._dilate = max(1, round(DILATE_STEPS * ratio))
        self._erode = max(1, round(ERODE_STEPS * ratio))
        self._blur = max(3, int(round(BLUR_KERNEL * ratio)) | 1)

    @property
    def n_frames(self) -> int:
        return self.params.n_frames

    @property
    def n_exp(self) -> int:
        return self.model.n_exp

    @property
    def has_face(self) -> np.ndarray:
        """bool (N,): frames where a face was tracked (the others only carry interpolated params)."""
        return self.params.has_face

    def fitted_expression(self, frames) -> torch.Tensor:
        """float32 (B, K) fitted expression of the frames, on the renderer's device."""
        return self._expression[self._frame_index(frames)]

    def screen_vertices(self, frames, expression=None) -> torch.Tensor:
        """float32 (B, V, 3): model vertices in render pixels (x, y) and depth."""
        idx = self._frame_index(frames)
        exp = self._expression_tensor(idx, expression)
        return self._project(idx, self._shape(exp))

    def render(self, frames, expression=None) -> RenderOutput:
        """Render frames (int array-like (B,), 0 <= f < n_frames) with expression float (B, K)
        (numpy or torch; None = the fitted one). Returns a RenderOutput of S x S tensors.
        No gradients; on the CPU torch runs single-threaded here (see single_thread)."""
        with torch.no_grad(), single_thread(self.device.type == "cpu"):
            return self._render(frames, expression)

    def _render(self, frames, expression) -> RenderOutput:
        idx = self._frame_index(frames)
        exp = self._expression_tensor(idx, expression)
        shapes = self._shape(exp)
        screen = self._project(idx, shapes)
        raster = rasterize(screen, self._all_triangles, self.size, self.size, perspective=False)
        normals = vertex_normals(shapes, self._triangles) @ self._rotation[idx].transpose(1, 2)
        colours = sh_shade(normals, self._sh[idx], self._albedo).clamp(0.0, 1.0)
        face_mask = ((raster.tri_id >= 0) & (raster.tri_id < self._n_surface)).unsqueeze(1).float()
        image = interpolate(colours, raster, self._all_triangles).permute(0, 3, 1, 2).clamp(0.0, 1.0)
        image = image * face_mask
        lower_mask = self._is_lower_triangle[raster.tri_id].unsqueeze(1).float()
        expanded, feather = self._expand_and_feather(torch.maximum(lower_mask, self._static_masks(idx)))
        return RenderOutput(image=image.contiguous(), face_mask=face_mask, lower_mask=lower_mask,
                            expanded_mask=expanded, feather=feather)

    # ---- internals --------------------------------------------------------------------------
    def _expand_and_feather(self, union: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 1, S, S) union of lower masks -> (expanded, feather). OpenCV on the CPU (about ten
        times faster than torch's pooling there), torch on CUDA."""
        if self.device.type != "cpu":
            expanded = dilate(union, self._dilate)
            return expanded, gaussian_blur(erode(expanded, self._erode), self._blur).clamp(0.0, 1.0)
        expanded, feather = zip(*(self.expand_and_feather(m) for m in union[:, 0].numpy()))
        return torch.from_numpy(np.stack(expanded))[:, None], torch.from_numpy(np.stack(feather))[:, None]

    def expand_and_feather(self, union: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One float32 (S, S) union of lower masks -> (expanded, feather), with OpenCV."""
        square = np.ones((3, 3), np.uint8)
        grown = cv2.dilate(np.asarray(union, np.float32), square, iterations=self._dilate)
        shrunk = cv2.erode(grown, square, iterations=self._erode, borderType=cv2.BORDER_REPLICATE)
        feather = cv2.GaussianBlur(shrunk, (self._blur, self._blur), 0, borderType=cv2.BORDER_REPLICATE)
        return grown, np.clip(feather, 0.0, 1.0)

    def _frame_index(self, frames) -> torch.Tensor:
        idx = torch.as_tensor(np.asarray(frames, dtype=np.int64).reshape(-1), device=self.device)
        if idx.numel() == 0:
            raise ValueError("render needs at least one frame index")
        if int(idx.min()) < 0 or int(idx.max()) >= self.n_frames:
            raise ValueError(f"frame indices must lie in 0..{self.n_frames - 1}, got "
                             f"{int(idx.min())}..{int(idx.max())}")
        return idx

    def _expression_tensor(self, idx: torch.Tensor, expression) -> torch.Tensor:
        if expression is None:
            return self._expression[idx]
        exp = torch.as_tensor(expression, dtype=torch.float32, device=self.device)
        if exp.shape != (idx.numel(), self.n_exp):
            raise DubError(f"The expression sequence has shape {tuple(exp.shape)} but this face model "
                           f"needs ({idx.numel()}, {self.n_exp}): the audio model was trained for "
                           "another face fit. Retrain the audio model after 'prepare'.")
        return exp

    def _shape(self, exp: torch.Tensor) -> torch.Tensor:
        return self._mean + (exp @ self._basis).view(exp.shape[0], -1, 3)

    def _project(self, idx: torch.Tensor, shapes: torch.Tensor) -> torch.Tensor:
        rotated = shapes @ self._rotation[idx].transpose(1, 2)
        return self._scale[idx, None, None] * rotated + self._translation[idx, None]

    def _static_masks(self, idx: torch.Tensor) -> torch.Tensor:
        """(B, 1, S, S): union of the lower-face masks with the neutral and the jaw-open expression,
        which depend only on the frame's pose."""
        missing = sorted({int(i) for i in idx.tolist()} - self._static_cache.keys())
        if missing:
            miss = torch.tensor(missing, device=self.device)
            exp = torch.cat([torch.zeros(len(missing), self.n_exp, device=self.device),
                             self._jaw.expand(len(missing), -1)])
            screen = self._project(torch.cat([miss, miss]), self._shape(exp))
            mask = rasterize(screen, self._lower_triangles, self.size, self.size, perspective=False).mask
            union = torch.maximum(mask[:len(missing)], mask[len(missing):]).to(torch.bool)
            for j, frame in enumerate(missing):
                self._static_cache[frame] = union[j]
        out = []
        for i in idx.tolist():
            self._static_cache.move_to_end(i)
            out.append(self._static_cache[i])
        while len(self._static_cache) > self._cache_frames:
            self._static_cache.popitem(last=False)
        return torch.stack(out).float()
