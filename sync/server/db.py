"""The server's database: engines for SQLite or PostgreSQL, migrations, and the version counter."""

from __future__ import annotations

import functools
import os
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, bindparam, create_engine, event, insert, make_url, select, update

from sync.server import statements, tables
from sync.server.raw import Raw

try:
    import fcntl
except ImportError:  # Windows: the thread lock alone (one server process there)
    fcntl = None  # type: ignore[assignment]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "server_schema_version"
# ``ServerDB.schema_status``: the schema is this release's; migrations are pending (run
# ``python -m sync.server migrate``); a later release migrated it (a rolling upgrade: its
# migrations only add, so this release keeps working on it, docs/operations.md).
READY, PENDING, NEWER = "ready", "pending", "newer"
DEFAULT_SQLITE = "rapport-server.sqlite"


def now_iso() -> str:
    """The server's clock, for display and audit only (invariant 4: clocks decide nothing)."""
    return datetime.now(UTC).isoformat()


def default_url() -> str:
    return os.environ.get("DATABASE_URL") or f"sqlite:///{Path(DEFAULT_SQLITE).resolve()}"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # transactions begun explicitly below
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA busy_timeout = 30000")
    cur.execute("PRAGMA foreign_keys = ON")
    cur.execute("PRAGMA synchronous = NORMAL")
    cur.execute("PRAGMA journal_mode = WAL")
    cur.close()


def _make_engine(url: str, *, immediate: bool) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            # A writer takes SQLite's single write lock up front: writers are serialised in commit
            # order, which is what makes the version counter commit-ordered on SQLite.
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    # No pre-ping: it is a round trip on every request. A connection that died (PostgreSQL
    # restarted) fails its request once; the pool is then invalidated (``raw.Raw.translated``
    # and SQLAlchemy both do it) and the client, told 503, retries on a fresh connection.
    # Per process: with several processes, processes x (size + overflow) must stay under
    # PostgreSQL's max_connections (docs/operations.md).
    pool_size = int(os.environ.get("RAPPORT_DB_POOL_SIZE", "10"))
    overflow = int(os.environ.get("RAPPORT_DB_MAX_OVERFLOW", "10"))
    return create_engine(url, pool_size=pool_size, max_overflow=overflow)


