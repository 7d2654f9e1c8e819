"""A video's fingerprint: how a project knows its source video again (creation, relink, batch rows)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any


def file_fingerprint(path: Path, chunk: int = 1 << 20) -> dict[str, Any]:
    """Size and SHA-256 of the first and last MiB: cheap, and changes when the video does."""
    size = path.stat().st_size
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        digest.update(fh.read(chunk))
        if size > chunk:
            fh.seek(max(size - chunk, chunk))
            digest.update(fh.read(chunk))
    return {"size": size, "sha256_head_tail": digest.hexdigest()}
