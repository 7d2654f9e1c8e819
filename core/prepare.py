"""The prepare job: track the face, fit the 3D face model, index the person's own mouths, and
report whether the clip is good training material."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.audio2exp.speech import features_note
from core.crop_size import AUTO, crop_cap
from core.fitting.job import FitConfig, fit_job
from core.jobs import Job, within
from core.lowerface.samples.index import build_sample_index_job, index_is_current
from core.media import VideoReader
from core.project import disk_need
from core.tracking import TrackingConfig, tracking_job
from core.tracking.store import CROPS_FILE

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PrepareConfig:
    """crop_size: pixels, or AUTO (the face's own size up to the cap of ``profile``; see
    core.crop_size). profile: 'auto', 'cpu' or 'gpu', the renderer profile the crops are cut for."""

    backend: str = TrackingConfig.backend
    crop_size: int = AUTO
    allow_download: bool = True
    profile: str = "auto"

    def tracking(self) -> TrackingConfig:
        return TrackingConfig(backend=self.backend, crop_size=self.crop_size,
                              allow_download=self.allow_download, profile=self.profile)


@dataclass
class ReadinessReport:
    """What the prepared clip offers for training, in figures and in plain words."""

    duration_s: float
    frames: int
    face_share: float
    face_px: float
    mouth_open_share: float
    has_audio: bool
    fit_metrics: dict[str, Any] = field(default_factory=dict)
    verdict: str = ""
    advice: list[str] = field(default_factory=list)
    speech_features: str = ""
    crop_px: int = 0  # side of the face crops (0: a report from before it was recorded)
    crop_scale: float = 0.0  # crop pixels per video pixel (1 = the face at its own resolution)
    disk_note: str = ""  # what renderer training will write and whether the free disk holds it

    def describe(self) -> str:
        lines = [
            f"Clip: {self.duration_s:.1f} s, {self.frames} frames",
            f"Face found in {self.face_share:.0%} of frames; face about {self.face_px:.0f} px tall",
            f"Mouth visibly open in {self.mouth_open_share:.0%} of frames",
        ]
        if self.crop_px:
            how = ("the face's own resolution" if 0.9 <= self.crop_scale <= 1.1 else
                   "small face enlarged" if self.crop_scale > 1.1 else "reduced to the renderer's cap")
            lines.append(f"Face crops: {self.crop_px} px ({self.crop_scale:.2f} crop pixels per video pixel: "
                         f"{how})")
        pose = self.fit_metrics.get("pose_range_deg")
        if pose:
            lines.append("Head turns: yaw {:.0f} deg, pitch {:.0f} deg, roll {:.0f} deg".format(*pose))
        err = self.fit_metrics.get("landmark_error_px")
        if err is not None:
            lines.append(f"3D fit: landmark error {err:.2f} px"
                         + (f" (mouth {self.fit_metrics['mouth_landmark_error_px']:.2f} px)"
                            if "mouth_landmark_error_px" in self.fit_metrics else ""))
        if self.speech_features:
            lines.append(self.speech_features)
        if self.disk_note:
            lines.append(self.disk_note)
        lines.append(f"Verdict: {self.verdict}")
        lines += [f"  - {a}" for a in self.advice]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def readiness(tracking, has_audio: bool, fit_metrics: dict[str, Any], crop_scale: float) -> ReadinessReport:
    n = tracking.n_frames
    duration = n / tracking.fps
    face_share = float(tracking.has_face.mean())
    box_px = float(np.median(tracking.boxes[tracking.has_face, 2])) if face_share else 0.0
    face_px = box_px / crop_scale
    opening = tracking.mouth_opening()
    # 0.03 of the face height: lips visibly apart (closed lips measure below 0.01).
    mouth_open = float(np.nanmean(opening[tracking.has_face] > 0.03)) if face_share else 0.0
    advice: list[str] = []
    severity = 0
    if not has_audio:
        advice.append("The video has no sound: the audio model learns from the person's own speech. "
                      "Use a video with its original audio.")
        severity = 2
    if duration < 20:
        advice.append(f"The clip is short ({duration:.0f} s). 1 to 3 minutes of continuous speech train "
                      "far better models.")
        severity = max(severity, 2 if duration < 8 else 1)
    elif duration < 60:
        advice.append("Over a minute of speech gives better lip sync; 1 to 3 minutes is ideal.")
        severity = max(severity, 1)
    if face_share < 0.9:
        advice.append(f"The face is missing in {1 - face_share:.0%} of frames; those frames are left "
                      "untouched and not used for training.")
        severity = max(severity, 1 if face_share > 0.5 else 2)
    if face_px < 100:
        advice.append(f"The face is small ({face_px:.0f} px). Use a closer shot or a higher resolution "
                      "for sharp teeth and lips.")
        severity = max(severity, 1)
    if mouth_open < 0.15:
        advice.append("The mouth is rarely open: use footage where the person speaks throughout.")
        severity = max(severity, 1)
    pose = fit_metrics.get("pose_range_deg")
    if pose and max(pose[:2]) > 45:
        advice.append("The head turns a lot; frontal footage gives the most reliable mouths.")
        severity = max(severity, 1)
    verdict = ("Good training material." if severity == 0 else
               "Usable, with limits (see below)." if severity == 1 else
               "Poor training material: expect weak results (see below).")
    return ReadinessReport(duration_s=duration, frames=n, face_share=face_share, face_px=face_px,
                           mouth_open_share=mouth_open, has_audio=has_audio, fit_metrics=fit_metrics,
                           verdict=verdict, advice=advice, crop_px=int(tracking.crop_size),
                           crop_scale=tracking.crop_size / box_px if box_px else 0.0)


def prepare_job(project, config: PrepareConfig = PrepareConfig()) -> Job[ReadinessReport]:
    """Track, fit, and report. Each stage resumes or is skipped when already current."""
    tracking_config = config.tracking()
    _check_disk_for_tracking(project, tracking_config)
    tracking = yield from tracking_job(project, tracking_config, span=(0.0, 0.6))
    fit_result = yield from within(fit_job(project, FitConfig()), (0.6, 0.95))

    if not index_is_current(project):  # the person's own mouths, for the sample-based lower face
        yield from build_sample_index_job(project, span=(0.95, 0.99))
    metrics = dict(getattr(fit_result, "metrics", {}) or {})
    report = readiness(tracking, bool(project.source_info.get("has_audio")), metrics,
                       tracking_config.crop_scale)

    report.speech_features = features_note(project)
    _check_disk_for_renderer(project, report)
    project.manifest.setdefault("reports", {})["readiness"] = report.to_json()
    project.save()
    return report


def _check_disk_for_tracking(project, tracking_config) -> None:
    """Before tracking writes the crops: warn (log) when the free disk will not hold them (the crop
    side is not known before tracking: the chosen one, or the profile's cap for 'auto')."""
    if project.path(CROPS_FILE).exists():
        return
    try:
        n = VideoReader(project.source_video).frame_count
    except Exception:  # noqa: BLE001 - tracking reports an unreadable video itself
        return
    crop_px = tracking_config.crop_size or crop_cap(tracking_config.profile)
    disk_need.check("prepare (the face crops)", disk_need.prepare_bytes(n, crop_px), project.root)


def _check_disk_for_renderer(project, report: ReadinessReport) -> None:
    """The next stage that writes much is renderer training (its cache): say what it needs."""
    need = disk_need.check("renderer training (its cache)",
                           disk_need.renderer_cache_bytes(report.frames, report.crop_px), project.root)
    report.disk_note = (f"Disk: renderer training writes about {need.need_bytes / disk_need.GB:.1f} GB; "
                        f"{need.free_bytes / disk_need.GB:.1f} GB free")
    if not need.fits:
        report.advice.append(need.warning())
