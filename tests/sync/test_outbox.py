"""Exactly-once push at its edges: an id spent on a change the server had but can no longer take,
a replayed id with other content, strict ids, one UUID spelling, one sync per database at a time.
Real server process on SQLite and PostgreSQL throughout.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from sync.errors import ServerUnreachable, SyncBusy
from sync.lock import lock_path, sync_lock
from sync.server import tables
from sync.status import list_rejections
from sync.store import K_CLIENT, K_EPOCH
from tests.support.sync_support import FaultyTransport, Laptop, ServerProcess, contact, raw_post, sync_state


def _results(srv: ServerProcess, username: str) -> list[tuple[int, str]]:
    """(mid, status) of every stored result of the user's laptop, in id order."""
    with srv.admin().read() as conn:
        found = conn.execute(
            select(tables.results.c.mid, tables.results.c.status)
            .join(tables.clients, tables.clients.c.id == tables.results.c.client_id)
            .join(tables.users, tables.users.c.id == tables.clients.c.user_id)
            .where(tables.users.c.name == username)
            .order_by(tables.results.c.mid)
        )
        return [(int(m), s) for m, s in found]


def test_change_applied_with_its_answer_lost_then_too_large_is_not_lost(
    laptops: Callable[..., Laptop], server: ServerProcess
) -> None:
    """Issue 10 item 6: the server applies a 40 kB change, its answer is lost, the server comes
    back with a 24 kB body limit. The laptop cannot send the change again; it spends the id
    with a skip, learns the server has it, and the change made after it gets its own id."""
    ann, bob = laptops("ann"), laptops("bob")
    big = ann.add(contact("Big", about=os.urandom(20_000).hex()))
    t = FaultyTransport()
    t.add("/push", "hook_after", server.kill)  # committed, then the answer and the server are gone
    with pytest.raises(ServerUnreachable):
        ann.sync(t, retries=1)
    t.close()
    later = ann.add(contact("Later"))
    server.max_body = 24_000
    server.start()
    summary = ann.sync()
    assert summary.rejected == 0 and ann.outbox() == 0
    with ann.db.read() as s:
        assert list_rejections(s) == []  # the server has it: nothing to list as refused
    assert _results(server, ann.username) == [(1, "applied"), (2, "applied")]
    bob.sync()
    assert bob.get("contact", big).name == "Big"
    assert bob.get("contact", later).name == "Later"


def _push_body(lap: Laptop, *mutations: dict[str, Any]) -> dict[str, Any]:
    return {
        "client_id": sync_state(lap, K_CLIENT),
        "epoch": sync_state(lap, K_EPOCH),
        "mutations": list(mutations),
    }


def _create(mid: Any, row: str, **patch: Any) -> dict[str, Any]:
    return {"mid": mid, "entity": "contact", "row_id": row, "op": "create", "patch": patch, "base": {}}


def test_replayed_id_with_other_content_is_refused_in_words(laptops: Callable[..., Laptop]) -> None:
    """Issue 10 item 7: the stored result answers only the mutation it was stored for."""
    ann = laptops("ann")
    ann.sync()  # registers
    first, other = str(uuid.uuid4()), str(uuid.uuid4())
    original = _push_body(ann, _create(1, first, name="First"))
    applied = raw_post(ann, "/push", original).json()["results"][0]
    assert applied["status"] == "applied"
    for forged in (
        _create(1, other, name="Second"),  # another row under the same id
        _create(1, first, name="Renamed"),  # the same row, other values
        {**_create(1, first, name="First"), "op": "update"},
    ):
        resp = raw_post(ann, "/push", _push_body(ann, forged))
        assert resp.status_code == 200
        [result] = resp.json()["results"]
        assert result["status"] == "rejected"
        assert "mutation id 1 was already used for a different change" in result["reason"]
    # The same bytes again still get the stored answer, and a skip asks what became of the id.
    assert raw_post(ann, "/push", original).json()["results"][0] == applied
    skip = {**_create(1, first), "op": "skip", "patch": {}}
    assert raw_post(ann, "/push", _push_body(ann, skip)).json()["results"][0] == applied
    bob = laptops("bob")
    bob.sync()
    assert bob.count() == 1 and bob.get("contact", uuid.UUID(first)).name == "First"


