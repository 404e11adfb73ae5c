"""Help › About and Help › Keyboard shortcuts.

The shortcuts list is read from the window's own actions when it opens, so it cannot drift from
what the keys do (the README's table is checked against the same actions by a test).
"""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMainWindow,
    QMenu,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from models.paths import data_dir


def app_version() -> str:
    """The installed package's version (pyproject.toml), as ``pip`` and the bundle know it."""
    try:
        return version("rapport")
    except PackageNotFoundError:  # run from a copy of the source that was never installed
        return "unknown (not installed)"


def plain(text: str) -> str:
    """A menu entry's text as a rep reads it: no mnemonic ampersands, no trailing ellipsis."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").removesuffix("…")


def about_text(log_file: Path | None) -> str:
    rows = [
        ("Version", app_version()),
        ("Data folder", str(data_dir())),
        ("Log file", str(log_file) if log_file else "not written (started without a log)"),
        ("Qt", f"{qVersion()} (PySide6 {pyside_version})"),
        ("Python", f"{platform.python_version()} on {platform.system()} {platform.machine()}"),
    ]
    cells = "".join(f"<tr><td><b>{k}</b>&nbsp;&nbsp;</td><td>{v}</td></tr>" for k, v in rows)
    return (
        "<h3>Rapport</h3><p>The offline-first notebook for field sales reps: contacts, accounts, "
        "notes and commitments on this laptop, synced with your team's server.</p>"
        f"<table>{cells}</table>"
    )


class AboutDialog(QDialog):
    def __init__(self, log_file: Path | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("about")
        self.setWindowTitle("About Rapport")
        self.text = QLabel(about_text(log_file))
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text.setWordWrap(True)
        self.text.setMinimumWidth(480)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)


def shortcut_rows(window: QMainWindow) -> list[tuple[str, str, str]]:
    """(menu, action, keys) for every action of the window that has a shortcut, menu by menu."""
    rows: list[tuple[str, str, str]] = []
    seen: set[int] = set()
    for entry in window.menuBar().actions():
        menu = entry.menu()
        # PySide6 types menu() as QObject (Qt's is a template); a menu bar's entries hold QMenus.
        if not isinstance(menu, QMenu):
            continue
        for action in menu.actions():
            if not action.shortcut().isEmpty():
                seen.add(id(action))
                rows.append((plain(entry.text()), plain(action.text()), _keys(action)))
    for action in window.actions():  # a shortcut with no menu entry still belongs in the list
        if id(action) not in seen and not action.shortcut().isEmpty():
            seen.add(id(action))
            rows.append(("Window", plain(action.text()), _keys(action)))
    # A page's own keys (Today's N, D, S...): actions that name their group.
    for action in window.findChildren(QAction):
        group = action.property("shortcut_group")
        if id(action) not in seen and isinstance(group, str) and not action.shortcut().isEmpty():
            rows.append((group, plain(action.text()), _keys(action)))
    return rows


def _keys(action: QAction) -> str:
    return ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts())


class ShortcutsDialog(QDialog):
    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.setObjectName("shortcuts")
        self.setWindowTitle("Keyboard shortcuts")
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Action", "Keys"])
        self.tree.setRootIsDecorated(False)
        groups: dict[str, QTreeWidgetItem] = {}
        for menu, text, keys in shortcut_rows(window):
            if menu not in groups:
                groups[menu] = QTreeWidgetItem(self.tree, [menu])
                font = groups[menu].font(0)
                font.setBold(True)
                groups[menu].setFont(0, font)
                groups[menu].setFirstColumnSpanned(True)
            QTreeWidgetItem(groups[menu], [text, keys])
        self.tree.expandAll()
        self.tree.setItemsExpandable(False)
        self.tree.resizeColumnToContents(0)
        self.tree.setColumnWidth(0, self.tree.columnWidth(0) + 24)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                "Also: Enter or Down in the contacts filter opens the first match or moves into the "
                "list.\nIn Search everything (Ctrl+K): ↑↓ choose, Enter opens, Esc closes."
            )
        )
        layout.addWidget(self.tree)
        layout.addWidget(buttons)
        self.resize(520, 560)
