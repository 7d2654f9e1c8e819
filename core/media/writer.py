"""Write H.264 + AAC MP4 files, atomically, with audio interleaved in sync with the frames."""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path
from collections.abc import Iterable, Iterator
from types import TracebackType

import av
import numpy as np

from core.atomic import atomic_path
from core.errors import MediaError

log = logging.getLogger(__name__)

AUDIO_FRAME = 1024  # samples per AAC frame


class VideoWriter:
    """An MP4 being written; it appears under its final name only when closed without error.

    Usage::

        with VideoWriter(out, width, height, fps, audio=samples, audio_rate=16000) as writer:
            for frame in frames:
                writer.write(frame)          # uint8 RGB HxWx3, HxW = height x width

    ``audio`` is mono float32 in [-1, 1] (or (channels, n)), or an iterable of such chunks (e.g.
    core.media.stream_audio, so long audio is never held whole); it is encoded as AAC alongside the
    frames, starting at time 0 like the first frame. ``metadata`` goes into the container's tags.
    """

    def __init__(
        self,
        path: Path | str,
        width: int,
        height: int,
        fps: float | Fraction,
        audio: np.ndarray | Iterable[np.ndarray] | None = None,
        audio_rate: int = 16000,
        metadata: dict[str, str] | None = None,
        crf: int = 18,
        preset: str = "veryfast",
    ) -> None:
        self.path = Path(path)
        self.width, self.height = int(width), int(height)
        self.fps = fps if isinstance(fps, Fraction) else Fraction(fps).limit_denominator(1001)
        self._chunks = _audio_chunks(audio)
        self._first = next(self._chunks, None)
        self._buffer = np.zeros((0 if self._first is None else self._first.shape[0], 0), np.float32)
        self.audio_rate = int(audio_rate)
        self.metadata = metadata or {}
        self.crf, self.preset = crf, preset
        self.frames_written = 0
        self._audio_pos = 0
        self._atomic = None
        self._container = None

    def __enter__(self) -> "VideoWriter":
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._atomic = atomic_path(self.path)
            tmp = self._atomic.__enter__()
            self._container = av.open(str(tmp), mode="w", format="mp4",
                                      options={"movflags": "+use_metadata_tags"})
        except (OSError, av.error.FFmpegError) as exc:
            raise MediaError(f"{self.path}: cannot write here ({exc}). Choose a folder you can write to "
                             "with free space.") from exc
        for key, value in self.metadata.items():
            self._container.metadata[key] = value
        # yuv420p needs even sizes: odd sizes are padded by one pixel.
        self._enc_w, self._enc_h = self.width + self.width % 2, self.height + self.height % 2
        self._vstream = self._container.add_stream("libx264", rate=self.fps)
        self._vstream.width, self._vstream.height = self._enc_w, self._enc_h
        self._vstream.pix_fmt = "yuv420p"
        self._vstream.codec_context.options = {"crf": str(self.crf), "preset": self.preset}
        self._vstream.codec_context.time_base = Fraction(1, 1) / self.fps
        self._astream = None
        if self._first is not None:
            layout = "mono" if self._first.shape[0] == 1 else "stereo"
            self._astream = self._container.add_stream("aac", rate=self.audio_rate, layout=layout)
            self._astream.codec_context.bit_rate = 128_000
        return self

    def write(self, frame: np.ndarray) -> None:
        """Append one uint8 RGB frame of the writer's size."""
        if frame.shape != (self.height, self.width, 3) or frame.dtype != np.uint8:
            raise ValueError(f"frame must be uint8 ({self.height}, {self.width}, 3), got {frame.dtype} {frame.shape}")
        if (self._enc_w, self._enc_h) != (self.width, self.height):
            frame = np.pad(frame, ((0, self._enc_h - self.height), (0, self._enc_w - self.width), (0, 0)), mode="edge")
        vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
        vf.pts = self.frames_written
        vf.time_base = self._vstream.codec_context.time_base
        self._mux(self._vstream.encode(vf))
        self.frames_written += 1
        self._write_audio_until(self.frames_written / float(self.fps))

    def _fill(self, samples: int | None) -> None:
        """Pull audio chunks until the buffer holds ``samples`` (None: everything that is left)."""
        while samples is None or self._buffer.shape[1] < samples:
            chunk = self._first if self._first is not None else next(self._chunks, None)
            self._first = None
            if chunk is None:
                return
            self._buffer = np.concatenate([self._buffer, chunk], axis=1)

    def _write_audio_until(self, seconds: float | None) -> None:
        if self._astream is None:
            return
        wanted = None if seconds is None else int(seconds * self.audio_rate) - self._audio_pos
        self._fill(wanted)
        end = self._buffer.shape[1] if wanted is None else min(wanted, self._buffer.shape[1])
        start = 0
        while start + AUDIO_FRAME <= end or (seconds is None and start < end):
            chunk = self._buffer[:, start:start + AUDIO_FRAME]
            af = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk), format="fltp",
                                            layout="mono" if chunk.shape[0] == 1 else "stereo")
            af.sample_rate = self.audio_rate
            af.pts = self._audio_pos
            af.time_base = Fraction(1, self.audio_rate)
            self._mux(self._astream.encode(af))
            self._audio_pos += chunk.shape[1]
            start += chunk.shape[1]
        self._buffer = self._buffer[:, start:]

    def _mux(self, packets) -> None:
        try:
            self._container.mux(packets)
        except (OSError, av.error.FFmpegError) as exc:
            raise MediaError(f"{self.path}: writing failed ({exc}). Is the disk full?") from exc

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if exc_type is None:
                self._write_audio_until(None)
                self._mux(self._vstream.encode(None))
                if self._astream is not None:
                    self._mux(self._astream.encode(None))
            try:
                self._container.close()
            except (OSError, av.error.FFmpegError) as close_exc:
                if exc_type is None:
                    raise MediaError(f"{self.path}: finishing the file failed ({close_exc}). "
                                     "Is the disk full?") from close_exc
        except BaseException as error:
            self._atomic.__exit__(type(error), error, error.__traceback__)
            raise
        self._atomic.__exit__(exc_type, exc, tb)


def _audio_chunks(audio) -> Iterator[np.ndarray]:
    """float32 (channels, n) chunks from an array (mono (n,) or (channels, n)) or an iterable of them."""
    if audio is None:
        return iter(())
    if isinstance(audio, np.ndarray):
        audio = [audio]
    return (np.atleast_2d(np.asarray(a, dtype=np.float32)) for a in audio if np.size(a))
