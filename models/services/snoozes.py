"""Snoozed and dismissed Today items.

A Today item is named "<kind>:<row id>" (``Snooze.item``): "checkin:<contact>",
"thanks:<purchase, referred contact or kept commitment>", "followup1:<purchase>" and
"followup2:<purchase>" (the first and second follow-up after a sale, whatever their number of
days), "detractor:<feedback>", "date:<contact>:<day>:<which>" (one occurrence of a birthday or a
personal date). A snooze hides the item until its ``until`` day, when it shows again; a
dismissal (``until`` None) hides it for good. Snoozes are synced rows, so a rep's two laptops
agree. Commitments are not snoozed here: their due date moves instead (a promise's date is what
the rep and the customer see everywhere else).

One live row per item: snoozing again moves that row's day rather than adding a row.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, String, func, or_, select, type_coerce
from sqlalchemy.orm import Session

from models.entities import Commitment, Contact, Snooze
from models.errors import ValidationError
from models.services.common import get_live


def snooze(
    session: Session,
    item: str,
    until: date | None,
    *,
    today: date,
    contact_id: uuid.UUID | None = None,
    account_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """Hide ``item`` until ``until`` (a day after ``today``), or for good when ``until`` is None."""
    if until is not None and until <= today:
        raise ValidationError({"until": "Pick a day after today"})
    if account_id is None and contact_id is not None:
        contact = session.get(Contact, contact_id)
        account_id = contact.account_id if contact is not None else None
    row = session.scalars(
        select(Snooze).where(Snooze.item == item, Snooze.deleted_at.is_(None)).limit(1)
    ).first()
    if row is None:
        row = Snooze(item=item, until=until, contact_id=contact_id, account_id=account_id)
        session.add(row)
    else:
        row.until = until
    session.flush()
    return row.id


def dismiss(
    session: Session,
    item: str,
    *,
    today: date,
    contact_id: uuid.UUID | None = None,
    account_id: uuid.UUID | None = None,
) -> uuid.UUID:
    return snooze(session, item, None, today=today, contact_id=contact_id, account_id=account_id)


def hidden_items(session: Session, today: date, prefix: str = "") -> set[str]:
    """Items snoozed past ``today`` or dismissed: what Today leaves out (those of one kind when
    ``prefix``, "date:"..., is given: a range of ``ix_snoozes_item``)."""
    stmt = select(Snooze.item).where(
        Snooze.deleted_at.is_(None), or_(Snooze.until.is_(None), Snooze.until > today)
    )
    if prefix:
        stmt = stmt.where(*_kind(prefix))
    return set(session.scalars(stmt))


def _kind(prefix: str) -> tuple[ColumnElement[bool], ...]:
    return (Snooze.item >= prefix, Snooze.item < prefix[:-1] + chr(ord(prefix[-1]) + 1))


def snoozed_rows(prefix: str, today: date) -> Select[Any]:
    """The ids of the rows whose "<prefix><id>" item is hidden on ``today``, as stored (32 hex
    digits): a statement, so a list leaves them out in SQL (``ix_snoozes_item`` gives the range
    of one kind's items) rather than through thousands of parameters."""
    stored = func.replace(func.substr(Snooze.item, len(prefix) + 1), "-", "")
    return select(type_coerce(stored, String)).where(
        *_kind(prefix),
        Snooze.deleted_at.is_(None),
        or_(Snooze.until.is_(None), Snooze.until > today),
    )


def snooze_commitment(session: Session, commitment_id: uuid.UUID, until: date, *, today: date) -> None:
    """Put a promise off by moving its due date (it then shows on Today again on that day)."""
    if until <= today:
        raise ValidationError({"until": "Pick a day after today"})
    get_live(session, Commitment, commitment_id, "commitment").due_date = until
