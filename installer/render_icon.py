"""Render resources/icon.svg to square PNGs (for the .desktop entry and the Windows/macOS icons).

    python installer/render_icon.py OUT_DIR [SIZE ...]     default sizes: 48 128 256
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SVG = ROOT / "resources" / "icon.svg"


def render(out_dir: Path, sizes: list[int]) -> list[Path]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 (QImage needs an app)
    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        raise SystemExit(f"{SVG}: not a valid SVG image")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for size in sizes:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        renderer.render(painter)
        painter.end()
        target = out_dir / f"portrait-dub-{size}.png"
        tmp = target.with_name(target.name + ".tmp.png")
        if not image.save(str(tmp), "PNG"):
            raise SystemExit(f"could not write {target}")
        tmp.replace(target)
        written.append(target)
    return written


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    for path in render(Path(sys.argv[1]), [int(s) for s in sys.argv[2:]] or [48, 128, 256]):
        print(path)
