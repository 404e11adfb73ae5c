"""The laptop's sync bookkeeping: state, the cursor, and the outbox (mutation ids,
acknowledgements, refused changes set aside for the rep).

Applying pulled pages is ``sync.apply``'s, recovering after a server restore
``sync.recovery``'s; both write through this store's sessions. They use their own engine with
foreign keys off: the server is the judge of references, and a replica may hold a child before
its parent arrives (or without it, when the parent is out of scope). Sessions are marked remote,
so nothing written through them is queued in the outbox.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, event, func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from models.changes import mark_remote
from models.db import Database, make_engine, typed_errors
from models.entities import Meta, OutboxEntry, sync_rejections, synced_class
from models.types import utcnow
from sync.fields import FieldError, check_patch, entity_fields
from sync.protocol import Cursor, MutationResult

outbox = cast(Table, OutboxEntry.__table__)

K_CLIENT, K_EPOCH, K_CURSOR, K_NEXT_MID = "sync.client_id", "sync.epoch", "sync.cursor", "sync.next_mid"
K_RECONCILE, K_SERVER, K_USER = "sync.reconcile", "sync.server", "sync.username"
# The highest mutation id the server acknowledged (a server that forgot it was restored).
K_ACKED = "sync.acked_mid"
# A bootstrap snapshot under way: {epoch, upper, scopes, scope, version, done} (where it resumes).
K_SNAPSHOT = "sync.snapshot"
# The server generations this laptop's cursors came from, oldest first (``sync.recovery``).
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

    @staticmethod
    def cursor(session: Session) -> Cursor | None:
        raw = SyncStore.get(session, K_CURSOR)
        return Cursor(**raw) if raw else None

    # -- push ------------------------------------------------------------------------------
    @staticmethod
    def assign_mids(session: Session, through_seq: int | None = None) -> None:
        """Number new outbox entries in order (those up to ``through_seq``, if given); a number
        is never reused once given."""
        next_mid = int(SyncStore.get(session, K_NEXT_MID, 1))
        unnumbered: ColumnElement[bool] = outbox.c.mid.is_(None)
        if through_seq is not None:
            unnumbered = unnumbered & (outbox.c.seq <= through_seq)
        seqs = list(session.scalars(select(outbox.c.seq).where(unnumbered).order_by(outbox.c.seq)))
        for seq in seqs:
            session.execute(update(outbox).where(outbox.c.seq == seq).values(mid=next_mid))
            next_mid += 1
        if seqs:
            SyncStore.put(session, K_NEXT_MID, next_mid)

    def pending(self, session: Session, limit: int, through_seq: int | None = None) -> list[Pending]:
        numbered: ColumnElement[bool] = outbox.c.mid.is_not(None)
        if through_seq is not None:
            numbered = numbered & (outbox.c.seq <= through_seq)
        rows = session.execute(select(outbox).where(numbered).order_by(outbox.c.mid).limit(limit))
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
        still given back (``sync.recovery.give_back``): acknowledged work, deletes included, is not lost."""
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

    # -- cursor ----------------------------------------------------------------------------
    @staticmethod
    def advance(session: Session, cursor: Cursor) -> None:
        """The cursor only moves forward within an epoch (a stale page never moves it back)."""
        current = SyncStore.cursor(session)
        if current is None or current.epoch != cursor.epoch or cursor.version > current.version:
            SyncStore.put(session, K_CURSOR, cursor.model_dump())
        SyncStore.saw_generation(session, cursor.generation)

    @staticmethod
    def saw_generation(session: Session, generation: str | None) -> None:
        seen: list[str] = list(SyncStore.get(session, K_GENERATIONS) or [])
        if generation is not None and generation not in seen[-1:]:
            SyncStore.put(session, K_GENERATIONS, [*seen, generation][-KEEP_GENERATIONS:])

    @staticmethod
    def generations(session: Session) -> list[str]:
        """The server generations this laptop saw, newest first (``RestorePointRequest``)."""
        return list(reversed(SyncStore.get(session, K_GENERATIONS) or []))
