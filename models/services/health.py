"""Relationship health: a score from 0 to 100 per contact and per account, always with its
reasons in words. The formula is in docs/health.md; keep the two together.

A contact starts at 100 and loses points for four things, each capped:

- recency against cadence (up to 40): past the ideal interval 20, past the maximum 40 (the
  cadence is the effective one: own, else the account tier's or the kind's default; the
  maximum, if none is set, twice the ideal), never contacted 30;
- promises (up to 30): 10 per overdue promise of ours, 5 per promise kept late in the last
  365 days;
- feedback (up to 25): the last score in the last 365 days: a detractor (0-6) 25, a passive
  (7-8) 10;
- interaction frequency (up to 10): fewer than half the touches the cadence expects in the last
  90 days (with no cadence: none at all in 90 days) 10.

An account's score is the average of its people's, decision makers and champions counting
double, less 10 per overdue promise filed under the account alone (up to 30).

Computed on demand: for every contact in one pass of five grouped queries (docs/benchmarks.md
has the figure on 100,000 contacts), so nothing is stored and nothing goes stale.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta, tzinfo
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Integer, Select, String, func, literal_column, select, type_coerce
from sqlalchemy.orm import Session

from models.entities import (
    Account,
    Commitment,
    CommitmentStatus,
    Contact,
    Direction,
    Feedback,
    Note,
    StakeRole,
)
from models.services.cadence import effective_columns, load_defaults
from models.services.periods import local_midnight, utc_offset_minutes

YEAR = 365
FREQUENCY_DAYS = 90
GOOD, WATCH = 80, 50  # a score of at least 80 is good, under 50 at risk

RECENCY_PAST_IDEAL, RECENCY_PAST_MAX, RECENCY_NEVER = 20, 40, 30
PER_OVERDUE, PER_LATE, PROMISES_CAP = 10, 5, 30
DETRACTOR, PASSIVE = 25, 10
INFREQUENT = 10
ACCOUNT_OVERDUE_CAP = 30
DOUBLE_WEIGHT = {StakeRole.DECISION_MAKER.value, StakeRole.CHAMPION.value}


class Reason(NamedTuple):
    """One thing the score took into account, in words, and what it took off (0: said for the
    record). The words are put together only when read: every contact's score is computed at
    once, and only the shown ones are read."""

    points: int
    template: str
    values: tuple[object, ...] = ()

    @property
    def text(self) -> str:
        return self.template.format(*self.values)


@dataclass(frozen=True, slots=True)
class Health:
    score: int | None  # None: nothing to judge (an account with no people)
    reasons: tuple[Reason, ...]
    neglected: bool = False  # past the ideal cadence, never contacted, or silent for 90 days

    @property
    def band(self) -> str:
        """ "good", "watch" or "at risk" ("unknown" without a score)."""
        if self.score is None:
            return "unknown"
        if self.score >= GOOD:
            return "good"
        return "watch" if self.score >= WATCH else "at risk"

    @property
    def text(self) -> str:
        """ "62/100 (watch): no contact for 64 days, cadence 30; 2 overdue promises to them"."""
        if self.score is None:
            return "; ".join(r.text for r in self.reasons) or "nothing to judge yet"
        said = [r.text for r in self.reasons if r.points] or [r.text for r in self.reasons]
        return f"{self.score}/100 ({self.band}): " + "; ".join(said)


class ContactFacts(NamedTuple):
    """What the score is built from, for one contact (plain values: testable without a DB)."""

    cadence_days: int | None
    cadence_max_days: int | None
    days_since_contact: int | None  # None: never contacted
    overdue_promises: int = 0
    late_promises: int = 0  # ours, due in the last 365 days, done after the date
    last_score: int | None = None  # the last feedback score in the last 365 days
    touches: int = 0  # notes in the last 90 days


def _s(n: int, many: str = "s") -> str:
    """The plural ending for ``n`` things."""
    return "" if n == 1 else many


def _cadence(cadence_days: int | None, cadence_max_days: int | None) -> tuple[int | None, int | None]:
    """The ideal and maximum interval. The ``today`` lane's ``cadence.effective_cadence`` (own
    value, account tier default, contact kind default) replaces this once it is on main."""
    if cadence_days is None:
        return None, cadence_max_days
    return cadence_days, cadence_max_days or 2 * cadence_days


def _recency(f: ContactFacts, ideal: int | None, most: int | None) -> Reason:
    d = f.days_since_contact
    if ideal is None or most is None:
        if d is None:
            return Reason(0, "never contacted (no cadence set)")
        return Reason(0, "last contact {} day{} ago (no cadence set)", (d, _s(d)))
    if d is None:
        return Reason(RECENCY_NEVER, "never contacted, cadence {}", (ideal,))
    if d > most:
        return Reason(
            RECENCY_PAST_MAX, "no contact for {} days, cadence {} (losing touch after {})", (d, ideal, most)
        )
    if d > ideal:
        return Reason(RECENCY_PAST_IDEAL, "no contact for {} days, cadence {}", (d, ideal))
    return Reason(0, "last contact {} day{} ago, cadence {}", (d, _s(d), ideal))


def _promises(f: ContactFacts) -> list[Reason]:
    reasons = []
    n, late = f.overdue_promises, f.late_promises
    if n:
        reasons.append(Reason(PER_OVERDUE * n, "{} overdue promise{} to them", (n, _s(n))))
    if late:
        reasons.append(Reason(PER_LATE * late, "{} promise{} kept late in the last year", (late, _s(late))))
    taken = sum(r.points for r in reasons)
    if taken > PROMISES_CAP:  # the cap comes off the last reason, so the parts still add up
        reasons[-1] = reasons[-1]._replace(points=reasons[-1].points - (taken - PROMISES_CAP))
    return reasons


def _feedback(f: ContactFacts) -> Reason | None:
    s = f.last_score
    if s is None:
        return None
    if s <= 6:
        return Reason(DETRACTOR, "last score {}/10 (detractor)", (s,))
    if s <= 8:
        return Reason(PASSIVE, "last score {}/10 (passive)", (s,))
    return Reason(0, "last score {}/10 (promoter)", (s,))


def _frequency(f: ContactFacts, ideal: int | None) -> Reason | None:
    if ideal is None:
        if f.touches == 0 and f.days_since_contact is not None:
            return Reason(INFREQUENT, "no touch in {} days", (FREQUENCY_DAYS,))
        return None
    expected = FREQUENCY_DAYS // ideal
    if expected >= 2 and f.touches < expected / 2:
        return Reason(
            INFREQUENT,
            "{} touch{} in {} days, about {} expected",
            (f.touches, _s(f.touches, "es"), FREQUENCY_DAYS, expected),
        )
    return None


def _reasons(f: ContactFacts) -> tuple[list[Reason], bool]:
    """The reasons, and whether the contact is neglected."""
    ideal, most = _cadence(f.cadence_days, f.cadence_max_days)
    recency = _recency(f, ideal, most)
    reasons = [recency, *_promises(f)] if f.overdue_promises or f.late_promises else [recency]
    for extra in (_feedback(f), _frequency(f, ideal)):
        if extra is not None:
            reasons.append(extra)
    silent = ideal is None and (f.days_since_contact is None or f.days_since_contact > FREQUENCY_DAYS)
    return reasons, recency.points > 0 or silent


def score_contact(f: ContactFacts) -> Health:
    reasons, neglected = _reasons(f)
    return Health(max(0, 100 - sum(r.points for r in reasons)), tuple(reasons), neglected=neglected)


def score_only(f: ContactFacts | tuple[int | None, int | None, int | None, int, int, int | None, int]) -> int:
    """:func:`score_contact`'s score alone, in plain arithmetic, for every contact at once (a
    test holds the two equal over every combination of facts)."""
    ideal, most, d, overdue, late, last, touches = f
    points = min(PROMISES_CAP, PER_OVERDUE * overdue + PER_LATE * late)
    if ideal is not None:
        most = most or 2 * ideal
        if d is None:
            points += RECENCY_NEVER
        elif d > most:
            points += RECENCY_PAST_MAX
        elif d > ideal:
            points += RECENCY_PAST_IDEAL
        expected = FREQUENCY_DAYS // ideal
        if expected >= 2 and touches < expected / 2:
            points += INFREQUENT
    elif touches == 0 and d is not None:
        points += INFREQUENT
    if last is not None:
        points += DETRACTOR if last <= 6 else PASSIVE if last <= 8 else 0
    return max(0, 100 - points)


# --- gathering the facts ---------------------------------------------------------------------


def _grouped(session: Session, stmt: Select) -> dict[str, int]:
    # Core, not the ORM: its row loading cost as much as the query on 100,000 rows.
    return {cid: int(n) for cid, n in session.connection().execute(stmt).all()}


def _hex(column: Any) -> Any:
    """An id column as the 32 hex digits SQLite stores: making 100,000 UUID objects for keys
    cost more than every query of the pass together."""
    return type_coerce(column, String)


def _narrow(column: Any, ids: list[uuid.UUID] | None) -> list[ColumnElement[bool]]:
    return [column.in_(ids)] if ids is not None else [column.is_not(None)]


def _facts_rows(
    session: Session, today: date, ids: list[uuid.UUID] | None, tz: tzinfo | None
) -> Iterator[tuple[str, tuple[int | None, int | None, int | None, int, int, int | None, int]]]:
    """(contact id in hex, its facts as a plain tuple in :class:`ContactFacts` order), from five grouped
    queries: the contacts, our overdue and late promises, the last score, the recent notes."""
    c = Commitment
    offset = f"{utc_offset_minutes(today, tz):+d} minutes"
    # Days since the last contact as a local date, in SQL: parsing 100,000 datetimes in Python
    # cost more than the whole query.
    days = func.cast(
        func.julianday(today.isoformat()) - func.julianday(func.date(Contact.last_contact_at, offset)),
        Integer,
    )
    # The effective cadence, as Today reads it: the contact's own, else its account tier's or
    # its kind's default from Preferences (models.services.cadence).
    ideal, most = effective_columns(load_defaults(session))
    base = (
        select(_hex(Contact.id), ideal, most, days)
        .select_from(Contact)
        .outerjoin(Account, Account.id == Contact.account_id)
        .where(Contact.deleted_at.is_(None), *_narrow(Contact.id, ids))
    )
    ours = (c.deleted_at.is_(None), c.direction == Direction.WE.value, *_narrow(c.contact_id, ids))
    # For a few contacts, ``status || ''``: otherwise SQLite walks the status index (every open
    # or done commitment) instead of the contacts' own (120 ms against 0 on a big database).
    status = c.status if ids is None else c.status.op("||")("")
    overdue = _grouped(
        session,
        select(_hex(c.contact_id), func.count())
        .where(*ours, status == CommitmentStatus.OPEN.value, c.due_date < today)
        .group_by(c.contact_id),
    )
    late = _grouped(
        session,
        select(_hex(c.contact_id), func.count())
        .where(
            *ours,
            status == CommitmentStatus.DONE.value,
            c.due_date >= today - timedelta(days=YEAR),
            func.date(c.done_at, offset) > c.due_date,
        )
        .group_by(c.contact_id),
    )
    # SQLite returns the bare column (score) of the row holding the max(): the last score.
    scores = {
        cid: score
        for cid, score, _when in session.connection().execute(
            select(_hex(Feedback.contact_id), Feedback.score, func.max(Feedback.received_at))
            .where(
                Feedback.deleted_at.is_(None),
                Feedback.score.is_not(None),
                Feedback.received_at >= local_midnight(today - timedelta(days=YEAR), tz),
                *_narrow(Feedback.contact_id, ids),
            )
            .group_by(Feedback.contact_id)
        )
    }
    recent = select(_hex(Note.contact_id), func.count()).where(
        Note.occurred_at >= local_midnight(today - timedelta(days=FREQUENCY_DAYS), tz),
        Note.deleted_at.is_(None),
    )
    if ids is None:
        # Every contact: the partial index of live notes by time (migration 0009) reads the last
        # 90 days alone. Grouped by the bare column, SQLite walks every note by contact instead
        # (to skip a sort): 1.9 s against 0.7 s on a million notes; ``+`` hides that index.
        touches = _grouped(session, recent.group_by(literal_column("+notes.contact_id")))
    else:
        touches = _grouped(session, recent.where(Note.contact_id.in_(ids)).group_by(Note.contact_id))
    # .all(): one fetchall; iterating a Core result fetches row by row, and cost a second here.
    for cid, cadence, cadence_max, since in session.connection().execute(base).all():
        if since is not None and since < 0:
            since = 0  # a note dated in the future
        yield (
            cid,
            (
                cadence,
                cadence_max,
                since,
                overdue.get(cid, 0),
                late.get(cid, 0),
                scores.get(cid),
                touches.get(cid, 0),
            ),
        )


def contact_facts(
    session: Session, today: date, contact_ids: list[uuid.UUID] | None = None, tz: tzinfo | None = None
) -> dict[uuid.UUID, ContactFacts]:
    """The facts of the given contacts (every live one with ``None``)."""
    rows = _facts_rows(session, today, contact_ids, tz)
    return {uuid.UUID(cid): ContactFacts(*facts) for cid, facts in rows}


class Scores(Mapping[uuid.UUID, int]):
    """Every contact's score by id, kept by the ids' hex text (see :func:`_hex`)."""

    def __init__(self, by_hex: dict[str, int]) -> None:
        self.by_hex = by_hex

    def __getitem__(self, key: uuid.UUID) -> int:
        return self.by_hex[key.hex]

    def __iter__(self) -> Iterator[uuid.UUID]:
        return (uuid.UUID(h) for h in self.by_hex)

    def __len__(self) -> int:
        return len(self.by_hex)


def all_scores(session: Session, today: date, tz: tzinfo | None = None) -> Scores:
    """Every live contact's score (no reasons: read those for the few shown, with
    :func:`contacts_health`). docs/benchmarks.md has its time on 100,000 contacts."""
    return Scores({cid: score_only(facts) for cid, facts in _facts_rows(session, today, None, tz)})


def contacts_health(
    session: Session, today: date, contact_ids: Iterable[uuid.UUID] | None = None, tz: tzinfo | None = None
) -> dict[uuid.UUID, Health]:
    """Health of the given contacts, or of every live contact (``None``), with reasons."""
    ids = list(contact_ids) if contact_ids is not None else None
    return {cid: score_contact(f) for cid, f in contact_facts(session, today, ids, tz).items()}


def contact_health(session: Session, contact_id: uuid.UUID, today: date, tz: tzinfo | None = None) -> Health:
    found = contacts_health(session, today, [contact_id], tz)
    return found.get(contact_id) or Health(None, (Reason(0, "this contact no longer exists"),))


# --- accounts ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Member:
    """One person at an account as the account's score sees them."""

    name: str
    stake_role: str
    health: Health


