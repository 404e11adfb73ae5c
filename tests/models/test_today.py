"""Today and cadence on a real SQLite file: due dates across month ends, leap years and time
zones; snoozes; personal dates; every Today section with true counts; last contact from every
touch (migration 0007's triggers), also for rows pulled by sync."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from models.db import Database
from models.entities import (
    Account,
    Appreciation,
    Commitment,
    Contact,
    Feedback,
    Note,
    OutboxEntry,
    Purchase,
    Snooze,
    Visit,
)
from models.services import cadence, snoozes
from models.services import today as board
from models.services.cadence import Cadence, CadenceDefaults, Standing
from models.types import to_wire
from sync.apply import PageCounts, apply_rows
from sync.protocol import RowChange

TODAY = date(2026, 12, 3)


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def add(db: Database, *rows: Any) -> list[uuid.UUID]:
    with db.write() as s:
        s.add_all(rows)
        s.flush()
        return [r.id for r in rows]


def last_contact(db: Database, cid: uuid.UUID) -> datetime | None:
    with db.read() as s:
        contact = s.get(Contact, cid)
        assert contact is not None
        return contact.last_contact_at


def section(db: Database, name: str, day: date = TODAY) -> board.TodaySection:
    with db.read() as s:
        return board.today_board(s, day).section(name)


@pytest.fixture
def zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Switch the process's local time zone (Python's and SQLite's ``localtime`` alike)."""

    def use(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()

    yield use
    monkeypatch.undo()
    time.tzset()


# -- cadence: due dates ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("last", "days", "due"),
    [
        (date(2026, 1, 31), 30, date(2026, 3, 2)),  # past a short February
        (date(2028, 1, 31), 30, date(2028, 3, 1)),  # a leap year's February has 29 days
        (date(2028, 2, 29), 365, date(2029, 2, 28)),  # from a leap day, a year on
        (date(2026, 12, 31), 1, date(2027, 1, 1)),  # over the year end
        (date(2026, 4, 30), 31, date(2026, 5, 31)),
    ],
)
def test_due_dates_are_calendar_days_after_the_last_touch(
    zone: Any, db: Database, last: date, days: int, due: date
) -> None:
    zone("UTC")
    assert cadence.due_date(at(last), days, TODAY) == due
    # The SQL list agrees with the Python rule, on the day it falls due and not the day before.
    (cid,) = add(db, Contact(name="Anna", cadence_days=days))
    add(db, Note(summary="met", occurred_at=at(last), contact_id=cid))
    with db.read() as s:
        assert [r.due for r in cadence.checkins_due(s, due)] == [due]
        assert cadence.checkins_due(s, due - timedelta(days=1)) == []


def test_due_dates_follow_the_reps_time_zone(zone: Any, db: Database) -> None:
    # 22:30 UTC on 31 January is 23:30 in Berlin (still the 31st) and 11:30 on 1 February in
    # Auckland: a 30-day cadence is due on 2 March in Berlin, 3 March in Auckland.
    touch = datetime(2026, 1, 31, 22, 30, tzinfo=UTC)
    (cid,) = add(db, Contact(name="Anna", cadence_days=30))
    add(db, Note(summary="call", occurred_at=touch, contact_id=cid))
    for name, due in (("Europe/Berlin", date(2026, 3, 2)), ("Pacific/Auckland", date(2026, 3, 3))):
        zone(name)
        assert cadence.due_date(touch, 30, TODAY) == due
        with db.read() as s:
            assert [r.due for r in cadence.checkins_due(s, due)] == [due], name
            assert cadence.count_checkins_due(s, due - timedelta(days=1)) == 0, name


