"""The server's operations, each one transaction: register, push, pull, id lists, admin moves."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Select, Table, Text, bindparam, cast, delete, func, insert, select, update

from sync.protocol import (
    ConflictRecord,
    Cursor,
    Eviction,
    MutationResult,
    PullRequest,
    PullResponse,
    PushRequest,
    PushResponse,
    RowChange,
    SnapshotEnd,
    SnapshotHeader,
    SnapshotRequest,
)
from sync.server import tables
from sync.server.db import VersionCounter, all_meta, committed_version, get_meta, set_meta
from sync.server.merge import Actor, Applier, conflict_record, now_iso

KEEP_RESULTS = 2000


class OpError(Exception):
    """Refused request: ``status`` is the HTTP status, ``reason`` a machine-readable word."""

    def __init__(self, status: int, detail: str, reason: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.reason = reason
        self.extra = extra


def register(conn: Connection, actor: Actor, first_mid: int) -> tuple[uuid.UUID, str]:
    client_id = uuid.uuid4()
    conn.execute(
        insert(tables.clients).values(
            id=str(client_id), user_id=actor.user_id, last_mid=first_mid - 1, created_at=now_iso()
        )
    )
    return client_id, get_meta(conn, "epoch")


def _check_epoch(current: str, sent: str) -> None:
    if sent != current:
        raise OpError(410, "the server was restored from a backup: re-bootstrap", "epoch_changed")


_CLIENT_FOR_UPDATE = (
    select(tables.clients.c.user_id, tables.clients.c.last_mid)
    .where(tables.clients.c.id == bindparam("client_id"))
    .with_for_update()
)
_STORED_RESULTS = select(tables.results).where(
    tables.results.c.client_id == bindparam("client_id"),
    tables.results.c.mid >= bindparam("first"),
    tables.results.c.mid <= bindparam("last"),
)


def push(conn: Connection, actor: Actor, req: PushRequest) -> PushResponse:
    """Exactly-once: results and ``last_mid`` commit with the mutations' effects."""
    _check_epoch(get_meta(conn, "epoch"), req.epoch)
    client_id = str(req.client_id)
    # Locking the client row serialises two copies of the same batch arriving at once: the
    # second waits, then finds the stored results.
    client = conn.execute(_CLIENT_FOR_UPDATE, {"client_id": client_id}).first()
    if client is None or client.user_id != actor.user_id:
        raise OpError(404, "unknown client id: register again", "unknown_client")
    mids = [m.mid for m in req.mutations]
    if mids != list(range(mids[0], mids[0] + len(mids))):
        raise OpError(422, "mutation ids in a batch must be consecutive", "bad_batch")
    last_mid = int(client.last_mid)
    if mids[0] > last_mid + 1:
        raise OpError(409, f"mutation id gap: expected {last_mid + 1}", "mid_gap", expected_mid=last_mid + 1)
    stored: dict[int, MutationResult] = {}
    if mids[0] <= last_mid:  # a retry (only then is there anything stored to answer with)
        stored = {
            r.mid: MutationResult(mid=r.mid, status=r.status, version=r.version, reason=r.reason)
            for r in conn.execute(
                _STORED_RESULTS, {"client_id": client_id, "first": mids[0], "last": last_mid}
            )
        }
    counter = VersionCounter(conn)
    counter.lock()
    applier = Applier(conn, counter, actor)
    fresh = [m for m in req.mutations if m.mid > last_mid]
    applier.preload(fresh)
    out: list[MutationResult] = []
    for m in req.mutations:
        if m.mid <= last_mid:
            # A retry: the stored result, nothing applied again. Results older than the batch
            # window were pruned; the client has long seen them, so "applied" is the honest answer.
            out.append(stored.get(m.mid) or MutationResult(mid=m.mid, status="applied"))
            continue
        out.append(applier.apply(m))
    applier.flush()
    if fresh:
        # One statement for the batch's results (one round trip on PostgreSQL, not one each).
        conn.execute(
            insert(tables.results),
            [
                dict(client_id=client_id, mid=r.mid, status=r.status, version=r.version, reason=r.reason)
                for r in out[len(out) - len(fresh) :]
            ],
        )
        last_mid = fresh[-1].mid
    counter.flush()
    conn.execute(update(tables.clients).where(tables.clients.c.id == client_id).values(last_mid=last_mid))
    return PushResponse(results=out, last_mid=last_mid)


def scope_key(actor: Actor) -> str:
    return ",".join(sorted(actor.scopes))


def scope_change(conn: Connection, actor: Actor, client_id: uuid.UUID) -> tuple[bool, bool]:
    """(the scopes this laptop syncs with must be recorded, it had pulled with other ones before).

    A user whose team changed must re-pull and reconcile, dropping what they may no longer see.
    """
    row = conn.execute(
        select(tables.clients.c.user_id, tables.clients.c.scopes).where(tables.clients.c.id == str(client_id))
    ).first()
    if row is None or row.user_id != actor.user_id or row.scopes == scope_key(actor):
        return False, False
    return True, row.scopes is not None


def set_client_scopes(conn: Connection, client_id: uuid.UUID, scopes: str) -> None:
    conn.execute(update(tables.clients).where(tables.clients.c.id == str(client_id)).values(scopes=scopes))


