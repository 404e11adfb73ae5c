"""Today: the rep's to-do list for the day, built from everything the playbook asks of them.

Sections, in the order the page shows them: today's visits; commitments overdue or due today
(ours first); contacts due or overdue for a check-in (``models.services.cadence``); birthdays
and personal dates in the next 14 days; thank-yous owed; follow-ups owed after a sale;
detractors nobody has followed up. Every item names what it is about (a snooze key,
``models.services.snoozes``) so it can be snoozed or dismissed, and the contact it concerns.

Counts are true counts: a section lists at most ``LIST_LIMIT`` items but counts them all.
Where the rule needs a window (or Today would list every purchase ever made) it is stated by a
constant below.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    case,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from models.entities import (
    Account,
    Appreciation,
    Commitment,
    CommitmentStatus,
    Contact,
    Direction,
    Feedback,
    Note,
    Purchase,
    ThanksReason,
    VisitStatus,
    followup_due,
    thanks_owed,
)
from models.rows import KeptRate
from models.services import cadence, snoozes
from models.services.briefing import _next_anniversary
from models.services.commitments import _select as commitment_select
from models.services.commitments import kept_rate, set_status
from models.services.reminders import BIRTHDAY_DAY
from models.services.visits import complete_visit, local_day_bounds, visits_on
from models.types import utcnow

LIST_LIMIT = 200  # items listed per section; the counts are counted, never this
DATES_AHEAD = 14  # personal dates from today to 13 days ahead
THANKS_WINDOW = 30  # days a thank-you stays owed after the purchase, referral or kept promise
FOLLOWUP_WINDOW = 30  # days a follow-up after a sale stays on Today after its day
DETRACTOR_WINDOW = 90  # days a detractor's score stays on Today without a follow-up
# Spelt as migration 0015's partial index spells it (a bound '[]' would not match it).
HAS_PERSONAL_DATES: ColumnElement[bool] = literal_column("contacts.personal_dates") != literal_column("'[]'")


class Kind(StrEnum):
    VISIT = "visit"
    COMMITMENT = "commitment"
    CHECKIN = "checkin"
    DATE = "date"
    THANKS = "thanks"
    FOLLOWUP = "followup"
    DETRACTOR = "detractor"


class Alert(StrEnum):
    NONE = ""
    AMBER = "amber"
    RED = "red"


@dataclass(frozen=True, slots=True)
class TodayItem:
    """One thing to do. ``key`` names it for a snooze; ``row_id`` is the row it acts on (the
    visit, commitment, purchase, feedback, or the contact itself)."""

    kind: Kind
    key: str
    row_id: uuid.UUID
    contact_id: uuid.UUID | None
    contact_name: str
    account_name: str
    title: str
    when: str  # the item's date or time in words ("3 d late", "turns 50 on 2026-12-09")
    alert: Alert = Alert.NONE
    reason: str = ""  # a thank-you's reason (ThanksReason), for logging it
    days: int = 0  # a check-in's ideal interval (done: hidden until it is next due)


@dataclass(frozen=True, slots=True)
class TodaySection:
    name: str
    title: str
    items: tuple[TodayItem, ...]
    count: int


@dataclass(frozen=True, slots=True)
class TodayBoard:
    today: date
    sections: tuple[TodaySection, ...]
    overdue_commitments: int = 0  # due before today (the sidebar's "Commitments (n overdue)")
    kept: KeptRate | None = None  # None until read (``today_later``)

    def section(self, name: str) -> TodaySection:
        return next(s for s in self.sections if s.name == name)

    def has(self, name: str) -> bool:
        return any(s.name == name for s in self.sections)

    def with_later(self, later: TodayLater) -> TodayBoard:
        """This board with ``later``'s sections (in place of any of the same names, after the
        rest) and kept rate."""
        names = {s.name for s in later.sections}
        first = tuple(s for s in self.sections if s.name not in names)
        return replace(self, sections=(*first, *later.sections), kept=later.kept)


# -- sections ---------------------------------------------------------------------------------

# Today is read again after every change the rep makes on it: the statements of the sections
# that are built from many parts are built once for the values they hold (the day, the instant
# a window starts, the follow-up days, the list limit) and kept, rather than rebuilt on every
# read (SQLAlchemy then also keeps their cache keys): on the bench database that building cost
# more than some of the statements took to run. Whatever depends on the time zone is among
# those values or worked out by SQLite when the statement runs.
STATEMENTS_KEPT = 4


def _visits(session: Session, today: date) -> TodaySection:
    items = []
    for v in visits_on(session, today, include_cancelled=False):
        who = ", ".join(v.contact_names)
        done = v.status == VisitStatus.DONE.value
        items.append(
            TodayItem(
                Kind.VISIT,
                f"visit:{v.id}",
                v.id,
                v.contact_ids[0] if v.contact_ids else None,
                who,
                v.account_name,
                (v.purpose or "Visit") + (" (done)" if done else ""),
                v.starts_at.astimezone().strftime("%H:%M"),
            )
        )
    return TodaySection("visits", "Today's visits", tuple(items), len(items))


def _commitments(session: Session, today: date) -> tuple[TodaySection, int]:
    """The open promises due by today, and how many of them are overdue (before today)."""
    stmt, counts = _commitments_statements(today, LIST_LIMIT)
    items = []
    for r in session.execute(stmt):
        cid, direction, what, due = r[0], r[1], r[2], r[3]
        late = (today - due).days
        items.append(
            TodayItem(
                Kind.COMMITMENT,
                f"commitment:{cid}",
                cid,
                r[6],
                r[7],
                r[9],
                ("We owe: " if direction == Direction.WE.value else "They owe: ") + what,
                f"{late} d late" if late else "due today",
                Alert.RED if late else Alert.NONE,
            )
        )
    due_n, overdue_n = session.execute(counts).one()
    return TodaySection("commitments", "Commitments due", tuple(items), int(due_n)), int(overdue_n)


@lru_cache(maxsize=STATEMENTS_KEPT)
def _commitments_statements(today: date, limit: int) -> tuple[Select[Any], Select[Any]]:
    """The first promises due (with their names) and both counts (kept: see ``STATEMENTS_KEPT``)."""
    live = (Commitment.deleted_at.is_(None), Commitment.status == CommitmentStatus.OPEN.value)
    # Each direction's first page read in order from ix_commitments_today (ours first: "we"
    # sorts after "they"; then the longest overdue), then the page's rows with their names.
    pages = [
        select(Commitment.id)
        .where(*live, Commitment.direction == d, Commitment.due_date <= today)
        .order_by(Commitment.due_date, Commitment.what)
        .limit(limit)
        .subquery()
        .select()
        for d in sorted((d.value for d in Direction), reverse=True)
    ]
    stmt = (
        commitment_select()
        .where(Commitment.id.in_(union_all(*pages).scalar_subquery()))
        .order_by(Commitment.direction.desc(), Commitment.due_date, Commitment.what)
        .limit(limit)
    )
    # Both counts from the same index, without reading the rows (the directions named, so the
    # index's second column is a lookup rather than a scan).
    overdue = func.coalesce(func.sum(case((Commitment.due_date < today, 1), else_=0)), 0)
    counts = select(func.count(), overdue).where(
        *live, Commitment.direction.in_([d.value for d in Direction]), Commitment.due_date <= today
    )
    return stmt, counts


def _checkins(session: Session, today: date) -> TodaySection:
    snoozed = snoozes.snoozed_rows("checkin:", today)
    rows, count = cadence.checkins_page(session, today, exclude=snoozed, limit=LIST_LIMIT)
    items = []
    for r in rows:
        late = r.days_late(today)
        if r.last_contact_at is None:
            when = f"never contacted; every {r.ideal} d"
        elif late > 0:
            when = f"{late} d late; every {r.ideal} d"
        else:
            when = f"due today; every {r.ideal} d"
        alert = {cadence.Standing.LOSING: Alert.RED, cadence.Standing.LATE: Alert.AMBER}.get(
            r.standing, Alert.NONE
        )
        items.append(
            TodayItem(
                Kind.CHECKIN,
                f"checkin:{r.id}",
                r.id,
                r.id,
                r.name,
                r.account_name,
                "Check in",
                when,
                alert,
                days=r.ideal,
            )
        )
    return TodaySection("checkins", "Check-ins due", tuple(items), count)


def month_days(today: date, days: int = DATES_AHEAD) -> list[str]:
    """The "MM-DD" of each day from ``today`` on; 29 February is looked for when the 28th of a
    common year is among them (its people celebrate on the 28th, as on the briefing sheet)."""
    out = []
    for i in range(days):
        day = today + timedelta(days=i)
        out.append(day.strftime("%m-%d"))
        if day.month == 2 and day.day == 28 and not calendar.isleap(day.year):
            out.append("02-29")
    return out


def _date_key(contact_id: uuid.UUID, on: date, label: str) -> str:
    which = hashlib.sha1(label.encode(), usedforsecurity=False).hexdigest()[:8]
    return f"date:{contact_id}:{on.isoformat()}:{which}"


def _dates(session: Session, today: date) -> TodaySection:
    mds = month_days(today)
    end = today + timedelta(days=DATES_AHEAD)
    pd = func.json_each(Contact.personal_dates).table_valued("value").alias("pd")
    has_date = (
        select(1)
        .select_from(pd)
        .where(func.substr(func.json_extract(pd.c.value, "$.date"), 6, 5).in_(mds))
        .exists()
    )
    # The stored text, converted here for the few listed (thousands of rows through the ORM's
    # converters and an item each cost more than the queries).
    raw = [type_coerce(c, String) for c in (Contact.id, Contact.account_id, Contact.birthday)]
    columns = select(Contact.name, *raw)
    # Two look-ups rather than one pass over every contact: birthdays by month and day
    # (migration 0014's index), personal dates among the contacts that have any (0015's).
    born = columns.add_columns(literal("[]")).where(
        Contact.deleted_at.is_(None), Contact.birthday.is_not(None), BIRTHDAY_DAY.in_(mds)
    )
    dated = columns.add_columns(type_coerce(Contact.personal_dates, String)).where(
        Contact.deleted_at.is_(None), HAS_PERSONAL_DATES, has_date
    )
    conn = session.connection()  # Core rows: the ORM's row handling cost more than the query
    rows = {r[1]: r for stmt in (born, dated) for r in conn.execute(stmt)}  # someone in both: once
    hidden = snoozes.hidden_items(session, today, prefix="date:")
    found: list[tuple[date, str, str, str | None, str, date, str]] = []
    for name, cid, account_id, born_text, dates_text in rows.values():
        entries: list[tuple[str, date, str]] = []
        if born_text is not None:
            entries.append(("Birthday", date.fromisoformat(born_text), "turns"))
        for entry in json.loads(dates_text) if dates_text != "[]" else ():
            try:
                entries.append(
                    (str(entry.get("label", "")), date.fromisoformat(str(entry.get("date"))), "years")
                )
            except (TypeError, ValueError, AttributeError):
                continue  # a hand-damaged entry: the contact page shows it as typed
        for label, original, how in entries:
            on = _next_anniversary(original, today)
            if today <= on < end and not (hidden and _date_key(uuid.UUID(cid), on, label) in hidden):
                found.append((on, name, cid, account_id, label, original, how))
    found.sort(key=lambda f: (f[0], f[1]))
    listed = found[:LIST_LIMIT]
    accounts = _account_names(session, {f[3] for f in listed if f[3] is not None})
    items = tuple(
        _date_item(today, on, name, uuid.UUID(cid), accounts.get(account_id or "", ""), label, original, how)
        for on, name, cid, account_id, label, original, how in listed
    )
    return TodaySection("dates", "Birthdays and dates", items, len(found))


def _account_names(session: Session, ids: set[str]) -> dict[str, str]:
    """The names of the live accounts among ``ids`` (stored text), by id."""
    if not ids:
        return {}
    stmt = select(type_coerce(Account.id, String), Account.name).where(
        type_coerce(Account.id, String).in_(ids), Account.deleted_at.is_(None)
    )
    return {aid: name for aid, name in session.execute(stmt)}


def _date_item(
    today: date, on: date, name: str, cid: uuid.UUID, account: str, label: str, original: date, how: str
) -> TodayItem:
    n = on.year - original.year
    # A placeholder year (0001, 1900) says nothing about the age: shown without one.
    if how == "turns" and 0 < n < 120:
        title = f"Birthday: turns {n}"
    elif how == "years" and 0 < n < 200:
        title = f"{label}: {n} year{'' if n == 1 else 's'}"
    else:
        title = label
    away = (on - today).days
    when = "today" if away == 0 else "tomorrow" if away == 1 else f"in {away} d ({on.isoformat()})"
    key = _date_key(cid, on, label)
    return TodayItem(Kind.DATE, key, cid, cid, name, account, title, when, Alert.NONE)


def _thanked(reason_id: Any) -> ColumnElement[bool]:
    return exists().where(Appreciation.reason_id == reason_id, Appreciation.deleted_at.is_(None))


def _since(days: int, today: date) -> datetime:
    return local_day_bounds(today - timedelta(days=days))[0]


def _unsnoozed(prefix: str, row_id: Any, today: date) -> ColumnElement[bool]:
    """Not snoozed past today, not dismissed: the snoozed ids of that kind are read once per
    statement (a small table SQLite looks each row up in), not a key built and looked up in
    SQL per row."""
    return type_coerce(row_id, String).not_in(snoozes.snoozed_rows(prefix, today))


def _firsts(parts: list[tuple[Select[Any], tuple[Any, ...]]], order: list[str], limit: int) -> Select[Any]:
    """The first ``limit`` rows of the union of ``parts`` in ``order``: each part's own
    first rows (in its ``order``, the same one, which an index can give: a bounded scan rather
    than a sort of every match), then those few sorted. The ``account`` column holds the
    account's id: its name is looked up for the listed rows only."""
    firsts = union_all(*(p.order_by(*o).limit(limit).subquery().select() for p, o in parts)).subquery()
    columns = [func.coalesce(Account.name, "") if c.name == "account" else c for c in firsts.c]
    return (
        select(*columns)
        .outerjoin(Account, Account.id == firsts.c.account)
        .order_by(*(firsts.c[o] for o in order))
        .limit(limit)
    )


