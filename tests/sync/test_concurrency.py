"""Concurrent pushes from many clients to the same rows: no lost update (invariant 5).

On PostgreSQL, read committed, two push transactions can both read a row before either writes
it; the later one would then merge against a stale copy and drop the earlier one's change. The
server prevents that by locking the version counter before it reads the rows it merges
(``counter.lock()`` in ``sync.server.ops.push``). These tests fail when that lock is removed: they
were run without it (PostgreSQL lost additions and conflict records) before being kept.

Each client pushes straight to the server (hand-made bodies, so every push is in flight at the
same moment instead of waiting behind a laptop's pull), starting together at a barrier.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from models.entities import Contact
from sync.conflicts import list_conflicts
from tests.support.sync_support import Laptop, contact, raw_post

USERS = 4
CLIENTS_PER_USER = 3  # 12 clients, each its own server-side client row (no lock shared between them)


@dataclass
class Client:
    """One registered client id of a user: what a laptop holds, minus the laptop."""

    lap: Laptop
    client_id: str
    epoch: str
    next_mid: int = 1
    statuses: list[str] = field(default_factory=list)

    def push(self, mutation: dict[str, Any]) -> None:
        body = {
            "client_id": self.client_id,
            "epoch": self.epoch,
            "mutations": [{**mutation, "mid": self.next_mid}],
        }
        resp = raw_post(self.lap, "/push", body)
        assert resp.status_code == 200, resp.text
        self.statuses += [r["status"] for r in resp.json()["results"]]
        self.next_mid += 1


def _clients(laptops: Callable[..., Laptop]) -> list[Client]:
    out: list[Client] = []
    for u in range(USERS):
        lap = laptops(f"rep{u}")
        for _ in range(CLIENTS_PER_USER):
            reg = raw_post(lap, "/register", {"first_mid": 1})
            assert reg.status_code == 200, reg.text
            out.append(Client(lap, reg.json()["client_id"], reg.json()["epoch"]))
    return out


def _all_at_once(clients: list[Client], work: Callable[[int, Client], None]) -> None:
    """Run ``work`` for every client on its own thread, released together."""
    gate = threading.Barrier(len(clients))

    def run(i: int) -> None:
        gate.wait(timeout=30)
        work(i, clients[i])

    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        for future in [pool.submit(run, i) for i in range(len(clients))]:
            future.result()


def test_concurrent_tag_additions_are_all_kept(laptops: Callable[..., Laptop]) -> None:
    """Every client adds its own tags to the same contacts, never having seen the others'
    additions: the set merge must keep every one of them."""
    owner = laptops("owner")
    rows = [owner.add(contact(f"Shared {r}", tags=["start"])) for r in range(2)]
    owner.sync()
    clients = _clients(laptops)
    rounds = 6

    def add_tags(i: int, client: Client) -> None:
        seen: dict[uuid.UUID, list[str]] = {row: ["start"] for row in rows}  # what this client holds
        for n in range(rounds):
            for row in rows:
                new = [*seen[row], f"c{i}-{n}"]
                client.push(
                    {
                        "entity": "contact",
                        "row_id": str(row),
                        "op": "update",
                        "patch": {"tags": new},
                        "base": {"tags": seen[row]},
                    }
                )
                seen[row] = new

    _all_at_once(clients, add_tags)
    assert {s for c in clients for s in c.statuses} == {"applied"}
    owner.sync()
    expected = {"start"} | {f"c{i}-{n}" for i in range(len(clients)) for n in range(rounds)}
    for row in rows:
        got: Contact = owner.get("contact", row)
        missing = expected - set(got.tags)
        assert not missing, f"{len(missing)} concurrent tag additions lost, e.g. {sorted(missing)[:5]}"
        assert len(got.tags) == len(expected)  # and none added twice


def test_concurrent_edits_of_one_field_keep_every_overwritten_value(laptops: Callable[..., Laptop]) -> None:
    """Every client sets the same field of the same contacts, each starting from the value it
    synced ("start"): one value is written last and each of the others, overwritten, is in exactly
    one conflict record. A push that merged against a stale row would overwrite silently."""
    owner = laptops("owner")
    rows = [owner.add(contact(f"Contested {r}", role="start")) for r in range(4)]
    owner.sync()
    clients = _clients(laptops)

    def set_role(i: int, client: Client) -> None:
        for row in rows:
            client.push(
                {
                    "entity": "contact",
                    "row_id": str(row),
                    "op": "update",
                    "patch": {"role": f"c{i}"},
                    "base": {"role": "start"},
                }
            )

    _all_at_once(clients, set_role)
    owner.sync()
    with owner.db.read() as session:
        conflicts = [c for c in list_conflicts(session) if c.field == "role"]
    pushed = {f"c{i}" for i in range(len(clients))}
    for row in rows:
        final = owner.get("contact", row).role
        assert final in pushed
        here = [c for c in conflicts if c.row_id == row]
        lost = sorted(c.lost for c in here)
        # The first arrival overwrote "start" (its base: no conflict); every later one overwrote
        # a value its sender never saw, so each pushed value but the last was set aside once.
        assert lost == sorted(pushed - {final}), f"row {row}: set aside {lost}, final {final}"
        assert len(here) == len(clients) - 1
    statuses = [s for c in clients for s in c.statuses]
    assert statuses.count("applied") == len(rows) and statuses.count("conflict") == len(conflicts)
