"""The renderer's training cache keeps only the lower face, losslessly: what training reads equals
what FaceRenderer renders, the old raw arrays are removed, and the disk it takes is a fraction."""

from __future__ import annotations

import json

import numpy as np
import torch

from core.jobs import run_job
from core.renderer.cond_store import CondStore, CondWriter, decode, encode
from core.renderer.data import build_cache_job
from tests.renderer.conftest import fake_renderer


def test_frames_round_trip_exactly(tmp_path):
    rng = np.random.default_rng(1)
    mask = np.zeros((5, 64, 64), np.uint8)
    mask[:, 30:60, 10:54] = 1
    mask[3] = 0  # a frame without a face
    cond = (rng.integers(0, 256, (5, 64, 64, 3)) * mask[..., None]).astype(np.uint8)
    writer = CondWriter(tmp_path / "cond.bin", 5)
    for c, m in zip(cond, mask):
        writer.add(c, m)
    writer.close()
    np.save(tmp_path / "cond_index.npy", writer.offsets)
    store = CondStore(tmp_path)
    got_cond, got_mask = store.read([4, 0, 4, 3])  # repeats and any order, as batches ask
    assert np.array_equal(got_cond, cond[[4, 0, 4, 3]]) and np.array_equal(got_mask, mask[[4, 0, 4, 3]])
    c, m = decode(encode(cond[1], mask[1]))
    assert np.array_equal(c, cond[1]) and np.array_equal(m, mask[1])


def test_cache_equals_the_renders_replaces_version_1_and_is_small(tracked_copy):
    folder = tracked_copy.path("renderer")
    folder.mkdir(parents=True, exist_ok=True)
    for old in ("cond.npy", "mask.npy"):  # a version-1 cache left by an older portrait-dub
        np.save(folder / old, np.zeros((2, 2), np.uint8))
    faces = fake_renderer(tracked_copy)
    cache = run_job(build_cache_job(tracked_copy, faces))
    assert not (folder / "cond.npy").exists() and not (folder / "mask.npy").exists()
    assert json.loads((folder / "cache.json").read_text())["version"] == 2
    store = CondStore(folder)
    frames = np.array([0, 7, cache.n_frames - 1])
    cond, mask = store.read(frames)
    with torch.no_grad():
        out = faces.render(frames, None)
    m = (out.expanded_mask > 0.5).float()
    expected = ((out.image.float() * m).clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    assert np.array_equal(cond, expected) and np.array_equal(mask, m[:, 0].to(torch.uint8).numpy())
    raw = cache.n_frames * cache.crop_size ** 2 * 4  # version 1: cond (3 bytes a pixel) + mask (1)
    stored = sum(p.stat().st_size for p in folder.iterdir() if p.name.startswith("cond"))
    assert stored < raw / 3, (stored, raw)
