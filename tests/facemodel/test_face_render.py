"""Renders and masks of the fitted face (paper 3.3) on the real clip."""

import cv2
import numpy as np
import pytest
import torch

from core.facerender import overlays
from core.errors import DubError
from core.facemodel import topology as topo
from core.facerender.render import FaceRenderer
from core.tracking import load_crops, load_tracking

FRAMES = [0, 30, 60, 90]


@pytest.fixture(scope="module")
def rendered(prepared_project):
    renderer = FaceRenderer(prepared_project)
    return renderer, renderer.render(FRAMES)


def test_shapes_ranges_and_devices(rendered, prepared_project):
    renderer, out = rendered
    s = renderer.size
    assert s == load_tracking(prepared_project).crop_size
    assert out.image.shape == (len(FRAMES), 3, s, s) and out.image.dtype == torch.float32
    for m in (out.face_mask, out.lower_mask, out.expanded_mask, out.feather):
        assert m.shape == (len(FRAMES), 1, s, s) and m.dtype == torch.float32
    for m in (out.face_mask, out.lower_mask, out.expanded_mask):
        assert set(torch.unique(m).tolist()) <= {0.0, 1.0}
    assert 0 <= float(out.feather.min()) and float(out.feather.max()) <= 1
    assert float(out.image.min()) >= 0 and float(out.image.max()) <= 1
    assert float(out.image[out.face_mask.expand_as(out.image) == 0].abs().max()) == 0  # 0 outside


def test_render_matches_the_crop(rendered, prepared_project):
    renderer, out = rendered
    crops = load_crops(prepared_project)
    for j, f in enumerate(FRAMES):
        mask = out.face_mask[j, 0].numpy() > 0
        # the face covers a good part of the crop (crop side = 1.4 x the face's extent)
        assert 0.2 < mask.mean() < 0.6
        crop = crops[f].astype(np.float32) / 255
        render = out.image[j].permute(1, 2, 0).numpy()
        err = np.abs(render - crop)[mask].mean() * 255
        # mean colour error inside the face: the model has no glasses, hair strands or teeth.
        assert err < 25, (f, err)


def test_lower_mask_is_below_the_eyes_and_inside_the_expansion(rendered, prepared_project):
    renderer, out = rendered
    lm = load_tracking(prepared_project).landmarks_crop
    eyes = np.r_[topo.RIGHT_EYE, topo.LEFT_EYE]
    for j, f in enumerate(FRAMES):
        lower = out.lower_mask[j, 0].numpy() > 0
        expanded = out.expanded_mask[j, 0].numpy() > 0
        assert lower.sum() > 2000  # a real region, not a sliver (pixels of a 256 px crop)
        top = np.flatnonzero(lower.any(axis=1))[0]
        assert top > lm[f, eyes, 1].max()  # the mask starts below the lowest eye landmark
        # the mouth is inside the lower mask, opening included
        mouth = lm[f, topo.INNER_LIPS, :2].mean(0).astype(int)
        assert lower[mouth[1], mouth[0]]
        assert not (lower & ~expanded).any()  # the expansion contains the mask
        assert expanded.sum() > 1.2 * lower.sum()  # ... and really grows it (jaw-open, dilation)
        feather = out.feather[j, 0].numpy()
        assert (feather[~expanded] == 0).all()  # the compositing mask stays inside the expansion


def test_expression_argument_and_jaw_open_render(rendered):
    renderer, out = rendered
    exp = renderer.fitted_expression([FRAMES[1]]).clone()
    again = renderer.render([FRAMES[1]], exp.numpy())
    torch.testing.assert_close(again.image[0], out.image[1])
    exp[0, renderer.model.jaw_index] = renderer.model.jaw_open
    opened = renderer.render([FRAMES[1]], exp)
    # the mouth hole grows: fewer face pixels inside the lower region, more lower-mask pixels overall
    assert opened.lower_mask.sum() > out.lower_mask[1].sum()
    wrong_width = rf"has shape \(1, {renderer.n_exp + 1}\) but this face model needs \(1, {renderer.n_exp}\)"
    with pytest.raises(DubError, match=wrong_width + ".*Retrain the audio model"):
        renderer.render([FRAMES[1]], np.zeros((1, renderer.n_exp + 1)))
    with pytest.raises(ValueError, match=rf"frame indices must lie in 0\.\.{renderer.n_frames - 1}"):
        renderer.render([renderer.n_frames])


def test_overlay_images(rendered, prepared_project, tmp_path):
    renderer, out = rendered
    crops, lm = load_crops(prepared_project), load_tracking(prepared_project).landmarks_crop
    f = FRAMES[2]
    crop = np.array(crops[f])  # a writable copy: drawing in place would show (the crops file is read-only)
    before = crop.copy()
    panel = overlays.fit_overview(crop, out.image[2].permute(1, 2, 0).numpy(), out.face_mask[2, 0].numpy(),
                                  out.lower_mask[2, 0].numpy(), out.expanded_mask[2, 0].numpy(), lm[f])
    wire = overlays.draw_wireframe(crop, renderer.screen_vertices([f])[0].numpy(), renderer.model.triangles)
    assert (crop == before).all()  # inputs untouched
    assert panel.shape == (crop.shape[0], 3 * crop.shape[1], 3) and panel.dtype == np.uint8
    changed = (wire != before).any(-1)
    assert 0.05 < changed.mean() < 0.6  # the wireframe covers the face, not the whole crop
    cv2.imwrite(str(tmp_path / "overview.png"), cv2.cvtColor(panel, cv2.COLOR_RGB2BGR))
