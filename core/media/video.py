"""Stream video frames on a constant frame-rate grid, upright, without holding the video in memory."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np

from core.errors import MediaError
from core.media.probe import MediaInfo, open_container, probe

log = logging.getLogger(__name__)


def upright(image: np.ndarray, rotation: int) -> np.ndarray:
    """Rotate a decoded HxWx3 image clockwise by ``rotation`` degrees (display matrix)."""
    if rotation == 90:
        return np.ascontiguousarray(np.rot90(image, k=-1))
    if rotation == 180:
        return np.ascontiguousarray(image[::-1, ::-1])
    if rotation == 270:
        return np.ascontiguousarray(np.rot90(image, k=1))
    return image


class VideoReader:
    """Frames of a video file as uint8 RGB HxWx3 arrays on the grid i / fps.

    Iterate for all frames in order (streamed: one decoded frame in memory at a time), or call
    :meth:`read` for random access (seeks to the nearest key frame before the index).
    Variable frame-rate sources are resampled: grid slot i shows the last source frame whose time
    is at most i / fps + half a slot, so frames are repeated or dropped, never shifted in time.
    """

    def __init__(self, path: Path | str, info: MediaInfo | None = None) -> None:
        self.path = Path(path)
        self.info = info or probe(self.path)
        if not self.info.has_video:
            raise MediaError(f"{self.path}: the file has no video stream. Choose a video of the person talking.")
        self.fps = self.info.fps
        self.frame_count = self.info.frame_count
        self.width, self.height = self.info.width, self.info.height

    def __len__(self) -> int:
        return self.frame_count

    def __iter__(self) -> Iterator[np.ndarray]:
        return self.frames()

    def frames(self, start: int = 0, stop: int | None = None) -> Iterator[np.ndarray]:
        """Yield frames ``start`` .. ``stop - 1`` (clipped to the video)."""
        stop = self.frame_count if stop is None else min(stop, self.frame_count)
        if start >= stop:
            return
        with open_container(self.path) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            if start > 0:
                self._seek(container, stream, start)
            yield from self._grid(container, stream, start, stop)

    def read(self, index: int) -> np.ndarray:
        """The frame at grid index ``index`` (0 <= index < frame_count)."""
        if not 0 <= index < self.frame_count:
            raise IndexError(f"frame {index} is outside 0..{self.frame_count - 1}")
        for frame in self.frames(index, index + 1):
            return frame
        raise MediaError(f"{self.path}: frame {index} could not be decoded.")

    def _seek(self, container, stream, index: int) -> None:
        target = (index - 0.5) / self.fps + self._start_time(stream)
        try:
            container.seek(int(max(target, 0) / stream.time_base), stream=stream, backward=True)
        except av.error.FFmpegError:
            container.seek(0, stream=stream)

    @staticmethod
    def _start_time(stream) -> float:
        return float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0

    def _grid(self, container, stream, start: int, stop: int) -> Iterator[np.ndarray]:
        t0 = self._start_time(stream)
        half = 0.5 / self.fps
        slot = start
        pending = None  # the av frame shown by the current slot
        image: np.ndarray | None = None  # its conversion, made once even when the slot repeats
        fallback_index = 0
        try:
            for frame in container.decode(stream):
                if frame.pts is not None:
                    t = float(frame.pts * stream.time_base) - t0
                else:  # no timestamps: assume the nominal rate
                    t = fallback_index / self.fps
                fallback_index += 1
                # Slots before this frame's time show the previous frame.
                while slot < stop and pending is not None and t > slot / self.fps + half:
                    if image is None:
                        image = self._convert(pending)
                    yield image
                    slot += 1
                if slot >= stop:
                    return
                pending, image = frame, None
        except av.error.FFmpegError as exc:
            log.warning("%s: decoding stopped at a damaged frame (%s)", self.path, exc)
        while slot < stop and pending is not None:
            if image is None:
                image = self._convert(pending)
            yield image
            slot += 1

    def _convert(self, frame) -> np.ndarray:
        return upright(frame.to_ndarray(format="rgb24"), self.info.rotation)