@pytest.mark.parametrize("mid", ["1", True, 1.0, "one"])
def test_mutation_ids_are_json_integers(mid: Any, laptops: Callable[..., Laptop]) -> None:
    ann = laptops("ann")
    ann.sync()
    row = str(uuid.uuid4())
    resp = raw_post(ann, "/push", _push_body(ann, _create(mid, row, name="Typed")))
    assert resp.status_code == 422
    assert raw_post(ann, "/register", {"first_mid": mid}).status_code == 422
    # Nothing was stored under the id: mutation 1 is still free.
    assert (
        raw_post(ann, "/push", _push_body(ann, _create(1, row, name="Typed"))).json()["results"][0]["status"]
        == "applied"
    )


def test_one_uuid_spelling(laptops: Callable[..., Laptop], tag: str) -> None:
    """A row id in another spelling names the same row (parsed on both ends, stored canonical);
    a reference inside a patch must be canonical, or that one change is refused."""
    ann = laptops("ann")
    ann.sync()
    row = uuid.uuid4()
    account = uuid.uuid4()
    batch = _push_body(
        ann,
        {**_create(1, str(row).upper(), name="Upper")},
        {"mid": 2, "entity": "contact", "row_id": "{" + str(row) + "}", "op": "update",
         "patch": {"role": "Buyer"}, "base": {"role": ""}},
        {"mid": 3, "entity": "account", "row_id": str(account), "op": "create",
         "patch": {"name": "Acme"}, "base": {}},
        _create(4, str(uuid.uuid4()), name="Braced ref", account_id="{" + str(account).upper() + "}"),
        _create(5, str(uuid.uuid4()), name="Plain ref", account_id=str(account)),
    )  # fmt: skip
    results = raw_post(ann, "/push", batch).json()["results"]
    assert [r["status"] for r in results] == ["applied", "applied", "applied", "rejected", "applied"]
    assert "account_id" in results[3]["reason"]
    stored = ann.server.rows(f"team:north-{tag}")
    assert ("contact", str(row)) in stored and stored[("contact", str(row))].data["role"] == "Buyer"
    assert {key[1] for key in stored} == {key[1].lower() for key in stored}
    bob = laptops("bob")
    bob.sync()
    assert bob.count() == 2 and bob.get("contact", row).role == "Buyer"


class _Gate(httpx.BaseTransport):
    """The real transport, but the first push waits until the test opens the gate."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.reached = threading.Event()
        self.gate = threading.Event()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/push") and not self.reached.is_set():
            self.reached.set()
            assert self.gate.wait(60)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def test_one_sync_per_database_at_a_time(laptops: Callable[..., Laptop]) -> None:
    """Issue 10 item 8: a second sync of the same file (another Database object and client, as
    the GUI's timer and `main.py sync` would have) waits for the first, or says so in words."""
    ann = laptops("ann")
    ids = [ann.add(contact(f"L{i}")) for i in range(30)]
    gate = _Gate(httpx.HTTPTransport())
    outcome: dict[str, Any] = {}

    def first() -> None:
        try:
            outcome["first"] = ann.sync(gate)
        except BaseException as exc:  # handed to the test thread
            outcome["first"] = exc

    worker = threading.Thread(target=first)
    worker.start()
    try:
        assert gate.reached.wait(60)
        other = Laptop(ann.path, ann.server, ann.username)  # its own engines, like another process
        other.token = ann.token
        try:
            with pytest.raises(SyncBusy, match="Another sync of this database is already running"):
                other.sync(lock_wait=0.3)
            # Released while the second one waits: it goes ahead.
            threading.Timer(0.5, gate.gate.set).start()
            second = other.sync(lock_wait=30)
        finally:
            other.close()
    finally:
        gate.gate.set()
        worker.join(60)
    assert not isinstance(outcome["first"], BaseException), outcome["first"]
    assert outcome["first"].pushed == 30 and second.pushed == 0
    assert _results(ann.server, ann.username) == [(m, "applied") for m in range(1, 31)]
    assert ann.outbox() == 0 and ann.count() == 30
    assert not lock_path(ann.path).exists()  # nothing left beside the database
    bob = laptops("bob")
    bob.sync()
    assert sorted(bob.get("contact", i).name for i in ids) == sorted(f"L{i}" for i in range(30))


def test_sync_lock_is_per_file_and_leaves_no_file(tmp_path: Any) -> None:
    a, b = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    with sync_lock(a, wait=0), sync_lock(b, wait=0), pytest.raises(SyncBusy), sync_lock(a, wait=0.2):
        pass
    assert not lock_path(a).exists() and not lock_path(b).exists()
