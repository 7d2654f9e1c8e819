"""Self-reenactment evaluation (paper, section 5): the held-out tail's own audio drives the model and
the output is compared with the real frames, beside a no-lip-sync baseline."""

from __future__ import annotations

import datetime as _dt
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.atomic import save_npz, write_json, write_text
from core.audio2exp import load_audio_model, predict_expressions
from core.audio2exp.av_offset import shift_audio
from core.audio2exp.features import frame_features
from core.audio2exp.phonemes import STEP_S, PhonemeError, load_recogniser
from core.audio2exp.visemes import bilabial_events, class_matrix
from core.dubbing.dub import FEATURE_RATE, OUTPUT_AUDIO_RATE, DubConfig, write_synthesized
from core.evaluation.voice_transfer import voice_transfer_job
from core.facerender.render import FaceRenderer
from core.holdout import holdout_start
from core.jobs import Job, ProgressClock, within
from core.landmarks import INNER_LIPS, OUTER_LIPS, mouth_opening
from core.lipsync_metrics import bilabial_recall, lip_closure
from core.lowerface import make_synthesizer, ready_variants
from core.media import VideoReader, VideoWriter, load_audio
from core.metrics import MouthSharpness, correlation, mean_abs_error, psnr, ssim
from core.project.provenance import synthetic_metadata
from core.tracking import load_tracking
from core.tracking.backends import MediapipeFaceMesh
from core.tracking.crop import crop_image, to_crop_coords

log = logging.getLogger(__name__)

EVAL_DIR = "evaluation"
OPENING_FILE = "mouth_opening.npz"  # frames, real, neural, draft: mouth opening over the held-out tail
LIP_POINTS = np.array(sorted(set(INNER_LIPS) | set(OUTER_LIPS)))
PAPER = {"ssim": "0.9754-0.9858 (with renderer), 0.9658-0.9743 (without)",
         "mae": "5.86-7.95 (of 255)"}


@dataclass(frozen=True)
class EvaluateConfig:
    """max_frames: longest held-out segment to measure (the paper used 1500 frames = 60 s)."""

    max_frames: int = 1500
    device: str = "auto"
    draft_too: bool = True
    voices: tuple = ()  # other talking videos for the voice-transfer figure (core/evaluation/voice_transfer.py)


@dataclass
class EvaluateResult:
    figures: dict[str, dict[str, float]]
    frames: int
    segment: tuple[int, int]
    folder: Path
    files: dict[str, str] = field(default_factory=dict)
    lip_closure: dict = field(default_factory=dict)
    voice_transfer: dict = field(default_factory=dict)
    bilabial_recall: dict = field(default_factory=dict)

    def describe(self) -> str:
        names = list(self.figures)
        keys = ["ssim_full", "mae_full", "psnr_full", "ssim_mouth", "psnr_mouth", "mouth_sharpness",
                "mouth_landmark_px", "mouth_opening_corr"]
        lines = [f"Self-reenactment on held-out frames {self.segment[0]}..{self.segment[1] - 1} "
                 f"({self.frames} frames)", "figure".ljust(22) + "".join(n.rjust(14) for n in names)]
        for k in keys:
            lines.append(k.ljust(22) + "".join(f"{self.figures[n].get(k, float('nan')):14.4f}" for n in names))
        if self.lip_closure:
            lines.append(f"lip closure: {self.lip_closure['share']:.1%} of {self.lip_closure['frames']} "
                         f"closed-lip frames during speech (within one frame: "
                         f"{self.lip_closure['share_within_1_frame']:.1%})")
        if self.bilabial_recall:
            lines.append(f"bilabial closure recall: {self.bilabial_recall['share']:.1%} of "
                         f"{self.bilabial_recall['frames']} p/b/m frames (within one frame: "
                         f"{self.bilabial_recall['share_within_1_frame']:.1%})")
        if self.voice_transfer:
            lines.append(f"voice transfer: mean r {self.voice_transfer['mean']:.3f} over "
                         f"{len(self.voice_transfer['clips'])} clips")
            lines += [f"  {name}: r {c['corr']:.3f} ({c['seconds']:.1f} s)"
                      for name, c in self.voice_transfer["clips"].items()]
        lines.append(f"paper: full-frame SSIM {PAPER['ssim']}; mean absolute error {PAPER['mae']}")
        if "draft" in self.figures:
            lines.append("note: the draft moves the real held-out frame's own mouth, so it starts from "
                         "the truth; its figures are optimistic beside the others'.")
        lines += [f"{k}: {v}" for k, v in self.files.items()]
        return "\n".join(lines)


