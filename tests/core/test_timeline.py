"""Which target frame each output frame shows (ping-pong for long audio), read in bounded memory."""

from __future__ import annotations

import numpy as np
import pytest

from core.dubbing.dub import output_frame_count
from core.media import VideoReader
from core.dubbing.timeline import frames_in_order, pingpong_indices


def test_pingpong_plays_forward_then_backward_without_jumps():
    idx = pingpong_indices(25, 5)
    assert idx[:9].tolist() == [0, 1, 2, 3, 4, 3, 2, 1, 0]
    assert np.abs(np.diff(idx)).max() == 1  # head motion stays continuous
    assert idx.min() == 0 and idx.max() == 4


def test_short_audio_uses_the_start_of_the_video():
    assert pingpong_indices(3, 100).tolist() == [0, 1, 2]


@pytest.mark.parametrize("fps", [24.0, 25.0, 30000 / 1001, 30.0])
def test_output_frames_match_the_audio_duration_within_half_a_frame(fps):
    for seconds in (0.5, 4.98, 61.3):
        n = output_frame_count(int(seconds * 16000), 16000, fps)
        assert abs(n / fps - seconds) <= 0.5 / fps + 1e-9


def test_frames_in_order_matches_random_access(short_video):
    reader = VideoReader(short_video)
    reference = list(reader.frames(0, 30))
    indices = np.concatenate([pingpong_indices(70, 30), [7, 7, 7, 12, 3, 2]])
    # A small chunk budget forces the backward runs to be decoded in several chunks.
    out = list(frames_in_order(reader, indices, chunk_bytes=6 * reader.width * reader.height * 3))
    assert len(out) == len(indices)
    for frame, i in zip(out, indices):
        np.testing.assert_array_equal(frame, reference[i])
