"""Build the multi-speaker lip prior (resources/speech_prior) from the clips of ../shared/data.

    python -m core.audio2exp.build_prior [--data ../shared/data] [--out resources/speech_prior]
                                         [--work /tmp/speech-prior] [--leave-out STEM]

Each clip is tracked (mediapipe, cached in --work), its audio encoded by the bundled Whisper
encoder, and its inner-lip gap and mouth width (over face height, z-scored per clip) resampled to
the encoder's 50 Hz steps. The held-out tail of every clip (core.holdout: the last 20 %) is never
used, so evaluate's held-out figures on these clips stay clean. The short clips in VOICE_CLIPS are
not used at all: evaluate --voices measures voice transfer on them. --leave-out drops one more clip
entirely (a leave-one-out prior, e.g. to measure a project cut from that clip's first seconds).
Writes prior.pt (state_dict), prior.json (settings, clips, figures) and MANIFEST.md (clips and
their licences, from the data's MANIFEST.md).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np
import torch

from core.atomic import atomic_path, write_json, write_text
from core.audio2exp.encoder import STEP_S, load_encoder
from core.audio2exp.features import SAMPLE_RATE, AudioFeatureConfig, gate_at_steps
from core.audio2exp.prior import META_FILE, OUTPUTS, PRIOR_DIR, WEIGHTS_FILE, PriorNet
from core.audio2exp.speech import normalise_steps
from core.holdout import holdout_start
from core.jobs import run_job
from core.landmarks import CHIN_BOTTOM, FOREHEAD_TOP, LOWER_INNER_LIP, UPPER_INNER_LIP
from core.media import load_audio
from core.project import MANIFEST_NAME, Project
from core.tracking import TrackingConfig, load_tracking, tracking_job

log = logging.getLogger("build_prior")

PRIOR_CLIPS = (
    "video/edtalk__pose_source2.mp4",
    "video/styletalk__andrew_clip_2__muxed_av.mp4",
    "video/styletalk__reagan_clip1__muxed_av.mp4",
    "video/styletalk__feifeili_clip2_short__muxed_av.mp4",
    "video/latentsync__demo3_video.mp4",
    "video/sadtalker__WDA_KatieHill_000.mp4",
)
VOICE_CLIPS = (
    "video/videoretalking__face_1.mp4", "video/videoretalking__face_2.mp4",
    "video/videoretalking__face_3.mp4", "video/videoretalking__face_4.mp4",
    "video/videoretalking__face_5.mp4", "video/lipnet__GRID_bbaf2n.mpg", "video/lipnet__GRID_lbbc2a.mpg",
)
MOUTH_LEFT, MOUTH_RIGHT = 61, 291
WIDTH = 64
SEQ_STEPS = 200
EPOCHS = 30
VALIDATION = 0.15  # the last share of each clip's usable part picks the epoch to keep
SEED = 0


def lip_targets(landmarks: np.ndarray, has_face: np.ndarray) -> np.ndarray:
    """float32 (N, 2): inner-lip gap and mouth width over face height, z-scored over the face frames."""
    height = np.linalg.norm(landmarks[:, FOREHEAD_TOP, :2] - landmarks[:, CHIN_BOTTOM, :2], axis=-1)
    gap = np.linalg.norm(landmarks[:, UPPER_INNER_LIP, :2] - landmarks[:, LOWER_INNER_LIP, :2], axis=-1)
    width = np.linalg.norm(landmarks[:, MOUTH_LEFT, :2] - landmarks[:, MOUTH_RIGHT, :2], axis=-1)
    out = np.stack([gap, width], axis=1) / np.maximum(height, 1e-6)[:, None]
    ok = has_face & np.all(np.isfinite(out), axis=1)
    out = (out - out[ok].mean(axis=0)) / np.maximum(out[ok].std(axis=0), 1e-6)
    out[~ok] = np.nan
    return out.astype(np.float32)


def track(video: Path, work: Path):
    root = work / video.stem
    project = Project.open(root) if (root / MANIFEST_NAME).exists() else Project.create(root, video, consent=True)
    run_job(tracking_job(project, TrackingConfig(crop_size=64)))
    return load_tracking(project)


def clip_material(video: Path, work: Path, encoder) -> dict:
    """Normalised encoder steps (M, D), 50 Hz lip targets (M, 2) with NaN where unknown or held out
    (cached in work)."""
    cache = work / f"{video.stem}.material.npz"
    if cache.exists():
        data = np.load(cache)
        return {k: (data[k] if data[k].ndim else float(data[k])) for k in data.files}

    tracking = track(video, work)
    samples = load_audio(video, SAMPLE_RATE)
    raw = encoder.encode(samples)
    gate, _ = gate_at_steps(samples, len(raw), AudioFeatureConfig())
    steps = normalise_steps(raw, gate)
    targets = lip_targets(tracking.landmarks, tracking.has_face)
    n = tracking.n_frames
    usable = np.arange(n) < holdout_start(n)
    targets[~usable] = np.nan
    times = np.arange(len(raw)) * STEP_S
    frame_pos = times * tracking.fps
    lo = np.clip(np.floor(frame_pos).astype(int), 0, n - 1)
    hi = np.clip(lo + 1, 0, n - 1)
    frac = (frame_pos - np.floor(frame_pos))[:, None]
    at_steps = (1 - frac) * targets[lo] + frac * targets[hi]  # NaN spreads to neighbours: fine
    at_steps[frame_pos > n - 1] = np.nan
    out = {"steps": steps, "targets": at_steps.astype(np.float32), "gate": gate,
           "seconds": len(samples) / 16000, "used_s": float(np.isfinite(at_steps[:, 0]).sum() * STEP_S)}
    np.savez(cache, **out)
    return out


def split_validation(clips: list[dict]) -> tuple[list[dict], list[dict]]:
    """Each clip's usable steps cut into training (first 85 %) and validation (last 15 %)."""
    train, val = [], []
    for clip in clips:
        usable = np.flatnonzero(np.isfinite(clip["targets"][:, 0]))
        cut = usable[int(len(usable) * (1 - VALIDATION))] if len(usable) else 0
        t, v = clip["targets"].copy(), clip["targets"].copy()
        t[cut:] = np.nan
        v[:cut] = np.nan
        train.append({**clip, "targets": t})
        val.append({**clip, "targets": v})
    return train, val


