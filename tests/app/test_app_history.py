"""Training history: the curves, evaluations and last preview of a real (tiny) renderer training are
kept in the project, drawn again after reopening, and a continued training extends the same curves."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QThreadPool

import app.dialogs
from app.main_window import MainWindow
from app_fakes import error_boxes
from tests.conftest import tiny_renderer_config

RENDERER = "train_renderer"


@pytest.fixture
def tiny_budget(monkeypatch, project_copy):
    """The page's "more minutes" become 4 more steps of the tiny test network."""
    import dataclasses

    import core.renderer
    from core.project import Project

    tiny = tiny_renderer_config(steps=4)

    def for_device(profile="auto", minutes=None, steps=None, renderer=tiny.renderer):
        done = (Project.open(project_copy.root).stage("renderer").metrics or {}).get("steps", 0)
        return dataclasses.replace(tiny, minutes=None, steps=int(done) + 4, renderer=renderer)

    monkeypatch.setattr(core.renderer.RendererTrainConfig, "for_device", staticmethod(for_device))


def open_window(qtbot, app_settings, root):
    win = MainWindow(app_settings)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    win.start_page.open_project(root)
    return win


def train(qtbot, win):
    with qtbot.waitSignal(win.session.runner.stopped, timeout=600000):  # a busy shared machine
        win.train_page.start(RENDERER)
    assert not error_boxes(win), error_boxes(win)[0].text() if error_boxes(win) else ""


def curve(win, name):
    xs, ys = win.train_page.panels[RENDERER].plot.data.get(name, ([], []))
    return list(xs), list(ys)


def test_history_is_restored_after_reopening_and_continued(qtbot, app_settings, project_copy, tiny_budget,
                                                           monkeypatch):
    monkeypatch.setattr(app.dialogs, "ask", lambda *a, **k: True)
    win = open_window(qtbot, app_settings, project_copy.root)
    train(qtbot, win)
    l1_x, l1_y = curve(win, "l1")
    val_x, _ = curve(win, "val_l1_255")
    assert l1_x == [1, 2, 3, 4]  # one point per step of the real job
    assert val_x == [0, 2, 4]  # evaluations (eval_every=2): once each, not repeated every step
    preview = win.train_page.preview.array.copy()
    evaluation = win.train_page.panels[RENDERER].evaluation.text()
    assert "step 4" in evaluation and "/255" in evaluation
    win.close()
    QThreadPool.globalInstance().waitForDone(30000)

    again = open_window(qtbot, app_settings, project_copy.root)
    assert curve(again, "l1") == (l1_x, l1_y)  # the same curve, drawn from the project
    assert curve(again, "val_l1_255")[0] == val_x
    assert np.array_equal(again.train_page.preview.array, preview)
    assert "step 4" in again.train_page.preview_caption.text()
    assert again.train_page.panels[RENDERER].evaluation.text() == evaluation

    train(qtbot, again)  # continue training: the same curves go on
    xs, ys = curve(again, "l1")
    assert xs == [1, 2, 3, 4, 5, 6, 7, 8] and ys[:4] == l1_y
    assert curve(again, "val_l1_255")[0] == [0, 2, 4, 6, 8]
    assert not np.array_equal(again.train_page.preview.array, preview)  # the newest held-out preview
    again.close()
    QThreadPool.globalInstance().waitForDone(30000)
