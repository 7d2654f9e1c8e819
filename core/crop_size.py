"""How many pixels a face crop gets, and the renderer's network caps the choice follows.

"auto" (the default): the crop keeps the face's own resolution. Its side is the median stabilised
face box side in video pixels, rounded up to a multiple of CROP_STEP, never below MIN_CROP (small
faces are enlarged to 256 px as before, so 256 x 256 footage is cropped exactly as it always was),
and at most the side whose lower-face window still fits the reference renderer's network cap on
the device (the renderer then works at the window's own resolution, see core.renderer.config).
Tracking and the renderer's profiles both read these numbers, so the two cannot drift apart.
"""

from __future__ import annotations

import math

AUTO = 0
MIN_CROP = 256
CROP_STEP = 16  # rounding up to 16 px enlarges a face by at most 16 px (the network rounds its own side)
# Largest network side of the reference renderer per training profile (RendererTrainConfig.size).
NETWORK_CAP = {"cpu": 256, "gpu": 512}
# Lower-face window side over crop side: 197 px of a 256 px crop on the test clips (the union of
# the expanded masks over a clip; more head motion widens it a little).
WINDOW_SHARE = 0.77


def resolve_profile(profile: str) -> str:
    """'auto' -> 'gpu' when torch sees CUDA, else 'cpu'; 'cuda' is 'gpu'."""
    profile = {"cuda": "gpu"}.get(profile, profile)
    if profile == "auto":
        import torch  # lazy: the CLI's parser reads this module; torch loads only to ask for CUDA

        return "gpu" if torch.cuda.is_available() else "cpu"
    if profile not in NETWORK_CAP:
        raise ValueError(f"profile must be auto, cpu or gpu, not {profile!r}")
    return profile


def crop_cap(profile: str) -> int:
    """Largest automatic crop side: its lower-face window fits the network cap (cpu 320, gpu 656)."""
    cap = NETWORK_CAP[resolve_profile(profile)]
    return CROP_STEP * math.floor(cap / WINDOW_SHARE / CROP_STEP)


def auto_crop_size(box_side_px: float, profile: str = "auto") -> int:
    """The crop side for faces whose box (crop square) is ``box_side_px`` video pixels."""
    if not math.isfinite(box_side_px) or box_side_px <= 0:
        return MIN_CROP
    side = CROP_STEP * math.ceil(box_side_px / CROP_STEP - 1e-6)
    return int(min(max(side, MIN_CROP), max(crop_cap(profile), MIN_CROP)))


def parse_crop_size(text: str | int) -> int:
    """'auto' -> AUTO; a whole number of pixels (16-2048) -> itself. ValueError otherwise."""
    if isinstance(text, int):
        value = text
    elif str(text).strip().lower() == "auto":
        return AUTO
    else:
        try:
            value = int(str(text).strip())
        except ValueError:
            raise ValueError(f"crop size must be 'auto' or a number of pixels, not {text!r}") from None
    if value != AUTO and not 16 <= value <= 2048:
        raise ValueError(f"crop size must be 'auto' or between 16 and 2048 pixels, not {value}")
    return value
