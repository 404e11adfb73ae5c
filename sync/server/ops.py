"""The server's operations, each one transaction: register, push, pull, id lists, admin moves."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Text, cast, delete, func, insert, select, update

from sync.protocol import (
    ConflictRecord,
    Cursor,
    Eviction,
    Mutation,
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
from sync.server import auth, observe, tables
from sync.server.db import VersionCounter, committed_version, generation_end, get_meta, set_meta
from sync.server.merge import Actor, Applier, conflict_record, now_iso
from sync.server.raw import Raw, Sql, json_out

# Results kept per client, for answering a retried batch (a batch is at most 500 mutations).
KEEP_RESULTS = 2000
PRUNE_EVERY = 500


class OpError(Exception):
    """Refused request: ``status`` is the HTTP status, ``reason`` a machine-readable word."""

    def __init__(
        self, status: int, detail: str, reason: str, *, retry_after: int | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.reason = reason
        self.retry_after = retry_after  # seconds, sent as the Retry-After header
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


# What the server needs to judge a laptop's cursor, read with the token check: the committed
# counter, and where the cursor's generation ended (-1: it is the current one; NULL: unknown).
_HISTORY = (
    "(SELECT version FROM counter WHERE id = 1)",
    "(SELECT COALESCE(last_version, -1) FROM generations WHERE id = :generation)",
)


def _restored() -> OpError:
    return OpError(
        410,
        "the server's database went back in time (restored from a backup): "
        "give back what it lacks and download again",
        "server_restored",
    )


def check_cursor(epoch: str, committed: int, generation_end: int | None, cursor: Cursor) -> None:
    """Refuse a cursor this database never issued (invariant 7): its database went back in time.

    A version above the committed counter, a generation it does not know, or a version above
    the end of the generation the cursor names: each means the laptop saw writes this database
    does not hold (restored from a backup), even if new writes have since reused the versions.
    """
    _check_epoch(epoch, cursor.epoch)
    restored = cursor.version > committed
    if cursor.generation is not None:
        restored |= generation_end is None or 0 <= generation_end < cursor.version
    if restored:
        raise _restored()


def authenticated(row: tuple[Any, ...] | None) -> Actor:
    """The user of a ``auth.token_query`` row, or the 401 every route answers."""
    try:
        actor = auth.actor_from(row)
    except auth.AuthError as exc:
        raise OpError(401, str(exc), "bad_token") from exc
    observe.note_user(actor.name)  # for the access log
    return actor


_TOKEN_USER = auth.token_query()


def authenticate(conn: Connection, token: str) -> Actor:
    """The token's user, checked in the request's own transaction (no cache: a revoked token is
    refused from the next request on); 401 otherwise."""
    return authenticated(Raw(conn).first(_TOKEN_USER, {"token_hash": auth.token_hash(token)}))


_PUSH_START = auth.token_query("(SELECT value FROM meta WHERE key = 'epoch')", *_HISTORY)
# The client row and the version counter, both locked, in one statement. Locking the client row
# serialises two copies of the same batch arriving at once: the second waits, then finds the
# stored results. The counter is taken before the rows the batch merges into are read, so two
# pushes never merge against the same stale row. (No deadlock: the counter is the only row two
# clients' pushes share, and copies of one client's push lock in the same plan order.)
_CLIENT_AND_COUNTER = Sql(
    "SELECT c.user_id, c.last_mid, k.version FROM clients c, counter k "
    "WHERE c.id = :client_id AND k.id = 1 {for_update}"
)
_STORED_RESULTS = Sql(
    "SELECT mid, status, version, reason, digest FROM results "
    "WHERE client_id = :client_id AND mid >= :first AND mid <= :last"
)
_INSERT_RESULT = Sql(
    "INSERT INTO results (client_id, mid, status, version, reason, digest) "
    "VALUES (:client_id, :mid, :status, :version, :reason, :digest)"
)
_SET_LAST_MID = Sql("UPDATE clients SET last_mid = :last_mid WHERE id = :client_id")
_PRUNE_RESULTS = Sql("DELETE FROM results WHERE client_id = :client_id AND mid <= :through")
SKIPPED = "the laptop could not send this change (too large for the server)"


def _reused(mid: int) -> MutationResult:
    """The answer to a replayed id whose content differs from what was applied under it."""
    return MutationResult(
        mid=mid,
        status="rejected",
        reason=f"mutation id {mid} was already used for a different change; this one was not applied",
    )


def mutation_digest(m: Mutation) -> str:
    """What a mutation id stands for, stored with its result: a replay must carry the same."""
    try:
        text = json.dumps([m.entity, str(m.row_id), m.op, m.patch, m.base], sort_keys=True)
    except (RecursionError, ValueError):
        # Nested too deep to serialise (and so rejected by the checks anyway): the id still
        # stands for this entity, row and op.
        text = json.dumps([m.entity, str(m.row_id), m.op, "unserialisable"])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _replay(m: Mutation, stored: tuple[MutationResult, str | None] | None) -> MutationResult:
    """The answer to a mutation id the server has seen: its stored result, never applied again."""
    if stored is None:
        # Results older than the batch window were pruned; the client has long seen them, so
        # "applied" is the honest answer.
        return MutationResult(mid=m.mid, status="applied")
    result, digest = stored
    # A skip asks what became of the id, whatever it held. Results stored before digests were
    # kept have none to compare.
    if m.op != "skip" and digest is not None and digest != mutation_digest(m):
        return _reused(m.mid)
    return result


def push(conn: Connection, token: str, req: PushRequest) -> PushResponse:
    """Exactly-once: results and ``last_mid`` commit with the mutations' effects."""
    raw = Raw(conn)
    generation = req.cursor.generation if req.cursor is not None else None
    start = raw.first(_PUSH_START, {"token_hash": auth.token_hash(token), "generation": generation})
    actor = authenticated(start)
    assert start is not None
    epoch, committed, generation_end = start[auth.TOKEN_WIDTH :]
    _check_epoch(str(epoch), req.epoch)
    if req.cursor is not None:
        check_cursor(str(epoch), int(committed or 0), generation_end, req.cursor)
    client_id = str(req.client_id)
    client = raw.first(_CLIENT_AND_COUNTER, {"client_id": client_id})
    if client is None or client[0] != actor.user_id:
        raise OpError(404, "unknown client id: register again", "unknown_client")
    mids = [m.mid for m in req.mutations]
    if mids != list(range(mids[0], mids[0] + len(mids))):
        raise OpError(422, "mutation ids in a batch must be consecutive", "bad_batch")
    last_mid = int(client[1])
    if mids[0] > last_mid + 1:
        raise OpError(409, f"mutation id gap: expected {last_mid + 1}", "mid_gap", expected_mid=last_mid + 1)
    stored: dict[int, tuple[MutationResult, str | None]] = {}
    if mids[0] <= last_mid:  # a retry (only then is there anything stored to answer with)
        stored = {
            int(mid): (MutationResult(mid=mid, status=status, version=version, reason=reason), digest)
            for mid, status, version, reason, digest in raw.rows(
                _STORED_RESULTS, {"client_id": client_id, "first": mids[0], "last": last_mid}
            )
        }
    counter = VersionCounter(raw, locked_at=int(client[2]))
    applier = Applier(raw, counter, actor)
    fresh = [m for m in req.mutations if m.mid > last_mid]
    applier.preload(m for m in fresh if m.op != "skip")
    out: list[MutationResult] = []
    for m in req.mutations:
        if m.mid <= last_mid:
            out.append(_replay(m, stored.get(m.mid)))
        elif m.op == "skip":
            out.append(MutationResult(mid=m.mid, status="rejected", reason=SKIPPED))
        else:
            out.append(applier.apply(m))
    results = [
        dict(
            client_id=client_id,
            mid=r.mid,
            status=r.status,
            version=r.version,
            reason=r.reason,
            digest=mutation_digest(m),
        )
        for m, r in zip(fresh, out[len(out) - len(fresh) :], strict=True)
    ]
    if fresh:
        if fresh[-1].mid // PRUNE_EVERY != last_mid // PRUNE_EVERY:  # now and then, not each time
            raw.run(_PRUNE_RESULTS, {"client_id": client_id, "through": fresh[-1].mid - KEEP_RESULTS})
        last_mid = fresh[-1].mid
    if raw.pg:
        new_rows, changed_rows, conflicts = applier.pending()
        raw.run(
            _PG_WRITE,
            {
                "new_rows": json.dumps(new_rows),
                "changed_rows": json.dumps(changed_rows),
                "conflicts": json.dumps(conflicts),
                "results": json.dumps(results),
                "version": counter.current,
                "client_id": client_id,
                "last_mid": last_mid,
            },
        )
        applier.taken()
    else:
        applier.flush()
        raw.many(_INSERT_RESULT, results)
        counter.flush()
        raw.run(_SET_LAST_MID, {"client_id": client_id, "last_mid": last_mid})
    return PushResponse(results=out, last_mid=last_mid)


