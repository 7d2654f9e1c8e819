"""Every QAction of the app, built by one helper from data keyed by action id (resources/shortcuts.json)."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

from app.resources import resource_path


@cache
def action_specs() -> dict[str, dict[str, str]]:
    """{action id: {"text", "shortcut", "tip"}} from resources/shortcuts.json."""
    return json.loads(resource_path("shortcuts.json").read_text(encoding="utf-8"))


def new_action(parent: QWidget, action_id: str, slot: Callable[[], object] | None = None,
               checkable: bool = False) -> QAction:
    """A QAction named, described and bound to its shortcut from the spec of ``action_id``.

    Shortcuts work anywhere in the window (WindowShortcut), except Space and arrows, which the
    window routes only when no text field or slider has focus (see MainWindow).
    """
    spec = action_specs()[action_id]
    action = QAction(spec["text"], parent)
    action.setObjectName(action_id)
    if spec.get("shortcut"):
        action.setShortcut(QKeySequence(spec["shortcut"]))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    tip = spec.get("tip", "")
    if spec.get("shortcut"):
        tip = f"{tip} ({spec['shortcut']})"
    action.setToolTip(tip)
    action.setStatusTip(tip)
    action.setCheckable(checkable)
    if slot is not None:
        action.triggered.connect(lambda *_: slot())
    return action
