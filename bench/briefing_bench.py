"""Briefing sheet speed: median time to gather and render one sheet to PDF, and a 20-visit day.

    python main.py demo --db /tmp/big.sqlite --contacts 100000     # once (takes a few minutes)
    QT_QPA_PLATFORM=offscreen python bench/briefing_bench.py --db /tmp/big.sqlite

The day's visits are written in a transaction that is rolled back, so the database is unchanged.
Targets (issue 4): one sheet < 150 ms median, a 20-visit day < 2 s.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, datetime
from datetime import time as clock
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from models.db import open_database
from models.entities import Contact
from models.services.briefing import contact_sheet, day_sheets
from models.services.visits import VisitInput, create_visit


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--day-runs", type=int, default=3)
    parser.add_argument("--visits", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication(sys.argv[:1])  # noqa: F841 (text layout needs an application)
    from ui.printing.render import write_pdf

    rng = random.Random(args.seed)
    db = open_database(args.db)
    out = Path(tempfile.mkdtemp()) / "sheet.pdf"
    with db.read() as s:
        total = int(s.scalar(select(func.count()).select_from(Contact)) or 0)
        top = int(s.scalar(text("SELECT max(rowid) FROM contacts")) or 0)
        ids = []
        while len(ids) < args.runs + 1:
            found = s.scalar(text("SELECT id FROM contacts WHERE rowid = :r"), {"r": rng.randint(1, top)})
            if found:
                ids.append(found)
    print(f"{args.db}: {total:,} contacts")

    gather_ms, render_ms, sheet_ms = [], [], []
    for i, raw in enumerate(ids):
        cid = uuid.UUID(str(raw))  # raw SQL gives the stored hex text
        start = time.perf_counter()
        with db.read() as s:
            sheet = contact_sheet(s, cid)
        mid = time.perf_counter()
        write_pdf([sheet], out)
        end = time.perf_counter()
        if i == 0:
            continue  # the first run loads fonts and the template: not what a rep waits for each time
        gather_ms.append((mid - start) * 1000)
        render_ms.append((end - mid) * 1000)
        sheet_ms.append((end - start) * 1000)
    print(
        f"one sheet (n={len(sheet_ms)}): median {statistics.median(sheet_ms):.0f} ms "
        f"(gather {statistics.median(gather_ms):.0f} ms + render {statistics.median(render_ms):.0f} ms), "
        f"max {max(sheet_ms):.0f} ms"
    )

    day = date(2099, 6, 1)  # a day no demo visit uses
    with db.read() as s:
        pool = [
            r[0] for r in s.execute(select(Contact.id).where(Contact.account_id.is_not(None)).limit(2000))
        ]
    day_s = []
    for _ in range(args.day_runs):
        session = Session(db.write_engine)
        try:
            with session.begin():
                for k in range(args.visits):
                    starts = datetime.combine(day, clock(7 + k // 3, (k % 3) * 20)).astimezone()
                    create_visit(
                        session, VisitInput(starts, 20, contact_ids=rng.sample(pool, rng.choice([1, 2])))
                    )
                session.flush()
                start = time.perf_counter()
                sheets = day_sheets(session, day)
                pages = write_pdf(sheets, out)
                day_s.append(time.perf_counter() - start)
                session.rollback()  # leave the database as it was
        finally:
            session.close()
    print(
        f"a {args.visits}-visit day ({pages} pages): "
        f"median {statistics.median(day_s):.2f} s over {len(day_s)} runs"
    )
    db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
