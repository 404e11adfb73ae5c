"""File › Import contacts in the real window: preview, import, undo; mapping; refusal; Cancel."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QListView, QPushButton
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from models.db import Database
from models.entities import Contact
from models.services import importing
from models.services.import_file import prepare, read_source
from tests.models.test_import_files import big_export
from tests.support.contact_files import APPLE_30, GERMAN_CSV, GOOGLE_30
from ui.errors import ErrorPresenter
from ui.import_dialogs import ImportHistoryDialog, MappingDialog, PreviewDialog
from ui.main_window import PAGES, MainWindow

WAIT = 20_000


def names(db: Database) -> list[str]:
    with db.read() as s:
        return sorted(s.scalars(select(Contact.name).where(Contact.deleted_at.is_(None))))


def test_preview_then_import_then_undo_with_ctrl_z(
    qtbot: QtBot, window: MainWindow, db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "contacts.vcf"
    path.write_text(GOOGLE_30 + APPLE_30, encoding="utf-8")
    flow = window.import_contacts(path)
    with qtbot.waitSignal(flow.previewed, timeout=WAIT) as shown:
        pass
    dialog = shown.args[0]
    assert isinstance(dialog, PreviewDialog)
    summary = dialog.findChild(QLabel, "import_summary")
    assert summary is not None and "2 new contacts" in summary.text()
    new_list = dialog.findChild(QListView, "new_list")
    assert new_list is not None and new_list.model().rowCount() == 2
    assert names(db) == []  # nothing is written before Import
    assert dialog.import_button.isDefault()
    with qtbot.waitSignal(window.undo_offered, timeout=WAIT) as offered:
        qtbot.keyClick(dialog, Qt.Key.Key_Return)  # Enter imports: keyboard alone will do
    assert "Imported 2 new contacts" in offered.args[0]
    assert names(db) == ["Ana García Márquez", "Ελένη Σταυρόπουλος"]
    window.undo_action.trigger()
    qtbot.waitUntil(lambda: names(db) == [], timeout=WAIT)


def test_a_csv_of_unknown_columns_is_mapped_then_remembered(
    qtbot: QtBot, window: MainWindow, db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "kunden.csv"
    path.write_bytes(GERMAN_CSV)
    flow = window.import_contacts(path)
    with qtbot.waitSignal(flow.mapping_asked, timeout=WAIT) as asked:
        pass
    mapping = asked.args[0]
    assert isinstance(mapping, MappingDialog)
    assert mapping.mapping()[1:3] == ["first_name", "last_name"]  # guessed from "Vorname", "Nachname"
    with qtbot.waitSignal(flow.previewed, timeout=WAIT) as shown:
        mapping.next_button.click()
    with qtbot.waitSignal(flow.finished, timeout=WAIT):
        shown.args[0].import_button.click()
    assert names(db) == ["Jörg Weiß"]
    again = window.import_contacts(path)  # the same columns: no mapping step this time
    with qtbot.waitSignal(again.previewed, timeout=WAIT) as shown:
        pass
    dialog = shown.args[0]
    assert not dialog.import_button.isEnabled()  # already imported: nothing to do
    dialog.reject()


def test_a_refused_file_says_why_and_writes_nothing(
    qtbot: QtBot, window: MainWindow, db: Database, presenter: ErrorPresenter, tmp_path: Path
) -> None:
    path = tmp_path / "cut.vcf"
    path.write_text(GOOGLE_30 + "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Half\r\n", encoding="utf-8")
    shown: list[str] = []
    presenter.error_shown.connect(lambda _title, message: shown.append(message))
    flow = window.import_contacts(path)
    with qtbot.waitSignal(flow.finished, timeout=WAIT) as finished:
        pass
    assert finished.args == ["refused"]
    assert shown == [
        "The file ends in the middle of card 2 (begun on line 10): it looks cut short. "
        "Export it again; nothing was imported."
    ]
    assert names(db) == []


def test_cancel_while_reading_a_big_file(
    qtbot: QtBot, window: MainWindow, db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "everyone.vcf"
    big_export(path, 20)
    flow = window.import_contacts(path)
    assert flow.progress is not None
    (cancel,) = flow.progress.findChildren(QPushButton)
    assert cancel.text() == "Cancel"
    cancel.click()
    with qtbot.waitSignal(flow.finished, timeout=WAIT) as finished:
        pass
    assert finished.args == ["cancelled"]
    assert names(db) == []


def test_an_earlier_import_is_undone_from_the_edit_menu(
    qtbot: QtBot, window: MainWindow, db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "google.vcf"
    path.write_text(GOOGLE_30, encoding="utf-8")
    with db.write() as s:
        importing.apply_import(s, prepare(read_source(path), None).cards, source=path.name)
    assert names(db) == ["Ana García Márquez"]
    window.undo_import_action.trigger()
    qtbot.waitUntil(lambda: isinstance(window.property("import_history"), ImportHistoryDialog), timeout=WAIT)
    dialog = window.property("import_history")
    assert dialog.list.count() == 1 and "google.vcf: 1 new contact, 0 filled in" in dialog.list.item(0).text()
    dialog.list.setCurrentRow(0)
    assert dialog.undo_button.isEnabled()
    dialog.undo_button.click()
    qtbot.waitUntil(lambda: names(db) == [], timeout=WAIT)


def test_the_empty_contact_list_offers_the_import(
    qtbot: QtBot, window: MainWindow, monkeypatch: object
) -> None:
    view = window.contacts
    window.show_page(PAGES.index("Contacts"))  # the window opens on Today
    qtbot.waitUntil(lambda: view.list_stack.currentWidget() is view.empty, timeout=WAIT)
    assert view.import_button.isVisible() and "import them from your phone" in view.empty_label.text()
    asked: list[object] = []
    window.import_contacts = lambda path=None: asked.append(path)  # type: ignore[assignment,method-assign,misc]
    qtbot.mouseClick(view.import_button, Qt.MouseButton.LeftButton)
    assert asked == [None]  # the file dialog comes next
