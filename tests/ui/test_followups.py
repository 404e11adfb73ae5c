"""Quick follow-ups on the contact's page (issue 12): a note turned into a commitment, and a note
or a commitment deleted with undo, the Trash and sync's outbox. Real window, real SQLite file."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from models.db import Database
from models.entities import Commitment, Note, OutboxEntry
from models.errors import NotFoundError
from models.services import commitments, followups, notes, trash
from models.services.commitments import CommitmentInput
from tests.support.gui_helpers import (
    WAIT,
    idle,
    open_window,
    seed_commitment,
    seed_contact,
    seed_note,
    visible,
)
from ui.dialogs import CommitmentDialog
from ui.errors import ErrorPresenter
from ui.main_window import PAGES, MainWindow


def _ops(db: Database, row_id: uuid.UUID) -> list[str]:
    with db.read() as s:
        return list(
            s.scalars(select(OutboxEntry.op).where(OutboxEntry.row_id == row_id).order_by(OutboxEntry.seq))
        )


def test_add_followup_links_the_note_in_one_create(db: Database) -> None:
    cid = seed_contact(db, "Anna", account="Acme")
    nid = seed_note(db, cid, "Asked for the spring price list")
    with db.read() as s:
        draft = followups.draft_from_note(s, nid)
        note = s.get(Note, nid)
        assert note is not None
        assert draft == followups.FollowUpDraft(nid, "Asked for the spring price list", cid, note.account_id)
    with db.write() as s:
        new = followups.add_followup(s, nid, CommitmentInput(what="Send the price list", contact_id=cid))
    with db.read() as s:
        row = s.get(Commitment, new)
        assert row is not None and row.note_id == nid and row.account_id == draft.account_id
    assert _ops(db, new) == ["create"]  # note_id travels with the create, not as a second change
    with db.write() as s:
        notes.delete_note(s, nid)
    with db.write() as s, pytest.raises(NotFoundError):
        followups.add_followup(s, nid, CommitmentInput(what="Too late", contact_id=cid))


@pytest.fixture
def on_page(
    qtbot: QtBot, db: Database, presenter: ErrorPresenter
) -> Iterator[Callable[[uuid.UUID], MainWindow]]:
    """Open the window on a contact's page (seeded first); closed, idle, after the test."""
    made: list[MainWindow] = []

    def open_on(cid: uuid.UUID) -> MainWindow:
        window = open_window(qtbot, db, presenter)
        made.append(window)
        window.open_contact(cid)
        pane = window.contacts.detail
        qtbot.waitUntil(lambda: pane.page is not None and pane.page.detail.id == cid, timeout=WAIT)
        return window

    yield open_on
    for window in made:
        window.close()
        window.ctx.tasks.wait_idle()


def test_make_a_commitment_from_the_selected_note(
    qtbot: QtBot, db: Database, on_page: Callable[[uuid.UUID], MainWindow]
) -> None:
    cid = seed_contact(db, "Carla Ruiz", account="Acme")
    nid = seed_note(db, cid, "Wants samples of the blue fabric")
    window = on_page(cid)
    pane = window.contacts.detail
    assert not pane.follow_up_button.isEnabled()  # no note selected yet
    pane.timeline_view.setFocus()
    pane.timeline_view.selectRow(0)
    assert pane.follow_up_button.isEnabled()
    qtbot.mouseClick(pane.follow_up_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: any(isinstance(w, CommitmentDialog) and w.isVisible() for w in pane.children()), timeout=WAIT
    )
    dialog = visible(CommitmentDialog)
    assert dialog.windowTitle() == "Follow up on a note"
    assert dialog.what.text() == "Wants samples of the blue fabric"
    assert dialog.contact.contact_id() == cid
    dialog.what.setText("Send the blue samples")
    dialog.due.setText("2030-01-15")
    with qtbot.waitSignal(dialog.saved, timeout=WAIT):
        dialog.buttons.accepted.emit()
    qtbot.waitUntil(lambda: pane.commitments.rowCount() == 1, timeout=WAIT)
    with db.read() as s:
        (row,) = s.scalars(select(Commitment))
        assert (row.what, row.note_id, row.contact_id, str(row.due_date)) == (
            "Send the blue samples",
            nid,
            cid,
            "2030-01-15",
        )
        assert row.account_id is not None  # the contact's account, as the note had it


