"""The export queue of the Dub page: exports added here run one after another in the background.

The queue itself lives in the project (core.batch.queue): this panel lists its entries with their
progress and result, and runs it through the session's job runner (app.jobs.export_queue), so a
closed app finds the same queue when the project opens again.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (QGroupBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QTreeWidget,
                               QTreeWidgetItem, QVBoxLayout)

from app import jobs
from app.eta import RateEta
from app.job_wiring import RunsJobs
from app.widgets.enabling import enable
from core.batch.queue import FINISHED, ExportQueue, QueueEntry
from core.jobs import format_eta

log = logging.getLogger(__name__)

QUEUE_JOB = "export-queue"
STATUS_TEXT = {"queued": "waiting", "running": "running", "done": "done", "skipped": "done (unchanged)",
               "failed": "failed", "cancelled": "stopped"}


class ExportQueuePanel(RunsJobs, QGroupBox):
    """``changed()`` after every change of the queue (entries added, run, finished)."""

    changed = Signal()

    def __init__(self, session, parent=None) -> None:
        super().__init__("Export queue", parent)
        self.setObjectName("exportQueue")
        self.session = session
        self.queue: ExportQueue | None = None
        self.entries: list[QueueEntry] = []
        self._running_stage: str | None = None
        self.eta = RateEta()  # of the export running

        self.list = QTreeWidget()
        self.list.setObjectName("exportQueueList")
        self.list.setHeaderLabels(["Speech", "Output", "Status"])
        self.list.setRootIsDecorated(False)
        self.list.setMaximumHeight(120)
        self.list.setColumnWidth(0, 220)
        self.list.setColumnWidth(1, 220)
        self.list.itemSelectionChanged.connect(self._update_buttons)
        self.run_button = QPushButton("Run queue")
        self.run_button.setToolTip("Export the waiting entries one after another in the background")
        self.run_button.clicked.connect(self.toggle_running)
        self.retry_button = QPushButton("Again")
        self.retry_button.setToolTip("Put the selected export back in the queue")
        self.retry_button.clicked.connect(self.retry_selected)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove_selected)
        self.clear_button = QPushButton("Clear finished")
        self.clear_button.clicked.connect(self.clear_finished)
        self.reveal_button = QPushButton("Show in folder")
        self.reveal_button.clicked.connect(self.reveal_selected)
        self.summary = QLabel("Add exports with \"Add to queue\": they run one after another.")
        self.summary.setObjectName("exportQueueSummary")
        self.summary.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.retry_button)
        buttons.addWidget(self.remove_button)
        buttons.addWidget(self.clear_button)
        buttons.addWidget(self.reveal_button)
        buttons.addStretch(1)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)  # the preview keeps the room
        layout = QVBoxLayout(self)
        layout.setContentsMargins(9, 4, 9, 4)
        layout.addWidget(self.list)
        layout.addWidget(self.summary)
        layout.addLayout(buttons)

        self.wire_jobs(session, QUEUE_JOB, on_busy=self._update_buttons)
        session.project_changed.connect(self.set_project)
        if session.project is not None:
            self.set_project(session.project)
        else:
            self.refresh()

    # ---- the queue -------------------------------------------------------------------------------
    def set_project(self, project) -> None:
        self.queue = ExportQueue(project.root) if project is not None else None
        if self.queue is not None and not self.running:
            self.queue.requeue_interrupted()  # an export running when the app closed waits again
        self.refresh()

    @property
    def running(self) -> bool:
        return self.session.runner.is_running(QUEUE_JOB)

    def add(self, out: Path, audio: Path | None = None, text: str | None = None, voice: str | None = None,
            rate: float = 1.0, renderer: str | None = None) -> QueueEntry:
        """Queue an export of ``audio`` (or of a script ``text``) to ``out`` with the lower face
        ``renderer`` (None: the default). Only adds: *Run queue* (``start``) runs the queue, as the
        README says; a running queue picks the new entry up by itself."""
        if self.queue is None:
            raise RuntimeError("no project open")
        extra = {"voice": voice} if voice else {}
        entry = self.queue.add(out, audio=audio, text=text, rate=rate, renderer=renderer, **extra)
        self.refresh()
        return entry

    def start(self) -> None:
        project = self.session.project
        if project is None or self.running or self.queue is None or self.queue.next_queued() is None:
            return
        root = project.root
        self.session.runner.start(QUEUE_JOB, lambda: jobs.export_queue(root))
        self.refresh()

    def stop(self) -> None:
        self.session.runner.cancel(QUEUE_JOB)

    def toggle_running(self) -> None:
        self.stop() if self.running else self.start()

    def selected(self) -> QueueEntry | None:
        items = self.list.selectedItems()
        if not items:
            return None
        entry_id = items[0].data(0, Qt.ItemDataRole.UserRole)
        return next((e for e in self.entries if e.id == entry_id), None)

    def retry_selected(self) -> None:
        entry = self.selected()
        if entry is not None and self.queue is not None and entry.status in FINISHED:
            self.queue.retry(entry.id)
            self.refresh()

    def remove_selected(self) -> None:
        entry = self.selected()
        if entry is not None and self.queue is not None:
            self.queue.remove(entry.id)
            self.refresh()

    def clear_finished(self) -> None:
        if self.queue is not None:
            self.queue.clear_finished()
            self.refresh()

    def reveal_selected(self) -> None:
        entry = self.selected()
        if entry is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(entry.out).parent)))

    # ---- showing it -------------------------------------------------------------------------------
    def refresh(self) -> None:
        selected = self.selected()
        self.entries = self.queue.entries() if self.queue is not None else []
        self.list.clear()
        for entry in self.entries:
            item = QTreeWidgetItem([entry.label, Path(entry.out).name, self._status_text(entry)])
            item.setData(0, Qt.ItemDataRole.UserRole, entry.id)
            item.setToolTip(1, entry.out)
            item.setToolTip(2, entry.error or entry.message or "")
            self.list.addTopLevelItem(item)
            if selected is not None and entry.id == selected.id:
                item.setSelected(True)
        self.list.setVisible(bool(self.entries))  # an empty queue is one line
        waiting = sum(e.status == "queued" for e in self.entries)
        failed = sum(e.status == "failed" for e in self.entries)
        finished = sum(e.status in ("done", "skipped") for e in self.entries)
        if not self.entries:
            text = "Add exports with \"Add to queue\": they run one after another."
        else:
            text = f"{finished} exported, {waiting} waiting" + (f", {failed} failed" if failed else "")
            if waiting and not self.running:
                text += ". Press Run queue to export them."
        self.summary.setText(text)
        self._update_buttons()
        self.changed.emit()

    @staticmethod
    def _status_text(entry: QueueEntry) -> str:
        text = STATUS_TEXT.get(entry.status, entry.status)
        if entry.status in ("done", "skipped", "failed") and entry.seconds:
            text += f" ({format_eta(entry.seconds)})"
        if entry.status == "failed" and entry.error:
            text += f": {entry.error}"
        return text

    def item_of(self, entry_id: str) -> QTreeWidgetItem | None:
        for i in range(self.list.topLevelItemCount()):
            item = self.list.topLevelItem(i)
            if item.data(0, Qt.ItemDataRole.UserRole) == entry_id:
                return item
        return None

    def job_progress(self, name: str, record) -> None:
        position = record.stage.split(":", 1)[0]
        if position != self._running_stage:  # the next export started: its status changed on disk
            self._running_stage = position
            self.eta.reset()
            self.refresh()
        self.eta.update(record.fraction)
        running = next((e for e in self.entries if e.status == "running"), None)
        item = self.item_of(running.id) if running is not None else None
        if item is not None and record.fraction is not None:
            left = self.eta.remaining_s()
            item.setText(2, f"running {record.fraction * 100:.0f} %"
                         + (f", {format_eta(left)} left" if left is not None else ""))

    def job_failed(self, name: str, exc) -> None:
        log.error("export queue stopped: %s", exc)  # the queue itself broke (one export fails inside it)
        self.summary.setText(f"The queue stopped: {exc}")

    def job_stopped(self, name: str) -> None:
        self._running_stage = None
        self.refresh()

    def _update_buttons(self) -> None:
        has_queue = self.queue is not None
        self.run_button.setText("Stop queue" if self.running else "Run queue")
        waiting = any(e.status == "queued" for e in self.entries)
        enable(self.run_button, "Open or create a project first" if not has_queue else None if self.running or waiting
               else "No export is waiting: add one with Add to queue",
               "Stop the queue after the running export" if self.running else
               "Export the waiting entries one after another in the background")
        entry = self.selected()
        pick = "Select an export in the list first" if entry is None else None
        enable(self.retry_button, pick or (None if entry.status in FINISHED else "Only a finished, failed or "
                                           "stopped export can run again"),
               "Put the selected export back in the queue")
        enable(self.remove_button, pick or ("It is running: stop the queue first" if entry.status == "running"
                                            else None), "Take the selected export out of the queue")
        enable(self.reveal_button, pick or (None if Path(entry.out).exists() else "Not written yet"),
               "Show the selected export in the file manager")
        enable(self.clear_button, None if any(e.status in FINISHED for e in self.entries) else
               "No finished exports to clear", "Take the finished exports off the list")
