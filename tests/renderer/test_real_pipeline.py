"""The renderer on the real prepared project: FaceRenderer conditioning, training, inference and
compositing into the original full-resolution frames."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from core.facerender.composite import composite_frame
from core.jobs import run_job
from core.media import VideoReader
from core.facerender.render import FaceRenderer
from core.renderer import NeuralRenderer, train_renderer_job
from core.renderer.cond_store import CondStore
from core.tracking import load_crops, load_tracking


def test_train_and_composite_on_the_prepared_project(project_copy, tiny_config):
    config = dataclasses.replace(tiny_config, steps=12, eval_every=6)
    result = run_job(train_renderer_job(project_copy, config))
    assert result.steps == 12 and np.isfinite(result.val_l1_255)
    record = project_copy.stage("renderer")
    assert record.status == "done" and record.inputs == {"fitting": project_copy.stage("fitting").key}

    # The cache holds FaceRenderer's masked renders, to the 8-bit level.
    faces = FaceRenderer(project_copy)
    store = CondStore(project_copy.path("renderer"))
    cond, cached_mask = store.read([30])
    out = faces.render(np.array([30]))
    expected = (out.image * (out.expanded_mask > 0.5)).clamp(0, 1)[0].permute(1, 2, 0).numpy() * 255
    assert np.abs(cond[0].astype(np.float32) - expected).max() <= 1.0
    assert np.array_equal(cached_mask[0], (out.expanded_mask[0, 0] > 0.5).numpy().astype(np.uint8))

    # The window covers the lower face: every expanded mask pixel of the clip lies inside it.
    renderer = NeuralRenderer.load(project_copy)
    mask = store.read(np.arange(len(store)))[1]
    assert mask.max() == 1 and np.all(mask.max(axis=0)[renderer.coverage == 0] == 0)

    # Inference on frame 30 composited into the original frame (524 x 524).
    tracking, crops = load_tracking(project_copy), load_crops(project_copy)
    r = renderer.n_window // 2
    conds = []
    for j in range(30 - r, 30 + r + 1):
        o = faces.render(np.array([j]))
        conds.append(renderer.condition(o.image, o.expanded_mask))
    generated = renderer.to_crop(renderer.generate(torch.stack(conds, 1)))[0].permute(1, 2, 0).numpy() * 255
    frame = next(f for i, f in enumerate(VideoReader(project_copy.source_video)) if i == 30)
    feather = out.feather[0, 0].numpy()
    result_frame = composite_frame(frame, tracking.boxes[30], np.asarray(crops[30]), generated,
                                   out.expanded_mask[0, 0].numpy(), feather, renderer.coverage)
    assert result_frame.shape == frame.shape == (524, 524, 3)
    changed = np.any(result_frame != frame, axis=2)
    assert changed.any()
    # Changed pixels lie inside the crop box (the feather is 0 outside it).
    cx, cy, side = tracking.boxes[30]
    ys, xs = np.nonzero(changed)
    assert xs.min() >= cx - side / 2 - 2 and xs.max() <= cx + side / 2 + 2
    assert ys.min() >= cy - side / 2 - 2 and ys.max() <= cy + side / 2 + 2


@pytest.mark.parametrize("warp_refs", [False, True])
def test_reference_renderer_dubs_a_frame_that_equals_the_source_outside_the_feather(project_copy, tiny_config,
                                                                                   warp_refs):
    """The default renderer on the real prepared project (and with its references warped onto the
    target's face): trained briefly, then driven through the dub's synthesizer with another frame's
    expression; the pasted frame keeps every source pixel where the composited alpha is 0."""
    from core.lowerface.network import NeuralSynthesizer, has_trained_renderer
    from core.tracking.crop import paste_back
    from gpu.device import select_device

    config = dataclasses.replace(tiny_config, renderer="reference", native_size=True, n_refs=2, steps=6,
                                 eval_every=3, warp_refs=warp_refs)
    run_job(train_renderer_job(project_copy, config))
    assert has_trained_renderer(project_copy)
    synth = NeuralSynthesizer(project_copy, select_device("cpu"))
    assert synth.neural.uses_frame and synth.neural.window.size == 64
    assert (synth.neural.warp is not None) == warp_refs
    if warp_refs:  # the open-mouth reference moved onto frame 25's face: not the reference itself
        warper, ref_crops, ref_vertices = synth.neural.warp
        moved = warper.warp(ref_crops[0], ref_vertices[0], synth.renderer.screen_vertices([25])[0].numpy())
        assert moved.shape == ref_crops[0].shape
        assert 2.0 < np.abs(moved.astype(float) - ref_crops[0]).mean()
        assert np.abs(moved.astype(float) - np.asarray(load_crops(project_copy)[25])).mean() < \
            np.abs(ref_crops[0].astype(float) - np.asarray(load_crops(project_copy)[25])).mean()
    tracking = load_tracking(project_copy)
    targets = np.arange(20, 30)
    expressions = synth.renderer.fitted_expression(targets[::-1].copy()).numpy()  # another mouth
    patches = list(synth.frames(targets, expressions))
    assert len(patches) == len(targets) and all(p is not None for p in patches)
    frames = {i: f for i, f in enumerate(VideoReader(project_copy.source_video)) if 20 <= i < 30}
    crop, alpha = patches[3]
    s = tracking.crop_size  # the automatic size: 320 px for this 524 px clip on the CPU profile
    assert crop.shape == (s, s, 3) and alpha.shape == (s, s) and alpha.max() > 0.99
    frame = frames[23]
    out = paste_back(frame, crop, alpha, tracking.boxes[23])
    changed = np.any(out != frame, axis=2)
    assert changed.sum() > 500
    # Every changed pixel lies where the alpha warped into the frame is above 0.
    import cv2

    from core.tracking.crop import inverse_matrix

    warped = cv2.warpAffine(alpha, inverse_matrix(tracking.boxes[23], s), frame.shape[1::-1],
                            flags=cv2.INTER_LINEAR, borderValue=0)
    assert not np.any(changed & (warped <= 0))
