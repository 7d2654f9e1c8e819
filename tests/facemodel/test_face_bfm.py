"""The Basel Face Model path, on a tiny synthetic file in the BFM_model_front.mat layout.

The synthetic model is made from the clip's own person-specific model, turned into BFM's
conventions (y up, z towards the viewer, millimetre-like scale, 1-based indices), so the whole
fit can run on it and be checked against the real landmarks."""

import numpy as np
import pytest
import scipy.io

from core.errors import DubError
from core.facemodel import topology as topo
from core.facemodel.bfm import load_bfm
from core.facemodel.model import load_face_model
from core.fitting import load_face_params
from core.fitting.job import FitConfig, fit_job
from core.jobs import run_job
from core.facerender.render import FaceRenderer


def write_synthetic_bfm(path, person) -> None:
    rng = np.random.default_rng(0)
    v = person.n_vertices
    flip = np.array([1.0, -1.0, -1.0]) * 80.0  # back to y up, z towards the viewer, ~mm
    mean = person.mean_shape * flip
    exp = np.zeros((64, v, 3))
    k = min(person.n_exp, 64)
    # Guo et al.'s basis opens the jaw with negative first coefficients: mimic that sign.
    exp[:k] = person.exp_basis[:k] * flip * person.exp_std[:k, None, None]
    exp[0] *= -1
    ident = rng.normal(scale=0.01, size=(80, v, 3)) * 80.0
    tex = rng.normal(scale=2.0, size=(80, v, 3))
    keypoints = np.asarray(topo.MEDIAPIPE_TO_68) + 1  # vertex i of this model is mediapipe point i
    scipy.io.savemat(str(path), {
        "meanshape": mean.reshape(1, -1), "idBase": ident.reshape(80, -1).T,
        "exBase": exp.reshape(64, -1).T, "meantex": (person.albedo * 255).reshape(1, -1),
        "texBase": tex.reshape(80, -1).T, "tri": person.triangles + 1, "keypoints": keypoints[None],
    })


@pytest.fixture
def bfm_file(prepared_project, tmp_path):
    path = tmp_path / "BFM_model_front.mat"
    write_synthetic_bfm(path, load_face_model(prepared_project))
    return path


def test_loader_converts_conventions(bfm_file, prepared_project):
    person = load_face_model(prepared_project)
    bfm = load_bfm(bfm_file)
    assert bfm.id_basis.shape == (80, person.n_vertices, 3) and bfm.exp_basis.shape[0] == 64
    assert bfm.keypoints.tolist() == list(topo.MEDIAPIPE_TO_68)  # 0-based now
    # back in model space (y down): the chin is below the forehead
    assert bfm.mean_shape[topo.CHIN_BOTTOM, 1] > bfm.mean_shape[topo.FOREHEAD_TOP, 1]
    assert np.abs(bfm.mean_shape[:, :2]).max() == pytest.approx(1.0, abs=0.05)


def test_bfm_fit_end_to_end(bfm_file, project_copy):
    result = run_job(fit_job(project_copy, FitConfig(model="bfm", bfm_path=str(bfm_file))))
    model, params = load_face_model(project_copy), load_face_params(project_copy)
    assert model.kind == "bfm" and model.n_exp == 64 and params.expression.shape[1] == 64
    # 68 landmarks of a model spanning this actor's own shapes: within a few pixels of the tracking
    assert result.metrics["landmark_error_px"] < 4.0
    assert model.jaw_index == 0 and model.jaw_open < 0  # found the jaw, negative opens (like -8)
    jaw = np.zeros((2, 64), np.float32)
    jaw[1, model.jaw_index] = model.jaw_open
    shapes = model.shape(jaw)
    kp_up, kp_low = model.landmark_vertices[[62, 66]]
    assert (shapes[1, kp_low, 1] - shapes[1, kp_up, 1]) > (shapes[0, kp_low, 1] - shapes[0, kp_up, 1]) + 0.1
    out = FaceRenderer(project_copy, size=128).render([0, 50])
    lower, expanded = out.lower_mask > 0, out.expanded_mask > 0
    assert int(lower.sum()) > 500 and not (lower & ~expanded).any()


def test_missing_and_broken_files_say_what_is_wrong(tmp_path, bfm_file):
    with pytest.raises(DubError, match="does not exist.*BFM_model_front.mat"):
        load_bfm(tmp_path / "nowhere.mat")
    junk = tmp_path / "junk.mat"
    junk.write_bytes(b"not a mat file at all")
    with pytest.raises(DubError, match="junk.mat"):
        load_bfm(junk)
    data = scipy.io.loadmat(str(bfm_file))
    partial = tmp_path / "partial.mat"
    scipy.io.savemat(str(partial), {k: data[k] for k in ("meanshape", "idBase", "tri")})
    with pytest.raises(DubError, match="lacks exBase, meantex, texBase, keypoints"):
        load_bfm(partial)
    wrong = tmp_path / "wrong.mat"
    scipy.io.savemat(str(wrong), {**{k: data[k] for k in data if not k.startswith("__")},
                                  "exBase": data["exBase"][:, :10]})
    with pytest.raises(DubError, match=r"exBase has shape .*expected"):
        load_bfm(wrong)
    with pytest.raises(DubError, match="no file was given"):
        FitConfig(model="bfm")