def _count(parts: list[tuple[Select[Any], tuple[Any, ...]]]) -> Select[Any]:
    # Each part counted with no column but the count: what the indexes hold answers it,
    # without reading the rows for columns only the listed items show.
    counts = [
        p.with_only_columns(func.count(), maintain_column_froms=True).scalar_subquery() for p, _ in parts
    ]
    return select(*counts)


def _total(session: Session, counts: Select[Any]) -> int:
    return sum(int(n) for n in session.execute(counts).one())


def _counted(stmt: Any, order: list[str], limit: int) -> Select[Any]:
    """The first ``limit`` rows of ``stmt`` in ``order``, each with how many there are in
    all (last column): one pass, the count a window over every match (computed before the
    limit). ``stmt``'s ``account`` column holds the account's id: its name is looked up for the
    page's rows only."""
    sub = stmt.subquery()
    page = select(sub, func.count().over().label("total")).order_by(*(sub.c[o] for o in order)).limit(limit)
    paged = page.subquery()
    columns = [func.coalesce(Account.name, "") if c.name == "account" else c for c in paged.c]
    return (
        select(*columns)
        .outerjoin(Account, Account.id == paged.c.account)
        .order_by(*(paged.c[o] for o in order))
    )


def _thanks(session: Session, today: date) -> TodaySection:
    """After a purchase, a referral (a contact whose ``referred_by_id`` names the referrer) or a
    promise the customer kept on time, unless a thank-you names it (``Appreciation.reason_id``)."""
    counts, firsts = _thanks_statements(today, _since(THANKS_WINDOW, today), LIST_LIMIT)
    count = _total(session, counts)
    rows = list(session.execute(firsts)) if count else []
    words = {
        ThanksReason.PURCHASE.value: "for buying {}",
        ThanksReason.REFERRAL.value: "for introducing {}",
        ThanksReason.COMMITMENT.value: "for keeping their word: {}",
    }
    items = tuple(
        TodayItem(
            Kind.THANKS, f"thanks:{_uuid(rid)}", _uuid(rid), _uuid(cid), name, account,
            "Thank them " + words[reason].format(what), f"since {day}", reason=reason,
        )
        for rid, cid, name, account, what, day, reason in rows
    )  # fmt: skip
    return TodaySection("thanks", "Thank-yous owed", items, count)


