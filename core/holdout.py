"""The held-out tail of the target video: never trained on, used for validation and evaluation."""

from __future__ import annotations

HOLDOUT_FRACTION = 0.2


def holdout_start(n_frames: int, fraction: float = HOLDOUT_FRACTION) -> int:
    """First frame of the held-out tail (the last ``fraction`` of the video, at least one frame)."""
    return max(1, min(n_frames - 1, int(round(n_frames * (1.0 - fraction)))))
