"""Playback of a frame viewer on the wall clock, with sound: frames the viewer cannot keep up with
are skipped, the sound never waits for them (the Dub page's preview, the Quality page's video)."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject, QTimer

from app import audio_io


class ClockedPlayback(QObject):
    def __init__(self, viewer, on_stop: Callable[[], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.viewer = viewer
        self.on_stop = on_stop
        self.player: audio_io.Player | None = None
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._tick)
        self._fps = 25.0
        self._start = (0.0, 0)  # (monotonic time, frame) when playback started

    @property
    def active(self) -> bool:
        return self.timer.isActive()

    def start(self, fps: float, audio: np.ndarray | None = None, rate: int = 48000) -> bool:
        """Play from the viewer's frame (from the first at the end); True if the sound plays too."""
        if self.viewer.frame >= self.viewer.frame_count - 1:
            self.viewer.set_frame(0)
        with_sound = False
        if audio is not None:
            if self.player is None:
                self.player = audio_io.Player()
            with_sound = self.player.play(audio, rate)
        self._fps = fps
        self._start = (time.monotonic(), self.viewer.frame)
        self.timer.start(max(int(1000 / fps / 2), 10))
        return with_sound

    def stop(self) -> None:
        if self.timer.isActive():
            self.timer.stop()
            if self.player is not None:
                self.player.stop()
        self.on_stop()

    def _tick(self) -> None:
        t0, frame0 = self._start
        frame = frame0 + int((time.monotonic() - t0) * self._fps)
        if frame >= self.viewer.frame_count:
            self.stop()
        elif frame != self.viewer.frame:
            self.viewer.set_frame(frame)
