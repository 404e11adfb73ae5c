"""The Today view: who is overdue for a check-in, which commitments are late or due soon."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, or_
from sqlalchemy.orm import Session

from models.entities import Commitment, Contact
from models.rows import ContactRow, TodaySummary
from models.services.commitments import kept_rate, list_commitments
from models.services.contacts import _row_select, _to_row


def overdue_checkins(session: Session, today: date, limit: int = 200) -> list[ContactRow]:
    """Contacts with a cadence whose last interaction is older than it, most overdue first.

    A contact with a cadence and no interaction at all is overdue from the start.
    """
    start_of_today = datetime.combine(today, datetime.min.time())
    # last_contact_at is kept by triggers (migration 0004): one pass over contacts, where a
    # max() over a million notes per call took seconds. julianday() arithmetic is several times
    # cheaper per row than building date strings.
    due = func.julianday(Contact.last_contact_at) + Contact.cadence_days
    stmt = (
        _row_select()
        .where(
            Contact.deleted_at.is_(None),
            Contact.cadence_days.is_not(None),
            or_(Contact.last_contact_at.is_(None), due < func.julianday(start_of_today.isoformat(sep=" "))),
        )
        .order_by(func.coalesce(due, 0).asc(), Contact.name)
        .limit(limit)
    )
    return [_to_row(r) for r in session.execute(stmt)]


def today_summary(session: Session, today: date | None = None) -> TodaySummary:
    today = today or datetime.now(UTC).astimezone().date()
    overdue = list_commitments(session, due_before=today, limit=500)
    week = [
        c
        for c in list_commitments(session, due_before=today + timedelta(days=8), limit=500)
        if c.due_date is not None and c.due_date >= today
    ]
    return TodaySummary(
        overdue_checkins=overdue_checkins(session, today),
        overdue_commitments=overdue,
        due_this_week=week,
        kept=kept_rate(session, today),
    )


__all__ = ["Commitment", "overdue_checkins", "today_summary"]
