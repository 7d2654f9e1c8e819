"""Per-frame fit of the face model: pose, expression and SH lighting (paper 3.1).

``fit_job(project, FitConfig())`` builds the person-specific model (or loads the Basel Face
Model), fits every frame and writes face_model.npz and face_params.npz.
"""

from core.fitted import load_face_model, load_face_params
from core.fitting.job import FitConfig, FitResult, fit_job
from core.fitting.params import PARAMS_FILE, FaceParams

__all__ = ["FitConfig", "FitResult", "fit_job", "FaceParams", "PARAMS_FILE", "load_face_params",
           "load_face_model"]