@lru_cache(maxsize=STATEMENTS_KEPT)
def _thanks_statements(today: date, since: datetime, limit: int) -> tuple[Select[Any], Select[Any]]:
    """The count and the first rows of the thank-yous owed; ``since`` is where the window's
    first local day starts (UTC)."""
    since_day = today - timedelta(days=THANKS_WINDOW)
    c = aliased(Contact)

    def owed(reason: ThanksReason, source: Any, owner: Any, row_id: Any, words: Any, day: Any) -> Select[Any]:
        return (
            select(
                row_id.label("rid"),
                c.id.label("cid"),
                c.name.label("name"),
                c.account_id.label("account"),
                words.label("what"),
                day.label("day"),
                literal(reason.value).label("reason"),
            )
            .select_from(source)
            .join(c, c.id == owner)
            .where(c.deleted_at.is_(None), ~_thanked(row_id), _unsnoozed("thanks:", row_id, today))
        )

    referred = aliased(Contact)
    kept_on_time = or_(Commitment.due_date.is_(None), func.date(Commitment.done_at) <= Commitment.due_date)
    purchases = (
        owed(
            ThanksReason.PURCHASE,
            Purchase,
            Purchase.contact_id,
            Purchase.id,
            Purchase.product,
            Purchase.purchased_on,
        ).where(
            Purchase.deleted_at.is_(None), Purchase.purchased_on >= since_day, Purchase.purchased_on <= today
        ),
        (Purchase.purchased_on, c.name),
    )
    referrals = (
        owed(
            ThanksReason.REFERRAL,
            referred,
            referred.referred_by_id,
            referred.id,
            referred.name,
            func.date(referred.created_at),
        ).where(
            referred.deleted_at.is_(None),
            # A range, so ix_contacts_referred is used (IS NOT NULL scanned every contact).
            type_coerce(referred.referred_by_id, String) > "",
            referred.created_at >= since,
        ),
        (func.date(referred.created_at), c.name),
    )
    kept = (
        owed(
            ThanksReason.COMMITMENT,
            Commitment,
            Commitment.contact_id,
            Commitment.id,
            Commitment.what,
            func.date(Commitment.done_at),
        ).where(
            Commitment.deleted_at.is_(None),
            Commitment.status == CommitmentStatus.DONE.value,
            Commitment.direction == Direction.THEY.value,
            Commitment.done_at >= since,
            # The same days as a range of 0015's index on the day (a day early: that one is UTC).
            func.date(Commitment.done_at) >= (today - timedelta(days=THANKS_WINDOW + 1)).isoformat(),
            kept_on_time,
        ),
        (func.date(Commitment.done_at), c.name),
    )
    parts = [purchases, referrals, kept]
    # Counted from the rows the triggers keep (migration 0017): ranges of one index, without
    # the purchases, promises, contacts and thank-yous behind them. A referral's or promise's
    # UTC day is at most a day before the local one: a range bound that ``since`` then narrows.
    t = thanks_owed.c
    counted = [
        (
            select(t.row_id).where(t.reason == reason.value, *window, _unsnoozed("thanks:", t.row_id, today)),
            (),
        )
        for reason, window in (
            (ThanksReason.PURCHASE, (t.day >= since_day, t.day <= today)),
            (ThanksReason.REFERRAL, (t.day >= since_day - timedelta(days=1), t.at >= since)),
            (ThanksReason.COMMITMENT, (t.day >= since_day - timedelta(days=1), t.at >= since)),
        )
    ]
    return _count(counted), _firsts(parts, ["day", "name"], limit)


