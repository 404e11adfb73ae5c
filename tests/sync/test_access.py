"""Scenarios 10-12: scopes (moving an account between teams, forged ids), tokens and versions,
and bad bodies. Real server process on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from models.entities import Account, Note
from models.types import utcnow
from sync.errors import AuthRejected, VersionMismatch
from sync.protocol import API, PROTOCOL, PROTOCOL_HEADER
from sync.server import tables
from sync.status import list_rejections
from sync.store import K_CLIENT, K_EPOCH, SyncStore
from tests.support.sync_support import Laptop, ServerProcess, admin_cli, contact


def _raw(lap: Laptop, path: str, payload: Any, *, protocol: int = PROTOCOL, **kw: Any) -> httpx.Response:
    headers = {
        PROTOCOL_HEADER: str(protocol),
        "Authorization": f"Bearer {lap.token}",
        **kw.pop("headers", {}),
    }
    return httpx.post(
        f"{lap.server.base}{API}{path}", headers=headers, timeout=30, **({"json": payload} | kw)
    )


def _ids(lap: Laptop) -> tuple[str, str]:
    store = SyncStore(lap.db)
    try:
        return store.state(K_CLIENT), store.state(K_EPOCH)
    finally:
        store.close()


_admin_cli = admin_cli


def test_account_moved_to_another_team(laptops: Callable[..., Laptop], tag: str) -> None:
    ann, carl = laptops("ann", "north"), laptops("carl", "south")
    acc = ann.add(Account(name="Umbrella"))
    cid = ann.add(contact("Alice", account_id=acc))
    nid = ann.add(Note(summary="Kick-off", contact_id=cid, account_id=acc, occurred_at=utcnow()))
    other = ann.add(contact("Stays with Ann"))
    ann.sync()
    carl.sync()
    assert carl.count("account") == 0  # not his territory yet
    ann.edit("contact", cid, role="pending when the account moves")
    out = _admin_cli(ann.server, "move-account", str(acc), f"south-{tag}")
    assert "moved 3 row(s)" in out.stdout
    carl.sync()
    assert carl.get("account", acc).name == "Umbrella"
    assert carl.get("note", nid).summary == "Kick-off"
    assert carl.get("contact", cid).role == ""
    summary = ann.sync()
    assert summary.rejected == 1
    assert (
        ann.get("account", acc) is None and ann.get("contact", cid) is None and ann.get("note", nid) is None
    )
    assert ann.get("contact", other) is not None
    with ann.db.read() as s:
        [rej] = list_rejections(s)
    assert (rej.entity, rej.row_id, rej.patch) == ("contact", cid, {"role": "pending when the account moves"})
    assert ann.outbox() == 0  # reported, not lost, and the queue is not wedged


def test_forged_id_of_another_teams_row(laptops: Callable[..., Laptop]) -> None:
    ann, eve = laptops("ann", "north"), laptops("eve", "south")
    cid = ann.add(contact("Secret", about="confidential"))
    ann.sync()
    eve.sync()
    client_id, epoch = _ids(eve)
    for op, patch in (("update", {"about": "pwned"}), ("delete", {}), ("create", {"name": "mine now"})):
        mid = {"update": 1, "delete": 2, "create": 3}[op]
        resp = _raw(
            eve,
            "/push",
            {
                "client_id": client_id,
                "epoch": epoch,
                "mutations": [
                    {
                        "mid": mid,
                        "entity": "contact",
                        "row_id": str(cid),
                        "op": op,
                        "patch": patch,
                        "base": {},
                    }
                ],
            },
        )
        assert resp.status_code == 200
        [result] = resp.json()["results"]
        assert result["status"] == "rejected" and "confidential" not in json.dumps(result)
    pulled = _raw(eve, "/pull", {"cursor": None}).json()
    assert pulled["changes"] == [] and str(cid) not in json.dumps(pulled)
    ids = httpx.get(
        f"{eve.server.base}{API}/ids/contact",
        headers={PROTOCOL_HEADER: str(PROTOCOL), "Authorization": f"Bearer {eve.token}"},
    ).json()
    assert ids["ids"] == []
    ann.sync()
    row = ann.get("contact", cid)
    assert (row.about, row.name, row.deleted_at) == ("confidential", "Secret", None)


def test_revoked_and_expired_tokens_and_wrong_password(laptops: Callable[..., Laptop]) -> None:
    ann = laptops("ann")
    ann.add(contact("Kept"))
    out = _admin_cli(ann.server, "revoke", ann.username)
    assert "revoked 1 token(s)" in out.stdout
    with pytest.raises(AuthRejected):
        ann.sync()
    assert ann.outbox() == 1  # nothing lost
    ann.login()
    with ann.server.admin().write() as conn:
        user_id = select(tables.users.c.id).where(tables.users.c.name == ann.username).scalar_subquery()
        conn.execute(
            update(tables.tokens)
            .where(tables.tokens.c.user_id == user_id)
            .values(expires_at="2000-01-01T00:00:00+00:00")
        )
    with pytest.raises(AuthRejected):
        ann.sync()
    assert ann.outbox() == 1
    ann.password = "wrong"
    with pytest.raises(AuthRejected):
        ann.login()
    ann.password = "pw"
    ann.login()
    assert ann.sync().pushed == 1


def test_unsupported_protocol_version(
    laptops: Callable[..., Laptop], monkeypatch: pytest.MonkeyPatch
) -> None:
    ann = laptops("ann")
    ann.add(contact("Waiting"))
    assert _raw(ann, "/pull", {"cursor": None}, protocol=0).status_code == 426
    import sync.transport

    monkeypatch.setattr(sync.transport, "PROTOCOL", 0)
    with pytest.raises(VersionMismatch):
        ann.sync()
    assert ann.outbox() == 1


def test_bad_bodies_get_4xx_and_write_nothing(laptops: Callable[..., Laptop]) -> None:
    ann, bob = laptops("ann"), laptops("bob")
    ann.sync()
    client_id, epoch = _ids(ann)
    good = {
        "mid": 1,
        "entity": "contact",
        "row_id": str(uuid.uuid4()),
        "op": "create",
        "patch": {"name": "ok"},
    }
    bad_bodies: list[tuple[str, dict[str, Any]]] = [
        ("not json", {"content": b"{nope", "headers": {"Content-Type": "application/json"}}),
        (
            "wrong type",
            {"json": {"client_id": client_id, "epoch": epoch, "mutations": [{**good, "mid": "one"}]}},
        ),
        (
            "unknown op",
            {"json": {"client_id": client_id, "epoch": epoch, "mutations": [{**good, "op": "drop"}]}},
        ),
        ("extra key", {"json": {"client_id": client_id, "epoch": epoch, "mutations": [good], "admin": True}}),
        (
            "not gzip",
            {"content": b"xx", "headers": {"Content-Encoding": "gzip", "Content-Type": "application/json"}},
        ),
    ]
    for what, kw in bad_bodies:
        headers = {
            PROTOCOL_HEADER: str(PROTOCOL),
            "Authorization": f"Bearer {ann.token}",
            **kw.pop("headers", {}),
        }
        resp = httpx.post(f"{ann.server.base}{API}/push", headers=headers, timeout=30, **kw)
        assert 400 <= resp.status_code < 500, what
    # A well-formed request whose patch has the wrong types: rejected per mutation, not stored.
    resp = _raw(
        ann,
        "/push",
        {
            "client_id": client_id,
            "epoch": epoch,
            "mutations": [
                {**good, "patch": {"name": 42}},
                {**good, "mid": 2, "patch": {"name": "x", "shoe_size": 9}},
                {**good, "mid": 3, "entity": "con\x00tact"},
            ],
        },
    )
    assert [r["status"] for r in resp.json()["results"]] == ["rejected", "rejected", "rejected"]
    big = {
        "client_id": client_id,
        "epoch": epoch,
        "mutations": [{**good, "mid": 4, "patch": {"name": "y" * 9_000_000}}],
    }
    assert _raw(ann, "/push", big).status_code == 413
    bob.sync()
    assert bob.count() == 0


def test_413_halves_the_batch(laptops: Callable[..., Laptop], limited_server: ServerProcess) -> None:
    ann, bob = laptops("ann"), laptops("bob")
    for i in range(120):
        ann.add(contact(f"Big {i}", about=os.urandom(150).hex()))  # incompressible, ~300 bytes
    summary = ann.sync(batch_size=100)
    assert summary.pushed == 120 and summary.rejected == 0
    bob.sync()
    assert bob.count() == 120


def test_oversized_mutation_mid_outbox_is_skipped_and_its_id_spent(
    laptops: Callable[..., Laptop], limited_server: ServerProcess
) -> None:
    """One mutation in the middle of a long outbox can never pass the 413 limit: its id is spent
    with a skip (the server records it as refused, the laptop lists it), no later change takes
    its id, and each of them reaches the server exactly once with no id gap."""
    ann, bob = laptops("ann"), laptops("bob")
    ids = [
        ann.add(contact(f"R{i}", about=os.urandom(20_000).hex() if i == 23 else ""))  # 40 kB
        for i in range(60)
    ]
    summary = ann.sync(batch_size=50)
    assert summary.rejected == 1 and summary.pushed == 60
    assert ann.outbox() == 0
    with ann.db.read() as s:
        [rej] = list_rejections(s)
    assert (rej.row_id, rej.mid) == (ids[23], 24)
    assert "too large for the server" in rej.reason
    # On the server: ids 1..60, each once; 24 refused, the others applied.
    with limited_server.admin().read() as conn:
        [(client_id, last_mid)] = conn.execute(
            select(tables.clients.c.id, tables.clients.c.last_mid)
            .join(tables.users, tables.users.c.id == tables.clients.c.user_id)
            .where(tables.users.c.name == ann.username)
        ).all()
        mine = tables.results.c.client_id == client_id
        results = conn.execute(select(tables.results.c.mid, tables.results.c.status).where(mine)).all()
    assert last_mid == 60
    assert sorted(results) == [(m, "rejected" if m == 24 else "applied") for m in range(1, 61)]
    bob.sync()
    assert bob.count() == 59 and bob.get("contact", ids[23]) is None
    assert sorted(bob.get("contact", i).name for i in ids if i != ids[23]) == sorted(
        f"R{i}" for i in range(60) if i != 23
    )
    # The numbering goes on from there: the next change is id 61, accepted without a gap.
    ann.edit("contact", ids[0], role="after the skip")
    assert ann.sync().pushed == 1
    bob.sync()
    assert bob.get("contact", ids[0]).role == "after the skip"


def test_user_moved_to_another_team(laptops: Callable[..., Laptop], tag: str) -> None:
    ann, carl = laptops("ann", "north"), laptops("carl", "south")
    north = ann.add(contact("North customer"))
    south = carl.add(contact("South customer"))
    ann.sync()
    carl.sync()
    ann.edit("contact", north, role="pending when Ann moves")
    assert "is now in team" in _admin_cli(ann.server, "set-team", ann.username, f"south-{tag}").stdout
    summary = ann.sync()
    assert summary.rejected == 1 and summary.reconciled == 1
    assert ann.get("contact", north) is None  # no longer her territory: dropped from the laptop
    assert ann.get("contact", south).name == "South customer"
    with ann.db.read() as s:
        [rej] = list_rejections(s)
    assert rej.patch == {"role": "pending when Ann moves"}
