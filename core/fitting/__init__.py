"""Per-frame fit of the face model: pose, expression and SH lighting (paper 3.1).

``fit_job(project, FitConfig())`` (core.fitting.job) builds the person-specific model (or loads the
Basel Face Model), fits every frame and writes face_model.npz and face_params.npz. This face hands on
only the stored parameters (params.py): the face render reads them, and the fitting job reads the
face render, so the job is imported from its own module.
"""

from core.fitting.params import PARAMS_FILE, FaceParams, load_face_params

__all__ = ["FaceParams", "PARAMS_FILE", "load_face_params"]
