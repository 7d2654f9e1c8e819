"""Speed and held-out figures of a lower face on this machine (a benchmark, not a test).

    python -m core.renderer.bench [--project DIR] [--profile cpu|gpu] [--renderer NAME]
        [--frames 30] [--heldout 150] [--sheet held_out.png]

--renderer names a lower-face variant (core.lowerface: sample, draft, reference, paper). For the
variants without a network (sample, draft) it needs --project: it times the whole per-frame path
(expression to composited full-resolution frame) over --frames frames and, with --heldout N, makes
N held-out frames again from their fitted expressions and scores them (the sample-based lower face
never copies from the held-out tail).

Prints ms per frame for the generator and for compositing into the full frame, the per-frame path
from expression to composited frame, and training steps per second. With a project holding a
trained renderer, it times that renderer on the project's real frames and, with --heldout N, adds
SSIM/PSNR and the mouth sharpness (generated over real) on N held-out frames and, with --sheet,
writes 8 of them as a PNG to look at: real crops, composited crops, then the real and the
composited mouths cut from the full-resolution frames at their own size.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
import torch

from core import lowerface
from core.facerender.composite import composite_frame
from core.facerender.render import FaceRenderer
from core.holdout import holdout_start
from core.lowerface import make_synthesizer
from core.lowerface.heldout import heldout_scores
from core.media import VideoReader
from core.project import Project
from core.renderer import NeuralRenderer, RendererTrainConfig
from core.renderer.build import build_generator, build_networks
from core.renderer.heldout import heldout_figures
from core.renderer.sheet import ContactSheet
from core.renderer.steps import Batch, train_step
from core.renderer.window import CropWindow
from core.tracking import load_crops, load_tracking
from gpu.device import configure_threads


def _ms(fn, repeats: int) -> float:
    fn()  # warm-up
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return 1000 * (time.perf_counter() - start) / repeats


def training_speed(config, size: int, steps: int = 10) -> float:
    """Training steps per second of ``config``'s networks at ``size`` px on random batches (same
    compute as real)."""
    device = torch.device("cpu")
    gen, disc = build_networks(config, device, size)
    opt_g = torch.optim.Adam(gen.parameters(), lr=config.lr, betas=(config.beta1, 0.999))
    opt_d = torch.optim.Adam(disc.parameters(), lr=config.lr, betas=(config.beta1, 0.999))
    b, s = config.batch_size, size
    mask = torch.zeros(b, 1, s, s)
    mask[..., s // 4:, s // 8: -s // 8] = 1
    batch = Batch(cond=torch.rand(b, config.in_channels, s, s), target=torch.rand(b, 3, s, s) * mask,
                  mask=mask, mouth=torch.tensor([[s / 2, s * 0.6, s / 8]] * b))
    run = lambda: train_step(gen, disc, opt_g, opt_d, batch, 100.0, 1.0, 2.0)  # noqa: E731
    return 1000.0 / _ms(run, steps)


def copying_variant_figures(project_dir, renderer: str, frames: int, heldout: int, sheet_path) -> dict:
    """Per-frame path and held-out figures of a variant without a network (single-threaded)."""
    project = Project.open(project_dir)
    tracking = load_tracking(project)
    start = holdout_start(tracking.n_frames)
    t = time.perf_counter()
    synth = make_synthesizer(project, renderer, device="cpu", exclude_from=start)
    figures: dict = {"renderer": renderer, "setup_s": time.perf_counter() - t}
    reader = VideoReader(project.source_video)
    figures["frame_size"] = f"{reader.width}x{reader.height}"
    figures["crop_px"] = tracking.crop_size
    # the per-frame path: a run of training frames driven by the fitted expressions of other frames
    first = max(0, min(start - frames, start // 3))
    indices = np.arange(first, first + frames)
    driving = FaceRenderer(project).fitted_expression((indices[::-1] + start // 2) % start).numpy()
    decoded = list(reader.frames(int(indices[0]), int(indices[-1]) + 1))
    t = time.perf_counter()
    synth.frame_at(0, indices[-1:], driving[-1:])  # first use: compiled kernels load (set-up, not per frame)
    figures["warm_up_s"] = time.perf_counter() - t
    synth.timings.clear()
    t = time.perf_counter()
    for frame, i, patch in zip(decoded, indices, synth.frames(indices, driving)):
        if patch is not None:
            patch.apply(frame, tracking.boxes[int(i)])
    figures["per_frame_path_ms"] = 1000 * (time.perf_counter() - t) / len(indices)
    figures.update({f"{k}_ms": 1000 * v / len(indices) for k, v in synth.timings.items()})
    if heldout:
        contact = ContactSheet(tracking, every=max(1, heldout // 8))
        held_out = heldout_scores(project, make_synthesizer(project, renderer, device="cpu", exclude_from=start),
                                  max_frames=heldout, on_composite=contact.add if sheet_path else None)
        figures.update({f"heldout_{k}": v for k, v in held_out.items()})
        if sheet_path:
            contact.write(sheet_path)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.renderer.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--project", default=None, help="a project with a trained renderer")
    parser.add_argument("--profile", choices=["cpu", "gpu"], default="cpu")

    parser.add_argument("--renderer", choices=lowerface.names(), default=None,
                        help="the lower face to measure (default: the project's trained network, or "
                             "'reference' without a project)")
    parser.add_argument("--frames", type=int, default=30, help="repetitions per timing")
    parser.add_argument("--heldout", type=int, default=0, help="held-out frames for SSIM/PSNR (0: skip)")
    parser.add_argument("--sheet", default=None, help="PNG of held-out frames: real above, composited below")
    parser.add_argument("--train-steps", type=int, default=10)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: all cores)")
    args = parser.parse_args(argv)
    if args.renderer is not None and not lowerface.get_variant(args.renderer).trains:
        if not args.project:
            parser.error(f"--renderer {args.renderer} needs --project")
        figures = copying_variant_figures(args.project, args.renderer, args.frames, args.heldout, args.sheet)
        print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in figures.items()}, indent=1))
        return 0


    threads = configure_threads()
    if args.threads:
        torch.set_num_threads(args.threads)
        threads = args.threads

    figures: dict[str, float] = {"threads": threads}
    config = RendererTrainConfig.for_device(args.profile, renderer=args.renderer or "reference")
    project = None
    if args.project:
        project = Project.open(args.project)
        renderer = NeuralRenderer.load(project)
        config = renderer.config
    else:  # a 197 px lower-face window of a 256 px crop, as on a 256 x 256 talking-head video
        crop = 256
        side = 197 if config.lower_face_window else crop
        size = config.network_size(side)
        refs = torch.rand(1, 3 * config.n_refs, size, size) if config.renderer == "reference" else None
        renderer = NeuralRenderer(build_generator(config, size), config, CropWindow(30, 59, side, crop, size),
                                  torch.device("cpu"), references=refs)
    s, n = renderer.window.size, config.n_window
    figures["renderer"] = config.renderer
    figures["network_px"] = s
    figures["window_crop_px"] = renderer.window.side
    window = torch.rand(1, n, 3, s, s)
    frame_in = torch.rand(1, 4 + 3 * config.n_refs, s, s) if renderer.uses_frame else None
    figures["generator_ms"] = _ms(lambda: renderer.generate(window, frame_in), args.frames)
    generated = renderer.generate(window, frame_in)
    figures["to_crop_ms"] = _ms(lambda: renderer.to_crop(generated), args.frames)

    if project is not None:
        tracking, crops = load_tracking(project), load_crops(project)
        i = int(np.flatnonzero(tracking.has_face)[len(tracking.has_face) // 2])
        frame = next(iter(VideoReader(project.source_video)))
        faces = FaceRenderer(project)
        out = faces.render(np.array([i]))
        expression = faces.fitted_expression(np.array([i]))
        mask, feather = out.expanded_mask[0, 0].numpy(), out.feather[0, 0].numpy()
        real, box = np.asarray(crops[i]), tracking.boxes[i]
        figures["face_render_ms"] = _ms(lambda: faces.render(np.array([i]), expression), args.frames)
        figures["condition_ms"] = _ms(lambda: renderer.condition(out.image, out.expanded_mask), args.frames)
        vertices = None  # the target's geometry with the new expression, for warped references
        if renderer.uses_frame:
            if renderer.warp is not None:
                figures["vertices_ms"] = _ms(lambda: faces.screen_vertices(np.array([i]), expression), args.frames)
                vertices = faces.screen_vertices(np.array([i]), expression).numpy()
            figures["frame_input_ms"] = _ms(lambda: renderer.frame_input(real[None], out.expanded_mask, vertices),
                                            args.frames)
        gen_crop = (renderer.to_crop(renderer.generate(window, frame_in))[0].permute(1, 2, 0).numpy() * 255)
        figures["composite_ms"] = _ms(lambda: composite_frame(frame, box, real, gen_crop, mask, feather,
                                                              renderer.coverage), args.frames)
        figures["frame_size"] = f"{frame.shape[1]}x{frame.shape[0]}"

        def whole_path() -> None:  # one new frame with a rolling window: render, condition, generate, composite
            o = faces.render(np.array([i]), expression)
            c = renderer.condition(o.image, o.expanded_mask)
            f = None
            if renderer.uses_frame:
                v = faces.screen_vertices(np.array([i]), expression).numpy() if renderer.warp is not None else None
                f = renderer.frame_input(real[None], o.expanded_mask, v)
            g = renderer.to_crop(renderer.generate(c[:, None].expand(-1, n, -1, -1, -1), f))
            composite_frame(frame, box, real, g[0].permute(1, 2, 0).numpy() * 255,
                            o.expanded_mask[0, 0].numpy(), o.feather[0, 0].numpy(), renderer.coverage)

        figures["per_frame_path_ms"] = _ms(whole_path, args.frames)
    figures["train_steps_per_s"] = training_speed(config, s, args.train_steps)
    if project is not None and args.heldout:
        sheet = ContactSheet(tracking, every=max(1, args.heldout // 8))
        held_out = heldout_figures(project, renderer, max_frames=args.heldout,
                                   on_composite=sheet.add if args.sheet else None)
        figures.update({f"heldout_{k}": v for k, v in held_out.items()})
        if args.sheet:
            sheet.write(args.sheet)
    print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in figures.items()}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
