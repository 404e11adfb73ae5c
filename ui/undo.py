"""What Undo (Ctrl+Z) can take back, and the words for it: a delete, a commitment's new status.

Only the latest action is offered; the window shows it in the Edit menu and the status bar."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from models.rows import CommitmentRow
from models.services import accounts, commitments, merging, trash

STATUS_WORDS = {"done": "Marked done", "cancelled": "Cancelled", "open": "Reopened"}


@dataclass(frozen=True)
class UndoOffer:
    about: tuple[str, uuid.UUID]  # entity and id, so a restore from the Trash can withdraw it
    label: str  # for the menu: "delete of “Anna”"
    run: Callable[[Session], object]  # one transaction, in the task runner
    message: str  # what was done, for the status bar
    done_message: str  # once undone
    after: Callable[[], None] | None = None


def delete_offer(
    entity: str, row_id: uuid.UUID, name: str, after: Callable[[], None] | None = None
) -> UndoOffer:
    return UndoOffer(
        (entity, row_id),
        f"delete of “{name}”",
        lambda s: trash.restore(s, entity, row_id),
        f"Deleted {entity} “{name}”. Undo with Ctrl+Z, or restore it from the Trash.",
        f"Restored “{name}”.",
        after,
    )


def account_delete_offer(
    account_id: uuid.UUID, name: str, deletion: accounts.AccountDeletion, with_people: bool
) -> UndoOffer:
    """An account deleted with or without its people: undo re-attaches exactly what it detached."""
    message = f"Deleted account “{name}”"
    if deletion.people and with_people:
        message += f" and the {deletion.people:,} people there, with their history"
    elif deletion.people:
        message += f"; its {deletion.people:,} people stay, with their history, at no account"
    return UndoOffer(
        ("account", account_id),
        f"delete of “{name}”",
        lambda s: accounts.undo_account_delete(s, deletion),
        message + ". Undo with Ctrl+Z, or restore it from the Trash.",
        f"Restored “{name}”.",
    )


def status_offer(row: CommitmentRow, status: str) -> UndoOffer:
    """Marked done (or cancelled, or reopened): put back the status and the done date it had."""
    before, done_at = row.status, row.done_at

    def put_back(s: Session) -> None:
        commitments.set_status(s, row.id, before, when=done_at)

    what = STATUS_WORDS.get(status, status)
    return UndoOffer(
        ("commitment", row.id),
        f"“{what.lower()}”",
        put_back,
        f"{what}: “{row.what}”. Undo with Ctrl+Z.",
        f"“{row.what}” is {before} again.",
    )


def merge_offer(merged: merging.Merged, after: Callable[[], None] | None = None) -> UndoOffer:
    """A merge: undo brings the merged contact back with what it had (unless changed since)."""
    return UndoOffer(
        ("contact", merged.merged_id),
        f"merge of “{merged.merged_name}”",
        lambda s: merging.undo_merge(s, merged),
        f"Merged “{merged.merged_name}” into the contact shown. Undo with Ctrl+Z.",
        f"“{merged.merged_name}” is a contact of its own again.",
        after,
    )
