"""Migration 0016: the indexes Today's slower sections read carry the columns they filter on."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import text

from models.db import Database
from models.entities import Commitment, Contact, Feedback
from models.services import today as board

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
