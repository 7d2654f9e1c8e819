"""Compositing on real frames of the 5 s clip: untouched outside the feather, original size kept,
colour matched to the surrounding skin."""

from __future__ import annotations

import numpy as np
import pytest

from core.facerender.composite import blend, colour_match, colour_ring, composite_crop, composite_frame
from core.facemodel import topology as topo
from core.media import VideoReader
from core.tracking import load_crops, load_tracking
from tests.renderer.fakes import LandmarkFaceRenderer


@pytest.fixture(scope="module")
def frame_case(tracked_project):
    """Frame 40 of the clip: full frame, crop, box, full-frame landmarks, and the stand-in's masks for it."""
    tracking = load_tracking(tracked_project)
    index = 40
    reader = VideoReader(tracked_project.source_video)
    for i, frame in enumerate(reader):
        if i == index:
            break
    out = LandmarkFaceRenderer(tracked_project).render([index])
    return dict(frame=np.ascontiguousarray(frame), crop=np.array(load_crops(tracked_project)[index]),
                box=tracking.boxes[index], landmarks=tracking.landmarks[index], mask=out.expanded_mask[0, 0].numpy(),
                feather=out.feather[0, 0].numpy())


def test_composited_frame_is_original_outside_the_feather_and_keeps_its_size(frame_case):
    c = frame_case
    # A generated face that differs everywhere: the real crop, darkened and shifted.
    generated = np.roll(c["crop"].astype(np.float32) * 0.7, 5, axis=0)
    out = composite_frame(c["frame"], c["box"], c["crop"], generated, c["mask"], c["feather"])
    assert out.shape == c["frame"].shape and out.dtype == np.uint8
    # Outside the box the frame is untouched; inside the box only where the warped feather is > 0.
    h, w = c["frame"].shape[:2]
    cx, cy, side = c["box"]
    yy, xx = np.mgrid[0:h, 0:w]
    outside_box = (np.abs(xx + 0.5 - cx) > side / 2 + 2) | (np.abs(yy + 0.5 - cy) > side / 2 + 2)
    assert np.array_equal(out[outside_box], c["frame"][outside_box])
    changed = np.any(out != c["frame"], axis=2)
    # The changed pixels are about the feather's area scaled to the frame (it is blurred: allow 40 %).
    feather_area = (c["feather"] > 0).sum() * (side / c["crop"].shape[0]) ** 2
    assert 0.6 * feather_area < changed.sum() < 1.4 * feather_area
    # And they are all below the eyes (measured: from 49 px under the lowest eye landmark), mouth included.
    landmarks = c["landmarks"]
    ys = np.nonzero(changed)[0]
    assert ys.min() > landmarks[np.r_[topo.RIGHT_EYE, topo.LEFT_EYE], 1].max()
    mouth = landmarks[topo.INNER_LIPS, :2].mean(0).astype(int)
    assert changed[mouth[1], mouth[0]]


def test_composite_crop_keeps_real_pixels_where_alpha_is_zero(frame_case):
    c = frame_case
    generated = np.full_like(c["crop"], 200)
    out = composite_crop(c["crop"], generated, c["mask"], c["feather"])
    zero = c["feather"] == 0
    assert np.array_equal(out[zero], c["crop"][zero])
    full = c["feather"] >= 0.999
    assert full.any() and not np.array_equal(out[full], c["crop"][full])


def test_colour_match_pulls_the_ring_towards_the_real_skin(frame_case):
    c = frame_case
    ring = colour_ring(c["mask"], c["feather"]) & (c["feather"] > 0)
    assert ring.sum() > 100
    tinted = np.clip(c["crop"].astype(np.float32) + np.array([15.0, -10.0, 5.0]), 0, 255)
    matched = colour_match(tinted, c["crop"], ring)
    before = np.abs(tinted[ring].mean(0) - c["crop"][ring].mean(0)).max()
    after = np.abs(matched[ring].mean(0) - c["crop"][ring].mean(0)).max()
    assert before > 9 and after < 1.0


def test_blend_limits():
    real = np.zeros((8, 8, 3), np.uint8)
    gen = np.full((8, 8, 3), 100, np.uint8)
    alpha = np.zeros((8, 8), np.float32)
    alpha[2:4, 2:4] = 1.0
    alpha[5, 5] = 0.5
    out = blend(real, gen, alpha)
    assert out[2, 2, 0] == 100 and out[5, 5, 0] == 50 and out[0, 0, 0] == 0
    with pytest.raises(ValueError, match=r"shapes differ: generated \(8, 8, 3\), real \(4, 8, 3\)"):
        colour_match(gen, real[:4], alpha > 0)
