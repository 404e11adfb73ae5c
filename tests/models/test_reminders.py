"""Reminders as a service, without Qt: what is due now, and what was already shown today."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone

from models.db import Database
from models.entities import Account, Commitment, Contact, Visit
from models.services.reminders import (
    Reminder,
    ShownToday,
    birthday_days,
    birthdays,
    coming_visits,
    due_commitments,
    due_reminders,
    summary,
)
from models.types import utcnow

TODAY = date(2026, 3, 2)
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _add(db: Database, *objs: object) -> None:
    with db.write() as s:
        s.add_all(objs)


def _person(name: str, **kw: object) -> Contact:
    return Contact(id=uuid.uuid4(), name=name, **kw)


def test_commitments_due_today_ours_first_and_nothing_else(db: Database) -> None:
    acme = Account(id=uuid.uuid4(), name="Acme")
    anna = _person("Anna", account_id=acme.id)
    _add(db, acme, anna)
    _add(
        db,
        Commitment(
            what="Send the quote", direction="we", due_date=TODAY, contact_id=anna.id, account_id=acme.id
        ),
        Commitment(what="Signed order", direction="they", due_date=TODAY, contact_id=anna.id),
        Commitment(what="Yesterday's", due_date=TODAY - timedelta(days=1), contact_id=anna.id),
        Commitment(what="Tomorrow's", due_date=TODAY + timedelta(days=1), contact_id=anna.id),
        Commitment(what="Already done", due_date=TODAY, status="done", done_at=NOW, contact_id=anna.id),
        Commitment(what="Deleted", due_date=TODAY, contact_id=anna.id, deleted_at=utcnow()),
        Commitment(what="Undated", contact_id=anna.id),
    )
    with db.read() as s:
        found = due_commitments(s, TODAY)
    assert [r.text for r in found] == [
        "Due today: Send the quote (for Anna at Acme)",
        "Anna promised it for today: Signed order",
    ]
    assert {r.contact_id for r in found} == {anna.id}
    assert len({r.key for r in found}) == 2


def test_visits_within_the_hour_in_the_reps_time_zone(db: Database) -> None:
    anna, ben = _person("Anna"), _person("Ben")
    _add(db, anna, ben)
    soon = Visit(
        starts_at=NOW + timedelta(minutes=40),
        contact_ids=[str(anna.id), str(ben.id)],
        purpose="Renewal",
        location="Berlin",
    )
    _add(
        db,
        soon,
        Visit(starts_at=NOW + timedelta(minutes=61), contact_ids=[str(anna.id)]),  # too far ahead
        Visit(starts_at=NOW - timedelta(minutes=1), contact_ids=[str(anna.id)]),  # already started
        Visit(starts_at=NOW + timedelta(minutes=10), contact_ids=[str(anna.id)], status="cancelled"),
    )
    berlin = timezone(timedelta(hours=1))
    with db.read() as s:
        found = coming_visits(s, NOW, berlin)
    assert [r.text for r in found] == ["Visit at 10:40 (in 40 min): Anna, Ben — Renewal, Berlin"]
    assert found[0].contact_id == anna.id
    # Moved to another time, the same visit is a new reminder (the rep must hear the new time).
    moved = found[0].key
    with db.write() as s:
        row = s.get(Visit, soon.id)
        assert row is not None
        row.starts_at = NOW + timedelta(minutes=50)
    with db.read() as s:
        assert coming_visits(s, NOW)[0].key != moved


def test_birthdays_today_with_the_29th_of_february_on_the_28th_in_a_common_year(db: Database) -> None:
    _add(
        db,
        _person("Leap", birthday=date(1980, 2, 29)),
        _person("Feb28", birthday=date(1990, 2, 28)),
        _person("Placeholder", birthday=date(1900, 3, 1)),
        _person("Other", birthday=date(1990, 3, 2)),
        _person("Gone", birthday=date(1990, 2, 28), deleted_at=utcnow()),
    )
    with db.read() as s:
        common = [r.text for r in birthdays(s, date(2027, 2, 28))]
        leap_28 = [r.text for r in birthdays(s, date(2028, 2, 28))]
        leap_29 = [r.text for r in birthdays(s, date(2028, 2, 29))]
        march = [r.text for r in birthdays(s, date(2027, 3, 1))]
    assert common == ["Birthday today: Feb28 (turns 37)", "Birthday today: Leap (turns 47)"]
    assert leap_28 == ["Birthday today: Feb28 (turns 38)"]
    assert leap_29 == ["Birthday today: Leap (turns 48)"]
    assert march == ["Birthday today: Placeholder"]  # no age from a placeholder year
    assert birthday_days(date(2100, 2, 28)) == ["02-28", "02-29"]  # 2100 is not a leap year
    assert birthday_days(date(2000, 2, 28)) == ["02-28"]


def test_due_reminders_puts_the_visit_first(db: Database) -> None:
    anna = _person("Anna", birthday=date(1985, 3, 2))
    _add(db, anna)
    _add(
        db,
        Commitment(what="Call back", due_date=TODAY, contact_id=anna.id),
        Visit(starts_at=NOW + timedelta(minutes=5), contact_ids=[str(anna.id)]),
    )
    with db.read() as s:
        kinds = [r.kind for r in due_reminders(s, today=TODAY, now=NOW)]
    assert kinds == ["visit", "commitment", "birthday"]


def _r(key: str) -> Reminder:
    return Reminder(key, "commitment", f"text {key}")


def test_each_item_once_a_day_and_again_the_next_day() -> None:
    shown = ShownToday()
    assert shown.take_new([_r("a"), _r("b")], TODAY) == [_r("a"), _r("b")]
    assert shown.take_new([_r("a"), _r("b")], TODAY) == []  # the next minute's check
    assert shown.take_new([_r("a"), _r("c")], TODAY) == [_r("c")]
    # Kept across a restart the same day.
    again = ShownToday.load(shown.dump())
    assert again.take_new([_r("a"), _r("b"), _r("c")], TODAY) == []
    # A new day: shown again.
    assert again.take_new([_r("a")], TODAY + timedelta(days=1)) == [_r("a")]
    assert ShownToday.load("not a date\nx").take_new([_r("x")], TODAY) == [_r("x")]
    assert ShownToday.load("").take_new([_r("x")], TODAY) == [_r("x")]


def test_summary_one_or_many() -> None:
    assert summary([_r("a")]) == ("Commitment due today", "text a")
    title, body = summary([_r(str(i)) for i in range(8)])
    assert title == "8 reminders"
    assert body.splitlines()[-1] == "and 2 more on the Today page"
    assert len(body.splitlines()) == 7


def test_birthdays_today_is_a_lookup_in_migration_0014s_index(db: Database) -> None:
    """Spelt differently (a bound parameter, strftime), the query reads every contact."""
    from sqlalchemy import select, text

    from models.services.reminders import BIRTHDAY_DAY

    stmt = select(Contact.id).where(
        Contact.deleted_at.is_(None), Contact.birthday.is_not(None), BIRTHDAY_DAY.in_(birthday_days(TODAY))
    )
    with db.read() as s:
        sql = str(stmt.compile(s.get_bind(), compile_kwargs={"literal_binds": True}))
        plan = " ".join(str(r[-1]) for r in s.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
    assert "USING INDEX ix_contacts_birthday_byday" in plan, plan
