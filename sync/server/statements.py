"""The statements the busy requests run on the driver connection (``raw.Raw``), in one place.

Every statement that writes or reads a whole row takes its column list from the table
definitions (``tables.<t>.c``), once, at import: the text the drivers see is plain SQL built
before the first request, as fast as the hand-written strings it replaces, and a column added
to a table is written and read by every statement at once. A statement that leaves a column
out names it here, with the reason. ``tests/server/test_statements.py`` reads the text of each
one, for both drivers (the PostgreSQL text too, without a PostgreSQL server), and fails when a
statement misses a column of its table.

The parameters are dicts, and both drivers ignore keys a statement does not name: that is why
the column lists come from the tables and not from the dicts (a value the dicts lack is an
error from the driver, not a column silently left unwritten).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import JSON, Table

from sync.server import tables
from sync.server.raw import Sql


def columns(table: Table, *, leave_out: Iterable[str] = ()) -> tuple[str, ...]:
    """The table's column names in their declared order, but ``leave_out`` (each must exist)."""
    left = set(leave_out)
    unknown = left - set(table.c.keys())
    if unknown:
        raise ValueError(f"{table.name} has no column {sorted(unknown)}")
    return tuple(c.name for c in table.c if c.name not in left)


def json_columns(table: Table) -> frozenset[str]:
    """The columns whose parameters go through ``Raw.json_in`` and whose values come back as text."""
    return frozenset(c.name for c in table.c if isinstance(c.type, JSON))


def _name(table: Table) -> str:
    # Quoted: ROWS is a keyword of both dialects (window frames); the rest are quoted alike.
    return f'"{table.name}"'


def _key(table: Table) -> tuple[str, ...]:
    return tuple(c.name for c in table.primary_key.columns)


def _read(table: Table, name: str) -> str:
    """A column as selected: JSON as text, which ``raw.json_out`` reads the same from both
    drivers (psycopg would parse it or not, depending on how SQLAlchemy set the connection up)."""
    column = table.c[name]
    return f"CAST({name} AS TEXT)" if isinstance(column.type, JSON) else name


def select_list(table: Table, *, leave_out: Iterable[str] = ()) -> str:
    return ", ".join(_read(table, name) for name in columns(table, leave_out=leave_out))


def insert(table: Table, *, leave_out: Iterable[str] = ()) -> Sql:
    names = columns(table, leave_out=leave_out)
    return Sql(
        f"INSERT INTO {_name(table)} ({', '.join(names)}) VALUES ({', '.join(':' + n for n in names)})"
    )


def update(table: Table, *, leave_out: Iterable[str] = ()) -> Sql:
    """Every column but the primary key (which picks the row) and ``leave_out``."""
    key = _key(table)
    sets = ", ".join(f"{n} = :{n}" for n in columns(table, leave_out=(*key, *leave_out)))
    where = " AND ".join(f"{k} = :{k}" for k in key)
    return Sql(f"UPDATE {_name(table)} SET {sets} WHERE {where}")


def _insert_json(table: Table, param: str) -> str:
    """PostgreSQL: insert the rows of a JSON array parameter (objects keyed by column name)."""
    names = ", ".join(columns(table))
    return (
        f"INSERT INTO {_name(table)} ({names}) SELECT {names} "
        f"FROM json_populate_recordset(NULL::{_name(table)}, CAST(:{param} AS json))"
    )


def _update_json(table: Table, param: str, *, leave_out: Iterable[str] = ()) -> str:
    """PostgreSQL: update, by primary key, the rows of a JSON array parameter."""
    key = _key(table)
    sets = ", ".join(f"{n} = c.{n}" for n in columns(table, leave_out=(*key, *leave_out)))
    where = " AND ".join(f"r.{k} = c.{k}" for k in key)
    return (
        f"UPDATE {_name(table)} AS r SET {sets} "
        f"FROM json_populate_recordset(NULL::{_name(table)}, CAST(:{param} AS json)) AS c WHERE {where}"
    )


# --- Users and tokens -------------------------------------------------------------------------

