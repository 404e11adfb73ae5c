"""Render resources/icons/rapport.svg to the PNG sizes the bundle and the .desktop file use.

Run after editing the SVG: ``QT_QPA_PLATFORM=offscreen .venv/bin/python tools/render_icon.py``.
The PNGs are committed because Windows' .ico, X11 task bars and icon themes want bitmaps, and
rendering them at run time would make the start wait on QtSvg.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
SIZES = (16, 24, 32, 48, 64, 128, 256)


def main() -> int:
    app = QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(ICONS / "rapport.svg"))
    if not renderer.isValid():
        print(f"cannot read {ICONS / 'rapport.svg'}", file=sys.stderr)
        return 1
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        image.save(str(ICONS / f"rapport-{size}.png"))
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
