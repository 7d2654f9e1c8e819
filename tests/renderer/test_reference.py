"""The reference renderer (default): real pixels in, references only from the training part, and
old projects trained with the paper's renderer still loading."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from core.holdout import holdout_start
from core.jobs import run_job
from core.renderer import NeuralRenderer, RendererTrainConfig, train_renderer_job
from core.renderer.checkpoint import load_checkpoint, save_checkpoint
from core.renderer.data import TrainingData, build_cache_job
from core.renderer.references import ReferencePicker
from core.tracking import load_crops, load_tracking
from tests.renderer.conftest import fake_renderer
from tests.renderer.test_training import _drive


@pytest.fixture
def reference_config(tiny_config):
    """The reference renderer shrunk: a 64 px cap, so the window (about 200 crop px) is resampled."""
    return dataclasses.replace(tiny_config, renderer="reference", native_size=True, n_refs=2, ref_gap_s=1.0)


def test_defaults_are_the_reference_renderer_and_the_paper_stays_selectable():
    cpu = RendererTrainConfig.for_device("cpu", minutes=1)
    assert cpu.renderer == "reference" and cpu.n_refs == 2 and cpu.native_size and cpu.size == 256
    assert cpu.in_channels == 3 * 7 + 4 + 6
    # The network follows the window's own side (rounded to 32 px) up to the cap.
    assert cpu.network_size(197) == 192 and cpu.network_size(400) == 256 and cpu.network_size(40) == 64
    paper = RendererTrainConfig.for_device("cpu", minutes=1, renderer="paper")
    assert paper.renderer == "paper" and paper.in_channels == 21 and paper.network_size(197) == 128
    # A config saved before this field existed is the paper's renderer.
    old = paper.to_json()
    del old["renderer"]
    assert RendererTrainConfig.from_json(old).renderer == "paper"


def test_references_never_come_from_the_held_out_tail_nor_near_the_frame_learnt(tracked_copy, reference_config):
    cache = run_job(build_cache_job(tracked_copy, fake_renderer(tracked_copy)))
    window = cache.window_for(reference_config)
    data = TrainingData(tracked_copy, cache, window, reference_config, torch.device("cpu"))
    tracking = load_tracking(tracked_copy)
    boundary = holdout_start(tracking.n_frames, reference_config.val_fraction)
    picker = data.references
    gap = int(round(reference_config.ref_gap_s * tracking.fps))
    assert picker is not None and picker.gap == gap == 25
    assert np.all(picker.fixed < boundary) and set(picker.fixed) <= set(data.train_indices)
    opening = tracking.mouth_opening()
    assert opening[picker.fixed[0]] > opening[picker.fixed[1]]  # open first, then closed
    rng = np.random.default_rng(0)
    targets = rng.choice(data.train_indices, 400)
    refs = picker.sample(targets, rng)
    assert refs.shape == (400, 2) and np.all(refs < boundary)
    assert set(refs.ravel()) <= set(data.train_indices)
    assert np.all(np.abs(refs - targets[:, None]) >= gap)
    # Open references come from the most open quarter of the training frames, closed from the least.
    assert opening[refs[:, 0]].min() >= np.quantile(opening[data.train_indices], 0.7)
    assert opening[refs[:, 1]].max() <= np.quantile(opening[data.train_indices], 0.3)

    # The batch carries the renders, the blanked frame, its mask and the references: the target's
    # own window with the lower face blanked, then the windows of the references drawn for it (the
    # same draw as the picker's with the same seed), none of them the target or within the gap.
    picked = targets[:3]
    batch = data.batch(picked, np.random.default_rng(7))
    chosen = picker.sample(picked, np.random.default_rng(7))
    assert np.all(np.abs(chosen - picked[:, None]) >= gap) and np.all(chosen < boundary)
    s = window.size
    assert batch.cond.shape == (3, reference_config.in_channels, s, s)
    frame, mask = batch.cond[:, 21:24], batch.cond[:, 24:25]
    assert torch.equal(mask, batch.mask) and 0 < float(mask.mean()) < 0.9

    def windows(frames):
        crops = torch.from_numpy(np.asarray(data.crops[np.asarray(frames).reshape(-1)]))
        return window.cut(crops.permute(0, 3, 1, 2).float() / 255.0)

    assert float((frame * mask).abs().max()) == 0.0  # the lower face is blanked
    torch.testing.assert_close(frame, windows(picked) * (1 - mask))  # the real pixels around it are there
    refs = batch.cond[:, 25:].reshape(3, reference_config.n_refs, 3, s, s)
    torch.testing.assert_close(refs, windows(chosen).reshape(3, reference_config.n_refs, 3, s, s))
    own = windows(picked)[:, None]
    assert float((refs - own).abs().mean(dim=(2, 3, 4)).min()) > 0.01  # no reference is the target itself


def test_a_short_clip_draws_references_far_enough_from_any_opening():
    picker = ReferencePicker(np.arange(10), np.linspace(0, 1, 10), n_refs=1, gap=5)
    assert picker.fixed.tolist() == [9] and picker.pools[0].tolist() == [8, 9]
    refs = picker.sample(np.full(50, 9), np.random.default_rng(0))
    assert set(refs[:, 0]) <= {0, 1, 2, 3, 4}  # the open pool is too close to frame 9
    far = ReferencePicker(np.arange(10), np.linspace(0, 1, 10), n_refs=1, gap=50)
    assert far.sample(np.array([9, 8]), np.random.default_rng(0))[:, 0].tolist() == [8, 9]


def test_reference_training_lowers_the_held_out_error_and_generates(tracked_copy, reference_config):
    config = dataclasses.replace(reference_config, steps=45, eval_every=15)
    records, result = _drive(train_renderer_job(tracked_copy, config, fake_renderer(tracked_copy)))
    first_val = [r for r in records if "val_l1_255" in r.losses][0].losses["val_l1_255"]
    assert result.val_l1_255 < 0.67 * first_val, (first_val, result.val_l1_255)
    saved = load_checkpoint(tracked_copy.path("renderer", "best.pt"))
    boundary = holdout_start(load_tracking(tracked_copy).n_frames, config.val_fraction)
    assert len(saved["references"]) == 2 and max(saved["references"]) < boundary

    renderer = NeuralRenderer.load(tracked_copy)
    assert renderer.uses_frame and renderer.config.renderer == "reference"
    s = renderer.window.size
    assert s == 64 and renderer.references.shape == (1, 6, s, s)
    # At inference the real frames come in with the expanded mask of the expression being rendered:
    # inside the mask the window is blank, outside it is the real crop, then the mask and references.
    frames = np.array([30, 60])
    crops = np.asarray(load_crops(tracked_copy)[frames])
    mask = fake_renderer(tracked_copy).render(frames).expanded_mask
    frame = renderer.frame_input(crops, mask)
    assert frame.shape == (2, 4 + 6, s, s)
    cut = renderer.window.cut
    inside = (cut(mask) > 0.5).float()
    assert 0.1 < float(inside.mean()) < 0.9
    assert torch.equal(frame[:, 3:4], inside)
    assert float((frame[:, :3] * inside).abs().max()) == 0.0  # the lower face is blank
    real = cut(torch.from_numpy(crops).permute(0, 3, 1, 2).float() / 255.0)
    torch.testing.assert_close(frame[:, :3], real * (1 - inside))  # the rest is the real frame
    assert torch.equal(frame[:, 4:], renderer.references.expand(2, -1, -1, -1))
    out = renderer.generate(torch.rand(2, 7, 3, s, s), frame)
    assert out.shape == (2, 3, s, s)
    with pytest.raises(ValueError, match="target frames"):
        renderer.generate(torch.rand(2, 7, 3, s, s))


def test_a_project_trained_with_the_paper_renderer_still_loads(tracked_copy, tiny_config):
    """A checkpoint written before the reference renderer: its config has no 'renderer' field and
    no references; it loads as the paper's renderer and generates from renders alone."""
    run_job(train_renderer_job(tracked_copy, dataclasses.replace(tiny_config, steps=3),
                               fake_renderer(tracked_copy)))
    path = tracked_copy.path("renderer", "best.pt")
    state = load_checkpoint(path)
    del state["config"]["renderer"], state["config"]["max_channels"], state["config"]["n_refs"]
    state.pop("references", None)
    save_checkpoint(path, state)
    renderer = NeuralRenderer.load(tracked_copy)
    assert renderer.config.renderer == "paper" and not renderer.uses_frame
    assert renderer.generate(torch.rand(1, 7, 3, 64, 64)).shape == (1, 3, 64, 64)


