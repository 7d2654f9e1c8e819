"""A real talking-head project for the audio-model tests.

The face-model engineer's fit writes face_params.npz; to keep these tests independent and fast we
write stand-in expressions of the same shape from the real tracked face: the mediapipe meshes of the
clip, rigidly aligned (Procrustes), projected on their 32 principal components. They carry the real
lip motion of the clip, which is what the audio model has to learn.
"""

from __future__ import annotations

import numpy as np
import pytest

from core.atomic import save_npz
from core.jobs import run_job
from core.project import Project
from core.tracking import TrackingConfig, load_tracking, tracking_job
from tests.conftest import media

N_EXP = 32


def _align(points: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Similarity-align (P, 3) points onto a centred (P, 3) reference."""
    centred = points - points.mean(axis=0)
    centred *= np.linalg.norm(reference) / np.linalg.norm(centred)
    u, _, vt = np.linalg.svd(centred.T @ reference)
    d = np.diag([1.0, 1.0, np.sign(np.linalg.det(u @ vt))])
    return centred @ u @ d @ vt


def standin_expressions(landmarks: np.ndarray, has_face: np.ndarray, k: int = N_EXP) -> np.ndarray:
    """float32 (N, k): PCA coefficients of the aligned meshes (zeros where no face)."""
    pts = landmarks[has_face].astype(np.float64)
    reference = pts.mean(axis=0)
    reference -= reference.mean(axis=0)
    for _ in range(2):
        aligned = np.stack([_align(p, reference) for p in pts])
        reference = aligned.mean(axis=0)
    flat = aligned.reshape(len(aligned), -1)
    centred = flat - flat.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    out = np.zeros((len(landmarks), k), np.float32)
    out[has_face] = centred @ vt[:k].T
    return out


def make_audio_project(root, video) -> Project:
    project = Project.create(root, video, consent=True)
    run_job(tracking_job(project, TrackingConfig(crop_size=64)))
    tracking = load_tracking(project)
    expression = standin_expressions(tracking.landmarks, tracking.has_face)
    n = tracking.n_frames
    save_npz(project.path("face_params.npz"), expression=expression, has_face=tracking.has_face,
             rotation=np.zeros((n, 3), np.float32), translation=np.zeros((n, 3), np.float32),
             lighting=np.zeros((n, 27), np.float32))
    project.set_stage("fitting", "done", settings={"stand_in": "mesh PCA"}, inputs=("tracking",))
    return project


@pytest.fixture(scope="session")
def talking_video():
    """27 s, 256x256, 30 fps, a man talking to the camera, with his own speech."""
    return media("video/styletalk__andrew_clip_2__muxed_av.mp4")


@pytest.fixture(scope="session")
def audio_project(tmp_path_factory, talking_video) -> Project:
    """Tracked project with stand-in fitted expressions (no audio model yet). Do not train in it:
    copy it with ``audio_project_copy``."""
    return make_audio_project(tmp_path_factory.mktemp("a2e") / "andrew", talking_video)


@pytest.fixture
def audio_project_copy(audio_project, tmp_path) -> Project:
    import shutil

    target = tmp_path / "project"
    shutil.copytree(audio_project.root, target)
    return Project.open(target)
