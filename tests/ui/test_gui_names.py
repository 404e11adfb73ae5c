"""The window's own names do not shadow Qt's, each page's request to open a contact reaches the
Contacts page, and the README lists the window's shortcuts (issue 11, item 7), driven through
the real window offscreen."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from models.db import Database
from tests.support.gui_helpers import WAIT, idle, open_window, seed_commitment, seed_contact
from ui.errors import ErrorPresenter
from ui.main_window import PAGES


def test_ctrl_f_focuses_the_filter_and_qt_find_still_finds_the_window(
    qtbot: QtBot, db: Database, presenter: ErrorPresenter
) -> None:
    window = open_window(qtbot, db, presenter)
    window.show_page(PAGES.index("Today"))
    window.find_action.trigger()
    assert window.stack.currentWidget() is window.contacts
    assert window.contacts.filter.hasFocus()
    # QWidget.find(window id) is Qt's lookup; a method of that name on the window hid it.
    assert window.find(window.winId()) is window
    assert QWidget.find(window.winId()) is window
    window.close()
    window.ctx.tasks.wait_idle()


def test_open_on_the_commitments_page_shows_that_contact(
    qtbot: QtBot, db: Database, presenter: ErrorPresenter
) -> None:
    seed_contact(db, "Ada Lovelace")
    kofi = seed_contact(db, "Kofi Mensah")
    seed_commitment(db, kofi, "Call back about the invoice", "2030-01-10")
    window = open_window(qtbot, db, presenter)
    window.show_page(PAGES.index("Commitments"))
    view = window.commitments
    qtbot.waitUntil(lambda: view.model.rowCount() == 1, timeout=WAIT)
    view.table.selectRow(0)
    with qtbot.waitSignal(view.contact_open_requested, timeout=WAIT) as requested:
        qtbot.mouseClick(view.open_button, Qt.MouseButton.LeftButton)
    assert requested.args == [kofi]
    assert window.stack.currentWidget() is window.contacts
    qtbot.waitUntil(lambda: window.contacts.detail.contact_id == kofi, timeout=WAIT)
    idle(qtbot, window)
    window.close()
    window.ctx.tasks.wait_idle()


def documented_keys() -> set[str]:
    """The keys column of the README's table, "Ctrl+1 … Ctrl+7" spelt out key by key."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    table = readme.split("| keys | does |", 1)[1].split("\n\n", 1)[0]
    keys: set[str] = set()
    for line in table.splitlines()[2:]:
        cell = line.split("|")[1].strip()
        if (pages := re.fullmatch(r"Ctrl\+(\d) … Ctrl\+(\d)", cell)) is not None:
            keys |= {f"Ctrl+{i}" for i in range(int(pages[1]), int(pages[2]) + 1)}
        else:
            keys |= {key.strip() for key in cell.split(" / ")}
    return keys


def test_the_readme_lists_every_shortcut_of_the_window(
    qtbot: QtBot, db: Database, presenter: ErrorPresenter
) -> None:
    window = open_window(qtbot, db, presenter)
    shortcuts = {
        action.shortcut().toString(QKeySequence.SequenceFormat.PortableText)
        for action in window.actions()
        if not action.shortcut().isEmpty()
    }
    assert {f"Ctrl+{i + 1}" for i in range(len(PAGES))} <= shortcuts
    assert {"Ctrl+F", "Ctrl+Z", "F5", "Del"} <= shortcuts
    assert shortcuts - documented_keys() == set()
    window.close()
    window.ctx.tasks.wait_idle()
