"""Scenarios 5-7: the per-field three-way merge, delete vs edit, orphans, and skewed clocks.

Each test runs against a real server process (SQLite and PostgreSQL) with real laptops.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from models.entities import Account, Note
from models.services.trash import restore
from models.types import utcnow
from sync.conflicts import list_conflicts
from sync.server.merge import merge_set
from tests.support.sync_support import Laptop, contact


def _conflicts(lap: Laptop) -> list[tuple[str, str | None, object, object]]:
    with lap.db.read() as s:
        return sorted((r.kind, r.field, r.kept, r.lost) for r in list_conflicts(s))


def _pair(laptops: Callable[..., Laptop], **fields: object) -> tuple[Laptop, Laptop, object]:
    a, b = laptops("ann"), laptops("bob")
    cid = a.add(contact("Grace", **fields))
    a.sync()
    b.sync()
    return a, b, cid


def _converge(*laps: Laptop) -> None:
    for lap in laps:
        lap.sync()
    for lap in laps:
        lap.sync()


def test_merge_set_unit() -> None:
    assert merge_set(["b", "c"], ["a", "b"], ["a", "d"]) == ["c", "d"]
    assert merge_set(["x"], [], ["x", "y"]) == ["x", "y"]


def test_different_fields_both_kept(laptops: Callable[..., Laptop]) -> None:
    a, b, cid = _pair(laptops)
    a.edit("contact", cid, role="CTO")
    b.edit("contact", cid, needs="Faster invoices")
    _converge(a, b)
    for lap in (a, b):
        row = lap.get("contact", cid)
        assert (row.role, row.needs) == ("CTO", "Faster invoices")
        assert _conflicts(lap) == []
    assert a.snapshot() == b.snapshot()


def test_same_field_later_arrival_wins_and_the_other_is_recorded(laptops: Callable[..., Laptop]) -> None:
    a, b, cid = _pair(laptops)
    a.edit("contact", cid, role="Buyer")
    b.edit("contact", cid, role="Head of purchasing")
    a.sync()
    _converge(b, a)
    for lap in (a, b):
        assert lap.get("contact", cid).role == "Head of purchasing"
        assert _conflicts(lap) == [("field", "role", "Head of purchasing", "Buyer")]
    assert a.snapshot() == b.snapshot()


def test_same_value_on_both_sides_is_no_conflict(laptops: Callable[..., Laptop]) -> None:
    a, b, cid = _pair(laptops)
    a.edit("contact", cid, role="CFO")
    b.edit("contact", cid, role="CFO")
    _converge(a, b)
    assert a.get("contact", cid).role == b.get("contact", cid).role == "CFO"
    assert _conflicts(a) == _conflicts(b) == []


def test_tags_merge_as_sets(laptops: Callable[..., Laptop]) -> None:
    a, b, cid = _pair(laptops, tags=["alpha", "beta"])
    a.edit("contact", cid, tags=["beta", "gamma"])  # removes alpha, adds gamma
    b.edit("contact", cid, tags=["alpha", "delta"])  # removes beta, adds delta
    _converge(a, b)
    assert sorted(a.get("contact", cid).tags) == ["delta", "gamma"]
    assert a.snapshot() == b.snapshot()
    assert _conflicts(a) == []


def test_note_body_edited_on_both_sides_keeps_a_conflicted_copy(laptops: Callable[..., Laptop]) -> None:
    a, b = laptops("ann"), laptops("bob")
    nid = a.add(Note(summary="Visit", body="start", occurred_at=utcnow()))
    a.sync()
    b.sync()
    a.edit("note", nid, body="Ann's version")
    b.edit("note", nid, body="Bob's version")
    a.sync()
    _converge(b, a)
    assert a.get("note", nid).body == "Bob's version"
    with a.db.read() as s:
        bodies = sorted(n.body for n in s.scalars(select(Note)))
        summaries = sorted(n.summary for n in s.scalars(select(Note)))
    assert bodies == ["Ann's version", "Bob's version"]
    assert summaries == ["Visit", "Visit (conflicted copy)"]
    assert _conflicts(a) == [("note_copy", "body", "Bob's version", "Ann's version")]
    assert a.snapshot() == b.snapshot()


def test_delete_then_stale_edit(laptops: Callable[..., Laptop]) -> None:
    a, b, cid = _pair(laptops)
    with a.db.write() as s:
        s.get(type(contact("x")), cid).deleted_at = utcnow()
    a.sync()
    b.edit("contact", cid, role="edited offline")
    _converge(b, a)
    for lap in (a, b):
        assert lap.get("contact", cid).deleted_at is not None  # no resurrection
        assert _conflicts(lap) == [("delete_edit", None, None, {"role": "edited offline"})]
    # An explicit restore brings it back everywhere.
    with a.db.write() as s:
        restore(s, "contact", cid)
    _converge(a, b)
    assert b.get("contact", cid).deleted_at is None
    assert a.snapshot() == b.snapshot()


def test_edit_then_stale_delete(laptops: Callable[..., Laptop]) -> None:
    a, b, cid = _pair(laptops)
    b.edit("contact", cid, role="edited first")
    b.sync()
    with a.db.write() as s:  # Ann has not seen Bob's edit
        s.get(type(contact("x")), cid).deleted_at = utcnow()
    _converge(a, b)
    for lap in (a, b):
        assert lap.get("contact", cid).deleted_at is not None
        [(kind, field, kept, lost)] = _conflicts(lap)
        assert (kind, field, kept) == ("delete_edit", None, None)
        assert isinstance(lost, dict) and lost["role"] == "edited first"


def test_note_created_offline_under_an_account_deleted_elsewhere(laptops: Callable[..., Laptop]) -> None:
    a, b = laptops("ann"), laptops("bob")
    acc = a.add(Account(name="Initech"))
    a.sync()
    b.sync()
    a.edit("account", acc, deleted_at=utcnow())
    a.sync()
    nid = b.add(Note(summary="Met Peter", account_id=acc, occurred_at=utcnow()))
    _converge(b, a)
    assert a.get("note", nid) is not None and a.get("note", nid).deleted_at is None  # kept
    assert ("orphan", "account_id", str(acc), None) in _conflicts(a)  # reported
    assert a.snapshot() == b.snapshot()


@contextmanager
def _clock(offset: timedelta) -> Iterator[None]:
    """Skew this process's idea of now for local writes (what a wrong laptop clock does)."""
    import models.changes
    import models.types

    real = models.types.utcnow
    skewed: Callable[[], datetime] = lambda: real() + offset  # noqa: E731
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(models.changes, "utcnow", skewed)
        mp.setattr(models.types, "utcnow", skewed)
        yield


