"""Keyboard alone: Tab leaves every list for the page's next control (issue 14, keyboard-only
use of the main flows). Qt's tables walk Tab through each cell by default, so a rep who tabbed
into Today's or the Commitments list could never reach a button without the mouse."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QTableView
from pytestqt.qtbot import QtBot

from models.db import Database
from tests.support.gui_helpers import WAIT, idle, open_window, seed_commitment, seed_contact
from ui.errors import ErrorPresenter
from ui.main_window import PAGES


def test_tab_leaves_every_table_of_every_page(qtbot: QtBot, db: Database, presenter: ErrorPresenter) -> None:
    kofi = seed_contact(db, "Kofi Mensah")
    seed_commitment(db, kofi, "Send the price list", "2020-01-10")  # overdue: Today lists it
    window = open_window(qtbot, db, presenter)
    window.activateWindow()
    checked: list[str] = []
    for page in ("Today", "Commitments", "Contacts", "Accounts"):
        window.show_page(PAGES.index(page))
        idle(qtbot, window)
        for table in window.stack.currentWidget().findChildren(QTableView):
            if not table.isVisible():
                continue
            table.setFocus()
            qtbot.waitUntil(table.hasFocus, timeout=WAIT)
            qtbot.keyClick(table, Qt.Key.Key_Tab)
            focused = QApplication.focusWidget()
            assert focused is not table, f"Tab stayed in {page}'s {table.objectName()}"
            checked.append(f"{page}:{table.objectName()}")
    assert any(name.startswith("Today:") for name in checked)
    assert any(name.startswith("Commitments:") for name in checked)
    window.close()
    window.ctx.tasks.wait_idle()
