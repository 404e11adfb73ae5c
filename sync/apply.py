"""Applying what the server sends: pulled pages, their conflict records and evictions.

Pulled rows are written with Core statements in the store's session, which is marked remote,
so nothing is queued in the outbox; a page and its cursor commit in one transaction
(invariant 1). A field with a local edit not yet pushed keeps the local value (the server
merges the edit when it arrives); a row older than the one held is never written (a late
answer never goes back).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from models.entities import sync_conflicts, synced_class
from sync.fields import entity_fields
from sync.protocol import ConflictRecord, Eviction, PullResponse, RowChange
from sync.store import K_EPOCH, SyncStore, from_wire, outbox


@dataclass
class PageCounts:
    applied: int = 0
    stale: int = 0
    conflicts: int = 0
    evicted: int = 0


def _insert_many(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """executemany straight to the driver, with each column's own bind processor.

    A first sync inserts hundreds of thousands of rows; SQLAlchemy's per-row statement handling
    in ``session.execute(insert(table), rows)`` was a quarter of a first sync's time. Every row
    of a page has the same keys (defaults are filled in), so one statement serves them all.
    """
    conn = session.connection()
    names = list(rows[0])
    # dialect_impl: the SQLite type's own processor (a TypeDecorator's generic impl has none, and
    # sqlite3's fallback adapter writes datetimes in another format than the ORM does).
    dialect = conn.dialect
    processors = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names]
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})"
    params = [
        tuple(proc(row[name]) if proc else row[name] for name, proc in zip(names, processors, strict=True))
        for row in rows
    ]
    conn.exec_driver_sql(sql, params)


def pending_fields(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, set[str]]:
    """Fields with local edits not yet pushed: a pulled value must not overwrite them."""
    out: dict[uuid.UUID, set[str]] = {}
    for chunk in range(0, len(ids), 500):
        for r in session.execute(
            select(outbox.c.row_id, outbox.c.op, outbox.c.patch).where(
                outbox.c.row_id.in_(ids[chunk : chunk + 500])
            )
        ):
            fields = out.setdefault(r.row_id, set())
            fields.update((r.patch or {}).keys())
            if r.op in ("delete", "restore"):
                fields.add("deleted_at")
    return out


def apply_page(session: Session, page: PullResponse) -> PageCounts:
    """Apply one pulled page in bulk (a page holds each row at most once)."""
    counts = PageCounts()
    if page.cursor.epoch != SyncStore.get(session, K_EPOCH):
        return counts  # a page from before the server's restore: its rows may not exist any more
    apply_conflicts(session, page.conflicts, counts)
    pending = pending_fields(session, [c.id for c in page.changes])
    changes: dict[str, list[RowChange]] = {}
    evictions: dict[str, list[Eviction]] = {}
    for c in page.changes:
        changes.setdefault(c.entity, []).append(c)
    for e in page.evictions:
        evictions.setdefault(e.entity, []).append(e)
    for entity in {*changes, *evictions}:
        try:
            table = synced_class(entity).__table__  # type: ignore[attr-defined]
        except KeyError:
            continue  # an entity this version does not know yet: a newer app will pull it again
        apply_rows(
            session, table, entity, changes.get(entity, []), evictions.get(entity, []), pending, counts
        )
    SyncStore.advance(session, page.cursor)
    return counts


def apply_conflicts(
    session: Session, conflicts: list[ConflictRecord], counts: PageCounts, *, complete: bool = False
) -> None:
    """Store pulled conflict records. ``complete``: they are every record of this laptop's
    scopes (a snapshot's), so the others held here left the territory and go."""
    if complete:
        delivered = {c.id for c in conflicts}
        held = session.scalars(select(sync_conflicts.c.id)).all()
        gone = [i for i in held if i not in delivered]
        for start in range(0, len(gone), 500):
            session.execute(delete(sync_conflicts).where(sync_conflicts.c.id.in_(gone[start : start + 500])))
    if not conflicts:
        return
    known = dict(
        session.execute(
            select(sync_conflicts.c.id, sync_conflicts.c.server_version).where(
                sync_conflicts.c.id.in_([c.id for c in conflicts])
            )
        ).all()
    )
    for item in conflicts:
        if item.id in known:
            if (known[item.id] or 0) < item.version:  # moved with its row: a later eviction
                session.execute(  # of the row's old place must not take it
                    update(sync_conflicts)
                    .where(sync_conflicts.c.id == item.id)
                    .values(server_version=item.version)
                )
            continue
        session.execute(
            insert(sync_conflicts).values(
                id=item.id,
                entity=item.entity,
                row_id=item.row_id,
                field=item.field,
                kind=item.kind,
                kept=item.kept,
                lost=item.lost,
                user_name=item.user,
                at=item.at,
                server_version=item.version,
            )
        )
        counts.conflicts += 1


def apply_rows(
    session: Session,
    table: Any,
    entity: str,
    changes: list[RowChange],
    evictions: list[Eviction],
    pending: dict[uuid.UUID, set[str]],
    counts: PageCounts,
) -> None:
    ids = [c.id for c in changes] + [e.id for e in evictions]
    local: dict[uuid.UUID, int | None] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        local.update(
            session.execute(select(table.c.id, table.c.server_version).where(table.c.id.in_(chunk))).all()
        )
    newest = {c.id: c.version for c in changes}
    _evict_conflicts(session, entity, evictions)
    for e in evictions:
        if newest.get(e.id, 0) > e.version:
            continue  # it left and came back within this page
        if e.id in local and (local[e.id] or 0) < e.version:
            session.execute(delete(table).where(table.c.id == e.id))
            del local[e.id]
            counts.evicted += 1
    fields = entity_fields()[entity]
    defaults = {
        n: (f.default if f.kind == "json" else from_wire(f.kind, f.default)) for n, f in fields.items()
    }
    inserts: list[dict[str, Any]] = []
    for item in changes:
        seen = local.get(item.id)  # None: not here, or never synced (a local create)
        if seen is not None and seen >= item.version:
            counts.stale += 1  # an old response arriving late: never go back
            continue
        skip = pending.get(item.id, set())
        when = datetime.fromisoformat(item.updated_at).astimezone(UTC)
        values: dict[str, Any] = {
            name: from_wire(fields[name].kind, value)
            for name, value in item.data.items()
            if name in fields and name not in skip
        }
        if "deleted_at" not in skip:
            values["deleted_at"] = when if item.deleted else None
        values["server_version"] = item.version
        values["updated_at"] = when
        if item.id in local:
            session.execute(update(table).where(table.c.id == item.id).values(**values))
        else:
            inserts.append({**defaults, "deleted_at": None, **values, "id": item.id, "created_at": when})
        counts.applied += 1
    if inserts:
        _insert_many(session, table, inserts)


def _evict_conflicts(session: Session, entity: str, evictions: list[Eviction]) -> None:
    """A row's conflict records leave with it (they are scoped like the row); a record that
    came back since (moved back: a later version) stays."""
    evicted = {e.id: e.version for e in evictions}
    ids = list(evicted)
    for start in range(0, len(ids), 500):
        held = session.execute(
            select(sync_conflicts.c.id, sync_conflicts.c.row_id, sync_conflicts.c.server_version).where(
                sync_conflicts.c.entity == entity, sync_conflicts.c.row_id.in_(ids[start : start + 500])
            )
        ).all()
        doomed = [r.id for r in held if (r.server_version or 0) < evicted[r.row_id]]
        if doomed:
            session.execute(delete(sync_conflicts).where(sync_conflicts.c.id.in_(doomed)))
