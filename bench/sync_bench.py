"""Sync speed on loopback: a new laptop's first sync, and an incremental sync (100 changes each way).

    python bench/sync_bench.py [--contacts N --notes N --commitments N] [--runs 3] [--database-url URL]

The server runs as a real uvicorn process (SQLite by default). Its rows are seeded straight into
its database (as if pushed earlier), then laptops sync through the real client. Also prints the
ratio of the first sync to a bare bulk copy of the same rows into a fresh local database.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, update

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from models.bulk import bulk_load  # noqa: E402
from models.db import open_database  # noqa: E402
from models.entities import Commitment, Contact, Note  # noqa: E402
from sync.fields import entity_fields  # noqa: E402
from sync.server import auth, tables  # noqa: E402
from sync.server.db import ServerDB  # noqa: E402
from sync.store import from_wire  # noqa: E402
from tests.sync_support import Laptop, ServerProcess  # noqa: E402


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


def bare_copy(url: str, target: Path) -> float:
    """The same rows, read from the server database and bulk-inserted locally: the floor."""
    db = ServerDB(url)
    local = open_database(target, backup=False)
    specs = entity_fields()
    start = time.perf_counter()
    # The floor loads the way a first sync does: derived data rebuilt once (models/bulk.py).
    with db.read() as conn, local.write_engine.begin() as out, bulk_load(out):
        for cls in (Contact, Note, Commitment):
            entity = cls.__entity__
            table = cls.__table__  # type: ignore[attr-defined]
            batch = []
            for row in conn.execute(tables.rows.select().where(tables.rows.c.entity == entity)):
                values = {k: from_wire(specs[entity][k].kind, v) for k, v in row.data.items()}
                when = datetime.fromisoformat(row.updated_at)
                batch.append(
                    {
                        **values,
                        "id": uuid.UUID(row.id),
                        "created_at": when,
                        "updated_at": when,
                        "deleted_at": None,
                        "server_version": row.version,
                    }
                )
                if len(batch) == 5000:
                    out.execute(insert(table), batch)
                    batch = []
            if batch:
                out.execute(insert(table), batch)
    elapsed = time.perf_counter() - start
    local.close()
    db.close()
    return elapsed


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
        floor = statistics.median(bare_copy(url, tmp / f"bare-{i}.sqlite") for i in range(args.runs))
        print(f"first sync of {total:,} rows: median {first:.2f} s ({total / first:,.0f} rows/s)")
        print(f"bare bulk copy of the same rows: median {floor:.2f} s; ratio {first / floor:.1f}x")

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
