"""The bar above the pages while the open project's video is missing, with "Locate video..."."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy


class MissingVideoBar(QFrame):
    """Says which video is missing; ``locate_requested()`` when the user presses the button."""

    locate_requested = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("missingVideoBar")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.label = QLabel("")
        self.label.setObjectName("missingVideoText")
        self.locate_button = QPushButton("Locate video...")
        self.locate_button.setObjectName("locateVideo")
        self.locate_button.setToolTip("Point the project at the video's new place (it is checked to be "
                                      "the same video)")
        self.locate_button.clicked.connect(self.locate_requested)
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 4, 4, 4)
        row.addWidget(self.label, 1)
        row.addWidget(self.locate_button)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.hide()

    def show_missing(self, path: str) -> None:
        self.label.setText(f"The project's video is missing: {path}. Training results are kept, but "
                           "previews and exports need it.")
        self.label.setToolTip(path)
        self.show()
