"""Time the rasteriser on a face-sized mesh: ``python -m gpu.bench_rasterize [--device cpu] [--threads N]``.

The mesh stands in for the MediaPipe face: a 22 x 22 vertex grid (484 vertices, 882 triangles)
bent into the front of an ellipsoid covering about 40 % of the square image. Prints the best and
median milliseconds per frame for rasterise + interpolate ("raster") and for the whole SH render with
normals ("render"), forward only and forward + backward, at 128 and 256 px, batch 1 and 8.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from gpu.device import select_device
from gpu.rasterize import interpolate, rasterize
from gpu.render import render
from gpu.shading import AMBIENT_SH, vertex_normals


def face_sized_mesh(size: int, n: int = 22) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(camera verts (V,3), screen verts (V,3), faces (F,3)) of an ellipsoid cap in a size x size crop."""
    v, u = torch.meshgrid(torch.linspace(-1, 1, n), torch.linspace(-1, 1, n), indexing="ij")
    disc_x, disc_y = u * torch.sqrt(1 - v * v / 2), v * torch.sqrt(1 - u * u / 2)  # square -> disc
    bulge = torch.sqrt((1 - disc_x**2 - disc_y**2).clamp(min=0))
    camera = torch.stack([0.75 * disc_x, 1.05 * disc_y, 10 - 0.8 * bulge], -1).view(-1, 3)
    focal = size * 10 / 2.5  # the 0.75 x 1.05 half-axes cover about 0.30 x 0.42 of the crop
    screen = torch.stack([focal * camera[:, 0] / camera[:, 2] + size / 2,
                          focal * camera[:, 1] / camera[:, 2] + size / 2, camera[:, 2]], -1)
    index = torch.arange(n * n).view(n, n)
    a, b, c, d = index[:-1, :-1], index[:-1, 1:], index[1:, :-1], index[1:, 1:]
    faces = torch.cat([torch.stack([a, c, b], -1).view(-1, 3), torch.stack([b, c, d], -1).view(-1, 3)])
    return camera, screen, faces


def time_ms(fn, repeats: int) -> tuple[float, float]:
    """(best, median) wall milliseconds of ``fn``; on a shared machine the best is the fairer figure."""
    fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        samples.append((time.perf_counter() - start) * 1000)
    return min(samples), statistics.median(samples)


def bench(size: int, batch: int, device: torch.device, repeats: int) -> dict[str, float]:
    camera, screen, faces = face_sized_mesh(size)
    camera = camera.to(device).expand(batch, -1, -1).contiguous()
    screen = screen.to(device).expand(batch, -1, -1).contiguous()
    faces = faces.to(device)
    albedo = torch.full((batch, camera.shape[1], 3), 0.6, device=device)
    sh = torch.tensor(AMBIENT_SH, device=device).expand(batch, -1).contiguous()
    colours = torch.rand(camera.shape[1], 3, device=device)

    def raster_forward(grad: bool = False):
        verts = screen.clone().requires_grad_(grad)
        image = interpolate(colours, rasterize(verts, faces, size, size), faces)
        if grad:
            image.mean().backward()

    def render_forward(grad: bool = False):
        cam, shading = camera.clone().requires_grad_(grad), sh.clone().requires_grad_(grad)
        out = render(screen + 0 * cam, faces, size, size, vertex_normals(cam, faces), albedo, shading)
        if grad:
            out.image.mean().backward()

    with torch.no_grad():
        coverage = rasterize(screen[:1], faces, size, size).mask.mean().item()
        results = {"coverage": coverage,
                   "raster fwd": time_ms(raster_forward, repeats),
                   "render fwd": time_ms(render_forward, repeats)}
    results["raster fwd+bwd"] = time_ms(lambda: raster_forward(True), repeats)
    results["render fwd+bwd"] = time_ms(lambda: render_forward(True), repeats)
    return {k: v if k == "coverage" else (v[0] / batch, v[1] / batch) for k, v in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: all cores)")
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    ctx = select_device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    _, _, faces = face_sized_mesh(128)
    print(f"device {ctx.device}, {torch.get_num_threads()} threads, mesh {int(faces.max()) + 1} vertices "
          f"{faces.shape[0]} triangles; ms per frame, best / median of {args.repeats}")
    columns = ("raster fwd", "raster fwd+bwd", "render fwd", "render fwd+bwd")
    print(f"{'size':>5} {'batch':>5} {'cover':>6} " + " ".join(f"{c:>15}" for c in columns))
    for size in (128, 256):
        for batch in (1, 8):
            r = bench(size, batch, ctx.device, args.repeats)
            cells = " ".join(f"{r[c][0]:>7.2f} /{r[c][1]:>6.2f}" for c in columns)
            print(f"{size:>5} {batch:>5} {r['coverage']:>6.1%} {cells}")


if __name__ == "__main__":
    main()
