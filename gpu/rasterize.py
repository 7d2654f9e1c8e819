"""Differentiable triangle rasteriser in plain torch: the same code on the CPU and on CUDA.

Two passes, after Genova et al. 2018 ("Unsupervised training for 3D morphable model regression"):

1. Visibility (no gradient). Work is per triangle, never pixels x triangles: each triangle walks the
   rows of its bounding box and computes, exactly, the span of pixel centres it covers in each row,
   so only covered pixels are ever enumerated (``repeat_interleave``). Vertices are snapped to a fixed-point grid (1/256 pixel) so the edge functions are exact
   int64 arithmetic: two triangles sharing an edge compute exactly opposite values, and a pixel
   centre lying exactly on an edge goes to exactly one of them (a tie rule equivalent to nudging the
   sample an infinitesimal step to the right). So a closed surface has no holes and no double cover.
   The z-buffer is one ``scatter_reduce(amin)`` on a packed int64 key (depth bits, triangle id): the
   nearest triangle wins, equal depths go to the lower id, and the result does not depend on thread
   order (the reference code's CUDA z-buffer raced and left black speckles).
2. Barycentrics (differentiable). For the covered pixels only, the winning triangle's barycentric
   weights are recomputed from the float vertices, so they carry gradients with respect to the
   projected vertices (no gradient flows through which triangle wins, or through the silhouette).

Forward results are bit-identical from run to run and between batched and single calls; backward
passes accumulate with index_add, which on CUDA may differ in the last bits between runs.

Conventions: x right, y down, in pixels; pixel (row i, column j) has its centre at (j + 0.5, i + 0.5).
Depth is camera-space z > 0 (larger = farther). With ``perspective=True`` barycentrics are
perspective-correct (screen-space weights divided by each vertex's depth, renormalised); with
``perspective=False`` they are the screen-space (affine) weights and depth is interpolated linearly.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import torch

SUBPIXEL_BITS = 8  # fixed-point resolution of snapped vertices: 1/256 pixel
MAX_COORD = float(1 << 16)  # triangles with a vertex farther than this (pixels) off the origin are skipped
MIN_DEPTH = 1e-8  # perspective: triangles with a vertex at depth <= this are skipped (no near clipping)
DEFAULT_CHUNK = 1 << 20  # covered (pixel, triangle) pairs written per chunk: bounds memory for big meshes

_ONE = 1 << SUBPIXEL_BITS
_HALF = _ONE // 2
_FACE_BITS = 32
_EMPTY = torch.iinfo(torch.int64).max


@dataclass(frozen=True)
class Raster:
    """What ``rasterize`` found at each pixel. B batch, H x W image, P covered pixels in the batch.

    Stored sparse, over the covered pixels only (what ``interpolate`` uses):
    size: (B, H, W).
    pixel_index: int64 (P,), flat index into B*H*W of every covered pixel, ascending.
    pixel_batch: int64 (P,), the image each covered pixel belongs to.
    pixel_face: int64 (P,), index into ``faces`` of the triangle visible there.
    pixel_bary: (P,3) float (dtype of the vertices), barycentric weights of that triangle's corners
        faces[f, 0..2], summing to 1; differentiable w.r.t. the projected vertices. They may stray
        slightly outside [0, 1] at edges, since coverage is decided on snapped vertices.
    pixel_depth: (P,) float, interpolated camera-space depth there, differentiable likewise.
    Dense views, built on first use: ``tri_id`` int64 (B,H,W) with -1 where no triangle; ``bary``
    (B,H,W,3) and ``depth`` (B,H,W), 0 where no triangle; ``mask`` (B,1,H,W) float in {0, 1}
    (not differentiable). All tensors live on the device of the vertices.
    """

    size: tuple[int, int, int]
    pixel_index: torch.Tensor
    pixel_batch: torch.Tensor
    pixel_face: torch.Tensor
    pixel_bary: torch.Tensor
    pixel_depth: torch.Tensor

    @property
    def shape(self) -> tuple[int, int, int]:
        """(B, H, W)."""
        return self.size

    @functools.cached_property
    def tri_id(self) -> torch.Tensor:
        dense = torch.full((math.prod(self.size),), -1, dtype=torch.int64, device=self.pixel_index.device)
        return dense.index_copy_(0, self.pixel_index, self.pixel_face).view(self.size)

    @functools.cached_property
    def mask(self) -> torch.Tensor:
        dense = self.pixel_bary.new_zeros(math.prod(self.size)).index_fill_(0, self.pixel_index, 1.0)
        return dense.view(self.size).unsqueeze(1)

    @functools.cached_property
    def bary(self) -> torch.Tensor:
        return self.scatter(self.pixel_bary)

    @functools.cached_property
    def depth(self) -> torch.Tensor:
        return self.scatter(self.pixel_depth.unsqueeze(1)).squeeze(3)

    def scatter(self, values: torch.Tensor) -> torch.Tensor:
        """(P,C) per covered pixel -> (B,H,W,C), 0 elsewhere; differentiable w.r.t. ``values``."""
        dense = values.new_zeros(math.prod(self.size), values.shape[1]).index_copy(0, self.pixel_index, values)
        return dense.view(*self.size, values.shape[1])


def rasterize(
    screen_verts: torch.Tensor,
    faces: torch.Tensor,
    height: int,
    width: int,
    perspective: bool = True,
    chunk_size: int = DEFAULT_CHUNK,
) -> Raster:
    """Rasterise a batch of triangle meshes that share one topology.

    screen_verts: float32/float64 (B,V,3) on any device: (x pixels, y pixels, camera depth), x right,
        y down, pixel centres at integer + 0.5. Depth must be > 0 when ``perspective`` (triangles
        touching depth <= 1e-8 are skipped); any finite value orders the z-test otherwise.
    faces: integer (F,3) vertex indices, same device. Winding does not matter (no culling).
    height, width: output size in pixels.
    perspective: perspective-correct barycentrics (True) or affine ones (False, orthographic).
    chunk_size: about this many covered (pixel, triangle) pairs are written at once (memory bound).
    Returns a ``Raster``; its barycentrics and depth are differentiable w.r.t. ``screen_verts``.
    """
    _check_inputs(screen_verts, faces, height, width)
    if int(chunk_size) < 1:
        raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
    faces = faces.long()
    batch, hw = screen_verts.shape[0], height * width
    winner = _visible_faces(screen_verts.detach(), faces, height, width, perspective, chunk_size)
    pixel_index = torch.nonzero(winner != _EMPTY).squeeze(1)
    pixel_face = winner.index_select(0, pixel_index) & ((1 << _FACE_BITS) - 1)
    pixel_batch = torch.div(pixel_index, hw, rounding_mode="floor")
    pixel_bary, pixel_depth = _barycentrics(
        screen_verts, faces, pixel_index - pixel_batch * hw, pixel_batch * faces.shape[0] + pixel_face, width, perspective
    )

    return Raster(
        size=(batch, height, width),
        pixel_index=pixel_index,
        pixel_batch=pixel_batch,
        pixel_face=pixel_face,
        pixel_bary=pixel_bary,
        pixel_depth=pixel_depth,
    )


def interpolate(attrs: torch.Tensor, raster: Raster, faces: torch.Tensor) -> torch.Tensor:
    """Per-pixel attribute of the visible surface: barycentric blend of its three vertices' values.

    attrs: float (B,V,C) per-vertex values, or (V,C) shared by the batch; same device as the raster.
    raster: from ``rasterize`` with the same ``faces`` (F,3).
    Returns (B,H,W,C) in the dtype of ``attrs`` (0 where no triangle), differentiable w.r.t. ``attrs``
    and, through the barycentrics, w.r.t. the vertices given to ``rasterize``.
    """
    batch, height, width = raster.shape
    if attrs.dim() == 2:
        attrs = attrs.unsqueeze(0).expand(batch, -1, -1)
    if attrs.dim() != 3 or attrs.shape[0] != batch:
        raise ValueError(f"attrs must be (B,V,C) with B={batch} or (V,C), got {tuple(attrs.shape)}")
    n_verts, channels = attrs.shape[1], attrs.shape[2]
    corners = faces.long().index_select(0, raster.pixel_face) + (raster.pixel_batch * n_verts).unsqueeze(1)
    flat = attrs.reshape(batch * n_verts, channels)
    bary = raster.pixel_bary.to(attrs.dtype)
    blended = sum(bary[:, k : k + 1] * flat.index_select(0, corners[:, k]) for k in range(3))
    return raster.scatter(blended)


def _check_inputs(screen_verts: torch.Tensor, faces: torch.Tensor, height: int, width: int) -> None:
    if not isinstance(screen_verts, torch.Tensor) or screen_verts.dim() != 3 or screen_verts.shape[2] != 3:
        raise ValueError(f"screen_verts must be a (B,V,3) tensor, got {getattr(screen_verts, 'shape', type(screen_verts))}")
    if screen_verts.dtype not in (torch.float32, torch.float64):
        raise ValueError(f"screen_verts must be float32 or float64, got {screen_verts.dtype}")
    if not isinstance(faces, torch.Tensor) or faces.dim() != 2 or faces.shape[1] != 3:
        raise ValueError(f"faces must be an (F,3) tensor, got {getattr(faces, 'shape', type(faces))}")
    if faces.dtype.is_floating_point or faces.dtype == torch.bool:
        raise ValueError(f"faces must hold integer vertex indices, got {faces.dtype}")
    if faces.device != screen_verts.device:
        raise ValueError(f"faces are on {faces.device} but the vertices on {screen_verts.device}")
    if faces.numel() and (int(faces.min()) < 0 or int(faces.max()) >= screen_verts.shape[1]):
        raise ValueError(f"faces index vertices outside 0..{screen_verts.shape[1] - 1}")
    if int(height) <= 0 or int(width) <= 0:
        raise ValueError(f"image size must be positive, got {height}x{width}")


def _visible_faces(
    verts: torch.Tensor, faces: torch.Tensor, height: int, width: int, perspective: bool, chunk_size: int
) -> torch.Tensor:
    """int64 (B*H*W,) packed (depth, face) key of the nearest triangle per pixel, _EMPTY where none."""
    device = verts.device
    batch, n_faces = verts.shape[0], faces.shape[0]
    zbuffer = torch.full((batch * height * width,), _EMPTY, dtype=torch.int64, device=device)
    if n_faces == 0:
        return zbuffer

    corners = verts.index_select(1, faces.view(-1)).view(-1, 3, 3)  # (B*F, corner, xyz)
    xy = corners[..., :2].double()
    z = corners[..., 2].double()
    # (torch reduces tiny trailing dimensions slowly on the CPU: explicit column chains instead)
    finite = torch.isfinite(corners).view(-1, 9).all(dim=1) & (xy.abs() <= MAX_COORD).view(-1, 6).all(dim=1)
    valid = finite & (z > MIN_DEPTH).all(dim=1) if perspective else finite
    fixed = torch.round(torch.where(valid[:, None, None], xy, 0.0) * _ONE).long()  # (T,3,2)

    # Bounding box in pixel indices (pixel j is a candidate if its centre j*256+128 lies inside).
    low = torch.minimum(torch.minimum(fixed[:, 0], fixed[:, 1]), fixed[:, 2])
    high = torch.maximum(torch.maximum(fixed[:, 0], fixed[:, 1]), fixed[:, 2])
    lo = torch.div(low - _HALF + _ONE - 1, _ONE, rounding_mode="floor").clamp(min=0)
    hi = torch.div(high - _HALF, _ONE, rounding_mode="floor")
    hi = torch.minimum(hi, torch.tensor([width - 1, height - 1], device=device))
    extent = hi - lo + 1  # (T,2) columns, rows; <= 0 when off screen

    # Edge k is opposite corner k: from corner k+1 to corner k+2. Its edge function at fixed-point
    # position p is a_k * p_x + b_k * p_y + c_k (exact in int64), oriented so the inside is positive.
    start, end = fixed.roll(-1, dims=1), fixed.roll(-2, dims=1)
    a = start[..., 1] - end[..., 1]  # (T,3)
    b = end[..., 0] - start[..., 0]
    area2 = (b[:, 2] * a[:, 1] - b[:, 1] * a[:, 2]).unsqueeze(1)  # twice the signed area, fixed^2
    orientation = torch.sign(area2)
    a, b = a * orientation, b * orientation
    # A centre exactly on an edge belongs to the triangle it would fall into if nudged right (then
    # down): both sides of a shared edge compute the same value, so exactly one of them takes it.
    owns = ((a > 0) | ((a == 0) & (b > 0))).long()
    origin = lo * _ONE + _HALF  # centre of the bounding box's first pixel, fixed point
    edge0 = a * (origin[:, :1] - start[..., 0]) + b * (origin[:, 1:] - start[..., 1])  # (T,3)

    # The quantity compared in the z-test varies linearly over the screen: 1/z (perspective; nearer
    # is larger, so negate it) or z (affine). Tabulate it per triangle as a plane in pixel offsets.
    weight = (-1.0 / z if perspective else z) / area2.abs().clamp(min=1).double()
    depth_table = torch.stack(
        [(edge0.double() * weight).sum(1), (a.double() * weight).sum(1) * _ONE, (b.double() * weight).sum(1) * _ONE],
        dim=1,
    )
    image = torch.arange(batch, device=device).repeat_interleave(n_faces)
    # inside iff bias + step_x*dx + step_y*dy >= 0 at pixel offset (dx, dy) from the box's corner
    edge_table = torch.cat([edge0 + owns - 1, a * _ONE, b * _ONE, extent[:, :1]], dim=1)  # (T,10): ..., columns
    meta_table = torch.stack(
        [extent[:, 1], (image * height + lo[:, 1]) * width + lo[:, 0], torch.arange(n_faces, device=device).repeat(batch)],
        dim=1,
    )  # (T,3): rows, first pixel, face

    keep = valid & (area2.squeeze(1) != 0) & (extent[:, 0] > 0) & (extent[:, 1] > 0)
    tri = torch.nonzero(keep).squeeze(1)
    if tri.numel() == 0:
        return zbuffer
    edge_table, meta_table, depth_table = (t.index_select(0, tri) for t in (edge_table, meta_table, depth_table))

    # One entry per (triangle, bounding-box row); the row's covered span follows exactly from the
    # three integer edge inequalities, so only covered pixels are ever enumerated.
    n_rows = meta_table[:, 0]
    row_owner = torch.repeat_interleave(torch.arange(tri.shape[0], device=device), n_rows)
    row_dy = torch.arange(row_owner.shape[0], device=device) - (torch.cumsum(n_rows, 0) - n_rows).index_select(0, row_owner)
    rows = edge_table.index_select(0, row_owner)
    bias = rows[:, 0:3] + rows[:, 6:9] * row_dy.unsqueeze(1)  # inside iff step_x * dx + bias >= 0
    step_x = rows[:, 3:6]
    bound = torch.div(bias, torch.where(step_x == 0, 1, step_x.abs()), rounding_mode="floor")
    lower = torch.where(step_x > 0, -bound, 0)
    upper = torch.where(step_x < 0, bound, _EMPTY)
    blocked = (step_x == 0) & (bias < 0)
    span_lo = torch.maximum(torch.maximum(lower[:, 0], lower[:, 1]), lower[:, 2]).clamp(min=0)
    span_hi = torch.minimum(torch.minimum(upper[:, 0], upper[:, 1]), torch.minimum(upper[:, 2], rows[:, 9] - 1))
    blocked = blocked[:, 0] | blocked[:, 1] | blocked[:, 2]
    span_len = torch.where(blocked, 0, (span_hi - span_lo + 1).clamp(min=0))
    drawn = torch.nonzero(span_len).squeeze(1)
    if drawn.numel() == 0:
        return zbuffer
    row_owner, row_dy, span_lo, span_len = (t.index_select(0, drawn) for t in (row_owner, row_dy, span_lo, span_len))
    first_pixel, face = meta_table[:, 1:].index_select(0, row_owner).unbind(1)
    plane = depth_table.index_select(0, row_owner)
    span_depth = torch.stack([plane[:, 0] + plane[:, 1] * span_lo + plane[:, 2] * row_dy, plane[:, 1]], dim=1).float()
    span_start = first_pixel + row_dy * width + span_lo

    # Consecutive runs of rows holding about chunk_size pixels each bound the memory for big meshes.
    chunk_of = torch.div(torch.cumsum(span_len, 0) - span_len, chunk_size, rounding_mode="floor")
    first = 0
    for run in torch.unique_consecutive(chunk_of, return_counts=True)[1].tolist():
        part = slice(first, first + run)
        _draw_spans(span_start[part], span_depth[part], face[part], span_len[part], zbuffer)
        first += run
    return zbuffer


def _draw_spans(
    start: torch.Tensor, depth: torch.Tensor, face: torch.Tensor, length: torch.Tensor, zbuffer: torch.Tensor
) -> None:
    """Write every pixel of the given row spans into the z-buffer, keeping the nearest (in place).

    start: int64 (R,) flat pixel of each span's first pixel; depth: float32 (R,2) z-test value there
    and its step per pixel; face: int64 (R,); length: int64 (R,) pixels per span.
    """
    device = length.device
    owner = torch.repeat_interleave(torch.arange(length.shape[0], device=device), length)
    first = torch.cumsum(length, 0) - length
    span = torch.stack([start - first, first, face], dim=1).index_select(0, owner)
    index = torch.arange(owner.shape[0], device=device)
    plane = depth.index_select(0, owner)
    pixel_depth = plane[:, 0] + plane[:, 1] * (index - span[:, 1]).float()
    key = _sortable(pixel_depth) * (1 << _FACE_BITS) + span[:, 2]
    zbuffer.scatter_reduce_(0, index + span[:, 0], key, reduce="amin")


def _sortable(values: torch.Tensor) -> torch.Tensor:
    """float32 (N,) -> int64 (N,) in the same order (no NaN): negative floats get their magnitude bits flipped."""
    bits = values.view(torch.int32)
    return (bits ^ ((bits >> 31) & 0x7FFFFFFF)).long()


def _barycentrics(
    screen_verts: torch.Tensor,
    faces: torch.Tensor,
    pixel_in_image: torch.Tensor,
    pixel_triangle: torch.Tensor,
    width: int,
    perspective: bool,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Differentiable (P,3) barycentrics and (P,) depth of each covered pixel's visible triangle.

    pixel_in_image: (P,) row * width + column; pixel_triangle: (P,) index into the B*F triangles.
    """
    table = _triangle_table(screen_verts, faces, perspective).index_select(0, pixel_triangle)  # (P,9)
    row = torch.div(pixel_in_image, width, rounding_mode="floor")
    dx = (pixel_in_image - row * width).to(table.dtype) + 0.5 - table[:, 4]
    dy = row.to(table.dtype) + 0.5 - table[:, 5]
    w1 = table[:, 0] * dx + table[:, 1] * dy
    w2 = table[:, 2] * dx + table[:, 3] * dy
    w0 = 1.0 - w1 - w2
    if perspective:
        q0, q1, q2 = w0 * table[:, 6], w1 * table[:, 7], w2 * table[:, 8]
        depth = 1.0 / (q0 + q1 + q2)
        return torch.stack([q0, q1, q2], dim=1) * depth.unsqueeze(1), depth
    return torch.stack([w0, w1, w2], dim=1), w0 * table[:, 6] + w1 * table[:, 7] + w2 * table[:, 8]