def _uuid(value: Any) -> uuid.UUID:
    # Rows read through a union come back as the stored text (32 hex digits).
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _day_starts_utc(day: Any, n: int) -> Any:
    """The UTC instant (SQLite's text) where the local day ``n`` days after ``day`` starts."""
    return func.datetime(func.date(day, f"+{n} days"), "utc")


def _followups(session: Session, today: date) -> TodaySection:
    """Follow-ups after a sale: on the first and second follow-up day after a purchase (7 and 30
    by default, Preferences), owed until the contact is touched on or after that day (any touch
    that counts as last contact: a note, a done visit, a thank-you, feedback), or it is snoozed
    or dismissed; listed for ``FOLLOWUP_WINDOW`` days after its day."""
    counts, firsts = _followups_statements(today, cadence.load_followup_days(session), LIST_LIMIT)
    count = _total(session, counts)
    rows = list(session.execute(firsts)) if count else []
    items = []
    for pid, cid, name, account, product, bought, which, n, due_text in rows:
        due = date.fromisoformat(due_text)
        late = f"; {(today - due).days} d late" if due < today else ""
        items.append(
            TodayItem(
                Kind.FOLLOWUP,
                f"followup{which}:{_uuid(pid)}",
                _uuid(pid),
                _uuid(cid),
                name,
                account,
                f"Follow up {n} days after: {product}",
                f"bought {bought}{late}",
                Alert.AMBER if due < today else Alert.NONE,
            )
        )
    return TodaySection("followups", "Follow-ups after a sale", tuple(items), count)


