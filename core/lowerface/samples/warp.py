"""Moving a stored frame's lower face onto another frame's mesh, in the video's own pixels.

The output frame's mesh (its head pose, the wanted expression) is rasterised in its face crop, the
draft's way: face triangles, a fan closing the mouth (the mouth's inside moves with the lips) and a
skirt around the face outline. Each covered crop pixel carries the matching point of the source
frame's own fitted mesh, in the source's video pixels. That map is piecewise affine, so it is
resized exactly enough to the output frame's pixels, and the source pixels are resampled once, with
a Lanczos kernel, straight from the video frame (never through the crop): a 1080p face keeps its
own detail.
"""

from __future__ import annotations

import cv2
import numpy as np

from core.facerender.draft import CHIN, FACE_OVAL, INNER_LIPS, draft_mesh, extend_vertices
from core.tracking.crop import crop_matrix, inverse_matrix
from gpu.mesh_raster import MeshRaster, rasterize_mesh


def frame_to_crop_index(box: np.ndarray, size: int, x0: int, y0: int) -> np.ndarray:
    """(2, 3) affine taking pixel indices of a frame region starting at (x0, y0) to crop pixel
    indices (cv2's convention: pixel centres at integers)."""
    m = crop_matrix(box, size)
    a, b = m[:, :2], m[:, 2]
    return np.concatenate([a, (a @ np.array([x0 + 0.5, y0 + 0.5]) + b - 0.5)[:, None]], axis=1)


def region_of(box: np.ndarray, size: int, window: tuple[int, int, int, int], frame_size: tuple[int, int],
              pad: int = 2) -> tuple[int, int, int, int]:
    """(x0, y0, w, h): the frame rectangle covering the crop window (x0, y0, x1, y1) of a frame."""
    cx0, cy0, cx1, cy1 = window
    corners = np.array([[cx0, cy0], [cx1, cy0], [cx0, cy1], [cx1, cy1]], np.float64)
    inv = inverse_matrix(box, size)
    pts = corners @ inv[:, :2].T + inv[:, 2]
    w, h = frame_size
    x0, y0 = (np.floor(pts.min(axis=0)).astype(int) - pad).tolist()
    x1, y1 = (np.ceil(pts.max(axis=0)).astype(int) + pad).tolist()
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    return x0, y0, max(x1 - x0, 0), max(y1 - y0, 0)


MOUTH_CORNERS = (61, 291)
# the one resampling of the video pixels: Lanczos-4 keeps the most detail, cubic is about four
# times faster
KERNELS = {"lanczos": cv2.INTER_LANCZOS4, "cubic": cv2.INTER_CUBIC}


def outline_vertices(triangles: np.ndarray, start: int) -> np.ndarray:
    """int64: the vertices of the mesh's boundary loop through ``start`` (the face outline, with
    any vertices a subdivision added on it; not the mouth's or the eyes' holes)."""
    edges = np.sort(np.concatenate([triangles[:, [0, 1]], triangles[:, [1, 2]], triangles[:, [2, 0]]]), axis=1)
    unique, counts = np.unique(edges, axis=0, return_counts=True)
    neighbours: dict[int, list[int]] = {}
    for a, b in unique[counts == 1].tolist():
        neighbours.setdefault(a, []).append(b)
        neighbours.setdefault(b, []).append(a)
    seen, todo = {start}, [start]
    while todo:
        for n in neighbours.get(todo.pop(), []):
            if n not in seen:
                seen.add(n)
                todo.append(n)
    return np.array(sorted(seen), np.int64)


def expression_motion(model, n_extended: int, centre: int, skirt: int, low: float = 0.35,
                      high: float = 0.75) -> np.ndarray:
    """float32 (n_extended,) per vertex of the extended mesh: how far expressions move it (the
    basis scaled by each coefficient's typical size), as a 0..1 weight: 1 from ``high`` of the
    lips' typical motion, 0 below ``low``; the mouth centre 1, the skirt 0. The face outline keeps
    its weight only around the chin, whose silhouette moves as the jaw opens: along the sides the
    outline (and the hair or background beyond it) stays the output frame's own."""
    basis = model.exp_basis[:, :, :2] * model.exp_std[:, None, None]
    motion = np.sqrt((basis ** 2).sum(axis=(0, 2)))
    lips = float(np.median(motion[list(INNER_LIPS)]))
    t = np.clip((motion / max(lips, 1e-9) - low) / (high - low), 0.0, 1.0)
    weight = t * t * (3 - 2 * t)
    y = model.mean_shape[:, 1]  # model space: y down
    corners, chin = float(y[list(MOUTH_CORNERS)].mean()), float(y[CHIN])
    outline = outline_vertices(model.triangles, int(FACE_OVAL[0]))
    c = np.clip((y[outline] - corners) / max(chin - corners, 1e-9) * 1.6 - 0.4, 0.0, 1.0)
    weight[outline] *= c * c * (3 - 2 * c)
    out = np.zeros(n_extended, np.float32)
    out[:model.n_vertices] = weight
    out[centre] = 1.0
    out[skirt:] = 0.0
    return out


