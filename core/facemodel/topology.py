"""The triangles of mediapipe's 468-vertex face mesh, and named landmark groups.

mediapipe ships its tessellation only as an edge list (FACEMESH_TESSELATION), no OBJ. The faces are
the 3-cliques of that edge graph, minus a few spurious cliques (three edges that each already
border two real faces). The boundary loops stay open: the face outline, both eyes and the mouth
opening, which must remain a hole so an open mouth shows the real teeth behind it.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from itertools import combinations

import numpy as np

# the mesh points the face model names (topo.INNER_LIPS, ...) are defined in core.landmarks
from core.landmarks import (CHIN_BOTTOM, FOREHEAD_TOP, INNER_LIPS, LOWER_INNER_LIP, NOSE_TIP, OUTER_LIPS,
                            UPPER_INNER_LIP)

N_MESH_VERTICES = 468  # the 10 iris points (468..477) are not part of the surface

# mediapipe mesh indices (subject's right side is the image's left).
RIGHT_EYE = (33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7)
LEFT_EYE = (263, 466, 388, 387, 386, 385, 384, 398, 362, 382, 381, 380, 374, 373, 390, 249)

# The 68 points of the iBUG/dlib layout (the paper's landmarks) as mediapipe indices, for models
# whose landmark vertices follow that layout (the Basel Face Model's keypoints).
MEDIAPIPE_TO_68 = (
    162, 234, 93, 58, 172, 136, 149, 148, 152, 377, 378, 365, 397, 288, 323, 454, 389,  # jaw
    70, 63, 105, 66, 107, 336, 296, 334, 293, 300,  # brows
    168, 197, 5, 4, 75, 97, 2, 326, 305,  # nose
    33, 160, 158, 133, 153, 144, 362, 385, 387, 263, 373, 380,  # eyes
    61, 39, 37, 0, 267, 269, 291, 405, 314, 17, 84, 181,  # outer lips
    78, 82, 13, 312, 308, 317, 14, 87,  # inner lips
)
MOUTH_68 = tuple(range(48, 68))
EYES_68 = tuple(range(36, 48))


def mouth_landmarks() -> np.ndarray:
    """int64 indices (into the 478 mediapipe points) of the lips, inner and outer."""
    from mediapipe.python.solutions.face_mesh_connections import FACEMESH_LIPS  # lazy: slow to load

    return np.array(sorted({i for edge in FACEMESH_LIPS for i in edge}), np.int64)


def eye_landmarks() -> np.ndarray:
    """int64 indices of both eye contours and the irises (468..477)."""
    return np.array(sorted(set(RIGHT_EYE) | set(LEFT_EYE) | set(range(468, 478))), np.int64)


@functools.lru_cache(maxsize=1)
def mediapipe_triangles() -> np.ndarray:
    """int64 (F, 3) vertex indices into the 468 mesh points, unoriented (see orient_triangles)."""
    from mediapipe.python.solutions.face_mesh_connections import FACEMESH_TESSELATION  # lazy: slow to load

    neighbours: dict[int, set[int]] = defaultdict(set)
    for a, b in FACEMESH_TESSELATION:
        if a != b:
            neighbours[a].add(b)
            neighbours[b].add(a)
    cliques = set()
    for a, nbrs in neighbours.items():
        for b, c in combinations(sorted(nbrs), 2):
            if c in neighbours[b]:
                cliques.add(tuple(sorted((a, b, c))))
    edge_use: dict[tuple[int, int], int] = defaultdict(int)
    for tri in cliques:
        for e in combinations(tri, 2):
            edge_use[e] += 1
    # A spurious clique closes three edges that each border two real faces already (used 3 times).
    faces = [t for t in cliques if not all(edge_use[e] > 2 for e in combinations(t, 2))]
    return np.array(sorted(faces), np.int64)


def mouth_cap() -> np.ndarray:
    """int64 (18, 3): a fan of triangles over the inner-lip ring, closing the mouth opening."""
    ring = INNER_LIPS
    return np.array([(ring[0], ring[i], ring[i + 1]) for i in range(1, len(ring) - 1)], np.int64)


def subdivide(triangles: np.ndarray, n_vertices: int) -> tuple[np.ndarray, np.ndarray]:
    """Split every triangle into four at its edge midpoints.

    triangles: int (F, 3) over ``n_vertices`` vertices. Returns (triangles int64 (4F, 3) over
    n_vertices + E vertices, parents int64 (E, 2)): new vertex n_vertices + i is the midpoint of
    vertices parents[i]. Old vertices keep their indices; children keep their parent's winding.
    Anything linear in the vertices (shapes, bases, colours) extends as the parents' average.
    """
    tri = np.asarray(triangles, np.int64)
    edges = np.sort(np.concatenate([tri[:, [0, 1]], tri[:, [1, 2]], tri[:, [2, 0]]]), axis=1)
    parents, inverse = np.unique(edges, axis=0, return_inverse=True)
    mid = n_vertices + inverse.reshape(3, -1).T  # (F, 3): midpoints of edges ab, bc, ca
    a, b, c = tri.T
    ab, bc, ca = mid.T
    children = np.concatenate([np.stack(t, 1) for t in ((a, ab, ca), (ab, b, bc), (ca, bc, c), (ab, bc, ca))])
    return children, parents


def extend_to_midpoints(values: np.ndarray, parents: np.ndarray, axis: int = 0) -> np.ndarray:
    """values (..., V, ...) along ``axis`` -> (..., V + E, ...) with the midpoints appended."""
    v = np.moveaxis(np.asarray(values), axis, 0)
    out = np.concatenate([v, 0.5 * (v[parents[:, 0]] + v[parents[:, 1]])])
    return np.moveaxis(out, 0, axis)


def orient_triangles(vertices: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Order each triangle so its normal (v1-v0) x (v2-v0) points out of the face.

    vertices: float (V, 3) in model space (x right, y down, z away from the camera). The face is a
    shell seen from -z, so "out" is away from a point behind its middle.
    """
    v = np.asarray(vertices, np.float64)
    tri = np.asarray(triangles, np.int64).copy()
    extent = np.ptp(v[:, :2], axis=0).max()
    inside = v.mean(axis=0) + np.array([0.0, 0.0, extent])
    a, b, c = v[tri[:, 0]], v[tri[:, 1]], v[tri[:, 2]]
    normal = np.cross(b - a, c - a)
    outward = (a + b + c) / 3 - inside
    flip = (normal * outward).sum(axis=1) < 0
    tri[flip] = tri[flip][:, [0, 2, 1]]
    return tri