@lru_cache(maxsize=STATEMENTS_KEPT)
def _followups_statements(today: date, days: tuple[int, ...], limit: int) -> tuple[Select[Any], Select[Any]]:
    """The count and the first rows of the follow-ups owed (the day's start is SQLite's
    ``'utc'``: in the statement, not a value)."""
    c = aliased(Contact)
    parts: list[tuple[Select[Any], tuple[Any, ...]]] = []
    counted: list[tuple[Select[Any], tuple[Any, ...]]] = []
    for which, n in enumerate(days, start=1):
        # The touch must fall on or after the follow-up day, in the rep's time zone: compare the
        # UTC instant where that local day starts.
        part = (
            select(
                Purchase.id.label("pid"),
                c.id.label("cid"),
                c.name.label("name"),
                c.account_id.label("account"),
                Purchase.product.label("product"),
                Purchase.purchased_on.label("bought"),
                literal(which).label("which"),
                literal(n).label("n"),
                func.date(Purchase.purchased_on, f"+{n} days").label("due"),
            )
            .join(c, (c.id == Purchase.contact_id) & c.deleted_at.is_(None))
            .where(
                Purchase.deleted_at.is_(None),
                Purchase.purchased_on >= today - timedelta(days=n + FOLLOWUP_WINDOW),
                Purchase.purchased_on <= today - timedelta(days=n),
                _unsnoozed(f"followup{which}:", Purchase.id, today),
            )
        )
        untouched = or_(
            c.last_contact_at.is_(None),
            func.datetime(c.last_contact_at) < _day_starts_utc(Purchase.purchased_on, n),
        )
        # The due day is the day bought plus n: in the order ix_purchases_on gives.
        parts.append((part.where(untouched), (Purchase.purchased_on, c.name)))
        # Counted with the same instants, each worked out once per day of the window (a small
        # table SQLite fills first) rather than for each of its thousands of purchases: the
        # 'utc' conversion was a fifth of the count. Not for the list: read that way, its first
        # rows are no longer in the index's order (every match sorted, three times slower).
        window = [(today - timedelta(days=d)).isoformat() for d in range(n, n + FOLLOWUP_WINDOW + 1)]
        each = func.json_each(json.dumps(window)).table_valued("value").alias(f"bought{which}")
        starts = (
            select(each.c.value.label("day"), _day_starts_utc(each.c.value, n).label("start"))
            .cte(f"followup{which}_starts")
            .prefix_with("MATERIALIZED")
        )
        # Counted from the rows the triggers keep (migration 0017): per day bought, a range of
        # one index (``touched`` is '' when never contacted), without the purchases and their
        # contacts' rows.
        f = followup_due.c
        counted.append((
            select(f.purchase_id)
            .join(starts, starts.c.day == type_coerce(f.bought, String))
            .where(f.touched < starts.c.start, _unsnoozed(f"followup{which}:", f.purchase_id, today)),
            (),
        ))  # fmt: skip
    return _count(counted), _firsts(parts, ["due", "name"], limit)


