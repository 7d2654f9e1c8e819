"""The bad-input matrix (issue 8): each row gets a clear message or a correct output, never a crash."""

from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest
import soundfile as sf

from core.errors import DubError, MediaError
from core.jobs import run_job
from core.media import VideoReader, VideoWriter, load_audio, probe
from core.project import Project
from core.tracking import TrackingConfig, tracking_job
from tests.mediatools import cut_clip


@pytest.mark.parametrize("rate, channels", [(96000, 1), (8000, 1), (48000, 6)])
def test_unusual_audio_rates_and_channel_counts(tmp_path, speech_wav, rate, channels):
    speech = load_audio(speech_wav, rate)
    data = np.repeat(speech[:, None], channels, axis=1) * np.linspace(1.0, 0.5, channels)[None]
    path = tmp_path / f"speech_{rate}_{channels}.wav"
    sf.write(path, data, rate)
    decoded = load_audio(path, 16000)
    assert decoded.ndim == 1
    assert len(decoded) / 16000 == pytest.approx(len(speech) / rate, abs=0.02)
    assert np.sqrt(np.mean(decoded ** 2)) > 0.01


def test_zero_length_audio_is_refused_clearly(tmp_path):
    path = tmp_path / "nothing.wav"
    sf.write(path, np.zeros((0,), np.float32), 16000)
    with pytest.raises(MediaError, match="nothing.wav"):
        load_audio(path)


def test_non_ascii_paths_work_end_to_end(tmp_path, short_video):
    folder = tmp_path / "Видео ü 日本"
    folder.mkdir()
    clip = folder / "clip ñ.mp4"
    shutil.copy(short_video, clip)
    project = Project.create(folder / "projekt ä", clip, consent=True)
    assert Project.open(project.root).source_video == clip.resolve()
    assert VideoReader(clip).read(5).shape == (524, 524, 3)


def test_read_only_output_location_gives_a_clear_error():
    # /proc refuses new files even for root, like a read-only folder does for a user.
    with pytest.raises(MediaError, match="cannot write here"):
        with VideoWriter("/proc/portrait-dub/out.mp4", 64, 64, 25) as writer:
            writer.write(np.zeros((64, 64, 3), np.uint8))


def test_full_disk_gives_a_clear_error_and_no_partial_file(tmp_path, monkeypatch):
    import av

    out = tmp_path / "full.mp4"

    def disk_full(self, packets):
        raise OSError(28, "No space left on device")

    with pytest.raises(MediaError, match="disk full"):
        with VideoWriter(out, 64, 64, 25) as writer:
            monkeypatch.setattr(av.container.OutputContainer, "mux", disk_full)
            for _ in range(30):
                writer.write(np.zeros((64, 64, 3), np.uint8))
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []


def test_video_without_any_face_is_refused_clearly(tmp_path, short_video):
    # The bottom of the real clip: a red jacket, no face.
    clip = cut_clip(short_video, tmp_path / "jacket.mp4", 20,
                    transform=lambda f, i: np.ascontiguousarray(f[-160:, :, :]))
    project = Project.create(tmp_path / "p", clip, consent=True)
    with pytest.raises(DubError, match="no face"):
        run_job(tracking_job(project, TrackingConfig(crop_size=64)))


def test_two_faces_the_larger_is_followed(tmp_path, short_video):
    """Two real people side by side; the larger one must be chosen in every frame."""
    other_reader = VideoReader(shutil.copy(short_video, tmp_path / "other.mp4"))
    others = [cv2.resize(f, (262, 262)) for f in other_reader.frames(0, 30)]

    def side_by_side(frame, i):
        canvas = np.zeros((524, 524 + 262, 3), np.uint8)
        canvas[:, :524] = frame
        canvas[131:393, 524:] = others[i]
        return canvas

    clip = cut_clip(short_video, tmp_path / "two.mp4", 30, transform=side_by_side)
    project = Project.create(tmp_path / "p", clip, consent=True)
    tracking = run_job(tracking_job(project, TrackingConfig(crop_size=64)))
    assert tracking.has_face.all()
    centres_x = np.nanmean(tracking.landmarks[:, :, 0], axis=1)
    assert (centres_x < 524).all()  # always the large face on the left


def test_face_leaving_the_frame_for_a_second(tmp_path, short_video):
    """The frame slides sideways until the face is out of view for 25 frames, then returns."""
    def slide(frame, i):
        if i < 10 or i >= 45:
            return frame
        out = np.zeros_like(frame)
        out[:, :124] = frame[:, 400:]  # the camera pans: the face is 140 px left of the picture
        return out

    clip = cut_clip(short_video, tmp_path / "leave.mp4", 55, transform=slide)
    project = Project.create(tmp_path / "p", clip, consent=True)
    tracking = run_job(tracking_job(project, TrackingConfig(crop_size=64)))
    assert not tracking.has_face[12:44].any()
    assert tracking.has_face[:10].all() and tracking.has_face[47:].all()
    assert np.isfinite(tracking.boxes).all()


def test_mutated_media_bytes_raise_media_errors_only(tmp_path, short_video):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    original = short_video.read_bytes()[:200_000]

    @settings(max_examples=25, deadline=None)
    @given(st.lists(st.tuples(st.integers(0, len(original) - 1), st.integers(0, 255)), max_size=40),
           st.integers(1000, len(original)))
    def check(flips, length):
        data = bytearray(original[:length])
        for at, value in flips:
            if at < length:
                data[at] = value
        path = tmp_path / "mutated.mp4"
        path.write_bytes(bytes(data))
        try:
            info = probe(path)
            if info.has_video:
                for _ in VideoReader(path, info).frames(0, 5):
                    pass
        except MediaError:
            pass

    check()


def test_4k_clip_is_tracked_and_keeps_its_size(tmp_path, short_video):
    """3840x2160: the real face scaled up, as a 4K camera would deliver it."""
    def to_4k(frame, i):
        canvas = np.zeros((2160, 3840, 3), np.uint8)
        canvas[:, 840:3000] = cv2.resize(frame, (2160, 2160), interpolation=cv2.INTER_CUBIC)
        return canvas

    clip = cut_clip(short_video, tmp_path / "uhd.mp4", 8, transform=to_4k)
    info = probe(clip)
    assert (info.width, info.height, info.frame_count) == (3840, 2160, 8)
    project = Project.create(tmp_path / "p", clip, consent=True)
    tracking = run_job(tracking_job(project, TrackingConfig(crop_size=128)))
    assert tracking.has_face.all()
    assert np.median(tracking.boxes[:, 2]) > 1000  # the face is big in 4K pixels
    from core.tracking.crop import paste_back

    frame = VideoReader(clip).read(3)
    out = paste_back(frame, np.zeros((128, 128, 3), np.uint8), np.ones((128, 128), np.float32) * 0.5,
                     tracking.boxes[3])
    assert out.shape == (2160, 3840, 3)
    cx, cy, side = (float(v) for v in tracking.boxes[3])
    centre = out[int(cy), int(cx)].astype(int) - frame[int(cy), int(cx)] // 2
    assert np.abs(centre).max() <= 1  # blended at full resolution: half of black over the face
    left = max(int(cx - side / 2) - 2, 0)
    assert np.array_equal(out[:, :left], frame[:, :left])  # untouched outside the box
