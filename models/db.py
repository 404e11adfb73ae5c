"""Opening the local database: checks, pragmas, backup, migrations, and the session factories.

A file that is locked, read-only, corrupt, not Rapport's, or written by a newer Rapport is
refused with a typed error *before* anything is written to it.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

import models.changes  # noqa: F401  (registers the change-tracking hook)
from models import errors
from models.backup import backup_name, copy_database
from models.bulk import finish_suspended
from models.migrate import head_revision, known_revisions, upgrade
from models.types import json_text

log = logging.getLogger(__name__)

# PRAGMA application_id marks a file as ours ("RPRT"), so we never migrate someone else's file.
APPLICATION_ID = 0x52505254
BUSY_TIMEOUT_MS = 5000


def _set_pragmas(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
    # Autocommit at the driver level; transactions are begun explicitly in _begin below, which is
    # SQLAlchemy's documented recipe for correct SQLite transaction handling with pysqlite.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA foreign_keys = ON")
    cur.execute("PRAGMA synchronous = NORMAL")
    cur.execute("PRAGMA cache_size = -32000")  # 32 MB page cache
    # Outside any transaction, as SQLite requires; a no-op once the file is in WAL mode.
    cur.execute("PRAGMA journal_mode = WAL")
    cur.close()


def make_engine(path: Path, *, immediate: bool) -> Engine:
    engine = create_engine(
        f"sqlite+pysqlite:///{path}", connect_args={"check_same_thread": False}, json_serializer=json_text
    )
    event.listen(engine, "connect", _set_pragmas)

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        # Writers take the lock up front (BEGIN IMMEDIATE), so two writers wait on the busy
        # timeout instead of failing half-way when a read transaction tries to upgrade.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _classify(exc: BaseException, path: Path) -> errors.DatabaseError | None:
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return errors.DatabaseLockedError(
            f"The database {path} is in use by another program (perhaps another Rapport window). "
            "Close it and try again."
        )
    if "readonly" in text or "read-only" in text or "attempt to write" in text:
        return errors.DatabaseReadOnlyError(
            f"The database {path} cannot be written to. Check that the file and its folder are not read-only."
        )
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return errors.DatabaseCorruptError(
            f"The file {path} is damaged or is not a database. It has not been changed. "
            "Restore it from a backup, or open another file."
        )
    if ("disk" in text and ("full" in text or "i/o" in text)) or getattr(exc, "errno", None) == errno.ENOSPC:
        return errors.DiskFullError(
            "The disk is full, so the change was not saved. Free some space and try again; "
            "everything saved before is intact."
        )
    if "unable to open" in text:
        return errors.DatabaseError(
            f"The database {path} cannot be opened. Check that the file exists and that you may "
            "read and write it and its folder."
        )
    return None


def classify_error(exc: BaseException, path: Path) -> BaseException:
    """Map a driver error to the typed error a rep can act on (or return it unchanged)."""
    return _classify(exc, path) or exc


@contextmanager
def typed_errors(path: Path) -> Iterator[None]:
    """Driver errors a rep can act on (damaged file, disk full, locked...) as typed errors;
    anything else (a bug) goes on unchanged, with its traceback."""
    try:
        yield
    except (DBAPIError, sqlite3.Error) as exc:  # through SQLAlchemy, or on the driver's connection
        typed = _classify(exc.orig or exc if isinstance(exc, DBAPIError) else exc, path)
        if typed is None:
            raise
        raise typed from exc


def check_integrity(db: Database) -> None:
    """``PRAGMA quick_check`` (every page read once, about 0.6 s per 130 MB): before work that
    would spread what a damaged file holds (a sync's push) or pile more onto it (sample data)."""
    with db.read() as s:
        found = [str(row[0]) for row in s.connection().exec_driver_sql("PRAGMA quick_check(3)")]
    if found != ["ok"]:
        log.error("quick_check of %s: %s", db.path, found)
        raise errors.DatabaseCorruptError(
            f"The database {db.path} is damaged ({found[0]}), so nothing was done with it. "
            "Restore it from a backup; your server keeps everything that was synced."
        )


@dataclass(frozen=True)
class _Inspection:
    empty: bool
    revision: str | None


_MAGIC = b"SQLite format 3\x00"


def _not_a_database(path: Path) -> errors.DatabaseCorruptError:
    return errors.DatabaseCorruptError(
        f"The file {path} is damaged or is not a database. It has not been changed. "
        "Restore it from a backup, or open another file."
    )


def _read_only_uri(path: Path) -> str:
    """A read-only URI that leaves nothing beside the file. Without a ``-wal`` file the main file
    holds every committed page, so it is read as immutable (SQLite then makes no ``-shm``/``-wal``
    of its own: a refused file must stay exactly as it was). With one, another program has the
    file open (or crashed): a plain read-only open sees its WAL and its locks."""
    wal = path.with_name(path.name + "-wal")
    return path.as_uri() + ("?mode=ro" if wal.exists() else "?mode=ro&immutable=1")


def _inspect_file(path: Path) -> _Inspection:
    """Look at the file read-only so that a refused file is never touched."""
    if not path.exists() or path.stat().st_size == 0:
        return _Inspection(empty=True, revision=None)
    if not os.access(path, os.R_OK):
        raise errors.DatabaseReadOnlyError(f"The database {path} cannot be read: permission denied.")
    try:
        with path.open("rb") as f:
            header = f.read(100)
    except OSError as exc:
        raise errors.DatabaseError(f"The database {path} cannot be read ({exc.strerror or exc}).") from exc
    if len(header) < 100 or not header.startswith(_MAGIC):
        raise _not_a_database(path)
    try:
        conn = sqlite3.connect(_read_only_uri(path), uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            user_version = conn.execute("PRAGMA user_version").fetchone()[0]
            # Every schema object: a file holding only a view (or an index, a trigger) is in use
            # by another program as surely as one holding a table.
            schema = {(t, n) for t, n in conn.execute("SELECT type, name FROM sqlite_master")}
            revision = None
            if ("table", "alembic_version") in schema:
                row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
                revision = row[0] if row else None
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise classify_error(exc, path) from exc
    if app_id == 0 and not schema and user_version == 0:
        return _Inspection(empty=True, revision=None)
    if app_id != APPLICATION_ID:
        raise errors.NotARapportDatabaseError(
            f"The file {path} is a database, but not a Rapport one. It has not been changed."
        )
    if revision is not None and revision not in known_revisions():
        raise errors.DatabaseTooNewError(
            f"The database {path} was written by a newer version of Rapport. "
            "Please update Rapport to open it; the file has not been changed."
        )
    return _Inspection(empty=False, revision=revision)


def needs_migration(path: Path | str) -> bool:
    """True when opening ``path`` will back it up and update its schema (which can take a while
    on a big file). Looks read-only; raises the same typed errors as :func:`open_database`."""
    path = Path(path).expanduser().resolve()
    if not path.exists() or path.is_dir():
        return False
    info = _inspect_file(path)
    return not info.empty and info.revision != head_revision()


def backup_file(path: Path, label: str) -> Path:
    """Copy the database with SQLite's online backup API (safe while WAL holds changes), beside
    it, under the name every backup has (``models.backup``), so the restore list shows it."""
    target = path.with_name(backup_name(path, label, datetime.now()))
    copy_database(path, target)
    return target


class Database:
    """An open local database: one engine for reads, one for writes (SQLite has one writer)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.read_engine = make_engine(path, immediate=False)
        self.write_engine = make_engine(path, immediate=True)
        self._read = sessionmaker(self.read_engine, expire_on_commit=False)
        self._write = sessionmaker(self.write_engine, expire_on_commit=False)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work. Safe to use from any thread (one session per call)."""
        with typed_errors(self.path), self._read() as session, session.begin():
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One user action: commits on success, rolls back everything on any error."""
        with typed_errors(self.path), self._write() as session, session.begin():
            yield session

    def close(self) -> None:
        self.read_engine.dispose()
        self.write_engine.dispose()


def open_database(path: Path | str, *, backup: bool = True) -> Database:
    """Open (creating or migrating as needed) the Rapport database at ``path``."""
    path = Path(path).expanduser().resolve()
    if path.is_dir():
        raise errors.DatabaseError(f"{path} is a folder, not a database file.")
    if path.parent.exists() and not path.parent.is_dir():
        raise errors.DatabaseError(f"Cannot create {path}: {path.parent} is a file, not a folder.")
    if not path.parent.exists():
        try:
            path.parent.mkdir(parents=True)
        except OSError as exc:
            raise errors.DatabaseReadOnlyError(
                f"Cannot create the folder {path.parent}: {exc.strerror}."
            ) from exc
    info = _inspect_file(path)
    made = not path.exists()
    writable_target = path if path.exists() else path.parent
    if not os.access(writable_target, os.W_OK) or (path.exists() and not os.access(path.parent, os.W_OK)):
        raise errors.DatabaseReadOnlyError(
            f"The database {path} cannot be written to. Check that the file and its folder are not read-only."
        )
    if not info.empty and info.revision != head_revision() and backup:
        if shutil.disk_usage(path.parent).free < path.stat().st_size * 1.2:
            raise errors.DiskFullError(
                "There is not enough free disk space to back up the database before updating it. "
                "Free some space and start Rapport again; nothing has been changed."
            )
        saved = backup_file(path, info.revision or "unversioned")
        log.info("backed up %s to %s before migrating", path, saved)
    db = Database(path)
    try:
        with db.write_engine.connect() as conn:
            if info.empty:
                conn.exec_driver_sql(f"PRAGMA application_id = {APPLICATION_ID}")
            if info.revision != head_revision():
                upgrade(conn)
            if finish_suspended(conn):
                log.warning("finished a bulk load that was cut off: search index rebuilt")
            conn.commit()
    except BaseException as exc:
        db.close()
        if made:  # half a schema on a full disk is no database: leave the folder as it was
            remove_database(path)
        if isinstance(exc, DBAPIError):
            raise classify_error(exc.orig or exc, path) from exc
        raise
    return db


def remove_database(path: Path) -> None:
    """Remove a database file this process made, with SQLite's files beside it."""
    for name in (path.name, path.name + "-wal", path.name + "-shm", path.name + "-journal"):
        path.with_name(name).unlink(missing_ok=True)
