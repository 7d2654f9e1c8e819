"""Small exact meshes and cameras for the rasteriser tests."""

from __future__ import annotations

import math

import torch


def icosphere(subdivisions: int, dtype=torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    """Unit sphere: vertices (V,3) and outward counter-clockwise faces (F,3) int64."""
    t = (1 + math.sqrt(5)) / 2
    verts = [(-1, t, 0), (1, t, 0), (-1, -t, 0), (1, -t, 0), (0, -1, t), (0, 1, t), (0, -1, -t), (0, 1, -t),
             (t, 0, -1), (t, 0, 1), (-t, 0, -1), (-t, 0, 1)]
    faces = [(0, 11, 5), (0, 5, 1), (0, 1, 7), (0, 7, 10), (0, 10, 11), (1, 5, 9), (5, 11, 4), (11, 10, 2),
             (10, 7, 6), (7, 1, 8), (3, 9, 4), (3, 4, 2), (3, 2, 6), (3, 6, 8), (3, 8, 9), (4, 9, 5),
             (2, 4, 11), (6, 2, 10), (8, 6, 7), (9, 8, 1)]
    verts = [tuple(c / math.sqrt(1 + t * t) for c in v) for v in verts]
    for _ in range(subdivisions):
        midpoint: dict[tuple[int, int], int] = {}

        def middle(a: int, b: int) -> int:
            key = (min(a, b), max(a, b))
            if key not in midpoint:
                m = [(p + q) / 2 for p, q in zip(verts[a], verts[b])]
                norm = math.sqrt(sum(c * c for c in m))
                verts.append(tuple(c / norm for c in m))
                midpoint[key] = len(verts) - 1
            return midpoint[key]

        new_faces = []
        for a, b, c in faces:
            ab, bc, ca = middle(a, b), middle(b, c), middle(c, a)
            new_faces += [(a, ab, ca), (b, bc, ab), (c, ca, bc), (ab, bc, ca)]
        faces = new_faces
    return torch.tensor(verts, dtype=dtype), torch.tensor(faces, dtype=torch.int64)


def grid(rows: int, cols: int) -> torch.Tensor:
    """Faces (2*(rows-1)*(cols-1), 3) of a rows x cols vertex grid (vertex r*cols + c), split along
    alternating diagonals so both diagonal directions occur."""
    faces = []
    for r in range(rows - 1):
        for c in range(cols - 1):
            a, b, d, e = r * cols + c, r * cols + c + 1, (r + 1) * cols + c, (r + 1) * cols + c + 1
            if (r + c) % 2:
                faces += [(a, b, e), (a, e, d)]
            else:
                faces += [(a, b, d), (b, e, d)]
    return torch.tensor(faces, dtype=torch.int64)


def rotation(yaw: float, pitch: float, roll: float, dtype=torch.float64) -> torch.Tensor:
    """(3,3) rotation matrix from three angles in radians."""
    cy, sy, cp, sp, cr, sr = (math.cos(yaw), math.sin(yaw), math.cos(pitch), math.sin(pitch),
                              math.cos(roll), math.sin(roll))
    ry = torch.tensor([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]], dtype=dtype)
    rx = torch.tensor([[1, 0, 0], [0, cp, -sp], [0, sp, cp]], dtype=dtype)
    rz = torch.tensor([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]], dtype=dtype)
    return rz @ rx @ ry


def project(camera_points: torch.Tensor, focal: float, cx: float, cy: float) -> torch.Tensor:
    """Pinhole camera looking down +z, y down: (...,3) camera points -> (...,3) (x_pix, y_pix, z)."""
    x, y, z = camera_points.unbind(-1)
    return torch.stack([focal * x / z + cx, focal * y / z + cy, z], dim=-1)


def uv_sphere(rings: int, segments: int, dtype=torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    """Unit sphere from a latitude-longitude grid (fast to build at Basel-model size): vertices
    ((rings+1)*segments, 3) and 2*rings*segments faces (F,3) int64; the poles are repeated points,
    so the triangles touching them are degenerate (zero area)."""
    theta = torch.linspace(0, math.pi, rings + 1, dtype=dtype)[:, None]
    phi = torch.arange(segments, dtype=dtype)[None] * (2 * math.pi / segments)
    verts = torch.stack([theta.sin() * phi.cos(), theta.cos().expand(-1, segments), theta.sin() * phi.sin()], -1)
    index = torch.arange((rings + 1) * segments).view(rings + 1, segments)
    a, b = index[:-1], index[:-1].roll(-1, dims=1)
    c, d = index[1:], index[1:].roll(-1, dims=1)
    faces = torch.cat([torch.stack([a, b, c], -1).view(-1, 3), torch.stack([b, d, c], -1).view(-1, 3)])
    return verts.view(-1, 3), faces
