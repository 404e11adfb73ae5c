"""Real parts for the company-scale tests: several server processes on one PostgreSQL database,
a transport that sends each request to the process a test chooses (as a load balancer would),
and HAProxy in front of them."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.sync_support import (
    PG_URL,
    REQUIRE_PG,
    Laptop,
    ServerProcess,
    drop_pg_database,
    loopback,
    make_pg_database,
)

PLAIN_PG = PG_URL.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database of the test's own."""
    url = make_pg_database()
    if url is None:
        if REQUIRE_PG:
            pytest.fail(f"RAPPORT_REQUIRE_PG=1 but PostgreSQL at {PG_URL} is not reachable")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL} (set RAPPORT_TEST_PG_URL)")
    yield url
    drop_pg_database(url)


def start_servers(url: str, logs: Path, n: int) -> list[ServerProcess]:
    """``n`` server processes on ``url`` (the first start runs the one-shot migration)."""
    servers = [ServerProcess(url, logs / f"server-{i}.log") for i in range(n)]
    for srv in servers:
        srv.start()
    return servers


def stop_servers(servers: list[ServerProcess]) -> None:
    for srv in servers:
        srv.stop()
        srv.close_admin()


class Switch(httpx.BaseTransport):
    """Sends each request to the server process ``choose`` names (default: ``to``), as a load
    balancer might, and records where each went."""

    def __init__(self, servers: list[ServerProcess]) -> None:
        self.servers = servers
        self.to = 0
        self.choose: Callable[[httpx.Request], int] = lambda _request: self.to
        self.inner = loopback()
        self.went: list[tuple[str, int]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        index = self.choose(request)
        request.url = request.url.copy_with(port=self.servers[index].port)
        self.went.append((request.url.path.rsplit("/", 1)[-1], index))
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def make_laptop(server: ServerProcess, folder: Path, name: str, team: str = "north") -> Laptop:
    server.add_user(name, team=team)
    lap = Laptop(folder / f"{name}.sqlite", server, name)
    lap.login()
    return lap


def pg_dump(url: str, dest: Path) -> None:
    """``pg_dump`` of a live database, as docs/operations.md has the operator take it."""
    database = url.rsplit("/", 1)[1]
    plain = PLAIN_PG.rsplit("/", 1)[0] + f"/{database}"
    subprocess.run(["pg_dump", "-Fc", "-f", str(dest), plain], check=True, timeout=60)


def pg_restore(url: str, dump: Path) -> None:
    """The database replaced by ``dump`` while the servers keep running (docs/operations.md)."""
    import psycopg

    database = url.rsplit("/", 1)[1]
    with psycopg.connect(PLAIN_PG, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database}"')
    plain = PLAIN_PG.rsplit("/", 1)[0] + f"/{database}"
    subprocess.run(
        ["pg_restore", "--single-transaction", "--no-owner", "-d", plain, str(dump)], check=True, timeout=60
    )


def have_pg_tools() -> bool:
    return shutil.which("pg_dump") is not None and shutil.which("pg_restore") is not None
