"""Search speed (Ctrl+K): every prefix of realistic queries, typed letter by letter.

    cp /tmp/rapport-bench/big-0005.sqlite /tmp/mine.sqlite      # never the shared copy: it migrates
    python bench/search_bench.py --db /tmp/mine.sqlite

The queries are taken from the database (fixed seed): contacts' names, words from notes, an
e-mail address, phone numbers typed in their national form, account names and cities. Each
prefix is one ``search()`` in its own read transaction, as the palette runs it. Targets (issue
13): median < 30 ms, 95th percentile < 80 ms. Also timed: the migration to this schema when the
file is older, and the contacts filter (list + count) on words from a note.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models.db import open_database
from models.migrate import head_revision
from models.services.contacts import count_contacts, list_contacts
from models.services.search import search


def _queries(db_path: Path, n: int, seed: int) -> list[str]:
    import sqlite3

    rng = random.Random(seed)
    conn = sqlite3.connect(db_path)
    try:

        def pick(sql: str) -> list[str]:
            rows = [r[0] for r in conn.execute(sql).fetchall() if r[0]]
            return rng.sample(rows, min(n, len(rows)))

        names = pick("SELECT name FROM contacts WHERE rowid % 97 = 0")
        accounts = pick("SELECT name FROM accounts WHERE rowid % 13 = 0")
        note_words = [" ".join(b.split()[:2]) for b in pick("SELECT body FROM notes WHERE rowid % 997 = 0")]
        emails = [json.loads(e)[0] for e in pick("SELECT emails FROM contacts WHERE rowid % 101 = 0")]
        phones = []
        for p in pick("SELECT phones FROM contacts WHERE rowid % 103 = 0"):
            _cc, _sep, rest = json.loads(p)[0].partition(" ")
            phones.append("0" + rest)  # as a rep types a local number
        cities = pick("SELECT location FROM visits")
    finally:
        conn.close()
    per_kind = max(1, n // 5)
    return (
        names[:per_kind]
        + accounts[:per_kind]
        + note_words[:per_kind]
        + emails[: per_kind // 2 or 1]
        + phones[: per_kind // 2 or 1]
        + [c.split(",")[-1].strip() for c in cities[:2]]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--queries", type=int, default=25)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()

    started = time.perf_counter()
    db = open_database(args.db, backup=False)
    opened = time.perf_counter() - started
    print(f"open (migrating to {head_revision()} if older): {opened:.1f} s")
    queries = _queries(args.db, args.queries, args.seed)

    timings: list[tuple[float, str]] = []
    for q in queries:
        for end in range(1, len(q) + 1):
            typed = q[:end]
            t0 = time.perf_counter()
            with db.read() as s:
                search(s, typed)
            timings.append((time.perf_counter() - t0, typed))
    ms = sorted(t * 1000 for t, _ in timings)
    p95 = ms[int(0.95 * (len(ms) - 1))]
    print(f"{len(queries)} queries, {len(ms)} searches typed letter by letter")
    print(f"search: median {statistics.median(ms):.1f} ms, p95 {p95:.1f} ms, max {ms[-1]:.1f} ms")
    print("slowest:", ", ".join(f"{t * 1000:.0f} ms {q!r}" for t, q in sorted(timings, reverse=True)[:6]))

    filter_ms = []
    for q in [q for q in queries if " " in q][:8]:
        t0 = time.perf_counter()
        with db.read() as s:
            list_contacts(s, q)
            count_contacts(s, q)
        filter_ms.append((time.perf_counter() - t0) * 1000)
    if filter_ms:
        print(
            f"contacts filter (list + count), {len(filter_ms)} multi-word queries: "
            f"median {statistics.median(filter_ms):.0f} ms, max {max(filter_ms):.0f} ms"
        )
    db.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
