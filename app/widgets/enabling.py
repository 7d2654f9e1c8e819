"""A greyed-out button says why in its tooltip (and what it does once it is enabled)."""

from __future__ import annotations

from PySide6.QtWidgets import QAbstractButton


def enable(button: QAbstractButton, why_not: str | None, tip: str = "") -> None:
    """Enable ``button`` with the tooltip ``tip`` when ``why_not`` is empty, else grey it out with
    ``why_not`` as its tooltip."""
    button.setEnabled(not why_not)
    button.setToolTip(why_not or tip)
