"""Backup speed: ``models.backup.make_backup`` of the 100,000-contact, 1,000,000-note database,
the copy (SQLite's online backup API) and its ``PRAGMA integrity_check`` timed apart, while the
database is open in WAL mode as the app holds it; then one restore (safety copy included).

    python bench/backup_bench.py --db /tmp/rapport-bench/big-0005.sqlite --runs 3

The database given is copied first (it is never opened itself). Target (issue 13): a backup in
under 5 s.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models.backup import MANUAL, make_backup
from models.db import open_database
from models.restore import restore_backup


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-restore", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rapport-backup-bench-") as tmp:
        work = Path(tmp) / "rapport.sqlite"
        shutil.copy(args.db, work)  # a closed file: copying it is safe, and the original stays as is
        folder = Path(tmp) / "backups"
        db = open_database(work, backup=False)
        print(f"database: {work.stat().st_size / 1e6:,.0f} MB")
        copies, checks, made = [], [], []
        for i in range(args.runs):
            started = time.perf_counter()
            result = make_backup(work, folder, MANUAL)
            total = time.perf_counter() - started
            copies.append(result.seconds)
            checks.append(result.check_seconds)
            made.append(result.backup)
            print(
                f"run {i + 1}: copy {result.seconds:.2f} s, "
                f"check {result.check_seconds:.2f} s, all {total:.2f} s"
            )
        print(
            f"median copy {statistics.median(copies):.2f} s, median check {statistics.median(checks):.2f} s"
        )
        db.close()
        if not args.no_restore:
            started = time.perf_counter()
            restore_backup(work, made[0], folder)
            print(
                "restore (backup checked, safety copy, migrate-and-mark, copy in): "
                f"{time.perf_counter() - started:.2f} s"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
