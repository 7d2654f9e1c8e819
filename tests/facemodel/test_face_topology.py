"""The mediapipe mesh's triangles: a surface with the mouth left open, oriented outwards."""

from collections import Counter
from itertools import combinations

import numpy as np

from core.facemodel import topology as topo


def test_triangles_form_a_surface_with_the_mouth_open():
    tri = topo.mediapipe_triangles()
    # mediapipe's canonical mesh has 898 triangles; the edge list yields them minus a few slivers.
    assert 800 <= len(tri) <= 900
    assert tri.max() < topo.N_MESH_VERTICES
    edges = Counter(tuple(sorted(e)) for t in tri for e in combinations(t, 2))
    assert max(edges.values()) == 2  # a manifold: no edge borders three triangles
    ring = topo.INNER_LIPS
    lip_edges = [tuple(sorted((ring[i], ring[(i + 1) % len(ring)]))) for i in range(len(ring))]
    # the inner-lip loop is a boundary (each edge borders exactly one triangle): the mouth is a hole
    assert all(edges[e] == 1 for e in lip_edges)
    assert not any(set(t) <= set(ring) for t in tri.tolist())


def test_mouth_cap_closes_the_ring():
    cap = topo.mouth_cap()
    assert cap.shape == (len(topo.INNER_LIPS) - 2, 3)
    assert set(cap.ravel()) == set(topo.INNER_LIPS)


def test_orientation_points_out_of_the_face():
    # a hemisphere bulging towards the camera (-z), triangulated with random winding
    rng = np.random.default_rng(0)
    theta, phi = np.meshgrid(np.linspace(0.1, 1.2, 8), np.linspace(0, 2 * np.pi, 16, endpoint=False))
    verts = np.stack([np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), -np.cos(theta)], -1).reshape(-1, 3)
    from scipy.spatial import Delaunay

    tri = Delaunay(verts[:, :2]).simplices
    tri = np.where(rng.random(len(tri))[:, None] < 0.5, tri, tri[:, ::-1])
    oriented = topo.orient_triangles(verts, tri)
    a, b, c = (verts[oriented[:, k]] for k in range(3))
    normals = np.cross(b - a, c - a)
    centroids = (a + b + c) / 3
    assert ((normals * centroids).sum(1) > 0).all()  # away from the sphere's centre


def test_subdivision_keeps_a_closed_surface_and_the_mouth_hole():
    tri = topo.mediapipe_triangles()
    fine, parents = topo.subdivide(tri, topo.N_MESH_VERTICES)
    assert fine.shape == (4 * len(tri), 3)
    n_edges = len({tuple(sorted(e)) for t in tri.tolist() for e in combinations(t, 2)})
    assert parents.shape == (n_edges, 2) and fine.max() == topo.N_MESH_VERTICES + n_edges - 1
    edges = Counter(tuple(sorted(e)) for t in fine.tolist() for e in combinations(t, 2))
    assert max(edges.values()) == 2
    # boundary loops keep their count of edges, doubled (each boundary edge is split in two)
    boundary = sum(1 for c in edges.values() if c == 1)
    coarse = Counter(tuple(sorted(e)) for t in tri.tolist() for e in combinations(t, 2))
    assert boundary == 2 * sum(1 for c in coarse.values() if c == 1)
    values = np.arange(topo.N_MESH_VERTICES, dtype=float)
    extended = topo.extend_to_midpoints(values, parents)
    np.testing.assert_allclose(extended[topo.N_MESH_VERTICES:], parents.mean(axis=1))
