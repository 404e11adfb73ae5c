"""Today on the 100,000-contact, 1,000,000-note database (issue 12: built in under 200 ms).

Prints figures; never asserts. Usage:

    python bench/today_bench.py --db COPY.sqlite [--runs 7]

Give it a COPY of the benchmark database (it migrates it, timing the migrations: 0007's
backfill, 0015's kept check-ins and indexes; and adds synthetic rows the sections need for
volume: recent purchases, feedback, thank-yous, snoozes, referrals, cadence defaults by kind and
tier). Run again on the same copy
to time the board alone (the rows are added once: a meta key records it).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from models.db import needs_migration, open_database  # noqa: E402
from models.entities import (  # noqa: E402
    Appreciation,
    Commitment,
    Contact,
    Feedback,
    Meta,
    Purchase,
    Snooze,
)
from models.services import cadence, today  # noqa: E402

SEEDED = "bench.today_seeded"


def seed(db_path: Path, day: date) -> None:
    db = open_database(db_path, backup=False)
    rng = random.Random(12)
    with db.write() as s:
        if s.get(Meta, SEEDED) is not None:
            db.close()
            return
        ids = list(s.scalars(select(Contact.id).where(Contact.deleted_at.is_(None))))
        now = datetime.now(UTC)
        pick = rng.sample(ids, 6000)
        # 2,000 purchases in the last 45 days (thanks and both follow-ups), 1,500 recent feedback
        # (a third detractors), 1,000 thank-yous (some for those purchases), 1,000 referrals,
        # 2,000 snoozes and dismissals, 500 "they" promises kept in the last weeks.
        purchases = [
            Purchase(
                purchased_on=day - timedelta(days=rng.randrange(45)),
                product=f"Product {i % 40}",
                contact_id=pick[i],
            )
            for i in range(2000)
        ]
        s.add_all(purchases)
        s.add_all(
            Feedback(
                received_at=now - timedelta(days=rng.randrange(90), hours=rng.randrange(24)),
                score=rng.randrange(11),
                contact_id=pick[2000 + i],
            )
            for i in range(1500)
        )
        s.flush()
        s.add_all(
            Appreciation(
                given_at=now - timedelta(days=rng.randrange(30)),
                reason="purchase",
                reason_id=purchases[i].id,
                contact_id=purchases[i].contact_id,
            )
            for i in range(1000)
        )
        for i in range(1000):
            referred = s.get(Contact, pick[3500 + i])
            assert referred is not None
            referred.referred_by_id = pick[4500 + i]
            referred.created_at = now - timedelta(days=rng.randrange(60))
        s.add_all(
            Commitment(
                what="Send the forecast",
                direction="they",
                due_date=day - timedelta(days=rng.randrange(20)),
                status="done",
                done_at=now - timedelta(days=rng.randrange(25)),
                contact_id=pick[5500 + i % 500],
            )
            for i in range(500)
        )
        s.add_all(
            Snooze(
                item=f"checkin:{ids[rng.randrange(len(ids))]}",
                until=None if i % 4 == 0 else day + timedelta(days=1 + rng.randrange(14)),
            )
            for i in range(2000)
        )
        cadence.save_defaults(
            s,
            cadence.CadenceDefaults(
                kinds={"customer": cadence.Cadence(30, 90), "partner": cadence.Cadence(60, 180)},
                tiers={"A": cadence.Cadence(14, 45)},
            ),
        )
        s.add(Meta(key=SEEDED, value=True))
    db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    day = date.today()
    if needs_migration(args.db):
        started = time.perf_counter()
        open_database(args.db, backup=False).close()
        print(f"migration to head: {time.perf_counter() - started:.1f} s")
    seed(args.db, day)
    db = open_database(args.db, backup=False)
    with db.read() as s:
        contacts = s.scalar(select(func.count()).select_from(Contact))
    samples: list[float] = []
    cpu: list[float] = []
    first: list[float] = []
    for _ in range(args.runs + 1):
        with db.read() as s:
            started, used = time.perf_counter(), time.process_time()
            board = today.today_board(s, day)
            samples.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - used) * 1000)
        with db.read() as s:
            started = time.perf_counter()
            today.today_first(s, day)
            first.append((time.perf_counter() - started) * 1000)
    # Each section alone, to say where the time goes.
    per_section: dict[str, list[float]] = {}
    per_section_cpu: dict[str, list[float]] = {}  # the machine is often shared: CPU says more
    for name, fn in (
        ("checkins", lambda s, h: today._checkins(s, day)),
        ("dates", lambda s, h: today._dates(s, day)),
        ("thanks", lambda s, h: today._thanks(s, day)),
        ("followups", lambda s, h: today._followups(s, day)),
        ("detractors", lambda s, h: today._detractors(s, day)),
        ("commitments", lambda s, h: today._commitments(s, day)),
        ("kept rate", lambda s, h: today.kept_rate(s, day)),
    ):
        for _ in range(args.runs):
            with db.read() as s:
                hidden = today.snoozes.hidden_items(s, day)
                started, used = time.perf_counter(), time.process_time()
                fn(s, hidden)
                per_section.setdefault(name, []).append((time.perf_counter() - started) * 1000)
                per_section_cpu.setdefault(name, []).append((time.process_time() - used) * 1000)
    counts = ", ".join(f"{sec.name} {sec.count:,}" for sec in board.sections)

    # As the app reads it (ui/today_view.py): both steps at once, each in its own read
    # transaction on a thread of its own, as the task runner's two read threads do.
    def step(fn: Callable[[Session, date], object]) -> None:
        with db.read() as s:
            fn(s, day)

    at_once: list[float] = []
    with ThreadPoolExecutor(2) as pool:
        for _ in range(args.runs + 1):
            started = time.perf_counter()
            for future in [pool.submit(step, today.today_first), pool.submit(step, today.today_later)]:
                future.result()
            at_once.append((time.perf_counter() - started) * 1000)
    warm = samples[1:]
    print(f"{contacts:,} contacts; sections: {counts}")
    print(
        f"Today built ({len(warm)} warm runs): median {statistics.median(warm):.0f} ms "
        f"(CPU {statistics.median(cpu[1:]):.0f} ms), min {min(warm):.0f}, max {max(warm):.0f}; "
        f"first (cold) {samples[0]:.0f} ms"
    )
    print(
        f"  first step shown (visits, commitments, check-ins, dates): "
        f"median {statistics.median(first[1:]):.0f} ms"
    )
    print(
        f"Today as the app reads it (both steps at once, two read threads): "
        f"median {statistics.median(at_once[1:]):.0f} ms, "
        f"min {min(at_once[1:]):.0f}, max {max(at_once[1:]):.0f}"
    )
    print(f"  load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for name, times in per_section.items():
        print(
            f"  {name}: median {statistics.median(times):.1f} ms "
            f"(CPU {statistics.median(per_section_cpu[name]):.1f} ms)"
        )
    db.close()


if __name__ == "__main__":
    main()
