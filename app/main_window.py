"""The main window: five pages (Start, Prepare, Train, Dub, Quality), menus, shortcuts, and safe closing."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QCloseEvent, QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication, QFileDialog, QLabel, QMainWindow, QTabWidget, QVBoxLayout, QWidget

from app import dialogs
from app.actions import new_action
from app.pages.dub import DubPage
from app.pages.prepare import PreparePage
from app.pages.quality import QualityPage
from app.pages.start import StartPage
from app.pages.train import TrainPage
from app.resources import resource_path, style_sheet
from app.session import Session
from app.settings import AppSettings
from app.widgets.missing_video_bar import MissingVideoBar
from core import APP_NAME, __version__

log = logging.getLogger(__name__)

START, PREPARE, TRAIN, DUB, QUALITY = range(5)
CLOSE_WAIT_MS = 60000  # a training step or a frame encode finishes well within this


def ask_video_path(parent, old: Path) -> Path | None:
    """The moved video the user picks (tests replace this)."""
    from app.pages.start import VIDEO_FILTER

    settings = getattr(parent, "settings", None)
    folder = old.parent if old.parent.exists() else settings.last_folder("video") if settings else Path.home()
    path, _ = QFileDialog.getOpenFileName(parent, f"Where is {old.name} now?", str(folder), VIDEO_FILTER)
    return Path(path) if path else None


class MainWindow(QMainWindow):
    def __init__(self, settings: AppSettings | None = None) -> None:
        super().__init__()
        self.setWindowTitle(f"{APP_NAME} {__version__}")
        self.setWindowIcon(QIcon(str(resource_path("icon.svg"))))
        self.setStyleSheet(style_sheet())
        self.settings = settings or AppSettings()
        self.session = Session(self.settings, self)

        self.start_page = StartPage(self.session)
        self.prepare_page = PreparePage(self.session)
        self.train_page = TrainPage(self.session)
        self.dub_page = DubPage(self.session)
        self.quality_page = QualityPage(self.session)
        self.pages = QTabWidget()
        self.pages.setObjectName("pages")
        self.pages.setDocumentMode(True)
        for page, title in ((self.start_page, "1  Start"), (self.prepare_page, "2  Prepare"),
                            (self.train_page, "3  Train"), (self.dub_page, "4  Dub"),
                            (self.quality_page, "5  Quality")):
            self.pages.addTab(page, title)
        self.missing_video_bar = MissingVideoBar()
        self.missing_video_bar.locate_requested.connect(self.locate_video)
        holder = QWidget()
        column = QVBoxLayout(holder)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.missing_video_bar)
        column.addWidget(self.pages, 1)
        self.setCentralWidget(holder)
        self.project_label = QLabel("No project open")
        self.statusBar().addPermanentWidget(self.project_label)

        self.actions_by_id = self._build_actions()
        self._build_menus()
        self.start_page.opened.connect(lambda: self.pages.setCurrentIndex(PREPARE))
        self.start_page.created.connect(self.prepare_page.start_for_new_project)
        self.session.project_changed.connect(self._on_project)
        self.session.runner.busy_changed.connect(self._on_busy)
        self._on_project(None)
        self._restore_geometry()

    # ---- actions and menus -----------------------------------------------------------------------
    def _build_actions(self):
        a = {}
        handlers = {
            "new_project": self.start_page.choose_video,
            "open_project": self.start_page.choose_project,
            "locate_video": self.locate_video,
            "load_audio": self._load_audio,
            "export": self._export,
            "quit": self.close,
            "play_pause": lambda: self._on_page("toggle_play"),
            "next_frame": lambda: self._on_page("step", 1),
            "previous_frame": lambda: self._on_page("step", -1),
            "page_start": lambda: self.pages.setCurrentIndex(START),
            "page_prepare": lambda: self._go(PREPARE),
            "page_train": lambda: self._go(TRAIN),
            "page_dub": lambda: self._go(DUB),
            "page_quality": lambda: self._go(QUALITY),
            "cancel_job": self.session.runner.cancel_all,
            "about": lambda: dialogs.show_about(self),
        }
        for action_id, handler in handlers.items():
            a[action_id] = new_action(self, action_id, handler)
            self.addAction(a[action_id])  # shortcuts work even with the menu bar hidden
        return a

    def _build_menus(self) -> None:
        a = self.actions_by_id
        file_menu = self.menuBar().addMenu("&File")
        for action_id in ("new_project", "open_project"):
            file_menu.addAction(a[action_id])
        self.recent_menu = file_menu.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addAction(a["locate_video"])
        file_menu.addSeparator()
        file_menu.addAction(a["load_audio"])
        file_menu.addAction(a["export"])
        file_menu.addSeparator()
        file_menu.addAction(a["quit"])
        view = self.menuBar().addMenu("&Playback")
        for action_id in ("play_pause", "previous_frame", "next_frame"):
            view.addAction(a[action_id])
        go = self.menuBar().addMenu("&Go")
        for action_id in ("page_start", "page_prepare", "page_train", "page_dub", "page_quality"):
            go.addAction(a[action_id])
        work = self.menuBar().addMenu("&Work")
        work.addAction(a["cancel_job"])
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(a["about"])

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        for root in self.settings.recent_projects():
            action = self.recent_menu.addAction(str(root))
            action.triggered.connect(lambda *_, r=root: self.start_page.open_project(r))
        if self.recent_menu.isEmpty():
            self.recent_menu.addAction("(none yet)").setEnabled(False)

    def _on_page(self, method: str, *args) -> None:
        handler = getattr(self.pages.currentWidget(), method, None)
        if handler is not None:
            handler(*args)

    def _go(self, index: int) -> None:
        if self.pages.isTabEnabled(index):
            self.pages.setCurrentIndex(index)

    def _load_audio(self) -> None:
        if self.session.project is not None:
            self.pages.setCurrentIndex(DUB)
            self.dub_page.choose_audio()

    def _export(self) -> None:
        if self.session.project is not None:
            self.pages.setCurrentIndex(DUB)
            self.dub_page.export()

    # ---- state ---------------------------------------------------------------------------------------
    def _on_project(self, project) -> None:
        for index in (PREPARE, TRAIN, DUB, QUALITY):
            self.pages.setTabEnabled(index, project is not None)
        self.project_label.setText(f"Project: {project.name}  ({project.root})" if project else
                                   "No project open")
        self.setWindowTitle(f"{project.name} - {APP_NAME}" if project else f"{APP_NAME} {__version__}")
        for action_id in ("load_audio", "export", "locate_video"):
            self.actions_by_id[action_id].setEnabled(project is not None)
        self._check_video(project)

    # ---- a moved video ----------------------------------------------------------------------------
    def _check_video(self, project) -> None:
        if project is not None and project.source_missing:
            self.missing_video_bar.show_missing(project.manifest["source"]["path"])
        else:
            self.missing_video_bar.hide()
        if project is not None and project.relinked_from:
            self.statusBar().showMessage(f"The video had moved; found it at {project.source_video}", 15000)

    def locate_video(self) -> bool:
        """Ask for the moved video and relink the project to it (refused unless it is the same video)."""
        project = self.session.project
        if project is None:
            return False
        old = Path(project.manifest["source"]["path"])
        path = ask_video_path(self, old)
        if path is None:
            return False
        try:
            project.relink_source(path)
        except Exception as exc:  # noqa: BLE001 (another video, unreadable file: said in a dialog)
            dialogs.show_error(self, exc, "This is not the project's video")
            return False
        self.statusBar().showMessage(f"The project now uses {project.source_video}", 10000)
        self.session.project_changed.emit(project)  # the pages reload what needs the video
        return True

    def _on_busy(self, busy: bool) -> None:
        # Switching projects under a running job would write into the wrong folder.
        self.start_page.setEnabled(not busy)
        for action_id in ("new_project", "open_project"):
            self.actions_by_id[action_id].setEnabled(not busy)
        self.statusBar().showMessage("Working..." if busy else "Ready", 0 if busy else 3000)

    # ---- geometry and closing ------------------------------------------------------------------
    def _restore_geometry(self) -> None:
        geometry = self.settings.geometry()
        if geometry is None or not self.restoreGeometry(geometry) or not self._on_a_screen():
            self.resize(1280, 820)

    def _on_a_screen(self) -> bool:
        """False when the saved geometry lies on a screen that is no longer attached."""
        return any(s.availableGeometry().intersects(self.frameGeometry())
                   for s in QGuiApplication.screens())

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        runner = self.session.runner
        if runner.is_running():
            names = ", ".join(sorted(runner.jobs))
            if not dialogs.ask(self, "Work is running",
                               f"Work is still running ({names}). Stop it and close? Finished work "
                               "and training checkpoints are kept; you can continue later."):
                event.ignore()
                return
            runner.cancel_all()
        self.dub_page.shutdown()
        self.quality_page.shutdown()
        self.prepare_page.stop_playing()
        self.statusBar().showMessage("Stopping...")
        if not runner.wait(CLOSE_WAIT_MS):
            log.warning("a worker did not stop within %d ms", CLOSE_WAIT_MS)
        self.settings.set_geometry(self.saveGeometry())
        self.settings.sync()
        event.accept()


def run_app(argv: list[str] | None = None) -> int:
    QApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts, True)
    app = QApplication.instance() or QApplication(argv or sys.argv)
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    app.setApplicationVersion(__version__)
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    app.setStyle("Fusion")
    window = MainWindow()
    window.show()
    return app.exec()
