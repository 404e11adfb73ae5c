"""Cadence: how often a rep means to be in touch with each contact, and who is slipping.

A contact's cadence has two numbers of days: the ideal interval (``cadence_days``: a check-in
is due that many days after the last touch) and the maximum (``cadence_max_days``: past it the
relationship is at risk). Each comes from the contact's own value, else the default for its
account's tier, else the default for its kind (customer, partner...). The defaults are set once
in Preferences and kept in this database's ``meta`` table. Lists over every contact read each
one's effective cadence and due day from ``checkin_due``, which triggers keep current
(migration 0015): a contact without its own value follows a changed default in the transaction
that saves it.

"Last contact" (``contacts.last_contact_at``) is kept by SQLite triggers from every logged touch
(migration 0007). Dates are the rep's: a touch at 23:30 local time on the 31st counts for the
31st, so due dates are computed from the local calendar date of the (UTC) touch (in SQL with
today's UTC offset: see ``_due_day``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, case, cast, func, literal, select, union_all
from sqlalchemy.orm import Session

from models.entities import Account, Contact, ContactKind, Meta, checkin_due

DEFAULTS_KEY = "cadence.defaults"
FOLLOWUP_KEY = "today.followup_days"
FOLLOWUP_DAYS = (7, 30)  # after a purchase: a first follow-up, then a second (Preferences)
DAYS = (1, 3650)  # the bounds the contact form holds a cadence to


@dataclass(frozen=True, slots=True)
class Cadence:
    """Days: the ideal interval and the maximum gap (either may be None: not set)."""

    ideal: int | None = None
    maximum: int | None = None


@dataclass(frozen=True)
class CadenceDefaults:
    """The rep's defaults by contact kind and by account tier (tier text as typed, e.g. "A")."""

    kinds: Mapping[str, Cadence] = field(default_factory=dict)
    tiers: Mapping[str, Cadence] = field(default_factory=dict)


class Standing(StrEnum):
    """Where a contact stands against its cadence on a given day."""

    DUE = "due"  # due today (or never contacted yet)
    LATE = "late"  # past the ideal interval: amber
    LOSING = "losing"  # past the maximum: red


def _cadence(raw: Any) -> Cadence:
    def days(value: Any) -> int | None:
        return value if isinstance(value, int) and DAYS[0] <= value <= DAYS[1] else None

    if not isinstance(raw, dict):
        return Cadence()
    return Cadence(days(raw.get("ideal")), days(raw.get("max")))


def load_defaults(session: Session) -> CadenceDefaults:
    """The defaults saved in this database; a missing or hand-damaged entry counts as none."""
    row = session.get(Meta, DEFAULTS_KEY)
    value = row.value if row is not None and isinstance(row.value, dict) else {}
    kinds = value.get("kinds")
    tiers = value.get("tiers")
    kinds = kinds if isinstance(kinds, dict) else {}
    tiers = tiers if isinstance(tiers, dict) else {}
    return CadenceDefaults(
        kinds={k: _cadence(v) for k, v in kinds.items() if k in set(ContactKind)},
        tiers={str(k): _cadence(v) for k, v in tiers.items() if str(k).strip()},
    )


def save_defaults(session: Session, defaults: CadenceDefaults) -> None:
    def out(cad: Mapping[str, Cadence]) -> dict[str, dict[str, int | None]]:
        return {
            k: {"ideal": c.ideal, "max": c.maximum}
            for k, c in cad.items()
            if c.ideal is not None or c.maximum is not None
        }

    _put(session, DEFAULTS_KEY, {"kinds": out(defaults.kinds), "tiers": out(defaults.tiers)})


def _put(session: Session, key: str, value: Any) -> None:
    row = session.get(Meta, key)
    if row is None:
        session.add(Meta(key=key, value=value))
    else:
        row.value = value


def load_followup_days(session: Session) -> tuple[int, int]:
    row = session.get(Meta, FOLLOWUP_KEY)
    value = row.value if row is not None else None
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int) and DAYS[0] <= v <= DAYS[1] for v in value)
    ):
        return (value[0], value[1])
    return FOLLOWUP_DAYS


def save_followup_days(session: Session, days: tuple[int, int]) -> None:
    _put(session, FOLLOWUP_KEY, list(days))


def account_tiers(session: Session) -> list[str]:
    """The tiers the rep's accounts use (for Preferences: a default per tier)."""
    stmt = (
        select(Account.tier)
        .where(Account.deleted_at.is_(None), Account.tier != "")
        .distinct()
        .order_by(Account.tier)
    )
    return [t for t in session.scalars(stmt) if t.strip()]


