"""Light and dark: the app follows the system's colour scheme (Qt 6.5+ ``QStyleHints``), or the
rep's choice in Preferences, and switches while running when either changes.

The colours live in ``resources/style.qss`` (both schemes, one block each, see its header); the
icons are Lucide SVGs (``resources/icons/lucide``, ISC licence) drawn in the palette's text
colour at whatever size and pixel ratio a widget asks for, so they stay sharp on a high-DPI
screen and readable on a dark background.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

from PySide6.QtCore import QByteArray, QObject, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QIconEngine, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication

from models.paths import resource_path

# --- the stylesheet and its colours ----------------------------------------------------------

_BLOCK = re.compile(r"/\*\s*@colours\s+(light|dark)\s*(.*?)\*/", re.S)
_PAIR = re.compile(r"@([a-z_]+)\s*:\s*(#[0-9a-fA-F]{6})")


@cache
def _stylesheet_source() -> tuple[str, dict[str, dict[str, str]]]:
    text = resource_path("style.qss").read_text(encoding="utf-8")
    schemes = {name: dict(_PAIR.findall(body)) for name, body in _BLOCK.findall(text)}
    return text, schemes


def scheme_colours(dark: bool) -> dict[str, str]:
    return _stylesheet_source()[1]["dark" if dark else "light"]


def stylesheet(dark: bool) -> str:
    """The stylesheet with one scheme's colours put in for its ``@names``."""
    text, _schemes = _stylesheet_source()
    colours = scheme_colours(dark)
    return re.sub(r"@([a-z_]+)\b", lambda m: colours.get(m[1], m[0]), _BLOCK.sub("", text))


def _dark_palette(c: dict[str, str]) -> QPalette:
    role, group = QPalette.ColorRole, QPalette.ColorGroup
    palette = QPalette()
    for r, name in (
        (role.Window, "window"),
        (role.WindowText, "text"),
        (role.Base, "base"),
        (role.AlternateBase, "alternate_base"),
        (role.Text, "text"),
        (role.Button, "button"),
        (role.ButtonText, "text"),
        (role.BrightText, "error"),
        (role.Highlight, "highlight"),
        (role.HighlightedText, "highlighted_text"),
        (role.ToolTipBase, "button"),
        (role.ToolTipText, "text"),
        (role.PlaceholderText, "muted"),
        (role.Link, "link"),
        (role.Light, "light"),
        (role.Midlight, "button"),
        (role.Mid, "muted"),
        (role.Dark, "window"),
        (role.Shadow, "window"),
    ):
        palette.setColor(r, QColor(c[name]))
    for r in (role.WindowText, role.Text, role.ButtonText):
        palette.setColor(group.Disabled, r, QColor(c["disabled"]))
    return palette


def system_is_dark(app: QApplication) -> bool:
    """What the desktop says (Qt 6.5+); Unknown, as on a bare X server, counts as light."""
    return app.styleHints().colorScheme() == Qt.ColorScheme.Dark


class _Follower(QObject):
    """Keeps the application's palette and stylesheet on the scheme in force."""

    changed = Signal()  # the scheme changed: redraw what was coloured by hand

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self.setObjectName("rapport_appearance")
        self.app = app
        self.mode = "system"
        self.dark = False
        self._style = app.style().name()
        app.styleHints().colorSchemeChanged.connect(lambda _scheme: self.apply())

    def apply(self) -> None:
        dark = self.mode == "dark" or (self.mode == "system" and system_is_dark(self.app))
        switched, self.dark = dark != self.dark, dark
        if dark:
            # Fusion draws from the palette everywhere; some native styles ignore parts of it.
            if self.app.style().name().lower() != "fusion":
                self.app.setStyle("Fusion")
            self.app.setPalette(_dark_palette(scheme_colours(True)))
        else:
            if self.app.style().name() != self._style:
                self.app.setStyle(self._style)
            self.app.setPalette(QPalette())  # no roles set: the system's own palette again
        self.app.setStyleSheet(stylesheet(dark))
        if switched:
            self.changed.emit()


def _follower() -> _Follower | None:
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return None
    return app.findChild(
        _Follower, "rapport_appearance", Qt.FindChildOption.FindDirectChildrenOnly
    ) or _Follower(app)


def follow_appearance(mode: str = "system") -> None:
    """Use ``mode`` ("system", "light" or "dark") now and, for "system", whenever it changes."""
    follower = _follower()
    if follower is not None:
        follower.mode = mode
        follower.apply()


def on_appearance_changed(slot: Callable[[], None]) -> None:
    """Call ``slot`` after each switch between light and dark (a QObject's method: Qt drops the
    connection when that object goes)."""
    follower = _follower()
    if follower is not None:
        follower.changed.connect(slot)


def is_dark() -> bool:
    app = QApplication.instance()
    follower = (
        app.findChild(_Follower, "rapport_appearance", Qt.FindChildOption.FindDirectChildrenOnly)
        if isinstance(app, QApplication)
        else None
    )
    return follower is not None and follower.dark


def colour(name: str) -> str:
    """A colour of the scheme in force (``error``, ``muted``…), for text drawn outside the
    stylesheet: rich-text labels and item models' foreground brushes."""
    return scheme_colours(is_dark())[name]


# --- icons -------------------------------------------------------------------------------------


class _SvgIconEngine(QIconEngine):
    """Draws a one-colour SVG (``stroke="currentColor"``) in the palette's colour for its mode."""

    def __init__(self, svg: bytes) -> None:
        super().__init__()
        self._svg = svg
        self._cache: dict[tuple[int, int, str], QPixmap] = {}

    def _colour(self, mode: QIcon.Mode) -> QColor:
        palette = QGuiApplication.palette()
        if mode == QIcon.Mode.Disabled:
            return palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText)
        if mode == QIcon.Mode.Selected:
            return palette.color(QPalette.ColorRole.HighlightedText)
        return palette.color(QPalette.ColorRole.WindowText)

    def _render(self, size: QSize, mode: QIcon.Mode) -> QPixmap:
        colour = self._colour(mode).name()
        key = (size.width(), size.height(), colour)
        if key not in self._cache:
            pixmap = QPixmap(size)
            pixmap.fill(Qt.GlobalColor.transparent)
            renderer = QSvgRenderer(QByteArray(self._svg.replace(b"currentColor", colour.encode())))
            painter = QPainter(pixmap)
            renderer.render(painter)
            painter.end()
            self._cache[key] = pixmap
        return self._cache[key]

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        return self._render(size, mode)

    def scaledPixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State, scale: float) -> QPixmap:
        pixmap = QPixmap(self._render(size * scale, mode))
        pixmap.setDevicePixelRatio(scale)
        return pixmap

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:
        scale = painter.device().devicePixelRatio()
        painter.drawPixmap(rect, self._render(rect.size() * scale, mode))

    def clone(self) -> QIconEngine:
        return _SvgIconEngine(self._svg)


@cache
def _svg(name: str) -> bytes:
    return resource_path("icons", "lucide", f"{name}.svg").read_bytes()


def icon(name: str) -> QIcon:
    """A Lucide icon by its file name (``users``, ``refresh-cw``), in the palette's colours."""
    return QIcon(_SvgIconEngine(_svg(name)))
