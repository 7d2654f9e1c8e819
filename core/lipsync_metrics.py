"""Lip-sync figures beyond the held-out tail: voice transfer and lip closure.

Voice transfer: no truth exists for the target saying another voice's words, so other people's
talking videos stand in: their audio drives the project's audio model, and the predicted mouth
opening (the model's mouth-opening probe on the predicted expressions) is correlated with the
mouth opening tracked on those videos' own faces.

Lip closure: among the held-out frames where the real lips are closed while the person is speaking
(p, b, m and the like), the share where the predicted mouth is closed too.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from scipy.ndimage import maximum_filter1d

from core.atomic import save_npz
from core.errors import DubError, MediaError
from core.jobs import Job, ProgressClock
from core.metrics import correlation

log = logging.getLogger(__name__)

SPEECH_HOLD_S = 0.3  # a frame within this of voiced audio counts as "during speech"
CLOSED_SPLIT = 0.15  # closed: below p5 + 15 % of the (p5..p95) range of the real openings


def tracked_opening(video: Path, cache_dir: Path | None = None) -> tuple[np.ndarray, float]:
    """Inner-lip gap over face height per frame of ``video`` (NaN without a face), and its fps.
    Cached in cache_dir by file name, size and mtime."""
    from core.media import VideoReader
    from core.tracking.backends import MediapipeFaceMesh
    from core.tracking.store import CHIN_BOTTOM, FOREHEAD_TOP, LOWER_INNER_LIP, UPPER_INNER_LIP

    stat = video.stat()
    cache = cache_dir / f"{video.stem}_{stat.st_size}_{int(stat.st_mtime)}.npz" if cache_dir else None
    if cache is not None and cache.exists():
        data = np.load(cache)
        return data["opening"], float(data["fps"])
    reader = VideoReader(video)
    mesh = MediapipeFaceMesh(max_faces=1)
    opening = []
    try:
        for frame in reader.frames():
            faces = mesh.detect(frame)
            if not faces:
                opening.append(np.nan)
                continue
            lm = faces[0].landmarks
            gap = np.linalg.norm(lm[UPPER_INNER_LIP, :2] - lm[LOWER_INNER_LIP, :2])
            opening.append(gap / max(np.linalg.norm(lm[FOREHEAD_TOP, :2] - lm[CHIN_BOTTOM, :2]), 1e-6))
    finally:
        mesh.close()
    out = np.asarray(opening, np.float32)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        save_npz(cache, opening=out, fps=np.float64(reader.fps))
    return out, float(reader.fps)


def voice_transfer_job(project, videos: list[Path], cache_dir: Path | None = None,
                       span: tuple[float, float] = (0.0, 1.0)) -> Job[dict]:
    """{"clips": {name: {"corr", "frames", "seconds"}}, "mean": float, "measure": str}."""
    from core.audio2exp import load_audio_model, predict_expressions
    from core.audio2exp.features import SAMPLE_RATE
    from core.media import load_audio

    model = load_audio_model(project)
    clock = ProgressClock("Voice transfer", len(videos), span)
    clips: dict[str, dict] = {}
    for k, video in enumerate(videos):
        video = Path(video)
        try:
            opening, fps = tracked_opening(video, cache_dir)
            samples = load_audio(video, SAMPLE_RATE)
        except (MediaError, OSError) as exc:
            raise DubError(f"{video}: cannot use it for voice transfer ({exc}). Give talking-head videos "
                           "with sound.") from exc
        if np.isfinite(opening).sum() < 10:
            raise DubError(f"{video}: no face found to compare with; give talking-head videos.")
        expressions = predict_expressions(project, samples)
        predicted = model.mouth_opening(expressions)
        times = np.arange(len(opening)) / fps
        at_frames = np.interp(times, np.arange(len(predicted)) / model.fps, predicted)
        clips[video.stem] = {"corr": correlation(at_frames, opening), "frames": int(np.isfinite(opening).sum()),
                             "seconds": round(len(samples) / SAMPLE_RATE, 2)}
        log.info("voice transfer %s: r %.3f", video.stem, clips[video.stem]["corr"])
        yield clock.step(k + 1, message=video.stem)
    values = [c["corr"] for c in clips.values() if np.isfinite(c["corr"])]
    return {"clips": clips, "mean": float(np.mean(values)) if values else float("nan"),
            "measure": "Pearson r: the model's mouth-opening probe on expressions predicted from the clip's "
                       "audio vs the inner-lip gap tracked on the clip's own face"}


def lip_closure(real: np.ndarray, predicted: np.ndarray, gate: np.ndarray, fps: float) -> dict:
    """real, predicted: (T,) mouth openings of the held-out frames (NaN = unknown); gate: (T,)
    speech gate. Returns {"share", "share_within_1_frame", "frames", "threshold"}."""
    real = np.asarray(real, float)
    predicted = np.asarray(predicted, float)
    ok = np.isfinite(real) & np.isfinite(predicted)
    if ok.sum() < 10:
        return {"share": float("nan"), "share_within_1_frame": float("nan"), "frames": 0, "threshold": float("nan")}
    p5, p95 = np.percentile(real[ok], [5, 95])
    threshold = float(p5 + CLOSED_SPLIT * (p95 - p5))
    hold = max(1, int(round(SPEECH_HOLD_S * fps)))
    speaking = maximum_filter1d((np.asarray(gate) > 0.5).astype(np.uint8), size=2 * hold + 1) > 0
    closed = ok & speaking & (real <= threshold)
    pred_closed = np.where(np.isfinite(predicted), predicted, np.inf) <= threshold
    near = maximum_filter1d(pred_closed.astype(np.uint8), size=3) > 0
    n = int(closed.sum())
    return {"share": float(pred_closed[closed].mean()) if n else float("nan"),
            "share_within_1_frame": float(near[closed].mean()) if n else float("nan"),
            "frames": n, "threshold": threshold,
            "measure": "held-out frames with the real lips closed (tracked gap below p5 + 15 % of its "
                       "p5..p95 range) within 0.3 s of voiced audio; predicted: the mouth-opening probe "
                       "on the predicted expressions, same threshold"}


BILABIAL_SEARCH_S = (-0.20, 0.04)  # where the lips meet around the recogniser's p/b/m spike


def bilabial_recall(real: np.ndarray, predicted: np.ndarray, events: np.ndarray | None, fps: float) -> dict:
    """Bilabial closure recall over a stretch of frames (frame i centred at i / fps).

    real, predicted: (T,) mouth openings (NaN = unknown); events: times (s) of the p/b/m the phoneme
    recogniser found on the stretch's real audio. For each event, its bilabial frame is the frame
    of the tightest real lips from 200 ms before to 40 ms after the spike (the recogniser fires near
    the release, after the lips met); recall is the share of those frames where the prediction is
    closed (below the lip_closure threshold of the real openings). Returns {"share",
    "share_within_1_frame", "frames", "events", "threshold", "measure"}.
    """
    real = np.asarray(real, float)
    predicted = np.asarray(predicted, float)
    nan = float("nan")
    ok = np.isfinite(real)
    if events is None or ok.sum() < 10:
        return {"share": nan, "share_within_1_frame": nan, "frames": 0, "events": 0, "threshold": nan}
    p5, p95 = np.percentile(real[ok], [5, 95])
    threshold = float(p5 + CLOSED_SPLIT * (p95 - p5))
    frames = set()
    for e in np.asarray(events, float):
        lo = max(0, int(np.ceil((e + BILABIAL_SEARCH_S[0]) * fps)))
        hi = min(len(real) - 1, int(np.floor((e + BILABIAL_SEARCH_S[1]) * fps)))
        if hi < lo or not np.isfinite(real[lo:hi + 1]).any():
            continue
        frames.add(lo + int(np.nanargmin(real[lo:hi + 1])))
    idx = np.array(sorted(frames), int)
    pred_closed = np.where(np.isfinite(predicted), predicted, np.inf) <= threshold
    near = maximum_filter1d(pred_closed.astype(np.uint8), size=3) > 0
    n = len(idx)
    return {"share": float(pred_closed[idx].mean()) if n else nan,
            "share_within_1_frame": float(near[idx].mean()) if n else nan,
            "frames": n, "events": int(len(events)), "threshold": threshold,
            "measure": "per p/b/m the phoneme recogniser finds in the real audio, the frame of the tightest "
                       "real lips within -200..+40 ms of it; share of those frames predicted closed (mouth "
                       "probe at or below the lip-closure threshold of the real openings)"}


PAUSE_MIN_S = 0.3  # a pause: no voiced audio for at least this long


def speech_motion_share(opening: np.ndarray, gate: np.ndarray, fps: float, threshold: float) -> dict:
    """How a dub's mouth follows its speech: among the frames with voiced audio and the frames inside
    pauses (no voiced audio within a PAUSE_MIN_S window around them, i.e. about half of it on each
    side), the share where the mouth is open (opening above ``threshold``, the target's closed-lip
    level) on voice and closed in pauses.

    opening: (T,) mouth openings of the dub's frames (NaN = unknown); gate: (T,) speech gate of its
    audio. Returns {"share", "voiced_open", "pause_closed", "voiced_frames", "pause_frames"}.
    """
    opening = np.asarray(opening, float)
    voiced = np.asarray(gate) > 0.5
    run = max(1, int(round(PAUSE_MIN_S * fps)))
    near_voice = maximum_filter1d(voiced.astype(np.uint8), size=run, mode="nearest") > 0
    pause = ~near_voice
    ok = np.isfinite(opening)
    is_open = np.where(ok, opening, -np.inf) > threshold
    v, p = voiced & ok, pause & ok
    nan = float("nan")
    n = int(v.sum() + p.sum())
    return {"share": float((is_open[v].sum() + (~is_open[p]).sum()) / n) if n else nan,
            "voiced_open": float(is_open[v].mean()) if v.any() else nan,
            "pause_closed": float((~is_open[p]).mean()) if p.any() else nan,
            "voiced_frames": int(v.sum()), "pause_frames": int(p.sum())}
