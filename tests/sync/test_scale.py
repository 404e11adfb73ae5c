"""Issue 15, item 1: nothing but the database is shared between server processes, so any
process answers any request. Two real server processes on one real PostgreSQL database; the
laptops' transport sends each request to the process the test chooses, as a load balancer might.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from sync.errors import ServerUnreachable
from sync.protocol import API, PROTOCOL, PROTOCOL_HEADER
from sync.server import tables
from sync.server.db import committed_version
from sync.server.login_limits import FIRST_DELAY, NAME_FREE
from tests.support.scale_support import (
    Switch,
    have_pg_tools,
    make_laptop,
    pg_dump,
    pg_restore,
    start_servers,
    stop_servers,
)
from tests.support.sync_support import (
    CutBodyTransport,
    FaultyTransport,
    Laptop,
    ServerProcess,
    contact,
    raw_snapshot,
)


@pytest.fixture
def two(pg_url: str, tmp_path: Path) -> Iterator[list[ServerProcess]]:
    servers = start_servers(pg_url, tmp_path, 2)
    yield servers
    stop_servers(servers)


def _counter(srv: ServerProcess) -> int:
    with srv.admin().read() as conn:
        return committed_version(conn)


def _count(srv: ServerProcess, table: str) -> int:
    with srv.admin().read() as conn:
        return int(conn.scalar(select(func.count()).select_from(tables.metadata.tables[table])) or 0)


def _live(lap: Laptop) -> dict[tuple[str, str], dict[str, object]]:
    return {k: v for k, v in lap.snapshot().items() if not v.get("deleted")}


def test_a_push_retried_on_another_process_gets_the_stored_answer(
    two: list[ServerProcess], tmp_path: Path
) -> None:
    a, b = two
    ann = make_laptop(a, tmp_path, "ann")
    ann.sync()
    ids = [ann.add(contact(f"C{i}")) for i in range(3)]
    ann.edit("contact", ids[0], role="Buyer")
    before = _counter(a)
    switch = Switch(two)
    faults = FaultyTransport()
    faults.inner = switch
    # A commits the push, its answer is lost, and the retry reaches B.
    faults.add("/push", "hook_after", hook=lambda: setattr(switch, "to", 1))
    summary = ann.sync(faults)
    faults.close()
    assert [to for path, to in switch.went if path == "push"] == [0, 1]
    assert summary.pushed == 4 and summary.rejected == 0
    assert ann.outbox() == 0
    # Applied once: four versions, three rows, no conflict from a second application.
    assert _counter(a) - before == 4
    assert _count(a, "rows") == 3 and _count(a, "conflicts") == 0
    bob = make_laptop(b, tmp_path, "bob")
    bob.sync()
    assert bob.get("contact", ids[0]).role == "Buyer"
    assert bob.table("sync_conflicts") == []
    assert _live(bob) == _live(ann)


def test_a_first_download_cut_on_one_process_resumes_on_another(
    two: list[ServerProcess], tmp_path: Path
) -> None:
    a, _ = two
    ann = make_laptop(a, tmp_path, "ann")
    for i in range(40):
        ann.add(contact(f"Person {i}", about=bytes(range(256)).hex() * 2 + str(i)))
    ann.sync()
    bob = make_laptop(a, tmp_path, "bob")
    full = len(raw_snapshot(bob))
    switch = Switch(two)
    snapshots: list[int] = []

    def choose(request: httpx.Request) -> int:
        if request.url.path.endswith("/snapshot"):
            snapshots.append(1)
        return 0 if len(snapshots) <= 1 else 1  # A until the first download, then B

    switch.choose = choose
    cut = CutBodyTransport("/snapshot", limit=full // 2, times=1)
    cut.inner = switch  # type: ignore[assignment]
    with pytest.raises(ServerUnreachable):
        bob.sync(transport=cut, snapshot_batch=5, retries=0)
    kept = bob.count()
    assert 0 < kept < 40
    bob.sync(transport=cut, snapshot_batch=5)
    assert [to for path, to in switch.went if path == "snapshot"] == [0, 1]
    assert b'"upper"' in cut.bodies[1] and b'"after"' in cut.bodies[1]  # a resumed download
    assert bob.count() == 40
    assert _live(bob) == _live(ann)


def _login(srv: ServerProcess, name: str, password: str) -> httpx.Response:
    return httpx.post(
        f"{srv.base}{API}/login",
        json={"username": name, "password": password},
        headers={PROTOCOL_HEADER: str(PROTOCOL)},
        timeout=30,
    )


def test_failed_logins_are_counted_across_processes(two: list[ServerProcess]) -> None:
    a, b = two
    a.add_user("ann")
    for i in range(NAME_FREE):  # spread over both processes: neither saw enough by itself
        assert _login(two[i % 2], "ann", "wrong").status_code == 401
    last_failure = time.monotonic()
    with a.admin().read() as conn:
        t = tables.login_failures
        assert conn.scalar(select(t.c.failures).where(t.c.key == "name:ann")) == NAME_FREE
    answers = [_login(srv, "ann", "pw") for srv in (a, b)]
    # The wait after the free failures is FIRST_DELAY (1 s): on a machine slow enough that the
    # two attempts came later than that, they were rightly let through.
    if time.monotonic() - last_failure < FIRST_DELAY:
        for refused in answers:
            assert refused.status_code == 429, refused.text
            assert refused.json()["reason"] == "too_many_attempts"


@pytest.mark.skipif(not have_pg_tools(), reason="pg_dump and pg_restore are not installed")
def test_a_restore_under_running_processes_is_noticed_without_a_restart(
    two: list[ServerProcess], tmp_path: Path
) -> None:
    """The database is restored from a ``pg_dump`` while both processes keep running. New
    writes after the restore push the counter past the idle laptop's cursor; the processes
    noticed the new database when they reconnected, so its cursor still names a history the
    server lost, and it gives back what it holds."""
    a, b = two
    ann = make_laptop(a, tmp_path, "ann")
    cat = make_laptop(b, tmp_path, "cat")
    ann.sync()
    cat.sync()
    dump = tmp_path / "backup.dump"
    pg_dump(a.url_db, dump)
    lost = [ann.add(contact(f"Lost {i}")) for i in range(3)]
    ann.sync()
    cat.sync()  # Cat holds them, then stays idle
    for srv in two:
        srv.close_admin()
    pg_restore(a.url_db, dump)
    ann.close()  # Ann's laptop is gone too; Dora starts fresh after the restore
    dora = make_laptop(a, tmp_path, "dora")
    fresh = [dora.add(contact(f"New {i}")) for i in range(6)]
    assert dora.sync().given_back == 0
    cat.server = b
    assert cat.sync().given_back == 3
    dora.sync()
    everything = {("contact", str(row_id)) for row_id in [*lost, *fresh]}
    assert everything <= set(_live(dora)) and _live(cat) == _live(dora)
    assert any("the database was replaced" in srv.log_path.read_text() for srv in two)
