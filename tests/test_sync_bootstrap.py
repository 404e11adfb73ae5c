"""A new laptop's first pull loads rows with the derived-data triggers suspended: afterwards the
search index, last-contact dates and the triggers themselves must be exactly as if every row
had been written one by one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from models.entities import Note
from models.services import contacts
from sync.errors import ServerUnreachable
from tests.sync_support import (
    FaultyTransport,
    Laptop,
    backend,
    contact,
    laptops,
    shared_server,
    tag,
)

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
    for i in range(5):
        ann.add(contact(f"Person {i}"))
    ann.sync()
    before = _triggers(bob)
    cut = FaultyTransport()
    pulls = [0]

    def cut_after_two_pages(request: httpx.Request) -> None:
        if request.url.path.endswith("/pull"):
            pulls[0] += 1
            if pulls[0] > 2:
                raise httpx.ConnectError("connection cut (test)", request=request)

    cut.every = cut_after_two_pages
    with pytest.raises(ServerUnreachable):
        bob.sync(transport=cut, page_size=1, retries=0)
    assert _triggers(bob) == before
    assert bob.count() == 2  # two pages arrived before the cut, and they are searchable
    with bob.db.read() as s:
        assert contacts.count_contacts(s, "person") == 2


__all__ = ["backend", "laptops", "shared_server", "tag"]
