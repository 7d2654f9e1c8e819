"""The rasteriser: coverage without holes, z-test, exact barycentrics, gradients, determinism."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
import torch

from gpu.rasterize import interpolate, rasterize
from tests.gpu.meshes import grid, icosphere, project, rotation, uv_sphere


def brute_force(screen: torch.Tensor, faces: torch.Tensor, height: int, width: int, perspective: bool):
    """Every pixel against every triangle in float64: (tri_id (H,W), depth (H,W), ambiguous (H,W)).

    ambiguous marks pixel centres within 1/200 pixel of an edge (the rasteriser decides coverage on
    vertices snapped to 1/256 pixel), or where the two nearest triangles are within 1e-4 relative
    depth (it compares float32 depths): there the answer may differ without being wrong.
    """
    rows = [_brute_force_rows(screen.double(), faces, y, min(y + 4, height), width, perspective)
            for y in range(0, height, 4)]
    return tuple(torch.cat(parts) for parts in zip(*rows))


def _brute_force_rows(screen, faces, y0: int, y1: int, width: int, perspective: bool):
    ys, xs = torch.meshgrid(torch.arange(y0, y1) + 0.5, torch.arange(width) + 0.5, indexing="ij")
    p = torch.stack([xs, ys], -1).view(-1, 1, 2).double()  # (N,1,2)
    tri = screen[faces]  # (F,3,3)
    nearby = torch.nonzero((tri[:, :, 1].amin(1) < y1 + 1) & (tri[:, :, 1].amax(1) > y0 - 1)).squeeze(1)
    tri = tri[nearby]  # only triangles reaching these rows (any others cannot matter)
    shape = (y1 - y0, width)
    if len(nearby) == 0:
        return torch.full(shape, -1), torch.full(shape, torch.inf, dtype=torch.float64), torch.zeros(shape, dtype=torch.bool)
    v0, v1, v2 = tri[None, :, 0, :2], tri[None, :, 1, :2], tri[None, :, 2, :2]

    def cross(a, b, c):
        return (b[..., 0] - a[..., 0]) * (c[..., 1] - a[..., 1]) - (b[..., 1] - a[..., 1]) * (c[..., 0] - a[..., 0])

    area = cross(v0, v1, v2)
    bary = torch.stack([cross(v1, v2, p), cross(v2, v0, p), cross(v0, v1, p)], -1) / area[..., None]
    inside = (bary >= 0).all(-1) & (area != 0)
    z = tri[None, :, :, 2]
    depth = 1 / (bary / z).sum(-1) if perspective else (bary * z).sum(-1)
    depth = torch.where(inside, depth, torch.inf)
    padded = torch.cat([depth, torch.full_like(depth[:, :2], torch.inf)], 1)
    ordered, order = padded.topk(2, dim=1, largest=False)
    tri_id = torch.where(torch.isfinite(ordered[:, 0]), nearby[order[:, 0].clamp(max=len(nearby) - 1)], -1)
    lengths = torch.stack([(v2 - v1).norm(dim=-1), (v0 - v2).norm(dim=-1), (v1 - v0).norm(dim=-1)], -1)
    signed_distance = bary * area.abs()[..., None] / lengths  # to each edge's line, > 0 inside
    near_edge = ((signed_distance.amin(-1) > -1 / 200) & (signed_distance.abs().amin(-1) < 1 / 200)).any(1)
    close_depths = torch.isfinite(ordered[:, 1]) & (ordered[:, 1] - ordered[:, 0] < 1e-4 * ordered[:, 0].abs())
    return tri_id.view(shape), ordered[:, 0].view(shape), (near_edge | close_depths).view(shape)


def random_soup(n: int, size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """n independent overlapping triangles at random depths in [1, 3], some off the image edges."""
    g = torch.Generator().manual_seed(seed)
    centres = torch.rand(n, 1, 2, generator=g) * size * 1.2 - size * 0.1
    xy = centres + (torch.rand(n, 3, 2, generator=g) - 0.5) * size * 0.6
    z = 1 + 2 * torch.rand(n, 3, 1, generator=g)
    return torch.cat([xy, z], -1).view(-1, 3).double(), torch.arange(3 * n).view(n, 3)


@pytest.mark.parametrize("perspective", [True, False])
def test_matches_brute_force_on_overlapping_triangles(device, perspective):
    verts, faces = random_soup(40, 48, seed=3)
    raster = rasterize(verts[None].to(device), faces.to(device), 40, 48, perspective=perspective)
    tri_id, depth, ambiguous = brute_force(verts, faces, 40, 48, perspective)
    clear = ~ambiguous
    assert clear.float().mean() > 0.9  # the comparison covers almost every pixel
    assert torch.equal(raster.tri_id[0].cpu()[clear], tri_id[clear])
    covered = clear & (tri_id >= 0)
    assert covered.sum() > 800  # the soup covers about half of the 1920 pixels
    assert torch.allclose(raster.depth[0].cpu()[covered], depth[covered], atol=1e-9)
    # barycentrics of the visible triangle reproduce the pixel centre
    xy = interpolate(verts[None, :, :2].to(device), raster, faces.to(device))[0].cpu()
    if not perspective:
        ys, xs = torch.meshgrid(torch.arange(40) + 0.5, torch.arange(48) + 0.5, indexing="ij")
        assert torch.allclose(xy[covered], torch.stack([xs, ys], -1).double()[covered], atol=1e-9)


def sphere_screen(subdivisions: int, size: int, angles, distance: float = 3.0, dtype=torch.float64):
    verts, faces = icosphere(subdivisions, dtype)
    camera = verts @ rotation(*angles, dtype=dtype).T + torch.tensor([0.1, -0.05, distance], dtype=dtype)
    return project(camera, focal=size * 1.1, cx=size / 2 + 0.3, cy=size / 2 - 0.2), faces


@pytest.mark.parametrize("subdivisions,size", [(2, 64), (3, 128), (4, 256)])
def test_closed_sphere_has_no_holes_inside_its_outline(device, subdivisions, size):
    """A convex closed mesh must cover every pixel centre inside its projected outline, exactly the
    convex hull of its projected vertices, and nothing outside it."""
    batch = [sphere_screen(subdivisions, size, (0.3 * i, 0.7 * i + 0.1, 0.2 * i)) for i in range(3)]
    screen = torch.stack([b[0] for b in batch]).float()
    faces = batch[0][1]
    raster = rasterize(screen.to(device), faces.to(device), size, size)
    for image, (verts, _) in enumerate(batch):
        hull = cv2.convexHull(verts[:, :2].numpy().astype(np.float32))
        covered = raster.tri_id[image].cpu().numpy() >= 0
        distance = np.array([[cv2.pointPolygonTest(hull, (x + 0.5, y + 0.5), True) for x in range(size)]
                             for y in range(size)])
        inside, outside = distance > 1e-3, distance < -1e-3
        assert inside.sum() > 0.25 * size * size
        assert covered[inside].all(), f"{(~covered[inside]).sum()} holes inside the outline"
        assert not covered[outside].any()


def test_planar_grid_covers_every_pixel_exactly_once(device):
    """Vertices on pixel centres, edges through pixel centres: each centre inside the grid belongs
    to exactly one triangle (the tie rule), so rendering triangles one by one sums to 1."""
    rows, cols, step = 5, 6, 3.0
    ys, xs = torch.meshgrid(torch.arange(rows) * step + 2.5, torch.arange(cols) * step + 2.5, indexing="ij")
    verts = torch.stack([xs.flatten(), ys.flatten(), torch.full((rows * cols,), 2.0)], -1)
    verts[7, :2] += torch.tensor([1.0, 1.0])  # an interior vertex moved onto another pixel centre
    faces = grid(rows, cols)
    count = torch.zeros(20, 20, dtype=torch.int64)
    for f in range(faces.shape[0]):
        one = rasterize(verts[None].to(device), faces[f:f + 1].to(device), 20, 20)
        count += (one.tri_id[0] >= 0).long().cpu()
    span_y, span_x = slice(2, 2 + int((rows - 1) * step) + 1), slice(2, 2 + int((cols - 1) * step) + 1)
    assert (count <= 1).all()
    assert (count[span_y, span_x][:-1, :-1] == 1).all()
    assert count.sum() >= ((rows - 1) * step) * ((cols - 1) * step)


def test_nearer_triangle_wins_in_either_order(device):
    near = [[2.0, 2.0, 2.0], [30.0, 4.0, 2.0], [6.0, 28.0, 2.0]]
    far = [[4.0, 3.0, 3.0], [29.0, 29.0, 3.0], [3.0, 29.0, 3.0]]
    for first, second in ((near, far), (far, near)):
        verts = torch.tensor([first + second], device=device)
        faces = torch.tensor([[0, 1, 2], [3, 4, 5]], device=device)
        raster = rasterize(verts, faces, 32, 32)
        near_id = 0 if first is near else 1
        assert raster.tri_id[0, 10, 8].item() == near_id  # inside both
        assert raster.depth[0, 10, 8].item() == pytest.approx(2.0)
        assert raster.tri_id[0, 27, 20].item() == 1 - near_id  # only the far one
        assert raster.depth[0, 27, 20].item() == pytest.approx(3.0)


def test_intersecting_triangles_switch_at_the_crossing(device):
    """A flat triangle at depth 2 and a tilted one whose depth runs from 1 (left) to 3 (right):
    the tilted one is visible left of x = 16 and hidden right of it."""
    verts = torch.tensor([[[0.0, 0.0, 2.0], [32.0, 0.0, 2.0], [0.0, 32.0, 2.0],
                           [0.0, 0.0, 1.0], [32.0, 16.0, 3.0], [0.0, 32.0, 1.0]]], device=device)
    faces = torch.tensor([[0, 1, 2], [3, 4, 5]], device=device)
    raster = rasterize(verts, faces, 32, 32, perspective=False)
    row = raster.tri_id[0, 12].cpu()
    assert (row[:15] == 1).all() and (row[17:19] == 0).all()


def test_perspective_correct_interpolation_matches_ray_plane_intersection(device):
    """A quad on the tilted plane z = 2 + 0.5 x (camera space), attribute = camera x. Along the
    ray through pixel u = (x_pix - c) / f the plane gives z = 2 / (1 - 0.5 u), x = u z."""
    focal, c = 40.0, 32.0
    corners = torch.tensor([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]], dtype=torch.float64)
    camera = torch.stack([corners[:, 0], corners[:, 1], 2 + 0.5 * corners[:, 0]], -1)
    screen = project(camera, focal, c, c)[None].to(device)
    faces = torch.tensor([[0, 1, 2], [0, 2, 3]], device=device)
    attrs = camera[None, :, :1].to(device)
    ys, xs = torch.meshgrid(torch.arange(64.0, dtype=torch.float64) + 0.5, torch.arange(64.0, dtype=torch.float64) + 0.5, indexing="ij")
    u = (xs - c) / focal
    z_true = 2 / (1 - 0.5 * u)
    for perspective in (True, False):
        raster = rasterize(screen, faces, 64, 64, perspective=perspective)
        covered = raster.tri_id[0].cpu() >= 0
        assert covered.sum() > 1000
        x = interpolate(attrs, raster, faces)[0, ..., 0].cpu()
        error = (x - u * z_true)[covered].abs().max().item()
        depth_error = (raster.depth[0].cpu() - z_true)[covered].abs().max().item()
        if perspective:
            assert error < 1e-9 and depth_error < 1e-9
        else:
            assert error > 0.05  # affine interpolation visibly bends: the check can tell them apart


def tiny_mesh(device):
    """Two triangles sharing an edge, corners away from pixel centres and snapping boundaries."""
    verts = torch.tensor([[[1.13, 0.87, 2.1], [7.21, 1.37, 2.6], [2.09, 6.83, 1.7], [7.62, 6.41, 2.3]]],
                         dtype=torch.float64, device=device)
    faces = torch.tensor([[0, 1, 2], [1, 3, 2]], device=device)
    return verts, faces


@pytest.mark.parametrize("perspective", [True, False])
def test_gradients_match_finite_differences(device, perspective):
    verts, faces = tiny_mesh(device)
    colours = torch.tensor([[0.2, 0.9], [0.8, 0.1], [0.5, 0.4], [0.3, 0.7]], dtype=torch.float64, device=device)
    verts.requires_grad_(True)
    colours.requires_grad_(True)
    assert rasterize(verts.detach(), faces, 8, 8).mask.sum() > 20

    def bary(v):
        return rasterize(v, faces, 8, 8, perspective=perspective).bary

    def shaded(v, c):
        raster = rasterize(v, faces, 8, 8, perspective=perspective)
        return interpolate(c, raster, faces), raster.depth

    assert torch.autograd.gradcheck(bary, (verts,), eps=1e-6, atol=1e-6)
    assert torch.autograd.gradcheck(shaded, (verts, colours), eps=1e-6, atol=1e-6, fast_mode=True)


def test_gradient_descent_moves_vertices_to_a_target_image(device):
    """End to end: the barycentric gradients are useful, not just correct: fitting the vertex
    positions of a 2-triangle mesh to a rendering of shifted vertices lowers the error 10x."""
    verts, faces = tiny_mesh(device)
    verts = (verts * 4).float()  # 32x32
    colours = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 1.0, 0.0]], device=device)
    target = interpolate(colours, rasterize(verts, faces, 32, 32), faces)
    guess = (verts + torch.tensor([0.7, -0.5, 0.0], device=device)).requires_grad_(True)
    optimiser = torch.optim.Adam([guess], lr=0.05)
    errors = []
    for _ in range(60):
        raster = rasterize(guess, faces, 32, 32)
        both = raster.mask[:, 0, ..., None] * (target.abs().sum(-1, keepdim=True) > 0)
        loss = ((interpolate(colours, raster, faces) - target) ** 2 * both).sum() / both.sum()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        errors.append(loss.item())
    assert errors[-1] < 0.1 * errors[0]


def test_repeated_and_batched_runs_are_bit_identical(device):
    screens = [sphere_screen(3, 96, (0.2 * i, 0.5, 0.1))[0].float() for i in range(4)]
    faces = icosphere(3)[1].to(device)
    batch = torch.stack(screens).to(device)
    first = rasterize(batch, faces, 96, 96)
    second = rasterize(batch.clone(), faces, 96, 96)
    assert torch.equal(first.tri_id, second.tri_id) and torch.equal(first.bary, second.bary)
    for i, screen in enumerate(screens):
        alone = rasterize(screen[None].to(device), faces, 96, 96)
        assert torch.equal(alone.tri_id[0], first.tri_id[i]) and torch.equal(alone.bary[0], first.bary[i])


def test_large_mesh_in_small_chunks_gives_the_same_image(device):
    """A 72k-triangle sphere (Basel-model sized, most triangles under a pixel) drawn with a tiny
    chunk budget must give exactly the image drawn in one go, and leave no holes."""
    verts, faces = uv_sphere(180, 200)
    camera = verts @ rotation(0.4, 0.2, 0.0).T + torch.tensor([0.0, 0.0, 3.0], dtype=torch.float64)
    screen = project(camera, 140.0, 64.0, 64.0)[None].float().to(device)
    faces = faces.to(device)
    whole = rasterize(screen, faces, 128, 128)
    chunked = rasterize(screen, faces, 128, 128, chunk_size=3000)
    assert faces.shape[0] == 72000
    assert torch.equal(whole.tri_id, chunked.tri_id)
    hull = cv2.convexHull(np.ascontiguousarray(screen[0, :, :2].cpu().numpy()))
    inside = np.array([[cv2.pointPolygonTest(hull, (x + 0.5, y + 0.5), True) > 1e-3 for x in range(128)]
                       for y in range(128)])
    assert inside.sum() > 0.3 * 128 * 128
    assert whole.mask[0, 0].cpu().numpy()[inside].all()


def test_off_screen_behind_camera_and_degenerate_triangles_draw_nothing(device):
    verts = torch.tensor([[[-50.0, -50.0, 2.0], [-40.0, -50.0, 2.0], [-50.0, -40.0, 2.0],  # off screen
                           [2.0, 2.0, -1.0], [14.0, 2.0, 2.0], [2.0, 14.0, 2.0],  # behind the camera
                           [1.0, 1.0, 2.0], [8.0, 8.0, 2.0], [15.0, 15.0, 2.0],  # zero area
                           [1.0, 1.0, 2.0], [float("nan"), 8.0, 2.0], [1.0, 15.0, 2.0]]], device=device)
    faces = torch.arange(12, device=device).view(4, 3)
    raster = rasterize(verts, faces, 16, 16)
    assert (raster.tri_id == -1).all() and raster.mask.sum() == 0
    assert raster.pixel_index.numel() == 0


def test_bad_inputs_raise_value_errors():
    verts = torch.zeros(1, 4, 3)
    with pytest.raises(ValueError, match="screen_verts"):
        rasterize(torch.zeros(4, 3), torch.zeros(1, 3, dtype=torch.int64), 8, 8)
    with pytest.raises(ValueError, match="integer"):
        rasterize(verts, torch.zeros(1, 3), 8, 8)
    with pytest.raises(ValueError, match="outside"):
        rasterize(verts, torch.tensor([[0, 1, 4]]), 8, 8)
    with pytest.raises(ValueError, match="positive"):
        rasterize(verts, torch.tensor([[0, 1, 2]]), 0, 8)
    with pytest.raises(ValueError, match="chunk_size"):
        rasterize(verts, torch.tensor([[0, 1, 2]]), 8, 8, chunk_size=0)
