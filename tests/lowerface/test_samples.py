"""The sample-based lower face on real footage: the index keeps the video's own pixels, a sample on
its own mesh is the frame, the held-out tail is never copied, real runs are preferred, switches
dissolve, and a 1080p mouth keeps the video's resolution."""

from __future__ import annotations

import numpy as np
import pytest

from core.holdout import holdout_start
from core.jobs import run_job
from core.lowerface import make_synthesizer
from core.lowerface.samples.index import load_sample_index
from core.lowerface.samples.synth import SampleConfig, SampleSynthesizer
from core.media import VideoReader
from core.metrics import laplacian_variance, mouth_box, psnr
from core.facerender.render import FaceRenderer
from core.tracking import load_tracking


def _frames(project, first: int, last: int) -> dict[int, np.ndarray]:
    return {first + k: f for k, f in enumerate(VideoReader(project.source_video).frames(first, last + 1))}


def test_prepare_indexes_every_face_frame_with_its_own_pixels(prepared_project):
    """The index holds every frame with a face, and its pixels are the video frame's own, cut at
    an integer rectangle without resampling (equal bit for bit) around the lower face."""
    index = load_sample_index(prepared_project)
    tracking = load_tracking(prepared_project)
    assert prepared_project.is_current("samples")
    assert np.array_equal(index.frames, np.flatnonzero(tracking.has_face))
    frames = _frames(prepared_project, 30, 32)
    for i in (30, 32):
        x0, y0, w, h = index.rects[index.position[i]]
        assert np.array_equal(index.pixels(i), frames[i][y0:y0 + h, x0:x0 + w])
        lips = tracking.landmarks[i][[61, 291, 0, 17], :2]  # corners, top and bottom of the lips
        assert (lips[:, 0] > x0).all() and (lips[:, 0] < x0 + w).all()
        assert (lips[:, 1] > y0).all() and (lips[:, 1] < y0 + h).all()
    assert index.lips.shape == (len(index.frames), 80) and np.isfinite(index.lips).all()
    assert (index.sharpness > 0).all()


def test_a_sample_on_its_own_mesh_returns_the_frame(prepared_project):
    """Frame i's stored mouth moved onto frame i's own fitted mesh (the plan forced to i itself)
    comes back as the frame: the warp is the identity and the one resampling is exact there."""
    synth = SampleSynthesizer(prepared_project, config=SampleConfig(fade=0))
    faces = FaceRenderer(prepared_project)
    indices = np.arange(40, 44)
    expressions = faces.fitted_expression(indices).numpy()
    synth.plan = lambda idx, exp: np.asarray(idx)  # each frame its own source
    frames = _frames(prepared_project, 40, 43)
    boxes = load_tracking(prepared_project).boxes
    for i, patch in zip(indices, synth.frames(indices, expressions)):
        inside = patch.alpha > 0.5
        assert inside.sum() > 2000
        region = frames[i][patch.y0:patch.y0 + patch.alpha.shape[0], patch.x0:patch.x0 + patch.alpha.shape[1]]
        assert psnr(np.clip(patch.pixels, 0, 255), region, inside) > 45
        out = patch.apply(frames[i], boxes[i])
        assert psnr(out, frames[i]) > 50


def test_held_out_frames_are_never_copied_and_own_lips_find_themselves(prepared_project):
    """Driven by the held-out frames' own fitted expressions, the evaluation's synthesizer picks
    only training frames; without the exclusion the same lips pick (mostly) the frames themselves."""
    tracking = load_tracking(prepared_project)
    start = holdout_start(tracking.n_frames)
    held_out = np.arange(start, tracking.n_frames)
    expressions = FaceRenderer(prepared_project).fitted_expression(held_out).numpy()
    evaluating = make_synthesizer(prepared_project, "sample", device="cpu", exclude_from=start)
    sources = evaluating.plan(held_out, expressions)
    assert len(sources) == len(held_out) and sources.max() < start
    dubbing = make_synthesizer(prepared_project, "sample", device="cpu")
    own = dubbing.plan(held_out, expressions)
    assert np.mean(np.abs(own - held_out) <= 1) > 0.8


def test_real_runs_are_preferred_to_jumping(prepared_project):
    """Lips of a real stretch of the video are answered with that stretch, in order, with few
    switches; with no cost for switching the choice jumps far more often."""
    from core.lowerface.samples.select import SelectConfig

    indices = np.arange(20, 80)
    driving = FaceRenderer(prepared_project).fitted_expression(np.arange(30, 90)).numpy()
    runs = SampleSynthesizer(prepared_project, config=SampleConfig())
    jumps = SampleSynthesizer(prepared_project, config=SampleConfig(
        select=SelectConfig(switch=0.0, hold=0.0, short_run=0.0)))
    sources = runs.plan(indices, driving)
    assert runs.switches(indices, driving) <= 3
    assert np.mean(sources == np.arange(30, 90)) > 0.7
    assert jumps.switches(indices, driving) > 2 * max(runs.switches(indices, driving), 3)


