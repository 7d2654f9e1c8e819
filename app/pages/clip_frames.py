"""The project's video itself, frame by frame, for the viewers before anything is computed (a new
project shows its clip, not a black box)."""

from __future__ import annotations

import numpy as np

from app.frames import OVERLAYS

NOT_YET = "Available after face capture."


class ClipFrames:
    """Frames of ``project.source_video`` with PreparedFrames' face (``image(i, overlays)``; the
    overlays are all unavailable) and DubPreview's (``frame_pair(i)``: the frame beside itself)."""

    def __init__(self, project) -> None:
        from core.media import VideoReader

        self.reader = VideoReader(project.source_video)
        self.n_frames = self.reader.frame_count
        self.fps = self.reader.fps
        self.tracking = None
        self.unavailable = {name: NOT_YET for name in OVERLAYS}

    def image(self, index: int, overlays=frozenset()) -> np.ndarray:
        return self.reader.read(index)

    def frame_pair(self, index: int):
        from app.frames import FramePair

        frame = self.reader.read(index)
        return FramePair(frame, frame, None)
