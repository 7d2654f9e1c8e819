"""A contact sheet of held-out frames to look at: real and composited face crops, then the real
and the composited mouths cut from the full-resolution frames at their own size (no resampling)."""

from __future__ import annotations

import cv2
import numpy as np

from core.atomic import atomic_path
from core.metrics import mouth_box


class ContactSheet:
    """Collects up to ``columns`` frames (every ``every``-th) from heldout_figures' on_composite."""

    def __init__(self, tracking, every: int = 1, columns: int = 8) -> None:
        self.tracking, self.every, self.columns = tracking, max(1, every), columns
        self.crops: list[tuple[np.ndarray, np.ndarray]] = []
        self.mouths: list[tuple[np.ndarray, np.ndarray]] = []
        self._seen = 0

    def add(self, i: int, result_crop: np.ndarray, real_crop: np.ndarray, result_frame: np.ndarray,
            frame: np.ndarray) -> None:
        take = self._seen % self.every == 0 and len(self.crops) < self.columns
        self._seen += 1
        if not take:
            return
        self.crops.append((real_crop, result_crop))
        box = mouth_box(self.tracking.landmarks[i], frame.shape)
        if box is not None:
            x0, y0, x1, y1 = box
            self.mouths.append((frame[y0:y1, x0:x1], result_frame[y0:y1, x0:x1]))

    def image(self) -> np.ndarray:
        """uint8 RGB: row 1 real crops, row 2 composited crops, row 3 real mouths, row 4 composited
        mouths (each mouth at full-frame pixels, padded with grey to the largest)."""
        rows = [np.concatenate([c[k] for c in self.crops], axis=1) for k in (0, 1)]
        if self.mouths:
            h = max(m[0].shape[0] for m in self.mouths)
            w = max(m[0].shape[1] for m in self.mouths)
            for k in (0, 1):
                tiles = []
                for m in self.mouths:
                    tile = np.full((h, w, 3), 128, np.uint8)
                    tile[:m[k].shape[0], :m[k].shape[1]] = m[k]
                    tiles.append(tile)
                rows.append(np.concatenate(tiles, axis=1))
        width = max(r.shape[1] for r in rows)
        padded = [np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0)), constant_values=128) for r in rows]
        return np.concatenate(padded, axis=0)

    def write(self, path) -> None:
        if not self.crops:
            return
        ok, png = cv2.imencode(".png", np.ascontiguousarray(self.image()[..., ::-1]))
        if not ok:
            raise OSError(f"{path}: the contact sheet could not be encoded")
        with atomic_path(path) as tmp:
            tmp.write_bytes(png.tobytes())
