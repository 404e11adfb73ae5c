"""Round trips through a real server process: push, pull, pages, exactly-once under faults."""

from __future__ import annotations

from collections.abc import Callable

from sync.protocol import API
from tests.sync_support import (
    FaultyTransport,
    Laptop,
    ServerProcess,
    backend,
    contact,
    laptops,
    server,
    shared_server,
    tag,
)


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