class _SQLiteWriters:
    """Queues the server's writers for SQLite's one write lock.

    A writer that finds the lock taken otherwise waits in SQLite's busy handler, which polls
    with sleeps growing to 100 ms: under load writers then queue by luck, some for seconds.
    Here they wait on a thread lock (writers of this process) and on ``flock`` of a file beside
    the database (the other server processes under ``--workers``), and wake as soon as the writer
    before them commits. The admin commands do not take it and still meet the busy timeout.
    """

    def __init__(self, url: str) -> None:
        self.thread_lock = threading.Lock()
        self.fd: int | None = None
        database = make_url(url).database
        if fcntl is not None and database and database != ":memory:":
            self.fd = os.open(f"{database}.writers", os.O_RDWR | os.O_CREAT, 0o600)

    @contextmanager
    def hold(self) -> Iterator[None]:
        with self.thread_lock:
            if self.fd is None:
                yield
                return
            fcntl.flock(self.fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self.fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


@functools.cache
def _release_revisions() -> tuple[frozenset[str], frozenset[str]]:
    """(heads, every revision) of this release's migrations: read once (Alembic runs each
    migration file to learn them, far too slow for every health check)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(cfg)
    return frozenset(script.get_heads()), frozenset(r.revision for r in script.walk_revisions())


class ServerDB:
    """Engines plus the few operations every request needs."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.write_engine = _make_engine(url, immediate=True)
        self.read_engine = _make_engine(url, immediate=False) if self.is_sqlite else self.write_engine
        self.glance_engine = (
            self.read_engine
            if self.is_sqlite
            else self.write_engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        self._writers = _SQLiteWriters(url) if self.is_sqlite else None

    @staticmethod
    def _alembic() -> Config:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        return cfg

    def schema_status(self) -> str:
        """``READY``, ``PENDING`` or ``NEWER``: where the database's schema stands against this
        release's migrations. Raises the database's error when it cannot be reached. One small
        query: the load balancer's health check runs it every second."""
        heads, known = _release_revisions()
        with self.glance_engine.connect() as conn:
            current = set(
                MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_heads()
            )
        if current == heads:
            return READY
        return NEWER if current and not current <= known else PENDING

    def migrate(self) -> None:
        cfg = self._alembic()
        with self.write_engine.connect() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
            conn.commit()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        if self._writers is None:
            with self.write_engine.begin() as conn:
                yield conn
            return
        with self._writers.hold(), self.write_engine.begin() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.read_engine.begin() as conn:
            yield conn

    @contextmanager
    def glance(self) -> Iterator[Connection]:
        """For reads whose statements need not share one snapshot (each sees what was committed
        when it began): on PostgreSQL no BEGIN and COMMIT round trips around them; on SQLite
        (a local file, no round trips) the same as ``read``."""
        with self.glance_engine.begin() as conn:
            yield conn

    def close(self) -> None:
        if self._writers is not None:
            self._writers.close()
        self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            self.read_engine.dispose()


_META = select(tables.meta.c.value).where(tables.meta.c.key == bindparam("key"))
_COMMITTED = select(tables.counter.c.version).where(tables.counter.c.id == 1)


def get_meta(conn: Connection, key: str) -> str:
    value = conn.scalar(_META, {"key": key})
    if value is None:
        raise KeyError(key)
    return str(value)


def set_meta(conn: Connection, key: str, value: str) -> None:
    conn.execute(update(tables.meta).where(tables.meta.c.key == key).values(value=value))


def new_epoch(conn: Connection) -> str:
    """Every laptop re-registers, gives back what this database lacks, and re-downloads.

    Not needed after a restore (the server notices by itself, see ``start_generation``); it
    makes every laptop reconcile at once.
    """
    epoch = uuid.uuid4().hex
    set_meta(conn, "epoch", epoch)
    start_generation(conn)
    return epoch


def start_generation(conn: Connection) -> str:
    """Begin a new generation at the current counter (at every server start).

    The counter row is locked, so every version committed before this has the old generation's
    range and every later one the new range: a cursor read with the old generation never names
    a version above the old one's end unless it came from a history this database lost.
    """
    counter = VersionCounter(conn)
    counter.lock()
    at = int(counter.current or 0)
    g = tables.generations
    conn.execute(update(g).where(g.c.last_version.is_(None)).values(last_version=at))
    generation = uuid.uuid4().hex
    conn.execute(insert(g).values(id=generation, first_version=at, started_at=now_iso()))
    return generation


def generation_end(conn: Connection, generation: str | None) -> int | None:
    """Where ``generation`` ended: -1 while it is the current one, None if unknown (or none given)."""
    if generation is None:
        return None
    g = tables.generations
    found = conn.execute(select(g.c.last_version).where(g.c.id == generation)).first()
    if found is None:
        return None
    return -1 if found[0] is None else int(found[0])


def fork_point(conn: Connection, generations: Sequence[str]) -> int:
    """The last version this database shares with a laptop that saw ``generations`` (newest
    first): the end of the newest one it knows (if that is the current one, its start: the
    laptop then gives back what it holds from this run too), or 0 when it knows none of them
    (the laptop gives back everything it holds). Always 0 or a generation's end, the only
    points ``merge.Applier`` accepts a give-back from."""
    g = tables.generations
    known = {
        row.id: (row.first_version, row.last_version)
        for row in conn.execute(
            select(g.c.id, g.c.first_version, g.c.last_version).where(g.c.id.in_(list(generations)))
        )
    }
    for generation in generations:
        if generation in known:
            first, last = known[generation]
            return int(first if last is None else last)
    return 0


class VersionCounter:
    """Hands out versions inside one write transaction; the row stays locked until commit.

    On PostgreSQL ``SELECT ... FOR UPDATE`` holds the counter row, so a transaction that took a
    lower version commits before any later one can take a version: readers that see version V
    committed see every row below it. On SQLite the writer already holds the database lock.
    """

    def __init__(self, conn: Connection | Raw, *, locked_at: int | None = None) -> None:
        """``locked_at``: the caller already locked the counter row and read this version."""
        self.raw = conn if isinstance(conn, Raw) else Raw(conn)
        self.current = locked_at

    def lock(self) -> None:
        """Take the counter row now. Writers call this before reading the rows they will merge
        into, so two transactions never merge against the same stale row (a lost update)."""
        if self.current is None:
            row = self.raw.first(statements.LOCK_COUNTER)
            self.current = int(row[0]) if row is not None else 0

    def next(self) -> int:
        self.lock()
        assert self.current is not None
        self.current += 1
        return self.current

    def flush(self) -> None:
        if self.current is not None:
            self.raw.run(statements.SET_COUNTER, {"version": self.current})


def committed_version(conn: Connection) -> int:
    return int(conn.scalar(_COMMITTED) or 0)
