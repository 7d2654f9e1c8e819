"""Which lower face to use for a project, from its own measurements (``evaluate``'s figures)."""

from __future__ import annotations

from dataclasses import dataclass

from core.lowerface.registry import VARIANTS

MIN_SHARPNESS = 0.5  # below half the video's mouth sharpness a result looks soft, whatever its PSNR


@dataclass(frozen=True)
class Advice:
    variant: str
    reason: str

    def describe(self) -> str:
        return f"Measured best for this project: {VARIANTS[self.variant].label} ({self.reason})."


def measured_best(figures: dict[str, dict[str, float]]) -> Advice | None:
    """The variant with the highest mouth PSNR on the held-out frames among those at least
    MIN_SHARPNESS as sharp as the video (all, if none is). The draft is left out: it moves the
    held-out frame's own mouth, so its figures start from the truth. None without figures."""
    measured = {n: f for n, f in figures.items() if n in VARIANTS and n != "draft" and "psnr_mouth" in f}
    if not measured:
        return None
    sharp = {n: f for n, f in measured.items() if f.get("mouth_sharpness", 1.0) >= MIN_SHARPNESS}
    pool = sharp or measured
    best = max(pool, key=lambda n: pool[n]["psnr_mouth"])
    f = pool[best]
    reason = f"mouth PSNR {f['psnr_mouth']:.1f} dB"
    if "mouth_sharpness" in f:
        reason += f", mouth sharpness {f['mouth_sharpness']:.2f} of the video's"
    return Advice(best, reason)


def advice_for(project) -> Advice | None:
    """The advice from the project's stored evaluation, if any."""
    stored = (project.manifest.get("reports") or {}).get("evaluation") or {}
    return measured_best(stored.get("figures") or {})
