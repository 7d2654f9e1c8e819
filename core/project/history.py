"""Training history kept in the project: the loss curves, the figures at each evaluation and the last
held-out preview of a training stage, so they can be shown again after the project is reopened, and a
continued training carries on the same curves.

Files (project folder)::

    history/<stage>.json          {"version", "points": [[x, {loss: value}]], "evaluations": [...]}
    history/<stage>_preview.npz   image uint8 (H, W, 3), step

x is the step of the stage's whole training: the job's own step counter where it has one (the
renderer counts across resumed runs), made monotonic where a job restarts its counter inside one run
(the audio job trains two networks one after the other). Figures named ``val_*`` are held-out
evaluations: they are kept apart, once per evaluation, not repeated at every step.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.atomic import load_npz, save_npz, write_json
from core.jobs import Job, Progress

log = logging.getLogger(__name__)

FOLDER = "history"
VERSION = 1
MAX_POINTS = 20000  # beyond this, every other older point is dropped (curves keep their shape)
SAVE_EVERY_S = 5.0


def is_evaluation_figure(name: str) -> bool:
    return name.startswith("val_")


@dataclass
class TrainingHistory:
    """The curves of one training stage. ``add(record)`` takes a job's Progress record and returns
    (x, figures to plot now) or None when the record carries no figures."""

    stage: str
    points: list[tuple[float, dict[str, float]]] = field(default_factory=list)
    evaluations: list[dict[str, Any]] = field(default_factory=list)
    preview: np.ndarray | None = None
    preview_step: float | None = None
    continues: bool = True  # False: a new run starts the curves afresh (the audio model retrains)
    _run_started: bool = False
    _offset: float = 0.0
    _last_step: float | None = None
    _counter: int = 0

    # ---- recording -----------------------------------------------------------------------------
    def start_run(self, continues: bool | None = None) -> None:
        """The next record begins a new run of the job (called by record_history)."""
        if continues is not None:
            self.continues = continues
        self._run_started, self._offset, self._last_step, self._counter = False, 0.0, None, 0

    def add(self, record: Progress) -> tuple[float, dict[str, float]] | None:
        figures = {k: float(v) for k, v in (record.losses or {}).items() if _finite(v)}
        if not figures and record.preview is None:
            return None
        x = self._x(record)
        losses = {k: v for k, v in figures.items() if not is_evaluation_figure(k)}
        evaluation = {k: v for k, v in figures.items() if is_evaluation_figure(k)}
        plotted = dict(losses)
        last = self.evaluations[-1] if self.evaluations else None
        if evaluation and (record.preview is not None or last is None or last["figures"] != evaluation
                           or last["step"] > x):
            self.evaluations.append({"step": x, "figures": evaluation})
            plotted.update(evaluation)
        if losses:
            self.points.append((x, losses))
            if len(self.points) > MAX_POINTS:
                half = len(self.points) // 2
                self.points = self.points[:half:2] + self.points[half:]
        if record.preview is not None:
            self.preview, self.preview_step = np.asarray(record.preview, dtype=np.uint8), x
        return x, plotted

    def _x(self, record: Progress) -> float:
        self._counter += 1
        step = float(record.step) if record.step is not None else float(self._counter)
        if not self._run_started:
            self._run_started = True
            last_x = self.points[-1][0] if self.points else None
            if not self.continues:
                self.clear()
            elif record.step is None:
                self._offset = last_x if last_x is not None else 0.0
            else:
                self._truncate_from(step)  # resumed from a checkpoint older than the last points
        elif self._last_step is not None and step < self._last_step:
            self._offset = self.points[-1][0] if self.points else self._offset  # the counter restarted
        self._last_step = step
        return self._offset + step

    def _truncate_from(self, x: float) -> None:
        self.points = [p for p in self.points if p[0] < x]
        self.evaluations = [e for e in self.evaluations if e["step"] < x]

    def clear(self) -> None:
        self.points, self.evaluations = [], []
        self.preview, self.preview_step = None, None

    # ---- replaying -----------------------------------------------------------------------------
    def replay(self) -> list[tuple[float, dict[str, float]]]:
        """Every (x, figures) in order, as ``add`` returned them: losses and evaluations merged."""
        out = [(x, dict(losses)) for x, losses in self.points]
        out += [(e["step"], dict(e["figures"])) for e in self.evaluations]
        return sorted(out, key=lambda p: p[0])

    @property
    def last_step(self) -> float | None:
        steps = [p[0] for p in self.points] + [e["step"] for e in self.evaluations]
        return max(steps) if steps else None

    # ---- files ------------------------------------------------------------------------------------
    def save(self, project) -> None:
        folder = project.path(FOLDER)
        folder.mkdir(exist_ok=True)
        write_json(folder / f"{self.stage}.json", {
            "version": VERSION, "stage": self.stage,
            "points": [[x, losses] for x, losses in self.points], "evaluations": self.evaluations})
        if self.preview is not None:
            save_npz(folder / f"{self.stage}_preview.npz", image=self.preview,
                     step=np.float64(self.preview_step or 0.0))

    @classmethod
    def load(cls, project, stage: str) -> "TrainingHistory":
        """The stored history of ``stage`` (empty if none, or unreadable: then it starts afresh)."""
        history = cls(stage)
        path = project.path(FOLDER, f"{stage}.json")
        if path.exists():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                history.points = [(float(x), {k: float(v) for k, v in losses.items()})
                                  for x, losses in data.get("points", [])]
                history.evaluations = [{"step": float(e["step"]), "figures": dict(e["figures"])}
                                       for e in data.get("evaluations", [])]
            except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
                log.warning("%s is unreadable (%s); the training history starts afresh", path, exc)
                history.points, history.evaluations = [], []
        preview = project.path(FOLDER, f"{stage}_preview.npz")
        if preview.exists():
            try:
                arrays = load_npz(preview)
                history.preview, history.preview_step = arrays["image"], float(arrays["step"])
            except Exception as exc:  # noqa: BLE001 (a damaged preview only loses the picture)
                log.warning("%s is unreadable: %s", preview, exc)
        return history


def record_history(project, stage: str, job: Job, continues: bool = True) -> Job:
    """Run ``job`` unchanged, keeping its curves, evaluations and last preview in the project.

    continues: the job carries on its previous training (the renderer resumes from a checkpoint),
    so its curves extend the stored ones; False starts them afresh (the audio model retrains)."""
    history = TrainingHistory.load(project, stage)
    history.start_run(continues)
    last_save = time.monotonic()
    changed = False
    try:
        while True:
            try:
                record = next(job)
            except StopIteration as stop:
                return stop.value
            if isinstance(record, Progress) and history.add(record) is not None:
                changed = True
                if time.monotonic() - last_save >= SAVE_EVERY_S:
                    history.save(project)
                    last_save, changed = time.monotonic(), False
            yield record
    finally:
        job.close()
        if changed:
            try:
                history.save(project)
            except OSError as exc:
                log.warning("the training history could not be saved: %s", exc)


def _finite(value: Any) -> bool:
    try:
        return bool(np.isfinite(float(value)))
    except (TypeError, ValueError):
        return False


def history_path(project, stage: str) -> Path:
    return project.path(FOLDER, f"{stage}.json")
