"""The small-mesh CPU rasteriser of the sample-based lower face: same coverage and barycentrics as
the torch rasteriser, no holes or double cover on a closed mesh, lower index wins an overlap."""

from __future__ import annotations

import numpy as np
import torch

from gpu.mesh_raster import coverage, rasterize_mesh
from gpu.rasterize import interpolate, rasterize


def torch_raster(xy: np.ndarray, faces: np.ndarray, size: int):
    verts = torch.from_numpy(np.c_[xy, np.ones(len(xy))].astype(np.float32))[None]
    return rasterize(verts, torch.from_numpy(faces), size, size, perspective=False)


def jittered_grid(size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A 2-D grid mesh over most of a size x size image, its inner vertices jittered."""
    n = 12
    ys, xs = np.mgrid[0:n + 1, 0:n + 1]
    xy = np.c_[xs.ravel(), ys.ravel()].astype(np.float64) * (0.8 * size / n) + 0.1 * size
    inner = ((xs > 0) & (xs < n) & (ys > 0) & (ys < n)).ravel()
    xy[inner] += np.random.default_rng(seed).uniform(-0.2, 0.2, (int(inner.sum()), 2)) * (0.8 * size / n)
    v = np.arange((n + 1) ** 2).reshape(n + 1, n + 1)
    a, b, c, d = v[:-1, :-1].ravel(), v[:-1, 1:].ravel(), v[1:, :-1].ravel(), v[1:, 1:].ravel()
    return xy, np.concatenate([np.c_[a, b, d], np.c_[a, d, c]]).astype(np.int64)


def test_matches_the_torch_rasteriser_on_a_jittered_grid():
    xy, faces = jittered_grid(96)
    ours = rasterize_mesh(xy, faces, 96, 96)
    ref = torch_raster(xy, faces, 96)
    ids = ref.tri_id[0].numpy()
    assert ours.covered.sum() > 0.25 * 96 * 96
    assert (ours.ids == ids).mean() > 0.998  # only pixel centres on an edge may differ
    values = np.random.default_rng(1).normal(size=(len(xy), 2)).astype(np.float32)
    same = (ours.ids == ids) & (ids >= 0)
    theirs = interpolate(torch.from_numpy(values)[None], ref, torch.from_numpy(faces))[0].numpy()
    assert np.abs(ours.interpolate(values, faces)[same] - theirs[same]).max() < 1e-4


def test_a_closed_mesh_has_no_holes_and_barycentrics_reproduce_positions():
    xy, faces = jittered_grid(64, seed=3)
    raster = rasterize_mesh(xy, faces, 64, 64)
    # the grid's outline is an unjittered square: every pixel centre inside it is covered
    lo, hi = xy.min(), xy.max()
    centres = np.arange(64) + 0.5
    inside = np.outer((centres > lo) & (centres < hi), (centres > lo) & (centres < hi))
    assert inside.sum() > 1500
    assert raster.covered[inside].all() and not raster.covered[~inside].any()
    # interpolating the vertex positions gives back each pixel centre: the barycentrics are right
    gy, gx = np.nonzero(raster.covered)
    at = raster.interpolate(xy, faces)[gy, gx]
    assert np.abs(at - np.c_[gx + 0.5, gy + 0.5]).max() < 1e-3


def test_where_triangles_overlap_the_lower_index_wins():
    xy = np.array([[4.0, 4.0], [28.0, 4.0], [4.0, 28.0], [28.0, 28.0]])
    faces = np.array([[0, 1, 2], [0, 1, 3]])
    ids = rasterize_mesh(xy, faces, 32, 32).ids
    both = coverage(xy, faces[:1], 32, 32).astype(bool) & coverage(xy, faces[1:], 32, 32).astype(bool)
    assert both.sum() > 50
    assert (ids[both] == 0).all()
    assert rasterize_mesh(np.full((3, 2), np.nan), np.array([[0, 1, 2]]), 8, 8).covered.sum() == 0