def effective_cadence(own: Cadence, kind: str, tier: str | None, defaults: CadenceDefaults) -> Cadence:
    """Each number from the contact's own value, else its account tier's default, else its kind's."""
    by_tier = defaults.tiers.get(tier or "", Cadence())
    by_kind = defaults.kinds.get(kind, Cadence())
    ideal = next((d for d in (own.ideal, by_tier.ideal, by_kind.ideal) if d is not None), None)
    maximum = next((d for d in (own.maximum, by_tier.maximum, by_kind.maximum) if d is not None), None)
    return Cadence(ideal, maximum)


def local_date(when: datetime) -> date:
    """The rep's calendar day of a stored (UTC) instant."""
    return when.astimezone().date()


def due_date(last_contact_at: datetime | None, days: int | None, today: date) -> date | None:
    """The day a check-in falls due: ``days`` after the local day of the last touch; today when
    there was none; None without a cadence. Calendar arithmetic, so month ends and Feb 29 need no
    special case (Jan 31 + 30 days is Mar 1 or Mar 2)."""
    if days is None:
        return None
    if last_contact_at is None:
        return today
    return local_date(last_contact_at) + timedelta(days=days)


def standing(last_contact_at: datetime | None, cad: Cadence, today: date) -> Standing | None:
    """Due today, late (amber), losing touch (red), or None (not due yet, or no cadence)."""
    due = due_date(last_contact_at, cad.ideal, today)
    if due is None or due > today:
        return None
    losing = last_contact_at is not None and cad.maximum is not None
    if losing and local_date(last_contact_at) + timedelta(days=cad.maximum) < today:  # type: ignore[arg-type, operator]
        return Standing.LOSING
    return Standing.LATE if due < today else Standing.DUE


# -- the same in SQL, for lists over 100,000 contacts ---------------------------------------------
#
# Each live contact with a cadence has a row in ``checkin_due`` (migration 0015), kept by
# triggers: its effective ideal and maximum and ``due_at``, the Julian day of the last touch (UTC)
# plus the ideal. The rep's time zone is applied here, when reading: a list is a range of the
# index on ``due_at`` and its count an index count, whatever the number of contacts.


def _by(column: Any, values: Mapping[str, int | None]) -> ColumnElement[Any] | None:
    whens = [(column == key, literal(days)) for key, days in values.items() if days is not None]
    return case(*whens, else_=None) if whens else None


def effective_columns(defaults: CadenceDefaults) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """The effective ideal and maximum as SQL expressions over ``Contact`` joined to ``Account``
    (outer join: a contact without an account takes its kind's default), from ``defaults``;
    health reads them for every contact (Today reads the same from ``checkin_due``)."""
    out: list[ColumnElement[Any]] = []
    for own, pick in ((Contact.cadence_days, "ideal"), (Contact.cadence_max_days, "maximum")):
        parts: list[Any] = [own]
        for column, values in ((Account.tier, defaults.tiers), (Contact.kind, defaults.kinds)):
            expr = _by(column, {k: getattr(c, pick) for k, c in values.items()})
            if expr is not None:
                parts.append(expr)
        out.append(func.coalesce(*parts) if len(parts) > 1 else own.expression)
    return out[0], out[1]


def utc_offset_days(today: date) -> float:
    """The rep's offset from UTC at the start of ``today``, in days."""
    start = datetime.combine(today, datetime.min.time()).astimezone()
    offset = start.utcoffset()
    return offset.total_seconds() / 86400 if offset is not None else 0.0


JULIAN_EPOCH = 1721424.5  # julianday('0001-01-01') - 1: a date's ordinal to its Julian midnight
# Contacts left out of a list: their ids, or a statement giving their stored ids (Today's
# snoozed check-ins, read in SQL rather than passed as thousands of parameters).
Excluded = set[uuid.UUID] | Select[Any] | None


def julian(day: date) -> float:
    # julianday('YYYY-MM-DD') is the day's midnight: n + 0.5 for proleptic Gregorian day n.
    return day.toordinal() + JULIAN_EPOCH


def _due_by(day: date, offset: float) -> ColumnElement[bool]:
    """Rows due on or before ``day``, as a range of the index.

    The due day is the local calendar day of the last touch plus the ideal; the local day is
    taken with today's UTC offset rather than SQLite's ``localtime`` per row (that called the C
    library's time-zone conversion 100,000 times). The cost: a touch made within an hour of
    midnight in the other half of the daylight-saving year counts for the neighbouring day
    (Python's ``due_date`` stays exact). With days numbered as ``julian`` does (midnight, n + 0.5),
    a touch at t falls on local day floor(t + offset - 0.5) + 0.5, so its check-in is due by
    day J when floor(t + offset - 0.5) + ideal <= J - 0.5, that is when due_at < J + 1 - offset."""
    return checkin_due.c.due_at < julian(day) + 1 - offset