# On PostgreSQL a push's writes are one statement (data-modifying CTEs; each part touches rows no
# other part does, so they need not see each other's effects): one round trip and one execute,
# where five statements cost psycopg about 0.6 ms of CPU even pipelined, and the server's CPU is
# what 50 laptops syncing at once wait for. The row sets travel as JSON arrays.
_PG_WRITE = Sql(
    "WITH new_rows AS ("
    ' INSERT INTO "rows" (entity, id, scope, data, version, deleted_at, deleted_version, updated_at, writer)'
    " SELECT entity, id, scope, data, version, deleted_at, deleted_version, updated_at, writer"
    ' FROM json_populate_recordset(NULL::"rows", CAST(:new_rows AS json))'
    "), changed_rows AS ("
    ' UPDATE "rows" AS r SET data = c.data, version = c.version, deleted_at = c.deleted_at,'
    " deleted_version = c.deleted_version, updated_at = c.updated_at, writer = c.writer"
    ' FROM json_populate_recordset(NULL::"rows", CAST(:changed_rows AS json)) AS c'
    " WHERE r.entity = c.entity AND r.id = c.id"
    "), new_conflicts AS ("
    " INSERT INTO conflicts (id, entity, row_id, field, kind, kept, lost, user_name, at, scope, version)"
    " SELECT id, entity, row_id, field, kind, kept, lost, user_name, at, scope, version"
    " FROM json_populate_recordset(NULL::conflicts, CAST(:conflicts AS json))"
    "), new_results AS ("
    " INSERT INTO results (client_id, mid, status, version, reason, digest)"
    " SELECT client_id, mid, status, version, reason, digest"
    " FROM json_populate_recordset(NULL::results, CAST(:results AS json))"
    "), new_counter AS (UPDATE counter SET version = :version WHERE id = 1)"
    " UPDATE clients SET last_mid = :last_mid WHERE id = :client_id"
)


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
    generation_end: int | None  # of the request cursor's generation (see ``_HISTORY``)
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


