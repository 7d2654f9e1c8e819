"""Lambertian shading under distant light in 3 spherical-harmonic bands, and vertex normals.

Irradiance basis (Ramamoorthi & Hanrahan 2001; the constants of Deep3DFaceRecon, which the paper's
reference code follows). For a unit normal n = (x, y, z), ``sh_basis`` returns 9 values in the
standard real-SH order (l, m) = (0,0), (1,-1), (1,0), (1,1), (2,-2), (2,-1), (2,0), (2,1), (2,2):

    Y0 = a0 c0                     a0 = pi,            c0 = 1 / sqrt(4 pi)
    Y1 = a1 c1 * y                 a1 = 2 pi / sqrt(3), c1 = sqrt(3) / sqrt(4 pi)
    Y2 = a1 c1 * z                 a2 = 2 pi / sqrt(8), c2 = 3 sqrt(5) / sqrt(12 pi)
    Y3 = a1 c1 * x
    Y4 = a2 c2 * x y
    Y5 = a2 c2 * y z
    Y6 = a2 c2 * (3 z^2 - 1) / (2 sqrt(3))
    Y7 = a2 c2 * x z
    Y8 = a2 c2 * (x^2 - y^2) / 2

(Deep3DFaceRecon uses the same constants but orders and signs the band-1/2 terms for its own
camera frame; any fixed basis spans the same space, so fitted lighting is equally expressive.)
The 27 lighting values per image are three blocks of 9: red Y0..Y8, green Y0..Y8, blue Y0..Y8, and
colour_c = albedo_c * sum_j sh[9c + j] * Y_j(n), unclamped. ``AMBIENT_SH`` (1/(a0 c0) in each block's
first entry) shades every normal with exactly 1, i.e. colour = albedo. The normals are used in
whatever frame the caller gives them (the lighting is then expressed in that frame); the same
basis is in core/facemodel/shading.py.
"""

from __future__ import annotations

import math

import torch

A0, A1, A2 = math.pi, 2 * math.pi / math.sqrt(3.0), 2 * math.pi / math.sqrt(8.0)
C0, C1, C2 = 1 / math.sqrt(4 * math.pi), math.sqrt(3.0) / math.sqrt(4 * math.pi), 3 * math.sqrt(5.0) / math.sqrt(12 * math.pi)
AMBIENT_DC = 1.0 / (A0 * C0)  # first coefficient of a block that shades every normal with 1
AMBIENT_SH = tuple(([AMBIENT_DC] + [0.0] * 8) * 3)  # 27 values: white ambient light of intensity 1


def sh_basis(normals: torch.Tensor) -> torch.Tensor:
    """Irradiance basis values of unit normals: float (...,3) -> (...,9), same dtype and device."""
    if normals.shape[-1] != 3:
        raise ValueError(f"normals must be (...,3), got {tuple(normals.shape)}")
    x, y, z = normals.unbind(-1)
    k1, k2 = A1 * C1, A2 * C2
    return torch.stack(
        [
            torch.full_like(x, A0 * C0),
            k1 * y,
            k1 * z,
            k1 * x,
            k2 * x * y,
            k2 * y * z,
            k2 / (2 * math.sqrt(3.0)) * (3 * z * z - 1),
            k2 * x * z,
            k2 / 2 * (x * x - y * y),
        ],
        dim=-1,
    )


def sh_shade(normals: torch.Tensor, sh: torch.Tensor, albedo: torch.Tensor | None = None) -> torch.Tensor:
    """Lambertian colour (or, without albedo, the RGB irradiance) under SH lighting.

    normals: float (B,...,3) unit normals. sh: float (B,27) lighting, blocks of 9 per channel (R,G,B).
    albedo: float (B,...,3) or broadcastable to it (e.g. (...,3) shared by the batch), or None.
    Returns (B,...,3) in the dtype/device of ``normals``; not clamped (may leave [0,1]).
    Differentiable w.r.t. all inputs.
    """
    if sh.dim() != 2 or sh.shape[1] != 27:
        raise ValueError(f"sh must be (B,27), got {tuple(sh.shape)}")
    if normals.dim() < 2 or normals.shape[0] != sh.shape[0]:
        raise ValueError(f"normals must be (B,...,3) with B={sh.shape[0]}, got {tuple(normals.shape)}")
    basis = sh_basis(normals)  # (B,...,9)
    gamma = sh.view(sh.shape[0], *([1] * (normals.dim() - 2)), 3, 9)
    irradiance = (basis.unsqueeze(-2) * gamma).sum(-1)  # (B,...,3)
    return irradiance if albedo is None else irradiance * albedo


def vertex_normals(verts: torch.Tensor, faces: torch.Tensor) -> torch.Tensor:
    """Area-weighted unit vertex normals.

    verts: float (B,V,3); faces: integer (F,3), same device. Each face contributes its normal
    (v1 - v0) x (v2 - v0), whose length is twice its area, to its three corners; so normals point to
    the side from which the corners appear counter-clockwise in a right-handed frame.
    Returns (B,V,3) unit vectors (0 for vertices in no face), differentiable w.r.t. ``verts``.
    """
    if verts.dim() != 3 or verts.shape[2] != 3:
        raise ValueError(f"verts must be (B,V,3), got {tuple(verts.shape)}")
    if faces.dim() != 2 or faces.shape[1] != 3:
        raise ValueError(f"faces must be (F,3), got {tuple(faces.shape)}")
    faces = faces.long()
    corners = verts.index_select(1, faces.view(-1)).view(verts.shape[0], -1, 3, 3)
    face_normals = torch.cross(corners[:, :, 1] - corners[:, :, 0], corners[:, :, 2] - corners[:, :, 0], dim=-1)
    summed = verts.new_zeros(verts.shape).index_add(1, faces.view(-1), face_normals.repeat_interleave(3, dim=1))
    return torch.nn.functional.normalize(summed, dim=-1, eps=1e-12)
