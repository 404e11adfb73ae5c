"""Reminders' check: median time of one ``due_reminders`` query (it runs every minute, off the
GUI thread), on a big database.

    python main.py demo --db /tmp/big.sqlite --contacts 100000     # once (takes a few minutes)
    python bench/reminders_bench.py --db /tmp/big.sqlite

Read-only. There is no target in the issue; a check should cost little next to a minute.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models.db import open_database
from models.services.reminders import birthdays, coming_visits, due_commitments, due_reminders
from models.types import utcnow


def _median_ms(runs: int, work: object) -> float:
    assert callable(work)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    db = open_database(args.db, backup=False)
    now = utcnow()
    today = now.astimezone().date()
    with db.read() as s:
        found = due_reminders(s, today=today, now=now)
        print(f"{len(found)} reminders due now ({today})")
        parts = {
            "commitments due today": lambda: due_commitments(s, today),
            "visits within the hour": lambda: coming_visits(s, now),
            "birthdays today": lambda: birthdays(s, today),
            "all (one check)": lambda: due_reminders(s, today=today, now=now),
        }
        for label, work in parts.items():
            print(f"{label:>24}: {_median_ms(args.runs, work):7.1f} ms median of {args.runs}")
    db.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
