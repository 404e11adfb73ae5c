"""The optional-date field shared by the commitment dialog and the visit wrap-up: what the rep
types is kept, or refused in words; empty means no date; the calendar opens on today."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from models.db import Database
from models.entities import Commitment
from models.services import commitments
from tests.support.gui_helpers import seed_commitment, seed_contact
from ui.context import AppContext
from ui.dialogs import CommitmentDialog
from ui.errors import ErrorPresenter

WAIT = 5000


def context(db: Database) -> AppContext:
    presenter = ErrorPresenter(log_file=Path("/tmp/rapport-test.log"))
    presenter.interactive = False
    return AppContext(db, presenter)


def new_commitment(qtbot: QtBot, db: Database) -> tuple[AppContext, CommitmentDialog]:
    """The New commitment dialog for a contact, with what was promised typed in."""
    cid = seed_contact(db, "Ida Lund")
    ctx = context(db)
    dialog = CommitmentDialog(ctx, contact=(cid, "Ida Lund"))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.what, "Send the quote")
    return ctx, dialog


def test_a_due_date_typed_after_a_click_is_the_date_saved(qtbot: QtBot, db: Database) -> None:
    ctx, dialog = new_commitment(qtbot, db)
    qtbot.mouseClick(dialog.due, Qt.MouseButton.LeftButton)  # anywhere in the field
    qtbot.keyClicks(dialog.due, "2026-12-09")
    with qtbot.waitSignal(dialog.saved, timeout=WAIT):
        dialog.buttons.accepted.emit()
    with db.read() as s:
        assert s.scalar(select(Commitment.due_date)) == date(2026, 12, 9)
    ctx.tasks.wait_idle()


def test_a_due_date_that_is_not_a_date_is_refused_under_the_field(qtbot: QtBot, db: Database) -> None:
    ctx, dialog = new_commitment(qtbot, db)
    assert dialog.due.text() == ""  # no date unless the rep gives one
    qtbot.keyClicks(dialog.due, "next Tuesday")
    dialog.buttons.accepted.emit()
    qtbot.waitUntil(lambda: dialog.error_text("due_date") != "", timeout=WAIT)
    assert "“next Tuesday” is not a date" in dialog.error_text("due_date")
    assert dialog.isVisible() and dialog.due.text() == "next Tuesday"
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Commitment)) == 0
    dialog.reject()
    ctx.tasks.wait_idle()


def test_editing_shows_the_due_date_and_clearing_it_means_no_date(qtbot: QtBot, db: Database) -> None:
    cid = seed_contact(db, "Ida Lund")
    seed_commitment(db, cid, "Send the quote", "2027-03-01")
    with db.read() as s:
        (row,) = commitments.list_commitments(s, contact_id=cid)
    ctx = context(db)
    dialog = CommitmentDialog(ctx, row=row)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.due.text() == "2027-03-01"
    calendar = dialog.due.open_calendar()
    assert calendar.selectedDate().toPython() == date(2027, 3, 1)  # opens on the date shown
    calendar.hide()
    dialog.due.clear()
    assert dialog.due.open_calendar().selectedDate().toPython() == date.today()
    dialog.due.calendar.hide()
    with qtbot.waitSignal(dialog.saved, timeout=WAIT):
        dialog.buttons.accepted.emit()
    with db.read() as s:
        assert s.scalar(select(Commitment.due_date)) is None
    ctx.tasks.wait_idle()
