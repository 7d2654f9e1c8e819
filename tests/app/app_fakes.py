"""Small stand-ins for pipeline jobs and the sound device, driven by real media from ../shared/data.

The fake jobs yield real core.jobs.Progress records (losses, previews made from real frames) and
write real files, so the pages are exercised exactly as with the real jobs, only faster.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.jobs import Progress, ProgressClock


@dataclass
class FakeTrainResult:
    steps: int

    def describe(self) -> str:
        return f"Trained {self.steps} steps"


class FakeTraining:
    """A training job on a real frame: the 'generated' image is the real crop blurred less and less,
    the loss is its mean absolute difference, so the loss curve really goes down."""

    def __init__(self, steps: int = 6) -> None:
        self.steps = steps
        self.closed = threading.Event()
        self.gate: threading.Event | None = None  # when set, each step waits for it (for pause tests)

    def __call__(self, project, **_):
        return self._job(project)

    def _job(self, project):
        import cv2

        from core.media import VideoReader

        reader = VideoReader(project.source_video)
        held_out = cv2.resize(reader.read(reader.frame_count - 1), (128, 128), interpolation=cv2.INTER_AREA)
        clock = ProgressClock("Training (fake)", self.steps)
        try:
            for step in range(1, self.steps + 1):
                if self.gate is not None:
                    self.gate.wait(5)
                k = 2 * (self.steps - step) + 3  # blur shrinks every step, never to nothing
                generated = cv2.GaussianBlur(held_out, (k, k), 0)
                loss = float(np.abs(generated.astype(np.float32) - held_out).mean())
                render = np.repeat(held_out.mean(axis=2, keepdims=True).astype(np.uint8), 3, axis=2)
                preview = np.concatenate([render, generated, held_out], axis=1)[::2, ::2]
                yield clock.step(step, losses={"l1": loss, "gan": 0.7},
                                 preview=preview)
            return FakeTrainResult(self.steps)
        finally:
            self.closed.set()


def endless_job(closed: threading.Event, step_event: threading.Event | None = None):
    """Yields progress until closed; sets ``closed`` in its finally block (cancel must close it)."""
    import time

    try:
        i = 0
        while True:
            i += 1
            time.sleep(0.01)
            if step_event is not None:
                step_event.set()
            yield Progress(fraction=None, stage="Working", step=i, losses={"l1": 1.0 / i})
    finally:
        closed.set()


class FakePreview:
    """DubPreview stand-in: the real target frames on the ping-pong timeline, no face synthesis."""

    def __init__(self, project, audio_path: Path, renderer: str | None = None) -> None:
        from core.dubbing.dub import FEATURE_RATE, output_frame_count
        from core.media import VideoReader, load_audio
        from core.dubbing.timeline import pingpong_indices

        speech = load_audio(audio_path, FEATURE_RATE)
        self.reader = VideoReader(project.source_video)
        self.fps = self.reader.fps
        self.n_frames = output_frame_count(len(speech), FEATURE_RATE, self.fps)
        self.indices = pingpong_indices(self.n_frames, self.reader.frame_count)
        self.mode = "fake"
        self.requested: list[int] = []

    def frame(self, j: int) -> np.ndarray:
        self.requested.append(j)
        return self.reader.read(int(self.indices[j]))


# ---- a fake sounddevice module -------------------------------------------------------------------
class FakeInputStream:
    """Feeds blocks of a real speech recording to the callback from a thread, like PortAudio."""

    def __init__(self, source: np.ndarray, device=None, channels=1, samplerate=16000, dtype="float32",
                 callback=None, blocksize=1600) -> None:
        self.source, self.callback, self.blocksize = source, callback, blocksize
        self.samplerate = samplerate
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.blocks_sent = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        pos = 0
        while not self._stop.is_set() and pos < len(self.source):
            block = self.source[pos:pos + self.blocksize].reshape(-1, 1)
            self.callback(block, len(block), None, None)
            self.blocks_sent += 1
            pos += self.blocksize
            self._stop.wait(self.blocksize / self.samplerate / 4)  # 4x real time

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def close(self) -> None:
        self.stop()


class FakeSoundDevice:
    """The parts of the sounddevice module the app uses, with one microphone and no speakers."""

    def __init__(self, source: np.ndarray, rate: int) -> None:
        self.source, self.rate = source, rate
        self.streams: list[FakeInputStream] = []
        self.played: list[tuple[int, int]] = []

    def query_devices(self):
        return [{"name": "Fake USB microphone", "max_input_channels": 1, "max_output_channels": 0,
                 "default_samplerate": float(self.rate)}]

    def InputStream(self, **kwargs):  # noqa: N802 (sounddevice's name)
        stream = FakeInputStream(self.source, **kwargs)
        self.streams.append(stream)
        return stream

    def play(self, samples, rate):
        self.played.append((len(samples), rate))

    def stop(self):
        pass


@dataclass
class FakeDubResult:
    out: Path
    frames: int

    def describe(self) -> str:
        return f"Wrote {self.out} ({self.frames} frames)"


def fake_export(project, audio_path: Path, out_path: Path, renderer: str | None = None):
    """The export without face synthesis: the target frames on the dub timeline with the new audio."""
    from core.dubbing.dub import FEATURE_RATE, output_frame_count
    from core.media import VideoReader, VideoWriter, load_audio
    from core.dubbing.timeline import frames_in_order, pingpong_indices

    speech = load_audio(audio_path, FEATURE_RATE)
    reader = VideoReader(project.source_video)
    n = output_frame_count(len(speech), FEATURE_RATE, reader.fps)
    indices = pingpong_indices(n, reader.frame_count)
    clock = ProgressClock("Dubbing (fake)", n)
    with VideoWriter(out_path, reader.width, reader.height, reader.fps, audio=load_audio(audio_path, 48000),
                     audio_rate=48000) as writer:
        for j, frame in enumerate(frames_in_order(reader, indices)):
            writer.write(frame)
            yield clock.step(j + 1)
    return FakeDubResult(out_path, n)


def error_boxes(widget):
    """The error boxes showing over the window of ``widget``."""
    from PySide6.QtWidgets import QMessageBox

    import app.dialogs

    return [b for b in widget.window().findChildren(QMessageBox, app.dialogs.ERROR_BOX_NAME) if b.isVisible()]


class FakeComparePreview(FakePreview):
    """A preview whose 'dubbed' frame is the original inverted, with a fixed mouth box, so a test can
    tell which of the two the page shows where."""

    MOUTH = (200.0, 300.0, 320.0, 360.0)

    def frame_pair(self, j: int):
        from app.frames import FramePair

        source = self.frame(j)
        return FramePair(source, 255 - source, self.MOUTH)