def _detractors(session: Session, today: date) -> TodaySection:
    """Feedback scored 0-6 with no follow-up: no commitment made from it (``feedback_id``) and
    no note with that contact since it came."""
    page = list(session.execute(_detractors_statement(today, _since(DETRACTOR_WINDOW, today), LIST_LIMIT)))
    rows, count = [r[:-1] for r in page], (int(page[0][-1]) if page else 0)
    items = []
    for fid, cid, name, account, score, comment, received in rows:
        said = f": “{comment.strip()[:80]}”" if comment.strip() else ""
        # Read through a subquery the value is the stored text: naive UTC.
        when = received if isinstance(received, datetime) else datetime.fromisoformat(str(received))
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
        items.append(
            TodayItem(
                Kind.DETRACTOR,
                f"detractor:{_uuid(fid)}",
                _uuid(fid),
                _uuid(cid),
                name,
                account,
                f"Scored us {score}/10{said}",
                f"on {cadence.local_date(when).isoformat()}",
                Alert.RED,
            )
        )
    return TodaySection("detractors", "Detractors to follow up", tuple(items), count)


@lru_cache(maxsize=STATEMENTS_KEPT)
def _detractors_statement(today: date, since: datetime, limit: int) -> Select[Any]:
    """The first detractors, each with how many there are (``since``: where the window's first
    local day starts, UTC)."""
    c = aliased(Contact)
    answered = exists().where(Commitment.feedback_id == Feedback.id, Commitment.deleted_at.is_(None))
    noted = exists().where(
        Note.contact_id == Feedback.contact_id,
        Note.occurred_at > Feedback.received_at,
        Note.deleted_at.is_(None),
    )
    stmt = (
        select(
            Feedback.id.label("fid"),
            c.id.label("cid"),
            c.name.label("name"),
            c.account_id.label("account"),
            Feedback.score.label("score"),
            Feedback.comment.label("comment"),
            Feedback.received_at.label("received"),
        )
        .join(c, (c.id == Feedback.contact_id) & c.deleted_at.is_(None))
        .where(
            Feedback.deleted_at.is_(None),
            Feedback.score.between(0, 6),
            Feedback.received_at >= since,
            ~answered,
            ~noted,
            _unsnoozed("detractor:", Feedback.id, today),
        )
    )
    return _counted(stmt, ["score", "received"], limit)