def test_cadence_comes_from_the_contact_then_the_tier_then_the_kind(db: Database) -> None:
    defaults = CadenceDefaults(
        kinds={"customer": Cadence(30, 90), "partner": Cadence(60, None)},
        tiers={"A": Cadence(14, None)},
    )
    assert cadence.effective_cadence(Cadence(7, None), "customer", "A", defaults) == Cadence(7, 90)
    assert cadence.effective_cadence(Cadence(), "customer", "A", defaults) == Cadence(14, 90)
    assert cadence.effective_cadence(Cadence(), "customer", "B", defaults) == Cadence(30, 90)
    assert cadence.effective_cadence(Cadence(), "other", None, defaults) == Cadence()
    # The same rule in SQL, applied when read: a contact without its own value follows a default
    # saved after it was created.
    acme, beta = add(db, Account(name="Acme", tier="A"), Account(name="Beta", tier="B"))
    a, b, c, d = add(
        db,
        Contact(name="A tier A", account_id=acme),
        Contact(name="B tier B", account_id=beta),
        Contact(name="C own", account_id=acme, cadence_days=3),
        Contact(name="D other", kind="other"),
    )
    for cid, days_ago in ((a, 20), (b, 20), (c, 5), (d, 400)):
        add(db, Note(summary="x", occurred_at=at(TODAY - timedelta(days=days_ago)), contact_id=cid))
    with db.read() as s:
        # No defaults yet: only C, whose own 3 days have passed.
        assert [r.name for r in cadence.checkins_due(s, TODAY)] == ["C own"]
    with db.write() as s:
        cadence.save_defaults(s, defaults)
    with db.read() as s:
        due = {r.name: r for r in cadence.checkins_due(s, TODAY)}
        assert cadence.contact_cadence(s, a) == Cadence(14, 90)
    assert set(due) == {"A tier A", "C own"}  # B: 20 days < its kind's 30
    assert (due["A tier A"].ideal, due["A tier A"].days_late(TODAY)) == (14, 6)


def test_standing_is_amber_past_the_ideal_and_red_past_the_maximum(db: Database) -> None:
    cad = Cadence(30, 60)
    assert cadence.standing(at(TODAY - timedelta(days=29)), cad, TODAY) is None
    assert cadence.standing(at(TODAY - timedelta(days=30)), cad, TODAY) is Standing.DUE
    assert cadence.standing(at(TODAY - timedelta(days=31)), cad, TODAY) is Standing.LATE
    assert cadence.standing(at(TODAY - timedelta(days=60)), cad, TODAY) is Standing.LATE
    assert cadence.standing(at(TODAY - timedelta(days=61)), cad, TODAY) is Standing.LOSING
    assert cadence.standing(None, cad, TODAY) is Standing.DUE  # never met: due from the start
    ids = add(
        db,
        *(Contact(name=f"{n} days", cadence_days=30, cadence_max_days=60) for n in (10, 31, 45, 70)),
    )
    for cid, n in zip(ids, (10, 31, 45, 70), strict=True):
        add(db, Note(summary="x", occurred_at=at(TODAY - timedelta(days=n)), contact_id=cid))
    with db.read() as s:
        losing = cadence.losing_touch(s, TODAY)
    # Most overdue first.
    assert [(r.name, r.standing) for r in losing] == [
        ("70 days", Standing.LOSING),
        ("45 days", Standing.LATE),
        ("31 days", Standing.LATE),
    ]
    alerts = [i.alert for i in section(db, "checkins").items]
    assert alerts == [board.Alert.RED, board.Alert.AMBER, board.Alert.AMBER]


def test_defaults_are_checked_before_they_are_saved() -> None:
    ok = cadence.check_defaults(
        {"customer": ("30", "90"), "partner": ("", "")}, {"A": ("14", "")}, ("7", "30")
    )
    assert ok == (
        CadenceDefaults(
            kinds={"customer": Cadence(30, 90), "partner": Cadence()}, tiers={"A": Cadence(14, None)}
        ),
        (7, 30),
    )
    bad = cadence.check_defaults({"customer": ("often", "90"), "partner": ("60", "30")}, {}, ("30", "7"))
    assert set(bad) == {"cadence_customer", "cadence_partner", "followups"}


# -- snoozes -----------------------------------------------------------------------------------


