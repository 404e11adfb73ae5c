"""Sync speed on loopback: a new laptop's first sync, and an incremental sync (100 changes each way).

    python bench/sync_bench.py [--contacts N --notes N --commitments N] [--runs 3] [--database-url URL]

The server runs as a real uvicorn process (SQLite by default). Its rows are seeded straight into
its database (as if pushed earlier), then laptops sync through the real client (a first sync is
the streamed snapshot). Also prints how far that stands from the machine's limit: a bare bulk
copy of the same rows from the server's database into a fresh local one, plus moving the
snapshot's bytes through a bare loopback socket.
"""

from __future__ import annotations

import argparse
import gc
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
from sqlalchemy import Text, cast, insert, select, update

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from models.bulk import restore_derived, suspend_derived  # noqa: E402
from models.db import open_database  # noqa: E402
from models.entities import Contact  # noqa: E402
from sync.fields import entity_fields  # noqa: E402
from sync.protocol import API, PROTOCOL, PROTOCOL_HEADER  # noqa: E402
from sync.server import auth, tables  # noqa: E402
from sync.server.db import ServerDB  # noqa: E402
from sync.snapshot import insert_sql, storage_row  # noqa: E402
from tests.support.sync_support import Laptop, ServerProcess  # noqa: E402


def seed(url: str, contacts: int, notes: int, commitments: int) -> None:
    db = ServerDB(url)
    db.migrate()
    now = datetime.now(UTC)
    version = 0
    with db.write() as conn:
        auth.add_user(conn, "bench", "pw", team="bench", manager=False)
        auth.add_user(conn, "other", "pw", team="bench", manager=False)
        contact_ids = [str(uuid.uuid4()) for _ in range(contacts)]

        def rows(entity: str, n: int, make: object) -> None:
            nonlocal version
            batch = []
            for i in range(n):
                version += 1
                data = make(i)  # type: ignore[operator]
                batch.append(
                    dict(
                        entity=entity,
                        id=data.pop("_id", str(uuid.uuid4())),
                        scope="team:bench",
                        data=data,
                        version=version,
                        deleted_at=None,
                        deleted_version=None,
                        updated_at=now.isoformat(),
                        writer="bench",
                    )
                )
                if len(batch) == 5000:
                    conn.execute(insert(tables.rows), batch)
                    batch = []
            if batch:
                conn.execute(insert(tables.rows), batch)

        rows(
            "contact",
            contacts,
            lambda i: {
                "_id": contact_ids[i],
                "name": f"Contact {i}",
                "kind": "customer",
                "account_id": None,
                "role": "Buyer",
                "emails": [f"c{i}@example.com"],
                "phones": [],
                "address": "1 Main St",
                "birthday": None,
                "personal_dates": [],
                "preferences": "",
                "needs": "",
                "tags": ["a"],
                "about": "",
                "cadence_days": 30,
            },
        )
        rows(
            "note",
            notes,
            lambda i: {
                "occurred_at": (now - timedelta(days=i % 700)).isoformat(),
                "channel": "call",
                "summary": f"Call {i}",
                "body": "Talked about the renewal and next quarter's volumes.",
                "contact_id": contact_ids[i % contacts],
                "account_id": None,
            },
        )
        rows(
            "commitment",
            commitments,
            lambda i: {
                "direction": "we",
                "what": f"Send quote {i}",
                "due_date": "2027-01-01",
                "status": "open",
                "done_at": None,
                "contact_id": contact_ids[i % contacts],
                "account_id": None,
            },
        )
        conn.execute(update(tables.counter).values(version=version))
    db.close()


def bare_copy(url: str, target: Path) -> tuple[float, float]:
    """The floor: the same rows read from the server database and bulk-inserted locally.

    No HTTP, no JSON lines, no resumable batches: one read, the same value conversion a laptop
    needs (sync.snapshot.storage_row), executemany in id order, derived data suspended and rebuilt
    once. Returns (copy seconds, of which rebuilding the search index and secondary indexes).
    """
    db = ServerDB(url)
    local = open_database(target, backup=False)
    gc.disable()  # as the first sync does: no cycle collections over 450,000 fresh tuples
    start = time.perf_counter()
    with db.read() as conn, local.write_engine.begin() as out:
        suspend_derived(out)
        for entity in entity_fields():  # parents first: the local foreign keys are on
            stmt = select(
                tables.rows.c.id,
                tables.rows.c.version,
                tables.rows.c.deleted_at,
                tables.rows.c.updated_at,
                cast(tables.rows.c.data, Text),
            ).where(tables.rows.c.entity == entity)
            batch = [
                storage_row(entity, {"i": i, "v": v, "x": x is not None, "u": u, "d": orjson.loads(d)})
                for i, v, x, u, d in conn.execute(stmt)
            ]
            if batch:
                out.exec_driver_sql(insert_sql(entity), sorted(batch, key=lambda r: str(r[-5])))
        rebuild = time.perf_counter()
        restore_derived(out)
        rebuilt = time.perf_counter() - rebuild
    elapsed = time.perf_counter() - start
    gc.enable()
    local.close()
    db.close()
    return elapsed, rebuilt


