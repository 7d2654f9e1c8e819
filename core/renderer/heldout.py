"""Self-reenactment figures of a trained renderer on the held-out tail of the target video.

For each held-out frame: render the fitted expressions of t-3..t+3, generate, composite into the
original full-resolution frame, and compare with the original (SSIM, PSNR inside the expanded mask
and on the full frame). The raw 3D render composited the same way is the "without neural renderer"
baseline (the paper's comparison). Temporal stability: the mean absolute change between consecutive
output frames inside the mask, over the same figure for the real frames (about 1 = no added flicker).
Mouth sharpness: the Laplacian variance of the mouth box at full resolution, composited over real
(core.metrics.MouthSharpness).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
import torch

from core.facerender.composite import composite_frame
from core.facerender.render import FaceRenderer
from core.holdout import holdout_start
from core.media import VideoReader
from core.metrics import MouthSharpness, psnr, ssim
from core.renderer.inference import NeuralRenderer
from core.tracking import load_crops, load_tracking
from core.tracking.crop import crop_image

log = logging.getLogger(__name__)


def heldout_figures(project, renderer=None, max_frames: int = 150,
                    on_composite: Callable[[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray], None]
                    | None = None) -> dict[str, float]:
    """Figures over up to ``max_frames`` consecutive frames at the start of the held-out tail.

    renderer: a NeuralRenderer (default: NeuralRenderer.load(project)). on_composite(i, result,
    real, result_frame, frame) receives each frame's composited and original face crops (uint8
    (S, S, 3)) and full frames (uint8 (H, W, 3)) for a contact sheet. Returns a dict of means.
    """
    if renderer is None:
        renderer = NeuralRenderer.load(project)

    face_renderer = FaceRenderer(project, ctx=None)
    tracking = load_tracking(project)
    crops = load_crops(project)
    n, r, size = tracking.n_frames, renderer.n_window // 2, tracking.crop_size
    start = holdout_start(n)
    frames = np.arange(start, min(n, start + max_frames))
    frames = frames[tracking.has_face[frames]]
    coverage = renderer.coverage
    renders: dict[int, tuple] = {}  # frame -> (condition, render, mask, feather)
    figures: dict[str, list[float]] = {k: [] for k in (
        "mask_psnr", "mask_ssim", "full_psnr", "full_ssim", "render_mask_psnr", "render_mask_ssim",
        "mask_mae")}
    prev_out = prev_real = None
    sharpness = MouthSharpness()
    motion_out, motion_real = [], []
    wanted = set(int(i) for i in frames)
    reader = VideoReader(project.source_video)
    done = 0
    for i, frame in enumerate(reader):
        if i > frames[-1]:
            break
        if i not in wanted:
            continue
        window = [int(np.clip(j, 0, n - 1)) for j in range(i - r, i + r + 1)]
        for j in window:
            if j not in renders:
                out = face_renderer.render(np.array([j]), None)
                renders[j] = (renderer.condition(out.image, out.expanded_mask),
                              (out.image[0].permute(1, 2, 0).cpu().numpy() * 255).astype(np.float32),
                              out.expanded_mask[0, 0].cpu().numpy() > 0.5, out.feather[0, 0].cpu().numpy())
        _, render_np, mask, feather = renders[i]
        real_crop = np.asarray(crops[i])
        frame_in = None
        if renderer.uses_frame:
            vertices = face_renderer.screen_vertices(np.array([i])).numpy() if renderer.warp is not None else None
            frame_in = renderer.frame_input(real_crop[None], torch.from_numpy(mask[None, None].astype(np.float32)),
                                            vertices)
        gen = renderer.to_crop(renderer.generate(torch.stack([renders[j][0] for j in window], 1), frame_in))
        gen_np = (gen[0].permute(1, 2, 0).cpu().numpy() * 255).astype(np.float32)
        box = tracking.boxes[i]
        result = composite_frame(frame, box, real_crop, gen_np, mask, feather, coverage)
        baseline = composite_frame(frame, box, real_crop, render_np, mask, feather, coverage)
        res_crop, base_crop = crop_image(result, box, size), crop_image(baseline, box, size)
        real_again = crop_image(frame, box, size)
        region = mask & (coverage > 0)
        figures["mask_psnr"].append(psnr(res_crop, real_again, region))
        figures["mask_ssim"].append(ssim(res_crop, real_again, region))
        figures["mask_mae"].append(float(np.abs(res_crop.astype(np.float32) - real_again)[region].mean()))
        figures["render_mask_psnr"].append(psnr(base_crop, real_again, region))
        figures["render_mask_ssim"].append(ssim(base_crop, real_again, region))
        figures["full_psnr"].append(psnr(result, frame))
        figures["full_ssim"].append(ssim(result, frame))
        sharpness.add(result, frame, tracking.landmarks[i])
        if prev_out is not None:
            motion_out.append(float(np.abs(res_crop.astype(np.float32) - prev_out)[region].mean()))
            motion_real.append(float(np.abs(real_again.astype(np.float32) - prev_real)[region].mean()))
        if on_composite is not None:
            on_composite(i, res_crop, real_again, result, frame)
        prev_out, prev_real = res_crop.astype(np.float32), real_again.astype(np.float32)
        for j in [j for j in renders if j < i - r]:
            del renders[j]
        done += 1
    summary = {k: float(np.mean(v)) for k, v in figures.items() if v}
    summary["frames"] = done
    summary.update(sharpness.figures())
    if motion_real:
        summary["temporal_change_ratio"] = float(np.mean(motion_out) / max(np.mean(motion_real), 1e-6))
    return summary