class _SegmentScorer:
    """Accumulates per-frame figures of one candidate video against the real frames."""

    def __init__(self, tracking, masks: np.ndarray, indices: np.ndarray) -> None:
        self.tracking, self.masks, self.indices = tracking, masks, indices
        self.rows: list[dict[str, float]] = []
        self.opening: list[float] = []
        self.lip_px: list[float] = []
        self.sharpness = MouthSharpness()
        self._mesh = None

    def add(self, j: int, candidate: np.ndarray, real: np.ndarray) -> None:
        target = int(self.indices[j])
        box, size = self.tracking.boxes[target], self.tracking.crop_size
        row = {"ssim_full": ssim(candidate, real), "mae_full": mean_abs_error(candidate, real),
               "psnr_full": psnr(candidate, real)}
        if self.tracking.has_face[target]:
            mask = self.masks[j]
            c, r = crop_image(candidate, box, size), crop_image(real, box, size)
            row.update(ssim_mouth=ssim(c, r, mask), psnr_mouth=psnr(c, r, mask))
            self.sharpness.add(candidate, real, self.tracking.landmarks[target])
            if self._mesh is None:
                self._mesh = MediapipeFaceMesh(max_faces=1)
            faces = self._mesh.detect(candidate)
            truth = self.tracking.landmarks[target]
            if faces:
                lm = faces[0].landmarks
                self.opening.append(float(mouth_opening(lm)))
                a = to_crop_coords(lm[LIP_POINTS, :2], box, size)
                b = to_crop_coords(truth[LIP_POINTS, :2], box, size)
                self.lip_px.append(float(np.linalg.norm(a - b, axis=1).mean()))
            else:
                self.opening.append(np.nan)
        else:
            self.opening.append(np.nan)
        self.rows.append(row)

    def summary(self) -> dict[str, float]:
        out = {k: float(np.nanmean([r.get(k, np.nan) for r in self.rows])) for k in
               ("ssim_full", "mae_full", "psnr_full", "ssim_mouth", "psnr_mouth")}
        truth = np.array([float(mouth_opening(self.tracking.landmarks[int(i)])) for i in self.indices])
        out["mouth_landmark_px"] = float(np.mean(self.lip_px)) if self.lip_px else float("nan")
        out["mouth_opening_corr"] = correlation(np.array(self.opening, float), truth)
        out.update(self.sharpness.figures())
        if self._mesh is not None:
            self._mesh.close()
        return out


def _lip_closure(tracking, indices, predicted, segment, fps) -> dict:
    real = tracking.mouth_opening()[indices]
    gate = frame_features(segment, fps, len(indices)).gate
    return lip_closure(real, predicted, gate, fps)


def _bilabial_recall(tracking, indices, predicted, segment, fps) -> dict:
    """Bilabial closure recall on the held-out tail: p/b/m found by the phoneme recogniser on the
    real audio (core.lipsync_metrics.bilabial_recall); an empty dict when the recogniser is missing."""
    try:
        recogniser = load_recogniser()
    except PhonemeError as exc:
        log.warning("bilabial closure recall not measured: %s", exc)
        return {}
    events = bilabial_events(recogniser.posteriors(segment, class_matrix(recogniser.tokens)), STEP_S)
    return bilabial_recall(tracking.mouth_opening()[indices], predicted, events, fps)