# The token and its user: this runs on every request, inside the request's own transaction, so
# a revoked or expired token is refused from the next request on (no cache). The busy requests
# add their own columns to the same statement (``token_query``): one round trip, not several.
_TOKEN_COLUMNS = "t.expires_at, t.revoked_at, u.id, u.name, u.manager, m.name"
_TOKEN_FROM = (
    "FROM tokens t JOIN users u ON u.id = t.user_id LEFT JOIN teams m ON m.id = u.team_id "
    "WHERE t.token_hash = :token_hash"
)
TOKEN_WIDTH = 6  # the columns ``auth.actor_from`` reads; the caller's own follow


def token_query(*extra_columns: str) -> Sql:
    """The token check, plus scalar ``extra_columns`` (which may use ``u.id``, the user's id)."""
    return Sql(f"SELECT {', '.join((_TOKEN_COLUMNS, *extra_columns))} {_TOKEN_FROM}")


TOKEN_USER = token_query()

# What the server needs to judge a laptop's cursor, read with the token check: the committed
# counter, and where the cursor's generation ended (-1: it is the current one; NULL: unknown).
_COMMITTED = "(SELECT version FROM counter WHERE id = 1)"
_GENERATION_ENDED = "(SELECT COALESCE(last_version, -1) FROM generations WHERE id = :generation)"
_EPOCH = "(SELECT value FROM meta WHERE key = 'epoch')"

# --- The version counter (``db.VersionCounter``) ----------------------------------------------

LOCK_COUNTER = Sql("SELECT version FROM counter WHERE id = 1 {for_update}")
SET_COUNTER = Sql("UPDATE counter SET version = :version WHERE id = 1")

# --- Push: the exactly-once bookkeeping (``push.push``) ------------------------------------

PUSH_START = token_query(_EPOCH, _COMMITTED, _GENERATION_ENDED)
# The client row and the version counter, both locked, in one statement. Locking the client row
# serialises two copies of the same batch arriving at once: the second waits, then finds the
# stored results. The counter is taken before the rows the batch merges into are read, so two
# pushes never merge against the same stale row. (No deadlock: the counter is the only row two
# clients' pushes share, and copies of one client's push lock in the same plan order.)
CLIENT_AND_COUNTER = Sql(
    "SELECT c.user_id, c.last_mid, k.version FROM clients c, counter k "
    "WHERE c.id = :client_id AND k.id = 1 {for_update}"
)
# A stored result, but the client id it is looked up by.
STORED_RESULTS = Sql(
    f"SELECT {select_list(tables.results, leave_out=('client_id',))} FROM {_name(tables.results)} "
    "WHERE client_id = :client_id AND mid >= :first AND mid <= :last"
)
INSERT_RESULT = insert(tables.results)
SET_LAST_MID = Sql("UPDATE clients SET last_mid = :last_mid WHERE id = :client_id")
PRUNE_RESULTS = Sql("DELETE FROM results WHERE client_id = :client_id AND mid <= :through")

# --- Applying mutations (``merge.Applier`` over ``batch.Batch``) -----------------------------

ROW_COLUMNS = columns(tables.rows)
_ROW_SELECT = f"SELECT {select_list(tables.rows)} FROM {_name(tables.rows)}"
ROW = Sql(f"{_ROW_SELECT} WHERE entity = :entity AND id = :id")
# Every row named by a batch, in one statement: ``{entities}`` and ``{ids}`` are ``Raw.in_list``s.
ROWS_IN = _ROW_SELECT + " WHERE entity {entities} AND id {ids}"
INSERT_ROW = insert(tables.rows)
# The whole row but its key and its scope (only an account move changes a scope, on Core):
# ``Batch.rows`` holds what this transaction read, so writing every column back is the same as
# writing the changed ones, and one statement serves every kind of write.
ROW_UPDATE_LEAVES_OUT = ("scope",)
UPDATE_ROW = update(tables.rows, leave_out=ROW_UPDATE_LEAVES_OUT)
INSERT_CONFLICT = insert(tables.conflicts)
# The id is the table's own sequence.
INSERT_EVICTION = insert(tables.evictions, leave_out=("id",))
# The author's scope a row was moved out of: ``{scopes}`` is a ``Raw.in_list``.
LEFT_FROM = (
    "SELECT scope FROM evictions WHERE scope {scopes} AND entity = :entity "
    "AND row_id = :row_id ORDER BY version DESC LIMIT 1"
)
GIVEN_BACK = Sql(
    "SELECT old_version FROM given_back WHERE entity = :entity AND id = :id AND version = :version"
)
GENERATION_END = Sql("SELECT 1 FROM generations WHERE last_version = :version")
FORGET_GIVEN_BACK = Sql("DELETE FROM given_back WHERE entity = :entity AND id = :id")
NOTE_GIVEN_BACK = insert(tables.given_back)

