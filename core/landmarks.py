"""Points of mediapipe's 478-point face mesh that several stages name, in one place: the lip rings,
the inner-lip midpoints, the nose tip and the face's top and bottom (the subject's right side is the
image's left), and the mouth opening measured from them."""

from __future__ import annotations

import numpy as np

# ordered rings, from the right mouth corner over the upper lip and back along the lower lip
INNER_LIPS = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308, 324, 318, 402, 317, 14, 87, 178, 88, 95)
OUTER_LIPS = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 375, 321, 405, 314, 17, 84, 181, 91, 146)
UPPER_INNER_LIP, LOWER_INNER_LIP = 13, 14
NOSE_TIP = 1
FOREHEAD_TOP, CHIN_BOTTOM = 10, 152


def the_other_way(ring: tuple[int, ...]) -> tuple[int, ...]:
    """The same closed ring from the same first point, walked in the opposite direction."""
    return ring[:1] + ring[:0:-1]


def mouth_opening(landmarks: np.ndarray) -> np.ndarray:
    """Inner-lip gap over face height of (..., 478, 2+) landmarks: about 0 closed, 0.1+ wide open;
    NaN where the landmarks are."""
    landmarks = np.asarray(landmarks)
    gap = np.linalg.norm(landmarks[..., UPPER_INNER_LIP, :2] - landmarks[..., LOWER_INNER_LIP, :2], axis=-1)
    height = np.linalg.norm(landmarks[..., FOREHEAD_TOP, :2] - landmarks[..., CHIN_BOTTOM, :2], axis=-1)
    return gap / np.maximum(height, 1e-6)
