"""Message dialogs: errors that say what went wrong and what to do, questions, the About box.

Error boxes open window-modal without blocking (``open()``), so a worker's failure never stops the
event loop and tests can find the box among the window's children.
"""

from __future__ import annotations

import logging
import traceback
from html import escape
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from core import APP_NAME, __version__
from core.errors import DubError

log = logging.getLogger(__name__)

ERROR_BOX_NAME = "error_box"


def error_text(exc: BaseException) -> tuple[str, str | None]:
    """(message for the user, technical details or None)."""
    if isinstance(exc, DubError):
        return str(exc), None
    if isinstance(exc, MemoryError):
        return ("The computer ran out of memory. Close other programs, or choose a shorter video or "
                "a smaller time budget, and try again."), None
    if isinstance(exc, OSError):
        return (f"A file could not be read or written: {exc}. Check that the disk has free space and "
                "the folder is writable, then try again."), None
    details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return (f"Something unexpected went wrong ({type(exc).__name__}: {exc}). Your project is saved; "
            "try again, and if it happens again, report it with the details below."), details


def show_error(parent: QWidget, exc: BaseException, title: str = "Something went wrong") -> QMessageBox:
    """Show ``exc`` to the user in a non-blocking window-modal box; returns the box."""
    message, details = error_text(exc)
    log.info("error shown to the user: %s", message)
    box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, parent)
    box.setObjectName(ERROR_BOX_NAME)
    if details:
        box.setDetailedText(details)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
    box.open()
    return box


def _start_folder(settings, purpose: str) -> Path:
    return settings.last_folder(purpose) if settings is not None else Path.home()


def choose_file(parent: QWidget, settings, purpose: str, title: str, filters: str) -> Path | None:
    """A file to open, the dialog starting in the folder last used for ``purpose`` (app.settings),
    which is then remembered. ``settings`` None: the home folder."""
    path, _ = QFileDialog.getOpenFileName(parent, title, str(_start_folder(settings, purpose)), filters)
    if not path:
        return None
    if settings is not None:
        settings.remember_folder(purpose, Path(path).parent)
    return Path(path)


def choose_save_file(parent: QWidget, settings, purpose: str, title: str, name: str, filters: str) -> Path | None:
    """A file to write, suggested as ``name`` in the folder last used for ``purpose``."""
    path, _ = QFileDialog.getSaveFileName(parent, title, str(_start_folder(settings, purpose) / name), filters)
    if not path:
        return None
    if settings is not None:
        settings.remember_folder(purpose, Path(path).parent)
    return Path(path)


def choose_folder(parent: QWidget, settings, purpose: str, title: str) -> Path | None:
    """A folder, the dialog starting in the folder last used for ``purpose`` (the chosen folder's
    parent is remembered: the next one is likely beside it)."""
    folder = QFileDialog.getExistingDirectory(parent, title, str(_start_folder(settings, purpose)))
    if not folder:
        return None
    if settings is not None:
        settings.remember_folder(purpose, Path(folder).parent)
    return Path(folder)


def ask(parent: QWidget, title: str, question: str) -> bool:
    """A blocking yes/no question (the answer decides what happens next). Tests replace it."""
    answer = QMessageBox.question(parent, title, question,
                                  QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                  QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


ABOUT_TEXT = f"""<h3>{APP_NAME} {__version__}</h3>
<p>Makes a person in a video speak new audio: it learns the person's face from a few minutes of
video on this computer, then renders their lips and jaw for any speech.</p>
<p><b>Provenance.</b> Every video this app exports is synthetic: the lip motion was generated, and
does not show what the person said. Each exported file carries this in its metadata
(<i>comment</i>, <i>synthetic=true</i>, the generator and the renderer used). Use it only with the
consent of the person shown, which the app asks you to confirm for every project, and do not
present its videos as real.</p>
<p><b>Method.</b> Wen, Wang, Chen, Lu, Yu and Yu, <i>Photorealistic Audio-driven Video
Portraits</i>, IEEE TVCG 2020. Face tracking by MediaPipe; neural networks by PyTorch; video by
FFmpeg through PyAV; interface by Qt (PySide6), pyqtgraph and superqt.</p>
<p>Everything runs on this computer; nothing is uploaded.</p>"""


ABOUT_BOX_NAME = "about_box"


def about_text() -> str:
    """The About text with what this machine has of the optional parts (app.first_run)."""
    from app.first_run import optional_parts_text

    return ABOUT_TEXT + f"<p><b>Optional parts.</b> {escape(optional_parts_text())}</p>"


def show_about(parent: QWidget) -> QMessageBox:
    """The About box (non-blocking, its text selectable so a folder path can be copied)."""
    box = QMessageBox(QMessageBox.Icon.NoIcon, f"About {APP_NAME}", about_text(),
                      QMessageBox.StandardButton.Ok, parent)
    box.setObjectName(ABOUT_BOX_NAME)
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
    box.open()
    return box