_PULL_START = auth.token_query(
    "(SELECT value FROM meta WHERE key = 'epoch')",
    "(SELECT value FROM meta WHERE key = 'purged_through')",
    "(SELECT version FROM counter WHERE id = 1)",
    "(SELECT COALESCE(scopes, '') FROM clients WHERE id = :client_id AND user_id = u.id)",
    "(SELECT id FROM generations WHERE last_version IS NULL)",
    _HISTORY[1],
    "(SELECT last_mid FROM clients WHERE id = :client_id)",
)


def pull_start(conn: Connection, token: str, req: PullRequest) -> PullStart:
    row = Raw(conn).first(
        _PULL_START,
        {
            "token_hash": auth.token_hash(token),
            "client_id": str(req.client_id) if req.client_id else None,
            "generation": req.cursor.generation if req.cursor is not None else None,
        },
    )
    actor = authenticated(row)
    assert row is not None
    epoch, purged, committed, scopes, generation, generation_end, last_mid = row[auth.TOKEN_WIDTH :]
    return PullStart(
        actor, str(epoch), int(purged), int(committed or 0), scopes, generation, generation_end,
        None if last_mid is None else int(last_mid),
    )  # fmt: skip


def scope_change(conn: Connection, actor: Actor, client_id: uuid.UUID) -> tuple[bool, bool]:
    """``PullStart.scope_change`` for the snapshot route, which authenticates on its own."""
    row = Raw(conn).first(_CLIENT_SCOPES, {"client_id": str(client_id), "user_id": actor.user_id})
    return _scope_change(actor, None if row is None else row[0])


