"""Loading many rows at once: suspend the triggers that keep derived data, then rebuild it.

The full-text index and ``contacts.last_contact_at`` are kept by SQLite triggers, one small
write per row. For a bulk load (sample data, a new laptop's first sync of 450,000 rows) that is
most of the cost; rebuilding them once afterwards is several times cheaper (FTS5 'rebuild' of a
million notes: 6 s; kept row by row while loading: most of a 4-minute load).

A suspension is recorded in ``meta`` in the same transaction as the DROP TRIGGERs (DDL is
transactional in SQLite), so a load that is killed half-way is finished when the database is
next opened (:func:`finish_suspended`): the index is never left stale.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection

SUSPENDED_KEY = "bulk.suspended_triggers"
_RECOMPUTE_LAST_CONTACT = (
    "UPDATE contacts SET last_contact_at = (SELECT max(occurred_at) FROM notes "
    "WHERE notes.contact_id = contacts.id AND notes.deleted_at IS NULL)"
)


def _meta_get(conn: Connection) -> list[list[str]] | None:
    row = conn.exec_driver_sql("SELECT value FROM meta WHERE key = ?", (SUSPENDED_KEY,)).first()
    return None if row is None else json.loads(row[0])


def suspend_derived(conn: Connection) -> None:
    """Drop the derived-data triggers, remembering them (call inside a write transaction)."""
    if _meta_get(conn) is not None:
        return  # already suspended (a load that resumes)
    triggers = [
        [name, sql]
        for name, sql in conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
        )
    ]
    conn.exec_driver_sql("INSERT INTO meta (key, value) VALUES (?, ?)", (SUSPENDED_KEY, json.dumps(triggers)))
    for name, _sql in triggers:
        conn.exec_driver_sql(f'DROP TRIGGER "{name}"')


def restore_derived(conn: Connection) -> bool:
    """Rebuild what the triggers would have kept and put them back. False if nothing was
    suspended."""
    triggers = _meta_get(conn)
    if triggers is None:
        return False
    # Every full-text index the schema has (read from it, so a new one is never missed).
    fts_tables = [
        name
        for (name,) in conn.exec_driver_sql(
            "SELECT name FROM sqlite_master "
            "WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE % USING fts5%'"
        )
    ]
    for fts in fts_tables:
        conn.exec_driver_sql(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")
    conn.exec_driver_sql(_RECOMPUTE_LAST_CONTACT)
    for _name, sql in triggers:
        conn.exec_driver_sql(sql)
    conn.exec_driver_sql("DELETE FROM meta WHERE key = ?", (SUSPENDED_KEY,))
    return True


@contextmanager
def bulk_load(conn: Connection) -> Iterator[None]:
    """One transaction's worth of bulk inserts with derived data rebuilt once at the end.

    On an error nothing is rebuilt here: the caller's rollback undoes the DROP TRIGGERs too.
    """
    suspend_derived(conn)
    yield
    restore_derived(conn)


def finish_suspended(conn: Connection) -> bool:
    """At open: finish a bulk load that was cut off (the caller commits). True if it did."""
    return restore_derived(conn)
