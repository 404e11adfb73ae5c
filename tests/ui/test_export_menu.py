"""File › Export contacts… and File › Export account history… in the real window: the choices the
dialogs offer follow the list's filter and selection, and the files land where asked."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import vobject
from PySide6.QtCore import QItemSelectionModel
from PySide6.QtWidgets import QFileDialog

from models.db import Database
from tests.support.gui_helpers import idle, seed_contact
from ui.export import ExportAccountDialog, ExportContactsDialog
from ui.main_window import PAGES, MainWindow

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot

WAIT = 20_000


def _names(path: Path) -> list[str]:
    return [card.fn.value for card in vobject.readComponents(path.read_text(encoding="utf-8"))]


def _answer_file_dialogs(monkeypatch: pytest.MonkeyPatch, path: Path) -> list[str]:
    """The system's file dialog is modal: it answers ``path`` (and says what it proposed)."""
    proposed: list[str] = []

    def save(_parent: object, _title: str, start: str, _filter: str) -> tuple[str, str]:
        proposed.append(start)
        return str(path), ""

    def folder(_parent: object, _title: str, start: str) -> str:
        proposed.append(start)
        return str(path)

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", folder)
    return proposed


def test_export_contacts_the_filter_shows_or_the_selection(
    qtbot: QtBot, db: Database, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("Anna Müller", "Anton Berg", "Zoë Fischer"):
        seed_contact(db, name, account="Delta")
    window.ctx.bus.notify({"contact"})
    view = window.contacts
    window.show_page(PAGES.index("Contacts"))
    qtbot.waitUntil(lambda: view.model.rowCount() == 3, timeout=WAIT)
    view.filter.setText("an")
    qtbot.waitUntil(lambda: view.model.rowCount() == 2 and view.shown_count == 2, timeout=WAIT)

    # Two rows selected with Ctrl: the dialog offers them, the filter's results, or everyone.
    selection = view.table.selectionModel()
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    selection.select(view.model.index(0, 0), flags)
    selection.select(view.model.index(1, 0), flags)
    assert len(view.selected_ids()) == 2
    dialog = window.exports.export_contacts()
    assert isinstance(dialog, ExportContactsDialog)
    assert dialog.filter_button.isChecked() and "2 contacts the &list shows" in dialog.filter_button.text()
    assert dialog.selection_button.isEnabled() and "(2)" in dialog.selection_button.text()
    out = tmp_path / "filtered.vcf"
    proposed = _answer_file_dialogs(monkeypatch, out)
    with qtbot.waitSignal(window.exports.exported, timeout=WAIT) as done:
        dialog.submit()
    assert proposed[0].endswith("contacts.vcf")
    assert "Exported 2 contacts" in done.args[0] and str(out) in window.statusBar().currentMessage()
    assert sorted(_names(out)) == ["Anna Müller", "Anton Berg"]

    dialog = window.exports.export_contacts()
    dialog.all_button.setChecked(True)
    dialog.format.setCurrentIndex(dialog.format.findData("csv"))
    out = tmp_path / "all.csv"
    _answer_file_dialogs(monkeypatch, out)
    with qtbot.waitSignal(window.exports.exported, timeout=WAIT):
        dialog.submit()
    assert out.read_text(encoding="utf-8-sig").count("Delta") == 3
    idle(qtbot, window)


def test_export_an_accounts_history_as_a_zip(
    qtbot: QtBot, db: Database, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_contact(db, "Anna Müller", account="Delta Bakery")
    dialog = window.exports.export_account()
    assert isinstance(dialog, ExportAccountDialog)
    qtbot.waitUntil(lambda: dialog.account.count() == 2, timeout=WAIT)  # the accounts load off the GUI thread
    dialog.submit()  # nothing chosen yet: said under the field, nothing written
    assert dialog.isVisible()
    dialog.account.setCurrentIndex(1)
    out = tmp_path / "delta.zip"
    proposed = _answer_file_dialogs(monkeypatch, out)
    with qtbot.waitSignal(window.exports.exported, timeout=WAIT) as done:
        dialog.submit()
    assert proposed[0].endswith("Delta Bakery.zip")
    assert "1 contact," in done.args[0]
    with zipfile.ZipFile(out) as z:
        assert "Delta Bakery/README.txt" in z.namelist()
    idle(qtbot, window)
