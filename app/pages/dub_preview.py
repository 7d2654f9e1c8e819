"""The Dub page's preview part: the dubbed video frame by frame (built off the GUI thread, frames
cached), played with sound, compared with the original, and the choice of mouth with the advice
from the project's measurements. Before any audio it shows the video itself.

A mixin of DubPage (app/pages/dub.py): it reads the audio part's ``audio``, ``audio_path``, ``trim()``
and ``dub_audio_path()``.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QGroupBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from app import jobs
from app.dialogs import show_error
from app.pages.clip_frames import ClipFrames
from app.widgets.clocked_playback import ClockedPlayback
from app.widgets.compare_view import ComparePreview
from app.widgets.frame_viewer import FrameViewer
from app.workers import LatestOnly

log = logging.getLogger(__name__)

PREVIEW_CACHE_BYTES = 600 * 1024 * 1024


def _frame_pair(preview, frame: int):
    """The preview's FramePair for ``frame`` (a preview without originals shows its frame alone)."""
    if hasattr(preview, "frame_pair"):
        return preview.frame_pair(frame)
    from app.frames import FramePair

    image = preview.frame(frame)
    return FramePair(image, image, None)


class FrameCache:
    """Rendered preview frames by key, the oldest dropped beyond ``limit`` bytes."""

    def __init__(self, limit: int) -> None:
        self.limit, self.items, self.bytes = limit, {}, 0

    def get(self, key):
        pair = self.items.pop(key, None)
        if pair is not None:
            self.items[key] = pair  # most recently used last
        return pair

    def put(self, key, pair) -> None:
        if key in self.items:
            return
        self.items[key] = pair
        self.bytes += pair.nbytes
        while self.bytes > self.limit and len(self.items) > 1:
            old = self.items.pop(next(iter(self.items)))
            self.bytes -= old.nbytes

    def clear(self) -> None:
        self.items.clear()
        self.bytes = 0