def test_delete_a_note_with_the_delete_key_then_undo(
    qtbot: QtBot, db: Database, on_page: Callable[[uuid.UUID], MainWindow]
) -> None:
    cid = seed_contact(db, "Erik Berg")
    keep = seed_note(db, cid, "Older call")
    nid = seed_note(db, cid, "Met at the fair")
    window = on_page(cid)
    pane = window.contacts.detail
    qtbot.waitUntil(lambda: pane.timeline.rowCount() == 2, timeout=WAIT)
    row = next(i for i in range(2) if getattr(pane.timeline.row_at(i), "id", None) == nid)
    pane.timeline_view.setFocus()
    pane.timeline_view.selectRow(row)
    with qtbot.waitSignal(window.undo_offered, timeout=WAIT) as offered:
        window.delete_action.trigger()  # Delete: the note the rep is on, not the contact
    assert offered.args == ["Deleted note “Met at the fair”. Undo with Ctrl+Z, or restore it from the Trash."]
    qtbot.waitUntil(lambda: pane.timeline.rowCount() == 1, timeout=WAIT)
    assert pane.current() is not None  # the contact is still there
    with db.read() as s:
        assert [n.id for n in notes.timeline(s, contact_id=cid)] == [keep]
        assert [(r.entity, r.title) for r in trash.list_trash(s)] == [("note", "Met at the fair")]
    window.undo_action.trigger()
    qtbot.waitUntil(lambda: pane.timeline.rowCount() == 2, timeout=WAIT)
    idle(qtbot, window)
    assert _ops(db, nid) == ["create", "delete", "restore"]  # synced as a delete, then a restore


def test_delete_a_commitment_by_its_button_and_restore_it_from_the_trash(
    qtbot: QtBot, db: Database, on_page: Callable[[uuid.UUID], MainWindow]
) -> None:
    cid = seed_contact(db, "Farid Haddad")
    pid = seed_commitment(db, cid, "Send brochure", "2030-01-01")
    window = on_page(cid)
    pane = window.contacts.detail
    qtbot.waitUntil(lambda: pane.commitments.rowCount() == 1, timeout=WAIT)
    assert not pane.delete_commitment_button.isEnabled()
    pane.commitment_view.selectRow(0)
    with qtbot.waitSignal(window.undo_offered, timeout=WAIT):
        qtbot.mouseClick(pane.delete_commitment_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.commitments.rowCount() == 0, timeout=WAIT)
    window.show_page(PAGES.index("Trash"))
    qtbot.waitUntil(lambda: window.trash.model.rowCount() == 1, timeout=WAIT)
    window.trash.table.selectRow(0)
    qtbot.mouseClick(window.trash.restore_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.trash.model.rowCount() == 0, timeout=WAIT)
    assert not window.undo_action.isEnabled()  # restored by hand: nothing left to undo
    idle(qtbot, window)
    with db.read() as s:
        assert [c.id for c in commitments.list_commitments(s, contact_id=cid)] == [pid]
    assert _ops(db, pid) == ["create", "delete", "restore"]


def test_delete_on_the_commitments_page_deletes_the_selected_one(
    qtbot: QtBot, db: Database, on_page: Callable[[uuid.UUID], MainWindow]
) -> None:
    cid = seed_contact(db, "Grace Hopper")
    pid = seed_commitment(db, cid, "Send the contract", "2030-02-01")
    window = on_page(cid)
    window.show_page(PAGES.index("Commitments"))
    view = window.commitments
    qtbot.waitUntil(lambda: view.model.rowCount() == 1, timeout=WAIT)
    view.table.selectRow(0)
    with qtbot.waitSignal(window.undo_offered, timeout=WAIT):
        window.delete_action.trigger()
    qtbot.waitUntil(lambda: view.model.rowCount() == 0, timeout=WAIT)
    window.undo_action.trigger()
    qtbot.waitUntil(lambda: view.model.rowCount() == 1, timeout=WAIT)
    idle(qtbot, window)
    assert _ops(db, pid) == ["create", "delete", "restore"]
