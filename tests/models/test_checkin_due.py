"""Check-ins kept due (migration 0015): after every kind of change, each live contact's row in
``checkin_due`` is what the rule computed from scratch in Python says (``effective_cadence``:
own, else the account tier's default, else the kind's), and Today's list and count agree with
the Python rule (``due_date``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select

from models.bulk import bulk_load
from models.db import Database
from models.entities import Account, Contact, Meta, Note, checkin_due
from models.services import cadence
from models.services.cadence import Cadence, CadenceDefaults
from models.types import to_wire
from sync.apply import PageCounts, apply_rows
from sync.protocol import RowChange
from sync.store import SyncStore
from tests.models.test_today import TODAY, add, at

UNIX_EPOCH_JULIAN = 2440587.5


def kept(db: Database) -> dict[uuid.UUID, tuple[int, int | None, float | None]]:
    with db.read() as s:
        rows = s.execute(select(checkin_due)).all()
    return {r.contact_id: (r.ideal, r.maximum, r.due_at) for r in rows}


def computed(db: Database) -> dict[uuid.UUID, tuple[int, int | None, float | None]]:
    """The slow path: every contact's effective cadence from the saved defaults, in Python."""
    out = {}
    with db.read() as s:
        defaults = cadence.load_defaults(s)
        tiers = {a.id: a.tier for a in s.scalars(select(Account).where(Account.deleted_at.is_(None)))}
        for c in s.scalars(select(Contact).where(Contact.deleted_at.is_(None))):
            own = Cadence(c.cadence_days, c.cadence_max_days)
            cad = cadence.effective_cadence(own, c.kind, tiers.get(c.account_id), defaults)  # type: ignore[arg-type]
            if cad.ideal is None:
                continue
            last = c.last_contact_at
            due_at = None if last is None else last.timestamp() / 86400 + UNIX_EPOCH_JULIAN + cad.ideal
            out[c.id] = (cad.ideal, cad.maximum, due_at)
    return out


def assert_kept_right(db: Database) -> None:
    got, want = kept(db), computed(db)
    assert set(got) == set(want)
    for cid, (ideal, maximum, due_at) in want.items():
        assert got[cid][:2] == (ideal, maximum), cid
        assert (got[cid][2] is None) == (due_at is None), cid
        assert due_at is None or got[cid][2] == pytest.approx(due_at, abs=1e-6), cid
    # Today's list and count agree with the Python rule on several days around the due dates.
    with db.read() as s:
        people = {c.id: c for c in s.scalars(select(Contact))}
        for day in (TODAY - timedelta(days=20), TODAY, TODAY + timedelta(days=20)):
            due = {
                cid
                for cid, (ideal, _m, _d) in want.items()
                if (d := cadence.due_date(people[cid].last_contact_at, ideal, day)) is not None and d <= day
            }
            rows, count = cadence.checkins_page(s, day, limit=1000)
            assert {r.id for r in rows} == due and count == len(due), day
            assert cadence.count_checkins_due(s, day) == len(due), day


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # The Python rule takes each touch's own offset, the SQL today's: the same in UTC.
    import time

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def pull(store: SyncStore, entity: str, table: Any, row_id: uuid.UUID, data: dict[str, Any]) -> None:
    """One row written as a pull writes it."""
    change = RowChange(
        entity=entity,
        id=row_id,
        version=5,
        deleted=False,
        data=data,
        updated_at=datetime.now(UTC).isoformat(),
    )
    with store.tx() as s:
        apply_rows(s, table, entity, [change], [], {}, PageCounts())


@pytest.fixture
def people(db: Database, utc: None) -> dict[str, uuid.UUID]:
    acme, beta = add(db, Account(name="Acme", tier="A"), Account(name="Beta", tier="B"))
    ids = add(
        db,
        Contact(name="Ann", account_id=acme),  # tier A's default
        Contact(name="Bob", account_id=beta),  # no tier default: the kind's
        Contact(name="Cid", account_id=acme, cadence_days=3, cadence_max_days=9),  # its own
        Contact(name="Dan", kind="partner"),  # no account: the kind's
        Contact(name="Eve", kind="other"),  # no default for its kind: no cadence
    )
    with db.write() as s:
        cadence.save_defaults(
            s,
            CadenceDefaults(
                kinds={"customer": Cadence(30, 90), "partner": Cadence(60, None)},
                tiers={"A": Cadence(14, 45)},
            ),
        )
    for cid, ago in zip(ids, (20, 40, 5, 70, 400), strict=True):
        add(db, Note(summary="x", occurred_at=at(TODAY - timedelta(days=ago)), contact_id=cid))
    return dict(zip(("ann", "bob", "cid", "dan", "eve", "acme", "beta"), [*ids, acme, beta], strict=True))


