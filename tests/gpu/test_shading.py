"""SH shading, vertex normals and the one-call render."""

from __future__ import annotations

import math

import pytest
import torch

from gpu.render import render
from gpu.shading import A1, AMBIENT_SH, C1, sh_basis, sh_shade, vertex_normals
from tests.gpu.meshes import icosphere, project


def unit_normals(n: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.nn.functional.normalize(torch.randn(n, 3, generator=g, dtype=torch.float64), dim=-1)


def test_ambient_coefficient_alone_gives_constant_colour():
    normals = unit_normals(500)[None]
    sh = torch.tensor(AMBIENT_SH, dtype=torch.float64)[None] * torch.tensor([0.5] * 9 + [1.0] * 9 + [2.0] * 9,
                                                                          dtype=torch.float64)
    albedo = torch.tensor([0.8, 0.6, 0.4], dtype=torch.float64)
    colour = sh_shade(normals, sh, albedo)
    assert colour.shape == (1, 500, 3)
    assert torch.allclose(colour, torch.tensor([0.4, 0.6, 0.8], dtype=torch.float64).expand_as(colour), atol=1e-12)


def test_first_band_is_the_cosine_to_a_light_direction():
    """Band-1 coefficients (d_y, d_z, d_x) / (a1 c1) shade n with n . d (the basis order y, z, x)."""
    light = torch.nn.functional.normalize(torch.tensor([0.3, -0.5, 0.8], dtype=torch.float64), dim=0)
    block = torch.zeros(9, dtype=torch.float64)
    block[1:4] = torch.stack([light[1], light[2], light[0]]) / (A1 * C1)
    normals = unit_normals(300, seed=1)[None]
    irradiance = sh_shade(normals, block.repeat(3)[None])
    assert torch.allclose(irradiance, (normals @ light)[..., None].expand(-1, -1, 3), atol=1e-12)
    # band 2 is orthogonal to bands 0-1 over the sphere: its mean over many directions vanishes
    basis = sh_basis(unit_normals(20000, seed=2))
    assert basis[:, 4:].mean(0).abs().max() < 0.02


def test_sh_shade_gradients_match_finite_differences():
    normals = unit_normals(6, seed=3)[None].requires_grad_(True)
    sh = torch.randn(1, 27, dtype=torch.float64, requires_grad=True)
    albedo = torch.rand(1, 6, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(sh_shade, (normals, sh, albedo))


def test_vertex_normals_of_a_sphere_point_outwards():
    verts, faces = icosphere(3)
    scaled = verts[None].repeat(2, 1, 1)
    scaled[1] = scaled[1] * 3 + 5  # scale and translation do not change normals
    normals = vertex_normals(scaled, faces)
    assert torch.allclose(normals.norm(dim=-1), torch.ones(2, verts.shape[0], dtype=torch.float64))
    cosine = (normals * verts).sum(-1)
    assert cosine.min() > 0.999  # area-weighted face normals of a fine sphere are radial
    flipped = vertex_normals(scaled, faces[:, [0, 2, 1]])
    assert torch.allclose(flipped, -normals)


@pytest.mark.parametrize("perspective", [True, False])
def test_render_lit_sphere(device, perspective):
    """A grey sphere lit from the image's left (camera x < 0): bright on the left, dark on the right,
    and with ambient light alone exactly the albedo everywhere."""
    verts, faces = icosphere(3)
    camera = verts + torch.tensor([0.0, 0.0, 3.0], dtype=torch.float64)
    screen = project(camera, 80.0, 32.0, 32.0)[None].float().to(device)
    normals = vertex_normals(camera[None].float(), faces).to(device)
    albedo = torch.full((verts.shape[0], 3), 0.5, device=device)
    block = torch.zeros(9)
    block[0] = 0.3 * AMBIENT_SH[0]
    block[3] = -1.0 / (A1 * C1)  # light towards -x
    sh = torch.stack([block.repeat(3), torch.tensor(AMBIENT_SH)]).to(device)
    out = render(screen.expand(2, -1, -1), faces.to(device), 64, 64, normals.expand(2, -1, -1), albedo, sh,
                 perspective=perspective)
    assert out.image.shape == (2, 3, 64, 64) and out.mask.shape == (2, 1, 64, 64)
    mask = out.mask[0, 0].bool()
    left, right = out.image[0, 0, :, :28][mask[:, :28]], out.image[0, 0, :, 36:][mask[:, 36:]]
    assert left.mean() > 0.3 and right.mean() < 0.1  # 0.5 * (0.3 + n_x) with n_x ~ +-0.6 on average
    assert torch.allclose(out.image[1][:, mask], torch.full_like(out.image[1][:, mask], 0.5), atol=1e-6)
    assert (out.image[:, :, ~mask] == 0).all()