class DubPreviewPart:
    def _init_preview(self) -> None:
        self.preview = None  # DubPreview for the current audio and trim
        self.preview_key: tuple | None = None
        self.clip = None  # ClipFrames: the video itself, shown until audio is loaded
        self._models_version = 0  # bumped when training changed the models the preview uses
        self.frame_cache = FrameCache(PREVIEW_CACHE_BYTES)  # frames rendered once play again at once
        self.builder = LatestOnly(self)  # builds DubPreview objects (loads models: slow)
        self.builder.done.connect(self._on_preview_built)
        self.builder.failed.connect(self._on_preview_failed)
        self.renders = LatestOnly(self)  # renders single preview frames
        self.renders.done.connect(self._on_frame)
        self.renders.failed.connect(self._on_frame_failed)

    def _build_preview_box(self) -> QGroupBox:
        self.compare_view = ComparePreview("Load audio to preview the dubbed video.")
        self.viewer = FrameViewer(view=self.compare_view)
        self.viewer.frame_changed.connect(self._on_scrub)
        self.advice_label = QLabel("")
        self.advice_label.setObjectName("adviceLabel")
        self.advice_label.setWordWrap(True)
        self.renderer_choice = QComboBox()
        self.renderer_choice.setObjectName("rendererChoice")
        self.renderer_choice.setToolTip("How the dubbed mouth is made, for the preview and the export")
        self.refresh_renderers()
        self.renderer_choice.currentIndexChanged.connect(lambda _: self.rebuild_preview())
        self.play_button = QPushButton("Play")
        self.play_button.setToolTip("Play the preview with sound (Space)")
        self.play_button.clicked.connect(self.toggle_play)
        self.compare_check = QCheckBox("Before / after")
        self.compare_check.setObjectName("compareCheck")
        self.compare_check.setToolTip("Split the picture: the original frame left of the divider, the dubbed "
                                      "one right of it. Drag the divider to move it.")
        self.compare_check.toggled.connect(self.compare_view.set_compare)
        self.original_button = QPushButton("Hold: original")
        self.original_button.setObjectName("holdOriginal")
        self.original_button.setToolTip("Shows the original frame while held (or hold B over the picture)")
        self.original_button.pressed.connect(lambda: self.compare_view.hold_original(True))
        self.original_button.released.connect(lambda: self.compare_view.hold_original(False))
        self.zoom_check = QCheckBox("Zoom on mouth")
        self.zoom_check.setObjectName("zoomCheck")
        self.zoom_check.setToolTip("Show only the mouth region, enlarged with its pixels kept sharp")
        self.zoom_check.toggled.connect(self.compare_view.set_zoom)
        self.preview_label = QLabel("")
        self.preview_label.setObjectName("previewLabel")
        self.preview_label.setWordWrap(True)
        play_row = QHBoxLayout()
        play_row.addWidget(self.play_button)
        play_row.addWidget(self.compare_check)
        play_row.addWidget(self.original_button)
        play_row.addWidget(self.zoom_check)
        play_row.addStretch(1)
        mouth_row = QHBoxLayout()
        mouth_row.addWidget(QLabel("Mouth:"))
        mouth_row.addWidget(self.renderer_choice)
        mouth_row.addWidget(self.advice_label, 1)
        preview_box = QGroupBox("Preview")
        preview_layout = QVBoxLayout(preview_box)
        preview_layout.addWidget(self.viewer, 1)
        preview_layout.addLayout(play_row)
        preview_layout.addLayout(mouth_row)
        preview_layout.addWidget(self.preview_label)
        self.playback = ClockedPlayback(self.viewer, lambda: self.play_button.setText("Play"), self)
        self.play_timer = self.playback.timer
        return preview_box

    def rebuild_preview(self) -> None:
        project = self.session.project
        if project is None or self.audio is None:
            return
        start, end = self.trim()
        if end - start < 0.1:
            self.preview_label.setText("The trimmed audio is too short to dub.")
            return
        key = (self.audio_path, round(start, 3), round(end, 3), self.session.project.root,
               self._models_version, self.renderer())
        if key == self.preview_key:
            return  # the region re-emits on repaints; nothing changed
        self.stop_playing()
        # the same audio and trim with another setting (the mouth, retrained models): stay on the frame
        same_audio = self.preview_key is not None and self.preview_key[:4] == key[:4]
        self._resume_frame = self.viewer.frame if same_audio else 0
        self.preview, self.preview_key = None, key
        self.frame_cache.clear()
        self.renders.clear()
        self.preview_label.setText("Preparing the preview (loading the models)...")
        try:
            path = self.dub_audio_path()
        except Exception as exc:  # noqa: BLE001
            show_error(self, exc, "The trimmed audio could not be saved")
            return
        renderer = self.renderer()
        self.builder.request(self.preview_key, lambda: jobs.dub_preview(project, path, renderer=renderer))

    def _on_preview_built(self, key, preview) -> None:
        if key != self.preview_key:
            return
        self.preview = preview
        self.viewer.set_frame_count(preview.n_frames, preview.fps)
        from core import lowerface

        mode = getattr(preview, "mode", "")
        label = lowerface.VARIANTS[mode].label.lower() if mode in lowerface.VARIANTS else mode
        self.preview_label.setText(f"{preview.n_frames} frames at {preview.fps:.2f} fps"
                                   + (f", mouth: {label}" if label else "")
                                   + ". Scrub the timeline or press Play.")
        frame = min(getattr(self, "_resume_frame", 0), preview.n_frames - 1)
        self.viewer.set_frame(frame)
        self._request_frame(frame)

    def _on_preview_failed(self, key, exc) -> None:
        if key != self.preview_key:
            return
        message = str(exc) if isinstance(exc, Exception) else "unknown error"
        log.info("no preview: %s", message)
        self.viewer.set_frame_count(0)
        self.viewer.view.clear_image("No preview yet.")
        self.preview_label.setText(f"No preview: {message}")

    def _on_scrub(self, frame: int) -> None:
        if self.preview is not None:
            start, _ = self.trim()
            self.waveform.set_playhead(start + frame / self.preview.fps)
            self._request_frame(frame)
        elif self.clip is not None and self.audio is None:
            self._request_frame(frame)

    def _request_frame(self, frame: int) -> None:
        preview = self.preview if self.preview is not None else self.clip
        cached = self.frame_cache.get((self.preview_key, frame))
        if cached is not None:
            self._show_pair(cached)
            return
        self.renders.request((self.preview_key, frame), lambda: _frame_pair(preview, frame))

    def _on_frame(self, key, pair) -> None:
        preview_key, frame = key
        if preview_key == self.preview_key:
            self.frame_cache.put(key, pair)
            self._show_pair(pair)  # while playing, the newest frame made (slower renders skip frames)

    def _show_pair(self, pair) -> None:
        self.compare_view.set_images(pair.dubbed, pair.source, pair.mouth)

    def _on_frame_failed(self, key, exc) -> None:
        self.stop_playing()
        self.preview_label.setText(f"The preview frame could not be made: {exc}")

    def toggle_play(self) -> None:
        if self.play_timer.isActive():
            self.stop_playing()
        else:
            self.start_playing()

    def start_playing(self) -> None:
        if self.preview is None and self.clip is not None and self.audio is None:
            self.playback.start(self.clip.fps)  # the clip alone, before any audio
            self.play_button.setText("Pause")
            return
        if self.preview is None or self.audio is None:
            return
        frame = 0 if self.viewer.frame >= self.viewer.frame_count - 1 else self.viewer.frame
        start, end = self.trim()
        a = int(round((start + frame / self.preview.fps) * jobs.DUB_AUDIO_RATE))
        b = int(round(end * jobs.DUB_AUDIO_RATE))
        if not self.playback.start(self.preview.fps, self.audio[a:b], jobs.DUB_AUDIO_RATE):
            self.preview_label.setText("No sound output device: playing without sound.")
        self.play_button.setText("Pause")

    def stop_playing(self) -> None:
        self.playback.stop()

    def step(self, delta: int) -> None:
        self.stop_playing()
        self.viewer.step(delta)

    # ---- the mouth ------------------------------------------------------------------------------------
    def renderer(self) -> str | None:
        """The lower-face variant chosen (None: the default)."""
        return self.renderer_choice.currentData()

    def refresh_renderers(self, advise: bool = False) -> None:
        """List the registry's variants; those this project cannot dub with yet are greyed out and
        say why. Keeps the choice where it can; with ``advise`` (a project just opened), chooses the
        variant the project's own measurements found best, and says so."""
        from core import lowerface
        from core.lowerface.advice import advice_for

        project = self.session.project
        current = self.renderer_choice.currentData() if self.renderer_choice.count() else None
        advice = advice_for(project) if project is not None else None
        self.advice_label.setText(advice.describe() if advice else "")
        if advise:
            current = advice.variant if advice else None
        self.renderer_choice.blockSignals(True)
        self.renderer_choice.clear()
        model = self.renderer_choice.model()
        for name, variant in lowerface.VARIANTS.items():
            reason = variant.ready(project) if project is not None else ""
            self.renderer_choice.addItem(variant.label, name)
            row = self.renderer_choice.count() - 1
            self.renderer_choice.setItemData(row, variant.summary + (f"\nNot available: {reason}." if reason else ""),
                                             Qt.ItemDataRole.ToolTipRole)
            if reason:
                model.item(row).setEnabled(False)
        keep = self.renderer_choice.findData(current or lowerface.DEFAULT)
        if keep < 0 or not model.item(keep).isEnabled():
            keep = self.renderer_choice.findData(lowerface.DEFAULT)
        self.renderer_choice.setCurrentIndex(max(keep, 0))
        self.renderer_choice.blockSignals(False)

    def show_clip(self, project) -> None:
        """Until audio is loaded the preview shows the video itself (scrub it, play it silently)."""
        self.clip = None
        self.frame_cache.clear()  # the last project's clip frames were kept under the same keys
        self.renders.clear()
        if project is not None:
            try:
                self.clip = ClipFrames(project)
            except Exception as exc:  # noqa: BLE001 (a moved video: the bar above the pages says so)
                log.info("the clip cannot be shown: %s", exc)
        if self.clip is None:
            self.viewer.set_frame_count(0)
            self.viewer.view.clear_image("Load audio to preview the dubbed video.")
            return
        self.viewer.set_frame_count(self.clip.n_frames, self.clip.fps)
        self.preview_label.setText("The video as it is: load, record or speak audio to preview the dub.")
        self.viewer.set_frame(0)
        self._request_frame(0)
