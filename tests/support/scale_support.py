"""Real parts for the company-scale tests: several server processes on one PostgreSQL database,
a transport that sends each request to the process a test chooses (as a load balancer would),
and HAProxy in front of them."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.support.sync_support import (
    PG_URL,
    REQUIRE_PG,
    ROOT,
    Laptop,
    ServerProcess,
    drop_pg_database,
    loopback,
    make_pg_database,
)

PLAIN_PG = PG_URL.replace("postgresql+psycopg://", "postgresql://")
# In CI (.ci/run) HAProxy is installed and these tests must run; on a laptop they skip.
REQUIRE_HAPROXY = os.environ.get("RAPPORT_REQUIRE_HAPROXY") == "1" or REQUIRE_PG
SLOTS = 4  # the server lines of deploy/haproxy.cfg
# How long HAProxy takes to put a restarted server back: ``rise 2`` checks, ``inter 1s`` apart.
BACK_IN = 2.5


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


def start_servers(url: str, logs: Path, n: int, extra: tuple[str, ...] = ()) -> list[ServerProcess]:
    """``n`` server processes on ``url`` (the first start runs the one-shot migration)."""
    servers = [ServerProcess(url, logs / f"server-{i}.log", extra=extra) for i in range(n)]
    servers[0].admin().migrate()
    with ThreadPoolExecutor(n) as pool:  # at once: each spends seconds importing
        list(pool.map(lambda srv: srv.start(migrate=False), servers))
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


def need_haproxy() -> str:
    """HAProxy's path, or skip (fail in CI) saying what is missing."""
    found = shutil.which("haproxy") or ("/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None)
    if found is None or shutil.which("openssl") is None:
        message = "haproxy (and openssl, for its test certificate) is not installed: apt-get install haproxy"
        if REQUIRE_HAPROXY:
            pytest.fail(f"RAPPORT_REQUIRE_HAPROXY=1 (or RAPPORT_REQUIRE_PG=1) but {message}")
        pytest.skip(message)
    return found


class Balancer(ServerProcess):
    """HAProxy running deploy/haproxy.cfg (TLS with a certificate made for the test) in front of
    ``servers``. A ``ServerProcess`` to the laptops: its ``base`` is where they connect."""

    def __init__(self, servers: list[ServerProcess], folder: Path, haproxy: str) -> None:
        super().__init__(servers[0].url_db, folder / "haproxy.log")
        self.servers = servers
        self.haproxy = haproxy
        self.folder = folder
        self.base = f"https://127.0.0.1:{self.port}"

    def _config(self) -> tuple[Path, dict[str, str]]:
        key, cert, pem = (self.folder / n for n in ("key.pem", "cert.pem", "rapport.pem"))
        if not pem.exists():
            subprocess.run(
                [
                    *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"),
                    *("-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)),
                ],
                check=True,
                capture_output=True,
                timeout=60,
            )
            pem.write_bytes(cert.read_bytes() + key.read_bytes())
        # The deployed file, but for the lines that need root and a syslog.
        deployed = (ROOT / "deploy" / "haproxy.cfg").read_text().splitlines()
        lines = [line for line in deployed if not line.rstrip().endswith("# system")]
        at = lines.index("global") + 1
        lines[at:at] = ["    log stderr format raw local0 info"]
        config = self.folder / "haproxy.cfg"
        config.write_text("\n".join(lines) + "\n")
        env = dict(os.environ, RAPPORT_LB_BIND=f"127.0.0.1:{self.port}", RAPPORT_TLS_CERT=str(pem))
        for slot in range(SLOTS):
            env[f"RAPPORT_SERVER_{slot + 1}"] = f"127.0.0.1:{self.servers[slot % len(self.servers)].port}"
        return config, env

    def start(self, *, migrate: bool = True) -> None:
        del migrate  # the balancer has no database of its own
        config, env = self._config()
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [self.haproxy, "-db", "-f", str(config)], env=env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"haproxy exited: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1, verify=False).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError("haproxy did not start")