# On PostgreSQL a push's writes are one statement (data-modifying CTEs; each part touches rows no
# other part does, so they need not see each other's effects): one round trip and one execute,
# where five statements cost psycopg about 0.6 ms of CPU even pipelined, and the server's CPU is
# what 50 laptops syncing at once wait for. The row sets travel as JSON arrays of objects keyed
# by column name (a key missing from them would be NULL: ``Batch.pending`` gives every column).
PG_WRITE = Sql(
    f"WITH new_rows AS ({_insert_json(tables.rows, 'new_rows')}), "
    f"changed_rows AS ({_update_json(tables.rows, 'changed_rows', leave_out=ROW_UPDATE_LEAVES_OUT)}), "
    f"new_conflicts AS ({_insert_json(tables.conflicts, 'conflicts')}), "
    f"new_results AS ({_insert_json(tables.results, 'results')}), "
    "new_counter AS (UPDATE counter SET version = :version WHERE id = 1) "
    "UPDATE clients SET last_mid = :last_mid WHERE id = :client_id"
)

# --- Pull (``reads.pull``) ---------------------------------------------------------------------

PULL_START = token_query(
    _EPOCH,
    "(SELECT value FROM meta WHERE key = 'purged_through')",
    _COMMITTED,
    "(SELECT COALESCE(scopes, '') FROM clients WHERE id = :client_id AND user_id = u.id)",
    "(SELECT id FROM generations WHERE last_version IS NULL)",
    _GENERATION_ENDED,
    "(SELECT last_mid FROM clients WHERE id = :client_id)",
)
CLIENT_SCOPES = Sql("SELECT COALESCE(scopes, '') FROM clients WHERE id = :client_id AND user_id = :user_id")

# The three kinds of change a pull returns, one statement (one round trip on PostgreSQL): each
# part is a keyset page of its own table, all in one column layout, ``PAGE_SLOTS``.
PAGE_SLOTS = (
    "version", "kind", "entity", "row_id", "conflict_id", "field", "conflict_kind", "data", "lost", "at",
    "user", "deleted_at",
)  # fmt: skip
# Which column of each table fills which slot, and what a laptop is not sent: the scope (the
# page is the user's scopes already), and the server's own bookkeeping (a row's
# ``deleted_version`` and ``writer``, an eviction's own id).
PAGE_PARTS: tuple[tuple[Table, str, dict[str, str]], ...] = (
    (
        tables.rows,
        "r",
        {"version": "version", "entity": "entity", "row_id": "id", "data": "data", "at": "updated_at",
         "deleted_at": "deleted_at"},
    ),
    (
        tables.conflicts,
        "c",
        {"version": "version", "entity": "entity", "row_id": "row_id", "conflict_id": "id", "field": "field",
         "conflict_kind": "kind", "data": "kept", "lost": "lost", "at": "at", "user": "user_name"},
    ),
    (tables.evictions, "e", {"version": "version", "entity": "entity", "row_id": "row_id"}),
)  # fmt: skip


def _page_part(table: Table, kind: str, slots: dict[str, str]) -> str:
    unknown = set(slots) - set(PAGE_SLOTS) | ({"kind"} & set(slots))
    if unknown:
        raise ValueError(f"no page slot {sorted(unknown)}")
    selected = ", ".join(
        f"'{kind}'" if slot == "kind" else _read(table, slots[slot]) if slot in slots else "NULL"
        for slot in PAGE_SLOTS
    )
    return (
        f"SELECT * FROM (SELECT {selected} FROM {_name(table)} WHERE scope {{scopes}} "
        f"AND version > :after AND version <= :upper ORDER BY version LIMIT :limit) AS {kind}"
    )


# ``{scopes}`` is a ``Raw.in_list``.
PAGE = " UNION ALL ".join(_page_part(table, kind, slots) for table, kind, slots in PAGE_PARTS)
