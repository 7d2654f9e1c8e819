"""Training the renderer on a real tracked clip with the landmark face renderer stand-in."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch

from core.jobs import run_job
from core.renderer import NeuralRenderer, train_renderer_job
from core.renderer.checkpoint import load_checkpoint
from core.tracking import load_tracking
from tests.renderer.conftest import fake_renderer


def _drive(job, stop_after_step: int | None = None) -> list:
    """Collect the Progress records; close the job (as a cancel does) after ``stop_after_step``."""
    records = []
    while True:
        try:
            p = next(job)
        except StopIteration as stop:
            return records, stop.value
        records.append(p)
        if stop_after_step is not None and p.step == stop_after_step and p.stage == "Training renderer":
            job.close()
            return records, None


def test_tiny_training_lowers_held_out_error(tracked_copy, tiny_config):
    config = dataclasses.replace(tiny_config, steps=45, eval_every=15)
    records, result = _drive(train_renderer_job(tracked_copy, config, fake_renderer(tracked_copy)))
    train = [r for r in records if r.stage == "Training renderer" and "val_l1_255" in r.losses]
    first_val = train[0].losses["val_l1_255"]
    # The untrained generator paints mid-grey over skin and lips: tens of levels off. 45 steps of
    # L1 x 100 must at least cut the held-out error by a third.
    assert result.val_l1_255 < 0.67 * first_val, (first_val, result.val_l1_255)
    l1 = [r.losses["l1"] for r in records if "l1" in r.losses]
    assert len(l1) == 45
    # Training batches are random frames, so single losses are noisy: compare means of several.
    assert np.mean(l1[-10:]) < 0.8 * np.mean(l1[:5])
    previews = [r.preview for r in records if r.preview is not None]
    assert previews and previews[-1].dtype == np.uint8 and previews[-1].shape == (3 * 64, 3 * 64, 3)
    folder = tracked_copy.path("renderer")
    assert {"last.pt", "best.pt", "config.json", "cond.bin", "cond_index.npy"} <= {p.name for p in folder.iterdir()}
    assert json.loads((folder / "config.json").read_text())["size"] == 64
    record = tracked_copy.stage("renderer")
    assert record.status == "done" and record.metrics["steps"] == 45 and "fitting" in record.inputs

    renderer = NeuralRenderer.load(tracked_copy)
    w = renderer.window
    s = load_tracking(tracked_copy).crop_size
    assert w.size == 64 and 0 < w.side <= s
    window = torch.rand(2, 7, 3, 64, 64)
    out = renderer.generate(window)
    assert out.shape == (2, 3, 64, 64) and 0.0 <= float(out.min()) and float(out.max()) <= 1.0
    crop = renderer.to_crop(out)
    assert crop.shape == (2, 3, s, s)
    outside = torch.from_numpy(renderer.coverage == 0)
    assert float(crop[:, :, outside].abs().max()) == 0.0


def test_cancel_then_resume_continues_from_checkpoint(tracked_copy, tiny_config):
    faces = fake_renderer(tracked_copy)
    config = dataclasses.replace(tiny_config, steps=16)
    _drive(train_renderer_job(tracked_copy, config, faces), stop_after_step=9)
    saved = load_checkpoint(tracked_copy.path("renderer", "last.pt"))
    assert saved["step"] == 9
    assert tracked_copy.stage("renderer").status == "cancelled"

    calls_before = faces.calls
    records, result = _drive(train_renderer_job(tracked_copy, config, faces))
    assert faces.calls == calls_before  # the conditioning cache was reused, not re-rendered
    steps = [r.step for r in records if r.stage == "Training renderer"]
    assert steps[0] == 10 and steps[-1] == 16
    assert result.steps == 16
    assert load_checkpoint(tracked_copy.path("renderer", "last.pt"))["step"] == 16


def test_changed_network_starts_afresh(tracked_copy, tiny_config):
    faces = fake_renderer(tracked_copy)
    run_job(train_renderer_job(tracked_copy, dataclasses.replace(tiny_config, steps=5), faces))
    wider = dataclasses.replace(tiny_config, ngf=12, steps=3)
    records, result = _drive(train_renderer_job(tracked_copy, wider, faces))
    assert [r.step for r in records if r.stage == "Training renderer"][1] == 1
    assert result.steps == 3


def test_untrained_project_gives_clear_error(tracked_copy):
    from core.errors import ProjectError

    with pytest.raises(ProjectError, match="train-renderer"):
        NeuralRenderer.load(tracked_copy)