def _triangle_table(screen_verts: torch.Tensor, faces: torch.Tensor, perspective: bool) -> torch.Tensor:
    """(B*F,9) per triangle, differentiable w.r.t. ``screen_verts``: the screen-space barycentrics
    of corners 1 and 2 as w = a*(x - x0) + b*(y - y0) relative to corner 0 (so they stay accurate
    far from the origin): a1, b1, a2, b2, x0, y0; then each corner's 1/z (perspective) or z."""
    tri = screen_verts.index_select(1, faces.view(-1)).view(-1, 3, 3)  # (B*F, corner, xyz)
    e1 = tri[:, 1, :2] - tri[:, 0, :2]
    e2 = tri[:, 2, :2] - tri[:, 0, :2]
    area = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
    # Coverage is decided on snapped vertices; a float area this small would only blow up.
    tiny = torch.finfo(area.dtype).tiny ** 0.5
    area = torch.where(area.abs() < tiny, torch.full_like(area, tiny), area)
    depth = 1.0 / tri[:, :, 2] if perspective else tri[:, :, 2]
    coeffs = torch.stack([e2[:, 1], -e2[:, 0], -e1[:, 1], e1[:, 0]], dim=1) / area.unsqueeze(1)
    return torch.cat([coeffs, tri[:, 0, :2], depth], dim=1)
