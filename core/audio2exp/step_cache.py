"""Per-audio rows of speech features kept in the project's speech_cache/: the Whisper encoder's
steps and the phoneme recogniser's posteriors are both slow to compute and read the same way."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np

from core.atomic import atomic_path

log = logging.getLogger(__name__)


def audio_key(samples: np.ndarray) -> str:
    """A short SHA-256 of the samples: the same audio finds its rows again."""
    return hashlib.sha256(np.ascontiguousarray(samples, np.float32).tobytes()).hexdigest()[:24]


def cached_rows(path: Path | None, width: int, compute: Callable[[], np.ndarray], what: str) -> np.ndarray:
    """float32 (M, width): read from ``path`` when it holds rows of that width, else ``compute()``
    and keep them there (float16, written atomically). A damaged file is computed again; a file that
    cannot be written costs speed, not the result. ``what`` names the rows in the log."""
    if path is not None and path.exists():
        try:
            cached = np.load(path)
            if cached.ndim == 2 and cached.shape[1] == width:
                return cached.astype(np.float32)
        except (OSError, ValueError):
            log.warning("%s cache %s is damaged: computing again", what, path)
    rows = compute()
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(path) as tmp:
                with open(tmp, "wb") as f:
                    np.save(f, rows.astype(np.float16))
        except OSError as exc:
            log.warning("cannot write the %s cache %s: %s", what, path, exc)
    return rows