def _due_day(offset: float) -> ColumnElement[Any]:
    # The inverse of _due_by: the first day (a date's ordinal) whose range holds the row.
    return cast(checkin_due.c.due_at + (offset - 1 - JULIAN_EPOCH), Integer) + 1


def _counted(where: ColumnElement[bool], exclude: Excluded) -> ColumnElement[Any]:
    """How many rows match, less the excluded ones: an index count, then a look-up per
    excluded id (a NOT IN over every row cost five times the count)."""
    n = select(func.count()).select_from(checkin_due).where(where).scalar_subquery()
    if exclude is None or (isinstance(exclude, set) and not exclude):
        return n
    out = select(func.count()).select_from(checkin_due).where(where, checkin_due.c.contact_id.in_(exclude))
    return n - out.scalar_subquery()


def _not_in(exclude: Excluded) -> tuple[ColumnElement[bool], ...]:
    if exclude is None or (isinstance(exclude, set) and not exclude):
        return ()
    return (checkin_due.c.contact_id.not_in(exclude),)


@dataclass(frozen=True, slots=True)
class CheckinRow:
    """A contact due or overdue for a check-in, with how late and how bad."""

    id: uuid.UUID
    name: str
    kind: str
    account_name: str
    last_contact_at: datetime | None
    ideal: int
    maximum: int | None
    due: date
    standing: Standing

    def days_late(self, today: date) -> int:
        return (today - self.due).days


def _page(
    session: Session,
    today: date,
    *,
    overdue_only: bool,
    exclude: Excluded,
    limit: int,
) -> tuple[list[CheckinRow], int]:
    """The first ``limit`` by due day (the most overdue first, ties by id, never contacted
    last), listed by due day and name; and how many there are in all."""
    offset = utc_offset_days(today)
    dated = _due_by(today - timedelta(days=1) if overdue_only else today, offset)
    never = checkin_due.c.due_at.is_(None)
    counts = [_counted(dated, exclude)]
    if not overdue_only:  # never contacted: due from the start, so due (not late) today
        counts.append(_counted(never, exclude))
    total = sum(int(n) for n in session.execute(select(*counts)).one())
    # The due day of the last row the page can hold, read in index order: every row due before
    # it is on the page, and ties on that day are taken by id.
    day = _due_day(offset)
    boundary = session.execute(
        select(day).where(dated, *_not_in(exclude)).order_by(checkin_due.c.due_at).offset(limit - 1).limit(1)
    ).scalar()
    upto = _due_by(date.fromordinal(boundary), offset) if boundary is not None else dated
    parts = [
        select(checkin_due, day.label("due"))
        .where(upto, *_not_in(exclude))
        .order_by(day, checkin_due.c.contact_id)
        .limit(limit)
    ]
    if boundary is None and not overdue_only:
        parts.append(
            select(checkin_due, literal(None).label("due"))
            .where(never, *_not_in(exclude))
            .order_by(checkin_due.c.contact_id)
            .limit(limit)
        )
    page = union_all(*(p.subquery().select() for p in parts)).subquery()
    rows = session.execute(
        select(
            Contact.id,
            Contact.name,
            Contact.kind,
            func.coalesce(Account.name, ""),
            Contact.last_contact_at,
            page.c.ideal,
            page.c.maximum,
            page.c.due,
        )
        .join(page, page.c.contact_id == Contact.id)
        .outerjoin(Account, (Account.id == Contact.account_id) & Account.deleted_at.is_(None))
        .order_by(page.c.due.is_(None), page.c.due, Contact.name)
        .limit(limit)
    ).all()
    return [_to_checkin(r, today) for r in rows], total


def _to_checkin(r: Any, today: date) -> CheckinRow:
    cad = Cadence(r[5], r[6])
    return CheckinRow(
        id=r[0],
        name=r[1],
        kind=r[2],
        account_name=r[3],
        last_contact_at=r[4],
        ideal=r[5],
        maximum=r[6],
        due=due_date(r[4], r[5], today) or today,
        standing=standing(r[4], cad, today) or Standing.DUE,
    )


def checkins_due(
    session: Session,
    today: date,
    *,
    overdue_only: bool = False,
    exclude: Excluded = None,
    limit: int = 200,
) -> list[CheckinRow]:
    """Contacts due today or overdue for a check-in (``overdue_only``: past the ideal interval,
    the "losing touch" list), the most overdue first, never-contacted ones last."""
    return _page(session, today, overdue_only=overdue_only, exclude=exclude, limit=limit)[0]


