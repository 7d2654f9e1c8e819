"""The fitting stage: build (or load) the face model and fit every frame; writes face_model.npz
and face_params.npz and records the stage "fitting"."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import DubError
from core.facemodel import topology as topo
from core.facemodel.bfm import fit_bfm_identity, load_bfm
from core.facemodel.model import MODEL_FILE, FaceModel
from core.facemodel.person import build_person_model
from core.facerender.render import FaceRenderer
from core.fitting import closed_form as cf
from core.facemodel.params import PARAMS_FILE, FaceParams
from core.fitting.refine import refine
from core.fitting.smoothing import fill_gaps, smooth_series
from core.jobs import Job, ProgressClock
from core.tracking import load_crops, load_tracking

log = logging.getLogger(__name__)

STAGE = "fitting"


@dataclass(frozen=True)
class FitConfig:
    """model: "mediapipe" (person-specific, built from the video) or "bfm" (needs bfm_path, a
    BFM_model_front.mat). n_exp: expression components of the person-specific model.
    exp_reg: weight of the Gaussian prior on the expression (relative to the landmark term).
    smooth_expression / smooth_pose / smooth_light: temporal smoothness weights (0 = off); the
    expression's is relative to the landmark term's typical curvature, the others weigh squared
    frame-to-frame differences against squared deviations from the per-frame estimate.
    identity_frames: frames the person-specific model's albedo is taken from (the BFM's identity
    and reflectance use 8 frames, as in the paper).
    subdivisions: 1 -> 4 splits of the person-specific mesh for rendering (albedo detail).
    refine_steps: Adam steps of the analysis-by-synthesis refinement per chunk of frames (0 = off).
    refine_pixels: its photometric term over rasterised pixels (128 px) instead of at the visible
    vertices: slower on the CPU (see core.fitting.refine)."""

    model: str = "mediapipe"
    bfm_path: str | None = None
    n_exp: int = 48
    exp_reg: float = 0.01
    smooth_expression: float = 0.1
    smooth_pose: float = 1.0
    smooth_light: float = 4.0
    identity_frames: int = 48
    subdivisions: int = 1
    refine_steps: int = 4
    refine_pixels: bool = False

    def __post_init__(self) -> None:
        if self.model not in ("mediapipe", "bfm"):
            raise ValueError(f"model must be 'mediapipe' or 'bfm', not {self.model!r}")
        if self.model == "bfm" and not self.bfm_path:
            raise DubError("The Basel Face Model was chosen but no file was given: set the path of "
                           "your BFM_model_front.mat, or use the built-in model.")


@dataclass
class FitResult:
    """metrics: landmark_error_px / mouth_landmark_error_px (mean 2D distance, crop pixels),
    photometric_error (mean absolute, 0-255, inside the rendered face mask, 12 frames),
    vertex_photometric_error (the same at the visible vertices of up to 200 frames),
    pose_range_deg [yaw, pitch, roll] (max - min over the face frames), ms_per_frame (wall clock
    of the whole stage over all frames), frames, face_frames, n_exp, model."""

    model_path: Path
    params_path: Path
    metrics: dict[str, Any] = field(default_factory=dict)
    skipped: bool = False

    def describe(self) -> str:
        m = self.metrics
        text = (f"Face fit of {m.get('face_frames')} / {m.get('frames')} frames: landmark error "
                f"{m.get('landmark_error_px', float('nan')):.2f} px (mouth {m.get('mouth_landmark_error_px', float('nan')):.2f} px), "
                f"colour error {m.get('photometric_error', float('nan')):.1f} / 255, head turns "
                "yaw {:.0f}, pitch {:.0f}, roll {:.0f} deg, ".format(*m.get("pose_range_deg", [0, 0, 0]))
                + f"{m.get('ms_per_frame', float('nan')):.1f} ms per frame")
        return text + (" (already up to date)" if self.skipped else "")


def fit_job(project, config: FitConfig = FitConfig()) -> Job[FitResult]:
    """Fit the face model to every tracked frame. Skips the work when the stage is current.

    Reads tracking.npz and crops.npy; raises ProjectError if they are missing, DubError if too
    few frames show a face or the BFM file is unusable.
    """
    settings = asdict(config)
    key, _ = project.stage_key(settings, ("tracking",))
    model_path, params_path = project.path(MODEL_FILE), project.path(PARAMS_FILE)
    rec = project.stage(STAGE)
    if project.is_current(STAGE) and rec.key == key and model_path.exists() and params_path.exists():
        return FitResult(model_path, params_path, dict(rec.metrics), skipped=True)

    tracking = load_tracking(project)
    crops = load_crops(project)
    start = time.perf_counter()
    project.set_stage(STAGE, "running", settings=settings, inputs=("tracking",))
    try:
        phases: dict[str, float] = {}
        tick = time.perf_counter()

        def lap(name: str) -> None:
            nonlocal tick
            now = time.perf_counter()
            phases[name] = round(1000 * (now - tick) / tracking.n_frames, 2)
            tick = now

        yield ProgressClock("Building the face model", 4).step(0)
        model = _build_model(tracking, crops, config)
        lap("model")
        yield ProgressClock("Fitting pose and expression", 4).step(1)
        observed = _observed_landmarks(tracking, model)
        has_face = tracking.has_face.copy()
        coarse = cf.fitting_mesh(model)
        rot, scale, trans, exp = cf.fit_geometry(
            coarse, observed, has_face, reg=config.exp_reg,
            smooth_expression=config.smooth_expression, smooth_pose=config.smooth_pose)
        lap("geometry")
        sh, photo = yield from _fit_lighting(coarse, crops, has_face, rot, scale, trans, exp, config)
        lap("lighting")
        if config.refine_steps > 0:
            clock = ProgressClock("Refining the fit", len(has_face), (0.6, 0.95))
            steps = refine(coarse, crops, has_face, observed, rot, scale, trans, exp, sh, config.refine_steps,
                           pixels=config.refine_pixels)
            rot, scale, trans, exp, sh = yield from _drive(steps, clock)
            photo = cf.photometric_error(coarse, crops, has_face, rot, scale, trans, exp, sh)
            lap("refine")
        euler, ranges = cf.pose_range(rot, has_face)
        mouth_ids = np.flatnonzero(np.isin(model.landmark_ids, topo.mouth_landmarks()))
        err, mouth_err = cf.landmark_errors(coarse, observed, has_face, rot, scale, trans, exp, mouth_ids)
        params = FaceParams(expression=exp.astype(np.float32), has_face=has_face,
                            rotation=rot.astype(np.float32), scale=scale.astype(np.float32),
                            translation=trans.astype(np.float32), sh=sh, euler_deg=euler,
                            crop_size=int(tracking.crop_size))
        model.save(model_path)
        params.save(params_path)
        pixel_photo = _pixel_photometric_error(project, crops, has_face)
        lap("save_and_metrics")
    except BaseException as exc:
        project.set_stage(STAGE, "cancelled" if isinstance(exc, GeneratorExit) else "failed",
                          message=str(exc) or type(exc).__name__)
        raise
    n = tracking.n_frames
    metrics = dict(landmark_error_px=err, mouth_landmark_error_px=mouth_err, photometric_error=pixel_photo,
                   vertex_photometric_error=photo,
                   pose_range_deg=ranges, ms_per_frame=1000 * (time.perf_counter() - start) / n,
                   frames=n, face_frames=int(has_face.sum()), n_exp=model.n_exp, model=model.kind,
                   ms_per_frame_by_phase=phases)
    project.set_stage(STAGE, "done", settings=settings, inputs=("tracking",), metrics=metrics)
    result = FitResult(model_path, params_path, metrics)
    log.info("%s", result.describe())
    yield ProgressClock("Fitting done", 1).step(1, losses={"landmark_px": err})
    return result


def _build_model(tracking, crops, config: FitConfig) -> FaceModel:
    if config.model == "bfm":
        bfm = load_bfm(Path(config.bfm_path))
        return fit_bfm_identity(bfm, tracking, crops, n_frames=8)

    return build_person_model(tracking.landmarks_crop, tracking.has_face, crops, n_exp=config.n_exp,
                              albedo_frames=config.identity_frames, subdivisions=config.subdivisions)


def _observed_landmarks(tracking, model: FaceModel) -> np.ndarray:
    """float32 (N, L, 3) crop-pixel landmarks in the order of model.landmark_ids."""
    return tracking.landmarks_crop[:, model.landmark_ids]


def _pixel_photometric_error(project, crops, has_face, n_frames: int = 12) -> float:
    """Mean absolute colour error (0-255) of the rendered face against the crop inside the face
    mask, over ``n_frames`` evenly spread face frames."""
    face = np.flatnonzero(has_face)
    pick = face[np.linspace(0, len(face) - 1, min(n_frames, len(face))).round().astype(int)]
    out = FaceRenderer(project).render(pick)  # single-threaded on the CPU by itself
    image = out.image.permute(0, 2, 3, 1).numpy()
    mask = out.face_mask[:, 0].numpy() > 0
    real = np.stack([np.asarray(crops[f]) for f in pick]).astype(np.float32) / 255
    return float(np.abs(image - real)[mask].mean() * 255) if mask.any() else float("nan")


def _drive(steps, clock):
    """Run a generator that yields frames done and returns a result, as progress records."""
    while True:
        try:
            done = next(steps)
        except StopIteration as stop:
            return stop.value
        yield clock.step(done)


def _fit_lighting(model, crops, has_face, rot, scale, trans, exp, config: FitConfig):
    n = len(has_face)
    sh = np.tile(np.asarray(cf.AMBIENT_SH), (n, 1)).astype(np.float64)
    errors = []
    clock = ProgressClock("Fitting the lighting", n, (0.25, 0.6))
    face = np.flatnonzero(has_face)
    last = time.monotonic()
    for start in range(0, len(face), 64):
        chunk = face[start:start + 64]
        verts, normals = cf.camera_mesh(model, rot[chunk], scale[chunk], trans[chunk], exp[chunk])
        for j, i in enumerate(chunk):
            sh[i], e = cf.fit_lighting(model, np.asarray(crops[i]), verts[j], normals[j])
            errors.append(e)
        if time.monotonic() - last > 0.5:
            last = time.monotonic()
            yield clock.step(int(chunk[-1]) + 1)

    sh = smooth_series(fill_gaps(sh, has_face), config.smooth_light)
    photo = float(np.nanmean(errors)) if errors else float("nan")
    return sh.astype(np.float32), photo
