"""Follow-ups kept (migration 0017): after every kind of change, ``followup_due`` holds what
the rule computed from scratch in Python says (each live purchase of a live contact, with the
contact's last contact), and Today's follow-up count, read from it, agrees with the list, which
still reads the purchases and their contacts (the slow path)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select

from models.bulk import bulk_load
from models.db import Database
from models.entities import Appreciation, Commitment, Contact, Note, Purchase, followup_due, thanks_owed
from models.services import cadence, snoozes, today
from models.types import to_wire
from sync.store import SyncStore
from tests.models.test_checkin_due import pull, utc  # noqa: F401 (utc: a fixture)
from tests.models.test_today import TODAY, add, at

# The Python rule takes each touch's own offset, the SQL the local zone's: the same in UTC.
pytestmark = pytest.mark.usefixtures("utc")

Kept = dict[uuid.UUID, tuple[uuid.UUID, date, str]]


def kept(db: Database) -> Kept:
    with db.read() as s:
        return {r.purchase_id: (r.contact_id, r.bought, r.touched) for r in s.execute(select(followup_due))}


def computed(db: Database) -> Kept:
    """The slow path: every live purchase whose contact is live, in Python."""
    with db.read() as s:
        live = {c.id: c for c in s.scalars(select(Contact).where(Contact.deleted_at.is_(None)))}
        out = {}
        for p in s.scalars(select(Purchase).where(Purchase.deleted_at.is_(None))):
            c = live.get(p.contact_id) if p.contact_id else None
            if c is None:
                continue
            last = c.last_contact_at
            touched = "" if last is None else last.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
            out[p.id] = (c.id, p.purchased_on, touched)
    return out


def assert_kept_right(db: Database, least: int = 1) -> None:
    assert kept(db) == computed(db)
    # Today's count (from the kept rows) against its list (read from the purchases and
    # contacts, per purchase), on days around the follow-up days.
    with db.read() as s:
        days = cadence.load_followup_days(s)
        seen = 0
        for day in (TODAY - timedelta(days=8), TODAY, TODAY + timedelta(days=5), TODAY + timedelta(days=25)):
            counts, firsts = today._followups_statements(day, days, 10_000)
            listed = len(list(s.execute(firsts)))
            assert today._total(s, counts) == listed, day
            seen += listed
    assert seen >= least


def deleted_and_restored(db: Database, contact_id: uuid.UUID, check: Callable[..., None]) -> None:
    """The contact deleted, then restored, ``check`` after each."""
    for when in (datetime.now(UTC), None):
        with db.write() as s:
            c = s.get(Contact, contact_id)
            assert c is not None
            c.deleted_at = when
        check(db, least=0)


@pytest.fixture
def sales(db: Database) -> dict[str, uuid.UUID]:
    ann, bob, cid = add(db, Contact(name="Ann"), Contact(name="Bob"), Contact(name="Cid"))
    add(db, Note(summary="x", occurred_at=at(TODAY - timedelta(days=20)), contact_id=ann))
    add(db, Note(summary="x", occurred_at=at(TODAY - timedelta(days=3)), contact_id=bob))
    p1, p2, p3, p4 = add(
        db,
        Purchase(purchased_on=TODAY - timedelta(days=10), product="Pump", contact_id=ann),
        Purchase(purchased_on=TODAY - timedelta(days=35), product="Valve", contact_id=ann),
        Purchase(purchased_on=TODAY - timedelta(days=8), product="Hose", contact_id=bob),
        Purchase(purchased_on=TODAY - timedelta(days=7), product="Seal", contact_id=cid),  # never contacted
    )
    return {"ann": ann, "bob": bob, "cid": cid, "p1": p1, "p2": p2, "p3": p3, "p4": p4}


def test_kept_rows_follow_purchases_and_touches(db: Database, sales: dict[str, uuid.UUID]) -> None:
    assert_kept_right(db, least=3)
    assert kept(db)[sales["p4"]][2] == ""
    # A touch after the follow-up day settles it; deleting that note brings it back.
    call = Note(summary="call", occurred_at=at(TODAY - timedelta(days=1)), contact_id=sales["ann"])
    (note,) = add(db, call)
    assert_kept_right(db)
    with db.write() as s:
        s.execute(delete(Note).where(Note.id == note))
    assert_kept_right(db)
    # A purchase's day edited, moved to another contact, deleted; one removed outright.
    with db.write() as s:
        p = s.get(Purchase, sales["p1"])
        assert p is not None
        p.purchased_on, p.contact_id = TODAY - timedelta(days=31), sales["cid"]
    assert_kept_right(db)
    with db.write() as s:
        p = s.get(Purchase, sales["p2"])
        assert p is not None
        p.deleted_at = datetime.now(UTC)
        s.execute(delete(Purchase).where(Purchase.id == sales["p3"]))
    assert_kept_right(db)
    # A contact deleted (its purchases leave Today), then restored; one removed outright.
    deleted_and_restored(db, sales["cid"], assert_kept_right)
    with db.write() as s:
        s.execute(delete(Contact).where(Contact.id == sales["ann"]))
    assert_kept_right(db, least=0)


def test_snoozed_not_counted(db: Database, sales: dict[str, uuid.UUID]) -> None:
    with db.write() as s:
        snoozes.dismiss(s, f"followup1:{sales['p4']}", today=TODAY, contact_id=sales["cid"])
        snoozes.dismiss(s, f"thanks:{sales['p1']}", today=TODAY, contact_id=sales["ann"])
    assert_kept_right(db)
    assert_thanks_right(db)


def test_kept_rows_follow_pulled_changes_and_bulk_loads(db: Database, sales: dict[str, uuid.UUID]) -> None:
    store = SyncStore(db)  # as a pull writes: foreign keys off, pages in server order

    def pulled(entity: str, table: Any, row_id: uuid.UUID, data: dict[str, Any]) -> None:
        pull(store, entity, table, row_id, data)

    # A purchase pulled before its contact (server order), then the contact, then a touch.
    contact, purchase = uuid.uuid4(), uuid.uuid4()
    pulled("purchase", Purchase.__table__, purchase, {
        "purchased_on": (TODAY - timedelta(days=9)).isoformat(), "product": "Tank",
        "contact_id": str(contact),
    })  # fmt: skip
    assert purchase not in kept(db)
    pulled("contact", Contact.__table__, contact, {"name": "Far"})
    assert_kept_right(db)
    assert purchase in kept(db)
    pulled("note", Note.__table__, uuid.uuid4(), {
        "summary": "met", "occurred_at": to_wire(at(TODAY - timedelta(days=1))), "contact_id": str(contact),
    })  # fmt: skip
    assert_kept_right(db)
    store.close()
    # A bulk load suspends the triggers and rebuilds the rows once at the end.
    with db.write() as s, bulk_load(s.connection()):
        s.add(Purchase(purchased_on=TODAY - timedelta(days=12), product="Gauge", contact_id=sales["bob"]))
        s.add(Note(summary="y", occurred_at=at(TODAY - timedelta(days=2)), contact_id=sales["cid"]))
    assert_kept_right(db)


# -- thank-yous owed (thanks_owed) --------------------------------------------------------------


def thanks_kept(db: Database) -> dict[uuid.UUID, tuple[str, uuid.UUID, date]]:
    with db.read() as s:
        return {r.row_id: (r.reason, r.contact_id, r.day) for r in s.execute(select(thanks_owed))}


def thanks_computed(db: Database) -> dict[uuid.UUID, tuple[str, uuid.UUID, date]]:
    """The slow path: every purchase, referral and promise kept on time with no live thank-you
    naming it, whose contact is live, in Python."""
    with db.read() as s:
        live = {c.id: c for c in s.scalars(select(Contact).where(Contact.deleted_at.is_(None)))}
        thanked = set(s.scalars(select(Appreciation.reason_id).where(Appreciation.deleted_at.is_(None))))
        out: dict[uuid.UUID, tuple[str, uuid.UUID, date]] = {}
        for p in s.scalars(select(Purchase).where(Purchase.deleted_at.is_(None))):
            if p.contact_id in live and p.id not in thanked:
                out[p.id] = ("purchase", p.contact_id, p.purchased_on)  # type: ignore[assignment]
        for r in live.values():
            if r.referred_by_id in live and r.id not in thanked:
                out[r.id] = ("referral", r.referred_by_id, r.created_at.astimezone(UTC).date())  # type: ignore[assignment]
        for m in s.scalars(select(Commitment).where(Commitment.deleted_at.is_(None))):
            if m.status != "done" or m.direction != "they" or m.done_at is None or m.contact_id not in live:
                continue
            done = m.done_at.astimezone(UTC).date()
            if (m.due_date is None or done <= m.due_date) and m.id not in thanked:
                out[m.id] = ("commitment", m.contact_id, done)  # type: ignore[assignment]
    return out


def assert_thanks_right(db: Database, least: int = 1) -> None:
    assert thanks_kept(db) == thanks_computed(db)
    # Today's count (from the kept rows) against its list (from the rows behind them).
    with db.read() as s:
        seen = 0
        for day in (TODAY - timedelta(days=20), TODAY, TODAY + timedelta(days=25)):
            counts, firsts = today._thanks_statements(day, today._since(today.THANKS_WINDOW, day), 10_000)
            listed = len(list(s.execute(firsts)))
            assert today._total(s, counts) == listed, day
            seen += listed
    assert seen >= least


def test_thanks_kept_rows_follow_every_source(db: Database, sales: dict[str, uuid.UUID]) -> None:
    (ref,) = add(db, Contact(name="Ref", referred_by_id=sales["ann"]))
    late, kept_word, ours = add(
        db,
        Commitment(
            what="late", direction="they", contact_id=sales["bob"], due_date=TODAY - timedelta(days=9)
        ),
        Commitment(what="sent", direction="they", contact_id=sales["bob"], due_date=TODAY),
        Commitment(what="ours", direction="we", contact_id=sales["bob"], due_date=TODAY),
    )
    assert_thanks_right(db, least=4)
    # Promises kept: on time, late, ours (no thanks owed); then one reopened.
    with db.write() as s:
        for cid in (late, kept_word, ours):
            m = s.get(Commitment, cid)
            assert m is not None
            m.status, m.done_at = "done", at(TODAY - timedelta(days=2))
    assert_thanks_right(db)
    assert kept_word in thanks_kept(db) and late not in thanks_kept(db) and ours not in thanks_kept(db)
    with db.write() as s:
        m = s.get(Commitment, kept_word)
        assert m is not None
        m.due_date = TODAY - timedelta(days=5)  # now late
    assert_thanks_right(db)
    with db.write() as s:
        m = s.get(Commitment, kept_word)
        assert m is not None
        m.due_date = None
    assert_thanks_right(db)
    # Thank-yous logged for a purchase and the referral, one moved, one deleted then removed.
    (t1, t2) = add(
        db,
        Appreciation(given_at=at(TODAY), reason="purchase", reason_id=sales["p1"], contact_id=sales["ann"]),
        Appreciation(given_at=at(TODAY), reason="referral", reason_id=ref, contact_id=sales["ann"]),
    )
    assert_thanks_right(db)
    assert sales["p1"] not in thanks_kept(db) and ref not in thanks_kept(db)
    with db.write() as s:
        a = s.get(Appreciation, t1)
        assert a is not None
        a.reason_id = sales["p3"]
        b = s.get(Appreciation, t2)
        assert b is not None
        b.deleted_at = datetime.now(UTC)
    assert_thanks_right(db)
    with db.write() as s:
        s.execute(delete(Appreciation).where(Appreciation.id == t1))
    assert_thanks_right(db)
    # The referrer deleted (its purchases and referral leave), restored; the referred one
    # deleted; a purchase moved, deleted, removed; a contact removed outright.
    deleted_and_restored(db, sales["ann"], assert_thanks_right)
    with db.write() as s:
        c = s.get(Contact, ref)
        assert c is not None
        c.deleted_at = datetime.now(UTC)
        p = s.get(Purchase, sales["p1"])
        assert p is not None
        p.contact_id, p.purchased_on = sales["cid"], TODAY - timedelta(days=29)
    assert_thanks_right(db)
    with db.write() as s:
        p = s.get(Purchase, sales["p2"])
        assert p is not None
        p.deleted_at = datetime.now(UTC)
        s.execute(delete(Purchase).where(Purchase.id == sales["p4"]))
        s.execute(delete(Commitment).where(Commitment.id == late))
    assert_thanks_right(db)
    with db.write() as s:
        s.execute(delete(Contact).where(Contact.id == sales["bob"]))
    assert_thanks_right(db, least=0)


def test_thanks_kept_rows_follow_pulls_and_bulk_loads(db: Database, sales: dict[str, uuid.UUID]) -> None:
    store = SyncStore(db)
    # A referral and a thank-you pulled before the referrer (server order), then the referrer.
    referrer, referred = uuid.uuid4(), uuid.uuid4()
    pull(store, "contact", Contact.__table__, referred, {"name": "New", "referred_by_id": str(referrer)})
    assert referred not in thanks_kept(db)
    pull(store, "contact", Contact.__table__, referrer, {"name": "Old"})
    assert_thanks_right(db)
    assert referred in thanks_kept(db)
    pull(store, "appreciation", Appreciation.__table__, uuid.uuid4(), {
        "given_at": to_wire(at(TODAY)), "reason": "referral", "reason_id": str(referred),
        "contact_id": str(referrer),
    })  # fmt: skip
    assert_thanks_right(db)
    assert referred not in thanks_kept(db)
    store.close()
    with db.write() as s, bulk_load(s.connection()):
        s.add(Purchase(purchased_on=TODAY - timedelta(days=3), product="Gauge", contact_id=sales["bob"]))
        s.add(
            Appreciation(
                given_at=at(TODAY), reason="purchase", reason_id=sales["p3"], contact_id=sales["bob"]
            )
        )
    assert_thanks_right(db)
