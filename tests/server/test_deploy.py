"""Issue 15, item 2: how an operator runs the server. Migrations are a one-shot command that
serve never runs; /healthz says "not ready" while migrations are pending or the database does not
answer; SIGTERM finishes the requests in flight. Real server processes, SQLite (and PostgreSQL
for the unreachable database)."""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from sync.protocol import API, PROTOCOL, PROTOCOL_HEADER
from tests.support.sync_support import ROOT, ServerChange, ServerProcess, free_port


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sync.server", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_serve_refuses_a_database_that_needs_migrating(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'server.sqlite'}"
    refused = _cli("--database-url", url, "--port", str(free_port()))
    assert refused.returncode == 2
    assert "run `python -m sync.server migrate` first" in refused.stderr
    assert "migrated the database" in _cli("migrate", "--database-url", url).stdout
    assert "already up to date" in _cli("migrate", "--database-url", url).stdout
    srv = ServerProcess(url, tmp_path / "server.log")
    srv.start(migrate=False)  # starts now, without migrating itself
    srv.stop()


@pytest.fixture
def running(tmp_path: Path) -> Iterator[ServerProcess]:
    srv = ServerProcess(f"sqlite:///{tmp_path / 'server.sqlite'}", tmp_path / "server.log")
    srv.start()
    yield srv
    srv.stop()
    srv.close_admin()


def _set_schema(srv: ServerProcess, revision: str) -> None:
    with srv.admin().write() as conn:
        conn.execute(text("UPDATE server_schema_version SET version_num = :r"), {"r": revision})


def test_healthz_is_not_ready_while_migrations_are_pending(running: ServerProcess) -> None:
    assert httpx.get(f"{running.base}/healthz").json()["status"] == "ok"
    _set_schema(running, "s0004")  # e.g. the database was restored from an older release's dump
    answer = httpx.get(f"{running.base}/healthz")
    assert answer.status_code == 503 and answer.json()["reason"] == "migrations_pending"
    _set_schema(running, "s9999")  # a later release migrated it (a rolling upgrade): still ready
    assert httpx.get(f"{running.base}/healthz").status_code == 200


def test_healthz_is_not_ready_while_the_database_does_not_answer(pg_url: str, tmp_path: Path) -> None:
    import psycopg

    srv = ServerProcess(pg_url, tmp_path / "server.log")
    srv.start()
    srv.close_admin()
    try:
        assert httpx.get(f"{srv.base}/healthz").status_code == 200
        plain = pg_url.replace("postgresql+psycopg://", "postgresql://")
        name = plain.rsplit("/", 1)[1]
        with psycopg.connect(plain.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        answer = httpx.get(f"{srv.base}/healthz")
        assert answer.status_code == 503 and answer.json()["reason"] == "database_unreachable"
        with psycopg.connect(plain.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
        assert httpx.get(f"{srv.base}/healthz").status_code == 200
    finally:
        srv.stop()


def test_sigterm_finishes_the_request_in_flight(running: ServerProcess) -> None:
    """A first download is being streamed when the server is told to stop (a rolling restart):
    the download completes, then the process exits by itself; new connections are refused."""
    running.add_user("ann")
    running.write_rows(
        "team:north",
        [
            ServerChange(
                "contact",
                f"00000000-0000-4000-8000-{i:012d}",
                {"name": f"C{i}", "about": os.urandom(300).hex()},
            )
            for i in range(20_000)
        ],
    )
    token = httpx.post(
        f"{running.base}{API}/login",
        json={"username": "ann", "password": "pw"},
        headers={PROTOCOL_HEADER: str(PROTOCOL)},
    ).json()["token"]
    headers = {PROTOCOL_HEADER: str(PROTOCOL), "Authorization": f"Bearer {token}"}
    assert running.proc is not None
    proc = running.proc
    body = bytearray()
    with httpx.stream("POST", f"{running.base}{API}/snapshot", json={}, headers=headers, timeout=60) as r:
        assert r.status_code == 200
        chunks = r.iter_raw(4096)
        body += next(chunks)
        proc.terminate()  # SIGTERM, mid-response
        time.sleep(0.5)
        with pytest.raises(httpx.TransportError):  # no longer accepting
            httpx.get(f"{running.base}/healthz", timeout=2)
        for chunk in chunks:
            body += chunk
            time.sleep(0.001)
    # uvicorn exits by the signal it was given, once the requests in flight are done.
    assert proc.wait(timeout=30) in (0, -signal.SIGTERM)
    lines = gzip.decompress(bytes(body)).splitlines()  # a cut-off body would not inflate
    assert lines[-1] == b'{"end":{"rows":20000}}'  # all of it, to the end line