_CLIENT_SCOPES = Sql("SELECT COALESCE(scopes, '') FROM clients WHERE id = :client_id AND user_id = :user_id")


def set_client_scopes(conn: Connection, client_id: uuid.UUID, scopes: str) -> None:
    conn.execute(update(tables.clients).where(tables.clients.c.id == str(client_id)).values(scopes=scopes))


# The three kinds of change a pull returns, one statement (one round trip on PostgreSQL): each
# part is a keyset page of its own table, in one column layout:
# version, kind, entity, row id, conflict id, field, conflict kind, data or kept, lost,
# updated_at or at, user, deleted_at.
_PAGE = (
    "SELECT * FROM (SELECT version, 'r', entity, id, NULL, NULL, NULL, CAST(data AS TEXT), NULL, "
    'updated_at, NULL, deleted_at FROM "rows" WHERE scope {scopes} AND version > :after '
    "AND version <= :upper ORDER BY version LIMIT :limit) AS r "
    "UNION ALL "
    "SELECT * FROM (SELECT version, 'c', entity, row_id, id, field, kind, CAST(kept AS TEXT), "
    "CAST(lost AS TEXT), at, user_name, NULL FROM conflicts WHERE scope {scopes} AND version > :after "
    "AND version <= :upper ORDER BY version LIMIT :limit) AS c "
    "UNION ALL "
    "SELECT * FROM (SELECT version, 'e', entity, row_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL "
    "FROM evictions WHERE scope {scopes} AND version > :after AND version <= :upper "
    "ORDER BY version LIMIT :limit) AS e"
)


def pull(conn: Connection, start: PullStart, req: PullRequest) -> PullResponse:
    epoch = start.epoch
    after = 0
    if req.cursor is not None:
        check_cursor(epoch, start.committed, start.generation_end, req.cursor)
        after = req.cursor.version
    if req.client_id is not None and req.acked_mid:
        # Mutations this server acknowledged and no longer remembers (or a client it forgot).
        if start.client_last_mid is None or req.acked_mid > start.client_last_mid:
            raise _restored()
        if 0 < after < start.purged_through:
            raise OpError(410, "cursor older than tombstone retention: reconcile", "cursor_expired")
    upper = start.committed if req.upper is None else min(req.upper, start.committed)
    limit = req.limit
    raw = Raw(conn)
    params: dict[str, Any] = {"after": after, "upper": upper, "limit": limit + 1}
    scopes = raw.in_list("s", sorted(start.actor.scopes), params)
    items = sorted(raw.rows(Sql.of(_PAGE.format(scopes=scopes)), params), key=lambda item: int(item[0]))
    has_more = len(items) > limit
    items = items[:limit]
    cursor_version = int(items[-1][0]) if has_more else max(upper, after)
    changes: list[RowChange] = []
    conflicts: list[ConflictRecord] = []
    evictions: list[Eviction] = []
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
    # Conflict records are scoped like their row: they move with it, with versions after the
    # evictions (the old scope's laptops drop a row's records with the row; the new scope's pull
    # them, or get them in a snapshot).
    c = tables.conflicts
    keys = {(row.entity, row.id) for row in moved}
    for record_id, entity, row_id in conn.execute(
        select(c.c.id, c.c.entity, c.c.row_id).where(c.c.scope == old_scope).order_by(c.c.version)
    ).all():
        if (entity, row_id) in keys:
            conn.execute(update(c).where(c.c.id == record_id).values(scope=new_scope, version=counter.next()))
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
