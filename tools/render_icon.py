"""Render resources/icons/rapport.svg to the PNG sizes the window and the .desktop file use,
and to the .ico (Windows) and .icns (macOS) build.spec gives the executable.

Run after editing the SVG: ``QT_QPA_PLATFORM=offscreen .venv/bin/python tools/render_icon.py``.
The bitmaps are committed because X11 task bars, icon themes and the executables want bitmaps,
and rendering them at run time would make the start wait on QtSvg. Both containers hold PNG
images as they are (Windows Vista and macOS 10.7 on read them), so no imaging library is needed.
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
SIZES = (16, 24, 32, 48, 64, 128, 256)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# The icns types that hold PNG data, by pixel size.
ICNS_TYPES = {16: b"icp4", 32: b"icp5", 64: b"icp6", 128: b"ic07", 256: b"ic08"}


def write_ico(pngs: dict[int, bytes], target: Path) -> None:
    header = struct.pack("<HHH", 0, 1, len(pngs))
    offset = len(header) + 16 * len(pngs)
    entries, blobs = b"", b""
    for size, data in sorted(pngs.items()):
        # Width and height 0 mean 256; colour count 0, planes 1, 32 bits per pixel.
        entries += struct.pack("<BBBBHHII", size % 256, size % 256, 0, 0, 1, 32, len(data), offset)
        blobs += data
        offset += len(data)
    target.write_bytes(header + entries + blobs)


def write_icns(pngs: dict[int, bytes], target: Path) -> None:
    body = b"".join(
        kind + struct.pack(">I", 8 + len(pngs[size])) + pngs[size]
        for size, kind in sorted(ICNS_TYPES.items())
    )
    target.write_bytes(b"icns" + struct.pack(">I", 8 + len(body)) + body)


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
    pngs = {size: (ICONS / f"rapport-{size}.png").read_bytes() for size in SIZES}
    write_ico({size: pngs[size] for size in ICO_SIZES}, ICONS / "rapport.ico")
    write_icns(pngs, ICONS / "rapport.icns")
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
