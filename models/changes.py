"""The change-tracking hook: every ORM change to a synced row writes an outbox entry.

It runs in ``before_flush``, so the outbox entry commits in the same SQLite transaction as the
change itself (sync invariant 1), and no service can forget it. Sync applies pulled rows in a
session marked ``remote`` (see :func:`mark_remote`), which is not recorded.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, event, insert, inspect, update
from sqlalchemy.orm import Session

from models.entities import OutboxEntry, SyncedMixin
from models.types import to_wire, utcnow

REMOTE_KEY = "rapport.remote"
CHANGED_KEY = "rapport.changed"


def mark_remote(session: Session) -> None:
    """Changes in this session come from the server: stamp nothing, queue nothing."""
    session.info[REMOTE_KEY] = True


def changed_entities(session: Session) -> set[str]:
    """Entity names touched in this session so far (the UI refreshes the views that show them)."""
    return set(session.info.get(CHANGED_KEY, set()))


def _editable_columns(obj: SyncedMixin) -> list[str]:
    mapper = inspect(type(obj))
    return [c.key for c in mapper.column_attrs if c.key not in obj.bookkeeping]


def _record(
    session: Session, obj: SyncedMixin, op: str, patch: dict[str, Any], before: dict[str, Any]
) -> None:
    session.add(
        OutboxEntry(
            entity=obj.__entity__,
            row_id=obj.id,
            op=op,
            patch={k: to_wire(v) for k, v in patch.items()},
            before={k: to_wire(v) for k, v in before.items()},
        )
    )


@event.listens_for(Session, "before_flush")
def _track_changes(session: Session, flush_context: object, instances: object) -> None:
    changed: set[str] = session.info.setdefault(CHANGED_KEY, set())
    remote = session.info.get(REMOTE_KEY, False)
    now = utcnow()
    for obj in list(session.new):
        if not isinstance(obj, SyncedMixin):
            continue
        changed.add(obj.__entity__)
        if remote:
            continue
        obj.created_at = obj.created_at or now
        obj.updated_at = now
        # Defaults are applied at INSERT time, so fill them now to send complete rows.
        mapper = inspect(type(obj))
        patch: dict[str, Any] = {}
        for key in _editable_columns(obj):
            value = getattr(obj, key)
            if value is None:
                col = mapper.columns[key]
                if col.default is not None and col.default.is_scalar:
                    value = col.default.arg
                elif col.default is not None and col.default.is_callable:
                    value = col.default.arg(None)  # type: ignore[operator]
                setattr(obj, key, value)
            patch[key] = value
        if obj.id is None:
            obj.id = mapper.columns["id"].default.arg(None)  # type: ignore[union-attr]
        _record(session, obj, "create", patch, {})
    for obj in list(session.dirty):
        if not isinstance(obj, SyncedMixin) or not session.is_modified(obj):
            continue
        changed.add(obj.__entity__)
        if remote:
            continue
        state = inspect(obj)
        patch, before = {}, {}
        for key in [*_editable_columns(obj), "deleted_at"]:
            hist = state.attrs[key].history
            if not hist.has_changes():
                continue
            old = hist.deleted[0] if hist.deleted else None
            new = hist.added[0] if hist.added else None
            if old == new:
                continue
            patch[key], before[key] = new, old
        if not patch:
            continue
        obj.updated_at = now
        if "deleted_at" in patch:
            op = "delete" if patch["deleted_at"] is not None else "restore"
            patch.pop("deleted_at")
            before.pop("deleted_at")
            _record(session, obj, op, {}, {})
            if patch:  # an edit made in the same action as a restore still syncs
                _record(session, obj, "update", patch, before)
        else:
            _record(session, obj, "update", patch, before)


# A trigger that copies each new row into a full-text index: "AFTER INSERT ON t [WHEN ...] BEGIN
# INSERT INTO t_fts(cols) VALUES (new.a, ...); END" (migrations 0001, 0005...).
_INDEX_TRIGGER = re.compile(
    r"^CREATE TRIGGER \S+ AFTER INSERT ON (\w+)(?: WHEN (.+?))? BEGIN "
    r"(INSERT INTO (\w+)\s*\([^)]*\)) VALUES \(([^;]*)\); END$",  # one statement, nothing else
    re.IGNORECASE | re.DOTALL,
)


@contextmanager
def _search_index_after(conn: Connection, table: str) -> Iterator[None]:
    """Fill the full-text index of ``table``'s new rows in one statement after the inserts.

    FTS5 flushes its pending terms at the end of every statement, so its trigger, run once per
    inserted row, writes a segment per row and merges them: 10,000 imported contacts cost 5 s of
    CPU that way, against a tenth of that for one INSERT ... SELECT. The trigger is dropped and
    put back inside the caller's transaction (DDL is transactional in SQLite), so no reader ever
    sees it missing and a rollback restores it. A trigger of another shape is left to run.
    """
    fts = {
        name
        for (name,) in conn.exec_driver_sql(
            "SELECT name FROM sqlite_master "
            "WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE % USING fts5%'"
        )
    }
    deferred = []
    for name, sql in conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", (table,)
    ):
        m = _INDEX_TRIGGER.match(" ".join(sql.split()))
        if m and m.group(1) == table and m.group(4) in fts:
            deferred.append((name, sql, m))
    top = conn.exec_driver_sql(f'SELECT coalesce(max(rowid), 0) FROM "{table}"').scalar() if deferred else 0
    for name, _sql, _m in deferred:
        conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
    yield
    for _name, sql, m in deferred:
        conn.exec_driver_sql(sql)
        where = f"rowid > {int(top or 0)}" + (f" AND ({_NEW.sub('', m.group(2))})" if m.group(2) else "")
        conn.exec_driver_sql(f'{m.group(3)} SELECT {_NEW.sub("", m.group(5))} FROM "{table}" WHERE {where}')


_NEW = re.compile(r"\bnew\.", re.IGNORECASE)


def _complete(cls: type[SyncedMixin], values: dict[str, Any]) -> dict[str, Any]:
    """Every editable column of a new row, defaults filled in as the hook fills them."""
    mapper = inspect(cls)
    out: dict[str, Any] = {}
    for attr in mapper.column_attrs:
        key = attr.key
        if key in cls.bookkeeping:
            continue
        value = values.get(key)
        if value is None:
            col = mapper.columns[key]
            if col.default is not None and col.default.is_scalar:
                value = col.default.arg
            elif col.default is not None and col.default.is_callable:
                value = col.default.arg(None)  # type: ignore[operator]
        out[key] = value
    return out


def bulk_create(session: Session, cls: type[SyncedMixin], rows: list[dict[str, Any]]) -> list[uuid.UUID]:
    """Insert many new rows, each with the outbox entry the hook would write for it, in two
    executemany statements: an import of 10,000 contacts through the ORM flush costs seconds
    more. ``rows`` hold editable column values (an ``id`` is made when missing)."""
    if not rows:
        return []
    now = utcnow()
    table_rows, outbox = [], []
    ids = []
    for values in rows:
        row_id = values.get("id") or uuid.uuid4()
        patch = _complete(cls, values)
        ids.append(row_id)
        table_rows.append({**patch, "id": row_id, "created_at": now, "updated_at": now})
        outbox.append(
            {
                "entity": cls.__entity__,
                "row_id": row_id,
                "op": "create",
                "patch": {k: to_wire(v) for k, v in patch.items()},
                "before": {},
                "created_at": now,
            }
        )
    # Core inserts on the tables: every row has the same keys, so each is one executemany. The
    # ORM's bulk insert splits the rows into a batch per pattern of None values (a column whose
    # default would fill them), which cost a statement per few rows.
    with _search_index_after(session.connection(), cls.__tablename__):  # type: ignore[attr-defined]
        session.execute(insert(cls.__table__), table_rows)  # type: ignore[attr-defined]
    if not session.info.get(REMOTE_KEY, False):
        session.execute(insert(OutboxEntry.__table__), outbox)  # type: ignore[arg-type]
    session.info.setdefault(CHANGED_KEY, set()).add(cls.__entity__)
    return ids


def bulk_delete(session: Session, cls: type[SyncedMixin], ids: list[uuid.UUID]) -> list[uuid.UUID]:
    """Soft-delete the live rows among ``ids``, with the outbox entries the hook writes for a
    delete; returns the ids it deleted. Loaded objects of these rows are expired."""
    now = utcnow()
    deleted: list[uuid.UUID] = []
    table = cls.__table__  # type: ignore[attr-defined]
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        stmt = (
            update(table)
            .where(table.c.id.in_(chunk), table.c.deleted_at.is_(None))
            .values(deleted_at=now, updated_at=now)
            .returning(table.c.id)
        )
        deleted.extend(session.execute(stmt).scalars())
    if deleted:
        session.execute(
            insert(OutboxEntry.__table__),  # type: ignore[arg-type]
            [
                {
                    "entity": cls.__entity__,
                    "row_id": rid,
                    "op": "delete",
                    "patch": {},
                    "before": {},
                    "created_at": now,
                }
                for rid in deleted
            ],
        )
        session.info.setdefault(CHANGED_KEY, set()).add(cls.__entity__)
        for obj in list(session.identity_map.values()):
            if isinstance(obj, cls) and obj.id in deleted:
                session.expire(obj)
    return deleted
