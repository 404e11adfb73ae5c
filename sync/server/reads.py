"""What a laptop reads: pull pages (invariant 3), the bootstrap snapshot (invariant 10) and the id
lists of reconciliation (invariant 6), each in one transaction.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Text, cast, func, select, update

from sync.protocol import (
    ConflictRecord,
    Cursor,
    Eviction,
    PullRequest,
    PullResponse,
    RowChange,
    SnapshotEnd,
    SnapshotHeader,
    SnapshotRequest,
)
from sync.server import auth, statements, tables
from sync.server.auth import Actor
from sync.server.db import committed_version, generation_end, get_meta
from sync.server.ops import OpError, authenticated, check_cursor, server_restored
from sync.server.raw import Raw, Sql, json_out


def scope_key(actor: Actor) -> str:
    return ",".join(sorted(actor.scopes))


@dataclass(frozen=True)
class PullStart:
    """What a pull needs before its pages, read with the token check in one statement."""

    actor: Actor
    epoch: str
    purged_through: int
    committed: int
    # The scopes this laptop last pulled with: None if the client id is not this user's, ""
    # if it never pulled (a scope key is never empty: every user has a scope).
    client_scopes: str | None
    generation: str | None  # the current one, named in the cursors this pull hands out
    generation_end: int | None  # of the request cursor's generation (see ``statements.PUSH_START``)
    client_last_mid: int | None  # None: no such client (any user's)

    def scope_change(self) -> tuple[bool, bool]:
        return _scope_change(self.actor, self.client_scopes)


def _scope_change(actor: Actor, recorded: str | None) -> tuple[bool, bool]:
    """(the scopes this laptop syncs with must be recorded, it had pulled with other ones
    before), from the scopes ``recorded`` for it (see ``PullStart.client_scopes``). A user whose
    team changed must re-pull and reconcile, dropping what they may no longer see."""
    if recorded is None or recorded == scope_key(actor):
        return False, False
    return True, recorded != ""


def pull_start(conn: Connection, token: str, req: PullRequest) -> PullStart:
    row = Raw(conn).first(
        statements.PULL_START,
        {
            "token_hash": auth.token_hash(token),
            "client_id": str(req.client_id) if req.client_id else None,
            "generation": req.cursor.generation if req.cursor is not None else None,
        },
    )
    actor = authenticated(row)
    assert row is not None
    epoch, purged, committed, scopes, generation, generation_end, last_mid = row[statements.TOKEN_WIDTH :]
    return PullStart(
        actor, str(epoch), int(purged), int(committed or 0), scopes, generation, generation_end,
        None if last_mid is None else int(last_mid),
    )  # fmt: skip


def scope_change(conn: Connection, actor: Actor, client_id: uuid.UUID) -> tuple[bool, bool]:
    """``PullStart.scope_change`` for the snapshot route, which authenticates on its own."""
    row = Raw(conn).first(statements.CLIENT_SCOPES, {"client_id": str(client_id), "user_id": actor.user_id})
    return _scope_change(actor, None if row is None else row[0])


def set_client_scopes(conn: Connection, client_id: uuid.UUID, scopes: str) -> None:
    conn.execute(update(tables.clients).where(tables.clients.c.id == str(client_id)).values(scopes=scopes))


def pull(conn: Connection, start: PullStart, req: PullRequest) -> PullResponse:
    epoch = start.epoch
    after = 0
    if req.cursor is not None:
        check_cursor(epoch, start.committed, start.generation_end, req.cursor)
        after = req.cursor.version
    if req.client_id is not None and req.acked_mid:
        # Mutations this server acknowledged and no longer remembers (or a client it forgot).
        if start.client_last_mid is None or req.acked_mid > start.client_last_mid:
            raise server_restored()
        if 0 < after < start.purged_through:
            raise OpError(410, "cursor older than tombstone retention: reconcile", "cursor_expired")
    upper = start.committed if req.upper is None else min(req.upper, start.committed)
    limit = req.limit
    raw = Raw(conn)
    params: dict[str, Any] = {"after": after, "upper": upper, "limit": limit + 1}
    scopes = raw.in_list("s", sorted(start.actor.scopes), params)
    items = sorted(
        raw.rows(Sql.of(statements.PAGE.format(scopes=scopes)), params), key=lambda item: int(item[0])
    )
    has_more = len(items) > limit
    items = items[:limit]
    cursor_version = int(items[-1][0]) if has_more else max(upper, after)
    changes: list[RowChange] = []
    conflicts: list[ConflictRecord] = []
    evictions: list[Eviction] = []
    # In ``statements.PAGE_SLOTS`` order.
    for version, kind, entity, row_id, cid, field, ckind, data, lost, at, user, deleted_at in items:
        if kind == "r":
            changes.append(
                RowChange(
                    entity=entity,
                    id=uuid.UUID(row_id),
                    version=version,
                    deleted=deleted_at is not None,
                    data=json_out(data),
                    updated_at=at,
                )
            )
        elif kind == "c":
            conflicts.append(
                ConflictRecord(
                    id=uuid.UUID(cid),
                    entity=entity,
                    row_id=uuid.UUID(row_id),
                    field=field,
                    kind=ckind,
                    kept=json_out(data),
                    lost=json_out(lost),
                    user=user,
                    at=at,
                    version=version,
                )
            )
        else:
            evictions.append(Eviction(entity=entity, id=uuid.UUID(row_id), version=version))
    return PullResponse(
        changes=changes,
        conflicts=conflicts,
        evictions=evictions,
        cursor=Cursor(epoch=epoch, version=cursor_version, generation=start.generation),
        upper=upper,
        has_more=has_more,
    )


SNAPSHOT_CHUNK = 1 << 20  # bytes of lines handed to the compressor at a time


def snapshot_bounds(conn: Connection, req: SnapshotRequest) -> tuple[str, int]:
    """(epoch, upper) of a snapshot, or 410 when a resumed one spans a restore."""
    epoch = get_meta(conn, "epoch")
    if req.epoch is not None and req.epoch != epoch:
        raise OpError(410, "the server was restored from a backup: re-bootstrap", "epoch_changed")
    committed = committed_version(conn)
    if req.upper is None:
        return epoch, committed
    resumed = Cursor(epoch=epoch, version=req.upper, generation=req.generation)
    check_cursor(epoch, committed, generation_end(conn, req.generation), resumed)
    return epoch, req.upper


def snapshot(conn: Connection, actor: Actor, req: SnapshotRequest, epoch: str, upper: int) -> Iterator[bytes]:
    """Every row of the user's scopes up to ``upper``, as NDJSON lines (``SnapshotHeader``).

    Rows go out in (scope, version) order so a cut stream resumes after the last row received:
    the keyset argument of pull holds per scope (a row edited meanwhile has a version above
    ``upper`` and comes with the pull that follows). The stored JSON documents are spliced in
    as text: parsing and re-serialising 450,000 of them was most of a paged first sync's server
    time.
    """
    scopes = sorted(actor.scopes)
    r = tables.rows
    in_range = r.c.scope.in_(scopes) & (r.c.version <= upper)
    total = int(conn.scalar(select(func.count()).select_from(r).where(in_range)) or 0)
    # Read after ``upper``: the generation current now ends (if ever) at or above it.
    g = tables.generations
    generation = conn.scalar(select(g.c.id).where(g.c.last_version.is_(None)))
    header = SnapshotHeader(epoch=epoch, upper=upper, total=total, scopes=scopes, generation=generation)
    yield b'{"header":' + header.model_dump_json().encode() + b"}\n"
    start_scope, start_version = (req.after.scope, req.after.version) if req.after else ("", 0)
    sent = 0
    buf: list[str] = []
    size = 0
    streaming = conn.execution_options(stream_results=True, yield_per=5000)
    for scope in scopes:
        if scope < start_scope:
            continue
        after = start_version if scope == start_scope else 0
        # Entity, id and updated_at are the server's own validated strings (a known entity name,
        # a canonical UUID, an ISO time): formatted in place; the scope is a team name, so quoted.
        prefix = '{"s":' + json.dumps(scope) + ',"e":"'
        stmt = (
            select(r.c.entity, r.c.id, r.c.version, r.c.deleted_at, r.c.updated_at, cast(r.c.data, Text))
            .where(r.c.scope == scope, r.c.version > after, r.c.version <= upper)
            .order_by(r.c.version)
        )
        for entity, row_id, version, deleted_at, updated_at, data in streaming.execute(stmt):
            line = (
                f'{prefix}{entity}","i":"{row_id}","v":{version},"x":{0 if deleted_at is None else 1},'
                f'"u":"{updated_at}","d":{data}}}\n'
            )
            buf.append(line)
            size += len(line)
            sent += 1
            if size >= SNAPSHOT_CHUNK:
                yield "".join(buf).encode()
                buf, size = [], 0
    if buf:
        yield "".join(buf).encode()
    c = tables.conflicts
    conflicts = select(c).where(c.c.scope.in_(scopes), c.c.version <= upper).order_by(c.c.version)
    for row in conn.execute(conflicts):
        yield b'{"conflict":' + conflict_record(row).model_dump_json().encode() + b"}\n"
    yield b'{"end":' + SnapshotEnd(rows=sent).model_dump_json().encode() + b"}\n"


def live_ids(conn: Connection, actor: Actor, entity: str) -> tuple[list[uuid.UUID], Cursor]:
    """Every live row of an entity this user may see (reconciliation after tombstone collection)."""
    ids = [
        uuid.UUID(i)
        for i in conn.scalars(
            select(tables.rows.c.id).where(
                tables.rows.c.entity == entity,
                tables.rows.c.scope.in_(sorted(actor.scopes)),
                tables.rows.c.deleted_at.is_(None),
            )
        )
    ]
    return ids, Cursor(epoch=get_meta(conn, "epoch"), version=committed_version(conn))


def conflict_record(row: Any) -> ConflictRecord:
    """A row of ``tables.conflicts`` as a laptop receives it (the pull's page reads the same
    columns, ``statements.PAGE_PARTS``)."""
    return ConflictRecord(
        id=uuid.UUID(row.id),
        entity=row.entity,
        row_id=uuid.UUID(row.row_id),
        field=row.field,
        kind=row.kind,
        kept=row.kept,
        lost=row.lost,
        user=row.user_name,
        at=row.at,
        version=row.version,
    )