def _region_change(patches_a, patches_b, frames):
    """Mean absolute change inside the joint alpha between two consecutive composited frames."""
    a, b = patches_a, patches_b
    fa, fb = a.apply(frames[0], None), b.apply(frames[1], None)
    inside = np.zeros(frames[0].shape[:2], bool)
    inside[a.y0:a.y0 + a.alpha.shape[0], a.x0:a.x0 + a.alpha.shape[1]] |= a.alpha > 0.5
    return float(np.abs(fa.astype(np.float32) - fb)[inside].mean())


def test_a_switch_of_source_is_cross_faded(prepared_project):
    """A plan that jumps from one run of real frames to another: with the dissolve, the frames
    after the switch blend the continued outgoing run into the incoming one (each differs from
    both pure mouths), and the biggest frame-to-frame jump is smaller than a hard cut's."""
    indices = np.arange(50, 62)
    expressions = FaceRenderer(prepared_project).fitted_expression(indices).numpy()
    plan = np.r_[np.arange(10, 16), np.arange(80, 86)]  # switch at output frame 6
    frames = _frames(prepared_project, 50, 61)
    made = {}
    for fade in (0, 4):
        synth = SampleSynthesizer(prepared_project, config=SampleConfig(fade=fade))
        synth.plan = lambda idx, exp: plan[:len(idx)] if len(idx) == len(plan) else plan
        made[fade] = list(synth.frames(indices, expressions))
    hard, soft = made[0], made[4]
    for j in range(6):  # before the switch both are the same
        assert np.allclose(hard[j].pixels, soft[j].pixels)
    for j in (6, 7, 8):
        diff_new = np.abs(soft[j].pixels - hard[j].pixels)[soft[j].alpha > 0.5].mean()
        assert diff_new > 1.0, j  # not the incoming mouth alone
    ordered = [frames[50 + j] for j in range(12)]
    jump = lambda made: max(_region_change(made[j], made[j + 1], ordered[j:j + 2]) for j in range(5, 10))
    assert jump(soft) < 0.8 * jump(hard)


@pytest.fixture(scope="module")
def hd_project(tmp_path_factory):
    """1.5 s of the 1080 x 1920 clip, prepared with small 256 px crops (the face is about 324 px)."""
    from core.prepare import PrepareConfig, prepare_job
    from core.project import Project
    from tests.mediatools import cut_clip
    from tests.conftest import media

    folder = tmp_path_factory.mktemp("hd")
    clip = cut_clip(media("video/latentsync__demo3_video.mp4"), folder / "hd.mp4", 45)
    project = Project.create(folder / "project", clip, consent=True)
    run_job(prepare_job(project, PrepareConfig(crop_size=256)))
    return project


def test_a_1080p_mouth_keeps_the_video_resolution(hd_project):
    """On 1080p footage the sample-based mouth is cut from the video frame, not from the 256 px
    crop: on the same frames its mouth box is about as sharp as the real one, and sharper than the
    same result sent through the crop (cut at 256 px and pasted back, as a crop-space lower face
    is)."""
    from core.lowerface.patch import CropPatch
    from core.tracking.crop import crop_image

    tracking = load_tracking(hd_project)
    assert tracking.crop_size == 256
    indices = np.arange(10, 40)
    faces = FaceRenderer(hd_project)
    expressions = faces.fitted_expression(indices[::-1].copy()).numpy()  # another mouth per frame
    frames = _frames(hd_project, 10, 39)
    sharp = {"real": [], "sample": [], "crop": []}
    synth = make_synthesizer(hd_project, "sample", device="cpu")
    for k, (i, patch) in enumerate(zip(indices, synth.frames(indices, expressions))):
        box = tracking.boxes[i]
        out = patch.apply(frames[i], box)
        feather = faces.render(np.array([i]), expressions[k:k + 1]).feather[0, 0].numpy()
        through_crop = CropPatch(crop_image(out, box, 256), feather).apply(frames[i], box)
        x0, y0, x1, y1 = mouth_box(tracking.landmarks[i], out.shape)
        for name, image in (("real", frames[i]), ("sample", out), ("crop", through_crop)):
            sharp[name].append(laplacian_variance(image[y0:y1, x0:x1]))
    real, sample, crop = (float(np.mean(sharp[k])) for k in ("real", "sample", "crop"))
    assert 0.8 * real < sample < 1.25 * real
    assert sample > 1.2 * crop
