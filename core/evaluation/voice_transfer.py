"""Voice transfer: no truth exists for the target saying another voice's words, so other people's
talking videos stand in: their audio drives the project's audio model, and the predicted mouth
opening (the model's mouth-opening probe on the predicted expressions) is correlated with the
mouth opening tracked on those videos' own faces."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from core.atomic import save_npz
from core.audio2exp import load_audio_model, predict_expressions
from core.audio2exp.features import SAMPLE_RATE
from core.errors import DubError, MediaError
from core.jobs import Job, ProgressClock
from core.landmarks import mouth_opening
from core.media import VideoReader, load_audio
from core.metrics import correlation
from core.tracking.backends import MediapipeFaceMesh

log = logging.getLogger(__name__)


def tracked_opening(video: Path, cache_dir: Path | None = None) -> tuple[np.ndarray, float]:
    """Inner-lip gap over face height per frame of ``video`` (NaN without a face), and its fps.
    Cached in cache_dir by file name, size and mtime."""
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
            opening.append(mouth_opening(faces[0].landmarks))
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
