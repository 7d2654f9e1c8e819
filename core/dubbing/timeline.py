"""Which target frame each output frame shows, and reading them in that order in bounded memory."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from core.media import VideoReader


def pingpong_indices(n_out: int, n_src: int, start: int = 0) -> np.ndarray:
    """int64 (n_out,): source frame per output frame, playing start..n_src-1 forward, then backward,
    and so on, so head motion stays continuous when the audio outlasts the video."""
    if n_src <= 0:
        raise ValueError("the source has no frames")
    span = n_src - start
    if span == 1:
        return np.full(n_out, start, np.int64)
    period = 2 * (span - 1)
    phase = np.arange(n_out) % period
    return (start + np.where(phase < span, phase, period - phase)).astype(np.int64)


def frames_in_order(reader: VideoReader, indices: np.ndarray, chunk_bytes: int = 256 << 20) -> Iterator[np.ndarray]:
    """Yield reader frames in the order of ``indices`` (any mix of forward and backward runs).

    Forward runs stream; backward runs decode chunks forward and play them reversed, holding at most
    about ``chunk_bytes`` of frames.
    """
    frame_bytes = max(reader.width * reader.height * 3, 1)
    chunk = max(int(chunk_bytes // frame_bytes), 8)
    for run_start, run_end, step in _runs(indices):
        if step >= 0:
            yield from _repeat_same(reader, run_start, run_end, step)
        else:
            top = run_start
            while top >= run_end:
                low = max(run_end, top - chunk + 1)
                frames = list(reader.frames(low, top + 1))
                yield from reversed(frames)
                top = low - 1


def _repeat_same(reader, start, end, step):
    if step == 0:
        frame = reader.read(int(start))
        for _ in range(end):
            yield frame
        return
    yield from reader.frames(int(start), int(end) + 1)


def _runs(indices: np.ndarray):
    """(first, last, +1 | -1) runs, or (index, count, 0) for repeats of one index."""
    i, n = 0, len(indices)
    while i < n:
        j = i + 1
        if j < n and indices[j] == indices[i]:
            while j < n and indices[j] == indices[i]:
                j += 1
            yield int(indices[i]), j - i, 0
        else:
            step = int(indices[j] - indices[i]) if j < n else 1
            if step not in (1, -1):
                yield int(indices[i]), int(indices[i]), 1
            else:
                while j < n and indices[j] - indices[j - 1] == step:
                    j += 1
                yield int(indices[i]), int(indices[j - 1]), step
        i = j
