"""Start page: a new project from a video (button or drag and drop), or a recent project."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QDialog, QDialogButtonBox, QFormLayout, QFrame,
                               QHBoxLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem,
                               QPushButton, QToolButton, QVBoxLayout, QWidget)

from app.dialogs import choose_file, choose_folder, show_error
from app.session import Session
from app.widgets.enabling import enable

log = logging.getLogger(__name__)

VIDEO_FILTER = "Videos (*.mp4 *.mov *.m4v *.mkv *.avi *.webm *.mpg *.mpeg);;All files (*)"
PROJECT_SUFFIX = ".portrait-dub"
CONSENT_FIRST = "Confirm the consent below first"


def default_project_folder(video: Path) -> Path:
    """Beside the video, named after it; a free name if that folder already holds a project."""
    base = video.with_name(video.stem + PROJECT_SUFFIX)
    candidate, n = base, 2
    while (candidate / "project.json").exists():
        candidate = base.with_name(f"{video.stem}-{n}{PROJECT_SUFFIX}")
        n += 1
    return candidate


class NewProjectDialog(QDialog):
    """Confirms the project folder and asks the user to confirm consent (required to continue)."""

    def __init__(self, video: Path, info_text: str, parent=None, settings=None) -> None:
        from core.project import CONSENT_TEXT

        super().__init__(parent)
        self.settings = settings  # app.settings.AppSettings: where the folder dialog opens
        self.setObjectName("newProjectDialog")
        self.setWindowTitle("New project")
        self.video = video
        self.folder = QLineEdit(str(default_project_folder(video)))
        browse = QToolButton(text="...")
        browse.setToolTip("Choose the folder for the project")
        browse.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(browse)
        self.consent = QCheckBox(CONSENT_TEXT)
        self.consent.setObjectName("consentCheck")
        self.consent.setStyleSheet("QCheckBox { font-weight: bold; }")
        consent_note = QLabel("The app makes this person appear to say things they never said. "
                              "Only continue if they agreed to it. Your confirmation is stored in "
                              "the project.")
        consent_note.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.create_button = self.buttons.addButton("Create project", QDialogButtonBox.ButtonRole.AcceptRole)
        enable(self.create_button, CONSENT_FIRST)
        self.consent.toggled.connect(lambda on: enable(self.create_button, None if on else CONSENT_FIRST,
                                                       "Make the project in this folder"))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow("Video:", QLabel(f"{video.name}\n{info_text}"))
        form.addRow("Project folder:", folder_row)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(consent_note)
        layout.addWidget(self.consent)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        self.resize(640, 220)

    def project_folder(self) -> Path:
        return Path(self.folder.text()).expanduser()

    def _browse(self) -> None:
        folder = choose_folder(self, self.settings, "project_parent", "Folder for the project")
        if folder:
            self.folder.setText(str(folder / (self.video.stem + PROJECT_SUFFIX)))


class StartPage(QWidget):
    """Emits ``opened()`` after a project was created or opened, and ``created()`` first when it was
    created."""

    opened = Signal()
    created = Signal()

    def __init__(self, session: Session, parent=None) -> None:
        super().__init__(parent)
        self.session = session
        self.dialog: NewProjectDialog | None = None
        self.setAcceptDrops(True)

        title = QLabel("Dub a talking-head video")
        title.setObjectName("pageTitle")
        intro = QLabel("Start from a video of the person talking: 1 to 3 minutes of continuous speech, "
                       "face visible, with its sound. The app learns the face on this computer, then "
                       "makes the person speak any audio you give it.")
        intro.setWordWrap(True)
        self.new_button = QPushButton("New project from video...")
        self.new_button.setObjectName("primaryButton")
        self.new_button.clicked.connect(self.choose_video)
        self.open_button = QPushButton("Open project folder...")
        self.open_button.clicked.connect(self.choose_project)
        buttons = QHBoxLayout()
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)

        self.drop_area = QLabel("Drop a video here to start a new project")
        self.drop_area.setObjectName("dropArea")
        self.drop_area.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.drop_area.setMinimumHeight(120)
        self.drop_area.setFrameShape(QFrame.Shape.StyledPanel)

        recent_title = QLabel("Recent projects")
        recent_title.setObjectName("sectionTitle")
        self.recent = QListWidget()
        self.recent.setObjectName("recentList")
        self.recent.itemActivated.connect(self._open_item)
        self.open_recent_button = QPushButton("Open")
        self.open_recent_button.clicked.connect(lambda: self._open_item(self.recent.currentItem()))
        recent_row = QHBoxLayout()
        recent_row.addStretch(1)
        recent_row.addWidget(self.open_recent_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 24, 32, 24)
        layout.addWidget(title)
        layout.addWidget(intro)
        layout.addLayout(buttons)
        layout.addWidget(self.drop_area)
        layout.addWidget(recent_title)
        layout.addWidget(self.recent, 1)
        layout.addLayout(recent_row)
        self.refresh_recent()

    # ---- recent projects -----------------------------------------------------------------------
    def refresh_recent(self) -> None:
        self.recent.clear()
        for root in self.session.settings.recent_projects():
            exists = (root / "project.json").exists()
            item = QListWidgetItem(f"{root.name}    {root.parent}" + ("" if exists else "    (missing)"))
            item.setData(Qt.ItemDataRole.UserRole, str(root))
            if not exists:
                item.setForeground(Qt.GlobalColor.gray)
            self.recent.addItem(item)
        if self.recent.count():
            self.recent.setCurrentRow(0)
        self.open_recent_button.setEnabled(self.recent.count() > 0)
        self.open_recent_button.setToolTip("Open the selected project" if self.recent.count() else
                                           "No recent projects yet")

    def _open_item(self, item: QListWidgetItem | None) -> None:
        if item is not None:
            self.open_project(Path(item.data(Qt.ItemDataRole.UserRole)))

    # ---- opening -------------------------------------------------------------------------------
    def choose_project(self) -> None:
        folder = choose_folder(self, self.session.settings, "project", "Open project folder")
        if folder:
            self.open_project(folder)

    def open_project(self, root: Path) -> bool:
        try:
            self.session.open_project(root)
        except Exception as exc:  # noqa: BLE001 (shown to the user)
            show_error(self, exc, "The project cannot be opened")
            return False
        self.refresh_recent()
        self.opened.emit()
        return True

    # ---- new project ---------------------------------------------------------------------------
    def choose_video(self) -> None:
        path = choose_file(self, self.session.settings, "video", "Video of the person talking", VIDEO_FILTER)
        if path:
            self.start_new_project(path)

    def start_new_project(self, video: Path) -> NewProjectDialog | None:
        """Check the video, then ask for the folder and the consent (non-blocking dialog)."""
        from core.media import probe

        try:
            info = probe(video)
            if not info.has_video:
                from core.errors import MediaError
                raise MediaError(f"{video.name} holds sound but no picture. Choose a video of the "
                                 "person talking.")
        except Exception as exc:  # noqa: BLE001
            show_error(self, exc, "This file cannot be used")
            return None
        self.session.settings.remember_folder("video", video.parent)  # also for a dropped video
        seconds = f"{info.duration:.1f} s, {info.width}x{info.height}, {info.fps:.2f} fps" + \
            ("" if info.has_audio else ", no sound")
        self.dialog = NewProjectDialog(video, seconds, self, settings=self.session.settings)
        self.dialog.accepted.connect(self._create_from_dialog)
        self.dialog.open()
        return self.dialog

    def _create_from_dialog(self) -> None:
        dialog = self.dialog
        if dialog is None:
            return
        try:
            self.session.create_project(dialog.project_folder(), dialog.video, dialog.consent.isChecked())
        except Exception as exc:  # noqa: BLE001
            show_error(self, exc, "The project could not be created")
            return
        self.refresh_recent()
        self.created.emit()
        self.opened.emit()

    # ---- drag and drop ---------------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()
            self.drop_area.setProperty("hover", True)
            self.drop_area.style().polish(self.drop_area)

    def dragLeaveEvent(self, event) -> None:  # noqa: N802
        self.drop_area.setProperty("hover", False)
        self.drop_area.style().polish(self.drop_area)

    def dropEvent(self, event) -> None:  # noqa: N802
        self.dragLeaveEvent(event)
        files = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if not files:
            return
        event.acceptProposedAction()
        if files[0].is_dir():
            self.open_project(files[0])
        else:
            self.start_new_project(files[0])
