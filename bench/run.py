"""Benchmarks for the offline app (issue: 100,000 contacts, 1,000,000 notes).

Prints figures; never asserts (timed tests are flaky on shared machines). Usage:

    python bench/run.py [--db PATH] [--contacts 100000] [--notes-per-contact 10] [--runs 5]

The data set is built once with the demo command and reused (it takes a few minutes).
Figures measured on the team's machine are in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QTimer, SignalInstance  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

FILTERS = [
    "a",
    "an",
    "ann",
    "anna",
    "anna s",
    "sch",
    "müller",
    "buyer",
    "vip",
    "delta",
    "zo",
    "kenji no",
    "x",
]


def build(db_path: Path, contacts: int, notes_per_contact: float) -> None:
    if db_path.exists():
        return
    print(f"building {contacts:,} contacts × {notes_per_contact:g} notes in {db_path} …", flush=True)
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "main.py"),
            "demo",
            "--db",
            str(db_path),
            "--contacts",
            str(contacts),
            "--notes-per-contact",
            str(notes_per_contact),
        ],
        check=True,
    )
    print(f"  built in {time.perf_counter() - started:.0f} s")


def startup(db_path: Path, runs: int, app: list[str] | None = None) -> list[float]:
    """Seconds from starting the process to the contact list showing rows.

    ``app`` is the command that starts Rapport (default: main.py from source; the bundle's
    executable in bench/bundle_bench.py).
    """
    times = []
    env = {**os.environ, "RAPPORT_STARTUP_PROBE": "1", "RAPPORT_DATA_DIR": str(db_path.parent / "data")}
    for _ in range(runs):
        started = time.perf_counter()
        proc = subprocess.Popen(
            [*(app or [sys.executable, str(ROOT / "main.py")]), "--db", str(db_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("contacts-loaded"):
                times.append(time.perf_counter() - started)
                break
        proc.wait(timeout=60)
    return times


def wait_for(signal: SignalInstance, start: Callable[[], None], timeout_ms: int = 30_000) -> float:
    """Milliseconds from calling ``start`` to ``signal`` firing (the event loop runs meanwhile)."""
    loop = QEventLoop()
    signal.connect(loop.quit)
    QTimer.singleShot(timeout_ms, loop.quit)
    began = time.perf_counter()
    start()
    loop.exec()
    elapsed = (time.perf_counter() - began) * 1000
    signal.disconnect(loop.quit)
    return elapsed


def add_notes(db_path: Path, n: int) -> uuid.UUID:
    """Give the first contact ``n`` notes (the "contact with 200 notes" case)."""
    from sqlalchemy import insert, select

    from models.db import open_database
    from models.entities import Contact, Note

    db = open_database(db_path)
    try:
        with db.write() as s:
            cid = s.scalar(select(Contact.id).order_by(Contact.name).limit(1))
            assert cid is not None
            now = datetime.now(UTC)
            existing = s.scalar(select(Note.id).where(Note.contact_id == cid).offset(n - 1).limit(1))
            if existing is None:
                s.execute(
                    insert(Note),
                    [
                        {
                            "id": uuid.uuid4(),
                            "occurred_at": now - timedelta(days=i),
                            "channel": "call",
                            "summary": f"Bench note {i}",
                            "body": "x" * 200,
                            "contact_id": cid,
                            "created_at": now,
                            "updated_at": now,
                        }
                        for i in range(n)
                    ],
                )
        return cid
    finally:
        db.close()


def rss_mb() -> tuple[float, float]:
    fields = dict(
        line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line
    )
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def in_process(db_path: Path, contact_id: uuid.UUID, runs: int) -> None:
    from models.db import open_database
    from ui.app import build_window
    from ui.errors import ErrorPresenter

    app = QApplication.instance() or QApplication([])
    db = open_database(db_path)
    window = build_window(db, ErrorPresenter(None))
    model = window.contacts.model
    window.show()
    first = wait_for(model.loaded, window.start)
    print(f"window.start() to first page, in process: {first:.0f} ms ({model.rowCount()} rows)")

    per_run: list[list[float]] = []
    for _ in range(runs):
        samples = [
            wait_for(model.loaded, lambda t=text: window.contacts.filter.setText(t)) for text in FILTERS
        ]
        samples.append(wait_for(model.loaded, window.contacts.filter.clear))
        per_run.append(samples)

    def report(label: str, samples: list[float]) -> None:
        samples = sorted(samples)
        p95 = samples[max(0, int(len(samples) * 0.95) - 1)]
        print(
            f"filter as you type, {label} ({len(samples)} changes): "
            f"median {statistics.median(samples):.1f} ms, "
            f"p95 {p95:.1f} ms, max {samples[-1]:.1f} ms (targets 50 / 100 ms)"
        )

    report("first pass, cold cache", per_run[0])
    report("later passes", [x for run in per_run[1:] for x in run])
    steps = [*FILTERS, "(cleared)"]
    by_step = {step: statistics.median(run[i] for run in per_run[1:]) for i, step in enumerate(steps)}
    print("  typed in this order (median ms): " + ", ".join(f"{k!r} {v:.0f}" for k, v in by_step.items()))
    slow = {}
    for text in FILTERS:
        runs_ms = []
        for _ in range(3):
            wait_for(model.loaded, window.contacts.filter.clear)
            runs_ms.append(wait_for(model.loaded, lambda t=text: window.contacts.filter.setText(t)))
        slow[text] = statistics.median(runs_ms)
    print("  per filter (median ms): " + ", ".join(f"{k!r} {v:.0f}" for k, v in slow.items()))

    pane = window.contacts.detail
    opens = [wait_for(pane.loaded, lambda: pane.show_contact(contact_id)) for _ in range(runs * 4)]
    print(
        f"open a contact with {pane.timeline.rowCount()} notes: median {statistics.median(opens):.1f} ms, "
        f"max {max(opens):.1f} ms (target 100 ms)"
    )
    now, peak = rss_mb()
    print(f"resident memory: {now:.0f} MB now, {peak:.0f} MB peak (target < 300 MB)")
    window.close()
    window.ctx.tasks.wait_idle()
    db.close()
    del app


def data_set_arguments(parser: argparse.ArgumentParser) -> None:
    """The big data set's options (bench/bundle_bench.py uses the same database)."""
    parser.add_argument(
        "--db", type=Path, default=Path(os.environ.get("RAPPORT_BENCH_DB", "/tmp/rapport-bench/big.sqlite"))
    )
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--notes-per-contact", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    data_set_arguments(parser)
    args = parser.parse_args()
    args.db.parent.mkdir(parents=True, exist_ok=True)
    build(args.db, args.contacts, args.notes_per_contact)
    contact_id = add_notes(args.db, 200)
    times = startup(args.db, args.runs)
    print(
        f"launch to contact list populated ({len(times)} runs): median {statistics.median(times):.2f} s, "
        f"max {max(times):.2f} s (target 1.5 s)"
    )
    in_process(args.db, contact_id, args.runs)
    sys.stdout.flush()
    # PySide6 can crash while the interpreter tears down its objects after a run like this
    # (seen as "bool_dealloc" at exit); the figures are printed, so leave without teardown.
    os._exit(0)


if __name__ == "__main__":
    main()
