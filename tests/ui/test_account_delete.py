"""Deleting an account, and a contact moving between accounts, through the real window.

A person's notes and commitments are theirs: deleting their account never takes them away
unless the rep says the people go too, and moving a person takes their history along.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from models.db import Database
from models.entities import Commitment, Contact, Note, OutboxEntry
from models.services import accounts, commitments, contacts, notes, trash
from models.services.accounts import AccountInput
from models.services.commitments import CommitmentInput
from models.services.contacts import ContactInput
from models.services.notes import NoteInput
from tests.support.gui_helpers import WAIT, idle, visible
from ui.accounts_view import load_account_page
from ui.dialogs import ContactDialog
from ui.main_window import PAGES, MainWindow


@dataclass
class Bakery:
    account: uuid.UUID
    other: uuid.UUID
    anna: uuid.UUID
    ben: uuid.UUID


def seed(db: Database) -> Bakery:
    """An account with two people (each with notes and commitments) and history of its own."""
    with db.write() as s:
        acc = accounts.create_account(s, AccountInput("Müller Bäckerei"))
        other = accounts.create_account(s, AccountInput("Nordwind GmbH"))
        anna = contacts.create_contact(s, ContactInput("Anna Müller", account_id=acc))
        ben = contacts.create_contact(s, ContactInput("Ben Schmidt", account_id=acc))
        for who in (anna, ben):
            for i in range(3):
                notes.add_note(s, NoteInput(f"Call {i}", contact_id=who))
            commitments.add_commitment(s, CommitmentInput("Send the quote", contact_id=who))
        done = commitments.add_commitment(s, CommitmentInput("Old promise", contact_id=anna))
        commitments.set_status(s, done, "done")
        notes.add_note(s, NoteInput("Delivery dock moved", account_id=acc))
        commitments.add_commitment(s, CommitmentInput("Annual review", account_id=acc))
    return Bakery(acc, other, anna, ben)


def state(db: Database) -> dict[tuple[str, uuid.UUID], tuple[Any, ...]]:
    """Where every row is filed and whether it is live: what a delete and its undo change."""
    out: dict[tuple[str, uuid.UUID], tuple[Any, ...]] = {}
    with db.read() as s:
        for c in s.scalars(select(Contact)):
            out[("contact", c.id)] = (c.account_id, c.deleted_at is None)
        for row in [*s.scalars(select(Note)), *s.scalars(select(Commitment))]:
            out[(row.__entity__, row.id)] = (row.contact_id, row.account_id, row.deleted_at is None)
    return out


def open_account(qtbot: QtBot, window: MainWindow, name: str) -> None:
    view = window.accounts
    window.show_page(PAGES.index("Accounts"))
    qtbot.waitUntil(lambda: view.list.rowCount() > 0, timeout=WAIT)
    row = next(i for i in range(view.list.rowCount()) if view.list.row_at(i).name == name)  # type: ignore[union-attr]
    view.table.selectRow(row)
    qtbot.waitUntil(lambda: view.page is not None and view.page.account.name == name, timeout=WAIT)


def ask_delete(qtbot: QtBot, window: MainWindow) -> QMessageBox:
    window.delete_action.trigger()
    qtbot.waitUntil(lambda: any(w.isVisible() for w in window.findChildren(QMessageBox)), timeout=WAIT)
    return visible(QMessageBox)


def button(box: QMessageBox, text: str) -> Any:
    return next(b for b in box.buttons() if b.text() == text)


def test_deleting_an_account_says_what_it_takes_and_keeps_the_people_with_their_history(
    qtbot: QtBot, window: MainWindow, db: Database
) -> None:
    b = seed(db)
    before = state(db)
    open_account(qtbot, window, "Müller Bäckerei")
    box = ask_delete(qtbot, window)
    text = box.text()
    assert "Müller Bäckerei" in text
    assert "2 people" in text and "6 notes and 3 commitments" in text  # the people's history
    assert "own 1 note and 1 commitment" in text
    with qtbot.waitSignal(window.undo_offered, timeout=WAIT) as offered:
        button(box, "Keep the people").click()
    assert "2 people stay" in offered.args[0]
    idle(qtbot, window)
    with db.read() as s:
        assert [a.name for a in accounts.list_accounts(s)] == ["Nordwind GmbH"]
        for who in (b.anna, b.ben):
            person = contacts.get_contact(s, who)
            assert person.account_id is None and person.account_name == ""
            assert len(notes.timeline(s, contact_id=who)) == 3  # never left without their notes
            assert len(commitments.list_commitments(s, contact_id=who)) == 1
        assert len(commitments.list_commitments(s, contact_id=b.anna, status="done")) == 1
        # Only the account's own history went to the Trash with it.
        assert [(r.entity, r.title) for r in trash.list_trash(s)] == [("account", "Müller Bäckerei")]
        assert all(n.account_id is None for n in notes.timeline(s, contact_id=b.anna))

    window.undo_action.trigger()
    qtbot.waitUntil(lambda: window.accounts.list.rowCount() == 2, timeout=WAIT)
    idle(qtbot, window)
    assert state(db) == before  # exactly what the delete changed is put back
    with db.read() as s:
        assert trash.list_trash(s) == []
        assert len(load_account_page(s, b.account).people) == 2


def test_deleting_an_account_with_its_people_and_undo_puts_back_exactly_that(
    qtbot: QtBot, window: MainWindow, db: Database
) -> None:
    b = seed(db)
    with db.write() as s:  # someone deleted earlier stays deleted after the undo
        gone = contacts.create_contact(s, ContactInput("Carl Early", account_id=b.account))
    with db.write() as s:
        contacts.delete_contact(s, gone)
    before = state(db)
    open_account(qtbot, window, "Müller Bäckerei")
    box = ask_delete(qtbot, window)
    with qtbot.waitSignal(window.undo_offered, timeout=WAIT) as offered:
        button(box, "Delete the people too").click()
    assert "the 2 people there" in offered.args[0]
    idle(qtbot, window)
    with db.read() as s:
        assert [c.name for c in contacts.list_contacts(s)] == []
        assert notes.timeline(s, contact_id=b.anna) == []
        # The people are listed under their account in the Trash, not one by one.
        listed = sorted((r.entity, r.title) for r in trash.list_trash(s))
        assert listed == [("account", "Müller Bäckerei"), ("contact", "Carl Early")]

    window.undo_action.trigger()
    qtbot.waitUntil(lambda: window.accounts.list.rowCount() == 2, timeout=WAIT)
    idle(qtbot, window)
    assert state(db) == before


def test_restoring_an_account_from_the_trash_brings_back_the_people_deleted_with_it(db: Database) -> None:
    b = seed(db)
    before = state(db)
    with db.write() as s:
        accounts.delete_account(s, b.account, with_people=True)
    with db.write() as s:
        trash.restore(s, "account", b.account)
    assert state(db) == before


def test_cancelling_the_question_deletes_nothing(qtbot: QtBot, window: MainWindow, db: Database) -> None:
    seed(db)
    before = state(db)
    open_account(qtbot, window, "Müller Bäckerei")
    box = ask_delete(qtbot, window)
    box.button(QMessageBox.StandardButton.Cancel).click()
    idle(qtbot, window)
    assert state(db) == before
    assert not window.undo_action.isEnabled()


def test_an_account_without_people_is_deleted_at_once_with_its_own_history(
    qtbot: QtBot, window: MainWindow, db: Database
) -> None:
    b = seed(db)
    with db.write() as s:
        notes.add_note(s, NoteInput("Cold call", account_id=b.other))
    open_account(qtbot, window, "Nordwind GmbH")
    with qtbot.waitSignal(window.undo_offered, timeout=WAIT):
        window.delete_action.trigger()
    idle(qtbot, window)
    with db.read() as s:
        assert [a.name for a in accounts.list_accounts(s)] == ["Müller Bäckerei"]
        assert notes.timeline(s, account_id=b.other) == []


def test_a_contact_who_moves_takes_their_notes_and_open_commitments(
    qtbot: QtBot, window: MainWindow, db: Database
) -> None:
    b = seed(db)
    with db.read() as s:
        old_page = load_account_page(s, b.account)
        assert len(old_page.notes) == 7 and len(old_page.commitments) == 3
    window.open_contact(b.anna)
    qtbot.waitUntil(lambda: window.contacts.detail.page is not None, timeout=WAIT)
    window.contacts.detail.edit()
    dialog = visible(ContactDialog)
    qtbot.waitUntil(lambda: dialog.editor("account_id").count() == 3, timeout=WAIT)
    dialog.editor("account_id").setCurrentText("Nordwind GmbH")
    with qtbot.waitSignal(dialog.saved, timeout=WAIT):
        dialog.buttons.accepted.emit()
    idle(qtbot, window)
    with db.read() as s:
        assert contacts.get_contact(s, b.anna).account_name == "Nordwind GmbH"
        new_page, old_page = load_account_page(s, b.other), load_account_page(s, b.account)
        assert {n.summary for n in new_page.notes} == {"Call 0", "Call 1", "Call 2"}
        assert all(n.account_id == b.other for n in new_page.notes)
        assert [c.what for c in new_page.commitments] == ["Send the quote"]
        # The old account keeps only its own history and Ben's; Anna's is filed with her.
        assert {n.contact_name for n in old_page.notes} == {"Ben Schmidt", ""}
        assert all(c.contact_id != b.anna for c in old_page.commitments)
        # A promise already kept stays where it was made.
        kept = commitments.list_commitments(s, contact_id=b.anna, status="done")
        assert [c.account_id for c in kept] == [b.account]
        # Each refiled row is an ordinary change, queued for sync.
        queued = s.scalars(select(OutboxEntry).where(OutboxEntry.op == "update")).all()
        moved = {e.row_id for e in queued if e.patch.get("account_id") == str(b.other)}
        assert len(moved) == 1 + 3 + 1  # Anna, her three notes, her open commitment

    # Deleting the old account now takes nothing of Anna's.
    with db.write() as s:
        accounts.delete_account(s, b.account)
    with db.read() as s:
        assert len(notes.timeline(s, contact_id=b.anna)) == 3
        assert len(commitments.list_commitments(s, contact_id=b.anna, status=None)) == 2
