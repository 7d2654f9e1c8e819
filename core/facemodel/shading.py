"""Lambertian shading under distant light in 3 spherical-harmonic bands (9 x RGB = 27 values).

colour = albedo * (Y(n) @ gamma_c) per channel c, where Y is the real SH basis already convolved
with the Lambertian kernel (Ramamoorthi & Hanrahan 2001), so gamma = (1/(a0 c0), 0, ..., 0) per
channel (AMBIENT_SH) shades every normal with 1. Works on numpy arrays and torch tensors alike.
"""

from __future__ import annotations

import math

import numpy as np

_A = (math.pi, 2 * math.pi / math.sqrt(3.0), 2 * math.pi / math.sqrt(8.0))
_C = (1 / math.sqrt(4 * math.pi), math.sqrt(3.0) / math.sqrt(4 * math.pi), 3 * math.sqrt(5.0) / math.sqrt(12 * math.pi))
AMBIENT_DC = 1.0 / (_A[0] * _C[0])
AMBIENT_SH = np.tile(np.r_[AMBIENT_DC, np.zeros(8)], 3).astype(np.float32)  # (27,) R, G, B blocks


def sh_basis(normals):
    """(..., 3) unit normals (numpy or torch) -> (..., 9) irradiance basis values."""
    x, y, z = normals[..., 0], normals[..., 1], normals[..., 2]
    k1, k2 = _A[1] * _C[1], _A[2] * _C[2]
    terms = [x * 0 + _A[0] * _C[0], k1 * y, k1 * z, k1 * x, k2 * x * y, k2 * y * z,
             k2 * 0.5 / math.sqrt(3.0) * (3 * z * z - 1), k2 * x * z, k2 * 0.5 * (x * x - y * y)]
    if isinstance(normals, np.ndarray):
        return np.stack(terms, axis=-1)
    import torch  # lazy: the fitting uses the numpy path only

    return torch.stack(terms, dim=-1)


def shade(albedo, normals, sh):
    """albedo (..., V, 3), normals (..., V, 3), sh (..., 27) -> colours (..., V, 3) (same library)."""
    basis = sh_basis(normals)  # (..., V, 9)
    gamma = sh.reshape(*sh.shape[:-1], 3, 9)  # (..., 3, 9)
    if isinstance(basis, np.ndarray):
        shading = np.einsum("...vj,...cj->...vc", basis, gamma)
    else:
        import torch  # lazy: the fitting uses the numpy path only

        shading = torch.einsum("...vj,...cj->...vc", basis, gamma)
    return albedo * shading
