"""Mouth sharpness and the contact sheet on real frames of the 5 s clip."""

from __future__ import annotations

import cv2
import numpy as np

from core.media import VideoReader
from core.metrics import MouthSharpness, laplacian_variance, mouth_box
from core.renderer.sheet import ContactSheet
from core.tracking import load_crops, load_tracking


def test_mouth_sharpness_is_one_for_the_real_frame_and_falls_with_blur(tracked_project):
    tracking = load_tracking(tracked_project)
    frames = [f for i, f in zip(range(12), VideoReader(tracked_project.source_video))]
    sharp, soft = MouthSharpness(), MouthSharpness()
    for i, frame in enumerate(frames):
        blurred = cv2.GaussianBlur(frame, (0, 0), 2.0)
        sharp.add(frame, frame, tracking.landmarks[i])
        soft.add(blurred, frame, tracking.landmarks[i])
    assert sharp.figures()["mouth_sharpness"] == 1.0
    assert soft.figures()["mouth_sharpness"] < 0.5
    assert sharp.figures()["mouth_sharpness_real"] > 5
    # The box holds the lips: inside the frame, and wider than tall.
    x0, y0, x1, y1 = mouth_box(tracking.landmarks[0], frames[0].shape)
    assert 0 <= x0 < x1 <= frames[0].shape[1] and 0 <= y0 < y1 <= frames[0].shape[0]
    assert x1 - x0 > y1 - y0 > 10
    assert mouth_box(np.full((478, 3), np.nan), frames[0].shape) is None
    assert laplacian_variance(np.full((20, 20, 3), 90, np.uint8)) == 0.0


def test_contact_sheet_shows_mouths_at_full_frame_size(tracked_project):
    tracking, crops = load_tracking(tracked_project), load_crops(tracked_project)
    sheet = ContactSheet(tracking, every=2, columns=3)
    frames = [f for i, f in zip(range(8), VideoReader(tracked_project.source_video))]
    for i, frame in enumerate(frames):
        sheet.add(i, np.asarray(crops[i]), np.asarray(crops[i]), frame, frame)
    image = sheet.image()
    s = tracking.crop_size
    boxes = [mouth_box(tracking.landmarks[i], frames[i].shape) for i in (0, 2, 4)]
    h = max(b[3] - b[1] for b in boxes)
    assert image.shape[0] == 2 * s + 2 * h and image.shape[1] >= 3 * s
    # Row 3 starts with frame 0's mouth, cut from the full frame pixel for pixel.
    x0, y0, x1, y1 = boxes[0]
    np.testing.assert_array_equal(image[2 * s:2 * s + y1 - y0, :x1 - x0], frames[0][y0:y1, x0:x1])