@torch.no_grad()
def validation_loss(network: PriorNet, clips: list[dict]) -> float:
    network.eval()
    errs = []
    for clip in clips:
        y = clip["targets"]
        ok = np.isfinite(y)
        if ok.any():
            pred = network(torch.from_numpy(np.ascontiguousarray(clip["steps"].T))[None])[0].T.numpy()
            errs.append(((pred - np.nan_to_num(y)) ** 2)[ok].mean())
    return float(np.mean(errs))


def train_prior(clips: list[dict], dim: int) -> tuple[PriorNet, dict]:
    clips, val_clips = split_validation(clips)
    torch.manual_seed(SEED)
    rng = np.random.default_rng(SEED)
    network = PriorNet(dim, WIDTH)
    optimiser = torch.optim.Adam(network.parameters(), lr=2e-3, weight_decay=1e-4)
    # Sequences of SEQ_STEPS steps from the usable part of each clip; each clip weighted by length.
    starts = [(c, s) for c, clip in enumerate(clips)
              for s in range(0, max(1, len(clip["steps"]) - SEQ_STEPS), SEQ_STEPS // 4)
              if np.isfinite(clip["targets"][s:s + SEQ_STEPS, 0]).mean() > 0.5]
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, EPOCHS)
    losses, val_losses, best = [], [], (np.inf, None, 0)
    for epoch in range(EPOCHS):
        network.train()
        epoch_losses = []
        for b in range(0, len(starts), 8):
            batch = [starts[i] for i in rng.permutation(len(starts))[:8]]
            x = np.stack([_pad(clips[c]["steps"][s:s + SEQ_STEPS]) for c, s in batch])
            y = np.stack([_pad(clips[c]["targets"][s:s + SEQ_STEPS], np.nan) for c, s in batch])
            x_t = torch.from_numpy(x).transpose(1, 2)
            y_t = torch.from_numpy(y).transpose(1, 2)
            mask = torch.isfinite(y_t)
            pred = network(x_t)
            loss = ((pred - torch.nan_to_num(y_t)) ** 2)[mask].mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            epoch_losses.append(float(loss))
        sched.step()
        losses.append(float(np.mean(epoch_losses)))
        val_losses.append(validation_loss(network, val_clips))
        if val_losses[-1] < best[0]:
            best = (val_losses[-1], {k: v.clone() for k, v in network.state_dict().items()}, epoch + 1)
        log.info("epoch %d: loss %.4f, validation %.4f", epoch + 1, losses[-1], val_losses[-1])
    network.load_state_dict(best[1])
    return network.eval(), {"loss_first": losses[0], "loss_last": losses[-1], "epochs": EPOCHS,
                            "best_epoch": best[2], "validation_mse": round(best[0], 4),
                            "validation_mse_first": round(val_losses[0], 4)}