def evaluate_job(project, config: EvaluateConfig = EvaluateConfig()) -> Job[EvaluateResult]:
    """Measure the trained models on the held-out tail; writes evaluation/ in the project."""
    tracking = load_tracking(project)
    reader = VideoReader(project.source_video)
    n = min(tracking.n_frames, reader.frame_count)
    start = holdout_start(n)
    length = min(n - start, config.max_frames)
    indices = np.arange(start, start + length)
    folder = project.path(EVAL_DIR)
    folder.mkdir(exist_ok=True)
    rate, out_rate = FEATURE_RATE, OUTPUT_AUDIO_RATE
    # the clip's own sound/picture offset, measured when the audio model trained, is the video's
    # defect, not the model's: the tail's speech drives the model as a synced voice would
    audio_model = load_audio_model(project)
    applied = float(audio_model.meta.metrics.get("av_offset_applied_s") or 0.0)
    speech = shift_audio(load_audio(project.source_video, rate), applied, rate)
    segment = speech[int(round(start / reader.fps * rate)):int(round((start + length) / reader.fps * rate))]
    audio_out = load_audio(project.source_video, out_rate, mono=False)
    audio_out = audio_out[:, int(round(start / reader.fps * out_rate)):int(round((start + length) / reader.fps * out_rate))]
    expressions = predict_expressions(project, segment, n_frames=length)
    predicted_opening = audio_model.mouth_opening(expressions)
    closure = _lip_closure(tracking, indices, predicted_opening, segment, reader.fps)
    bilabial = _bilabial_recall(tracking, indices, predicted_opening, segment, reader.fps)
    renderer = FaceRenderer(project, size=tracking.crop_size)
    masks = np.concatenate([
        renderer.render(indices[i:i + 16]).expanded_mask[:, 0].detach().cpu().numpy() > 0.5
        for i in range(0, length, 16)])

    modes = [m for m in ready_variants(project) if config.draft_too or m != "draft"]
    figures: dict[str, dict[str, float]] = {}
    files: dict[str, str] = {}
    openings = {"real": np.array([float(mouth_opening(tracking.landmarks[int(i)])) for i in indices],
                                 np.float32)}
    span_each = 0.9 / (len(modes) + 1)
    for k, mode in enumerate(modes):
        # copying variants never take a mouth from the held-out tail they are measured on
        synth = make_synthesizer(project, mode, device=config.device, exclude_from=start)
        scorer = _SegmentScorer(tracking, masks, indices)
        side_path = folder / f"side_by_side_{mode}.mp4"
        with VideoWriter(side_path, 2 * reader.width, reader.height, reader.fps, audio=audio_out,
                         audio_rate=OUTPUT_AUDIO_RATE, metadata=synthetic_metadata(mode, "held-out audio")) as side:
            def on_frame(j, frame, real, scorer=scorer, side=side):  # real: the held-out frame itself
                scorer.add(j, frame, real)
                side.write(np.concatenate([real, frame], axis=1))

            out = folder / f"generated_{mode}.mp4"
            yield from within(write_synthesized(
                project, reader, indices, expressions, synth, out, audio_out, OUTPUT_AUDIO_RATE,
                synthetic_metadata(mode, "held-out audio"), DubConfig(device=config.device),
                on_frame=on_frame), (k * span_each, (k + 1) * span_each))
        figures[mode] = scorer.summary()
        openings[mode] = np.array(scorer.opening, np.float32)
        files[f"generated ({mode})"] = str(out)
        files[f"real | generated ({mode})"] = str(side_path)

    baseline_start = max(0, start - length)
    base_idx = np.arange(baseline_start, baseline_start + length)
    scorer = _SegmentScorer(tracking, masks, indices)
    clock = ProgressClock("Scoring the baseline", length, (0.9 - span_each, 1.0))
    for j, (other, real) in enumerate(zip(reader.frames(baseline_start, baseline_start + length),
                                          reader.frames(start, start + length))):
        scorer.add(j, other, real)
        yield clock.step(j + 1)
    figures["baseline"] = scorer.summary()
    voices = {}
    if config.voices:
        voices = yield from voice_transfer_job(project, [Path(v) for v in config.voices], folder / "voices")

    result = EvaluateResult(figures=figures, frames=length, segment=(start, start + length),
                            folder=folder, files=files, lip_closure=closure, voice_transfer=voices,
                            bilabial_recall=bilabial)
    write_json(folder / "metrics.json", {"segment": [start, start + length], "frames": length,
                                         "figures": figures, "paper": PAPER,
                                         "lip_closure": closure, "bilabial_recall": bilabial or None,
                                         "voice_transfer": voices or None,
                                         "baseline": "the same person's real frames from the segment "
                                                     f"before ({baseline_start}..{baseline_start + length - 1})"})
    write_text(folder / "report.txt", result.describe() + "\n")
    save_npz(folder / OPENING_FILE, frames=indices, **openings)  # per frame, NaN where no face found
    project.manifest.setdefault("reports", {})["evaluation"] = {
        "figures": figures, "segment": [start, start + length], "measured_at": _dt.datetime.now(
            _dt.timezone.utc).isoformat(timespec="seconds")}  # later training makes these out of date
    project.save()
    return result
