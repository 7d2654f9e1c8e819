"""Fixtures of the renderer tests: a tracked 5 s clip and a face renderer stand-in."""

from __future__ import annotations

import pytest

from core.jobs import run_job
from core.project import Project
from core.renderer import RendererTrainConfig
from core.tracking import TrackingConfig, tracking_job
from tests.conftest import copy_project
from tests.renderer.fakes import LandmarkFaceRenderer


@pytest.fixture(scope="session")
def tracked_project(tmp_path_factory, short_video):
    """The 5 s clip after tracking only (crops.npy + tracking.npz). Never modify it."""
    project = Project.create(tmp_path_factory.mktemp("tracked") / "face5", short_video, consent=True)
    run_job(tracking_job(project, TrackingConfig()))
    return project


@pytest.fixture
def tracked_copy(tracked_project, tmp_path):
    return copy_project(tracked_project, tmp_path / "project")


@pytest.fixture
def tiny_config():
    """A small network on 64 px lower-face windows: a few steps take well under a second each.
    One thread: the automatic choice would spend most of such a short run measuring."""
    return RendererTrainConfig(renderer="paper", size=64, ngf=8, ndf=8, batch_size=4, minutes=None, steps=40,
                               eval_every=10, val_frames=8, checkpoint_every_s=1e9, cpu_threads=1)


def fake_renderer(project):
    return LandmarkFaceRenderer(project)