def _pad(a: np.ndarray, value: float = 0.0) -> np.ndarray:
    if len(a) >= SEQ_STEPS:
        return a[:SEQ_STEPS].astype(np.float32)
    pad = np.full((SEQ_STEPS - len(a),) + a.shape[1:], value, np.float32)
    return np.concatenate([a, pad]).astype(np.float32)


def licence_rows(data: Path, clips: list[str]) -> list[str]:
    """The data MANIFEST.md table rows of these clips (source, licence)."""
    lines = (data / "MANIFEST.md").read_text(encoding="utf-8").splitlines()
    header = [line for line in lines if line.startswith("| file |")][:1]
    rows = [line for line in lines if any(line.startswith(f"| {c} |") for c in clips)]
    return header + (["|" + "---|" * (header[0].count("|") - 1)] if header else []) + rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    repo = Path(__file__).resolve().parents[2]
    parser.add_argument("--data", type=Path, default=repo.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=PRIOR_DIR)
    parser.add_argument("--work", type=Path, default=Path("/tmp/speech-prior"))
    parser.add_argument("--leave-out", action="append", default=[], help="clip file stem to leave out")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", stream=sys.stderr)
    torch.set_num_threads(1)
    encoder = load_encoder()
    clips_used = [c for c in PRIOR_CLIPS if Path(c).stem not in args.leave_out]
    start = time.monotonic()
    material = []
    for clip in clips_used:
        log.info("clip %s", clip)
        material.append(clip_material(args.data / clip, args.work, encoder))
    network, figures = train_prior(material, encoder.dim)
    args.out.mkdir(parents=True, exist_ok=True)
    with atomic_path(args.out / WEIGHTS_FILE) as tmp:
        torch.save({k: v.detach().cpu() for k, v in network.state_dict().items()}, tmp)
    meta = {"encoder": encoder.name, "encoder_sha256": encoder.sha256, "dim": encoder.dim, "width": WIDTH,
            "outputs": list(OUTPUTS), "step_s": STEP_S, "clips": clips_used,
            "left_out": args.leave_out, "held_out_tails_excluded": True,
            "seconds_used": round(sum(m["used_s"] for m in material), 1),
            "build_s": round(time.monotonic() - start, 1), **figures}
    write_json(args.out / META_FILE, meta)
    write_text(args.out / "MANIFEST.md", "\n".join([
        "# Multi-speaker lip prior: where its weights come from", "",
        "Made by `python -m core.audio2exp.build_prior` from these clips of ../shared/data (their first",
        f"80 %; the held-out last 20 % of each is never used). {meta['seconds_used']} s of speech in all.",
        "Left out entirely: " + (", ".join(args.leave_out) or "none") + "; the short clips that",
        "`evaluate --voices` measures voice transfer on are never used: " + ", ".join(Path(c).name for c in VOICE_CLIPS) + ".",
        "Encoder: " + encoder.name + " (MIT weights).", "",
        *licence_rows(args.data, clips_used), ""]))
    log.info("prior written to %s (%s)", args.out, json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
