"""Notes shown once when the app starts: optional parts that are missing and what that means.

Today one note: the optional face-alignment landmark backend has no weights on this machine (it
downloads them on first use, which an offline machine cannot). The app keeps working with the
default mediapipe backend, so the note is a one-line dismissible banner above the pages (the full
text behind its "details" link), never a dialog;
once dismissed it is not shown again (the app's settings remember it).
"""

from __future__ import annotations

import logging
from html import escape
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QMainWindow, QMessageBox, QSizePolicy,
                               QToolButton, QVBoxLayout, QWidget)

from core.tracking.backends import FACE_ALIGNMENT_FILES, face_alignment_weights_dir

log = logging.getLogger(__name__)


def missing_face_alignment_weights() -> tuple[Path, list[str]]:
    """The folder face-alignment reads its weights from ($TORCH_HOME/hub/checkpoints) and the
    names of the files missing there (empty when the optional backend is ready)."""
    folder = face_alignment_weights_dir()
    return folder, [name for name in FACE_ALIGNMENT_FILES if not (folder / name).is_file()]


def face_alignment_note(folder: Path, missing: list[str]) -> str:
    return ("The optional face-alignment landmark backend is not available: its weights "
            f"({', '.join(missing)}) are not on this machine. The default backend, mediapipe, is "
            "used instead and needs nothing more. To use face-alignment later, connect to the "
            f"internet once so it can download them, or copy the files into {folder}.")


FACE_ALIGNMENT_SHORT = "Optional face-alignment backend unavailable (no weights); using mediapipe."


class NoticeBanner(QFrame):
    """A one-line notice above the pages: a short line, a "details" link opening the full text in a
    box (where the path can be copied), and a close button that hides the banner."""

    dismissed = Signal()

    def __init__(self, short: str, details: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("noticeBanner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.details = details
        self.label = QLabel(f'{escape(short)} <a href="details">details</a>')
        self.label.setObjectName("noticeText")
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.linkActivated.connect(self.show_details)
        self.setToolTip(details)
        self.close_button = QToolButton()
        self.close_button.setText("Dismiss")
        self.close_button.setToolTip("Hide this note")
        self.close_button.clicked.connect(self._dismiss)
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 4, 4, 4)
        row.addWidget(self.label, 1)
        row.addWidget(self.close_button)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def show_details(self, *_) -> QMessageBox:
        box = QMessageBox(QMessageBox.Icon.Information, "Optional part missing", self.details,
                          QMessageBox.StandardButton.Ok, self)
        box.setObjectName("noticeDetails")
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)  # copy the path
        box.open()
        return box

    def _dismiss(self) -> None:
        self.hide()
        self.dismissed.emit()


FACE_ALIGNMENT_NOTE = "face_alignment_weights"


def add_first_run_notes(window: QMainWindow, settings) -> NoticeBanner | None:
    """Put a banner above the window's central widget when the optional backend's weights are
    missing and the user has not dismissed that note before (``settings``: app.settings.AppSettings,
    which remembers the dismissal); returns it, or None. Call once, after the window is built."""
    folder, missing = missing_face_alignment_weights()
    if not missing or settings.note_dismissed(FACE_ALIGNMENT_NOTE):
        return None
    text = face_alignment_note(folder, missing)
    log.info("%s", text)
    banner = NoticeBanner(FACE_ALIGNMENT_SHORT, text)
    banner.dismissed.connect(lambda: settings.dismiss_note(FACE_ALIGNMENT_NOTE))
    content = window.takeCentralWidget()
    holder = QWidget()
    column = QVBoxLayout(holder)
    column.setContentsMargins(0, 0, 0, 0)
    column.setSpacing(0)
    column.addWidget(banner)
    if content is not None:
        column.addWidget(content, 1)
    window.setCentralWidget(holder)
    return banner
