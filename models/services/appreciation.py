"""Thank-yous: a note, a gift, a call or an event given to a contact, and what prompted it.

``reason``/``reason_id`` name the purchase, the referred contact or the kept commitment the
thank-you is for: Today's "thank-yous owed" list (the ``today`` lane) reads them to see what has
been thanked already.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from models.entities import Appreciation, Contact, ThanksKind, ThanksReason
from models.services.common import get_live
from models.services.owners import apply_changes, owner_account, stored_instant
from models.validation import check_storable, raise_if

KINDS = [k.value for k in ThanksKind]
REASONS = [r.value for r in ThanksReason]
KIND_LABELS = {"note": "Note", "gift": "Gift", "call": "Call", "event": "Event"}
REASON_LABELS = {
    "purchase": "A purchase",
    "referral": "A referral",
    "commitment": "A promise they kept",
    "other": "Something else",
}


@dataclass(frozen=True, slots=True)
class ThanksRow:
    id: uuid.UUID
    given_at: datetime
    kind: str
    reason: str
    reason_id: uuid.UUID | None
    summary: str
    contact_id: uuid.UUID | None
    contact_name: str


@dataclass
class ThanksInput:
    contact_id: uuid.UUID | None
    kind: str = ThanksKind.NOTE.value
    summary: str = ""
    reason: str = ThanksReason.OTHER.value
    reason_id: uuid.UUID | None = None
    given_at: datetime | None = None  # aware, or naive local time; None: now


def clean_thanks(session: Session, inp: ThanksInput) -> dict[str, Any]:
    errs: dict[str, str] = {}
    if inp.kind not in KINDS:
        errs["kind"] = f"Choose one of: {', '.join(KINDS)}"
    if inp.reason not in REASONS:
        errs["reason"] = f"Choose one of: {', '.join(REASONS)}"
    if inp.contact_id is None:
        errs["contact_id"] = "A thank-you is given to a contact: choose one from the list"
    values: dict[str, Any] = {
        "kind": inp.kind,
        "reason": inp.reason,
        # What prompted it is only kept for a reason that names a row.
        "reason_id": inp.reason_id if inp.reason != ThanksReason.OTHER.value else None,
        "summary": (inp.summary or "").strip(),
        "given_at": stored_instant(inp.given_at),
        "contact_id": inp.contact_id,
        "account_id": (
            owner_account(session, inp.contact_id, None, errs, "A thank-you") if inp.contact_id else None
        ),
    }
    check_storable(Appreciation, values, errs)
    raise_if(errs)
    return values


def log_thanks(session: Session, inp: ThanksInput) -> uuid.UUID:
    row = Appreciation(**clean_thanks(session, inp))
    session.add(row)
    session.flush()
    return row.id


def update_thanks(session: Session, thanks_id: uuid.UUID, inp: ThanksInput) -> None:
    row = get_live(session, Appreciation, thanks_id, "thank-you")
    apply_changes(row, clean_thanks(session, inp))


@cache  # built once: making the statement cost more than running it (SQLAlchemy's coercions)
def _select() -> Select:
    c = aliased(Contact)
    return (
        select(
            Appreciation.id,
            Appreciation.given_at,
            Appreciation.kind,
            Appreciation.reason,
            Appreciation.reason_id,
            Appreciation.summary,
            Appreciation.contact_id,
            func.coalesce(c.name, ""),
        )
        .outerjoin(c, c.id == Appreciation.contact_id)
        .where(Appreciation.deleted_at.is_(None))
    )


def list_thanks(session: Session, contact_id: uuid.UUID, limit: int | None = 200) -> list[ThanksRow]:
    """A contact's thank-yous, newest first."""
    stmt = (
        _select()
        .where(Appreciation.contact_id == contact_id)
        .order_by(Appreciation.given_at.desc(), Appreciation.id)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return [ThanksRow(*r) for r in session.execute(stmt)]


def last_thanks(session: Session, contact_id: uuid.UUID) -> ThanksRow | None:
    rows = list_thanks(session, contact_id, limit=1)
    return rows[0] if rows else None


def get_thanks(session: Session, thanks_id: uuid.UUID) -> ThanksRow:
    get_live(session, Appreciation, thanks_id, "thank-you")
    return ThanksRow(*session.execute(_select().where(Appreciation.id == thanks_id)).one())
