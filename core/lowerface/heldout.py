"""Self-reenactment figures of any lower-face variant on the held-out tail of the target video.

Each held-out frame is made again from its own fitted expression (what the renderer adds, apart
from lip sync) through the variant's synthesizer and the one composite step, and compared with the
original: PSNR, SSIM and mean absolute error inside the expanded mask, on the full frame, the mouth
sharpness at full resolution (generated over real), and temporal stability (mean absolute change
between consecutive output frames inside the mask, over the same for the real frames: about 1 is
no added flicker, a popping mouth raises it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np

from core.holdout import holdout_start
from core.media import VideoReader
from core.metrics import MouthSharpness, psnr, ssim
from core.facerender.render import FaceRenderer
from core.tracking import load_tracking
from core.tracking.crop import crop_image

log = logging.getLogger(__name__)


def heldout_frames(tracking, max_frames: int) -> np.ndarray:
    """Consecutive frames at the start of the held-out tail (all of them, face or not)."""
    n = tracking.n_frames
    start = holdout_start(n)
    return np.arange(start, min(n, start + max_frames))


def heldout_scores(project, synth, max_frames: int = 150,
                   on_composite: Callable[[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray], None] | None = None
                   ) -> dict[str, float]:
    """Figures of ``synth`` (any lower-face synthesizer) over up to ``max_frames`` held-out frames.

    on_composite(i, result_crop, real_crop, result_frame, frame) sees every frame with a face (for
    a contact sheet). Returns a dict of means."""
    tracking = load_tracking(project)
    frames = heldout_frames(tracking, max_frames)
    faces = FaceRenderer(project)
    expressions = faces.fitted_expression(frames).numpy()
    size = tracking.crop_size
    figures: dict[str, list[float]] = {k: [] for k in ("mask_psnr", "mask_ssim", "mask_mae", "full_psnr", "full_ssim")}
    sharpness = MouthSharpness()
    motion_out, motion_real = [], []
    prev = None
    reader = VideoReader(project.source_video)
    patches = synth.frames(frames, expressions)
    for j, (frame, patch) in enumerate(zip(reader.frames(int(frames[0]), int(frames[-1]) + 1), patches)):
        i = int(frames[j])
        if patch is None or not tracking.has_face[i]:
            prev = None
            continue
        box = tracking.boxes[i]
        result = patch.apply(frame, box)
        mask = faces.render(np.array([i])).expanded_mask[0, 0].numpy() > 0.5
        res_crop, real_crop = crop_image(result, box, size), crop_image(frame, box, size)
        figures["mask_psnr"].append(psnr(res_crop, real_crop, mask))
        figures["mask_ssim"].append(ssim(res_crop, real_crop, mask))
        figures["mask_mae"].append(float(np.abs(res_crop.astype(np.float32) - real_crop)[mask].mean()))
        figures["full_psnr"].append(psnr(result, frame))
        figures["full_ssim"].append(ssim(result, frame))
        sharpness.add(result, frame, tracking.landmarks[i])
        if prev is not None:
            prev_out, prev_real, prev_mask = prev
            both = mask  # the current frame's mask, as the trained renderer's bench measured
            motion_out.append(float(np.abs(res_crop.astype(np.float32) - prev_out)[both].mean()))
            motion_real.append(float(np.abs(real_crop.astype(np.float32) - prev_real)[both].mean()))
        prev = (res_crop.astype(np.float32), real_crop.astype(np.float32), mask)
        if on_composite is not None:
            on_composite(i, res_crop, real_crop, result, frame)
    summary = {k: float(np.mean(v)) for k, v in figures.items() if v}
    summary["frames"] = len(figures["mask_psnr"])
    summary.update(sharpness.figures())
    if motion_real:
        summary["temporal_change_ratio"] = float(np.mean(motion_out) / max(np.mean(motion_real), 1e-6))
    if hasattr(synth, "switches"):
        summary["source_switches"] = synth.switches(frames, expressions)
    return summary
