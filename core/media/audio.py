"""Decode any audio (or a video's audio track) to mono float32 at a chosen sample rate."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np

from core.errors import MediaError
from core.media.probe import open_container

log = logging.getLogger(__name__)


def load_audio(path: Path | str, sample_rate: int = 16000, mono: bool = True) -> np.ndarray:
    """Decode the first audio stream of ``path``.

    Returns float32 samples in [-1, 1]: shape (n,) when mono, else (channels, n), at ``sample_rate``.
    Raises MediaError when the file has no audio or no samples.
    """
    path = Path(path)
    layout = "mono" if mono else "stereo"
    chunks: list[np.ndarray] = []
    with open_container(path) as container:
        if not container.streams.audio:
            raise MediaError(f"{path}: the file has no audio track. Choose a file with speech in it.")
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=sample_rate)
        try:
            for frame in container.decode(stream):
                frame.pts = None
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray())
        except av.error.FFmpegError as exc:
            if not chunks:
                raise MediaError(f"{path}: the audio cannot be decoded ({exc}).") from exc
            log.warning("%s: audio decoding stopped at a damaged packet (%s)", path, exc)
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray())
    if not chunks:
        raise MediaError(f"{path}: the audio track is empty (no samples). Choose a recording with speech.")
    samples = np.concatenate(chunks, axis=1).astype(np.float32, copy=False)
    if samples.shape[1] == 0:
        raise MediaError(f"{path}: the audio track is empty (no samples). Choose a recording with speech.")
    np.clip(samples, -1.0, 1.0, out=samples)
    return samples[0] if mono else samples


def stream_audio(path: Path | str, sample_rate: int = 48000, mono: bool = False) -> Iterator[np.ndarray]:
    """Decode the first audio stream of ``path`` chunk by chunk: float32 (channels, n) arrays at
    ``sample_rate`` (1 channel when mono, else 2), in [-1, 1]. Memory stays bounded for any length.

    Raises MediaError (at the first chunk) when the file has no audio.
    """
    path = Path(path)
    layout = "mono" if mono else "stereo"
    with open_container(path) as container:
        if not container.streams.audio:
            raise MediaError(f"{path}: the file has no audio track. Choose a file with speech in it.")
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=sample_rate)
        try:
            for frame in container.decode(container.streams.audio[0]):
                frame.pts = None
                for out in resampler.resample(frame):
                    yield np.clip(out.to_ndarray().astype(np.float32, copy=False), -1.0, 1.0)
        except av.error.FFmpegError as exc:
            log.warning("%s: audio decoding stopped at a damaged packet (%s)", path, exc)
        for out in resampler.resample(None):
            yield np.clip(out.to_ndarray().astype(np.float32, copy=False), -1.0, 1.0)
