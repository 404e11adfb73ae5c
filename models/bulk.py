"""Loading many rows at once: suspend the triggers that keep derived data, then rebuild it.

The full-text index and ``contacts.last_contact_at`` are kept by SQLite triggers, one small
write per row. For a bulk load (sample data, a new laptop's first sync of 450,000 rows) that is
most of the cost; rebuilding them once afterwards is several times cheaper (FTS5 'rebuild' of a
million notes: 6 s; kept row by row while loading: most of a 4-minute load). The same goes for
the record tables' secondary indexes: built once from the loaded rows they cost about a third of
what keeping them row by row does (bench/sync_bench.py). Unique indexes stay: they are
constraints, not derived data.

A suspension is recorded in ``meta`` in the same transaction as the DROP TRIGGERs (DDL is
transactional in SQLite), so a load that is killed half-way is finished when the database is
next opened (:func:`finish_suspended`): the index is never left stale.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection

from models.entities import SYNCED_CLASSES, ContactKind
from models.services.cadence import DAYS, DEFAULTS_KEY

SUSPENDED_KEY = "bulk.suspended_triggers"  # the name predates the indexes: kept for old files
# "Last contact" from every touch the triggers count (migration 0007): notes, then thank-yous,
# feedback and completed visits, each one set-based pass (a correlated lookup of the visits'
# JSON lists per contact would scan them 100,000 times).
_LATER = "WHERE contacts.id = t.cid AND (contacts.last_contact_at IS NULL OR contacts.last_contact_at < t.at)"
_RECOMPUTE_LAST_CONTACT = (
    "UPDATE contacts SET last_contact_at = (SELECT max(occurred_at) FROM notes "
    "WHERE notes.contact_id = contacts.id AND notes.deleted_at IS NULL)",
    *(
        f"UPDATE contacts SET last_contact_at = t.at FROM (SELECT contact_id AS cid, max({when}) AS at "
        f"FROM {table} WHERE deleted_at IS NULL AND contact_id IS NOT NULL GROUP BY contact_id) AS t {_LATER}"
        for table, when in (("appreciations", "given_at"), ("feedback", "received_at"))
    ),
    "UPDATE contacts SET last_contact_at = t.at FROM (SELECT replace(j.value, '-', '') AS cid, "
    "max(v.starts_at) AS at FROM visits AS v, json_each(v.contact_ids) AS j "
    f"WHERE v.status = 'done' AND v.deleted_at IS NULL GROUP BY 1) AS t {_LATER}",
)

# Check-ins kept due (migration 0015): the defaults copied from meta, then every row from the view
# that says what it should be (the same statements as the triggers on meta).
_REFILL_CHECKINS = (
    "DELETE FROM cadence_defaults",
    "INSERT OR REPLACE INTO cadence_defaults (scope, key, ideal, maximum) "
    "SELECT s.scope, e.key, {ideal}, {max} "
    "FROM (SELECT 'kind' AS scope, '$.kinds' AS path UNION ALL SELECT 'tier', '$.tiers') AS s, meta AS m, "
    "json_each(CASE WHEN json_valid(m.value) THEN CASE WHEN json_type(m.value, s.path) = 'object' "
    "THEN m.value END END, s.path) AS e "
    "WHERE m.key = '{key}' AND e.type = 'object' AND trim(e.key, ' ' || char(9, 10, 11, 12, 13)) <> '' "
    "AND (s.scope = 'tier' OR e.key IN ({kinds}))".format(
        **{
            f: f"CASE WHEN json_type(e.value, '$.{f}') = 'integer' AND json_extract(e.value, '$.{f}') "
            f"BETWEEN {DAYS[0]} AND {DAYS[1]} THEN json_extract(e.value, '$.{f}') END"
            for f in ("ideal", "max")
        },
        kinds=", ".join(f"'{k.value}'" for k in ContactKind),
        key=DEFAULTS_KEY,
    ),
    "DELETE FROM checkin_due",
    "INSERT INTO checkin_due (contact_id, due_at, ideal, maximum) "
    "SELECT contact_id, due_at, ideal, maximum FROM checkin_due_source",
)
# Follow-ups after a sale and thank-yous owed (migration 0017): every row from the views the
# triggers use.
_REFILL_FOLLOWUPS = (
    "DELETE FROM followup_due",
    "INSERT INTO followup_due (purchase_id, contact_id, bought, touched) "
    "SELECT purchase_id, contact_id, bought, touched FROM followup_due_source",
    "DELETE FROM thanks_owed",
    "INSERT INTO thanks_owed (row_id, reason, contact_id, day, at) "
    "SELECT row_id, reason, contact_id, day, at FROM thanks_owed_source",
)


def _meta_get(conn: Connection) -> dict[str, list[list[str]]] | None:
    row = conn.exec_driver_sql("SELECT value FROM meta WHERE key = ?", (SUSPENDED_KEY,)).first()
    if row is None:
        return None
    saved = json.loads(row[0])
    # Written by an older Rapport: a bare list of triggers.
    return {"triggers": saved, "indexes": []} if isinstance(saved, list) else saved


def _schema(conn: Connection, where: str) -> list[list[str]]:
    sql = f"SELECT name, sql FROM sqlite_master WHERE {where} ORDER BY name"
    return [[name, text] for name, text in conn.exec_driver_sql(sql)]


def suspend_derived(conn: Connection) -> None:
    """Drop the derived-data triggers and indexes, remembering them (inside a write transaction)."""
    if _meta_get(conn) is not None:
        return  # already suspended (a load that resumes)
    tables = ", ".join(f"'{cls.__tablename__}'" for cls in SYNCED_CLASSES)  # type: ignore[attr-defined]
    saved = {
        "triggers": _schema(conn, "type = 'trigger'"),
        # sql IS NULL: the indexes behind PRIMARY KEY / UNIQUE columns, which cannot be dropped.
        "indexes": _schema(
            conn,
            "type = 'index' AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%' "
            f"AND tbl_name IN ({tables})",
        ),
    }
    conn.exec_driver_sql("INSERT INTO meta (key, value) VALUES (?, ?)", (SUSPENDED_KEY, json.dumps(saved)))
    for name, _sql in saved["triggers"]:
        conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
    for name, _sql in saved["indexes"]:
        conn.exec_driver_sql(f'DROP INDEX "{name}"')


def restore_derived(conn: Connection) -> bool:
    """Rebuild what the triggers would have kept, put them and the indexes back. False if
    nothing was suspended."""
    saved = _meta_get(conn)
    if saved is None:
        return False
    for _name, sql in saved["indexes"]:
        conn.exec_driver_sql(sql)
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
    for sql in (*_RECOMPUTE_LAST_CONTACT, *_REFILL_CHECKINS, *_REFILL_FOLLOWUPS):
        conn.exec_driver_sql(sql)
    for _name, sql in saved["triggers"]:
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
