"""The fitted face of a project as stored by the fitting stage: the face model (face_model.npz) and
the per-frame parameters (face_params.npz). Lives below both the fitting job that writes them and
the renderers that read them, so neither imports the other (the imports are inside the functions
so that importing core.fitting, which re-exports these, never runs in a circle)."""

from __future__ import annotations


def load_face_params(project):
    """The FaceParams (core.fitting.params) of ``project``."""
    from core.fitting.params import PARAMS_FILE, FaceParams

    return FaceParams.load(project.path(PARAMS_FILE))


def load_face_model(project):
    """The FaceModel (core.facemodel.model) of ``project``."""
    from core.facemodel.model import MODEL_FILE, FaceModel

    return FaceModel.load(project.path(MODEL_FILE))
