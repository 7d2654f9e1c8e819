"""Closed-form fit of every frame: pose by Procrustes, expression by regularised least squares on
the landmarks, SH lighting by least squares on the colours at visible vertices, each followed by
an exact temporal-smoothness solve. Everything is batched numpy: a few ms per frame."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from core.facemodel import topology as topo
from core.facemodel.geometry import (rotation_to_euler_deg, sample_colours, similarity_align,
                                     vertex_normals_np)
from core.facemodel.model import FaceModel
from core.facemodel.shading import AMBIENT_SH, sh_basis, shade
from core.fitting.smoothing import fill_gaps, smooth_rotations, smooth_series


def fitting_mesh(model: FaceModel) -> FaceModel:
    """The model restricted to the vertices the fit works on: for the person-specific model the
    468 tracked points and mediapipe's own triangles (the subdivided mesh only adds detail for
    rendering, at four times the cost per fitting step); other models unchanged."""
    n = topo.N_MESH_VERTICES
    if model.kind != "mediapipe" or model.n_vertices <= n:
        return model
    return replace(model, mean_shape=model.mean_shape[:n], exp_basis=model.exp_basis[:, :n],
                   albedo=model.albedo[:n], lower_vertices=model.lower_vertices[:n],
                   triangles=topo.orient_triangles(model.mean_shape[:n], topo.mediapipe_triangles()))


def fit_expression_normal(model: FaceModel, reg: float) -> tuple[np.ndarray, np.ndarray]:
    """The constant least-squares system of the landmark term in model space.

    Returns (A float64 (3L, K) the basis at the landmark vertices, G (K, K) = A^T W A + reg * P)
    with W the landmark weights and P = diag(1 / exp_std^2) the Gaussian prior.
    """
    a = model.exp_basis[:, model.landmark_vertices].reshape(model.n_exp, -1).T.astype(np.float64)
    w = np.repeat(model.landmark_weights.astype(np.float64), 3)
    prior = np.diag(1.0 / np.maximum(model.exp_std.astype(np.float64), 1e-6) ** 2)
    return a, a.T @ (w[:, None] * a) + reg * prior


def fit_geometry(model: FaceModel, observed: np.ndarray, has_face: np.ndarray, *, reg: float,
                 smooth_expression: float, smooth_pose: float, iterations: int = 3
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pose and expression of every frame from its landmarks.

    observed: float (N, L, 3) tracked landmarks in crop pixels, in the order of
    model.landmark_ids (NaN where no face); has_face: bool (N,), at least one True.
    Returns float64 rotation (N, 3, 3), scale (N,), translation (N, 3), expression (N, K); faceless
    frames are interpolated from their neighbours.
    """
    n = len(observed)
    face = np.flatnonzero(has_face)
    mean_l = model.mean_shape[model.landmark_vertices].astype(np.float64)
    a, gram = fit_expression_normal(model, reg)
    w = np.repeat(model.landmark_weights.astype(np.float64), 3)
    solve = np.linalg.inv(gram) @ (a.T * w)  # (K, 3L): per-frame least-squares solution operator

    def expressions(obs: np.ndarray) -> np.ndarray:
        exp = np.zeros((len(obs), model.n_exp))
        for _ in range(iterations):
            shapes = mean_l + (exp @ a.T).reshape(len(obs), -1, 3)
            rot, scale, trans = similarity_align(shapes, obs)
            model_space = ((obs - trans[:, None]) @ rot) / scale[:, None, None]
            exp = (model_space - mean_l).reshape(len(obs), -1) @ solve.T
        return exp

    # Frames are independent until the smoothing: solve them in chunks so that memory does not
    # grow with the length of the video (float64 landmark arrays are ~12 KB a frame each).
    full_exp = np.zeros((n, model.n_exp))
    for chunk in _chunks(face):
        full_exp[chunk] = expressions(observed[chunk].astype(np.float64))
    full_exp = fill_gaps(full_exp, has_face)
    if smooth_expression > 0:
        # Decouple the K coupled series in the eigenbasis of the per-frame normal matrix: each
        # eigen-direction is smoothed in proportion to how weakly the landmarks determine it.
        lam, u = np.linalg.eigh(gram)
        strength = smooth_expression * float(np.median(lam))
        full_exp = smooth_series(full_exp @ u, strength, lam) @ u.T

    # Pose again with the smoothed expression, then smoothed itself.
    full_rot, full_scale, full_trans = np.zeros((n, 3, 3)), np.zeros(n), np.zeros((n, 3))
    for chunk in _chunks(face):
        shapes = mean_l + (full_exp[chunk] @ a.T).reshape(len(chunk), -1, 3)
        full_rot[chunk], full_scale[chunk], full_trans[chunk] = similarity_align(
            shapes, observed[chunk].astype(np.float64))
    full_rot = smooth_rotations(fill_gaps(full_rot, has_face), smooth_pose)
    full_scale = smooth_series(fill_gaps(full_scale[:, None], has_face), smooth_pose)[:, 0]
    full_trans = smooth_series(fill_gaps(full_trans, has_face), smooth_pose)
    return full_rot, full_scale, full_trans, full_exp


