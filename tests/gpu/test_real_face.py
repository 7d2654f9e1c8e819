"""The rasteriser on a real face: MediaPipe's mesh tracked on a frame of real footage."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest
import torch

from gpu.rasterize import interpolate, rasterize
from tests.gpu.test_rasterize import brute_force

SIZE = 128


def tessellation_triangles() -> torch.Tensor:
    """(F,3) int64: the 3-cliques of MediaPipe's face-mesh edge list (its tessellation)."""
    from mediapipe.python.solutions.face_mesh_connections import FACEMESH_TESSELATION

    neighbours: dict[int, set[int]] = {}
    for a, b in FACEMESH_TESSELATION:
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)
    triangles = {tuple(sorted((a, b, c))) for a, near in neighbours.items()
                 for b, c in combinations(sorted(near), 2) if c in neighbours[b]}
    return torch.tensor(sorted(triangles), dtype=torch.int64)


@pytest.fixture(scope="module")
def face_mesh(short_video):
    """(screen verts (1,468,3) float32 in a SIZE crop, ortho depth; faces (F,3))."""
    from core.media import VideoReader
    from core.tracking.backends import MediapipeFaceMesh

    frame = VideoReader(short_video).read(40)
    tracker = MediapipeFaceMesh(max_faces=1, video_mode=False)
    try:
        faces = tracker.detect(frame)
    finally:
        tracker.close()
    assert len(faces) == 1
    points = faces[0].landmarks[:468].astype(np.float64)
    x0, y0, x1, y1 = faces[0].box
    scale = SIZE * 0.8 / max(x1 - x0, y1 - y0)
    centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
    screen = np.empty_like(points)
    screen[:, :2] = (points[:, :2] - centre) * scale + SIZE / 2
    screen[:, 2] = points[:, 2] * scale + SIZE  # mediapipe z: smaller is nearer; shift to positive
    return torch.from_numpy(screen).float()[None], tessellation_triangles()


@pytest.mark.parametrize("perspective", [False, True])
def test_real_face_mesh_matches_brute_force(face_mesh, perspective):
    screen, faces = face_mesh
    assert faces.shape[0] > 850  # MediaPipe's tessellation: about 900 triangles
    raster = rasterize(screen, faces, SIZE, SIZE, perspective=perspective)
    tri_id, reference_depth, ambiguous = brute_force(screen[0], faces, SIZE, SIZE, perspective)
    covered = tri_id >= 0
    assert 0.3 < covered.float().mean() < 0.7  # the face fills most of its box: a real detection
    clear = ~ambiguous
    assert clear.float().mean() > 0.97
    mismatch = (raster.tri_id[0] != tri_id) & clear
    assert mismatch.sum() == 0, f"{int(mismatch.sum())} pixels differ from the brute-force reference"
    # Interpolating the vertices' own x, y gives back the pixel centres on every covered pixel. With
    # perspective the barycentrics blend camera-space values: x*z and y*z, divided by the depth there.
    if perspective:
        xy = interpolate(screen[..., :2] * screen[..., 2:], raster, faces)[0] / raster.depth[0, ..., None]
    else:
        xy = interpolate(screen[..., :2], raster, faces)[0]
    ys, xs = torch.meshgrid(torch.arange(SIZE) + 0.5, torch.arange(SIZE) + 0.5, indexing="ij")
    covered_here = raster.tri_id[0] >= 0
    err = (xy - torch.stack([xs, ys], -1)).norm(dim=-1)[covered_here]
    assert err.max() < 1e-3  # measured 1.5e-5 (affine), 2.4e-5 (perspective) pixel
    depth_error = ((raster.depth[0] - reference_depth) / reference_depth).abs()[covered_here & clear]
    assert depth_error.max() < 1e-5  # relative, float32 against float64: measured 2.1e-7