@pytest.mark.parametrize("skew", [True, False], ids=["skewed", "correct"])
def test_clocks_decide_nothing(skew: bool, laptops: Callable[..., Laptop]) -> None:
    fast = timedelta(days=730) if skew else timedelta(0)
    slow = timedelta(days=-3) if skew else timedelta(0)
    a, b, cid = _pair(laptops)
    with _clock(fast):
        a.edit("contact", cid, role="from the fast laptop")
        a.sync()
    with _clock(slow):
        b.edit("contact", cid, role="from the slow laptop")
        b.sync()
    with _clock(fast):
        a.sync()
    for lap in (a, b):
        # The later arrival wins, whatever the clocks said.
        assert lap.get("contact", cid).role == "from the slow laptop"
        assert _conflicts(lap) == [("field", "role", "from the slow laptop", "from the fast laptop")]


def test_reapply_a_set_aside_value(laptops: Callable[..., Laptop]) -> None:
    from sync.conflicts import reapply

    a, b, cid = _pair(laptops)
    a.edit("contact", cid, role="Mine")
    b.edit("contact", cid, role="Theirs")
    a.sync()
    _converge(b, a)
    with a.db.read() as s:
        [record] = list_conflicts(s)
    with a.db.write() as s:
        reapply(s, record.id)
    _converge(a, b)
    assert a.get("contact", cid).role == b.get("contact", cid).role == "Mine"
    with a.db.read() as s:
        assert list_conflicts(s) == []  # dismissed here once re-applied
