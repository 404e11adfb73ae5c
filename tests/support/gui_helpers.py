"""Building the real main window over a real database file, for the pytest-qt tests."""

from __future__ import annotations

import uuid
from typing import TypeVar

from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from models.db import Database
from models.services import accounts, commitments, contacts, notes
from models.services.accounts import AccountInput
from models.services.commitments import CommitmentInput
from models.services.contacts import ContactInput
from models.services.notes import NoteInput
from ui.app import build_window
from ui.errors import ErrorPresenter
from ui.main_window import MainWindow

W = TypeVar("W", bound=QWidget)
WAIT = 15_000  # a window now loads Today, reminders and the lists at once; CI machines are shared


def open_window(qtbot: QtBot, db: Database, presenter: ErrorPresenter) -> MainWindow:
    window = build_window(db, presenter)
    qtbot.addWidget(window)
    window.show()
    window.start()
    idle(qtbot, window)
    return window


def idle(qtbot: QtBot, window: MainWindow, timeout: int = WAIT) -> None:
    qtbot.waitUntil(lambda: window.ctx.tasks.pending == 0 and not window.contacts.model.busy, timeout=timeout)


def visible(kind: type[W]) -> W:
    """The one visible top-level or child widget of this class (a dialog the test opened)."""
    found = [w for w in QApplication.allWidgets() if isinstance(w, kind) and w.isVisible()]
    assert len(found) == 1, f"expected one visible {kind.__name__}, found {len(found)}"
    return found[0]


def seed_contact(
    db: Database,
    name: str,
    *,
    account: str | None = None,
    role: str = "",
    cadence_days: int | None = None,
) -> uuid.UUID:
    with db.write() as s:
        account_id = accounts.create_account(s, AccountInput(name=account)) if account else None
        inp = ContactInput(name=name, account_id=account_id, role=role, cadence_days=cadence_days)
        return contacts.create_contact(s, inp)


def seed_note(db: Database, contact_id: uuid.UUID, summary: str) -> uuid.UUID:
    with db.write() as s:
        return notes.add_note(s, NoteInput(summary=summary, contact_id=contact_id))


def seed_commitment(db: Database, contact_id: uuid.UUID, what: str, due: str | None = None) -> uuid.UUID:
    with db.write() as s:
        return commitments.add_commitment(s, CommitmentInput(what=what, contact_id=contact_id, due_date=due))
