"""Real parts for the sync tests: a uvicorn server process, laptops, a fault-injecting transport.

Its fixtures reach every test through `pytest_plugins` in tests/conftest.py; the classes are imported.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import insert, select, update

from models.db import Database, open_database
from models.entities import Contact, SyncedMixin, synced_class
from sync.client import SyncClient, SyncSummary, login
from sync.fields import entity_fields
from sync.protocol import API, PROTOCOL, PROTOCOL_HEADER
from sync.server import auth, tables
from sync.server.db import ServerDB, VersionCounter
from sync.server.merge import now_iso
from sync.store import SyncStore

ROOT = Path(__file__).resolve().parents[2]
PG_URL = os.environ.get("RAPPORT_TEST_PG_URL", "postgresql+psycopg://rapport:rapport@127.0.0.1:5432/postgres")
REQUIRE_PG = os.environ.get("RAPPORT_REQUIRE_PG") == "1"


# Cheap argon2 parameters for test users (the parameters travel in the hash): a default hash
# and its check cost ~0.3 s per laptop on this machine, which adds up over the suite.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """``python -m sync.server`` as a child process on a loopback port."""

    def __init__(
        self, url: str, log_path: Path, max_body: int = 0, workers: int = 1, extra: tuple[str, ...] = ()
    ) -> None:
        self.extra = extra  # more command-line options
        self.url_db = url
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.max_body = max_body
        self.workers = workers
        self.proc: subprocess.Popen[bytes] | None = None
        self._admin: ServerDB | None = None

    def start(self) -> None:
        cmd = [
            sys.executable,
            "-m",
            "sync.server",
            "--database-url",
            self.url_db,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--log-level",
            "warning",
        ]
        if self.max_body:
            cmd += ["--max-body", str(self.max_body)]
        if self.workers > 1:
            cmd += ["--workers", str(self.workers)]
        cmd += self.extra
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush; only committed transactions survive."""
        if self.proc is not None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            self.proc = None

    def admin(self) -> ServerDB:
        """A connection to the server's database for set-up and checks (closed by the fixture)."""
        if self._admin is None:
            self._admin = ServerDB(self.url_db)
        return self._admin

    def close_admin(self) -> None:
        if self._admin is not None:
            self._admin.close()
            self._admin = None

    def add_user(
        self, name: str, password: str = "pw", team: str | None = "north", manager: bool = False
    ) -> None:
        with self.admin().write() as conn:
            auth.add_user(conn, name, password, team=team, manager=manager, hasher=FAST_HASHER)

    def rows(self, scope: str) -> dict[tuple[str, str], Any]:
        """The server's rows of one scope, as stored."""
        with self.admin().read() as conn:
            found = conn.execute(select(tables.rows).where(tables.rows.c.scope == scope))
            return {(r.entity, r.id): r for r in found}

    def snapshot(self, scope: str) -> dict[tuple[str, str], dict[str, Any]]:
        """The server's side of ``Laptop.snapshot`` for one scope: what its laptops must hold."""
        specs = entity_fields()
        return {
            key: {**{k: r.data.get(k) for k in specs[r.entity]}, "deleted": r.deleted_at is not None}
            for key, r in self.rows(scope).items()
        }

    def write_rows(self, scope: str, changes: list[ServerChange]) -> None:
        """Rows written straight into the server's database, as if other laptops had pushed them.

        For set-up at a size where pushing through a laptop would be most of a test's time. The
        versions come from the server's own counter (locked, like a push), so pulls see them in
        commit order like any other write.
        """
        existing = self.rows(scope)
        with self.admin().write() as conn:
            counter = VersionCounter(conn)
            counter.lock()
            new: list[dict[str, Any]] = []
            for c in changes:
                version = counter.next()
                values: dict[str, Any] = {
                    "data": c.data,
                    "version": version,
                    "deleted_at": now_iso() if c.deleted else None,
                    "deleted_version": version if c.deleted else None,
                    "updated_at": now_iso(),
                    "writer": "seed",
                }
                if (c.entity, c.id) in existing:
                    conn.execute(
                        update(tables.rows)
                        .where(tables.rows.c.entity == c.entity, tables.rows.c.id == c.id)
                        .values(**values)
                    )
                else:
                    new.append({"entity": c.entity, "id": c.id, "scope": scope, **values})
            for start in range(0, len(new), 5000):
                conn.execute(insert(tables.rows), new[start : start + 5000])
            counter.flush()