def score_account(members: list[Member], own_overdue: int) -> Health:
    """The weighted average of the people's scores, less the account's own overdue promises."""
    if not members:
        return Health(None, (Reason(0, "no people at this account yet"),))
    weights = [2 if m.stake_role in DOUBLE_WEIGHT else 1 for m in members]
    average = sum(w * (m.health.score or 0) for w, m in zip(weights, members, strict=True)) / sum(weights)
    people = f"{len(members)} {'person' if len(members) == 1 else 'people'}"
    double = " (decision makers and champions count double)" if any(w == 2 for w in weights) else ""
    reasons = [Reason(0, "average of {}{}", (people, double))]
    at_risk = sorted((m for m in members if m.health.band == "at risk"), key=lambda m: m.health.score or 0)
    if at_risk:
        names = ", ".join(f"{m.name} {m.health.score}" for m in at_risk[:3])
        more = f" and {len(at_risk) - 3} more" if len(at_risk) > 3 else ""
        reasons.append(Reason(0, "{} of {} at risk: {}{}", (len(at_risk), len(members), names, more)))
    neglected = [m for m in members if m.health.neglected]
    if neglected:
        reasons.append(Reason(0, "{} of {} neglected", (len(neglected), len(members))))
    points = min(ACCOUNT_OVERDUE_CAP, PER_OVERDUE * own_overdue)
    if own_overdue:
        reasons.append(Reason(points, "{} overdue promise{} to the account", (own_overdue, _s(own_overdue))))
    return Health(max(0, round(average) - points), tuple(reasons), neglected=bool(neglected))


def account_overdue_own(session: Session, account_id: uuid.UUID, today: date) -> int:
    """Our overdue promises filed under the account and no one in particular."""
    c = Commitment
    return int(
        session.scalar(
            select(func.count()).where(
                c.account_id == account_id,
                c.contact_id.is_(None),
                c.deleted_at.is_(None),
                c.direction == Direction.WE.value,
                c.status.op("||")("") == CommitmentStatus.OPEN.value,
                c.due_date < today,
            )
        )
        or 0
    )


def account_health(session: Session, account_id: uuid.UUID, today: date, tz: tzinfo | None = None) -> Health:
    people = session.execute(
        select(Contact.id, Contact.name, Contact.stake_role).where(
            Contact.account_id == account_id, Contact.deleted_at.is_(None)
        )
    ).all()
    found = contacts_health(session, today, [p[0] for p in people], tz)
    members = [Member(name, role, found[cid]) for cid, name, role in people if cid in found]
    return score_account(members, account_overdue_own(session, account_id, today))
