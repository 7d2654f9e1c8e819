"""Atomic file writes: write to a temporary name in the same folder, then rename into place.

A crash or a full disk in the middle of a write leaves the previous file intact and never a
half-written file under the final name.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np


@contextlib.contextmanager
def atomic_path(path: Path | str, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``, on error it is removed.

    ``suffix`` keeps an extension on the temporary name for writers that pick a format by it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=(suffix if suffix is not None else path.suffix) + ".part",
        dir=path.parent,
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        _fsync_file(tmp)
        with contextlib.suppress(OSError):  # some file systems (FAT USB sticks) refuse chmod
            os.chmod(tmp, NEW_FILE_MODE)  # mkstemp's 0600 would hide exports from other users
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# What open() gives a new file: 0666 less the umask (read once: os.umask is process-wide, not thread-safe).
NEW_FILE_MODE = 0o666 & ~_read_umask()


def _fsync_file(path: Path) -> None:
    with contextlib.suppress(OSError), open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def write_bytes(path: Path | str, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def remove_stale_parts(folder: Path | str) -> list[str]:
    """Delete the temporary files that a killed writer left in ``folder``; returns their names.

    Only for a folder whose writers all belong to the job calling this (one job per project).
    """
    removed = []
    for part in Path(folder).glob(".*.part"):
        with contextlib.suppress(OSError):
            part.unlink()
            removed.append(part.name)
    return removed


def write_text(path: Path | str, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def write_json(path: Path | str, obj: Any) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n")


def save_npz(path: Path | str, **arrays: np.ndarray) -> None:
    """Save arrays as a compressed .npz atomically (never pickle: allow_pickle stays off on load)."""
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    write_bytes(path, buf.getvalue())


def load_npz(path: Path | str) -> dict[str, np.ndarray]:
    with np.load(Path(path), allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
