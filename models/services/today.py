"""The Today view: who is overdue for a check-in, which commitments are late or due soon."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from models.entities import Commitment, Contact
from models.rows import ContactRow, TodaySummary
from models.services.commitments import count_open_due, kept_rate, list_commitments
from models.services.contacts import _row_select, _to_row

LIST_LIMIT = 200  # rows listed per section of Today; the counts are counted, never this


def _checkin_due() -> ColumnElement[float]:
    # last_contact_at is kept by triggers (migration 0004): one pass over contacts, where a
    # max() over a million notes per call took seconds. julianday() arithmetic is several times
    # cheaper per row than building date strings.
    return func.julianday(Contact.last_contact_at) + Contact.cadence_days


def _checkin_overdue(today: date) -> tuple[ColumnElement[bool], ...]:
    start_of_today = datetime.combine(today, datetime.min.time())
    return (
        Contact.deleted_at.is_(None),
        Contact.cadence_days.is_not(None),
        or_(
            Contact.last_contact_at.is_(None),
            _checkin_due() < func.julianday(start_of_today.isoformat(sep=" ")),
        ),
    )


def overdue_checkins(session: Session, today: date, limit: int = LIST_LIMIT) -> list[ContactRow]:
    """Contacts with a cadence whose last interaction is older than it, most overdue first.

    A contact with a cadence and no interaction at all is overdue from the start.
    """
    stmt = (
        _row_select()
        .where(*_checkin_overdue(today))
        .order_by(func.coalesce(_checkin_due(), 0).asc(), Contact.name)
        .limit(limit)
    )
    return [_to_row(r) for r in session.execute(stmt)]


def count_overdue_checkins(session: Session, today: date) -> int:
    return int(session.execute(select(func.count()).where(*_checkin_overdue(today))).scalar_one())


def today_summary(session: Session, today: date | None = None) -> TodaySummary:
    today = today or datetime.now(UTC).astimezone().date()
    week_end = today + timedelta(days=8)
    return TodaySummary(
        overdue_checkins=overdue_checkins(session, today),
        overdue_commitments=list_commitments(session, due_before=today, limit=LIST_LIMIT),
        due_this_week=list_commitments(session, due_from=today, due_before=week_end, limit=LIST_LIMIT),
        kept=kept_rate(session, today),
        overdue_checkins_count=count_overdue_checkins(session, today),
        overdue_commitments_count=count_open_due(session, before=today),
        due_this_week_count=count_open_due(session, start=today, before=week_end),
    )


__all__ = ["Commitment", "overdue_checkins", "today_summary"]