@dataclass(frozen=True)
class ServerChange:
    """One row as another laptop's push would leave it on the server (``data`` complete)."""

    entity: str
    id: str
    data: dict[str, Any]
    deleted: bool = False


@dataclass
class Rule:
    """What to do to the next request whose path ends with ``path``."""

    path: str
    # drop_response | cut_before | duplicate | hook_before | hook_after | drop_first_mutation
    # | capture (keep a copy of the answer) | replay (the server answers, the kept copy is delivered)
    action: str
    hook: Callable[[], None] | None = None
    times: int = 1


class FaultyTransport(httpx.BaseTransport):
    """Wraps the real HTTP transport and injects faults where the tests say."""

    def __init__(self) -> None:
        self.inner = loopback()
        self.rules: list[Rule] = []
        self.seen: list[str] = []
        self.every: Callable[[httpx.Request], None] | None = None
        self.captured: list[httpx.Response] = []

    def add(self, path: str, action: str, hook: Callable[[], None] | None = None, times: int = 1) -> None:
        self.rules.append(Rule(path, action, hook, times))

    def _take(self, path: str) -> Rule | None:
        for rule in self.rules:
            if path.endswith(rule.path) and rule.times > 0:
                rule.times -= 1
                return rule
        return None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request.url.path)
        if self.every is not None:
            self.every(request)
        rule = self._take(request.url.path)
        if rule is None:
            return self.inner.handle_request(request)
        if rule.action == "cut_before":
            raise httpx.ConnectError("connection cut (test)", request=request)
        if rule.action == "hook_before" and rule.hook:
            rule.hook()
            return self.inner.handle_request(request)
        if rule.action == "drop_first_mutation":
            import gzip
            import json

            body = request.read()
            if request.headers.get("content-encoding") == "gzip":
                body = gzip.decompress(body)
            payload = json.loads(body)
            payload["mutations"] = payload["mutations"][1:]
            raw = json.dumps(payload).encode()
            headers = {
                k: v
                for k, v in request.headers.items()
                if k.lower() not in ("content-encoding", "content-length")
            }
            forged = httpx.Request(request.method, request.url, headers=headers, content=raw)
            return self.inner.handle_request(forged)
        response = self.inner.handle_request(request)
        response.read()
        if rule.action == "capture":
            self.captured.append(_copy(response))
        if rule.action == "replay":
            # A stale answer arriving late (a buffering proxy, a delayed retry): the server has
            # handled this request, but what the client gets is an older answer.
            response.close()
            return _copy(self.captured.pop(0))
        if rule.action == "duplicate":
            response.close()
            again = self.inner.handle_request(request)
            again.read()
            return again
        if rule.action == "hook_after" and rule.hook:
            rule.hook()
        if rule.action in ("drop_response", "hook_after"):
            response.close()
            raise httpx.ReadError("response lost after the server committed (test)", request=request)
        return response

    def close(self) -> None:
        self.inner.close()


def _copy(response: httpx.Response) -> httpx.Response:
    """A detached copy of a read response (decoded body, so no content-encoding)."""
    headers = {
        k: v for k, v in response.headers.items() if k.lower() not in ("content-encoding", "content-length")
    }
    return httpx.Response(response.status_code, headers=headers, content=response.content)


def loopback() -> httpx.HTTPTransport:
    """The real HTTP transport for plain http on 127.0.0.1. httpx's default one loads the
    system's certificate store for every client (about 40 ms, a third of a small sync here),
    which plain http never uses."""
    return httpx.HTTPTransport(verify=False)


