"""Duplicates through the real window: the new-contact warning, Find duplicates…, the merge
dialog on the keyboard alone, and Undo of a merge."""

from __future__ import annotations

import uuid

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QRadioButton
from pytestqt.qtbot import QtBot

from models.db import Database
from models.entities import Contact, Note
from models.services import accounts, contacts, notes
from models.services.accounts import AccountInput
from models.services.contacts import ContactInput
from models.services.notes import NoteInput
from tests.support.gui_helpers import WAIT, idle, visible
from ui.dialogs import ContactDialog
from ui.duplicates_view import DuplicatesDialog
from ui.main_window import MainWindow
from ui.merge_dialog import MergeDialog


def seed(db: Database) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    with db.write() as s:
        delta = accounts.create_account(s, AccountInput("Delta Bakery"))
        anna = contacts.create_contact(
            s, ContactInput("Anna Müller", account_id=delta, emails=["anna@delta.example"], role="")
        )
        twin = contacts.create_contact(
            s, ContactInput("anna muller", account_id=delta, role="Buyer", emails=["am@home.example"])
        )
        notes.add_note(s, NoteInput("Ordered rye", contact_id=twin))
    return delta, anna, twin


def test_typing_a_new_contact_that_exists_offers_to_open_it(
    qtbot: QtBot, window: MainWindow, db: Database
) -> None:
    _delta, anna, _twin = seed(db)
    window.new_contact_action.trigger()
    dialog = visible(ContactDialog)
    emails = dialog.editor("emails")
    assert isinstance(emails, QLineEdit)
    qtbot.keyClicks(emails, "ANNA@delta.example")
    qtbot.waitUntil(lambda: dialog.match_warning.isVisible(), timeout=WAIT)
    assert "Anna Müller at Delta Bakery already exists" in dialog.match_warning.text.text()
    assert "same email anna@delta.example" in dialog.match_warning.text.text()
    qtbot.mouseClick(dialog.match_warning.open_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT)
    qtbot.waitUntil(lambda: window.contacts.detail.current() is not None, timeout=WAIT)
    current = window.contacts.detail.current()
    assert current is not None and current[0] == anna
    with db.read() as s:
        assert len(contacts.list_contacts(s, "")) == 2  # nothing new was saved


def test_a_new_person_gets_no_warning(qtbot: QtBot, window: MainWindow, db: Database) -> None:
    seed(db)
    window.new_contact_action.trigger()
    dialog = visible(ContactDialog)
    name = dialog.editor("name")
    assert isinstance(name, QLineEdit)
    qtbot.keyClicks(name, "Zoe Park")
    qtbot.wait(dialog.match_warning.timer.interval() + 100)
    idle(qtbot, window)
    assert not dialog.match_warning.isVisible()
    dialog.reject()


def test_find_duplicates_merge_on_the_keyboard_and_undo(
    qtbot: QtBot, window: MainWindow, db: Database
) -> None:
    _delta, anna, twin = seed(db)
    window.duplicates_action.trigger()
    finder = visible(DuplicatesDialog)
    qtbot.waitUntil(lambda: finder.model.rowCount() == 1, timeout=WAIT)
    assert finder.table.hasFocus()
    qtbot.keyClick(finder.table, Qt.Key.Key_Return)  # Enter on the pair opens the merge
    qtbot.waitUntil(lambda: any(w.isVisible() for w in finder.findChildren(MergeDialog)), timeout=WAIT)
    merge = visible(MergeDialog)
    qtbot.waitUntil(lambda: merge.merge_button.isEnabled(), timeout=WAIT)
    pair = {merge.survivor_id, merge.other_id}
    assert pair == {anna, twin}
    # The role: the survivor's is empty, so the other's is proposed; emails: both.
    assert merge.picks()["emails"] == "both"
    role_kept = merge.findChild(QRadioButton, "pick_role_survivor")
    assert role_kept is not None
    qtbot.waitUntil(role_kept.isVisible, timeout=WAIT)  # shown on the event loop's next pass
    qtbot.waitUntil(lambda: isinstance(merge.focusWidget(), QRadioButton), timeout=WAIT)
    # The keyboard alone: the dialog starts on the first choice, Tab walks the values, Space
    # picks the one with the focus.
    for _ in range(30):
        focus = merge.focusWidget()
        if focus is not None and focus.objectName() == "pick_role_survivor":
            break
        qtbot.keyClick(focus or merge, Qt.Key.Key_Tab)
    assert merge.focusWidget() is role_kept
    qtbot.keyClick(role_kept, Qt.Key.Key_Space)
    survivor_is_anna = merge.survivor_id == anna
    expected_role = "" if survivor_is_anna else "Buyer"
    assert merge.picks()["role"] == "survivor"
    qtbot.keyClick(merge.merge_button, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not merge.isVisible(), timeout=WAIT)
    qtbot.waitUntil(lambda: finder.model.rowCount() == 0, timeout=WAIT)
    idle(qtbot, window)
    survivor_id, other_id = (anna, twin) if survivor_is_anna else (twin, anna)
    with db.read() as s:
        kept, gone = s.get(Contact, survivor_id), s.get(Contact, other_id)
        assert kept is not None and gone is not None
        assert kept.role == expected_role and set(kept.emails) == {"anna@delta.example", "am@home.example"}
        assert gone.deleted_at is not None and gone.merged_into == survivor_id
        assert {n.contact_id for n in s.query(Note)} == {survivor_id}
    assert window.undo_action.isEnabled() and "merge" in window.undo_action.text()
    finder.close()
    window.undo_action.trigger()
    idle(qtbot, window)
    with db.read() as s:
        gone = s.get(Contact, other_id)
        assert gone is not None and gone.deleted_at is None and gone.merged_into is None
        assert {n.contact_id for n in s.query(Note)} == {twin}
