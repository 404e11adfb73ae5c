"""Reminders: what deserves a desktop notification now, and what was already shown today.

Three kinds (issue 12): open commitments due today (ours and theirs), planned visits starting
within the next hour, and birthdays today. The notification itself is Qt's (``ui/reminders.py``);
what is due and what is new is decided here, without Qt, so it is tested with plain dates.

Dates: ``today`` is the rep's local date (a due date and a birthday are calendar days as the rep
typed them); ``now`` is an aware datetime, compared with the visits' stored UTC start times, and
``tz`` is the zone the rep reads the visit's time in (the system's when None).
"""

from __future__ import annotations

import calendar
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo

from sqlalchemy import ColumnClause, literal_column, select
from sqlalchemy.orm import Session

from models.entities import Account, Commitment, CommitmentStatus, Contact, Direction, Visit, VisitStatus

VISIT_AHEAD = timedelta(hours=1)
# Spelt as migration 0014's index spells it, numbers and all (bound parameters would not match
# it): a lookup, where strftime() read every contact (210 ms on 100,000).
BIRTHDAY_DAY: ColumnClause[str] = literal_column("substr(contacts.birthday, 6, 5)")
# A day with hundreds of due promises (a bulk import) shows a count, not hundreds of lines.
LIMIT = 50


@dataclass(frozen=True, slots=True)
class Reminder:
    key: str  # the same item gives the same key all day; a visit moved to another time a new one
    kind: str  # "commitment", "visit" or "birthday"
    text: str  # one line for the rep
    contact_id: uuid.UUID | None = None


def _who(contact: str, account: str) -> str:
    return " at ".join(p for p in (contact, account) if p) or "no one named"


def due_commitments(session: Session, today: date) -> list[Reminder]:
    c, a = Contact, Account
    rows = session.execute(
        select(Commitment.id, Commitment.direction, Commitment.what, Commitment.contact_id, c.name, a.name)
        .outerjoin(c, c.id == Commitment.contact_id)
        .outerjoin(a, a.id == Commitment.account_id)
        .where(
            Commitment.deleted_at.is_(None),
            Commitment.status == CommitmentStatus.OPEN.value,
            Commitment.due_date == today,
        )
        .order_by(Commitment.direction.desc(), Commitment.what)  # ours ("we") first
        .limit(LIMIT)
    )
    out = []
    for rid, direction, what, cid, cname, aname in rows:
        who = _who(cname or "", aname or "")
        if direction == Direction.WE.value:
            text = f"Due today: {what} (for {who})"
        else:
            text = f"{who} promised it for today: {what}"
        out.append(Reminder(f"commitment:{rid}", "commitment", text, cid))
    return out


def coming_visits(session: Session, now: datetime, tz: tzinfo | None = None) -> list[Reminder]:
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    rows = session.execute(
        select(Visit.id, Visit.starts_at, Visit.purpose, Visit.location, Visit.contact_ids, Account.name)
        .outerjoin(Account, Account.id == Visit.account_id)
        .where(
            Visit.deleted_at.is_(None),
            Visit.status == VisitStatus.PLANNED.value,
            Visit.starts_at >= now,
            Visit.starts_at <= now + VISIT_AHEAD,
        )
        .order_by(Visit.starts_at)
        .limit(LIMIT)
    ).all()
    wanted = {uuid.UUID(c) for r in rows for c in r.contact_ids}
    names: dict[uuid.UUID, str] = {}
    if wanted:
        names = {
            cid: name
            for cid, name in session.execute(
                select(Contact.id, Contact.name).where(Contact.id.in_(wanted), Contact.deleted_at.is_(None))
            )
        }
    out = []
    for rid, starts, purpose, location, contact_ids, aname in rows:
        people = [names[uuid.UUID(c)] for c in contact_ids if uuid.UUID(c) in names]
        who = ", ".join(people) or aname or "a visit"
        at = starts.astimezone(tz).strftime("%H:%M")
        minutes = max(0, round((starts - now).total_seconds() / 60))
        text = f"Visit at {at} (in {minutes} min): {who}"
        if purpose:
            text += f" — {purpose}"
        if location:
            text += f", {location}"
        first = uuid.UUID(contact_ids[0]) if contact_ids else None
        out.append(Reminder(f"visit:{rid}:{starts.isoformat()}", "visit", text, first))
    return out


def birthday_days(today: date) -> list[str]:
    """The "MM-DD" a birthday today is stored under: 29 February's are kept on the 28th in a
    common year (as on the briefing sheet), so nobody's birthday goes without a reminder."""
    days = [today.strftime("%m-%d")]
    if today.month == 2 and today.day == 28 and not calendar.isleap(today.year):
        days.append("02-29")
    return days


def birthdays(session: Session, today: date) -> list[Reminder]:
    rows = session.execute(
        select(Contact.id, Contact.name, Contact.birthday)
        .where(
            Contact.deleted_at.is_(None),
            Contact.birthday.is_not(None),
            BIRTHDAY_DAY.in_(birthday_days(today)),
        )
        .order_by(Contact.name)
        .limit(LIMIT)
    )
    out = []
    for cid, name, born in rows:
        age = today.year - born.year if born is not None else 0
        # A placeholder year (0001, 1900) says nothing about the age, as on the sheet.
        turns = f" (turns {age})" if 0 < age < 120 else ""
        out.append(Reminder(f"birthday:{cid}", "birthday", f"Birthday today: {name}{turns}", cid))
    return out


def due_reminders(
    session: Session, *, today: date, now: datetime, tz: tzinfo | None = None
) -> list[Reminder]:
    """Everything worth a notification at ``now``: visits first (the most urgent), then
    promises due today, then birthdays."""
    return [*coming_visits(session, now, tz), *due_commitments(session, today), *birthdays(session, today)]


@dataclass
class ShownToday:
    """What was already shown on ``day``: each item once a day, not at every check.

    Kept as text in the settings (``dump``/``load``), so a restart the same day does not repeat
    the morning's reminders; a new day starts empty.
    """

    day: date | None = None
    keys: set[str] = field(default_factory=set)

    def take_new(self, reminders: list[Reminder], today: date) -> list[Reminder]:
        """The reminders not shown yet today, now counted as shown."""
        if self.day != today:
            self.day, self.keys = today, set()
        new = [r for r in reminders if r.key not in self.keys]
        self.keys.update(r.key for r in new)
        return new

    def dump(self) -> str:
        return "" if self.day is None else "\n".join([self.day.isoformat(), *sorted(self.keys)])

    @classmethod
    def load(cls, text: str) -> ShownToday:
        lines = [line for line in text.splitlines() if line.strip()]
        try:
            day = date.fromisoformat(lines[0]) if lines else None
        except ValueError:  # a hand-edited or damaged setting: start afresh, at worst repeat once
            return cls()
        return cls(day, set(lines[1:]))


def summary(reminders: list[Reminder]) -> tuple[str, str]:
    """A notification's title and body for several reminders at once (one bubble, not a stack)."""
    if len(reminders) == 1:
        titles = {"commitment": "Commitment due today", "visit": "Visit soon", "birthday": "Birthday"}
        return titles[reminders[0].kind], reminders[0].text
    shown = [r.text for r in reminders[:6]]
    if len(reminders) > 6:
        shown.append(f"and {len(reminders) - 6} more on the Today page")
    return f"{len(reminders)} reminders", "\n".join(shown)
