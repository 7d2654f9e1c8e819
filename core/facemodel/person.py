"""The built-in person-specific face model, learnt from the target video's own tracked meshes.

Each frame's 468-point mediapipe mesh is aligned (similarity, on the points that move least) to
the mean; the mean is the actor's identity, the principal components of the aligned deviations
are the expression basis. The component that correlates best with the inner-lip gap becomes
component 0, signed so that positive values open the jaw. Albedo is the per-vertex median colour
over frames where the vertex faces the camera.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np

from core.errors import DubError
from core.facemodel import topology as topo
from core.facemodel.geometry import sample_colours, similarity_align, vertex_normals_np
from core.facemodel.model import FaceModel, lower_face

log = logging.getLogger(__name__)

MOUTH_WEIGHT, EYE_WEIGHT = 10.0, 5.0
# A wide-open jaw: inner-lip gap about 0.3 of the forehead-to-chin height.
OPEN_JAW_GAP = 0.3
JAW_OPEN_STD = 8.0  # the paper opens its jaw coefficient to -8


def align_meshes(meshes: np.ndarray, iterations: int = 3, stable_share: float = 0.5
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Generalised Procrustes on (N, V, 3) meshes.

    Returns (aligned (N, V, 3) in the mean's frame, mean (V, 3), stable weights (V,) 0/1): after the
    first pass only the ``stable_share`` of vertices with the least residual motion drive the
    alignment, so talking does not tilt the head.
    """
    mean = meshes[len(meshes) // 2].astype(np.float64)
    weights = np.ones(meshes.shape[1])
    aligned = meshes.astype(np.float64)
    for _ in range(iterations):
        rot, scale, trans = similarity_align(meshes, mean[None].repeat(len(meshes), 0), weights)
        aligned = scale[:, None, None] * (meshes @ np.swapaxes(rot, 1, 2)) + trans[:, None]
        mean = aligned.mean(axis=0)
        motion = np.linalg.norm(aligned - mean, axis=-1).mean(axis=0)
        weights = (motion <= np.quantile(motion, stable_share)).astype(np.float64)
    return aligned, mean, weights


def principal_components(rows: np.ndarray, k: int, max_rows: int = 600) -> np.ndarray:
    """float64 (k, D) orthonormal leading principal directions of (N, D) centred rows, from at most
    ``max_rows`` evenly spaced rows (through their N x N Gram matrix: far cheaper than an SVD)."""
    pick = np.linspace(0, len(rows) - 1, min(max_rows, len(rows))).round().astype(int)
    sub = rows[pick]
    evals, evecs = np.linalg.eigh(sub @ sub.T)
    order = np.argsort(evals)[::-1][:k]
    dirs = sub.T @ evecs[:, order] / np.sqrt(np.maximum(evals[order], 1e-20))
    return dirs.T


def rotate_jaw_first(basis: np.ndarray, coeffs: np.ndarray, gap: np.ndarray, span: int = 8
                     ) -> tuple[np.ndarray, np.ndarray, float]:
    """Rotate the leading ``span`` components so that component 0 is the combination that best
    predicts ``gap`` (N,) (least squares), signed so positive values grow it; the other
    components of that span are the principal directions of what is left. The basis stays
    orthonormal and spans the same space. Returns (basis (k, D), coeffs (N, k), correlation)."""
    m = min(span, basis.shape[0])
    lead = coeffs[:, :m]
    beta, *_ = np.linalg.lstsq(lead - lead.mean(0), gap - gap.mean(), rcond=None)
    if not np.any(beta):
        return basis, coeffs, 0.0
    d = beta / np.linalg.norm(beta)
    rest = lead - np.outer(lead @ d, d)
    evals, evecs = np.linalg.eigh(rest.T @ rest)
    others = evecs[:, np.argsort(evals)[::-1][:m - 1]].T
    rot = np.vstack([d, others])  # (m, m) orthonormal
    basis = np.vstack([rot @ basis[:m], basis[m:]])
    coeffs = np.hstack([lead @ rot.T, coeffs[:, m:]])
    corr = float(np.corrcoef(coeffs[:, 0], gap)[0, 1])
    return basis, coeffs, corr


def normalise(mean: np.ndarray) -> tuple[np.ndarray, float]:
    """Centre and scale so max |x|, |y| is 1; returns (offset (3,), scale)."""
    offset = mean.mean(axis=0)
    scale = 1.0 / np.abs(mean[:, :2] - offset[:2]).max()
    return offset, scale


def build_person_model(landmarks: np.ndarray, has_face: np.ndarray, crops: np.ndarray,
                       n_exp: int = 48, albedo_frames: int = 48, subdivisions: int = 1,
                       max_frames: int = 3000) -> FaceModel:
    """Build the model from tracked landmarks.

    landmarks: float32 (N, 478, 3) crop pixels (NaN rows where no face); has_face: bool (N,);
    crops: uint8 (N, S, S, 3) (a memmap is fine: only ``albedo_frames`` frames are read).
    subdivisions: times the 468-point mesh is split 1 -> 4 for rendering (1: 1.8 k vertices).
    max_frames: the model is learnt from at most this many evenly spread face frames (2 minutes at
    25 fps: plenty for 48 components), so memory stays flat for long videos.
    The first 468 vertices are mediapipe's points (the landmarks).
    Raises DubError when fewer than 10 frames hold a face.
    """
    idx = np.flatnonzero(has_face)
    if idx.size < 10:
        raise DubError(f"Only {idx.size} frames show a face: the face model needs at least 10. "
                       "Use a video where the face is visible most of the time.")
    if idx.size > max_frames:
        idx = idx[np.linspace(0, idx.size - 1, max_frames).round().astype(int)]
    meshes = landmarks[idx, :topo.N_MESH_VERTICES].astype(np.float64)
    aligned, mean, stable = align_meshes(meshes)
    offset, scale = normalise(mean)
    aligned = (aligned - offset) * scale
    mean = (mean - offset) * scale

    deviations = (aligned - mean).reshape(len(idx), -1)
    k = int(min(n_exp, len(idx) - 1, deviations.shape[1]))
    basis = principal_components(deviations, k)
    coeffs = deviations @ basis.T  # (Nf, k)
    std = coeffs.std(axis=0)

    gap = aligned[:, topo.LOWER_INNER_LIP, 1] - aligned[:, topo.UPPER_INNER_LIP, 1]
    chin_drop = aligned[:, topo.CHIN_BOTTOM, 1] - aligned[:, topo.NOSE_TIP, 1]
    # Opening the jaw parts the lips and drops the chin: aim at both, so the component is a jaw
    # motion (which the mask expansion needs) and not a lip-only one.
    target = gap / max(gap.std(), 1e-9) + chin_drop / max(chin_drop.std(), 1e-9)
    basis, coeffs, _ = rotate_jaw_first(basis, coeffs, target)
    corr = float(np.corrcoef(coeffs[:, 0], gap)[0, 1])
    std = coeffs.std(axis=0)
    log.info("person model: %d components; the jaw component correlates %.2f with the lip gap", k, corr)

    exp_basis = basis.reshape(k, -1, 3)
    gap_per_unit = exp_basis[0, topo.LOWER_INNER_LIP, 1] - exp_basis[0, topo.UPPER_INNER_LIP, 1]
    height = mean[topo.CHIN_BOTTOM, 1] - mean[topo.FOREHEAD_TOP, 1]
    wanted = OPEN_JAW_GAP * height - (mean[topo.LOWER_INNER_LIP, 1] - mean[topo.UPPER_INNER_LIP, 1])
    # A linear model extrapolated far past the data deforms the whole face, so stop at
    # JAW_OPEN_STD standard deviations even if the mouth is then less than OPEN_JAW_GAP open.
    jaw_open = min(wanted / max(gap_per_unit, 1e-6), JAW_OPEN_STD * std[0])
    jaw_open = max(jaw_open, 1.5 * float(np.quantile(coeffs[:, 0], 0.99)))

    triangles = topo.orient_triangles(mean, topo.mediapipe_triangles())
    # Finer mesh for rendering: the midpoints carry their own albedo (lip edges, nostrils, brows);
    # geometry stays linear in the 468 tracked points.
    pick = np.linspace(0, len(idx) - 1, min(albedo_frames, len(idx))).round().astype(int)
    meshes, aligned, idx = meshes[pick], aligned[pick], idx[pick]
    for _ in range(subdivisions):
        triangles, parents = topo.subdivide(triangles, mean.shape[0])
        mean = topo.extend_to_midpoints(mean, parents)
        exp_basis = topo.extend_to_midpoints(exp_basis, parents, axis=1)
        meshes = topo.extend_to_midpoints(meshes, parents, axis=1)
        aligned = topo.extend_to_midpoints(aligned, parents, axis=1)
    weights = np.ones(topo.N_MESH_VERTICES, np.float32)
    weights[np.intersect1d(topo.mouth_landmarks(), np.arange(topo.N_MESH_VERTICES))] = MOUTH_WEIGHT
    weights[np.intersect1d(topo.eye_landmarks(), np.arange(topo.N_MESH_VERTICES))] = EYE_WEIGHT
    albedo = estimate_albedo(meshes, aligned, crops, idx, triangles)
    return FaceModel(
        kind="mediapipe", mean_shape=mean.astype(np.float32), exp_basis=exp_basis.astype(np.float32),
        exp_std=std.astype(np.float32), albedo=albedo, triangles=triangles,
        landmark_ids=np.arange(topo.N_MESH_VERTICES), landmark_vertices=np.arange(topo.N_MESH_VERTICES),
        landmark_weights=weights, lower_vertices=lower_face(mean, topo.NOSE_TIP),
        jaw_index=0, jaw_open=float(jaw_open), mouth_cap=topo.mouth_cap(),
    )


def estimate_albedo(meshes: np.ndarray, aligned: np.ndarray, crops: np.ndarray, idx: np.ndarray,
                    triangles: np.ndarray) -> np.ndarray:
    """float32 (V, 3) in [0, 1]: median colour of each vertex over frames where it faces the camera.

    meshes: (Nf, V, 3) crop-pixel positions of the vertices in the frames ``idx``; aligned: the same
    in model space (their normals, rotated into the frame, decide visibility).
    """
    rot, _, _ = similarity_align(aligned, meshes)
    normals = vertex_normals_np(aligned, triangles)
    facing = -(normals @ np.swapaxes(rot, 1, 2))[..., 2]  # > 0: towards the camera (-z)
    colours = np.stack([sample_colours(crops[f], meshes[j, :, :2]) for j, f in enumerate(idx)])
    colours[facing < 0.3] = np.nan
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # vertices never seen facing the camera
        albedo = np.nanmedian(colours, axis=0)
    fallback = np.nanmedian(albedo, axis=0)
    albedo = np.where(np.isnan(albedo), fallback, albedo)
    return np.clip(albedo, 0.0, 1.0).astype(np.float32)