def _chunks(frames: np.ndarray, size: int = 1024):
    for start in range(0, len(frames), size):
        yield frames[start:start + size]


def camera_mesh(model: FaceModel, rot: np.ndarray, scale: np.ndarray, trans: np.ndarray,
                expression: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(B,...) params -> (vertices float32 (B, V, 3) in crop pixels + depth, normals (B, V, 3) in
    camera axes)."""
    shapes = model.shape(expression)
    verts = scale[:, None, None] * (shapes @ np.swapaxes(rot, 1, 2)) + trans[:, None]
    normals = (vertex_normals_np(shapes, model.triangles) @ np.swapaxes(rot, 1, 2))
    return verts.astype(np.float32), normals.astype(np.float32)


def fit_lighting(model: FaceModel, crop: np.ndarray, verts: np.ndarray, normals: np.ndarray,
                 ridge: float = 1.0) -> tuple[np.ndarray, float]:
    """SH lighting of one frame. crop: uint8 (S, S, 3); verts/normals: (V, 3) in crop pixels.

    Returns (sh float32 (27,), mean absolute colour error in 0-255 at the visible vertices).
    """
    size = crop.shape[0]
    inside = (verts[:, 0] > 1) & (verts[:, 0] < size - 1) & (verts[:, 1] > 1) & (verts[:, 1] < size - 1)
    visible = inside & (normals[:, 2] < -0.3)
    if visible.sum() < 30:
        return AMBIENT_SH.copy(), float("nan")
    colour = sample_colours(crop, verts[visible, :2]).astype(np.float64)
    basis = sh_basis(normals[visible].astype(np.float64))
    sh = np.empty((3, 9))
    prior = AMBIENT_SH.reshape(3, 9).astype(np.float64)
    for c in range(3):
        design = model.albedo[visible, c, None] * basis
        lhs = design.T @ design + ridge * np.eye(9)
        sh[c] = np.linalg.solve(lhs, design.T @ colour[:, c] + ridge * prior[c])
    pred = model.albedo[visible] * (basis @ sh.T)
    return sh.reshape(27).astype(np.float32), float(np.abs(pred - colour).mean() * 255)


def photometric_error(model: FaceModel, crops, has_face: np.ndarray, rot, scale, trans, expression,
                      sh, max_frames: int = 200) -> float:
    """Mean absolute colour error (0-255) of the shaded model at the visible vertices, over up to
    ``max_frames`` evenly spread face frames."""
    face = np.flatnonzero(has_face)
    pick = face[np.linspace(0, len(face) - 1, min(max_frames, len(face))).round().astype(int)]
    verts, normals = camera_mesh(model, rot[pick], scale[pick], trans[pick], expression[pick])
    errors = []
    for j, f in enumerate(pick):
        visible = normals[j, :, 2] < -0.3
        seen = sample_colours(np.asarray(crops[f]), verts[j, visible, :2])
        pred = np.clip(shade(model.albedo[visible], normals[j, visible], np.asarray(sh[f], np.float64)), 0, 1)
        errors.append(np.abs(pred - seen).mean() * 255)
    return float(np.mean(errors))


def landmark_errors(model: FaceModel, observed: np.ndarray, has_face: np.ndarray, rot, scale, trans,
                    expression, mouth_ids: np.ndarray) -> tuple[float, float]:
    """Mean 2D distance (crop pixels) between the fitted model's landmarks and the tracked ones,
    over all landmarks and over the mouth landmarks (``mouth_ids``: indices into landmark_ids)."""
    total = mouth_total = 0.0
    face = np.flatnonzero(has_face)
    for chunk in _chunks(face):
        shapes = model.shape(expression[chunk])[:, model.landmark_vertices]
        proj = scale[chunk, None, None] * (shapes @ np.swapaxes(rot[chunk], 1, 2)) + trans[chunk, None]
        dist = np.linalg.norm(proj[..., :2] - observed[chunk, :, :2], axis=-1)
        total += float(dist.sum())
        mouth_total += float(dist[:, mouth_ids].sum())
    n_landmarks = observed.shape[1]
    mouth = mouth_total / (len(face) * len(mouth_ids)) if len(mouth_ids) else float("nan")
    return total / (len(face) * n_landmarks), float(mouth)


def pose_range(rot: np.ndarray, has_face: np.ndarray) -> tuple[np.ndarray, list[float]]:
    """(euler float32 (N, 3) degrees, [yaw, pitch, roll] range over the face frames)."""
    euler = rotation_to_euler_deg(rot)
    face = euler[has_face]
    return euler.astype(np.float32), [float(v) for v in np.ptp(face, axis=0)]
