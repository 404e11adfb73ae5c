"""A new laptop's first pull loads rows with the derived-data triggers suspended: afterwards the
search index, last-contact dates and the triggers themselves must be exactly as if every row
had been written one by one."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from models.entities import Note
from models.services import contacts
from sync.errors import ServerUnreachable
from tests.support.sync_support import CutBodyTransport, Laptop, contact, raw_snapshot

WHEN = datetime(2026, 10, 5, 14, 0, tzinfo=UTC)


def _triggers(lap: Laptop) -> set[str]:
    return {r.name for r in lap.table("sqlite_master") if r.type == "trigger"}


def test_first_pull_leaves_search_last_contact_and_triggers_right(laptops: Callable[..., Laptop]) -> None:
    ann, bob = laptops("ann"), laptops("bob")
    cid = ann.add(contact("Xavier Quillfeather"))
    ann.add(Note(summary="Tasting at the plant", contact_id=cid, occurred_at=WHEN))
    ann.sync()
    before = _triggers(bob)
    summary = bob.sync(page_size=1)  # one row per page: many transactions while suspended
    assert summary.pulled == 2
    assert _triggers(bob) == before
    with bob.db.read() as s:
        (row,) = contacts.list_contacts(s, "quillf")
        assert row.id == cid and row.last_contact_at == WHEN
    # Local edits after the first pull are indexed by the triggers again.
    bob.add(contact("Yolanda Zephyrine"))
    with bob.db.read() as s:
        assert [r.name for r in contacts.list_contacts(s, "zephy")] == ["Yolanda Zephyrine"]


def test_a_first_pull_that_fails_still_restores_the_triggers(laptops: Callable[..., Laptop]) -> None:
    ann, bob = laptops("ann"), laptops("bob")
    for i in range(40):
        ann.add(contact(f"Person {i}", about=os.urandom(600).hex()))  # incompressible: a long body
    ann.sync()
    before = _triggers(bob)
    full = len(raw_snapshot(bob))
    cut = CutBodyTransport("/snapshot", limit=full // 2, times=10)
    with pytest.raises(ServerUnreachable):
        bob.sync(transport=cut, snapshot_batch=5, retries=0)
    assert _triggers(bob) == before
    kept = bob.count()
    assert 0 < kept < 40  # the batches before the cut arrived, and they are searchable
    with bob.db.read() as s:
        assert contacts.count_contacts(s, "person") == kept