def _generator_weights(path) -> torch.Tensor:
    return torch.cat([v.flatten().float() for v in load_checkpoint(path)["generator"].values()])


def test_reference_training_resumes_from_its_checkpoint(tracked_copy, reference_config):
    """Stopped and started again, the reference renderer goes on from the saved step with the saved
    weights and optimiser moments (a fresh start would restart Adam's step count and the weights)."""
    faces = fake_renderer(tracked_copy)
    config = dataclasses.replace(reference_config, steps=12)
    last = tracked_copy.path("renderer", "last.pt")
    _drive(train_renderer_job(tracked_copy, config, faces), stop_after_step=1)
    w1 = _generator_weights(last)
    records, _ = _drive(train_renderer_job(tracked_copy, config, faces), stop_after_step=9)
    assert [r.step for r in records if r.stage == "Training renderer"][0] == 2
    w9 = _generator_weights(last)
    saved = load_checkpoint(last)
    assert saved["step"] == 9 and saved["config"]["renderer"] == "reference"
    assert {int(s["step"]) for s in saved["opt_g"]["state"].values()} == {9}

    records, result = _drive(train_renderer_job(tracked_copy, config, faces), stop_after_step=10)
    steps = [r.step for r in records if r.stage == "Training renderer"]
    assert steps[0] == 10 and steps[-1] == 10
    state = load_checkpoint(last)
    assert state["step"] == 10
    assert {int(s["step"]) for s in state["opt_g"]["state"].values()} == {10}  # Adam's moments kept
    assert {int(s["step"]) for s in state["opt_d"]["state"].values()} == {10}
    w10 = _generator_weights(last)
    # One more step from step 9's weights moves them far less than steps 1 to 9 did.
    assert float((w10 - w9).abs().mean()) < 0.4 * float((w9 - w1).abs().mean())
    assert len(state["references"]) == 2