def test_a_snooze_until_tomorrow_hides_today_and_shows_tomorrow(db: Database) -> None:
    (cid,) = add(db, Contact(name="Anna", cadence_days=7))
    assert [i.key for i in section(db, "checkins").items] == [f"checkin:{cid}"]
    with db.write() as s:
        snoozes.snooze(s, f"checkin:{cid}", TODAY + timedelta(days=1), today=TODAY, contact_id=cid)
    assert section(db, "checkins").count == 0
    assert section(db, "checkins", TODAY + timedelta(days=1)).count == 1
    # Snoozed again: the same row moves (one per item), and it syncs like any row.
    with db.write() as s:
        snoozes.snooze(s, f"checkin:{cid}", TODAY + timedelta(days=7), today=TODAY, contact_id=cid)
    with db.read() as s:
        rows = list(s.scalars(select(Snooze)))
        sent = [
            (o.entity, o.op) for o in s.scalars(select(OutboxEntry).where(OutboxEntry.entity == "snooze"))
        ]
    assert [(r.item, r.until) for r in rows] == [(f"checkin:{cid}", TODAY + timedelta(days=7))]
    assert sent == [("snooze", "create"), ("snooze", "update")]


def test_a_dismissed_item_stays_hidden(db: Database) -> None:
    (cid,) = add(db, Contact(name="Anna", birthday=date(1980, 12, 5)))
    (item,) = section(db, "dates").items
    with db.write() as s:
        snoozes.dismiss(s, item.key, today=TODAY, contact_id=cid)
    for later in (TODAY, TODAY + timedelta(days=1)):
        assert section(db, "dates", later).count == 0
    # Next year's birthday is another item: it shows.
    assert section(db, "dates", date(2027, 12, 3)).count == 1


def test_a_commitment_is_snoozed_by_moving_its_due_date(db: Database) -> None:
    (cid,) = add(db, Contact(name="Anna"))
    (kid,) = add(db, Commitment(what="Quote", due_date=TODAY - timedelta(days=2), contact_id=cid))
    (item,) = section(db, "commitments").items
    with db.write() as s:
        board.snooze_item(s, item, TODAY + timedelta(days=7), TODAY)
    with db.read() as s:
        moved = s.get(Commitment, kid)
        assert moved is not None and moved.due_date == TODAY + timedelta(days=7)
        assert s.scalars(select(Snooze)).first() is None
    assert section(db, "commitments").count == 0
    assert section(db, "commitments", TODAY + timedelta(days=7)).count == 1


# -- personal dates ----------------------------------------------------------------------------


def test_dates_in_the_next_14_days_with_ages_and_years(db: Database) -> None:
    add(
        db,
        Contact(name="Fifty", birthday=date(1976, 12, 9)),
        Contact(name="Unknown year", birthday=date(1900, 12, 4)),  # a placeholder year: no age
        Contact(name="Later", birthday=date(1980, 12, 17)),  # 14 days on: not yet
        Contact(name="Wed", personal_dates=[{"label": "Wedding", "date": "2016-12-03"}]),
        Contact(name="Plan", personal_dates=[{"label": "Launch", "date": "2026-12-10"}]),
    )
    items = section(db, "dates").items
    assert [(i.contact_name, i.title, i.when) for i in items] == [
        ("Wed", "Wedding: 10 years", "today"),
        ("Unknown year", "Birthday", "tomorrow"),
        ("Fifty", "Birthday: turns 50", "in 6 d (2026-12-09)"),
        ("Plan", "Launch", "in 7 d (2026-12-10)"),
    ]


def test_a_29_february_birthday_shows_on_the_28th_in_a_common_year(db: Database) -> None:
    add(db, Contact(name="Leap", birthday=date(1996, 2, 29)))
    (item,) = section(db, "dates", date(2027, 2, 20)).items
    assert (item.title, item.when) == ("Birthday: turns 31", "in 8 d (2027-02-28)")
    (item,) = section(db, "dates", date(2028, 2, 20)).items  # a leap year: on the day
    assert item.when == "in 9 d (2028-02-29)"


# -- every section, with true counts -----------------------------------------------------------