def loopback_transfer(size: int) -> float:
    """Seconds to move ``size`` bytes through a loopback TCP connection (the wire's floor)."""
    chunk = os.urandom(1 << 20)
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]

        def send() -> None:
            with socket.create_connection(("127.0.0.1", port)) as out:
                left = size
                while left > 0:
                    out.sendall(chunk[: min(left, len(chunk))])
                    left -= len(chunk)

        sender = threading.Thread(target=send)
        start = time.perf_counter()
        sender.start()
        conn, _ = listener.accept()
        got = 0
        with conn:
            while got < size:
                data = conn.recv(1 << 20)
                if not data:
                    break
                got += len(data)
        sender.join()
        return time.perf_counter() - start


def snapshot_bytes(lap: Laptop) -> tuple[int, int, float]:
    """(compressed, uncompressed, seconds) of the laptop's whole snapshot, read and discarded."""
    headers = {PROTOCOL_HEADER: str(PROTOCOL), "Authorization": f"Bearer {lap.token}"}
    start = time.perf_counter()
    with httpx.stream("POST", f"{lap.server.base}{API}/snapshot", json={}, headers=headers, timeout=120) as r:
        wire = sum(len(c) for c in r.iter_raw())
    elapsed = time.perf_counter() - start
    with httpx.stream("POST", f"{lap.server.base}{API}/snapshot", json={}, headers=headers, timeout=120) as r:
        plain = sum(len(c) for c in r.iter_bytes())
    return wire, plain, elapsed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--notes", type=int, default=30_000)
    parser.add_argument("--commitments", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="sync-bench-"))
    url = args.database_url or f"sqlite:///{tmp / 'server.sqlite'}"
    t0 = time.perf_counter()
    seed(url, args.contacts, args.notes, args.commitments)
    total = args.contacts + args.notes + args.commitments
    print(f"seeded {total:,} rows in {time.perf_counter() - t0:.1f} s ({url.split(':')[0]})")
    server = ServerProcess(url, tmp / "server.log")
    server.start()
    try:
        firsts = []
        for run in range(args.runs):
            lap = Laptop(tmp / f"first-{run}.sqlite", server, "bench")
            lap.login()
            start = time.perf_counter()
            summary = lap.sync(page_size=5000)
            firsts.append(time.perf_counter() - start)
            assert summary.pulled == total, summary
            lap.close()
        first = statistics.median(firsts)
        print(f"first sync of {total:,} rows: median {first:.2f} s ({total / first:,.0f} rows/s)")
        copies = [bare_copy(url, tmp / f"bare-{i}.sqlite") for i in range(args.runs)]
        floor = statistics.median(c for c, _r in copies)
        rebuilt = statistics.median(r for _c, r in copies)
        lap = Laptop(tmp / "bytes.sqlite", server, "bench")
        lap.login()
        wire, plain, streamed = snapshot_bytes(lap)
        lap.close()
        transfer = statistics.median(loopback_transfer(wire) for _ in range(args.runs))
        print(
            f"bare bulk copy {'SQLite' if url.startswith('sqlite') else 'PostgreSQL'} to SQLite: "
            f"median {floor:.2f} s "
            f"(of which rebuilding search and indexes {rebuilt:.2f} s)"
        )
        print(
            f"snapshot: {wire / 1e6:.1f} MB on the wire ({plain / 1e6:.1f} MB of JSON lines), "
            f"served and read in {streamed:.2f} s; the same bytes over a bare loopback socket "
            f"{transfer:.3f} s"
        )
        print(f"first sync / (bare copy + loopback transfer): {first / (floor + transfer):.2f}x")

        me = Laptop(tmp / "me.sqlite", server, "bench")
        other = Laptop(tmp / "other.sqlite", server, "other")
        for lap in (me, other):
            lap.login()
        me.sync(page_size=5000)
        other.sync(page_size=5000)
        incs = []
        for run in range(max(args.runs, 5)):
            with other.db.write() as s:
                for i in range(100):
                    s.add(Contact(name=f"Theirs {run}-{i}"))
            other.sync()
            with me.db.write() as s:
                for i in range(100):
                    s.add(Contact(name=f"Mine {run}-{i}"))
            start = time.perf_counter()
            summary = me.sync()
            incs.append(time.perf_counter() - start)
            assert summary.pushed == 100 and summary.pulled >= 100, summary
        print(f"incremental sync, 100 changes each way: median {statistics.median(incs) * 1000:.0f} ms")
        me.close()
        other.close()
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