def test_the_copying_generator_moves_a_reference_by_its_flow(tracked_project):
    """With the U-Net's output fixed to 'shift reference 2 right by 8 px, take only it', the output
    is that real crop moved 8 px: the flow and the blend do what they say."""
    from core.renderer.copying import ReferenceCopyingGenerator
    from core.tracking import load_crops

    s, n = 64, 2
    gen = ReferenceCopyingGenerator(in_ch=3 + 3 * n, n_refs=n, size=s, ngf=8, dropout=0.0, max_channels=0,
                                    flow_cell=1)
    crop = torch.from_numpy(np.asarray(load_crops(tracked_project)[10])).permute(2, 0, 1).float() / 127.5 - 1
    ref = torch.nn.functional.interpolate(crop[None], size=(s, s), mode="area")[0]
    x = torch.cat([torch.zeros(3, s, s), torch.zeros(3, s, s), ref])[None]
    out_channels = torch.zeros(1, 3 + 3 * n + 1, s, s)
    shift_px = 8
    # flow channels 3..6: (dx, dy) of ref 1 then of ref 2, in units of 2 * max_shift (normalised)
    out_channels[:, 5] = -shift_px * 2 / (s - 1) / (2 * gen.max_shift)  # sample from the left
    out_channels[:, 3 + 2 * n + 2] = 1.0  # blend logit of ref 2 at the top of its range
    out_channels[:, 3 + 2 * n:3 + 2 * n + 2] = -1.0
    gen.unet.forward = lambda _x: out_channels
    out = gen(x)[0]
    expected = ref[:, :, :-shift_px]
    weight = torch.softmax(torch.tensor([-4.0, -4.0, 4.0]), 0)[2]
    got = out[:, :, shift_px:]
    assert (got - weight * expected).abs().max() < 0.01 + (1 - weight) * 1.0
    assert (got - expected).abs().mean() < 0.01
    assert (out - ref).abs().mean() > 0.05  # it did move


def test_copying_reference_training_lowers_the_error_and_reloads(tracked_copy, reference_config):
    """It starts from a blend of real references (a lower first error than drawing from nothing),
    so the bar is a smaller relative drop."""
    config = dataclasses.replace(reference_config, copy_refs=True, steps=45, eval_every=15)
    records, result = _drive(train_renderer_job(tracked_copy, config, fake_renderer(tracked_copy)))
    first_val = [r for r in records if "val_l1_255" in r.losses][0].losses["val_l1_255"]
    assert result.val_l1_255 < 0.8 * first_val, (first_val, result.val_l1_255)
    renderer = NeuralRenderer.load(tracked_copy)
    assert renderer.config.copy_refs
    s = renderer.window.size
    c = renderer.window.crop_size
    frame = renderer.frame_input(np.zeros((1, c, c, 3), np.uint8), torch.zeros(1, 1, c, c))
    out = renderer.generate(torch.rand(1, 7, 3, s, s), frame)
    assert out.shape == (1, 3, s, s) and 0 <= float(out.min()) and float(out.max()) <= 1