def _page_query(table: Table) -> Select[Any]:
    return (
        select(table)
        .where(
            table.c.scope.in_(bindparam("scopes", expanding=True)),
            table.c.version > bindparam("after"),
            table.c.version <= bindparam("upper"),
        )
        .order_by(table.c.version)
        .limit(bindparam("limit"))
    )


# Built once: a pull runs them on every sync of every laptop.
_PAGES = (
    (_page_query(tables.rows), "row"),
    (_page_query(tables.conflicts), "conflict"),
    (_page_query(tables.evictions), "eviction"),
)


def pull(conn: Connection, actor: Actor, req: PullRequest) -> PullResponse:
    meta = all_meta(conn)
    epoch = meta["epoch"]
    after = 0
    if req.cursor is not None:
        _check_epoch(epoch, req.cursor.epoch)
        after = req.cursor.version
        purged = int(meta["purged_through"])
        if 0 < after < purged:
            raise OpError(410, "cursor older than tombstone retention: reconcile", "cursor_expired")
    committed = committed_version(conn)
    upper = committed if req.upper is None else min(req.upper, committed)
    limit = req.limit
    params = {"scopes": sorted(actor.scopes), "after": after, "upper": upper, "limit": limit + 1}
    items: list[tuple[int, str, Any]] = []
    for stmt, kind in _PAGES:
        items.extend((row.version, kind, row) for row in conn.execute(stmt, params))
    items.sort(key=lambda item: item[0])
    has_more = len(items) > limit
    items = items[:limit]
    cursor_version = items[-1][0] if has_more else max(upper, after)
    changes: list[RowChange] = []
    conflicts: list[ConflictRecord] = []
    evictions: list[Eviction] = []
    for version, kind, row in items:
        if kind == "row":
            changes.append(
                RowChange(
                    entity=row.entity,
                    id=uuid.UUID(row.id),
                    version=version,
                    deleted=row.deleted_at is not None,
                    data=row.data,
                    updated_at=row.updated_at,
                )
            )
        elif kind == "conflict":
            conflicts.append(conflict_record(row))
        else:
            evictions.append(Eviction(entity=row.entity, id=uuid.UUID(row.row_id), version=version))
    return PullResponse(
        changes=changes,
        conflicts=conflicts,
        evictions=evictions,
        cursor=Cursor(epoch=epoch, version=cursor_version),
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
    return epoch, committed if req.upper is None else min(req.upper, committed)


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
    header = SnapshotHeader(epoch=epoch, upper=upper, total=total, scopes=scopes)
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


def move_account(conn: Connection, account_id: str, new_scope: str) -> int:
    """Move an account and everything under it to another scope; returns rows moved.

    The old scope gets an eviction per row (its laptops drop the rows); the rows get new versions
    (the new scope's laptops pull them). Nothing is deleted on the server.
    """
    counter = VersionCounter(conn)
    counter.lock()
    account = conn.execute(
        select(tables.rows).where(tables.rows.c.entity == "account", tables.rows.c.id == account_id)
    ).first()
    if account is None:
        raise OpError(404, "no such account", "not_found")
    old_scope = account.scope
    candidates = list(conn.execute(select(tables.rows).where(tables.rows.c.scope == old_scope)))
    moved = [account]
    contacts = {
        row.id for row in candidates if row.entity == "contact" and row.data.get("account_id") == account_id
    }
    for row in candidates:
        if row.entity == "account":
            continue
        if (
            row.data.get("account_id") == account_id
            or row.data.get("contact_id") in contacts
            or row.id in contacts
        ):
            moved.append(row)
    for row in moved:  # parents first: the account, then what hangs under it
        conn.execute(
            insert(tables.evictions).values(
                entity=row.entity, row_id=row.id, scope=old_scope, version=counter.next()
            )
        )
        conn.execute(
            update(tables.rows)
            .where(tables.rows.c.entity == row.entity, tables.rows.c.id == row.id)
            .values(scope=new_scope, version=counter.next(), updated_at=now_iso())
        )
    counter.flush()
    return len(moved)


def purge_tombstones(conn: Connection, older_than: timedelta) -> int:
    """Hard-delete tombstones deleted more than ``older_than`` ago; returns how many.

    Laptops whose cursor is older than the newest purged delete can no longer learn of those
    deletes by pulling: they get 410 ``cursor_expired`` and reconcile by id lists instead.
    """
    cutoff = (datetime.now(UTC) - older_than).isoformat()
    doomed = tables.rows.c.deleted_at.is_not(None) & (tables.rows.c.deleted_at <= cutoff)
    through = conn.scalar(select(func.max(tables.rows.c.deleted_version)).where(doomed))
    if through is None:
        return 0
    result = conn.execute(delete(tables.rows).where(doomed))
    old = int(get_meta(conn, "purged_through"))
    set_meta(conn, "purged_through", str(max(old, int(through))))
    return int(result.rowcount or 0)


def counts(conn: Connection) -> dict[str, int]:
    return {
        "rows": int(conn.scalar(select(func.count()).select_from(tables.rows)) or 0),
        "conflicts": int(conn.scalar(select(func.count()).select_from(tables.conflicts)) or 0),
    }
