"""Per-frame fit of the face model: pose, expression and SH lighting (paper 3.1).

``fit_job(project, FitConfig())`` (core.fitting.job) builds the person-specific model (or loads the
Basel Face Model), fits every frame and writes face_model.npz and face_params.npz. What it writes is
the face model's data (core.facemodel.model, core.facemodel.params), which the face render reads
without this package; the fitting job imports the face render to measure its fit.
"""

from core.facemodel.params import PARAMS_FILE, FaceParams, load_face_params

__all__ = ["FaceParams", "PARAMS_FILE", "load_face_params"]
