"""Face models behind one interface (FaceModel): the built-in person-specific model learnt from
the target video (person.py) and the paper's Basel Face Model 2009 (bfm.py)."""

from core.facemodel.model import MODEL_FILE, FaceModel

__all__ = ["FaceModel", "MODEL_FILE"]
