"""Helpers that make test media variants from the real clips (written to tmp, never committed)."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from core.media import VideoReader, VideoWriter, load_audio

_MATRICES = {  # MP4 tkhd display matrices (16.16 fixed point) for clockwise display rotations
    90: (0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000),
    180: (-0x10000, 0, 0, 0, -0x10000, 0, 0, 0, 0x40000000),
    270: (0, -0x10000, 0, 0x10000, 0, 0, 0, 0, 0x40000000),
}


def set_display_rotation(mp4: Path, degrees: int) -> None:
    """Write a phone-style rotation into an MP4's video track header, as cameras do."""
    data = bytearray(mp4.read_bytes())
    at = data.find(b"tkhd")
    version = data[at + 4]
    offset = at + 8 + (20 if version == 0 else 32) + 16
    data[offset:offset + 36] = struct.pack(">9i", *_MATRICES[degrees])
    mp4.write_bytes(bytes(data))


def cut_clip(src: Path, dst: Path, frames: int, with_audio: bool = True,
             transform=None) -> Path:
    """The first ``frames`` frames of ``src`` (optionally transformed per frame) with its audio."""
    reader = VideoReader(src)
    audio = load_audio(src, 48000, mono=False)[:, : int(frames / reader.fps * 48000)] if with_audio else None
    first = next(reader.frames(0, 1))
    shape = transform(first, 0).shape if transform else first.shape
    with VideoWriter(dst, shape[1], shape[0], reader.fps, audio=audio, audio_rate=48000) as writer:
        for i, frame in enumerate(reader.frames(0, frames)):
            writer.write(np.ascontiguousarray(transform(frame, i)) if transform else frame)
    return dst
