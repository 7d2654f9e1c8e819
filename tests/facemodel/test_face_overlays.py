"""Overlay drawing on a real crop of the test clip (numpy/OpenCV only)."""

import numpy as np
import pytest

from core.facerender import overlays
from core.media import VideoReader


@pytest.fixture(scope="module")
def frame(short_video):
    reader = VideoReader(short_video)
    image = next(iter(reader.frames(10)))
    return np.ascontiguousarray(image[100:356, 130:386])  # 256 x 256 around the face


def test_tint_and_blend_touch_only_the_mask(frame):
    mask = np.zeros(frame.shape[:2], np.float32)
    assert (overlays.tint_mask(frame, mask) == frame).all()
    mask[64:192, 64:192] = 1
    tinted = overlays.tint_mask(frame, mask, color=(255, 0, 0), outline=False)
    changed = (tinted != frame).any(-1)
    assert changed[64:192, 64:192].mean() > 0.9 and not changed[mask == 0].any()
    render = np.full(frame.shape, 0.5, np.float32)
    as_float = overlays.blend_render(frame, render, mask)
    as_uint8 = overlays.blend_render(frame, np.full(frame.shape, 128, np.uint8), mask)
    assert np.abs(as_float.astype(int) - as_uint8).max() <= 1
    assert (as_float[mask == 0] == frame[mask == 0]).all() and (as_float[100, 100] == 128).all()


def test_landmarks_skip_missing_points_and_check_input(frame):
    points = np.array([[50.5, 60.5], [np.nan, np.nan], [200.0, 30.0]])
    drawn = overlays.draw_landmarks(frame, points, highlight=[2])
    changed = (drawn != frame).any(-1)
    assert changed[60, 50] and changed[30, 200] and changed.sum() < 100
    with pytest.raises(ValueError, match="expected an uint8 RGB"):
        overlays.draw_landmarks(frame.astype(np.float32), points)
