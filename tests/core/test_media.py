"""Media I/O on the real clips in ../shared/data."""

from __future__ import annotations

import av
import numpy as np
import pytest

from core.errors import MediaError
from core.media import VideoReader, VideoWriter, load_audio, probe
from tests.conftest import media


def _count_packets(path) -> int:
    with av.open(str(path)) as c:
        return sum(1 for p in c.demux(c.streams.video[0]) if p.size)


@pytest.mark.parametrize("name, fps, size, seconds", [
    ("video/videoretalking__face_5.mp4", 25.0, (524, 524), 4.88),
    ("video/styletalk__feifeili_clip2_short__muxed_av.mp4", 30.0, (256, 256), 15.07),
    ("video/lipnet__GRID_bbaf2n.mpg", 25.0, (360, 288), 3.0),  # MPEG-1, no frame count in the container
    ("video/latentsync__demo3_video.mp4", 30.0, (1080, 1920), 20.0),  # HEVC portrait
])
def test_probe_reports_real_rate_size_and_count(name, fps, size, seconds):
    path = media(name)
    info = probe(path)
    assert info.fps == pytest.approx(fps)
    assert (info.width, info.height) == size
    assert info.duration == pytest.approx(seconds, abs=0.1)
    assert info.frame_count == _count_packets(path)
    assert info.has_audio and info.audio_rate > 0


def test_reader_streams_every_frame_upright(short_video):
    reader = VideoReader(short_video)
    frames = 0
    for frame in reader:
        assert frame.shape == (524, 524, 3) and frame.dtype == np.uint8
        frames += 1
    assert frames == reader.frame_count == 122


def test_variable_frame_rate_is_resampled_onto_the_nominal_grid(vfr_video):
    info = probe(vfr_video)
    assert info.variable_frame_rate
    assert info.fps == pytest.approx(30.0)
    frames = sum(1 for _ in VideoReader(vfr_video, info))
    # 6.1 s at 30 fps: the grid covers the whole clip, so audio stays in sync.
    assert frames == info.frame_count
    assert frames / info.fps == pytest.approx(info.duration, abs=2 / info.fps)


def test_seek_returns_the_same_frame_as_streaming(short_video):
    reader = VideoReader(short_video)
    streamed = [f for i, f in enumerate(reader.frames(0, 80)) if i in (0, 37, 79)]
    for frame, index in zip(streamed, (0, 37, 79)):
        np.testing.assert_array_equal(reader.read(index), frame)


@pytest.mark.parametrize("name", ["audio/whisper__jfk.flac", "audio/vexpress__short_case_AOC_v_exprss_intro_chattts.mp3",
                                  "audio/dreamtalk__acknowledgement_english.m4a", "audio/musetalk__eng.wav"])
def test_load_audio_any_format_to_mono_16k(name):
    path = media(name)
    samples = load_audio(path, 16000)
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert len(samples) / 16000 == pytest.approx(probe(path).duration, abs=0.1)
    assert 0.005 < float(np.sqrt(np.mean(samples ** 2))) < 0.5  # speech, not silence or clipping


def _first_sound_time(samples: np.ndarray, rate: int) -> float:
    envelope = np.abs(samples)
    return float(np.argmax(envelope > 0.5 * envelope.max()) / rate)


def test_write_then_read_keeps_size_rate_count_and_sync(tmp_path):
    """A white flash and a click at the same moment must stay together within one frame."""
    fps, n, rate = 30000 / 1001, 90, 16000
    frames = np.zeros((n, 120, 160, 3), np.uint8)
    flash = 45
    frames[flash] = 255
    audio = np.zeros(int(n / fps * rate), np.float32)
    click = int(flash / fps * rate)
    audio[click:click + 160] = 0.9
    out = tmp_path / "sync.mp4"
    with VideoWriter(out, 160, 120, fps, audio=audio, audio_rate=rate, metadata={"comment": "test"}) as w:
        for f in frames:
            w.write(f)
    info = probe(out)
    assert (info.width, info.height, info.frame_count) == (160, 120, n)
    assert info.fps == pytest.approx(fps, rel=1e-4)
    brightness = [f.mean() for f in VideoReader(out)]
    flash_time = int(np.argmax(brightness)) / info.fps
    sound_time = _first_sound_time(load_audio(out, rate), rate)
    assert abs(flash_time - sound_time) < 1 / fps


