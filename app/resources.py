"""Paths of the files in resources/ (icons, style sheet, shortcut table)."""

from __future__ import annotations

from pathlib import Path

RESOURCES = Path(__file__).resolve().parents[1] / "resources"


def resource_path(name: str) -> Path:
    return RESOURCES / name


def style_sheet() -> str:
    path = resource_path("style.qss")
    return path.read_text(encoding="utf-8") if path.exists() else ""
