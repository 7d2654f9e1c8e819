"""Face tracking and crops on real video."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import MissingWeightsError
from core.jobs import run_job
from core.media import VideoReader, VideoWriter
from core.project import Project
from core.tracking import TrackingConfig, load_crops, load_tracking, tracking_job
from core.tracking.backends import FaceAlignment68
from core.tracking.crop import crop_image, paste_back, to_crop_coords
from core.tracking.track import PARTIAL_FILE


@pytest.fixture(scope="module")
def clip_with_black_frames(tmp_path_factory, short_video):
    """The first 50 frames of a real clip with frames 20-27 blacked out (the face disappears)."""
    out = tmp_path_factory.mktemp("black") / "black.mp4"
    reader = VideoReader(short_video)
    with VideoWriter(out, reader.width, reader.height, reader.fps) as writer:
        for i, frame in enumerate(reader.frames(0, 50)):
            writer.write(np.zeros_like(frame) if 20 <= i < 28 else frame)
    return out


def test_tracking_covers_real_faces_and_records_faceless_frames(tmp_path, clip_with_black_frames):
    project = Project.create(tmp_path / "p", clip_with_black_frames, consent=True)
    tracking = run_job(tracking_job(project, TrackingConfig(crop_size=128)))
    assert tracking.n_frames == 50
    assert not tracking.has_face[20:28].any()
    assert tracking.has_face[:20].all() and tracking.has_face[29:].all()
    assert np.isnan(tracking.landmarks[22]).all()
    assert np.isfinite(tracking.boxes).all()  # boxes exist for every frame, also faceless ones
    crops = load_crops(project)
    assert crops.shape == (50, 128, 128, 3)
    # The landmarks of a tracked frame land inside its crop, around the middle.
    pts = tracking.landmarks_crop[5]
    assert (pts[:, :2] > 0).all() and (pts[:, :2] < 128).all()
    # The stabilised box moves less from frame to frame than the raw landmark centre.
    centre = np.nanmean(tracking.landmarks[:20, :, :2], axis=1)
    raw_jitter = np.abs(np.diff(centre, n=2, axis=0)).mean()
    box_jitter = np.abs(np.diff(tracking.boxes[:20, :2], n=2, axis=0)).mean()
    assert box_jitter < raw_jitter
    again = load_tracking(project)
    np.testing.assert_array_equal(again.has_face, tracking.has_face)
    assert project.is_current("tracking")


def test_tracking_resumes_from_its_partial_file(tmp_path, clip_with_black_frames):
    project = Project.create(tmp_path / "p", clip_with_black_frames, consent=True)
    config = TrackingConfig(crop_size=64, checkpoint_every=10)
    job = tracking_job(project, config)
    for progress in job:
        if progress.stage.startswith("Tracking") and progress.step == 35:
            break
    job.close()  # as if cancelled or killed after frame 35
    assert project.path(PARTIAL_FILE).exists()
    seen = []
    tracking = run_job(tracking_job(project, config), seen.append)
    first = next(p for p in seen if p.stage.startswith("Tracking"))
    assert first.total == 50 - 30  # resumed at the last checkpoint, frame 30
    assert tracking.has_face[:20].all() and not project.path(PARTIAL_FILE).exists()


def test_paste_back_touches_only_the_masked_area(short_video):
    frame = VideoReader(short_video).read(0)
    box = np.array([260.0, 300.0, 300.0])
    crop = crop_image(frame, box, 128)
    alpha = np.zeros((128, 128), np.float32)
    alpha[70:110, 40:90] = 1.0
    out = paste_back(frame, np.full_like(crop, 255), alpha, box)
    assert out.shape == frame.shape and out.dtype == np.uint8
    changed = np.any(out != frame, axis=-1)
    ys, xs = np.nonzero(changed)
    # The changed region is the mask's square mapped back: crop px 40..90 -> frame x 110+
    corners = to_crop_coords(np.array([[xs.min(), ys.min()], [xs.max(), ys.max()]], float), box, 128)
    assert 38 <= corners[0, 0] <= 41 and 88 <= corners[1, 0] <= 91
    assert 68 <= corners[0, 1] <= 71 and 108 <= corners[1, 1] <= 111
    untouched = paste_back(frame, crop, np.zeros_like(alpha), box)
    np.testing.assert_array_equal(untouched, frame)


def test_face_alignment_without_weights_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(MissingWeightsError, match="s3fd-619a316812.pth") as err:
        FaceAlignment68(allow_download=False)
    assert str(tmp_path) in str(err.value) and "mediapipe" in str(err.value)
