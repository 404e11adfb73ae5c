"""Relationship health: a score from 0 to 100 per contact and per account, always with its
reasons in words. The formula is in docs/health.md; keep the two together.

A contact starts at 100 and loses points for four things, each capped:

- recency against cadence (up to 40): past the ideal interval 20, past the maximum 40 (the
  maximum is ``cadence_max_days``, or twice the ideal), never contacted 30;
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
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from models.entities import Commitment, CommitmentStatus, Contact, Direction, Feedback, Note, StakeRole
from models.services.periods import local_date, local_midnight, utc_offset_minutes

YEAR = 365
FREQUENCY_DAYS = 90
GOOD, WATCH = 80, 50  # a score of at least 80 is good, under 50 at risk

RECENCY_PAST_IDEAL, RECENCY_PAST_MAX, RECENCY_NEVER = 20, 40, 30
PER_OVERDUE, PER_LATE, PROMISES_CAP = 10, 5, 30
DETRACTOR, PASSIVE = 25, 10
INFREQUENT = 10
ACCOUNT_OVERDUE_CAP = 30
DOUBLE_WEIGHT = {StakeRole.DECISION_MAKER.value, StakeRole.CHAMPION.value}


@dataclass(frozen=True, slots=True)
class Reason:
    text: str
    points: int  # what it took off the score (0: said for the record)


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


@dataclass(frozen=True, slots=True)
class ContactFacts:
    """What the score is built from, for one contact (plain values: testable without a DB)."""

    cadence_days: int | None
    cadence_max_days: int | None
    days_since_contact: int | None  # None: never contacted
    overdue_promises: int = 0
    late_promises: int = 0  # ours, due in the last 365 days, done after the date
    last_score: int | None = None  # the last feedback score in the last 365 days
    touches: int = 0  # notes in the last 90 days


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _cadence(cadence_days: int | None, cadence_max_days: int | None) -> tuple[int | None, int | None]:
    """The ideal and maximum interval. The ``today`` lane's ``cadence.effective_cadence`` (own
    value, account tier default, contact kind default) replaces this once it is on main."""
    if cadence_days is None:
        return None, cadence_max_days
    return cadence_days, cadence_max_days or 2 * cadence_days


def _recency(f: ContactFacts) -> Reason:
    ideal, most = _cadence(f.cadence_days, f.cadence_max_days)
    d = f.days_since_contact
    if ideal is None or most is None:
        if d is None:
            return Reason("never contacted (no cadence set)", 0)
        return Reason(f"last contact {_plural(d, 'day')} ago (no cadence set)", 0)
    if d is None:
        return Reason(f"never contacted, cadence {ideal}", RECENCY_NEVER)
    if d > most:
        return Reason(
            f"no contact for {d} days, cadence {ideal} (losing touch after {most})", RECENCY_PAST_MAX
        )
    if d > ideal:
        return Reason(f"no contact for {d} days, cadence {ideal}", RECENCY_PAST_IDEAL)
    return Reason(f"last contact {_plural(d, 'day')} ago, cadence {ideal}", 0)


def _promises(f: ContactFacts) -> list[Reason]:
    reasons = []
    if f.overdue_promises:
        verb = "promise" if f.overdue_promises == 1 else "promises"
        reasons.append(
            Reason(f"{f.overdue_promises} overdue {verb} to them", PER_OVERDUE * f.overdue_promises)
        )
    if f.late_promises:
        reasons.append(
            Reason(
                f"{_plural(f.late_promises, 'promise')} kept late in the last year",
                PER_LATE * f.late_promises,
            )
        )
    taken = sum(r.points for r in reasons)
    if taken > PROMISES_CAP:  # the cap comes off the last reason, so the parts still add up
        last = reasons[-1]
        reasons[-1] = Reason(last.text, last.points - (taken - PROMISES_CAP))
    return reasons


def _feedback(f: ContactFacts) -> Reason | None:
    s = f.last_score
    if s is None:
        return None
    if s <= 6:
        return Reason(f"last score {s}/10 (detractor)", DETRACTOR)
    if s <= 8:
        return Reason(f"last score {s}/10 (passive)", PASSIVE)
    return Reason(f"last score {s}/10 (promoter)", 0)


def _frequency(f: ContactFacts) -> Reason | None:
    ideal = _cadence(f.cadence_days, f.cadence_max_days)[0]
    if ideal is None:
        if f.touches == 0 and f.days_since_contact is not None:
            return Reason(f"no touch in {FREQUENCY_DAYS} days", INFREQUENT)
        return None
    expected = FREQUENCY_DAYS // ideal
    if expected >= 2 and f.touches < expected / 2:
        return Reason(
            f"{_plural(f.touches, 'touch', 'touches')} in {FREQUENCY_DAYS} days, about {expected} expected",
            INFREQUENT,
        )
    return None


def score_contact(f: ContactFacts) -> Health:
    recency = _recency(f)
    reasons = [recency, *_promises(f)]
    for extra in (_feedback(f), _frequency(f)):
        if extra is not None:
            reasons.append(extra)
    score = max(0, 100 - sum(r.points for r in reasons))
    silent = _cadence(f.cadence_days, f.cadence_max_days)[0] is None and (
        f.days_since_contact is None or f.days_since_contact > FREQUENCY_DAYS
    )
    return Health(score, tuple(reasons), neglected=recency.points > 0 or silent)


# --- gathering the facts ---------------------------------------------------------------------


def _grouped(session: Session, stmt: object) -> dict[uuid.UUID, int]:
    return {cid: int(n) for cid, n in session.execute(stmt)}  # type: ignore[call-overload]


def _narrow(column: Any, ids: list[uuid.UUID] | None) -> list[ColumnElement[bool]]:
    return [column.in_(ids)] if ids is not None else [column.is_not(None)]


def contact_facts(
    session: Session, today: date, contact_ids: list[uuid.UUID] | None = None, tz: tzinfo | None = None
) -> dict[uuid.UUID, ContactFacts]:
    """The facts of the given contacts (every live one with ``None``) in five grouped queries."""
    c = Commitment
    base = select(Contact.id, Contact.cadence_days, Contact.cadence_max_days, Contact.last_contact_at).where(
        Contact.deleted_at.is_(None), *_narrow(Contact.id, contact_ids)
    )
    ours = (c.deleted_at.is_(None), c.direction == Direction.WE.value, *_narrow(c.contact_id, contact_ids))
    overdue = _grouped(
        session,
        select(c.contact_id, func.count())
        .where(*ours, c.status == CommitmentStatus.OPEN.value, c.due_date < today)
        .group_by(c.contact_id),
    )
    offset = utc_offset_minutes(today, tz)
    late = _grouped(
        session,
        select(c.contact_id, func.count())
        .where(
            *ours,
            c.status == CommitmentStatus.DONE.value,
            c.due_date >= today - timedelta(days=YEAR),
            func.date(c.done_at, f"{offset:+d} minutes") > c.due_date,
        )
        .group_by(c.contact_id),
    )
    year_ago = local_midnight(today - timedelta(days=YEAR), tz)
    # SQLite returns the bare column (score) of the row holding the max(): the last score.
    scores = {
        cid: score
        for cid, score, _when in session.execute(
            select(Feedback.contact_id, Feedback.score, func.max(Feedback.received_at))
            .where(
                Feedback.deleted_at.is_(None),
                Feedback.score.is_not(None),
                Feedback.received_at >= year_ago,
                *_narrow(Feedback.contact_id, contact_ids),
            )
            .group_by(Feedback.contact_id)
        )
    }
    touches = _grouped(
        session,
        select(Note.contact_id, func.count())
        .where(
            Note.occurred_at >= local_midnight(today - timedelta(days=FREQUENCY_DAYS), tz),
            Note.deleted_at.is_(None),
            *_narrow(Note.contact_id, contact_ids),
        )
        .group_by(Note.contact_id),
    )
    facts = {}
    for cid, cadence, cadence_max, last in session.execute(base):
        facts[cid] = ContactFacts(
            cadence,
            cadence_max,
            _days_since(last, today, tz),
            overdue.get(cid, 0),
            late.get(cid, 0),
            scores.get(cid),
            touches.get(cid, 0),
        )
    return facts


def _days_since(last: datetime | None, today: date, tz: tzinfo | None) -> int | None:
    return None if last is None else max(0, (today - local_date(last, tz)).days)


def contacts_health(
    session: Session, today: date, contact_ids: Iterable[uuid.UUID] | None = None, tz: tzinfo | None = None
) -> dict[uuid.UUID, Health]:
    """Health of the given contacts, or of every live contact (``None``)."""
    ids = list(contact_ids) if contact_ids is not None else None
    return {cid: score_contact(f) for cid, f in contact_facts(session, today, ids, tz).items()}


def contact_health(session: Session, contact_id: uuid.UUID, today: date, tz: tzinfo | None = None) -> Health:
    found = contacts_health(session, today, [contact_id], tz)
    return found.get(contact_id) or Health(None, (Reason("this contact no longer exists", 0),))


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
        return Health(None, (Reason("no people at this account yet", 0),))
    weights = [2 if m.stake_role in DOUBLE_WEIGHT else 1 for m in members]
    average = sum(w * (m.health.score or 0) for w, m in zip(weights, members, strict=True)) / sum(weights)
    reasons = [Reason(f"average of {_plural(len(members), 'person', 'people')}", 0)]
    if any(w == 2 for w in weights):
        reasons[0] = Reason(reasons[0].text + " (decision makers and champions count double)", 0)
    at_risk = sorted((m for m in members if m.health.band == "at risk"), key=lambda m: m.health.score or 0)
    if at_risk:
        names = ", ".join(f"{m.name} {m.health.score}" for m in at_risk[:3])
        more = f" and {len(at_risk) - 3} more" if len(at_risk) > 3 else ""
        reasons.append(Reason(f"{len(at_risk)} of {len(members)} at risk: {names}{more}", 0))
    neglected = [m for m in members if m.health.neglected]
    if neglected:
        reasons.append(Reason(f"{len(neglected)} of {len(members)} neglected", 0))
    points = min(ACCOUNT_OVERDUE_CAP, PER_OVERDUE * own_overdue)
    if own_overdue:
        verb = "promise" if own_overdue == 1 else "promises"
        reasons.append(Reason(f"{own_overdue} overdue {verb} to the account", points))
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
