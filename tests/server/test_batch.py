"""Server changes made for speed: one push batch read once and applied in memory, the token
checked inside each request's transaction, several server processes on one port."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from sync.protocol import API, PROTOCOL, PROTOCOL_HEADER
from sync.server import tables
from sync.server.workers import TcpConfig
from tests.support.sync_support import Backend, Laptop, ServerProcess, contact


def _post(lap: Laptop, path: str, payload: dict[str, Any]) -> httpx.Response:
    headers = {PROTOCOL_HEADER: str(PROTOCOL), "Authorization": f"Bearer {lap.token}"}
    return httpx.post(f"{lap.server.base}{API}{path}", json=payload, headers=headers, timeout=30)


def _register(lap: Laptop) -> tuple[str, str]:
    reg = _post(lap, "/register", {"first_mid": 1}).json()
    return reg["client_id"], reg["epoch"]


def _row(lap: Laptop, entity: str, row_id: str) -> Any:
    with lap.server.admin().read() as conn:
        return conn.execute(
            select(tables.rows).where(tables.rows.c.entity == entity, tables.rows.c.id == row_id)
        ).one()


def test_one_batch_sees_its_own_earlier_mutations(laptops: Callable[..., Laptop]) -> None:
    """Each mutation of a batch merges against the row as the batch's earlier mutations left it
    (the server keeps the batch's rows in memory, so this is what could go stale)."""
    ann = laptops("ann")
    client_id, epoch = _register(ann)
    acc, con, note, orphan = (str(uuid.uuid4()) for _ in range(4))
    when = "2026-11-30T09:00:00+00:00"

    def m(entity: str, row_id: str, op: str, patch: Any = None, base: Any = None) -> dict[str, Any]:
        return {"entity": entity, "row_id": row_id, "op": op, "patch": patch or {}, "base": base or {}}

    mutations = [
        m("account", acc, "create", {"name": "Acme"}),
        m("contact", con, "create", {"name": "Ada", "account_id": acc}),
        # Child of a parent made earlier in this batch: no orphan report.
        m("note", note, "create", {"summary": "met", "occurred_at": when, "contact_id": con}),
        m("contact", con, "update", {"role": "Buyer"}, {"role": ""}),
        # Based on the value the previous mutation wrote: no conflict.
        m("contact", con, "update", {"role": "CFO"}, {"role": "Buyer"}),
        m("contact", con, "update", {"tags": ["vip"]}, {"tags": []}),
        m("contact", con, "update", {"tags": ["vip", "new"]}, {"tags": ["vip"]}),
        m("contact", con, "delete"),
        # Deleted earlier in this batch: the edit is kept in a record, the row stays deleted.
        m("contact", con, "update", {"about": "late"}, {"about": ""}),
        # A child of the contact deleted just before: kept, and reported as an orphan.
        m("note", orphan, "create", {"summary": "x", "occurred_at": when, "contact_id": con}),
        m("contact", con, "restore"),
        m("contact", con, "update", {"name": "Ada L."}, {"name": "Ada"}),
    ]
    for mid, m in enumerate(mutations, start=1):
        m["mid"] = mid
    resp = _post(ann, "/push", {"client_id": client_id, "epoch": epoch, "mutations": mutations})
    assert resp.status_code == 200, resp.text
    results = resp.json()["results"]
    assert [r["status"] for r in results] == [
        "applied", "applied", "applied", "applied", "applied", "applied", "applied", "applied",
        "conflict", "conflict", "applied", "applied",
    ]  # fmt: skip
    versions = [r["version"] for r in results]
    # Every result names the row's version right after its mutation: rising along the batch.
    assert versions[1] < versions[3] < versions[4] < versions[7] < versions[10] < versions[11]
    row = _row(ann, "contact", con)
    assert row.version == versions[11] and row.deleted_at is None
    assert (row.data["name"], row.data["role"], row.data["tags"]) == ("Ada L.", "CFO", ["vip", "new"])
    assert "about" not in row.data or row.data["about"] in ("", None)
    assert _row(ann, "note", orphan).data["contact_id"] == con
    with ann.server.admin().read() as conn:
        found = conn.execute(select(tables.conflicts).where(tables.conflicts.c.row_id.in_([con, orphan])))
        kinds = sorted((c.kind, c.row_id) for c in found)
    assert kinds == sorted([("delete_edit", con), ("orphan", orphan)])
    # The same batch again: the stored results, nothing applied twice.
    again = _post(ann, "/push", {"client_id": client_id, "epoch": epoch, "mutations": mutations})
    assert again.json()["results"] == results
    assert _row(ann, "contact", con).version == versions[11]


def test_a_logged_out_token_is_refused_at_once(laptops: Callable[..., Laptop]) -> None:
    """The token is looked up in each request's own transaction: nothing remembers it."""
    ann = laptops("ann")
    client_id, epoch = _register(ann)
    pull = {"client_id": client_id, "cursor": None}
    assert _post(ann, "/pull", pull).status_code == 200
    assert _post(ann, "/logout", {}).status_code == 204
    row_id = str(uuid.uuid4())
    create = {"mid": 1, "entity": "contact", "row_id": row_id, "op": "create", "patch": {"name": "x"}}
    for path, body in (
        ("/pull", pull),
        ("/push", {"client_id": client_id, "epoch": epoch, "mutations": [create]}),
        ("/register", {"first_mid": 1}),
    ):
        resp = _post(ann, path, body)
        assert (resp.status_code, resp.json()["reason"]) == (401, "bad_token"), path
    with ann.server.admin().read() as conn:
        assert conn.scalar(select(tables.clients.c.last_mid).where(tables.clients.c.id == client_id)) == 0


def test_several_server_processes_share_one_database(backend: Backend, tmp_path: Path, tag: str) -> None:
    srv = ServerProcess(backend.new_url(), tmp_path / "server.log", workers=2)
    srv.start()
    laps: list[Laptop] = []
    try:
        for name in ("ann", "bob"):
            srv.add_user(f"{name}-{tag}", team=f"north-{tag}")
            lap = Laptop(tmp_path / f"{name}.sqlite", srv, f"{name}-{tag}")
            lap.login()
            laps.append(lap)
        ann, bob = laps
        for round_no in range(5):
            ann.add(contact(f"Ann {round_no}"))
            bob.add(contact(f"Bob {round_no}"))
            ann.sync()
            bob.sync()
        ann.sync()
        assert ann.snapshot() == bob.snapshot()
        assert ann.count() == 10 and ann.outbox() == bob.outbox() == 0
    finally:
        for lap in laps:
            lap.close()
        srv.stop()
        srv.close_admin()


def test_worker_connections_get_tcp_nodelay() -> None:
    """Without TCP_NODELAY every response of a multi-process server waited 40 ms (Nagle)."""
    config = TcpConfig("sync.server.workers:worker_app", host="127.0.0.1", port=0)
    sock = config.bind_socket()
    nodelay: list[int] = []

    async def check() -> None:
        def accepted() -> asyncio.Protocol:
            class Probe(asyncio.Protocol):
                def connection_made(self, transport: asyncio.BaseTransport) -> None:
                    conn = transport.get_extra_info("socket")
                    nodelay.append(conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                    transport.close()

            return Probe()

        server = await asyncio.get_running_loop().create_server(accepted, sock=sock)
        async with server:
            _reader, writer = await asyncio.open_connection(*sock.getsockname())
            while not nodelay:
                await asyncio.sleep(0.01)
            writer.close()

    asyncio.run(asyncio.wait_for(check(), 10))
    assert nodelay == [1]
