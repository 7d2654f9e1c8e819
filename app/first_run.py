"""Optional parts the app can do without, described once in Help > About (never as a banner that
greets every user).

Today one part: the optional face-alignment landmark backend, whose weights it downloads on first use
(which an offline machine cannot). The app works with the default mediapipe backend either way.
"""

from __future__ import annotations

import logging
from pathlib import Path

from core.tracking.backends import FACE_ALIGNMENT_FILES, face_alignment_weights_dir

log = logging.getLogger(__name__)


def missing_face_alignment_weights() -> tuple[Path, list[str]]:
    """The folder face-alignment reads its weights from ($TORCH_HOME/hub/checkpoints) and the
    names of the files missing there (empty when the optional backend is ready)."""
    folder = face_alignment_weights_dir()
    return folder, [name for name in FACE_ALIGNMENT_FILES if not (folder / name).is_file()]


def face_alignment_note(folder: Path, missing: list[str]) -> str:
    if not missing:
        return ("The optional face-alignment landmark backend is ready (its weights are in "
                f"{folder}); the default backend is mediapipe.")
    return ("The optional face-alignment landmark backend is not available: its weights "
            f"({', '.join(missing)}) are not on this machine. The default backend, mediapipe, is "
            "used instead and needs nothing more. To use face-alignment later, connect to the "
            f"internet once so it can download them, or copy the files into {folder}.")


def optional_parts_text() -> str:
    """What the About box says about the optional parts on this machine (read when it opens)."""
    return face_alignment_note(*missing_face_alignment_weights())
