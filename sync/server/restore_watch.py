"""Notices, without a restart, that the PostgreSQL database under a running server was replaced.

Restore detection (``db.start_generation``) needs a generation the restored database never saw
to start before anything is written to it: a cursor of the lost history then names a version
above its generation's end, however far new writes push the counter. Every server start begins
one; with several processes behind a load balancer the database may be restored under processes
that keep running, and their first writes to it would otherwise reuse the lost versions in the
generation the backup ended in (a laptop holding them would then skip the new rows and never give
back the lost ones).

A restore always breaks the server's connections (the database is dropped and made again, or
the cluster restarted), so each process sees it where it connects: every new connection reads
the database's fingerprint (its OID, the ``counter`` table's file, the WAL timeline), and one
that differs from what this process first connected to starts a new generation on that
connection, before the connection serves any request. Several processes noticing at once each
start one: harmless, like several starts. A failover to a replica that had every commit also
changes the timeline: an extra generation, equally harmless.

Not noticed: a restore that keeps the OID, the table file and the timeline, which only a
file-level copy of the whole cluster back into place does (``pg_basebackup`` with no recovery
run); servers must be restarted after that (docs/operations.md). On SQLite the server process
must be stopped for a restore (it holds the file open) and starts a generation when started.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any

import psycopg
from sqlalchemy import event

from sync.server import observe
from sync.server.db import ServerDB

log = logging.getLogger(__name__)

_FINGERPRINT = (
    "SELECT d.oid, pg_relation_filenode('counter'), substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8) "
    "FROM pg_database d WHERE d.datname = current_database()"
)
# db.start_generation, on the driver's connection (there is no SQLAlchemy connection yet).
_LOCK_COUNTER = "SELECT version FROM counter WHERE id = 1 FOR UPDATE"
_END_GENERATION = "UPDATE generations SET last_version = %s WHERE last_version IS NULL"
_NEW_GENERATION = "INSERT INTO generations (id, first_version, started_at) VALUES (%s, %s, %s)"


class RestoreWatch:
    """Compares each new connection's database with the one this process started on."""

    def __init__(self) -> None:
        self.fingerprint: tuple[Any, ...] | None = None
        self.noticed = 0  # restores noticed (the metrics and tests read it)

    def on_connect(self, dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        try:
            try:
                cursor.execute(_FINGERPRINT)
            except psycopg.Error as exc:
                # No counter table: a database being made or restored (the request gets 503).
                raise psycopg.OperationalError(f"the database is not ready: {exc}") from exc
            seen = tuple(cursor.fetchone())
            if self.fingerprint is None:
                self.fingerprint = seen
            elif seen != self.fingerprint:
                cursor.execute(_LOCK_COUNTER)
                row = cursor.fetchone()
                if row is None:
                    # A database still being restored: refuse the connection (the request is
                    # answered 503) and look again at the next one.
                    raise psycopg.OperationalError("the database is being restored")
                at = int(row[0])
                cursor.execute(_END_GENERATION, (at,))
                cursor.execute(_NEW_GENERATION, (uuid.uuid4().hex, at, datetime.now(UTC).isoformat()))
                self.fingerprint = seen
                self.noticed += 1
                observe.RESTORES.inc()
                log.warning("the database was replaced (restored from a backup?): new generation at %d", at)
            dbapi_conn.commit()
        except Exception:
            dbapi_conn.rollback()
            raise
        finally:
            cursor.close()


def watch_restores(db: ServerDB) -> RestoreWatch | None:
    """Install the watch on ``db``'s PostgreSQL connections (None on SQLite)."""
    if db.is_sqlite:
        return None
    watch = RestoreWatch()
    event.listen(db.write_engine, "connect", watch.on_connect)
    # The pooled connections were made before the watch: make one now, so the fingerprint to
    # compare with is this database's, not that of whatever the next connection finds.
    db.write_engine.dispose()
    with db.glance():
        pass
    return watch
