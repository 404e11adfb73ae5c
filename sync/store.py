"""The laptop's sync bookkeeping: state, mutation ids, acknowledgements, applying pulled pages.

Pulled rows are written with Core statements in a session marked remote, so nothing is queued
in the outbox; a page and its cursor commit in one transaction (invariant 1). The writes use
their own engine with foreign keys off: the server is the judge of references, and a replica
may hold a child before its parent arrives (or without it, when the parent is out of scope).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import (
    Table,
    bindparam,
    delete,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session, sessionmaker

from models.changes import mark_remote
from models.db import Database, make_engine, typed_errors
from models.entities import SYNCED_CLASSES, Meta, OutboxEntry, sync_conflicts, sync_rejections, synced_class
from models.types import to_wire, utcnow
from sync.fields import FieldError, check_patch, entity_fields
from sync.protocol import (
    GIVE_BACK,
    GIVE_BACK_VERSION,
    ConflictRecord,
    Cursor,
    Eviction,
    MutationResult,
    PullResponse,
    RowChange,
)

outbox = cast(Table, OutboxEntry.__table__)

K_CLIENT, K_EPOCH, K_CURSOR, K_NEXT_MID = "sync.client_id", "sync.epoch", "sync.cursor", "sync.next_mid"
K_RECONCILE, K_SERVER, K_USER = "sync.reconcile", "sync.server", "sync.username"
# The highest mutation id the server acknowledged (a server that forgot it was restored).
K_ACKED = "sync.acked_mid"
# A bootstrap snapshot under way: {epoch, upper, scopes, scope, version, done} (where it resumes).
K_SNAPSHOT = "sync.snapshot"
# The server generations this laptop's cursors came from, oldest first (see ``give_back``).
K_GENERATIONS = "sync.generations"
KEEP_GENERATIONS = 100


@dataclass(frozen=True)
class Pending:
    seq: int
    mid: int
    entity: str
    row_id: uuid.UUID
    op: str
    patch: dict[str, Any]
    before: dict[str, Any]


@dataclass
class PageCounts:
    applied: int = 0
    stale: int = 0
    conflicts: int = 0
    evicted: int = 0


def from_wire(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "uuid":
        return uuid.UUID(value)
    if kind == "datetime":
        return datetime.fromisoformat(value).astimezone(UTC)
    if kind == "date":
        return date.fromisoformat(value)
    return value


def _fk_off(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.execute("PRAGMA foreign_keys = OFF")


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


class SyncStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.engine = make_engine(db.path, immediate=True)
        event.listen(self.engine, "connect", _fk_off)  # runs after make_engine's pragmas
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def close(self) -> None:
        self.engine.dispose()

    def checkpoint(self) -> None:
        """Copy the WAL into the database now (after a bulk load that turned autocheckpoints off)
        and let this store's connections checkpoint on their own again."""
        with typed_errors(self.db.path), self.engine.connect() as conn:
            # On the driver's connection: SQLAlchemy would wrap the statements in a transaction,
            # and SQLite refuses to checkpoint inside one.
            raw = conn.connection.driver_connection
            assert raw is not None
            raw.execute("PRAGMA wal_checkpoint(PASSIVE)")
            raw.execute("PRAGMA wal_autocheckpoint = 1000")

    @contextmanager
    def tx(self) -> Iterator[Session]:
        # A full disk or a damaged file half-way through a sync is the rep's to act on: in words.
        with typed_errors(self.db.path), self._sessions() as session, session.begin():
            mark_remote(session)
            yield session

    # -- state -----------------------------------------------------------------------------
    @staticmethod
    def get(session: Session, key: str, default: Any = None) -> Any:
        row = session.get(Meta, key)
        return default if row is None else row.value

    @staticmethod
    def put(session: Session, key: str, value: Any) -> None:
        row = session.get(Meta, key)
        if row is None:
            session.add(Meta(key=key, value=value))
        else:
            row.value = value
        session.flush()

    def state(self, key: str, default: Any = None) -> Any:
        with self.tx() as s:
            return self.get(s, key, default)

    def cursor(self, session: Session) -> Cursor | None:
        raw = self.get(session, K_CURSOR)
        return Cursor(**raw) if raw else None

    # -- push ------------------------------------------------------------------------------
    def assign_mids(self, session: Session) -> None:
        """Number new outbox entries in order; a number is never reused once given."""
        next_mid = int(self.get(session, K_NEXT_MID, 1))
        seqs = list(
            session.scalars(select(outbox.c.seq).where(outbox.c.mid.is_(None)).order_by(outbox.c.seq))
        )
        for seq in seqs:
            session.execute(update(outbox).where(outbox.c.seq == seq).values(mid=next_mid))
            next_mid += 1
        if seqs:
            self.put(session, K_NEXT_MID, next_mid)

    def renumber(self, session: Session, first_mid: int) -> None:
        """Give pending entries consecutive ids from ``first_mid`` (after re-registering: the
        new client id's numbering starts afresh on the server, so no id it has seen is reused).
        Within one registration ids are never renumbered (a change too large to send spends
        its id with a ``skip``)."""
        mids = list(
            session.scalars(select(outbox.c.seq).where(outbox.c.mid.is_not(None)).order_by(outbox.c.mid))
        )
        session.execute(update(outbox).values(mid=None))
        for i, seq in enumerate(mids):
            session.execute(update(outbox).where(outbox.c.seq == seq).values(mid=first_mid + i))
        self.put(session, K_NEXT_MID, first_mid + len(mids))

    def pending(self, session: Session, limit: int) -> list[Pending]:
        rows = session.execute(
            select(outbox).where(outbox.c.mid.is_not(None)).order_by(outbox.c.mid).limit(limit)
        )
        return [Pending(r.seq, r.mid, r.entity, r.row_id, r.op, r.patch or {}, r.before or {}) for r in rows]

    @staticmethod
    def pending_count(session: Session) -> int:
        return int(session.scalar(select(func.count()).select_from(outbox)) or 0)

    @staticmethod
    def seen_version(session: Session, entity: str, row_id: uuid.UUID) -> int:
        table = synced_class(entity).__table__  # type: ignore[attr-defined]
        # Negative: acknowledged at that version, not pulled since (see ``acknowledge``).
        return abs(int(session.scalar(select(table.c.server_version).where(table.c.id == row_id)) or 0))

    def acknowledge(self, session: Session, batch: list[Pending], results: list[MutationResult]) -> int:
        """Drop acknowledged entries; keep rejected ones as records the rep sees. Returns rejects."""
        by_mid = {p.mid: p for p in batch}
        rejected = 0
        held: dict[str, list[dict[str, Any]]] = {}
        for result in results:
            entry = by_mid.get(result.mid)
            if entry is None:
                continue
            if result.status == "rejected":
                rejected += 1
                self._undo_refused_values(session, entry)
                self._set_aside(session, entry, result.reason or "rejected")
            else:
                session.execute(delete(outbox).where(outbox.c.seq == entry.seq))
                if result.version is not None:
                    held.setdefault(entry.entity, []).append({"rid": entry.row_id, "v": result.version})
        self._mark_acknowledged(session, held)
        if results:
            self.put(session, K_ACKED, max(int(self.get(session, K_ACKED, 0)), max(r.mid for r in results)))
        return rejected

    @staticmethod
    def _mark_acknowledged(session: Session, held: dict[str, list[dict[str, Any]]]) -> None:
        """Remember that the server holds this row at (at least) the acknowledged version, as a
        negative ``server_version`` until a pull brings that version (a pulled row always
        applies over a negative one). If the server is restored before that pull, the row is
        still given back (``give_back``): acknowledged work, deletes included, is not lost."""
        for entity, params in held.items():
            try:
                table = synced_class(entity).__table__  # type: ignore[attr-defined]
            except KeyError:
                continue
            sv = table.c.server_version
            session.execute(
                update(table)
                .where(table.c.id == bindparam("rid"))
                .where(sv.is_(None) | (func.abs(sv) < bindparam("v")))
                .values(server_version=-bindparam("v")),
                params,
            )

    @staticmethod
    def _undo_refused_values(session: Session, entry: Pending) -> None:
        """An edit refused for its values (the server's check, ``sync.fields``, run here too)
        never happened: each field goes back to the value it held before, which the server
        still has, so this laptop does not keep, unseen by its team, what the rep sees listed
        as refused. Where a later edit of the field is still pending, that edit's base becomes
        the old value instead (it overwrites the field anyway). Refused creates keep their row:
        it is all the rep has of it."""
        if entry.op != "update":
            return
        try:
            check_patch(entry.entity, entry.patch, complete=False)
            return  # refused for something else (territory): the values themselves are fine
        except FieldError:
            pass
        # Read again: an earlier refused edit of the same row may have rewritten this base.
        before = dict(session.scalar(select(outbox.c.before).where(outbox.c.seq == entry.seq)) or {})
        later = session.execute(
            select(outbox.c.seq, outbox.c.patch, outbox.c.before)
            .where(outbox.c.entity == entry.entity, outbox.c.row_id == entry.row_id, outbox.c.seq > entry.seq)
            .order_by(outbox.c.seq)
        ).all()
        fields = entity_fields()[entry.entity]
        restore: dict[str, Any] = {}
        rebased: dict[int, dict[str, Any]] = {}
        for name in entry.patch:
            if name not in fields or name not in before:
                continue
            nxt = next((r for r in later if name in (r.patch or {})), None)
            if nxt is None:
                restore[name] = from_wire(fields[name].kind, before[name])
            else:
                rebased.setdefault(nxt.seq, dict(nxt.before or {}))[name] = before[name]
        for seq, based in rebased.items():
            session.execute(update(outbox).where(outbox.c.seq == seq).values(before=based))
        if restore:
            table = synced_class(entry.entity).__table__  # type: ignore[attr-defined]
            session.execute(update(table).where(table.c.id == entry.row_id).values(**restore))

    @staticmethod
    def _set_aside(session: Session, entry: Pending, reason: str) -> None:
        """Move a refused change out of the outbox into the rejections the rep sees."""
        session.execute(
            insert(sync_rejections).values(
                mid=entry.mid,
                entity=entry.entity,
                row_id=entry.row_id,
                op=entry.op,
                patch=entry.patch,
                reason=reason,
                at=utcnow(),
            )
        )
        session.execute(delete(outbox).where(outbox.c.seq == entry.seq))

    # -- pull ------------------------------------------------------------------------------
    def pending_fields(self, session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, set[str]]:
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

    def apply_page(self, session: Session, page: PullResponse) -> PageCounts:
        """Apply one pulled page in bulk (a page holds each row at most once)."""
        counts = PageCounts()
        if page.cursor.epoch != self.get(session, K_EPOCH):
            return counts  # a page from before the server's restore: its rows may not exist any more
        self.apply_conflicts(session, page.conflicts, counts)
        pending = self.pending_fields(session, [c.id for c in page.changes])
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
            self.apply_rows(
                session, table, entity, changes.get(entity, []), evictions.get(entity, []), pending, counts
            )
        self.advance(session, page.cursor)
        return counts

    def apply_conflicts(
        self, session: Session, conflicts: list[ConflictRecord], counts: PageCounts, *, complete: bool = False
    ) -> None:
        """Store pulled conflict records. ``complete``: they are every record of this laptop's
        scopes (a snapshot's), so the others held here left the territory and go."""
        if complete:
            delivered = {c.id for c in conflicts}
            held = session.scalars(select(sync_conflicts.c.id)).all()
            gone = [i for i in held if i not in delivered]
            for start in range(0, len(gone), 500):
                session.execute(
                    delete(sync_conflicts).where(sync_conflicts.c.id.in_(gone[start : start + 500]))
                )
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
        self,
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
        self._evict_conflicts(session, entity, evictions)
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

    @staticmethod
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

    def advance(self, session: Session, cursor: Cursor) -> None:
        """The cursor only moves forward within an epoch (a stale page never moves it back)."""
        current = self.cursor(session)
        if current is None or current.epoch != cursor.epoch or cursor.version > current.version:
            self.put(session, K_CURSOR, cursor.model_dump())
        self.saw_generation(session, cursor.generation)

    def saw_generation(self, session: Session, generation: str | None) -> None:
        seen: list[str] = list(self.get(session, K_GENERATIONS) or [])
        if generation is not None and generation not in seen[-1:]:
            self.put(session, K_GENERATIONS, [*seen, generation][-KEEP_GENERATIONS:])

    def generations(self, session: Session) -> list[str]:
        """The server generations this laptop saw, newest first (``RestorePointRequest``)."""
        return list(reversed(self.get(session, K_GENERATIONS) or []))

    def give_back(self, session: Session, fork: int) -> int:
        """Queue every row this laptop holds at a version above ``fork`` (written in a history
        the server lost) as a change to push again, ahead of the pending outbox; returns how many.

        A live row goes as a create with all its fields; a deleted one as that create then a
        delete, so the server keeps a tombstone and another laptop's older live copy cannot
        bring it back. The server merges each one (``sync.server.merge.Applier._give_back``).
        Rows with pending changes are given back too: their entries follow, as they were.
        The row's ``server_version`` is cleared in the same transaction, so running this again
        (after a crash before the re-download) does not queue it twice.
        """
        self.assign_mids(session)
        queued = list(session.scalars(select(outbox.c.seq).order_by(outbox.c.mid)))
        given: list[dict[str, Any]] = []
        specs = entity_fields()
        for cls in SYNCED_CLASSES:
            table = cls.__table__  # type: ignore[attr-defined]
            entity = next((e for e in specs if synced_class(e) is cls), None)
            if entity is None:
                continue
            sv = table.c.server_version
            rows = list(session.execute(select(table).where(sv.is_not(None), func.abs(sv) > fork)))
            for row in rows:
                patch = {name: to_wire(getattr(row, name)) for name in specs[entity]}
                entry = {"entity": entity, "row_id": row.id}
                was = {GIVE_BACK: fork, GIVE_BACK_VERSION: abs(row.server_version)}
                given.append({**entry, "op": "create", "patch": patch, "before": was})
                if row.deleted_at is not None:
                    given.append({**entry, "op": "delete", "patch": {}, "before": {GIVE_BACK: fork}})
            if rows:
                session.execute(
                    update(table).where(sv.is_not(None), func.abs(sv) > fork).values(server_version=None)
                )
        if not given:
            return 0
        # Given back first, then the pending entries in their order (the pending edits were
        # made on top of the state given back); ``renumber`` moves them all to the new client.
        first = session.scalar(select(func.min(outbox.c.mid))) or int(self.get(session, K_NEXT_MID, 1))
        session.execute(update(outbox).values(mid=None))
        fresh = [
            session.scalar(insert(outbox).values(**item, created_at=utcnow()).returning(outbox.c.seq))
            for item in given
        ]
        for i, seq in enumerate([*fresh, *queued]):
            session.execute(update(outbox).where(outbox.c.seq == seq).values(mid=first + i))
        self.put(session, K_NEXT_MID, first + len(fresh) + len(queued))
        return sum(1 for item in given if item["op"] == "create")

    def reset_for_epoch(self, session: Session, client_id: uuid.UUID, epoch: str, first_mid: int) -> None:
        """After the server went back in time (or its epoch changed): new registration, full
        re-pull, outbox kept (with what ``give_back`` queued at its head).

        Versions from the old history mean nothing now (a restored server hands out the same
        numbers again), so every row's ``server_version`` is cleared and the re-pull rewrites them.
        """
        self.put(session, K_CLIENT, str(client_id))
        self.put(session, K_EPOCH, epoch)
        self.put(session, K_CURSOR, None)
        self.put(session, K_SNAPSHOT, None)
        self.put(session, K_RECONCILE, True)
        self.put(session, K_GENERATIONS, [])
        self.renumber(session, first_mid)
        for cls in SYNCED_CLASSES:
            table = cls.__table__  # type: ignore[attr-defined]
            session.execute(update(table).values(server_version=None))

    def reconcile(self, session: Session, entity: str, live: set[uuid.UUID]) -> int:
        """Drop rows the server no longer has (collected tombstones, a restored server).

        Rows with pending changes are kept: their outbox entries still go to the server.
        """
        table = synced_class(entity).__table__  # type: ignore[attr-defined]
        pending_ids = set(session.scalars(select(outbox.c.row_id).where(outbox.c.entity == entity)))
        doomed = [
            rid for rid in session.scalars(select(table.c.id)) if rid not in live and rid not in pending_ids
        ]
        for chunk in range(0, len(doomed), 500):
            session.execute(delete(table).where(table.c.id.in_(doomed[chunk : chunk + 500])))
        return len(doomed)


def list_conflicts(session: Session, *, include_dismissed: bool = False) -> list[Any]:
    """Conflict records for the Conflicts view, newest first (value kept, value set aside, who)."""
    stmt = select(sync_conflicts).order_by(sync_conflicts.c.server_version.desc())
    if not include_dismissed:
        stmt = stmt.where(sync_conflicts.c.dismissed_at.is_(None))
    return list(session.execute(stmt))


def list_rejections(session: Session, *, include_dismissed: bool = False) -> list[Any]:
    """Changes the server refused (out of territory, invalid), kept so the rep can redo them."""
    stmt = select(sync_rejections).order_by(sync_rejections.c.id.desc())
    if not include_dismissed:
        stmt = stmt.where(sync_rejections.c.dismissed_at.is_(None))
    return list(session.execute(stmt))
