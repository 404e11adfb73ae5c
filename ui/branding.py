"""The application's name and icon, given to Qt once so every window, the task bar and the
desktop's launcher show the same Rapport."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication, QIcon

from models.paths import resource_path

APP_NAME = "Rapport"
# Matches resources/rapport.desktop, so a Wayland compositor or a dock finds the launcher's
# icon and name for the running window.
DESKTOP_FILE = "rapport"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)


def app_icon() -> QIcon:
    """The icon at every size the files offer: the PNGs are crisp where a task bar wants small
    bitmaps, the SVG scales for high-DPI screens (and needs Qt's SVG plugin, so a bundle that
    lost it shows the PNGs rather than nothing)."""
    icon = QIcon()
    for size in ICON_SIZES:
        png = resource_path("icons", f"rapport-{size}.png")
        if png.is_file():
            icon.addFile(str(png))
    svg = resource_path("icons", "rapport.svg")
    if svg.is_file():
        icon.addFile(str(svg))
    return icon


def apply_branding(app: QGuiApplication) -> None:
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setDesktopFileName(DESKTOP_FILE)
    app.setWindowIcon(app_icon())
