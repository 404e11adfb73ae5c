"""Today's slower sections read faster: migration 0016's indexes carry the columns they filter on;
the follow-ups are counted with each day's start worked out once (compared with the list, which
still works it out per purchase)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text

from models.db import Database
from models.entities import Commitment, Contact, Feedback, Note, Purchase
from models.services import today as board
from models.services.visits import local_day_bounds

TODAY = date(2026, 12, 3)


def _columns(db: Database, index: str) -> list[str | None]:
    with db.read() as s:
        # index_xinfo names an expression's column NULL; the key columns come first (key = 1).
        return [r[2] for r in s.execute(text(f"PRAGMA index_xinfo({index})")) if r[5]]


def _plan(db: Database, sql: str) -> str:
    with db.read() as s:
        return " ".join(str(r[-1]) for r in s.execute(text(f"EXPLAIN QUERY PLAN {sql}")))


def test_kept_promises_index_carries_what_the_thank_yous_filter_on(db: Database) -> None:
    # The day kept (an expression) first, so the list is still read in order; then what the
    # count needs, which 0015's index left in the rows.
    assert _columns(db, "ix_commitments_done_byday") == [
        "status", "direction", None, "done_at", "due_date", "contact_id", "id",
    ]  # fmt: skip


def test_detractors_window_is_counted_from_the_index(db: Database) -> None:
    assert _columns(db, "ix_feedback_received") == ["received_at", "deleted_at", "score", "contact_id", "id"]
    plan = _plan(
        db,
        "SELECT count(*) FROM feedback WHERE deleted_at IS NULL AND score BETWEEN 0 AND 6 "
        "AND received_at >= '2026-09-04 00:00:00.000000'",
    )
    assert "COVERING INDEX ix_feedback_received" in plan, plan


def test_sections_read_through_the_wider_indexes_are_unchanged(db: Database) -> None:
    """A kept promise owed thanks, one kept late (none owed) and a detractor: as before."""
    now = datetime.combine(TODAY, datetime.min.time(), UTC) + timedelta(hours=12)
    with db.write() as s:
        anna, ben = Contact(name="Anna"), Contact(name="Ben")
        s.add_all([anna, ben])
        s.flush()
        on_time = Commitment(
            what="Forecast", direction="they", due_date=TODAY, status="done", done_at=now, contact_id=anna.id
        )
        late = Commitment(
            what="Specs",
            direction="they",
            due_date=TODAY - timedelta(days=5),
            status="done",
            done_at=now,
            contact_id=ben.id,
        )
        low = Feedback(received_at=now - timedelta(days=2), score=3, contact_id=ben.id)
        s.add_all([on_time, late, low])
        s.flush()
        ids = on_time.id, low.id
    with db.read() as s:
        whole = board.today_board(s, TODAY)
    assert [i.row_id for i in whole.section("thanks").items] == [ids[0]]
    assert [i.row_id for i in whole.section("detractors").items] == [ids[1]]


@pytest.fixture
def zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize(
    ("name", "today"),
    [
        ("UTC", date(2026, 12, 3)),
        ("Europe/Berlin", date(2026, 11, 3)),  # summer time ended on 25 October
        ("America/Santiago", date(2026, 9, 12)),  # it began at midnight on 6 September
        ("America/Santiago", date(2026, 4, 20)),  # it ended at midnight on 5 April
        ("Asia/Kolkata", date(2026, 12, 3)),
    ],
)
def test_follow_ups_counted_as_listed_around_the_day_start(
    db: Database, zone: None, monkeypatch: pytest.MonkeyPatch, name: str, today: date
) -> None:
    """Touches a minute and an hour either side of where each follow-up day starts, in zones
    where that day begins at a clock change: the count (each day's start from a small table)
    and the list (worked out per purchase) agree row for row."""
    monkeypatch.setenv("TZ", name)
    time.tzset()
    plan = [
        (today - timedelta(days=back), n, minutes)
        for back in range(7, 61, 3)
        for n in (7, 30)
        for minutes in (-61, -1, 0, 1, 59)
    ]
    with db.write() as s:
        people = [Contact(name=f"{bought} {n} {minutes}") for bought, n, minutes in plan]
        s.add_all(people)
        s.flush()
        for who, (bought, n, minutes) in zip(people, plan, strict=True):
            start = local_day_bounds(bought + timedelta(days=n))[0]
            s.add(Purchase(purchased_on=bought, product="Pump", contact_id=who.id))
            s.add(Note(summary="x", occurred_at=start + timedelta(minutes=minutes), contact_id=who.id))
    with db.read() as s:
        followups = board.today_board(s, today).section("followups")
    assert 0 < len(followups.items) < board.LIST_LIMIT
    assert followups.count == len(followups.items)


def _fresh() -> None:
    """Drop the statements Today keeps, so the next read builds them again (the slow path)."""
    for kept in (
        board._commitments_statements,
        board._thanks_statements,
        board._followups_statements,
        board._detractors_statement,
    ):
        kept.cache_clear()


def test_kept_statements_read_as_freshly_built_ones_across_a_zone_change(
    db: Database, zone: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same day read in UTC, then in India: the windows start at another instant, so the
    statements kept for UTC must not serve India. Compared with statements built afresh."""
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    starts = {
        "detractors": local_day_bounds(TODAY - timedelta(days=board.DETRACTOR_WINDOW))[0],
        "thanks": local_day_bounds(TODAY - timedelta(days=board.THANKS_WINDOW))[0],
    }
    with db.write() as s:
        people = [Contact(name="Anna"), Contact(name="Ben"), Contact(name="Carla", cadence_days=7)]
        s.add_all(people)
        s.flush()
        anna, ben, carla = (p.id for p in people)
        # An hour into India's window: before midnight UTC of that day, so outside UTC's.
        s.add(Feedback(received_at=starts["detractors"] + timedelta(hours=1), score=2, contact_id=anna))
        referred = s.get(Contact, carla)
        assert referred is not None
        referred.referred_by_id = ben
        referred.created_at = starts["thanks"] + timedelta(hours=1)
        s.add(Purchase(purchased_on=TODAY - timedelta(days=7), product="Pump", contact_id=ben))

    def read() -> dict[str, tuple[int, list[object]]]:
        with db.read() as s:
            got = board.today_board(s, TODAY)
        return {x.name: (x.count, [i.key for i in x.items]) for x in got.sections}

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    _fresh()
    in_utc = read()
    assert in_utc["detractors"][0] == 0 and in_utc["thanks"][0] == 1  # the purchase only
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    kept = read()
    _fresh()
    assert kept == read()
    assert kept["detractors"][0] == 1 and kept["thanks"][0] == 2  # and the referral