@dataclass
class Laptop:
    """One rep's laptop: a real local database and the real sync client."""

    path: Path
    server: ServerProcess
    username: str
    password: str = "pw"
    db: Database = field(init=False)
    token: str = ""

    def __post_init__(self) -> None:
        self.db = open_database(self.path, backup=False)

    def login(self) -> None:
        self.token = login(self.server.base, self.username, self.password, loopback()).token

    def client(self, transport: httpx.BaseTransport | None = None, **kw: Any) -> SyncClient:
        kw.setdefault("retries", 4)
        kw.setdefault("backoff", 0.05)
        return SyncClient(self.db, self.server.base, self.token, transport or loopback(), **kw)

    def sync(self, transport: httpx.BaseTransport | None = None, **kw: Any) -> SyncSummary:
        with self.client(transport, **kw) as c:
            return c.sync()

    def close(self) -> None:
        self.db.close()

    # -- local edits through the ORM (the change hook writes the outbox) -----------------
    def add(self, obj: SyncedMixin) -> uuid.UUID:
        with self.db.write() as s:
            s.add(obj)
            s.flush()
            return obj.id

    def edit(self, entity: str, row_id: uuid.UUID, **values: Any) -> None:
        with self.db.write() as s:
            obj = s.get(synced_class(entity), row_id)
            assert obj is not None
            for k, v in values.items():
                setattr(obj, k, v)

    def get(self, entity: str, row_id: uuid.UUID) -> Any:
        with self.db.read() as s:
            return s.get(synced_class(entity), row_id)

    def snapshot(self) -> dict[tuple[str, str], dict[str, Any]]:
        """Every synced row's editable fields and deleted flag: what replicas must agree on."""
        from models.types import to_wire
        from sync.fields import entity_fields

        out: dict[tuple[str, str], dict[str, Any]] = {}
        with self.db.read() as s:
            for entity, specs in entity_fields().items():
                cls = synced_class(entity)
                for obj in s.scalars(select(cls)):
                    row = {k: to_wire(getattr(obj, k)) for k in specs}
                    row["deleted"] = obj.deleted_at is not None
                    out[(entity, str(obj.id))] = row
        return out

    def count(self, entity: str = "contact") -> int:
        with self.db.read() as s:
            return len(list(s.scalars(select(synced_class(entity).id))))

    def outbox(self) -> int:
        with self.db.read() as s:
            from models.entities import OutboxEntry

            return len(list(s.scalars(select(OutboxEntry.seq))))

    def table(self, name: str) -> list[Any]:
        with self.db.read() as s:
            from sqlalchemy import text

            return list(s.execute(text(f"SELECT * FROM {name}")))


def contact(name: str, **kw: Any) -> Contact:
    return Contact(name=name, **kw)


def raw_post(lap: Laptop, path: str, payload: dict[str, Any]) -> httpx.Response:
    """A request as a laptop's token would send it, bypassing the client (forged or hand-made bodies)."""
    headers = {PROTOCOL_HEADER: str(PROTOCOL), "Authorization": f"Bearer {lap.token}"}
    return httpx.post(f"{lap.server.base}{API}{path}", json=payload, headers=headers, timeout=60)


