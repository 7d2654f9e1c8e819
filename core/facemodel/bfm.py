"""The paper's Basel Face Model 2009 (80 identity, 64 expression, 80 reflectance components), read
from the BFM_model_front.mat that Deep3DFaceRecon and AudioDVP users build.

The file's layout (MATLAB, 1-based indices), V vertices and F triangles:
    meanshape (1, 3V) or (3V, 1)   mean geometry, x y z interleaved, y up, z towards the viewer
    idBase    (3V, 80)            identity basis       exBase (3V, 64)   expression basis
    meantex   (1, 3V) in 0..255   mean reflectance     texBase (3V, 80)  reflectance basis
    tri       (F, 3)              triangles            keypoints (1, 68) the 68 landmark vertices
Identity and reflectance are estimated once, from 8 frames (as in the paper), and baked into a
FaceModel; only expression, pose and lighting vary per frame. The 68 landmarks are taken from
the tracked mediapipe mesh through topology.MEDIAPIPE_TO_68.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import DubError
from core.facemodel import topology as topo
from core.facemodel.geometry import sample_colours, similarity_align, vertex_normals_np
from core.facemodel.model import FaceModel, lower_face

log = logging.getLogger(__name__)

REQUIRED = {"meanshape": None, "idBase": 80, "exBase": 64, "meantex": None, "texBase": 80,
            "tri": 3, "keypoints": None}
LANDMARK_WEIGHT = 50.0  # paper: mouth and eye landmarks weigh 50, the others 1
NOSE_TIP_68 = 30
JAW_OPEN = 8.0  # the paper opens the jaw with the first expression coefficient at -8


@dataclass(frozen=True, eq=False)
class BaselModel:
    """The BFM in model space (x right, y down, z away; scaled like FaceModel's mean).

    mean_shape float64 (V, 3); id_basis (80, V, 3); exp_basis (64, V, 3); mean_albedo (V, 3) in
    [0, 1]; tex_basis (80, V, 3) (albedo units); triangles int64 (F, 3) 0-based; keypoints (68,)."""

    mean_shape: np.ndarray
    id_basis: np.ndarray
    exp_basis: np.ndarray
    mean_albedo: np.ndarray
    tex_basis: np.ndarray
    triangles: np.ndarray
    keypoints: np.ndarray


def _bad(path: Path, what: str) -> DubError:
    return DubError(f"{path}: {what}. Expected a Basel Face Model 2009 file in the BFM_model_front.mat "
                    "layout (keys meanshape, idBase (3V x 80), exBase (3V x 64), meantex, texBase "
                    "(3V x 80), tri, keypoints (68)) as built by Deep3DFaceRecon or AudioDVP, or use "
                    "the built-in face model.")


def load_bfm(path: Path) -> BaselModel:
    """Read and check a BFM_model_front.mat. Raises DubError naming the file and the problem."""
    import scipy.io  # lazy: only for the optional Basel Face Model

    path = Path(path)
    if not path.is_file():
        raise _bad(path, "the Basel Face Model file does not exist")
    try:
        data = scipy.io.loadmat(str(path))
    except Exception as exc:  # scipy raises several types for damaged or non-MAT files
        raise _bad(path, f"the file cannot be read as a MATLAB .mat file ({exc})") from exc
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise _bad(path, f"the file lacks {', '.join(missing)}")
    mean = np.asarray(data["meanshape"], np.float64).reshape(-1)
    if mean.size % 3 or mean.size == 0:
        raise _bad(path, f"meanshape has {mean.size} values, not 3 per vertex")
    v = mean.size // 3
    bases = {}
    for key in ("idBase", "exBase", "texBase"):
        arr = np.asarray(data[key], np.float64)
        if arr.ndim != 2 or arr.shape[0] != 3 * v or arr.shape[1] != REQUIRED[key]:
            raise _bad(path, f"{key} has shape {arr.shape}, expected ({3 * v}, {REQUIRED[key]})")
        bases[key] = arr.T.reshape(REQUIRED[key], v, 3)
    tex = np.asarray(data["meantex"], np.float64).reshape(-1)
    if tex.size != 3 * v:
        raise _bad(path, f"meantex has {tex.size} values, expected {3 * v}")
    tri = np.asarray(data["tri"])
    keypoints = np.asarray(data["keypoints"]).reshape(-1).astype(np.int64) - 1
    if tri.ndim != 2 or tri.shape[1] != 3 or tri.min() < 1 or tri.max() > v:
        raise _bad(path, f"tri must be (F, 3) 1-based vertex indices up to {v}")
    if keypoints.size != 68 or keypoints.min() < 0 or keypoints.max() >= v:
        raise _bad(path, "keypoints must be the 68 landmark vertices (1-based)")
    if not (np.isfinite(mean).all() and all(np.isfinite(b).all() for b in bases.values())):
        raise _bad(path, "the model holds NaN or infinite values")

    flip = np.array([1.0, -1.0, -1.0])  # BFM: y up, z towards the viewer -> y down, z away
    mean = mean.reshape(v, 3) * flip
    centre = mean.mean(axis=0)
    scale = 1.0 / np.abs(mean[:, :2] - centre[:2]).max()
    return BaselModel(
        mean_shape=(mean - centre) * scale,
        id_basis=bases["idBase"] * flip * scale, exp_basis=bases["exBase"] * flip * scale,
        mean_albedo=np.clip(tex.reshape(v, 3) / 255.0, 0, 1), tex_basis=bases["texBase"] / 255.0,
        triangles=tri.astype(np.int64) - 1, keypoints=keypoints,
    )


def fit_bfm_identity(bfm: BaselModel, tracking, crops, n_frames: int = 8, reg: float = 0.05,
                     iterations: int = 4) -> FaceModel:
    """Estimate identity and reflectance from ``n_frames`` evenly spread face frames, then return
    the BFM as a FaceModel (identity and albedo fixed, 64 expression components).

    tracking: core.tracking.Tracking (mediapipe landmarks); crops: uint8 (N, S, S, 3).
    """
    face = np.flatnonzero(tracking.has_face)
    if face.size == 0:
        raise DubError("No frame shows a face: the Basel Face Model cannot be fitted.")
    pick = face[np.linspace(0, face.size - 1, min(n_frames, face.size)).round().astype(int)]
    ids = np.asarray(topo.MEDIAPIPE_TO_68)
    obs = tracking.landmarks_crop[pick][:, ids].astype(np.float64)  # (P, 68, 3)
    kp = bfm.keypoints
    n_id, n_exp = bfm.id_basis.shape[0], bfm.exp_basis.shape[0]
    id_l = bfm.id_basis[:, kp].reshape(n_id, -1).T  # (204, 80)
    exp_l = bfm.exp_basis[:, kp].reshape(n_exp, -1).T  # (204, 64)
    mean_l = bfm.mean_shape[kp].reshape(-1)
    w = np.ones(68)
    w[list(topo.MOUTH_68) + list(topo.EYES_68)] = LANDMARK_WEIGHT
    sw = np.sqrt(np.repeat(w / w.mean(), 3))
    p = len(pick)
    alpha, delta = np.zeros(n_id), np.zeros((p, n_exp))
    for _ in range(iterations):
        shapes = (mean_l + id_l @ alpha + delta @ exp_l.T).reshape(p, 68, 3)
        rot, scale, trans = similarity_align(shapes, obs)
        target = (np.einsum("bji,blj->bli", rot, obs - trans[:, None]) / scale[:, None, None]).reshape(p, -1)
        # one linear system: shared alpha, per-frame delta, ridge on both (unit Gaussian prior)
        design = np.zeros((p * 204, n_id + p * n_exp))
        for j in range(p):
            design[j * 204:(j + 1) * 204, :n_id] = id_l * sw[:, None]
            design[j * 204:(j + 1) * 204, n_id + j * n_exp:n_id + (j + 1) * n_exp] = exp_l * sw[:, None]
        rhs = ((target - mean_l) * sw).reshape(-1)
        lhs = design.T @ design + reg * np.eye(design.shape[1])
        sol = np.linalg.solve(lhs, design.T @ rhs)
        alpha, delta = sol[:n_id], sol[n_id:].reshape(p, n_exp)
    mean_shape = bfm.mean_shape + np.tensordot(alpha, bfm.id_basis, 1)
    triangles = topo.orient_triangles(mean_shape, bfm.triangles)

    # Reflectance: least squares of the texture model on the median colour of visible vertices.
    shapes = mean_shape[None] + np.tensordot(delta, bfm.exp_basis, 1)
    verts = scale[:, None, None] * np.einsum("bij,bvj->bvi", rot, shapes) + trans[:, None]
    normals = np.einsum("bij,bvj->bvi", rot, vertex_normals_np(shapes, triangles))
    colours = np.stack([sample_colours(crops[f], verts[j, :, :2]) for j, f in enumerate(pick)])
    colours[normals[..., 2] > -0.3] = np.nan
    seen = np.isfinite(colours).any(axis=(0, 2))
    median = np.nanmedian(colours[:, seen], axis=0)  # (Vs, 3)
    tex = bfm.tex_basis[:, seen].reshape(n_id, -1).T
    beta = np.linalg.solve(tex.T @ tex + 1.0 * np.eye(tex.shape[1]),
                           tex.T @ (median - bfm.mean_albedo[seen]).reshape(-1))
    albedo = np.clip(bfm.mean_albedo + np.tensordot(beta, bfm.tex_basis, 1), 0, 1)

    upper, lower_lip = topo.MEDIAPIPE_TO_68.index(13), topo.MEDIAPIPE_TO_68.index(14)
    effect = bfm.exp_basis[:10, kp[lower_lip], 1] - bfm.exp_basis[:10, kp[upper], 1]
    jaw = int(np.argmax(np.abs(effect)))
    lm_weights = np.ones(68, np.float32)
    lm_weights[list(topo.MOUTH_68) + list(topo.EYES_68)] = LANDMARK_WEIGHT / 5
    log.info("BFM identity from %d frames; jaw component %d", p, jaw)
    return FaceModel(
        kind="bfm", mean_shape=mean_shape.astype(np.float32), exp_basis=bfm.exp_basis.astype(np.float32),
        exp_std=np.ones(n_exp, np.float32), albedo=albedo.astype(np.float32), triangles=triangles,
        landmark_ids=ids.astype(np.int64), landmark_vertices=kp, landmark_weights=lm_weights,
        lower_vertices=lower_face(mean_shape, kp[NOSE_TIP_68]), jaw_index=jaw,
        jaw_open=float(np.sign(effect[jaw]) * JAW_OPEN),
    )
