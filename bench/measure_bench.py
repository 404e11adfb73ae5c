"""Relationship health, the account page and the rep's insights on a large database.

    cp /tmp/rapport-bench/big-0005.sqlite /tmp/big.sqlite      # a copy: the app migrates it
    QT_QPA_PLATFORM=offscreen python bench/measure_bench.py --db /tmp/big.sqlite

Prints medians of: health for every contact (``all_scores``), the rep's insights over 12
months, an account page's data (people, commitments, timeline, health, stakeholder map, trends)
and that page filled in a real AccountsView (map, charts painted). The account pages are the
accounts with the most people (the slowest), and random ones. The big database holds no
thank-yous: the bench adds one per 5 contacts (in its copy) the first time, for the sheets.
Targets (issue 12): health for all contacts < 2 s; an account page < 150 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, select, text

from models.db import Database, open_database
from models.entities import Account, Appreciation, Contact
from models.services.briefing import contact_sheet
from models.services.health import all_scores
from models.services.insights import rep_trends


def median_ms(fn: Callable[[], object], runs: int) -> tuple[float, float, float]:
    """Median and max wall time, and median CPU time of this process (on a shared machine the
    wall time counts the waits for a core; the CPU time is what the work itself took)."""
    times, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return statistics.median(times), max(times), statistics.median(cpu)


def add_thanks(db: Database, rng: random.Random) -> None:
    with db.write() as s:
        if s.scalar(select(func.count()).select_from(Appreciation)):
            return
        ids = list(s.scalars(text("SELECT id FROM contacts WHERE rowid % 5 = 0")))
        now = datetime.now(UTC)
        rows = [
            {
                "id": uuid.uuid4(),
                "created_at": now,
                "updated_at": now,
                "given_at": now - timedelta(days=rng.randint(0, 700)),
                "kind": rng.choice(["note", "gift", "call", "event"]),
                "reason": "other",
                "summary": "Thank-you card",
                "contact_id": uuid.UUID(str(cid)),
            }
            for cid in ids
        ]
        s.execute(insert(Appreciation), rows)
    print(f"added {len(rows):,} thank-yous")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=5, help="runs of the all-contacts health")
    parser.add_argument("--pages", type=int, default=20, help="account pages timed")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    rng = random.Random(args.seed)
    db = open_database(args.db)
    add_thanks(db, rng)
    today = date.today()
    with db.read() as s:
        total = int(s.scalar(select(func.count()).select_from(Contact)) or 0)
        biggest = list(
            s.scalars(
                select(Contact.account_id)
                .where(Contact.account_id.is_not(None), Contact.deleted_at.is_(None))
                .group_by(Contact.account_id)
                .order_by(func.count().desc())
                .limit(args.pages // 2)
            )
        )
        accounts = list(s.scalars(select(Account.id).where(Account.deleted_at.is_(None))))
    print(f"{args.db}: {total:,} contacts, {len(accounts):,} accounts")

    def scores() -> object:
        with db.read() as s:
            return all_scores(s, today)

    scores()  # warm the page cache: a rep's laptop has read its database before
    ms, worst, cpu = median_ms(scores, args.runs)
    print(
        f"health of every contact (n={args.runs}): median {ms:.0f} ms (CPU {cpu:.0f} ms), max {worst:.0f} ms"
    )

    def insights() -> object:
        with db.read() as s:
            return rep_trends(s, today, today - timedelta(days=364), today)

    ms, _worst, cpu = median_ms(insights, args.runs)
    print(f"the rep's insights over 12 months (n={args.runs}): median {ms:.0f} ms (CPU {cpu:.0f} ms)")

    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv[:1])
    from ui.accounts_view import AccountsView, load_account_page
    from ui.context import AppContext
    from ui.errors import ErrorPresenter

    ctx = AppContext(db, ErrorPresenter(log_file=Path("/tmp/rapport-bench.log")))
    view = AccountsView(ctx)
    view.resize(1200, 680)
    view.show()
    chosen = biggest + rng.sample(accounts, args.pages - len(biggest))
    load, fill, cpu_all = [], [], []
    for account_id in chosen:
        start, start_cpu = time.perf_counter(), time.process_time()
        with db.read() as s:
            page = load_account_page(s, account_id, today)
        mid = time.perf_counter()
        view.people.set_rows(page.people)
        view.owed.set_rows(page.commitments)
        view.timeline.set_rows(page.notes)
        view._show_insights(page.insights)
        # Paint the page as first shown (health, trust, the map), then the charts tab.
        view.tabs.setCurrentIndex(0)
        view.grab()
        view.tabs.setCurrentWidget(view.charts)
        view.charts.grab()
        app.processEvents()
        end = time.perf_counter()
        cpu_all.append((time.process_time() - start_cpu) * 1000)
        load.append((mid - start) * 1000)
        fill.append((end - mid) * 1000)
    half = len(biggest)
    print(
        f"account page data (n={len(load)}): median {statistics.median(load):.0f} ms, max {max(load):.0f} ms;"
        f" the {half} biggest accounts median {statistics.median(load[:half]):.0f} ms"
    )
    print(f"filling it, painting map and charts (n={len(fill)}): median {statistics.median(fill):.0f} ms")
    totals = [a + b for a, b in zip(load, fill, strict=True)]
    print(
        f"an account page in all: median {statistics.median(totals):.0f} ms"
        f" (CPU {statistics.median(cpu_all):.0f} ms), max {max(totals):.0f} ms"
    )

    with db.read() as s:
        ids = list(s.scalars(text("SELECT id FROM contacts WHERE rowid % 997 = 0 LIMIT 30")))

    def sheets() -> None:
        with db.read() as s:
            for cid in ids:
                contact_sheet(s, uuid.UUID(str(cid)), today)

    ms, _worst, _cpu = median_ms(sheets, 3)
    print(f"gathering a contact's sheet, with health and thank-you: {ms / len(ids):.1f} ms each")
    view.close()
    ctx.tasks.wait_idle()
    db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
