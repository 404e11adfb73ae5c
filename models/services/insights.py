"""The figures behind the account page's charts and the rep's Satisfaction page: NPS, promises
kept on time and contact frequency over a chosen period, each with its trend.

A period is chosen as two local dates (the rep picks "last 12 months", "this year", "last
quarter"... in the UI, or any two dates); trends run by local calendar quarter (NPS) or month
(promises, touches).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta, tzinfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from models.entities import Contact, Note
from models.rows import KeptRate
from models.services.commitments import kept_by_month, kept_rate
from models.services.health import GOOD, WATCH, all_scores
from models.services.nps import NpsFigure, nps, nps_breakdown, nps_by_quarter
from models.services.periods import Month, Quarter, last_months, local_midnight, utc_offset_minutes

TREND_MONTHS = 12


def touches_by_month(
    session: Session, today: date, account_id: uuid.UUID, months: int = TREND_MONTHS, tz: tzinfo | None = None
) -> list[tuple[Month, int]]:
    """Notes with the account or its people in each of the last ``months`` local months."""
    wanted = last_months(today, months)
    offset = utc_offset_minutes(today, tz)
    key = func.strftime("%Y-%m", Note.occurred_at, f"{offset:+d} minutes")
    people = select(Contact.id).where(Contact.account_id == account_id)
    stmt = (
        select(key, func.count())
        .where(
            or_(Note.account_id == account_id, Note.contact_id.in_(people)),
            Note.deleted_at.is_(None),
            Note.occurred_at >= local_midnight(wanted[0].first_day, tz),
            Note.occurred_at < local_midnight(today + timedelta(days=1), tz),
        )
        .group_by(key)
    )
    found = {k: int(n) for k, n in session.execute(stmt)}
    return [(m, found.get(f"{m.year:04d}-{m.number:02d}", 0)) for m in wanted]


@dataclass(frozen=True, slots=True)
class Trends:
    """NPS, kept-on-time and (for an account) touches: the period's figures and their trends."""

    start: date
    end: date
    nps: NpsFigure
    nps_trend: tuple[tuple[Quarter, NpsFigure], ...]
    kept: KeptRate
    kept_trend: tuple[tuple[Month, KeptRate], ...]
    touches_trend: tuple[tuple[Month, int], ...] = ()
    nps_by_kind: tuple[tuple[str, NpsFigure], ...] = ()


def account_trends(
    session: Session, account_id: uuid.UUID, today: date, start: date, tz: tzinfo | None = None
) -> Trends:
    return Trends(
        start,
        today,
        nps(session, start=start, end=today, account_id=account_id, tz=tz),
        tuple(nps_by_quarter(session, start=start, end=today, account_id=account_id, tz=tz)),
        kept_rate(session, today, account_id=account_id, start=start, end=today, tz=tz),
        tuple(kept_by_month(session, today, TREND_MONTHS, account_id=account_id, tz=tz)),
        tuple(touches_by_month(session, today, account_id, TREND_MONTHS, tz)),
    )


def rep_trends(session: Session, today: date, start: date, end: date, tz: tzinfo | None = None) -> Trends:
    """The rep's own figures over [start, end]: NPS overall and per kind of contact, promises
    kept on time, and their trends (the months of the trend end with the period's)."""
    months = max(1, min(36, (end.year - start.year) * 12 + end.month - start.month + 1))
    answers = nps_breakdown(session, start=start, end=end, tz=tz)
    return Trends(
        start,
        end,
        answers.overall,
        answers.by_quarter,
        kept_rate(session, today, start=start, end=end, tz=tz),
        tuple(kept_by_month(session, today, months, until=min(end, today), tz=tz)),
        nps_by_kind=answers.by_kind,
    )


def period_choices(today: date) -> list[tuple[str, date, date]]:
    """The periods the Satisfaction page offers, as (label, first day, last day) in local
    dates; any other two dates can be typed in."""
    this_q = Quarter.of(today)
    last_q = this_q.previous()
    return [
        ("Last 12 months", last_months(today, 12)[0].first_day, today),
        ("This quarter", this_q.first_day, today),
        (f"Last quarter ({last_q.label})", last_q.first_day, last_q.last_day),
        (f"This year ({today.year})", date(today.year, 1, 1), today),
        (f"Last year ({today.year - 1})", date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)),
    ]


@dataclass(frozen=True, slots=True)
class HealthCounts:
    """How many contacts are in each health band (every live contact, computed at once)."""

    good: int
    watch: int
    at_risk: int

    @property
    def text(self) -> str:
        total = self.good + self.watch + self.at_risk
        return f"{total:,} contacts: {self.good:,} good, {self.watch:,} to watch, {self.at_risk:,} at risk"


def health_counts(session: Session, today: date, tz: tzinfo | None = None) -> HealthCounts:
    scores = all_scores(session, today, tz).by_hex.values()
    good = sum(1 for s in scores if s >= GOOD)
    risk = sum(1 for s in scores if s < WATCH)
    return HealthCounts(good, len(scores) - good - risk, risk)
