"""Rasterise + SH-shade a mesh in one call (Gouraud: colours shaded per vertex, then interpolated)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from gpu.rasterize import Raster, interpolate, rasterize
from gpu.shading import sh_shade


@dataclass(frozen=True)
class Rendered:
    """image: (B,3,H,W) float, shaded colour, 0 where no triangle; mask: (B,1,H,W) float in {0,1};
    raster: the ``Raster`` (triangle ids, barycentrics) for interpolating further attributes."""

    image: torch.Tensor
    mask: torch.Tensor
    raster: Raster


def render(
    screen_verts: torch.Tensor,
    faces: torch.Tensor,
    height: int,
    width: int,
    normals: torch.Tensor,
    albedo: torch.Tensor,
    sh: torch.Tensor,
    perspective: bool = True,
) -> Rendered:
    """Lambertian SH render of a batch of meshes sharing one topology.

    screen_verts: float (B,V,3) (x pixels, y pixels, camera depth > 0), as for ``rasterize``.
    faces: integer (F,3). normals: float (B,V,3) unit vertex normals, in the frame the lighting is
    expressed in. albedo: float (B,V,3) or (V,3), RGB reflectance, typically in [0,1].
    sh: float (B,27) lighting (see gpu.shading). All on one device.
    Returns ``Rendered``; ``image`` is differentiable w.r.t. vertices, normals, albedo and lighting.
    """
    if albedo.dim() == 2:
        albedo = albedo.unsqueeze(0)
    colours = sh_shade(normals, sh, albedo)  # (B,V,3)
    raster = rasterize(screen_verts, faces, height, width, perspective=perspective)
    image = interpolate(colours, raster, faces).permute(0, 3, 1, 2)
    return Rendered(image=image, mask=raster.mask, raster=raster)