def test_kept_rows_follow_touches_and_edits(db: Database, people: dict[str, uuid.UUID]) -> None:
    assert_kept_right(db)
    assert kept(db)[people["ann"]][:2] == (14, 45)
    # A note logged; a never-contacted contact; a cadence edited, then cleared (the default again).
    add(db, Note(summary="call", occurred_at=at(TODAY - timedelta(days=1)), contact_id=people["bob"]))
    add(db, Contact(name="New", cadence_days=7))
    assert_kept_right(db)
    with db.write() as s:
        c = s.get(Contact, people["dan"])
        assert c is not None
        c.cadence_days, c.kind = 10, "customer"
    assert_kept_right(db)
    with db.write() as s:
        c = s.get(Contact, people["cid"])
        assert c is not None
        c.cadence_days = c.cadence_max_days = None
    assert_kept_right(db)
    assert kept(db)[people["cid"]][:2] == (14, 45)
    # Moved to another account (tier B: no tier default), then the account's tier changed and
    # the account deleted; a contact deleted, one removed outright.
    with db.write() as s:
        c = s.get(Contact, people["ann"])
        assert c is not None
        c.account_id = people["beta"]
    assert_kept_right(db)
    assert kept(db)[people["ann"]][:2] == (30, 90)
    with db.write() as s:
        b = s.get(Account, people["beta"])
        assert b is not None
        b.tier = "A"
    assert_kept_right(db)
    with db.write() as s:
        b = s.get(Account, people["beta"])
        assert b is not None
        b.deleted_at = datetime.now(UTC)
        c = s.get(Contact, people["bob"])
        assert c is not None
        c.deleted_at = datetime.now(UTC)
    assert_kept_right(db)
    with db.write() as s:
        s.execute(delete(Contact).where(Contact.id == people["dan"]))
    assert_kept_right(db)
    # Deleting the only note: never contacted again.
    with db.write() as s:
        s.execute(delete(Note).where(Note.contact_id == people["cid"]))
    assert kept(db)[people["cid"]][2] is None
    assert_kept_right(db)


def test_kept_rows_follow_the_defaults(db: Database, people: dict[str, uuid.UUID]) -> None:
    with db.write() as s:
        cadence.save_defaults(
            s, CadenceDefaults(kinds={"customer": Cadence(21, None), "other": Cadence(100, 200)}, tiers={})
        )
    assert_kept_right(db)
    assert kept(db)[people["ann"]][:2] == (21, None) and people["dan"] not in kept(db)
    # A damaged or removed value means no defaults, as load_defaults reads it; nothing fails.
    with db.write() as s:
        row = s.get(Meta, cadence.DEFAULTS_KEY)
        assert row is not None
        row.value = {"kinds": {"customer": {"ideal": "often"}, "partner": [1]}, "tiers": ["A"]}
    assert_kept_right(db)
    with db.write() as s:
        s.execute(delete(Meta).where(Meta.key == cadence.DEFAULTS_KEY))
    assert_kept_right(db)
    assert set(kept(db)) == {people["cid"]}


def test_kept_rows_follow_pulled_changes_and_bulk_loads(db: Database, people: dict[str, uuid.UUID]) -> None:
    store = SyncStore(db)  # as a pull writes: foreign keys off, pages in server order

    def pulled(entity: str, table: Any, row_id: uuid.UUID, data: dict[str, Any]) -> None:
        pull(store, entity, table, row_id, data)

    # A contact pulled before its account (server order), then the account; a pulled touch.
    account, contact = uuid.uuid4(), uuid.uuid4()
    pulled("contact", Contact.__table__, contact, {"name": "Far", "account_id": str(account)})
    pulled("account", Account.__table__, account, {"name": "Gamma", "tier": "A"})
    assert_kept_right(db)
    assert kept(db)[contact][:2] == (14, 45)
    pulled("note", Note.__table__, uuid.uuid4(), {
        "summary": "met", "occurred_at": to_wire(at(TODAY - timedelta(days=2))), "contact_id": str(contact),
    })  # fmt: skip
    pulled("contact", Contact.__table__, people["bob"], {"name": "Bob", "cadence_days": 5})
    assert_kept_right(db)
    store.close()
    # A bulk load suspends the triggers and rebuilds the rows once at the end.
    with db.write() as s, bulk_load(s.connection()):
        s.add(Contact(name="Loaded", cadence_days=2))
        s.add(Note(summary="y", occurred_at=at(TODAY - timedelta(days=9)), contact_id=people["eve"]))
        s.flush()
        c = s.get(Contact, people["eve"])
        assert c is not None
        c.cadence_days = 4
    assert_kept_right(db)
