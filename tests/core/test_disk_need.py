"""Disk: the sizes the stages write, from the array shapes, and the readiness warning before a stage
the free disk will not hold."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest

from core.project import disk_need
from core.prepare import ReadinessReport, _check_disk_for_renderer

TEN_MINUTES = 15_000  # frames at 25 fps


def test_ten_minute_1080p_target_fits_six_gb_at_the_cpu_crop_size():
    before = TEN_MINUTES * 320 * 320 * (3 + 3 + 1)  # crops + the old raw cache (cond + mask)
    after = disk_need.prepare_bytes(TEN_MINUTES, 320) + disk_need.renderer_cache_bytes(TEN_MINUTES, 320)
    assert before / 1e9 == pytest.approx(10.75, abs=0.01)
    assert after / 1e9 < 6.0


def report(frames: int, crop_px: int) -> ReadinessReport:
    return ReadinessReport(duration_s=frames / 25, frames=frames, face_share=1.0, face_px=300,
                           mouth_open_share=0.4, has_audio=True, crop_px=crop_px, crop_scale=1.0)


def test_readiness_warns_with_the_size_needed_when_the_disk_is_short(tmp_path, monkeypatch, caplog):
    project = SimpleNamespace(root=tmp_path)
    monkeypatch.setattr(disk_need, "free_bytes", lambda folder: 0.2e9)
    short = report(TEN_MINUTES, 320)
    with caplog.at_level(logging.WARNING, logger="core.project.disk_need"):
        _check_disk_for_renderer(project, short)
    need = disk_need.renderer_cache_bytes(TEN_MINUTES, 320) / 1e9
    assert f"about {need:.1f} GB and 0.2 GB are free" in short.advice[-1]
    assert "renderer training" in short.advice[-1] and short.advice[-1] in short.describe()
    assert any("Not enough free disk" in r.getMessage() for r in caplog.records)

    monkeypatch.setattr(disk_need, "free_bytes", lambda folder: 500e9)
    roomy = report(TEN_MINUTES, 320)
    _check_disk_for_renderer(project, roomy)
    assert roomy.advice == [] and "500.0 GB free" in roomy.describe()
