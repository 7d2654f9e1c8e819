"""Face tracking and crops on real video."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from core.crop_size import AUTO, CROP_STEP, MIN_CROP, auto_crop_size, crop_cap
from core.errors import MissingWeightsError
from core.jobs import run_job
from core.media import VideoReader, VideoWriter
from core.project import Project
from core.tracking import TrackingConfig, load_crops, load_tracking, tracking_job
from core.tracking.backends import FaceAlignment68
from core.tracking.crop import crop_image, crop_matrix, paste_back, to_crop_coords
from core.tracking.track import PARTIAL_FILE
from tests.conftest import media


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


@pytest.fixture(scope="module")
def hd_second(tmp_path_factory):
    """The first second (30 frames) of a 1080 x 1920 HEVC talking-head video, re-encoded."""
    out = tmp_path_factory.mktemp("hd") / "hd.mp4"
    reader = VideoReader(media("video/latentsync__demo3_video.mp4"))
    with VideoWriter(out, reader.width, reader.height, reader.fps, crf=12) as writer:
        for frame in reader.frames(0, 30):
            writer.write(frame)
    return out


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10 * np.log10(255 ** 2 / max(mse, 1e-12))


def test_auto_crop_keeps_the_face_resolution_of_1080p_footage(tmp_path, hd_second):
    """Issue 15, "resolution follows the footage": the crop side is the face box's own (rounded up
    to 32 px, capped), so the crop is not a downscale, and cropping then pasting back reproduces
    the face region closely and leaves every pixel outside the pasted area as it was."""
    project = Project.create(tmp_path / "p", hd_second, consent=True)
    tracking = run_job(tracking_job(project, TrackingConfig(profile="gpu")))  # no CUDA needed here
    assert tracking.frame_size == (1080, 1920) and tracking.has_face.all()
    box_px = float(np.median(tracking.boxes[:, 2]))
    assert 280 < box_px < crop_cap("gpu")  # this face (a box of about 324 px) is below the GPU cap
    s = tracking.crop_size
    assert s != 256 and s == auto_crop_size(box_px, "gpu") and s % CROP_STEP == 0
    assert s - CROP_STEP < box_px <= s
    assert auto_crop_size(box_px, "cpu") == crop_cap("cpu") == 320  # the CPU profile's cap
    record = project.stage("tracking")
    assert record.settings["crop_size"] == s and record.metrics["crop_size"] == s
    scale = crop_matrix(tracking.boxes[10], s)[0, 0]
    assert 1.0 <= scale < 1.06  # crop pixels per video pixel: no downscale, at most the rounding
    crops = load_crops(project)
    assert crops.shape == (30, s, s, 3)

    frame = VideoReader(hd_second).read(10)
    alpha = np.zeros((s, s), np.float32)
    alpha[s // 8:-s // 8, s // 8:-s // 8] = 1.0
    out = paste_back(frame, np.asarray(crops[10]), alpha, tracking.boxes[10])
    inverse = cv2.warpAffine(alpha, cv2.invertAffineTransform(crop_matrix(tracking.boxes[10], s)),
                             (frame.shape[1], frame.shape[0]), flags=cv2.INTER_LINEAR, borderValue=0)
    inside, outside = inverse >= 1.0, inverse <= 0.0
    assert inside.sum() > 0.5 * (0.75 * box_px) ** 2
    native = _psnr(out[inside], frame[inside])
    np.testing.assert_array_equal(out[outside], frame[outside])
    # The old fixed 256 px crop of the same box loses detail the native one keeps.
    small = crop_image(frame, tracking.boxes[10], 256)
    alpha256 = np.zeros((256, 256), np.float32)
    alpha256[32:-32, 32:-32] = 1.0
    old = _psnr(paste_back(frame, small, alpha256, tracking.boxes[10])[inside], frame[inside])
    assert native > 38.0 and native > old + 1.0, (native, old)


def test_auto_keeps_the_size_of_an_already_tracked_project(tmp_path, clip_with_black_frames):
    """A project tracked at an explicit size (as every project before 'auto') is not re-tracked when
    prepare runs again with the new default; an explicit other size does re-track."""
    project = Project.create(tmp_path / "p", clip_with_black_frames, consent=True)
    run_job(tracking_job(project, TrackingConfig(crop_size=MIN_CROP)))
    key = project.stage("tracking").key
    seen = []
    again = run_job(tracking_job(project, TrackingConfig(crop_size=AUTO)), seen.append)
    assert not seen and again.crop_size == MIN_CROP and project.stage("tracking").key == key
    # A fresh auto run on this 524 px clip (face box about 400 px) picks the capped size instead.
    fresh = Project.create(tmp_path / "q", clip_with_black_frames, consent=True)
    auto = run_job(tracking_job(fresh, TrackingConfig(profile="cpu")))
    assert auto.crop_size == crop_cap("cpu") == 320
    assert fresh.stage("tracking").key != key
    # Auto crops of 256 px (a small face) hash like an explicit 256: same stage key.
    assert auto_crop_size(200.0, "cpu") == MIN_CROP