def checkins_page(
    session: Session,
    today: date,
    *,
    exclude: Excluded = None,
    limit: int = 200,
) -> tuple[list[CheckinRow], int]:
    """``checkins_due`` and how many there are in all."""
    return _page(session, today, overdue_only=False, exclude=exclude, limit=limit)


def count_checkins_due(
    session: Session,
    today: date,
    *,
    overdue_only: bool = False,
    exclude: Excluded = None,
) -> int:
    offset = utc_offset_days(today)
    counts = [_counted(_due_by(today - timedelta(days=1) if overdue_only else today, offset), exclude)]
    if not overdue_only:
        counts.append(_counted(checkin_due.c.due_at.is_(None), exclude))
    return sum(int(n) for n in session.execute(select(*counts)).one())


def losing_touch(session: Session, today: date, limit: int = 200) -> list[CheckinRow]:
    """Contacts past their ideal interval, most overdue first: amber past the ideal, red past
    the maximum (``CheckinRow.standing``)."""
    return checkins_due(session, today, overdue_only=True, limit=limit)


def contact_cadence(session: Session, contact_id: uuid.UUID) -> Cadence:
    """One contact's effective cadence (for its page's cadence line)."""
    row = session.execute(
        select(Contact.cadence_days, Contact.cadence_max_days, Contact.kind, Account.tier)
        .outerjoin(Account, (Account.id == Contact.account_id) & Account.deleted_at.is_(None))
        .where(Contact.id == contact_id)
    ).one_or_none()
    if row is None:
        return Cadence()
    return effective_cadence(Cadence(row[0], row[1]), row[2], row[3], load_defaults(session))


def _days_text(text: str, field: str, errs: dict[str, str]) -> int | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not DAYS[0] <= value <= DAYS[1]:
        errs[field] = f"A number of days between {DAYS[0]} and {DAYS[1]:,}, or empty"
        return None
    return value


def check_defaults(
    kinds: Mapping[str, tuple[str, str]],
    tiers: Mapping[str, tuple[str, str]],
    followups: tuple[str, str],
) -> tuple[CadenceDefaults, tuple[int, int]] | dict[str, str]:
    """The defaults the Preferences form's text describes (ideal and maximum per kind and per
    tier; the two follow-up days), or a message per field that is wrong (keyed
    ``cadence_<kind>``, ``tier_<tier>``, ``followups``)."""
    errs: dict[str, str] = {}
    parsed: dict[str, dict[str, Cadence]] = {"cadence": {}, "tier": {}}
    for prefix, given in (("cadence", kinds), ("tier", tiers)):
        for key, (ideal_text, max_text) in given.items():
            field = f"{prefix}_{key}"
            ideal = _days_text(ideal_text, field, errs)
            maximum = _days_text(max_text, field, errs)
            if ideal is not None and maximum is not None and maximum < ideal:
                errs[field] = "Losing touch comes after the ideal interval: give a larger number"
            parsed[prefix][key] = Cadence(ideal, maximum)
    first = _days_text(followups[0], "followups", errs)
    second = _days_text(followups[1], "followups", errs)
    if "followups" not in errs and (first is None or second is None or first >= second):
        errs["followups"] = "Two numbers of days, the first smaller (e.g. 7 and 30)"
    if errs:
        return errs
    assert first is not None and second is not None
    return CadenceDefaults(kinds=parsed["cadence"], tiers=parsed["tier"]), (first, second)


def seed_kind_defaults(session: Session, ideal_by_kind: Mapping[str, int | None]) -> bool:
    """Carry the per-kind "new contact" cadences of earlier versions (kept in settings.ini) into
    the database's defaults, once: only when no defaults were ever saved here."""
    if session.get(Meta, DEFAULTS_KEY) is not None or not any(ideal_by_kind.values()):
        return False
    kinds = {k: Cadence(v, None) for k, v in ideal_by_kind.items() if v is not None and k in set(ContactKind)}
    save_defaults(session, CadenceDefaults(kinds=kinds))
    return True


@dataclass(frozen=True)
class PlaybookSettings:
    """What Preferences shows of the cadence defaults: the saved ones, the tiers in use."""

    defaults: CadenceDefaults
    tiers: tuple[str, ...]
    followup_days: tuple[int, int]


def playbook_settings(session: Session) -> PlaybookSettings:
    defaults = load_defaults(session)
    tiers = sorted({*account_tiers(session), *defaults.tiers})
    return PlaybookSettings(defaults, tuple(tiers), load_followup_days(session))


def save_playbook(session: Session, defaults: CadenceDefaults, followup_days: tuple[int, int]) -> None:
    save_defaults(session, defaults)
    save_followup_days(session, followup_days)
