"""Every greyed-out button says why in its tooltip: with no project, with a project not yet prepared,
and while another job runs."""

from __future__ import annotations

import threading

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton

from app_fakes import endless_job


def greyed_out(window) -> dict[str, str]:
    """{button text or name: tooltip} of every button explicitly disabled on any page."""
    found = {}
    for index in range(window.pages.count()):
        for button in window.pages.widget(index).findChildren(QAbstractButton):
            if button.testAttribute(Qt.WidgetAttribute.WA_ForceDisabled):
                found[f"{window.pages.tabText(index)}: {button.text() or button.objectName()}"] = button.toolTip()
    return found


def without_reason(window) -> list[str]:
    return [name for name, tip in greyed_out(window).items() if not tip.strip()]


def test_every_greyed_out_button_says_why(window, qtbot, tmp_path, short_video):
    from core.project import Project

    assert greyed_out(window), "no greyed-out button found: the check would prove nothing"
    assert without_reason(window) == []
    tips = greyed_out(window)
    assert tips["2  Prepare: Capture face"] == "Open or create a project first"

    project = Project.create(tmp_path / "project", short_video, consent=True)
    window.session.open_project(project.root)
    assert without_reason(window) == []
    tips = greyed_out(window)
    assert tips["5  Quality: Measure quality"] == "Train the audio model on the Train page first"
    assert tips["4  Dub: Run queue"].startswith("No export is waiting")
    assert "Prepare: Capture face" not in " ".join(tips)  # enabled now

    closed, stepped = threading.Event(), threading.Event()
    window.session.runner.start("other", lambda: endless_job(closed, stepped))
    qtbot.waitUntil(stepped.is_set, timeout=10000)  # running (a job cancelled before its first step never runs)
    try:
        assert without_reason(window) == []
        tips = greyed_out(window)
        for name in ("2  Prepare: Capture face", "3  Train: Start", "4  Dub: Speak"):
            assert tips[name].startswith("Another job is running"), name
    finally:
        window.session.runner.cancel("other")
        qtbot.waitUntil(lambda: not window.session.runner.is_running(), timeout=10000)
    qtbot.waitUntil(closed.is_set, timeout=10000)
