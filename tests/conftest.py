"""Shared fixtures: the real media in ../shared/data, and offscreen Qt."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = (REPO.parent / "shared" / "data").resolve()


def media(relative: str) -> Path:
    """A file under ../shared/data; the test is skipped with a clear reason only if data is absent."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.fail(f"test media missing: {path} (the suite reads ../shared/data beside the repository)")
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    return SHARED_DATA


@pytest.fixture(scope="session")
def short_video() -> Path:
    """5 s, 524x524, 25 fps, a woman talking, AAC audio."""
    return media("video/videoretalking__face_5.mp4")


@pytest.fixture(scope="session")
def vfr_video() -> Path:
    """6.1 s, 700x700, variable frame rate (nominal 30 fps)."""
    return media("video/videoretalking__face_1.mp4")


@pytest.fixture(scope="session")
def speech_wav() -> Path:
    return media("audio/videoretalking__audio_2.wav")


@pytest.fixture(scope="session")
def prepared_project(tmp_path_factory, short_video):
    """A project of the 5 s clip after the whole prepare stage. Shared: never modify it; use
    ``project_copy`` for tests that write into a project."""
    from core.jobs import run_job
    from core.prepare import PrepareConfig, prepare_job
    from core.project import Project

    project = Project.create(tmp_path_factory.mktemp("prepared") / "face5", short_video, consent=True)
    run_job(prepare_job(project, PrepareConfig()))
    return project


def copy_project(project, target: Path):
    """A private copy of a shared project fixture, opened from ``target``."""
    import shutil

    from core.project import Project

    shutil.copytree(project.root, target)
    return Project.open(target)


@pytest.fixture
def project_copy(prepared_project, tmp_path):
    """A private copy of the prepared project that a test may change."""
    return copy_project(prepared_project, tmp_path / "project")


def tiny_renderer_config(steps: int = 3):
    """The CPU profile shrunk for tests: a few steps of a small network on 64 px windows."""
    import dataclasses

    from core.renderer import RendererTrainConfig

    return dataclasses.replace(RendererTrainConfig.for_device("cpu", steps=steps), size=64, ngf=8, ndf=8,
                               batch_size=2, eval_every=2, val_frames=4, cpu_threads=1)


@pytest.fixture(scope="session")
def trained_project(tmp_path_factory, prepared_project):
    """A copy of the prepared project with an audio model and a (barely) trained neural renderer."""
    from core.audio2exp import AudioTrainConfig, train_audio_job
    from core.jobs import run_job
    from core.renderer import train_renderer_job

    project = copy_project(prepared_project, tmp_path_factory.mktemp("trained") / "face5")
    run_job(train_audio_job(project, AudioTrainConfig(model="improved", epochs=3)))
    run_job(train_renderer_job(project, tiny_renderer_config()))
    return project