class SampleWarper:
    """One output frame at a time. Only the triangles that can reach the lower face are
    rasterised (in crop pixels, under a millisecond); the resampling is in video pixels."""

    def __init__(self, model, crop_size: int, motion_alpha: bool = False, raster_scale: float = 1.0,
                 kernel: str = "lanczos") -> None:
        faces, centre, skirt = draft_mesh(model.triangles, model.n_vertices)
        n_face, n_fan = len(model.triangles), len(INNER_LIPS)
        rows = np.arange(len(faces))
        fan, band = (rows >= n_face) & (rows < n_face + n_fan), rows >= n_face + n_fan
        lower = np.zeros(len(faces), bool)
        lower[:n_face] = model.lower_vertices[faces[:n_face]].any(axis=1)
        lower |= fan
        # what the expanded mask can reach: the lower triangles and every triangle touching them,
        # and the skirt below them (a skirt triangle's first corner lies on the face outline)
        near = np.zeros(faces.max() + 1, bool)
        near[faces[lower].ravel()] = True
        keep = near[faces].any(axis=1) & ~band | band & near[faces[:, 0]]
        self.faces = np.ascontiguousarray(faces[keep])
        self.is_lower = np.r_[lower[keep], False]  # index -1 (no triangle) -> False
        self.size = crop_size
        self.kernel = KERNELS[kernel]
        # the map is piecewise affine: rasterised at a fraction of the crop and resized, it loses
        # little (the video pixels are still resampled once, at full resolution)
        self.raster_size = max(16, int(round(crop_size * raster_scale)))
        self.scale = self.raster_size / crop_size
        self.weights = None
        if motion_alpha:
            self.weights = expression_motion(model, faces.max() + 1, centre, skirt)[:, None]

    def motion_weight(self, raster: MeshRaster) -> np.ndarray:
        """float32 (S, S): how much the face under each pixel moves with the expression, 0..1
        (1 on the lips, the chin and the jaw, fading out over the cheeks); 1 everywhere without
        ``motion_alpha``."""
        if self.weights is None:
            return np.ones((self.size, self.size), np.float32)
        return self._to_crop(raster.interpolate(self.weights, self.faces)[..., 0])

    def _to_crop(self, image: np.ndarray) -> np.ndarray:
        """A raster-sized image resized to the crop (the identity at raster_scale 1)."""
        if self.raster_size == self.size:
            return image
        return cv2.resize(image, (self.size, self.size), interpolation=cv2.INTER_LINEAR)

    def rasterize(self, target_vertices: np.ndarray) -> tuple[MeshRaster, np.ndarray]:
        """The output frame's mesh (V, 3) in its crop pixels, rasterised: (raster, lower-face mask
        float32 (S, S) with the mouth's inside)."""
        dst = extend_vertices(target_vertices, target_vertices)[:, :2] * self.scale
        raster = rasterize_mesh(dst, self.faces, self.raster_size, self.raster_size)
        lower = self.is_lower[raster.ids].astype(np.float32)
        return raster, (self._to_crop(lower) > 0.5).astype(np.float32)

    def source_map(self, raster: MeshRaster, source_vertices: np.ndarray, source_box: np.ndarray,
                   source_origin: tuple[int, int]) -> np.ndarray:
        """Per crop pixel of the output frame (its ``raster``), where to read the source frame.

        source_vertices: (V, 3) the source frame's fitted mesh in its crop pixels; source_box: the
        source's crop box; source_origin: (x0, y0) of the stored source pixels in its frame.
        Returns float32 (R, R, 2): source pixel indices, at the raster's size R."""
        src = extend_vertices(source_vertices, source_vertices)[:, :2].astype(np.float64)
        inv = inverse_matrix(source_box, self.size)
        src_frame = src @ inv[:, :2].T + inv[:, 2] - np.array(source_origin) - 0.5
        return raster.interpolate(src_frame, self.faces)

    def _region_matrix(self, target_box: np.ndarray, region: tuple[int, int, int, int]) -> np.ndarray:
        """(2, 3) affine from the frame region's pixel indices to raster pixel indices."""
        m = frame_to_crop_index(target_box, self.size, region[0], region[1]) * self.scale
        m[:, 2] += 0.5 * self.scale - 0.5
        return m

    def cover(self, covered: np.ndarray, target_box: np.ndarray, region: tuple[int, int, int, int]) -> np.ndarray:
        """float32 (h, w): the raster's coverage resampled into the frame ``region``."""
        cover = cv2.warpAffine(covered, self._region_matrix(target_box, region), region[2:],
                               flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_CONSTANT,
                               borderValue=0)
        return np.clip(cover, 0.0, 1.0)

    def warp(self, source_pixels: np.ndarray, sample_map: np.ndarray, target_box: np.ndarray,
             region: tuple[int, int, int, int]) -> np.ndarray:
        """float32 (h, w, 3): the source pixels moved into the output frame's ``region`` (x0, y0,
        w, h); one resampling with the sharp kernel."""
        maps = cv2.warpAffine(sample_map, self._region_matrix(target_box, region), region[2:],
                              flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
        pixels = cv2.remap(source_pixels, maps, None, self.kernel, borderMode=cv2.BORDER_REPLICATE)
        return pixels.astype(np.float32)

    def crop_to_region(self, image: np.ndarray, target_box: np.ndarray, region: tuple[int, int, int, int]) -> np.ndarray:
        """A crop-pixel image (S, S) or (S, S, C<=4) (masks) resampled into the frame ``region``."""
        x0, y0, w, h = region
        m = frame_to_crop_index(target_box, self.size, x0, y0)
        return cv2.warpAffine(image.astype(np.float32), m, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=0)
