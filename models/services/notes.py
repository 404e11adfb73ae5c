"""Notes: the interaction log, shown as a timeline newest first."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, aliased

from models.entities import Account, Channel, Contact, Note
from models.rows import NoteRow
from models.services.common import get_live
from models.types import utcnow
from models.validation import check_storable, raise_if, require

CHANNELS = [c.value for c in Channel]
# What the rep reads for each channel, in the app and on the briefing sheet alike.
CHANNEL_LABELS = {c: c.capitalize() for c in CHANNELS}


def channel_label(channel: str) -> str:
    """The label the rep sees for a stored channel (an unknown one from a newer app as stored)."""
    return CHANNEL_LABELS.get(channel, channel)


@dataclass
class NoteInput:
    summary: str
    channel: str = Channel.CALL.value
    body: str = ""
    occurred_at: datetime | None = None
    contact_id: uuid.UUID | None = None
    account_id: uuid.UUID | None = None


def clean_note(session: Session, inp: NoteInput) -> dict[str, Any]:
    errs: dict[str, str] = {}
    values: dict[str, Any] = {"summary": require(inp.summary, "summary", errs, "A summary")}
    if len(values["summary"]) > 500:
        errs["summary"] = "Keep the summary under 500 characters; put the rest in the body"
    if inp.channel not in CHANNELS:
        errs["channel"] = f"Choose one of: {', '.join(CHANNELS)}"
    if inp.contact_id is None and inp.account_id is None:
        errs["contact_id"] = "A note belongs to a contact or an account"
    account_id = inp.account_id
    if inp.contact_id is not None:
        contact = session.get(Contact, inp.contact_id)
        if contact is None or contact.deleted_at is not None:
            errs["contact_id"] = "That contact no longer exists"
        elif account_id is None:
            account_id = contact.account_id  # so the account's timeline shows it
    when = inp.occurred_at or datetime.now(UTC)
    if when.tzinfo is None:
        when = when.astimezone(UTC)
    values.update(
        channel=inp.channel,
        body=inp.body or "",
        occurred_at=when,
        contact_id=inp.contact_id,
        account_id=account_id,
    )
    check_storable(Note, values, errs)
    raise_if(errs)
    return values


def add_note(session: Session, inp: NoteInput) -> uuid.UUID:
    note = Note(**clean_note(session, inp))
    session.add(note)
    session.flush()
    return note.id


def update_note(session: Session, note_id: uuid.UUID, inp: NoteInput) -> None:
    note = get_live(session, Note, note_id, "note")
    for key, value in clean_note(session, inp).items():
        if getattr(note, key) != value:
            setattr(note, key, value)


def delete_note(session: Session, note_id: uuid.UUID) -> None:
    get_live(session, Note, note_id, "note").deleted_at = utcnow()


def _select() -> Select:
    c, a = aliased(Contact), aliased(Account)
    return (
        select(
            Note.id,
            Note.occurred_at,
            Note.channel,
            Note.summary,
            Note.body,
            Note.contact_id,
            func.coalesce(c.name, ""),
            Note.account_id,
            func.coalesce(a.name, ""),
        )
        .outerjoin(c, c.id == Note.contact_id)
        .outerjoin(a, a.id == Note.account_id)
        .where(Note.deleted_at.is_(None))
    )


def timeline(
    session: Session,
    *,
    contact_id: uuid.UUID | None = None,
    account_id: uuid.UUID | None = None,
    limit: int | None = None,
) -> list[NoteRow]:
    """Notes of a contact, or of an account (its own and its contacts'), newest first."""
    stmt = _select()
    if contact_id is not None:
        stmt = stmt.where(Note.contact_id == contact_id)
    if account_id is not None:
        contact_ids = select(Contact.id).where(Contact.account_id == account_id)
        stmt = stmt.where(or_(Note.account_id == account_id, Note.contact_id.in_(contact_ids)))
    stmt = stmt.order_by(Note.occurred_at.desc(), Note.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [NoteRow(*r) for r in session.execute(stmt)]


def get_note(session: Session, note_id: uuid.UUID) -> NoteRow:
    get_live(session, Note, note_id, "note")
    return NoteRow(*session.execute(_select().where(Note.id == note_id)).one())
