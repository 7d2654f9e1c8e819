"""What a media file holds: duration, frame rate, resolution, codecs, audio."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from core.errors import MediaError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MediaInfo:
    """A media file's streams, as the app uses them.

    width/height are the upright (displayed) size after rotation metadata; fps is the rate of the
    constant frame-rate grid that VideoReader delivers; frame_count counts frames on that grid.
    """

    path: Path
    duration: float
    has_video: bool
    width: int = 0
    height: int = 0
    fps: float = 0.0
    fps_fraction: Fraction | None = None
    frame_count: int = 0
    rotation: int = 0
    video_codec: str | None = None
    variable_frame_rate: bool = False
    has_audio: bool = False
    audio_codec: str | None = None
    audio_rate: int = 0
    audio_channels: int = 0

    def describe(self) -> str:
        lines = [f"file:        {self.path}", f"duration:    {self.duration:.3f} s"]
        if self.has_video:
            vfr = " (variable; resampled to this constant rate)" if self.variable_frame_rate else ""
            lines += [
                f"video:       {self.video_codec}, {self.width}x{self.height}"
                + (f", rotated {self.rotation} deg" if self.rotation else ""),
                f"frame rate:  {self.fps:.3f} fps{vfr}",
                f"frames:      {self.frame_count}",
            ]
        else:
            lines.append("video:       none")
        if self.has_audio:
            lines.append(f"audio:       {self.audio_codec}, {self.audio_rate} Hz, "
                         f"{self.audio_channels} channel(s)")
        else:
            lines.append("audio:       none")
        return "\n".join(lines)


def open_container(path: Path | str) -> av.container.InputContainer:
    path = Path(path)
    if not path.exists():
        raise MediaError(f"{path}: the file does not exist.")
    if path.is_dir():
        raise MediaError(f"{path}: this is a folder, not a media file.")
    if path.stat().st_size == 0:
        raise MediaError(f"{path}: the file is empty (0 bytes).")
    try:
        return av.open(str(path), metadata_errors="ignore")
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise MediaError(
            f"{path}: not a media file this app can read ({exc.__class__.__name__}: {exc}). "
            "Use a video such as MP4, MOV, MKV, WebM or AVI, or audio such as WAV, MP3, FLAC, M4A or OGG."
        ) from exc


def probe(path: Path | str) -> MediaInfo:
    """Read a file's streams without decoding frames (packets are scanned to count frames)."""
    path = Path(path)
    with open_container(path) as container:
        vstreams = [s for s in container.streams.video if s.codec_context is not None]
        astreams = list(container.streams.audio)
        if not vstreams and not astreams:
            raise MediaError(f"{path}: the file holds neither video nor audio.")
        audio = astreams[0] if astreams else None
        duration = float(container.duration / av.time_base) if container.duration else 0.0
        info_audio = {}
        if audio is not None:
            info_audio = dict(
                has_audio=True, audio_codec=audio.codec_context.name,
                audio_rate=int(audio.codec_context.sample_rate or audio.rate or 0),
                audio_channels=int(audio.codec_context.channels or 0),
            )
        if not vstreams:
            if duration <= 0 and audio is not None and audio.duration:
                duration = float(audio.duration * audio.time_base)
            return MediaInfo(path=path, duration=duration, has_video=False, **info_audio)
        stream = vstreams[0]
        # Read everything from the stream before the container closes (PyAV streams die with it).
        nominal_rate = stream.guessed_rate or stream.average_rate or stream.base_rate
        codec_name = stream.codec_context.name
        w, h = stream.codec_context.width, stream.codec_context.height
        times = _scan_video_times(container, stream, path)
    if not times:
        raise MediaError(f"{path}: the video stream holds no frames.")
    fps_fraction, vfr = _grid_rate(nominal_rate, times)
    n_frames = grid_frame_count(times, float(fps_fraction))
    rotation = _rotation_of(path)
    if rotation in (90, 270):
        w, h = h, w
    video_duration = n_frames / float(fps_fraction)
    return MediaInfo(
        path=path, duration=duration if duration > 0 else video_duration,
        has_video=True, width=w, height=h, fps=float(fps_fraction), fps_fraction=fps_fraction,
        frame_count=n_frames, rotation=rotation, video_codec=codec_name,
        variable_frame_rate=vfr, **info_audio,
    )


def _rotation_of(path: Path) -> int:
    """Rotation from the first decoded frame's display matrix, which PyAV exposes reliably."""
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            stream = container.streams.video[0]
            for frame in container.decode(stream):
                # frame.rotation is counter-clockwise (FFmpeg display matrix); we store clockwise.
                return (-int(round(getattr(frame, "rotation", 0) or 0))) % 360
    except (av.error.FFmpegError, IndexError):
        return 0
    return 0


def _scan_video_times(container, stream, path: Path) -> list[float]:
    """Presentation times (s) of every video packet, relative to the first, sorted."""
    times: list[float] = []
    tb = stream.time_base
    try:
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            if packet.pts is not None:
                times.append(float(packet.pts * tb))
            elif packet.dts is not None:
                times.append(float(packet.dts * tb))
            else:
                times.append(float("nan"))
    except av.error.FFmpegError as exc:
        if not times:
            raise MediaError(f"{path}: the video cannot be read ({exc}).") from exc
        log.warning("%s: stopped reading at a damaged packet (%s); using %d frames", path, exc, len(times))
    if any(t != t for t in times):  # no timestamps (some MPEG-1 streams): assume a constant rate
        rate = float(stream.average_rate or stream.guessed_rate or 25)
        return [i / rate for i in range(len(times))]
    times.sort()
    start = times[0] if times else 0.0
    return [t - start for t in times]


def _grid_rate(nominal, times: list[float]) -> tuple[Fraction, bool]:
    """The constant rate to deliver frames at, and whether the source's intervals vary."""
    rate = Fraction(nominal).limit_denominator(1001) if nominal else Fraction(25)
    if rate <= 0 or rate > 240:
        rate = Fraction(25)
    vfr = False
    if len(times) > 2:
        intervals = [b - a for a, b in zip(times, times[1:])]
        expected = 1.0 / float(rate)
        off = sum(1 for d in intervals if abs(d - expected) > 0.25 * expected)
        vfr = off > 0.05 * len(intervals)
    return rate, vfr


def grid_frame_count(times: list[float], fps: float) -> int:
    """Frames on the constant-rate grid that cover the source's frame times."""
    if not times:
        return 0
    return int(round(times[-1] * fps)) + 1
