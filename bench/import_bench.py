"""Import speed: 10,000 vCards read, matched (the preview) and written, on the big database.

    python main.py demo --db /tmp/big.sqlite --contacts 100000     # once (takes a few minutes)
    python bench/import_bench.py --db /tmp/big.sqlite

The file mixes what phones and address books write: vCard 3.0 with item labels, 2.1 with
quoted-printable, a tenth with an inline photo, and a tenth of the people already in the
database (matched by email, so they fill in rather than duplicate). Each run reads the file,
plans the preview, then imports in one transaction, which is rolled back (with ``--commit``
the last run's is committed), so the database is left as it was. Target (issue 13): under
10 s, preview included.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select

from models.db import open_database
from models.entities import Contact
from models.services.import_file import prepare, read_source
from models.services.importing import apply_import, plan_import

PHOTO = (
    "PHOTO;ENCODING=b;TYPE=JPEG:"
    + "/9j/4AAQSkZJRgABAQAAAQABAAD" * 3
    + "\r\n"
    + (" " + "A" * 74 + "\r\n") * 60
)


class _RolledBack(Exception):
    pass


def write_cards(path: Path, n: int, known_emails: list[str], rng: random.Random) -> None:
    first = ["Anna", "Jürgen", "Zoë", "Łukasz", "Ελένη", "José", "Søren", "Ana", "Marie", "Chen"]
    last = ["Müller", "Smith", "Kowalski", "Σταυρόπουλος", "Núñez", "García", "Dubois", "Wang"]
    with path.open("w", encoding="utf-8", newline="") as f:
        for i in range(n):
            given, family = rng.choice(first), rng.choice(last)
            email = (
                known_emails[i % len(known_emails)]
                if i % 10 == 0 and known_emails
                else f"p{i}@example{i % 500}.com"
            )
            if i % 3 == 0:  # a phone's 2.1 export
                f.write(
                    "BEGIN:VCARD\r\nVERSION:2.1\r\n"
                    f"N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:{_qp(family)};{_qp(given)};;;\r\n"
                    f"TEL;CELL;PREF:+49 170 {1000000 + i}\r\nTEL;WORK:+49 30 {2000000 + i}\r\n"
                    f"EMAIL;INTERNET:{email}\r\nBDAY:--{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}\r\n"
                )
            else:  # Apple or Google, 3.0
                f.write(
                    f"BEGIN:VCARD\r\nVERSION:3.0\r\nN:{family};{given};;;\r\nFN:{given} {family}\r\n"
                    f"ORG:Company {i % 700};Purchasing\r\nTITLE:Buyer\r\n"
                    f"EMAIL;type=INTERNET;type=WORK;type=pref:{email}\r\n"
                    f"item1.TEL;type=CELL:+44 7700 {900000 + i % 99999:06d}\r\n"
                    "item1.X-ABLabel:_$!<Mobile>!$_\r\n"
                    f"ADR;type=WORK:;;{i} High Street;Leeds;;LS1 {i % 9}AA;United Kingdom\r\n"
                    "NOTE:Met at the trade fair\\, wants samples of the new range\r\n"
                    f"CATEGORIES:fair,{i % 7}\r\n"
                )
            if i % 10 == 5:
                f.write(PHOTO)
            f.write("END:VCARD\r\n")


def _qp(text: str) -> str:
    return "".join(
        ch if ch.isascii() and ch.isalnum() else "".join(f"={b:02X}" for b in ch.encode()) for ch in text
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--cards", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--commit", action="store_true", help="commit the last run's import")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    db = open_database(args.db, backup=False)
    with db.read() as s:
        contacts = int(s.scalar(select(func.count()).select_from(Contact)) or 0)
        emails = [e[0] for (e,) in s.execute(select(Contact.emails).limit(args.cards // 10)) if e]
    path = Path(tempfile.mkdtemp()) / "contacts.vcf"
    write_cards(path, args.cards, emails, rng)
    print(f"{args.cards:,} cards ({path.stat().st_size / 1e6:.1f} MB) into {contacts:,} contacts")
    times, cpus = [], []
    for run in range(args.runs):
        started, cpu = time.perf_counter(), time.process_time()
        prepared = prepare(read_source(path), None)
        read_at = time.perf_counter()
        with db.read() as s:
            plan = plan_import(s, prepared.cards, prepared.skipped, "GB")
        planned_at = time.perf_counter()
        last = args.commit and run == args.runs - 1
        try:
            with db.write() as s:
                result = apply_import(s, prepared.cards, prepared.skipped, source=path.name, region="GB")
                if not last:
                    raise _RolledBack
        except _RolledBack:
            pass
        done = time.perf_counter()
        times.append(done - started)
        cpus.append(time.process_time() - cpu)
        print(
            f"run {run + 1}: {done - started:.2f} s (read {read_at - started:.2f}, preview "
            f"{planned_at - read_at:.2f}, import {done - planned_at:.2f}{', committed' if last else ''}); "
            f"CPU {cpus[-1]:.2f} s; {len(plan.new):,} new, {plan.matched:,} matched, "
            f"{len(plan.new_accounts):,} accounts; {result.created:,} created"
        )
    print(
        f"median {statistics.median(times):.2f} s wall, {statistics.median(cpus):.2f} s CPU (target < 10 s)"
    )
    db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
