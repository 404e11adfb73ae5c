"""Round trips through a real server process: push, pull, pages, exactly-once under faults."""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx
import pytest

from models.errors import Cancelled
from sync.protocol import API, PROTOCOL, PROTOCOL_HEADER
from tests.support.sync_support import Laptop, contact


def test_two_laptops_round_trip(laptops: Callable[..., Laptop]) -> None:
    a, b = laptops("ann"), laptops("bob")
    cid = a.add(contact("Ada Lovelace", tags=["vip"]))
    sa = a.sync()
    assert (sa.pushed, sa.rejected) == (1, 0)
    assert a.outbox() == 0
    sb = b.sync()
    assert sb.pulled == 1
    got = b.get("contact", cid)
    assert got.name == "Ada Lovelace" and got.tags == ["vip"]
    assert b.outbox() == 0  # pulled rows are not queued back
    assert a.snapshot() == b.snapshot()


def test_first_sync_progress_cancel_and_resume(laptops: Callable[..., Laptop]) -> None:
    """A new laptop's snapshot: cancelled half-way, the batches before stay and it resumes there."""
    a, b = laptops("ann"), laptops("bob")
    for i in range(30):
        a.add(contact(f"R{i}"))
    a.sync()
    cancel = threading.Event()
    seen: list[tuple[str, int, int | None]] = []

    def progress(phase: str, done: int, total: int | None) -> None:
        seen.append((phase, done, total))
        if phase == "download" and done >= 20:
            cancel.set()  # the rep pressed Cancel after the second batch

    with pytest.raises(Cancelled), b.client(snapshot_batch=10, progress=progress, cancel=cancel) as client:
        client.sync()
    assert b.count() == 20  # two batches kept, with the position reached
    assert seen[0] == ("download", 0, 30)  # the header says how much is coming
    assert [d for p, d, _t in seen[1:]] == [10, 20]
    resumed: list[tuple[str, int, int | None]] = []
    b.sync(snapshot_batch=10, progress=lambda *args: resumed.append(args))
    assert resumed[0] == ("download", 20, 30)  # resumed where it stopped, not from zero
    assert b.count() == 30
    assert a.snapshot() == b.snapshot()


def test_pull_progress_cancel_and_resume(laptops: Callable[..., Laptop]) -> None:
    a, b = laptops("ann"), laptops("bob")
    b.sync()  # b is set up: what follows comes by paged pulls
    for i in range(30):
        a.add(contact(f"R{i}"))
    a.sync()
    cancel = threading.Event()
    seen: list[tuple[str, int, int | None]] = []

    def progress(phase: str, done: int, total: int | None) -> None:
        seen.append((phase, done, total))
        if phase == "pull" and len(seen) == 2:
            cancel.set()  # the rep pressed Cancel after the second page

    with pytest.raises(Cancelled), b.client(page_size=10, progress=progress, cancel=cancel) as client:
        client.sync()
    assert 0 < b.count() < 30  # the pages before the cancel are kept, with their cursor
    assert [p for p, _d, _t in seen] == ["pull", "pull"]
    assert seen[0][1] < seen[1][1] <= (seen[1][2] or 0)
    b.sync(page_size=10)
    assert b.count() == 30
    assert a.snapshot() == b.snapshot()


def test_responses_are_gzipped(laptops: Callable[..., Laptop]) -> None:
    a = laptops("ann")
    for i in range(50):
        a.add(contact(f"Z{i}", about="the same words again and again " * 4))
    a.sync()
    resp = httpx.post(
        f"{a.server.base}{API}/pull",
        json={"cursor": None},
        headers={
            PROTOCOL_HEADER: str(PROTOCOL),
            "Authorization": f"Bearer {a.token}",
            "Accept-Encoding": "gzip",
        },
        timeout=30,
    )
    assert resp.status_code == 200 and resp.headers["content-encoding"] == "gzip"
    assert len(resp.json()["changes"]) == 50
