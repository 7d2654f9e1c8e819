"""The PySide6 desktop app: windows, pages, widgets and the workers that run core jobs."""
