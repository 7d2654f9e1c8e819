"""The renderer's cached training inputs, one losslessly compressed picture a frame.

Each frame's masked conditioning render (RGB) and its expanded lower-face mask (alpha, 0 or 255)
are one PNG; the PNGs follow each other in ``cond.bin`` and ``cond_index.npy`` holds their byte
offsets (N + 1 int64). The render is zero outside the lower-face mask, so a frame compresses to
a small fraction of its raw size (26 KB instead of 400 KB at 320 px on the test clip) and
training decodes only the frames of its batch: memory stays flat whatever the clip's length.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

BLOB_FILE, INDEX_FILE = "cond.bin", "cond_index.npy"
PNG_LEVEL = 3


def encode(cond: np.ndarray, mask: np.ndarray) -> bytes:
    """uint8 (S, S, 3) RGB and (S, S) 0/1 -> one PNG (BGRA for OpenCV)."""
    rgba = np.dstack([cond[..., ::-1], (mask > 0).astype(np.uint8) * 255])
    ok, data = cv2.imencode(".png", rgba, [cv2.IMWRITE_PNG_COMPRESSION, PNG_LEVEL])
    if not ok:
        raise ValueError("could not encode a training input frame")
    return data.tobytes()


def decode(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """One PNG of :func:`encode` -> uint8 RGB (S, S, 3) and the 0/1 mask (S, S)."""
    rgba = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if rgba is None or rgba.ndim != 3 or rgba.shape[2] != 4:
        raise ValueError("a cached training input frame is damaged")
    return np.ascontiguousarray(rgba[..., 2::-1]), (rgba[..., 3] > 127).astype(np.uint8)


class CondWriter:
    """Appends frames in order to an open blob file; ``offsets`` ends as the index to save."""

    def __init__(self, blob_path: Path, n_frames: int) -> None:
        self.fh = open(blob_path, "wb")
        self.offsets = np.zeros(n_frames + 1, np.int64)
        self.count = 0

    def add(self, cond: np.ndarray, mask: np.ndarray) -> None:
        data = encode(cond, mask)
        self.fh.write(data)
        self.offsets[self.count + 1] = self.offsets[self.count] + len(data)
        self.count += 1

    def close(self) -> None:
        """Close the file; fails if fewer frames than announced were written."""
        if not self.fh.closed:
            self.fh.flush()
            self.fh.close()
        if self.count != len(self.offsets) - 1:
            raise ValueError(f"{self.count} frames written of {len(self.offsets) - 1}")


class CondStore:
    """Random access to the frames of ``folder``/cond.bin."""

    def __init__(self, folder: Path) -> None:
        self.offsets = np.load(Path(folder) / INDEX_FILE)
        self.blob_path = Path(folder) / BLOB_FILE
        self.n_frames = len(self.offsets) - 1
        if self.blob_path.stat().st_size != int(self.offsets[-1]):
            raise ValueError(f"{self.blob_path} is not the size its index says")

    def __len__(self) -> int:
        return self.n_frames

    def read(self, frames) -> tuple[np.ndarray, np.ndarray]:
        """uint8 conditioning (k, S, S, 3) and masks (k, S, S) of ``frames`` (repeats allowed)."""
        frames = np.asarray(frames, dtype=np.int64).reshape(-1)
        unique, where = np.unique(frames, return_inverse=True)
        conds, masks = [], []
        with open(self.blob_path, "rb") as fh:
            for f in unique:
                if not 0 <= f < self.n_frames:
                    raise IndexError(f"frame {f} of {self.n_frames}")
                fh.seek(int(self.offsets[f]))
                cond, mask = decode(fh.read(int(self.offsets[f + 1] - self.offsets[f])))
                conds.append(cond)
                masks.append(mask)
        return np.stack(conds)[where], np.stack(masks)[where]


def store_files(folder: Path) -> tuple[Path, Path]:
    return Path(folder) / BLOB_FILE, Path(folder) / INDEX_FILE