def admin_cli(server: ServerProcess, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m sync.server ARGS`` on the server's database, as an administrator runs it."""
    server.close_admin()
    return subprocess.run(
        [sys.executable, "-m", "sync.server", *args, "--database-url", server.url_db],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


def make_pg_database() -> str | None:
    """A fresh PostgreSQL database for this test session, or None when no server answers."""
    try:
        import psycopg
    except ImportError:
        return None
    plain = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    name = f"rapport_sync_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(plain, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error:
        return None
    return PG_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_pg_database(url: str) -> None:
    import psycopg

    plain = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(plain, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def as_first_release(db: ServerDB) -> None:
    """Turn a migrated server database back into what the first release (s0001) made."""
    with db.write() as conn:
        conn.exec_driver_sql("ALTER TABLE clients DROP COLUMN scopes")
        conn.exec_driver_sql("ALTER TABLE results DROP COLUMN digest")
        conn.exec_driver_sql("DROP TABLE generations")
        conn.exec_driver_sql("DROP TABLE given_back")
        conn.exec_driver_sql("UPDATE server_schema_version SET version_num = 's0001'")


class Backend:
    """Hands out fresh server databases for one backend (sqlite file / PostgreSQL database)."""

    def __init__(self, kind: str, tmp_root: Path) -> None:
        self.kind = kind
        self.tmp_root = tmp_root
        self.made: list[str] = []

    def new_url(self) -> str:
        if self.kind == "sqlite":
            path = self.tmp_root / f"server-{uuid.uuid4().hex[:8]}.sqlite"
            return f"sqlite:///{path}"
        url = make_pg_database()
        if url is None:
            raise RuntimeError("PostgreSQL went away")
        self.made.append(url)
        return url

    def cleanup(self) -> None:
        for url in self.made:
            drop_pg_database(url)


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    if request.param == "postgres":
        probe = make_pg_database()
        if probe is None:
            if REQUIRE_PG:
                pytest.fail(f"RAPPORT_REQUIRE_PG=1 but PostgreSQL at {PG_URL} is not reachable")
            pytest.skip(f"PostgreSQL not reachable at {PG_URL} (set RAPPORT_TEST_PG_URL); PG suite skipped")
        drop_pg_database(probe)
    b = Backend(request.param, tmp_path_factory.mktemp(f"srv-{request.param}"))
    yield b
    b.cleanup()


@pytest.fixture
def server(backend: Backend, tmp_path: Path) -> Iterator[ServerProcess]:
    """A server of the test's own (for tests that kill, restore or reconfigure it)."""
    srv = ServerProcess(backend.new_url(), tmp_path / "server.log")
    srv.start()
    yield srv
    srv.stop()
    srv.close_admin()


@pytest.fixture
def limited_server(backend: Backend, tmp_path: Path) -> Iterator[ServerProcess]:
    """A server of the test's own that refuses bodies over 24 kB (413)."""
    srv = ServerProcess(backend.new_url(), tmp_path / "server.log", max_body=24_000)
    srv.start()
    yield srv
    srv.stop()
    srv.close_admin()


@pytest.fixture(scope="module")
def shared_server(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server per module and backend; tests stay apart by using their own users and teams."""
    srv = ServerProcess(backend.new_url(), tmp_path_factory.mktemp("shared") / "server.log")
    srv.start()
    yield srv
    srv.stop()
    srv.close_admin()


_unique = iter(range(1, 1_000_000))


@pytest.fixture
def tag() -> str:
    """A suffix that keeps this test's users and teams apart from other tests' on a shared server."""
    return f"t{next(_unique)}"


@pytest.fixture
def laptops(
    request: pytest.FixtureRequest, backend: Backend, tmp_path: Path, tag: str
) -> Iterator[Callable[..., Laptop]]:
    """Make laptops for users ``NAME-tag`` in team ``TEAM-tag`` (``team=None``: no team)."""
    srv_name = next((n for n in ("server", "limited_server") if n in request.fixturenames), "shared_server")
    srv: ServerProcess = request.getfixturevalue(srv_name)
    made: list[Laptop] = []

    def make(
        name: str, team: str | None = "north", *, create_user: bool = True, manager: bool = False
    ) -> Laptop:
        username = f"{name}-{tag}"
        if create_user:
            srv.add_user(username, team=f"{team}-{tag}" if team else None, manager=manager)
        lap = Laptop(tmp_path / f"{username}-{len(made)}.sqlite", srv, username)
        lap.login()
        made.append(lap)
        return lap

    yield make
    for lap in made:
        lap.close()


class _CutStream(httpx.SyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream, limit: int, request: httpx.Request) -> None:
        self.inner, self.limit, self.request = inner, limit, request

    def __iter__(self) -> Iterator[bytes]:
        sent = 0
        for chunk in self.inner:
            if sent + len(chunk) >= self.limit:
                yield chunk[: self.limit - sent]
                raise httpx.ReadError("connection cut mid-body (test)", request=self.request)
            sent += len(chunk)
            yield chunk

    def close(self) -> None:
        self.inner.close()


class CutBodyTransport(httpx.BaseTransport):
    """The real transport, but the first ``times`` responses to ``path`` lose their connection
    after ``limit`` bytes of body (as sent: compressed), like Wi-Fi dropping mid-download."""

    def __init__(self, path: str, limit: int, times: int = 1) -> None:
        self.inner = httpx.HTTPTransport()
        self.path, self.limit, self.times = path, limit, times
        self.bodies: list[bytes] = []  # the requests to ``path``, to see what was asked for

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if not request.url.path.endswith(self.path):
            return response
        self.bodies.append(request.read())
        if self.times <= 0:
            return response
        self.times -= 1
        assert isinstance(response.stream, httpx.SyncByteStream)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_CutStream(response.stream, self.limit, request),
            request=request,
        )

    def close(self) -> None:
        self.inner.close()


def sync_state(lap: Laptop, key: str) -> Any:
    """One of the laptop's sync bookkeeping values (cursor, snapshot progress...)."""
    store = SyncStore(lap.db)
    try:
        return store.state(key)
    finally:
        store.close()


def raw_snapshot(lap: Laptop) -> bytes:
    """The laptop's snapshot body as the server sends it (gzip), to know how long it is."""
    headers = {PROTOCOL_HEADER: str(PROTOCOL), "Authorization": f"Bearer {lap.token}"}
    with httpx.stream("POST", f"{lap.server.base}{API}/snapshot", json={}, headers=headers, timeout=30) as r:
        assert r.status_code == 200
        return b"".join(r.iter_raw())
