"""The bootstrap snapshot: a new laptop's first sync streams every row of its territory.

The fast loader must store exactly what the paged pull stores; the stream must survive cuts and
a killed server, resume where it stopped, and leave nothing out that changed meanwhile.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select, update

from models.db import open_database
from models.entities import Contact, Note, sync_conflicts, synced_class
from models.services import contacts
from models.types import utcnow
from sync.apply import PageCounts, apply_rows
from sync.errors import ServerUnreachable
from sync.fields import entity_fields
from sync.protocol import API, PROTOCOL, PROTOCOL_HEADER, SNAPSHOT_MEDIA_TYPE, RowChange
from sync.server import tables
from sync.snapshot import SnapshotLoader
from sync.store import K_CURSOR, K_SNAPSHOT, SyncStore
from tests.support.sync_support import (
    CutBodyTransport,
    Laptop,
    ServerProcess,
    contact,
    raw_snapshot,
    sync_state,
)


def _wire_value(kind: str, variant: int) -> Any:
    """Values in every shape the wire may carry them, including ones only a parser handles."""
    if kind == "str":
        return ['Zoë "quoted" ✓ 北京', "", "plain"][variant % 3]
    if kind == "int":
        return [7, 0, -3][variant % 3]
    if kind == "uuid":
        value = uuid.uuid4()
        return [str(value), str(value).upper(), value.hex][variant % 3]
    if kind == "datetime":
        return [
            "2026-11-29T08:15:00.123456+00:00",
            "2026-11-29T08:15:00+00:00",
            "2026-11-29T10:15:00.5+02:00",
        ][variant % 3]
    if kind == "date":
        return ["2027-01-31", "2027-02-01", "2027-03-15"][variant % 3]
    return [["é", "b"], [], [{"label": "Anniversary", "date": "2020-05-01"}]][variant % 3]


def _lines() -> list[dict[str, Any]]:
    out = []
    for entity, fields in entity_fields().items():
        # A document from before some field existed: the default applies.
        optional = [n for n, spec in fields.items() if spec.nullable or spec.default is not None]
        for variant in range(3):
            doc: dict[str, Any] = {}
            for name, spec in fields.items():
                if variant == 1 and spec.nullable:
                    doc[name] = None
                elif variant == 2 and name in optional[:2]:
                    continue
                else:
                    doc[name] = _wire_value(spec.kind, variant)
            out.append(
                {
                    "s": "team:x",
                    "e": entity,
                    "i": str(uuid.uuid4()) if variant != 1 else str(uuid.uuid4()).upper(),
                    "v": 10 + variant,
                    "x": variant == 1,
                    "u": _wire_value("datetime", variant),
                    "d": doc,
                }
            )
    return out


def _raw_rows(path: Path, entity: str) -> list[tuple[Any, ...]]:
    import sqlite3

    table = synced_class(entity).__table__.name  # type: ignore[attr-defined]
    with sqlite3.connect(path) as conn:
        return sorted(conn.execute(f"SELECT * FROM {table}").fetchall(), key=repr)


def test_fast_loader_stores_exactly_what_the_paged_pull_stores(tmp_path: Path) -> None:
    lines = _lines()
    fast_path, slow_path = tmp_path / "fast.sqlite", tmp_path / "slow.sqlite"
    for path in (fast_path, slow_path):
        open_database(path, backup=False).close()
    fast = SyncStore(open_database(fast_path, backup=False))
    with fast.tx() as s:
        assert SnapshotLoader(s).load(s, lines) == len(lines)
    fast.close()
    slow = SyncStore(open_database(slow_path, backup=False))
    with slow.tx() as s:
        for line in lines:
            table = synced_class(line["e"]).__table__  # type: ignore[attr-defined]
            change = RowChange(
                entity=line["e"],
                id=uuid.UUID(line["i"]),
                version=line["v"],
                deleted=line["x"],
                data=line["d"],
                updated_at=line["u"],
            )
            apply_rows(s, table, line["e"], [change], [], {}, PageCounts())
    slow.close()
    for entity in entity_fields():
        got, want = _raw_rows(fast_path, entity), _raw_rows(slow_path, entity)
        assert len(got) == 3
        assert got == want, entity


def _post_snapshot(lap: Laptop, body: dict[str, Any], token: str | None = "") -> httpx.Response:
    headers = {PROTOCOL_HEADER: str(PROTOCOL)}
    if token is not None:
        headers["Authorization"] = f"Bearer {token or lap.token}"
    return httpx.post(f"{lap.server.base}{API}/snapshot", json=body, headers=headers, timeout=30)


def test_stream_is_gzipped_ndjson_of_my_territory_only(laptops: Callable[..., Laptop]) -> None:
    ann, bob, eve = laptops("ann"), laptops("bob"), laptops("eve", team="south")
    mine = {ann.add(contact(f"North {i}")) for i in range(3)}
    ann.sync()
    eve.add(contact("South secret"))
    eve.sync()
    resp = _post_snapshot(bob, {})
    assert resp.status_code == 200
    assert resp.headers["content-encoding"] == "gzip"
    assert resp.headers["content-type"].startswith(SNAPSHOT_MEDIA_TYPE)
    lines = [json.loads(line) for line in resp.text.splitlines()]
    header, rows, end = lines[0]["header"], lines[1:-1], lines[-1]["end"]
    assert header["total"] == 3 == end["rows"] == len(rows)
    assert {uuid.UUID(r["i"]) for r in rows} == mine  # nothing of the south team's
    assert all(r["e"] == "contact" and r["v"] <= header["upper"] for r in rows)
    assert "South secret" not in resp.text

    assert _post_snapshot(bob, {}, token=None).status_code == 401
    gone = _post_snapshot(bob, {"epoch": "an epoch from before a restore"})
    assert gone.status_code == 410 and gone.json()["reason"] == "epoch_changed"
    assert _post_snapshot(bob, {"upper": "lots"}).status_code == 422


def test_a_cut_download_resumes_after_the_last_batch_kept(laptops: Callable[..., Laptop]) -> None:
    ann, bob = laptops("ann"), laptops("bob")
    for i in range(60):
        ann.add(contact(f"Person {i}", about=os.urandom(400).hex()))  # incompressible: a long body
    ann.sync()
    full = len(raw_snapshot(bob))
    cut = CutBodyTransport("/snapshot", limit=full // 2, times=1)
    summary = bob.sync(transport=cut, snapshot_batch=10)
    assert summary.pulled == 60 and bob.count() == 60
    assert ann.snapshot() == bob.snapshot()
    first, second = (json.loads(body) for body in cut.bodies)
    # The second request starts after the last row of the last batch committed before the cut.
    assert first["after"] is None and first["upper"] is None
    assert second["after"]["version"] > 0 and second["upper"] is not None
    assert sync_state(bob, K_SNAPSHOT) is None and sync_state(bob, K_CURSOR)["version"] == second["upper"]


def test_rows_changed_during_the_download_come_with_the_pull_after_it(
    laptops: Callable[..., Laptop],
) -> None:
    ann, bob = laptops("ann"), laptops("bob")
    ids = [ann.add(contact(f"Person {i}")) for i in range(30)]
    ann.sync()
    changed = {"done": False}

    def meanwhile(phase: str, done: int, total: int | None) -> None:
        # While bob downloads, ann renames a row bob has already received and one still to come,
        # deletes another and adds a new one: all of it is above the snapshot's upper bound.
        if phase == "download" and done == 10 and not changed["done"]:
            changed["done"] = True
            ann.edit("contact", ids[0], name="Renamed early")
            ann.edit("contact", ids[-1], name="Renamed late")
            ann.edit("contact", ids[15], deleted_at=utcnow())
            ann.add(contact("Added meanwhile"))
            ann.sync()

    bob.sync(snapshot_batch=10, progress=meanwhile)
    assert changed["done"]
    assert bob.get("contact", ids[0]).name == "Renamed early"
    assert bob.get("contact", ids[-1]).name == "Renamed late"
    assert bob.get("contact", ids[15]).deleted_at is not None
    assert ann.snapshot() == bob.snapshot()


def test_a_new_laptop_gets_the_teams_conflict_records(laptops: Callable[..., Laptop]) -> None:
    ann, bob = laptops("ann"), laptops("bob")
    cid = ann.add(contact("Ada"))
    ann.sync()
    bob.sync()
    ann.edit("contact", cid, role="Buyer")
    bob.edit("contact", cid, role="Chief buyer")
    ann.sync()
    bob.sync()
    ann.sync()
    carl = laptops("carl")
    summary = carl.sync()
    assert summary.conflicts == 1
    assert _conflicts(carl) == _conflicts(ann) != []


def _conflicts(lap: Laptop) -> list[tuple[Any, ...]]:
    with lap.db.read() as s:
        return sorted(tuple(r)[:-1] for r in s.execute(select(sync_conflicts)))


def test_rows_already_here_keep_their_pending_edits(laptops: Callable[..., Laptop]) -> None:
    """A re-download onto a full laptop (cursor lost) goes through the merge-aware path."""
    ann, bob = laptops("ann"), laptops("bob")
    ids = [ann.add(contact(f"Person {i}")) for i in range(20)]
    ann.sync()
    bob.sync()
    store = SyncStore(bob.db)
    with store.tx() as s:
        store.put(s, K_CURSOR, None)  # as after a 410 cursor_expired
    store.close()

    def edit_mid_download(phase: str, done: int, total: int | None) -> None:
        if phase == "download" and done == 0:
            bob.edit("contact", ids[5], role="Edited on the road")

    bob.sync(snapshot_batch=5, progress=edit_mid_download)
    assert bob.get("contact", ids[5]).role == "Edited on the road"  # not overwritten by the download
    _search_is_exact(bob)  # rows updated in place during the download: still indexed right
    assert _found(bob, "road") == {ids[5]}
    assert bob.count() == 20
    bob.sync()
    ann.sync()
    assert ann.get("contact", ids[5]).role == "Edited on the road"
    assert ann.snapshot() == bob.snapshot()


def _seed_big(srv: ServerProcess, team: str, count: int) -> None:
    """``count`` contacts with incompressible text, written straight into the server database
    (megabytes of body: more than the sockets buffer, so a kill really cuts the stream)."""
    now = datetime.now(UTC).isoformat()
    defaults = {name: spec.default for name, spec in entity_fields()["contact"].items()}
    with srv.admin().write() as conn:
        version = int(conn.scalar(select(tables.counter.c.version)) or 0)
        batch = []
        for i in range(count):
            version += 1
            doc = {**defaults, "name": f"Big {i}", "about": os.urandom(3000).hex()}
            batch.append(
                dict(
                    entity="contact",
                    id=str(uuid.uuid4()),
                    scope=f"team:{team}",
                    data=doc,
                    version=version,
                    deleted_at=None,
                    deleted_version=None,
                    updated_at=now,
                    writer="seed",
                )
            )
        conn.execute(insert(tables.rows), batch)
        conn.execute(update(tables.counter).values(version=version))


def test_server_killed_during_the_download(
    laptops: Callable[..., Laptop], server: ServerProcess, tag: str
) -> None:
    ann = laptops("ann")
    ann.add(contact("Known before"))
    ann.sync()
    _seed_big(server, f"north-{tag}", 3000)  # ~18 MB of gzip
    bob = laptops("bob")
    killed = {"at": -1}

    def kill_after_first_batch(phase: str, done: int, total: int | None) -> None:
        if phase == "download" and done > 0 and killed["at"] < 0:
            killed["at"] = done
            server.kill()

    with pytest.raises(ServerUnreachable):
        bob.sync(snapshot_batch=500, progress=kill_after_first_batch, retries=1)
    kept = bob.count()
    assert 0 < killed["at"] <= kept < 3001  # what was committed before the kill stays
    server.start()
    resumed: list[int] = []
    bob.sync(snapshot_batch=500, progress=lambda phase, done, total: resumed.append(done))
    assert resumed[0] == kept  # picked up where it stopped
    assert bob.count() == 3001
    ann.sync()
    assert ann.snapshot() == bob.snapshot()


def _search_is_exact(lap: Laptop) -> None:
    """FTS5's own check of each full-text index against its table's rows (raises if not)."""
    with lap.db.write_engine.begin() as conn:
        for table in ("contacts", "accounts", "notes", "commitments"):
            conn.exec_driver_sql(f"INSERT INTO {table}_fts({table}_fts, rank) VALUES ('integrity-check', 1)")


def _found(lap: Laptop, query: str) -> set[uuid.UUID]:
    with lap.db.read() as s:
        return {c.id for c in contacts.list_contacts(s, query)}


def test_what_the_rep_writes_during_a_first_sync_is_searchable(laptops: Callable[..., Laptop]) -> None:
    """The search index's triggers are suspended during the download and the index rebuilt at
    the end; the rep's own writes meanwhile (a new contact, a rename of a row already
    downloaded) must be found too."""
    ann, bob = laptops("ann"), laptops("bob")
    ids = [ann.add(contact(f"Person {i}")) for i in range(30)]
    ann.sync()
    mine: list[uuid.UUID] = []

    def meanwhile(phase: str, done: int, total: int | None) -> None:
        if phase == "download" and done == 10 and not mine:
            mine.append(bob.add(contact("Written Meanwhile")))
            bob.edit("contact", ids[0], name="Renamed Ontheroad")

    bob.sync(snapshot_batch=10, progress=meanwhile)
    assert mine
    _search_is_exact(bob)
    assert _found(bob, "meanwhile") == {mine[0]}
    assert _found(bob, "ontheroad") == {ids[0]}
    assert _found(bob, "person") == set(ids[1:])
    bob.sync()
    ann.sync()
    assert _found(ann, "ontheroad") == {ids[0]} and ann.snapshot() == bob.snapshot()


def test_a_contact_and_its_notes_arrive_searchable(laptops: Callable[..., Laptop]) -> None:
    ann, bob = laptops("ann"), laptops("bob")
    cid = ann.add(contact("Quentin Snapshot"))
    when = datetime.now(UTC) - timedelta(days=3)
    ann.add(Note(summary="Tasting", contact_id=cid, occurred_at=when))
    ann.sync()
    bob.sync()
    got = bob.get("contact", cid)
    assert isinstance(got, Contact) and got.last_contact_at == when
    with bob.db.read() as s:
        assert [c.id for c in contacts.list_contacts(s, "quentin snap")] == [cid]
