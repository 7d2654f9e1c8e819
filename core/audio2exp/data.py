"""Training material from the project: the target's own audio features and fitted expressions."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from core.atomic import load_npz
from core.audio2exp.av_offset import AvOffset, measure_offset, shift_audio
from core.audio2exp.features import SAMPLE_RATE, AudioFeatureConfig
from core.audio2exp.phoneme_rows import phoneme_class_steps
from core.audio2exp.phonemes import PhonemeError
from core.audio2exp.speech import CACHE_DIR, features_for
from core.errors import DubError, MediaError, ProjectError
from core.holdout import holdout_start
from core.media import load_audio
from core.tracking import load_tracking

log = logging.getLogger(__name__)

FACE_PARAMS_FILE = "face_params.npz"
MIN_TRAIN_FRAMES = 50


@dataclass(frozen=True)
class TrainingData:
    """rows float32 (N, F) audio features per frame; gate float32 (N,) in [0, 1]; expression
    float32 (N, K) fitted; has_face bool (N,); opening float32 (N,) tracked inner-lip gap over face
    height (NaN where unknown); fps of the video; train / val: int64 frame indices (faces only,
    val = the held-out tail)."""

    rows: np.ndarray
    gate: np.ndarray
    expression: np.ndarray
    has_face: np.ndarray
    opening: np.ndarray
    fps: float
    train: np.ndarray
    val: np.ndarray
    bilabial: np.ndarray | None = None  # p/b/m spike times (s) found in the audio; None without phonemes
    av_offset: AvOffset = AvOffset()  # the clip's own audio/video offset, removed from the rows (av_offset.py)

    @property
    def n_exp(self) -> int:
        return int(self.expression.shape[1])


def load_fitted_expressions(project) -> tuple[np.ndarray, np.ndarray]:
    """(expression float32 (N, K), has_face bool (N,)) from face_params.npz."""
    path = project.path(FACE_PARAMS_FILE)
    if not path.exists():
        raise ProjectError(f"{project.root}: the face model has not been fitted yet "
                           f"({FACE_PARAMS_FILE} is missing). Run 'prepare' first.")
    try:
        params = load_npz(path)
        expression = params["expression"].astype(np.float32)
        has_face = params["has_face"].astype(bool)
    except (OSError, KeyError, ValueError) as exc:
        raise ProjectError(f"{path}: the fitted face parameters are damaged ({exc}). "
                           "Run 'prepare' again.") from exc
    if expression.ndim != 2 or has_face.shape != (expression.shape[0],):
        raise ProjectError(f"{path}: expression {expression.shape} and has_face {has_face.shape} "
                           "do not match. Run 'prepare' again.")
    has_face &= np.all(np.isfinite(expression), axis=1)
    return expression, has_face


def project_fps_and_opening(project, n_frames: int) -> tuple[float, np.ndarray]:
    """The video's fps and the tracked mouth opening (N,) (NaN if tracking is unavailable)."""
    try:
        tracking = load_tracking(project)
    except ProjectError:
        fps = float(project.source_info.get("fps") or 0.0)
        if fps <= 0:
            raise
        log.warning("no tracking in %s: training without the mouth-opening probe", project.root)
        return fps, np.full(n_frames, np.nan, np.float32)
    opening = tracking.mouth_opening()
    if opening.shape[0] != n_frames:
        raise ProjectError(f"{project.root}: tracking has {opening.shape[0]} frames but the fitted "
                           f"parameters have {n_frames}. Run 'prepare' again.")
    return float(tracking.fps), opening


def measure_av_offset(samples: np.ndarray, opening: np.ndarray, fps: float, train: np.ndarray,
                      features: AudioFeatureConfig, cache_dir) -> AvOffset:
    """The clip's audio/video offset on the training frames (av_offset.py); none without the
    phoneme recogniser."""
    try:
        classes = phoneme_class_steps(samples, features, cache_dir)
    except PhonemeError as exc:
        return AvOffset(note=f"audio/video offset not measured: {exc}")
    return measure_offset(classes, opening, fps, train)


def load_training_data(project, features: AudioFeatureConfig, holdout: float, sync: bool = True) -> TrainingData:
    """Features of the project's own audio at its frame times, paired with the fitted expressions.

    holdout: share (0..0.5) of the video at its end kept for validation (core.holdout: the same
    tail the renderer never trains on and evaluate measures). sync: measure the clip's own
    audio/video offset on the training frames and learn from the audio moved by it.
    Raises ProjectError / MediaError with advice when the project lacks what training needs.
    """
    if not 0.0 < holdout <= 0.5:
        raise ValueError(f"holdout must be in (0, 0.5], got {holdout}")
    expression, has_face = load_fitted_expressions(project)
    n = expression.shape[0]
    fps, opening = project_fps_and_opening(project, n)
    try:
        samples = load_audio(project.source_video, SAMPLE_RATE)
    except MediaError as exc:
        raise MediaError(f"{exc} The audio model learns from the person's own speech in the video, "
                         "so the target video needs its original sound.") from exc
    faces = np.flatnonzero(has_face)
    boundary = holdout_start(n, holdout)
    train, val = faces[faces < boundary], faces[faces >= boundary]
    if len(train) < MIN_TRAIN_FRAMES or len(val) < 5:
        raise DubError(f"Only {len(faces)} frames show the face: too few to learn lip motion. "
                       "Use a longer clip (1 to 3 minutes of speech is ideal).")
    offset = AvOffset()
    if sync:
        offset = measure_av_offset(samples, opening, fps, train, features, project.path(CACHE_DIR))
        log.info("audio/video offset: sound %+.0f ms against the picture (r %.2f), %+.0f ms removed%s",
                 1000 * offset.offset_s, offset.corr, 1000 * offset.applied_s, f"; {offset.note}" if offset.note else "")
        samples = shift_audio(samples, offset.applied_s, SAMPLE_RATE)
    feats = features_for(samples, fps, n, features, project.path(CACHE_DIR))
    if feats.voiced_share < 0.05:
        raise DubError("The video's sound track is (almost) silent, so there is no speech to learn the "
                       "mouth from. Use a video where the person talks.")
    return TrainingData(rows=feats.rows, gate=feats.gate, expression=expression, has_face=has_face,
                        opening=opening, fps=fps, train=train, val=val, bilabial=feats.bilabial,
                        av_offset=offset)