# Today is shown in two steps (``ui/today_view.py``): what a rep acts on first, then these,
# the slower sections (each counts thousands of purchases, promises or answers).
LATER = ("thanks", "followups", "detractors")


def today_first(session: Session, today: date) -> TodayBoard:
    """Today's board without the ``LATER`` sections and the kept-on-time rate: visits,
    commitments, check-ins and dates."""
    commitments, overdue = _commitments(session, today)
    return TodayBoard(
        today=today,
        sections=(_visits(session, today), commitments, _checkins(session, today), _dates(session, today)),
        overdue_commitments=overdue,
    )


@dataclass(frozen=True, slots=True)
class TodayLater:
    """What the first step leaves out: the ``LATER`` sections, in order, and the kept rate."""

    sections: tuple[TodaySection, ...]
    kept: KeptRate


def today_later(session: Session, today: date) -> TodayLater:
    return TodayLater(
        (_thanks(session, today), _followups(session, today), _detractors(session, today)),
        kept_rate(session, today),
    )


def today_board(session: Session, today: date) -> TodayBoard:
    """Everything Today shows for the rep's local ``today``."""
    return today_first(session, today).with_later(today_later(session, today))


# -- acting on an item ------------------------------------------------------------------------


def mark_done(session: Session, item: TodayItem, today: date) -> None:
    """What "done" means for each kind: a commitment is done (kept), a visit is completed, a
    thank-you owed is logged as given, a check-in is put away until it is next due; the rest
    (a date, a follow-up, a detractor) are dismissed for good."""
    if item.kind is Kind.COMMITMENT:
        set_status(session, item.row_id, CommitmentStatus.DONE.value)
    elif item.kind is Kind.VISIT:
        complete_visit(session, item.row_id)
    elif item.kind is Kind.THANKS:
        contact = session.get(Contact, item.contact_id) if item.contact_id else None
        session.add(
            Appreciation(
                given_at=utcnow(),
                reason=item.reason or ThanksReason.OTHER.value,
                reason_id=item.row_id,
                summary=item.title,
                contact_id=item.contact_id,
                account_id=contact.account_id if contact is not None else None,
            )
        )
    elif item.kind is Kind.CHECKIN:
        snoozes.snooze(
            session,
            item.key,
            today + timedelta(days=max(item.days, 1)),
            today=today,
            contact_id=item.contact_id,
        )
    else:
        snoozes.dismiss(session, item.key, today=today, contact_id=item.contact_id)


def snooze_item(session: Session, item: TodayItem, until: date, today: date) -> None:
    """Put an item off until ``until``: a commitment's due date moves, the rest get a snooze."""
    if item.kind is Kind.COMMITMENT:
        snoozes.snooze_commitment(session, item.row_id, until, today=today)
    else:
        snoozes.snooze(session, item.key, until, today=today, contact_id=item.contact_id)


def can_snooze(item: TodayItem) -> bool:
    return item.kind is not Kind.VISIT


__all__ = [
    "LATER",
    "Kind",
    "TodayBoard",
    "TodayItem",
    "TodayLater",
    "TodaySection",
    "mark_done",
    "snooze_item",
    "today_board",
    "today_first",
    "today_later",
]
