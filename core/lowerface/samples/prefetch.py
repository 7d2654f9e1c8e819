"""The stored lower faces a sequence needs, decoded ahead of use.

Decoding a stored mouth (PNG) is a few milliseconds at 1080p; OpenCV releases the interpreter lock
while it decodes, so a worker thread decodes the next frames' sources while the current ones are
warped. A few dozen decoded sources are kept (a switch's dissolve reads the outgoing run again).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np


class DecodedSources:
    def __init__(self, index, keep: int = 48) -> None:
        self.index, self.keep = index, keep
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mouth-decode")
        self.decoded: OrderedDict[int, Future] = OrderedDict()

    def prefetch(self, frames: Iterable[int]) -> None:
        for frame in frames:
            frame = int(frame)
            if frame not in self.decoded and self.index.has(frame):
                self.decoded[frame] = self.pool.submit(self.index.pixels, frame)
        self._trim()

    def pixels(self, frame: int) -> np.ndarray:
        """uint8 (h, w, 3) RGB of the stored lower face of video frame ``frame``."""
        frame = int(frame)
        if frame not in self.decoded:
            self.decoded[frame] = self.pool.submit(self.index.pixels, frame)
        self.decoded.move_to_end(frame)
        image = self.decoded[frame].result()
        self._trim()
        return image

    def _trim(self) -> None:
        while len(self.decoded) > self.keep:
            self.decoded.popitem(last=False)
