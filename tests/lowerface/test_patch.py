"""One compositing step for every lower face: a crop-space patch (draft, networks) is moved into
the frame and blended band by band, as the sample-based lower face is."""

from __future__ import annotations

import cv2
import numpy as np

from core.lowerface.patch import CropPatch
from core.media import VideoReader
from core.tracking.crop import crop_image, paste_back
from tests.conftest import media


def _seam(result: np.ndarray, frame: np.ndarray) -> float:
    """The steepest step of the change a composite made: where a lighting difference shows as an edge."""
    change = cv2.GaussianBlur(result.astype(np.float32) - frame.astype(np.float32), (0, 0), 1.0).mean(axis=2)
    gy, gx = np.gradient(change)
    return float(np.hypot(gx, gy).max())


def test_a_crop_patch_with_other_lighting_blends_without_a_seam():
    frame = next(VideoReader(media("video/styletalk__andrew_clip_2__muxed_av.mp4")).frames(10, 11))
    h, w = frame.shape[:2]
    box = np.array([w / 2, h / 2 + 10, 160.0])
    crop = crop_image(frame, box, 256).astype(np.float32) + 30.0  # the generated face is brighter
    alpha = np.zeros((256, 256), np.float32)
    cv2.ellipse(alpha, (128, 170), (70, 50), 0, 0, 360, 1.0, -1)
    alpha = cv2.GaussianBlur(alpha, (0, 0), 2)
    patch = CropPatch(crop, alpha)

    banded, plain = patch.apply(frame, box), paste_back(frame, crop, alpha, box)
    assert _seam(banded, frame) < 0.8 * _seam(plain, frame)  # (1.0 with the plain blend)
    # the patch is there (brighter inside), and nothing outside its alpha changes
    inside = patch.in_frame(box, (h, w))
    region = (slice(inside.y0, inside.y0 + inside.alpha.shape[0]), slice(inside.x0, inside.x0 + inside.alpha.shape[1]))
    core = inside.alpha > 0.99
    assert (banded[region][core].astype(int) - frame[region][core]).mean() > 20
    untouched = np.ones((h, w), bool)
    untouched[region] = inside.alpha == 0
    assert np.array_equal(banded[untouched], frame[untouched])
