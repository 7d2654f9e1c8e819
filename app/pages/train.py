"""Train page: the audio-to-expression model and the neural renderer, with live losses and previews.

Training runs in a worker thread; pause holds it between two steps, cancel stops it after the current
step. The renderer saves checkpoints as it goes: starting again (also after closing the app) continues.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QGridLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton,
                               QSizePolicy, QSpinBox, QVBoxLayout, QWidget)

from app import jobs
from app.dialogs import choose_folder, show_error
from app.job_wiring import RunsJobs
from app.session import Session
from app.widgets.enabling import enable
from app.widgets.image_view import ImageView
from app.widgets.loss_plot import LossPlot
from app.widgets.progress_panel import ProgressPanel
from core.project.history import TrainingHistory

log = logging.getLogger(__name__)

AUDIO, RENDERER = "train_audio", "train_renderer"
STAGE_OF = {AUDIO: "audio_model", RENDERER: "renderer"}
TITLE_OF = {AUDIO: "Audio model", RENDERER: "Neural renderer (optional)"}


def _evaluation_text(evaluation: dict | None) -> str:
    """The figures of one held-out evaluation, in words."""
    if not evaluation:
        return ""
    names = {"val_l1_255": ("held-out error", "{:.2f}/255"), "val_psnr": ("PSNR", "{:.1f} dB"),
             "val_mouth_nmse": ("held-out mouth error", "{:.3f}")}
    parts = [f"{names.get(k, (k, ''))[0]} {names.get(k, ('', '{:.4g}'))[1].format(v)}"
             for k, v in evaluation["figures"].items()]
    return f"At step {evaluation['step']:.0f}: " + ", ".join(parts)


def _figures(name: str, metrics: dict) -> str:
    """One line of the stored training figures, in words."""
    if name == RENDERER and "steps" in metrics:
        text = f"{metrics['steps']} steps, {metrics.get('elapsed_s', 0) / 60:.1f} min so far"
        if metrics.get("val_psnr"):
            text += f"; held-out PSNR {metrics['val_psnr']:.1f} dB"
        return text
    numbers = [f"{k.replace('_', ' ')} {v:.4g}" for k, v in metrics.items()
               if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return ", ".join(numbers[:4])


def _encoder_text(project, name: str) -> str:
    if name != AUDIO:
        return ""
    from core.audio2exp.speech import project_encoder_folder

    folder = project_encoder_folder(project)
    return "\nSpeech encoder: " + (folder if folder else "built-in Whisper tiny.en")


@dataclass
class TrainingPanel:
    """The widgets of one trainable model."""

    box: QGroupBox
    status: QLabel
    start: QPushButton
    progress: ProgressPanel
    plot: LossPlot
    evaluation: QLabel


class TrainPage(RunsJobs, QWidget):
    def __init__(self, session: Session, parent=None) -> None:
        super().__init__(parent)
        self.session = session
        self.histories: dict[str, TrainingHistory] = {}  # what the plots show, as stored in the project
        self._shown_root = None

        title = QLabel("Training")
        title.setObjectName("pageTitle")
        intro = QLabel("The audio model maps speech to mouth movement (seconds): it is all a dub needs, "
                       "since the dubbed mouth is made of the person's own frames from the video. The "
                       "neural renderer is optional: a network that learns to paint the lower face "
                       "instead (the longer, the sharper; it smooths over the frames the video lacks but "
                       "needs an hour or more on a CPU to reach real teeth). Compare both on the Quality "
                       "page. You can pause, cancel, or close the app: training continues from the last "
                       "checkpoint next time.")
        intro.setWordWrap(True)

        self.budget = QSpinBox()
        self.budget.setObjectName("budgetMinutes")
        self.budget.setRange(1, 24 * 60)
        self.budget.setSuffix(" more min")
        self.budget.setValue(session.settings.preferences().renderer_minutes)
        self.budget.setToolTip("How many more minutes to train the neural renderer (added to the time "
                               "it has already trained)")
        self.budget.valueChanged.connect(lambda v: session.settings.update_preferences(renderer_minutes=v))

        self.renderer_kind = QComboBox()
        self.renderer_kind.setObjectName("rendererKind")
        from core import lowerface
        from core.renderer.config import DEFAULT_RENDERER

        for name in lowerface.names(trains=True):
            self.renderer_kind.addItem(lowerface.VARIANTS[name].label, name)
            self.renderer_kind.setItemData(self.renderer_kind.count() - 1, lowerface.VARIANTS[name].summary,
                                           Qt.ItemDataRole.ToolTipRole)

        kind = self.renderer_kind.findData(session.settings.preferences().renderer_kind or DEFAULT_RENDERER)
        self.renderer_kind.setCurrentIndex(max(kind, 0))
        self.renderer_kind.setToolTip("The real-pixel renderer also sees the video frame around the mouth and "
                                      "real frames of the person, so lips and teeth come out sharp sooner. "
                                      "Switching starts the renderer's training afresh.")
        self.renderer_kind.currentIndexChanged.connect(
            lambda _: session.settings.update_preferences(renderer_kind=self.renderer_kind.currentData()))

        self.features_choice = self._features_choice()
        self.panels = {AUDIO: self._panel(AUDIO), RENDERER: self._panel(RENDERER, self.budget)}
        self.preview = ImageView("Held-out frames appear here during renderer training: the 3D "
                                 "render, the generated face and the real frame.")
        self.preview.setObjectName("trainingPreview")
        self.preview_caption = QLabel("")
        self.preview_caption.setObjectName("previewCaption")
        self.preview_caption.setWordWrap(True)
        self.preview_caption.setAlignment(Qt.AlignmentFlag.AlignCenter)

        grid = QGridLayout()
        grid.addWidget(self.panels[AUDIO].box, 0, 0)
        grid.addWidget(self.panels[RENDERER].box, 0, 1)
        grid.addWidget(self.panels[AUDIO].plot, 1, 0)
        grid.addWidget(self.panels[RENDERER].plot, 1, 1)
        grid.addWidget(self.panels[AUDIO].evaluation, 2, 0)
        grid.addWidget(self.panels[RENDERER].evaluation, 2, 1)
        preview_box = QVBoxLayout()
        preview_box.addWidget(self.preview, 1)
        preview_box.addWidget(self.preview_caption)
        grid.addLayout(preview_box, 0, 2, 3, 1)
        grid.setColumnStretch(0, 3)
        grid.setColumnStretch(1, 3)
        grid.setColumnStretch(2, 2)
        self.preview.setMaximumWidth(420)
        grid.setRowStretch(1, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 16, 24, 16)
        layout.addWidget(title)
        layout.addWidget(intro)
        layout.addLayout(grid, 1)

        self.wire_jobs(session, AUDIO, RENDERER)
        session.project_changed.connect(lambda _: self.refresh())
        session.project_changed.connect(lambda _: self.show_history())
        session.stages_changed.connect(self.refresh)
        self.refresh()

    def _panel(self, name: str, budget: QSpinBox | None = None) -> TrainingPanel:
        box = QGroupBox(TITLE_OF[name])
        status = QLabel("")
        status.setWordWrap(True)
        status.setObjectName(f"{name}_status")
        start = QPushButton("Start")
        start.setObjectName(f"{name}_start")
        start.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)  # never clip its text
        start.clicked.connect(lambda: self.start(name))
        progress = ProgressPanel(pausable=True)
        progress.cancel_requested.connect(lambda: self.session.runner.cancel(name))
        progress.pause_requested.connect(lambda paused: self._pause(name, paused))
        row = QHBoxLayout()
        row.addWidget(start)
        if budget is not None:
            row.addWidget(QLabel("Train for:"))
            row.addWidget(budget)
            row.addWidget(self.renderer_kind)
        if name == AUDIO:
            encoder = QPushButton("Speech encoder...")
            encoder.setObjectName("speechEncoderButton")
            encoder.setToolTip("Use another CTranslate2 Whisper model folder for the speech features "
                               "(e.g. a multilingual one); cancel the dialog to go back to the built-in "
                               "Whisper tiny.en")
            encoder.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
            encoder.clicked.connect(self.choose_encoder)
            row.addWidget(self.features_choice)
            row.addWidget(encoder)
        row.addStretch(1)
        layout = QVBoxLayout(box)
        layout.addWidget(status)
        layout.addLayout(row)
        layout.addWidget(progress)
        plot = LossPlot(f"{TITLE_OF[name]} losses (log scale)", skip=("val_psnr",))
        plot.setObjectName(f"{name}_plot")
        evaluation = QLabel("")
        evaluation.setObjectName(f"{name}_evaluation")
        evaluation.setWordWrap(True)
        return TrainingPanel(box, status, start, progress, plot, evaluation)

    # ---- history ----------------------------------------------------------------------------------
    def show_history(self) -> None:
        """Draw the curves, last evaluation and last preview stored in the project."""
        project = self.session.project
        self.histories = {}
        self.preview.clear_image(self.preview.placeholder)
        self.preview_caption.setText("")
        for name, panel in self.panels.items():
            panel.plot.clear_points()
            panel.evaluation.setText("")
            if project is None:
                continue
            history = TrainingHistory.load(project, STAGE_OF[name])
            self.histories[name] = history
            for x, figures in history.replay():
                panel.plot.add_point(x, figures)
            panel.evaluation.setText(_evaluation_text(history.evaluations[-1] if history.evaluations else None))
            if history.preview is not None:
                self._show_preview(history.preview, history.preview_step)

    def _show_preview(self, image, step) -> None:
        self.preview.set_image(image)
        self.preview_caption.setText("Held-out frames (never trained on): 3D render | generated | real"
                                     + (f" (step {step:.0f})" if step is not None else ""))

    # ---- state -------------------------------------------------------------------------------------
    def refresh(self) -> None:
        project = self.session.project
        runner = self.session.runner
        if project is not None:
            from core.audio2exp.speech import project_features

            index = self.features_choice.findData(project_features(project))
            if index >= 0 and index != self.features_choice.currentIndex():
                self.features_choice.blockSignals(True)
                self.features_choice.setCurrentIndex(index)
                self.features_choice.blockSignals(False)
        for name, panel in self.panels.items():
            running = runner.is_running(name)
            panel.status.setText(self._status_text(project, name))
            enable(panel.start, self._why_not(project, name), f"Train the {TITLE_OF[name].lower()}")
            panel.start.setText(self._start_text(project, name))
            if not running:
                panel.progress.set_running(False)

    def _why_not(self, project, name: str) -> str | None:
        """Why the Start button of ``name`` is greyed out (None: it is not)."""
        if project is None:
            return "Open or create a project first"
        if self.session.runner.is_running(name):
            return "Training: pause or cancel it below"
        if self.session.runner.is_running():
            return "Another job is running: wait for it, or cancel it (Work > Cancel)"
        return None

    @staticmethod
    def _status_text(project, name: str) -> str:
        if project is None:
            return "Open a project first."
        if project.stage("fitting").status != "done":
            return "Run face capture on the Prepare page first."
        record = project.stage(STAGE_OF[name])
        if record.status == "done":
            text = "Trained." if project.is_current(STAGE_OF[name]) else \
                "Trained on an older face capture: train again."
        elif record.status in ("cancelled", "running"):
            text = "Stopped before the end; Start continues from the last checkpoint."
        elif record.status == "failed":
            text = f"The last training failed: {record.message or 'see the log'}."
        else:
            return "Not trained yet." + _encoder_text(project, name)
        return text + "\n" + _figures(name, record.metrics or {}) + _encoder_text(project, name)

    @staticmethod
    def _start_text(project, name: str) -> str:
        if project is None:
            return "Start"
        status = project.stage(STAGE_OF[name]).status
        if status in ("cancelled", "running") or (name == RENDERER and status == "done"):
            return "Continue training"
        return "Train again" if status == "done" else "Start"

    def _features_choice(self) -> QComboBox:
        """The audio model's speech features: the variants of core.audio2exp.registry."""
        from core.audio2exp import registry

        combo = QComboBox()
        combo.setObjectName("speechFeaturesChoice")
        combo.setToolTip("Speech features the audio model learns from (a variant that cannot load here "
                         "falls back, and the training says so)")
        for name, label in registry.labels().items():
            text = label + (" (default)" if name == registry.DEFAULT else "")
            combo.addItem(text, name)
            combo.setItemData(combo.count() - 1, text, Qt.ItemDataRole.ToolTipRole)
        # long labels must not widen the page past a 1280 px screen: the list shows them whole
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(22)
        combo.view().setMinimumWidth(combo.view().sizeHintForColumn(0) + 24)
        combo.currentIndexChanged.connect(lambda _: self.choose_features(combo.currentData()))
        return combo

    def choose_features(self, kind: str) -> None:
        """Keep the speech-feature variant for this project's next audio training."""
        from core.audio2exp.speech import project_features, set_project_features

        project = self.session.project
        if project is not None and kind and kind != project_features(project):
            set_project_features(project, kind)

    def choose_encoder(self, folder: str | None = None) -> None:
        """Pick a CTranslate2 Whisper folder for this project (checked before it is kept); an empty
        choice goes back to the built-in encoder."""
        from core.audio2exp.encoder import EncoderConfig, EncoderError, load_encoder
        from core.audio2exp.speech import set_project_encoder_folder

        project = self.session.project
        if project is None:
            return
        if folder is None:
            chosen = choose_folder(self, self.session.settings, "encoder", "CTranslate2 Whisper model folder")
            folder = str(chosen) if chosen else ""
        try:
            if folder:
                load_encoder(EncoderConfig(folder=folder))
            set_project_encoder_folder(project, folder or None)
        except EncoderError as exc:
            show_error(self, exc, "This folder cannot be used")
            return
        self.refresh()

    # ---- jobs ----------------------------------------------------------------------------------------
    def start(self, name: str) -> None:
        project = self.session.project
        if project is None or self.session.runner.is_running():
            return
        panel = self.panels[name]
        history = self.histories.get(name) or TrainingHistory.load(project, STAGE_OF[name])
        history.start_run(continues=(name == RENDERER))  # as jobs.train_* records it in the project
        self.histories[name] = history
        if name == AUDIO:
            panel.plot.clear_points()
            panel.evaluation.setText("")
            factory = lambda: jobs.train_audio(project)  # noqa: E731
        else:
            minutes, kind = float(self.budget.value()), self.renderer_kind.currentData()
            factory = lambda: jobs.train_renderer(project, minutes=minutes, renderer=kind)  # noqa: E731
        panel.progress.show_message(f"Starting {TITLE_OF[name].lower()} training...", done=False)
        self.session.runner.start(name, factory)
        self.refresh()
        panel.progress.set_running(True)

    def _pause(self, name: str, paused: bool) -> None:
        if paused:
            self.session.runner.pause(name)
        else:
            self.session.runner.resume(name)

    def jobs_busy(self, busy: bool) -> None:
        self.refresh()

    def job_progress(self, name: str, record) -> None:
        panel = self.panels[name]
        self.show_job_progress(panel.progress, name, record)
        history = self.histories.setdefault(name, TrainingHistory(STAGE_OF[name]))
        before = len(history.points), len(history.evaluations)
        added = history.add(record)
        if added is not None:
            if len(history.points) < before[0] or len(history.evaluations) < before[1]:
                panel.plot.clear_points()  # resumed before the last stored points: redraw
                for x, figures in history.replay():
                    panel.plot.add_point(x, figures)
            else:
                panel.plot.add_point(*added)
            if history.evaluations:
                panel.evaluation.setText(_evaluation_text(history.evaluations[-1]))
        if record.preview is not None:
            self._show_preview(record.preview, added[0] if added else record.step)

    def job_done(self, name: str, result) -> None:
        panel = self.panels[name]
        text = result.describe() if hasattr(result, "describe") else "Finished."
        panel.progress.show_message(text.splitlines()[0].split(";")[0], done=True)
        panel.progress.setToolTip(text)
        self.session.stages_changed.emit()

    def job_failed(self, name: str, exc) -> None:
        self.panels[name].progress.show_message("Training failed.", done=False)
        show_error(self, exc, f"{TITLE_OF[name]} training failed")

    def job_cancelled(self, name: str) -> None:
        self.panels[name].progress.show_message(
            "Cancelled. The last checkpoint is kept; Start continues from it.")

    def job_paused(self, name: str, paused: bool) -> None:
        self.panels[name].progress.stage.setText("Paused: press Resume to continue." if paused else "Resuming...")

    def job_stopped(self, name: str) -> None:
        self.panels[name].progress.set_running(False)
        self.refresh()
