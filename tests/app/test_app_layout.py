"""No text is cut on any page at 1280x800 and 1920x1080, with a prepared project open."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel


def clipped_texts(page) -> list[str]:
    """Visible one-line labels and buttons whose text is wider than the widget shows."""
    out = []
    for label in page.findChildren(QLabel):
        text = label.text()
        if not label.isVisible() or not text or label.wordWrap() or "<" in text or label.pixmap() and \
                not label.pixmap().isNull():
            continue
        for line in text.splitlines():
            if label.fontMetrics().horizontalAdvance(line) > label.contentsRect().width() + 1:
                out.append(f"{type(page).__name__} label {line!r} ({label.contentsRect().width()} px)")
    for button in page.findChildren(QAbstractButton):
        if button.isVisible() and button.text() and button.width() < button.minimumSizeHint().width():
            out.append(f"{type(page).__name__} button {button.text()!r} ({button.width()} px)")
    return out


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)])
def test_no_text_is_cut_on_any_page(window, qtbot, project_copy, size):
    window.start_page.open_project(project_copy.root)
    window.resize(*size)
    problems = []
    for index in range(window.pages.count()):
        window.pages.setCurrentIndex(index)
        QApplication.processEvents()
        problems += clipped_texts(window.pages.currentWidget())
    assert not problems, problems
