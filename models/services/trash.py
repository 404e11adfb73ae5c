"""The trash: soft-deleted rows, restorable until sync has spread the delete (and after)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.entities import Account, Commitment, Contact, Note, SyncedMixin, synced_class
from models.errors import NotFoundError
from models.rows import TrashRow
from models.services.common import children_of

_TITLE = {Contact: Contact.name, Account: Account.name, Note: Note.summary, Commitment: Commitment.what}


def list_trash(session: Session, limit: int = 500) -> list[TrashRow]:
    """Deleted contacts, accounts, notes and commitments, most recently deleted first.

    Notes and commitments deleted together with their contact are listed under the contact, and
    people deleted together with their account under the account.
    """
    rows: list[TrashRow] = []
    parents: set[tuple[uuid.UUID, datetime]] = set()
    for rid, title, when in session.execute(
        select(Account.id, Account.name, Account.deleted_at)
        .where(Account.deleted_at.is_not(None))
        .order_by(Account.deleted_at.desc())
        .limit(limit)
    ):
        rows.append(TrashRow(Account.__entity__, rid, title, when))  # type: ignore[arg-type]  # not null
        parents.add((rid, when))  # type: ignore[arg-type]
    for rid, title, when, aid in session.execute(
        select(Contact.id, Contact.name, Contact.deleted_at, Contact.account_id)
        # A contact merged into another is not in the trash: it lives on in the survivor (undo
        # the merge to get it back).
        .where(Contact.deleted_at.is_not(None), Contact.merged_into.is_(None))
        .order_by(Contact.deleted_at.desc())
        .limit(limit)
    ):
        parents.add((rid, when))  # type: ignore[arg-type]
        if (aid, when) not in parents:  # deleted with its account: listed under the account
            rows.append(TrashRow(Contact.__entity__, rid, title, when))  # type: ignore[arg-type]
    child: type[Note] | type[Commitment]
    for child in (Note, Commitment):
        for rid, title, when, cid, aid in session.execute(
            select(child.id, _TITLE[child], child.deleted_at, child.contact_id, child.account_id)
            .where(child.deleted_at.is_not(None))
            .order_by(child.deleted_at.desc())
            .limit(limit)
        ):
            if (cid, when) in parents or (aid, when) in parents:
                continue
            rows.append(TrashRow(child.__entity__, rid, title, when))  # type: ignore[arg-type]  # not null
    rows.sort(key=lambda r: r.deleted_at, reverse=True)
    return rows[:limit]


def restore(session: Session, entity: str, row_id: uuid.UUID) -> None:
    """Undo a delete, bringing back what was deleted with it (same moment, same parent)."""
    cls: type[SyncedMixin] = synced_class(entity)
    obj = session.get(cls, row_id)
    if obj is None or obj.deleted_at is None:
        raise NotFoundError("There is nothing to restore: it is not in the trash.")
    if isinstance(obj, Contact) and obj.merged_into is not None:
        raise NotFoundError("That contact was merged into another: it is not in the trash.")
    when = obj.deleted_at
    obj.deleted_at = None
    if cls is Account:
        # People deleted with their account come back with it, with their own history.
        for person in session.scalars(
            select(Contact).where(Contact.account_id == row_id, Contact.deleted_at == when)
        ):
            person.deleted_at = None
            for row in children_of(session, "contact_id", person.id, deleted_at=when):
                row.deleted_at = None
    elif cls is Contact:
        contact: Contact = obj  # type: ignore[assignment]
        account = session.get(Account, contact.account_id) if contact.account_id else None
        if account is not None and account.deleted_at is not None:
            contact.account_id = None  # its account stays in the Trash; it comes back without it
    if cls in (Contact, Account):
        parent_col = "contact_id" if cls is Contact else "account_id"
        for row in children_of(session, parent_col, row_id, deleted_at=when):
            row.deleted_at = None