def test_each_section_counts_every_item_not_the_list_limit(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(board, "LIST_LIMIT", 2)
    monkeypatch.setattr(cadence, "checkins_due", _limited(cadence.checkins_due))
    with db.write() as s:
        cadence.save_followup_days(s, (7, 30))
    # Every purchase and feedback is a touch (2 days ago at the latest): a 1-day cadence is due.
    people = add(db, *(Contact(name=f"P{i}", cadence_days=1) for i in range(3)))
    for i, cid in enumerate(people):
        add(
            db,
            Visit(starts_at=at(TODAY, 9 + i), contact_ids=[str(cid)]),
            Commitment(what=f"c{i}", due_date=TODAY - timedelta(days=i), contact_id=cid),
            Contact(name=f"B{i}", birthday=date(1990, 12, 5 + i)),
            Purchase(purchased_on=TODAY - timedelta(days=7), product=f"p{i}", contact_id=cid),
            Feedback(received_at=at(TODAY - timedelta(days=2)), score=i, contact_id=cid),
        )
    with db.read() as s:
        got = board.today_board(s, TODAY)
    counts = {x.name: (x.count, len(x.items)) for x in got.sections}
    # 3 check-ins: the birthday people have no cadence.
    assert counts == {
        "visits": (3, 3),  # a day's visits are few: all listed
        "commitments": (3, 2),
        "checkins": (3, 2),
        "dates": (3, 2),
        "thanks": (3, 2),  # the purchases, not thanked yet
        "followups": (3, 2),  # 7 days after them
        "detractors": (3, 2),
    }
    assert got.overdue_commitments == 2  # due before today


def _limited(fn: Any) -> Any:
    def call(*args: Any, **kw: Any) -> Any:
        kw["limit"] = board.LIST_LIMIT
        return fn(*args, **kw)

    return call


def test_thank_yous_owed_until_a_thank_you_names_them(db: Database) -> None:
    anna, ben = add(db, Contact(name="Anna"), Contact(name="Ben"))
    (referred,) = add(db, Contact(name="Carla", referred_by_id=anna))
    pid, on_time, _late = add(
        db,
        Purchase(purchased_on=TODAY - timedelta(days=3), product="Pump", contact_id=ben),
        Commitment(
            what="Send the drawing", direction="they", due_date=TODAY, status="done",
            done_at=at(TODAY, 8), contact_id=ben,
        ),
        Commitment(
            what="Pay", direction="they", due_date=TODAY - timedelta(days=5), status="done",
            done_at=at(TODAY, 8), contact_id=ben,
        ),
    )  # fmt: skip
    owed = {i.row_id: i for i in section(db, "thanks").items}
    assert set(owed) == {pid, referred, on_time}  # late is not thanked for keeping their word
    assert (
        owed[referred].contact_name == "Anna" and owed[referred].title == "Thank them for introducing Carla"
    )
    with db.write() as s:
        board.mark_done(s, owed[pid], TODAY)  # logs the thank-you, naming the purchase
    with db.read() as s:
        (given,) = s.scalars(select(Appreciation))
        assert (given.reason, given.reason_id, given.contact_id) == ("purchase", pid, ben)
    assert {i.row_id for i in section(db, "thanks").items} == {referred, on_time}


def test_follow_ups_after_a_sale_until_the_contact_is_touched(db: Database) -> None:
    (cid,) = add(db, Contact(name="Anna"))
    (pid,) = add(db, Purchase(purchased_on=date(2026, 11, 26), product="Pump", contact_id=cid))
    assert section(db, "followups", date(2026, 12, 2)).count == 0  # day 6
    (item,) = section(db, "followups").items  # day 7
    assert item.key == f"followup1:{pid}" and item.title == "Follow up 7 days after: Pump"
    # A touch before the follow-up day does not count; one on it does.
    add(db, Note(summary="x", occurred_at=at(date(2026, 12, 1)), contact_id=cid))
    assert section(db, "followups").count == 1
    add(db, Appreciation(given_at=at(TODAY, 9), reason="other", contact_id=cid))
    assert section(db, "followups").count == 0
    # The second one is due 30 days after, with the number of days from Preferences.
    with db.write() as s:
        cadence.save_followup_days(s, (7, 20))
    (second,) = section(db, "followups", date(2026, 12, 16)).items
    assert second.key == f"followup2:{pid}"
    with db.write() as s:
        board.mark_done(s, second, date(2026, 12, 16))  # dismissed
    assert section(db, "followups", date(2026, 12, 17)).count == 0


def test_detractors_until_someone_follows_up(db: Database) -> None:
    anna, ben = add(db, Contact(name="Anna"), Contact(name="Ben"))
    fa, fb, _ok = add(
        db,
        Feedback(
            received_at=at(TODAY - timedelta(days=3)), score=6, comment="Slow delivery", contact_id=anna
        ),
        Feedback(received_at=at(TODAY - timedelta(days=3)), score=0, contact_id=ben),
        Feedback(received_at=at(TODAY - timedelta(days=3)), score=7, contact_id=ben),  # a passive
    )
    items = section(db, "detractors").items
    assert [(i.row_id, i.title) for i in items] == [
        (fb, "Scored us 0/10"),
        (fa, "Scored us 6/10: “Slow delivery”"),
    ]
    add(db, Commitment(what="Call about delivery", contact_id=anna, feedback_id=fa))
    add(db, Note(summary="Called", occurred_at=at(TODAY - timedelta(days=1)), contact_id=ben))
    assert section(db, "detractors").count == 0


def test_visits_of_the_day_and_done_completes_one(db: Database) -> None:
    (cid,) = add(db, Contact(name="Anna"))
    (vid,) = add(db, Visit(starts_at=at(TODAY, 10), contact_ids=[str(cid)], purpose="Review"))
    (item,) = section(db, "visits").items
    assert (item.title, item.contact_name) == ("Review", "Anna")
    with db.write() as s:
        board.mark_done(s, item, TODAY)
    with db.read() as s:
        visit = s.get(Visit, vid)
        assert visit is not None and visit.status == "done"
    assert last_contact(db, cid) == at(TODAY, 10)  # a completed visit is a touch


# -- last contact from every touch (migration 0007) ---------------------------------------------


def test_every_kind_of_touch_moves_last_contact_and_a_delete_moves_it_back(db: Database) -> None:
    (cid,) = add(db, Contact(name="Anna"))
    days = [TODAY - timedelta(days=n) for n in (40, 30, 20, 10)]
    (nid,) = add(db, Note(summary="call", occurred_at=at(days[0]), contact_id=cid))
    assert last_contact(db, cid) == at(days[0])
    (vid,) = add(db, Visit(starts_at=at(days[1]), contact_ids=[str(uuid.uuid4()), str(cid)]))
    assert last_contact(db, cid) == at(days[0])  # planned, not a touch yet
    with db.write() as s:
        visit = s.get(Visit, vid)
        assert visit is not None
        visit.status = "done"
    assert last_contact(db, cid) == at(days[1])
    (tid,) = add(db, Appreciation(given_at=at(days[2]), reason="other", contact_id=cid))
    assert last_contact(db, cid) == at(days[2])
    (fid,) = add(db, Feedback(received_at=at(days[3]), score=9, contact_id=cid))
    assert last_contact(db, cid) == at(days[3])
    # Deleting each, newest first, goes back one touch at a time.
    for cls, row_id, back in ((Feedback, fid, days[2]), (Appreciation, tid, days[1]), (Visit, vid, days[0])):
        with db.write() as s:
            row = s.get(cls, row_id)
            assert row is not None
            row.deleted_at = datetime.now(UTC)
        assert last_contact(db, cid) == at(back), cls.__name__
    with db.write() as s:
        s.delete(s.get(Note, nid))
    assert last_contact(db, cid) is None


def test_touches_pulled_by_sync_move_last_contact(db: Database) -> None:
    (cid,) = add(db, Contact(name="Anna"))

    def pulled(entity: str, table: Any, data: dict[str, Any]) -> None:
        change = RowChange(
            entity=entity, id=uuid.uuid4(), version=1, deleted=False, data=data,
            updated_at=datetime.now(UTC).isoformat(),
        )  # fmt: skip
        with db.write() as s:
            apply_rows(s, table, entity, [change], [], {}, PageCounts())

    pulled(
        "appreciation",
        Appreciation.__table__,
        {"given_at": to_wire(at(TODAY - timedelta(days=5))), "contact_id": str(cid), "reason": "other"},
    )
    assert last_contact(db, cid) == at(TODAY - timedelta(days=5))
    pulled(
        "visit",
        Visit.__table__,
        {"starts_at": to_wire(at(TODAY - timedelta(days=1))), "contact_ids": [str(cid)], "status": "done"},
    )
    assert last_contact(db, cid) == at(TODAY - timedelta(days=1))
