"""Visits: plan, edit, cancel and complete the meetings of a rep's day.

Times are stored as UTC; "a day" is the rep's local calendar day, so the day view and the
printed route agree with the clock on the wall.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from models.entities import Account, Channel, Contact, Visit, VisitStatus
from models.errors import ValidationError
from models.rows import VisitRow
from models.services.commitments import CommitmentInput, add_commitment
from models.services.common import get_live
from models.services.notes import NoteInput, add_note
from models.types import utcnow
from models.validation import check_storable, raise_if

STATUSES = [s.value for s in VisitStatus]
MAX_DURATION_MINUTES = 24 * 60


@dataclass
class VisitInput:
    """What the visit form collects. ``starts_at`` is aware, or naive local time, or ISO text."""

    starts_at: datetime | str | None
    duration_minutes: int | str = 60
    account_id: uuid.UUID | None = None
    contact_ids: list[uuid.UUID] = field(default_factory=list)
    location: str = ""
    purpose: str = ""
    agenda: str = ""


@dataclass
class VisitOutcome:
    """What happened at a completed visit: a note to log (if any) and the commitments made."""

    note_summary: str = ""
    note_body: str = ""
    commitments: list[CommitmentInput] = field(default_factory=list)


def _parse_when(value: datetime | str | None, errs: dict[str, str]) -> datetime | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        errs["starts_at"] = "When is the visit? A date and time is required"
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            errs["starts_at"] = f"“{value}” is not a date and time (use YYYY-MM-DD HH:MM)"
            return None
    # A naive time is what the rep typed on their own clock: local time.
    return (value if value.tzinfo else value.astimezone()).astimezone(UTC)


def clean_visit(session: Session, inp: VisitInput) -> dict[str, Any]:
    """Validated column values, or :class:`ValidationError` naming every bad field."""
    errs: dict[str, str] = {}
    starts_at = _parse_when(inp.starts_at, errs)
    try:
        duration = int(str(inp.duration_minutes).strip())
        if not 1 <= duration <= MAX_DURATION_MINUTES:
            raise ValueError
    except ValueError:
        errs["duration_minutes"] = "The duration is a number of minutes between 1 and 1440"
        duration = 60
    account: Account | None = None
    if inp.account_id is not None:
        account = session.get(Account, inp.account_id)
        if account is None or account.deleted_at is not None:
            errs["account_id"] = "That account no longer exists"
            account = None
    contacts: list[Contact] = []
    seen: set[uuid.UUID] = set()
    for cid in inp.contact_ids:
        if cid in seen:
            continue
        seen.add(cid)
        contact = session.get(Contact, cid)
        if contact is None or contact.deleted_at is not None:
            errs["contact_ids"] = "One of the people chosen no longer exists"
        else:
            contacts.append(contact)
    if inp.account_id is None and not inp.contact_ids:
        errs["account_id"] = "Choose the account you visit, or at least one person"
    if account is None and contacts and "account_id" not in errs and contacts[0].account_id is not None:
        # Visiting someone means visiting their company: file the visit under it.
        account = session.get(Account, contacts[0].account_id)
        if account is not None and account.deleted_at is not None:
            account = None
    purpose = (inp.purpose or "").strip()
    if len(purpose) > 500:
        errs["purpose"] = "Keep the purpose under 500 characters; put details in the agenda"
    location = (inp.location or "").strip()
    if not location:
        location = account.address if account is not None else (contacts[0].address if contacts else "")
    values = {
        "starts_at": starts_at,
        "duration_minutes": duration,
        "account_id": account.id if account is not None else None,
        "contact_ids": [str(c.id) for c in contacts],
        "location": location,
        "purpose": purpose,
        "agenda": (inp.agenda or "").strip(),
    }
    check_storable(Visit, values, errs)
    raise_if(errs)
    return values


def create_visit(session: Session, inp: VisitInput) -> uuid.UUID:
    visit = Visit(**clean_visit(session, inp), status=VisitStatus.PLANNED.value)
    session.add(visit)
    session.flush()
    return visit.id


def update_visit(session: Session, visit_id: uuid.UUID, inp: VisitInput) -> None:
    visit = get_live(session, Visit, visit_id, "visit")
    for key, value in clean_visit(session, inp).items():
        if getattr(visit, key) != value:  # unchanged fields stay out of the sync patch
            setattr(visit, key, value)


def cancel_visit(session: Session, visit_id: uuid.UUID) -> None:
    visit = get_live(session, Visit, visit_id, "visit")
    if visit.status == VisitStatus.DONE.value:
        raise ValidationError({"status": "This visit is already done; it cannot be cancelled"})
    visit.status = VisitStatus.CANCELLED.value


def delete_visit(session: Session, visit_id: uuid.UUID) -> None:
    get_live(session, Visit, visit_id, "visit").deleted_at = utcnow()


def complete_visit(session: Session, visit_id: uuid.UUID, outcome: VisitOutcome | None = None) -> None:
    """Mark done and, in the same transaction, log the visit note and the commitments made.

    The note is logged once per person met, so each one's "last contact" moves; with nobody
    named it goes on the account. Any invalid commitment rolls the whole action back.
    """
    visit = get_live(session, Visit, visit_id, "visit")
    if visit.status == VisitStatus.CANCELLED.value:
        raise ValidationError({"status": "This visit was cancelled; plan it again to complete it"})
    visit.status = VisitStatus.DONE.value
    outcome = outcome or VisitOutcome()
    # People deleted since the visit was planned get no note; the others still do.
    contact_ids = [
        cid
        for cid in (uuid.UUID(c) for c in visit.contact_ids)
        if (c := session.get(Contact, cid)) is not None and c.deleted_at is None
    ]
    summary = outcome.note_summary.strip()
    if summary or outcome.note_body.strip():
        summary = summary or (visit.purpose or "Visit")
        when = min(visit.starts_at, datetime.now(UTC))
        targets: list[uuid.UUID | None] = list(contact_ids) or [None]
        for cid in targets:
            add_note(
                session,
                NoteInput(
                    summary=summary,
                    channel=Channel.VISIT.value,
                    body=outcome.note_body,
                    occurred_at=when,
                    contact_id=cid,
                    account_id=visit.account_id,
                ),
            )
    errors: dict[str, str] = {}
    for i, commitment in enumerate(outcome.commitments):
        if commitment.contact_id is None and commitment.account_id is None:
            # Made in the meeting: owed to (or by) the first person met, filed under the account.
            commitment = replace(
                commitment, contact_id=contact_ids[0] if contact_ids else None, account_id=visit.account_id
            )
        try:
            add_commitment(session, commitment)
        except ValidationError as exc:
            for key, why in exc.field_errors.items():
                errors.setdefault(f"commitments.{i}.{key}", why)
    raise_if(errors)


def _select() -> Select:
    return (
        select(
            Visit.id,
            Visit.starts_at,
            Visit.duration_minutes,
            Visit.location,
            Visit.account_id,
            func.coalesce(Account.name, ""),
            Visit.contact_ids,
            Visit.purpose,
            Visit.agenda,
            Visit.status,
        )
        .outerjoin(Account, Account.id == Visit.account_id)
        .where(Visit.deleted_at.is_(None))
    )


def _to_rows(session: Session, raw: list[Any]) -> list[VisitRow]:
    # One query for every attendee's name across the rows, not one per visit.
    wanted = {uuid.UUID(c) for r in raw for c in (r[6] or ())}
    names: dict[uuid.UUID, str] = {}
    if wanted:
        names = dict(
            (r[0], r[1])
            for r in session.execute(select(Contact.id, Contact.name).where(Contact.id.in_(wanted)))
        )
    rows = []
    for r in raw:
        ids = tuple(uuid.UUID(c) for c in (r[6] or ()))
        rows.append(
            VisitRow(
                id=r[0],
                starts_at=r[1],
                duration_minutes=r[2],
                location=r[3],
                account_id=r[4],
                account_name=r[5],
                contact_ids=ids,
                contact_names=tuple(names.get(c, "(deleted)") for c in ids),
                purpose=r[7],
                agenda=r[8],
                status=r[9],
            )
        )
    return rows


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants where the rep's local ``day`` starts and ends (DST-aware)."""
    start = datetime.combine(day, time.min).astimezone()
    end = datetime.combine(day + timedelta(days=1), time.min).astimezone()
    return start.astimezone(UTC), end.astimezone(UTC)


