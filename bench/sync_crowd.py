"""50 clients syncing at once against the real server on loopback.

    python bench/sync_crowd.py [--clients 50] [--teams 10] [--rounds 10] [--period 2.0]
                               [--database-url postgresql+psycopg://...]   # a fresh, empty database

What "50 clients syncing at once" means here. The server is the real one (``python -m
sync.server`` under uvicorn, as ``tests/support/sync_support.ServerProcess`` starts it; SQLite by default).
50 users in 10 teams each run a client in a process of their own (``bench/crowd_client.py``,
standard library only, so the load generator stays light; the real ``SyncClient`` with its local
SQLite database costs several times the server's work per sync and would be measured instead).
Each client logs in, registers, catches up, and then does ``--rounds`` syncs. One sync is what a
laptop does: push one batch (a new contact, and an edit of the one it made the round before,
with its base value and consecutive mutation ids), then pull pages from its cursor until
``has_more`` is false. Its latency is that whole sync, from the first byte of the push to the
last page, as the client sees it. Every response is checked (status, results and last_mid
match the batch, the cursor never goes back, the client's own writes come back at the versions
the push reported, no other team's row arrives); a failed check counts as an error, and so does
any transport error. At the end the server's database is checked against what the clients were
told (every contact they created is there, every client's last_mid is what it last sent).

Three arrival patterns, the same 50 clients each time:
- herd: every round, all 50 start their sync at the same instant (a round every ``--period``
  seconds). The literal reading of "at once" and the worst case for latency: the target
  (p95 < 300 ms, zero errors) is measured against this one.
- staggered: the same rate (50 syncs per period), starts spread evenly over the period: what a
  sales force syncing every few minutes looks like to the server.
- flat out: no pause, each client syncs again as soon as its last sync ends. Latency here is
  just 50 / capacity; the figure that matters is syncs/s, the server's capacity on this machine
  (with the 50 clients on the same 2 cores).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from models.migrate import head_revision  # noqa: E402
from sync.protocol import PROTOCOL  # noqa: E402
from sync.server import tables  # noqa: E402
from tests.support.sync_support import ServerProcess  # noqa: E402

CLIENT = Path(__file__).resolve().parent / "crowd_client.py"


@dataclass
class Outcome:
    latencies: list[float]
    errors: list[str]
    late: int
    wall: float
    created: int
    last_mids: dict[str, int]


def run_variant(
    server: ServerProcess, users: list[tuple[str, str]], rounds: int, period: float, staggered: bool
) -> Outcome:
    procs = []
    for i, (name, team) in enumerate(users):
        offset = i * period / len(users) if staggered else 0.0
        cmd = [
            sys.executable, str(CLIENT), "--port", str(server.port), "--username", name, "--team", team,
            "--protocol", str(PROTOCOL), "--schema", head_revision(), "--rounds", str(rounds),
            "--period", str(period), "--offset", f"{offset:.6f}",
        ]  # fmt: skip
        procs.append(subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))
    for p in procs:
        assert p.stdout is not None
        line = p.stdout.readline()
        if not line or not json.loads(line).get("ready"):
            raise RuntimeError(f"a client failed to start: {line!r}")
    # Far enough ahead that every client has read it before round 0.
    t0 = time.time() + 0.5
    for p in procs:
        assert p.stdin is not None
        p.stdin.write(json.dumps({"t0": t0}) + "\n")
        p.stdin.flush()
    latencies: list[float] = []
    errors: list[str] = []
    late = 0
    end = t0
    last_mids: dict[str, int] = {}
    created = 0
    for p in procs:
        assert p.stdout is not None
        line = p.stdout.readline()
        if not line:
            raise RuntimeError(f"a client died: exit status {p.wait()}")
        done = json.loads(line)
        latencies += done["latencies"]
        errors += done["errors"]
        late += done["late"]
        end = max(end, done["end"])
        last_mids[done["client_id"]] = done["last_mid"]
        created += len(done["latencies"]) + 1  # one new contact per sync, and the warm-up's
    for p in procs:  # every client is done: now they may exit
        p.communicate(timeout=60)
    return Outcome(latencies, errors, late, end - t0, created, last_mids)


def check_server(server: ServerProcess, outcomes: list[Outcome], before: int) -> list[str]:
    """What the server holds must be what the clients were told it holds."""
    problems = []
    with server.admin().read() as conn:
        contacts = conn.scalar(
            select(func.count()).select_from(tables.rows).where(tables.rows.c.entity == "contact")
        )
        mids = {row.id: row.last_mid for row in conn.execute(select(tables.clients))}
    expected = before + sum(o.created for o in outcomes)
    if contacts != expected and not any(o.errors for o in outcomes):
        problems.append(f"server holds {contacts} contacts, the clients made {expected}")
    for o in outcomes:
        for client_id, last in o.last_mids.items():
            if mids.get(client_id) != last:
                problems.append(f"client {client_id}: server last_mid {mids.get(client_id)}, sent {last}")
    return problems


def report(label: str, o: Outcome, clients: int) -> None:
    ms = sorted(x * 1000 for x in o.latencies)
    if not ms:
        print(f"{label}: no sync finished; errors {len(o.errors)}")
        return
    p95 = ms[max(0, int(len(ms) * 0.95) - 1)]
    print(
        f"{label:<10} {len(ms)} syncs by {clients} clients: median {statistics.median(ms):.0f} ms, "
        f"p95 {p95:.0f} ms, max {ms[-1]:.0f} ms, errors {len(o.errors)}, "
        f"{len(ms) / o.wall:.1f} syncs/s, late starts {o.late}"
    )
    for e in o.errors[:5]:
        print(f"    {e}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--teams", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--period", type=float, default=2.0, help="seconds between rounds (herd, staggered)")
    parser.add_argument("--database-url", help="a fresh, empty database (default: a new SQLite file)")
    parser.add_argument("--server-workers", type=int, default=1, help="server processes (uvicorn workers)")
    parser.add_argument("--only", choices=["herd", "staggered", "flat"], action="append")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="sync-crowd-"))
    url = args.database_url or f"sqlite:///{tmp / 'server.sqlite'}"
    server = ServerProcess(url, tmp / "server.log", workers=args.server_workers)
    server.start()
    print(
        f"server on {url.split(':')[0]}, {args.server_workers} process(es); "
        f"load average before: {os.getloadavg()[0]:.2f}"
    )
    try:
        users = [(f"crowd{i}", f"crowd{i % args.teams}") for i in range(args.clients)]
        for name, team in users:
            server.add_user(name, team=team)
        variants = args.only or ["herd", "staggered", "flat"]
        outcomes = []
        for variant in variants:
            period = 0.0 if variant == "flat" else args.period
            o = run_variant(server, users, args.rounds, period, staggered=variant == "staggered")
            outcomes.append(o)
            report(variant, o, args.clients)
        problems = check_server(server, outcomes, before=0)
        print("server state matches the clients'" if not problems else "\n".join(problems))
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    finally:
        server.stop()
        server.close_admin()
    return 1 if problems or any(o.errors for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
