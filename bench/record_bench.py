"""Speed of the record lane's reads on the 100,000-contact database: an account's purchases
(items, last order, 12-month totals per currency) and a contact's feedback, purchases and
thank-yous (the contact page's tabs), median over random rows and for the busiest ones.

    cp /tmp/rapport-bench/big-0005.sqlite /tmp/big.sqlite     # never the shared copy itself
    python bench/record_bench.py --db /tmp/big.sqlite

The big database holds no thank-yous: ``--thanks N`` adds N synthetic ones (once, to your copy)
spread over random contacts. Targets: the account page whole under 150 ms (issue 12), so these
parts should take a few milliseconds.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select, text

from models.db import Database, open_database
from models.entities import Appreciation, Contact, Purchase
from models.services import appreciation, feedback, purchases


def add_thanks(db: Database, count: int, rng: random.Random) -> None:
    with db.write() as s:
        if int(s.scalar(select(func.count()).select_from(Appreciation)) or 0) >= count:
            return
        ids = list(s.scalars(text("SELECT id FROM contacts ORDER BY random() LIMIT 20000")))
        now = datetime.now(UTC)
        rows = [
            {
                "id": uuid.uuid4().hex,
                "at": (now - timedelta(days=rng.randint(0, 900))).isoformat(sep=" "),
                "kind": rng.choice(["note", "gift", "call", "event"]),
                "contact": rng.choice(ids),
            }
            for _ in range(count)
        ]
        # Plain inserts: a bench fixture, not a rep's change (no outbox entries wanted).
        s.execute(
            text(
                "INSERT INTO appreciations (id, created_at, updated_at, given_at, kind, reason, summary,"
                " contact_id) VALUES (:id, :at, :at, :at, :kind, 'other', 'Thanks', :contact)"
            ),
            rows,
        )


def median_ms(fn: Callable[[], object], runs: list[object]) -> float:
    times = []
    for arg in runs:
        start = time.perf_counter()
        fn(arg)  # type: ignore[call-arg]
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--thanks", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    db = open_database(args.db)
    add_thanks(db, args.thanks, rng)
    today = date.today()
    with db.read() as s:
        account_ids = [uuid.UUID(str(a)) for a in s.scalars(text("SELECT id FROM accounts"))]
        busiest_account = s.scalar(
            select(Purchase.account_id)
            .where(Purchase.account_id.is_not(None))
            .group_by(Purchase.account_id)
            .order_by(func.count().desc())
            .limit(1)
        )
        busiest_contact = s.scalar(
            select(Purchase.contact_id)
            .where(Purchase.contact_id.is_not(None))
            .group_by(Purchase.contact_id)
            .order_by(func.count().desc())
            .limit(1)
        )
        top = int(s.scalar(text("SELECT max(rowid) FROM contacts")) or 0)
        contact_ids = [
            c
            for c in (
                s.scalar(select(Contact.id).where(text("rowid = :r")), {"r": rng.randint(1, top)})
                for _ in range(args.runs * 2)
            )
            if c is not None
        ][: args.runs]
        counts = {
            name: int(s.scalar(select(func.count()).select_from(cls)) or 0)
            for name, cls in (("purchases", Purchase), ("thank-yous", Appreciation))
        }

        def account(a: object) -> object:
            return purchases.account_purchases(s, a, today)  # type: ignore[arg-type]

        def contact(c: object) -> object:
            cid = c  # type: ignore[assignment]
            return (
                feedback.list_feedback(s, contact_id=cid),  # type: ignore[arg-type]
                purchases.list_purchases(s, contact_id=cid),  # type: ignore[arg-type]
                appreciation.list_thanks(s, cid),  # type: ignore[arg-type]
            )

        def lasts(c: object) -> object:
            return feedback.last_feedback(s, c), appreciation.last_thanks(s, c)  # type: ignore[arg-type]

        sample = rng.sample(account_ids, min(args.runs, len(account_ids)))
        print(f"database: {counts['purchases']:,} purchases, {counts['thank-yous']:,} thank-yous")
        print(f"account purchases, random accounts: {median_ms(account, sample):.2f} ms median")
        print(
            f"account purchases, busiest account: {median_ms(account, [busiest_account] * 10):.2f} ms median"
        )
        print(f"contact record (3 tabs), random contacts: {median_ms(contact, contact_ids):.2f} ms median")
        print(f"contact record, busiest buyer: {median_ms(contact, [busiest_contact] * 10):.2f} ms median")
        print(f"last feedback + last thanks: {median_ms(lasts, contact_ids):.2f} ms median")
    db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