def visits_on(session: Session, day: date, *, include_cancelled: bool = True) -> list[VisitRow]:
    """The visits of a local calendar day in time order (the route)."""
    start, end = local_day_bounds(day)
    stmt = _select().where(Visit.starts_at >= start, Visit.starts_at < end)
    if not include_cancelled:
        stmt = stmt.where(Visit.status != VisitStatus.CANCELLED.value)
    stmt = stmt.order_by(Visit.starts_at, Visit.id)
    return _to_rows(session, list(session.execute(stmt)))


def get_visit(session: Session, visit_id: uuid.UUID) -> VisitRow:
    get_live(session, Visit, visit_id, "visit")
    return _to_rows(session, [session.execute(_select().where(Visit.id == visit_id)).one()])[0]


def visit_input(row: VisitRow) -> VisitInput:
    """The form values of an existing visit (for editing)."""
    return VisitInput(
        starts_at=row.starts_at,
        duration_minutes=row.duration_minutes,
        account_id=row.account_id,
        contact_ids=list(row.contact_ids),
        location=row.location,
        purpose=row.purpose,
        agenda=row.agenda,
    )


def visits_of_account(session: Session, account_id: uuid.UUID, limit: int = 50) -> list[VisitRow]:
    """An account's visits, newest first (uses the account index)."""
    stmt = _select().where(Visit.account_id == account_id).order_by(Visit.starts_at.desc()).limit(limit)
    return _to_rows(session, list(session.execute(stmt)))