def test_writer_leaves_nothing_under_the_final_name_on_error(tmp_path):
    out = tmp_path / "broken.mp4"
    with pytest.raises(RuntimeError):
        with VideoWriter(out, 64, 64, 25) as w:
            w.write(np.zeros((64, 64, 3), np.uint8))
            raise RuntimeError("crash in the middle")
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_odd_sizes_are_written(tmp_path, short_video):
    """yuv420p needs even sizes: a 63 x 47 video is written 64 x 48, each frame at the top left and
    its last column and row repeated into the padding."""
    # Five different real patches (one per frame, moving over the face) so order and placement show.
    inputs = [f[150 + 40 * i:197 + 40 * i, 180 + 30 * i:243 + 30 * i].copy()
              for i, f in enumerate(VideoReader(short_video).frames(0, 5))]
    out = tmp_path / "odd.mp4"
    with VideoWriter(out, 63, 47, 25) as w:
        for frame in inputs:
            w.write(frame)
    info = probe(out)
    assert (info.width, info.height, info.frame_count) == (64, 48, 5)
    decoded = [f.astype(int) for f in VideoReader(out).frames()]
    assert len(decoded) == 5

    def error(a, b):
        return np.abs(a - b.astype(int)).mean()

    for i, frame in enumerate(decoded):
        own = error(frame[:47, :63], inputs[i])  # measured 1.8-2.6 of 255 (H.264 at crf 18)
        assert own < min(error(frame[:47, :63], other) for k, other in enumerate(inputs) if k != i)
        assert own < error(frame[:47, 1:], inputs[i]) and own < error(frame[1:, :63], inputs[i])  # not shifted
        assert error(frame[:47, 63], inputs[i][:, 62]) < 6 and error(frame[47, :63], inputs[i][46]) < 6  # 1.0-3.7


@pytest.mark.parametrize("name, content, problem", [
    ("missing.mp4", None, "does not exist"),
    ("empty.mp4", b"", "empty"),
    ("notes.mp4", b"not a video at all", "not a media file"),
])
def test_bad_input_gives_a_clear_error(tmp_path, name, content, problem):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(MediaError, match=problem) as err:
        probe(path)
    assert str(path.name) in str(err.value)


def test_truncated_mp4_gives_a_clear_error_or_a_shorter_video(tmp_path, short_video):
    data = short_video.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 3])
    try:
        info = probe(cut)
    except MediaError as err:
        assert "cut.mp4" in str(err)
    else:
        assert 0 < sum(1 for _ in VideoReader(cut, info)) <= 122


def test_audio_file_is_not_a_video(speech_wav):
    with pytest.raises(MediaError, match="no video"):
        VideoReader(speech_wav)


def test_video_without_audio_says_so(tmp_path):
    out = tmp_path / "silent.mp4"
    with VideoWriter(out, 64, 64, 25) as w:
        w.write(np.zeros((64, 64, 3), np.uint8))
    with pytest.raises(MediaError, match="no audio"):
        load_audio(out)


def test_rotation_metadata_is_applied(tmp_path, short_video):
    from tests.mediatools import cut_clip, set_display_rotation

    clip = cut_clip(short_video, tmp_path / "phone.mp4", 10, with_audio=False)
    plain = VideoReader(clip).read(3)
    set_display_rotation(clip, 90)
    info = probe(clip)
    assert info.rotation == 90
    rotated = VideoReader(clip, info).read(3)
    assert rotated.shape == (plain.shape[1], plain.shape[0], 3)
    np.testing.assert_array_equal(rotated, np.rot90(plain, k=-1))  # 90 degrees clockwise


def test_streamed_audio_equals_the_decoded_track_and_feeds_the_writer(tmp_path, speech_wav):
    from core.media import stream_audio

    chunks = list(stream_audio(speech_wav, 48000))
    assert len(chunks) > 10 and all(c.shape[0] == 2 for c in chunks)  # chunk by chunk, stereo
    whole = load_audio(speech_wav, 48000, mono=False)
    np.testing.assert_array_equal(np.concatenate(chunks, axis=1), whole)  # same decoder, same resampler
    out = tmp_path / "streamed.mp4"
    n = int(probe(speech_wav).duration * 25)
    with VideoWriter(out, 64, 64, 25, audio=stream_audio(speech_wav, 48000), audio_rate=48000) as writer:
        for _ in range(n):
            writer.write(np.zeros((64, 64, 3), np.uint8))
    written, source = load_audio(out, 16000), load_audio(speech_wav, 16000)
    assert abs(len(written) / 16000 - probe(speech_wav).duration) < 0.05
    m = min(len(written), len(source))
    error = written[:m] - source[:m]
    # The AAC copy, sample for sample in place: measured 31.9 dB; shifted by one sample (1/16000 s) 9.7 dB.
    assert 10 * np.log10(np.sum(source[:m] ** 2) / np.sum(error ** 2)) > 25
