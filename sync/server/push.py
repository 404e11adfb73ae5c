"""Push: a laptop's batch of mutations, applied exactly once (invariant 2).

The mutations' effects, their results and the client's ``last_mid`` commit in one transaction;
a retried id gets its stored result and changes nothing. The merge itself is ``merge.Applier``'s.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import Connection

from sync.protocol import Mutation, MutationResult, PushRequest, PushResponse
from sync.server import auth, statements
from sync.server.batch import Batch
from sync.server.db import VersionCounter
from sync.server.merge import Applier
from sync.server.ops import OpError, authenticated, check_cursor, check_epoch
from sync.server.raw import Raw

# Results kept per client, for answering a retried batch (a batch is at most 500 mutations).
KEEP_RESULTS = 2000
PRUNE_EVERY = 500
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


def result_row(client_id: str, m: Mutation, result: MutationResult) -> dict[str, Any]:
    """A row of ``tables.results``, every column (``statements.INSERT_RESULT`` names them all)."""
    return dict(
        client_id=client_id,
        mid=result.mid,
        status=result.status,
        version=result.version,
        reason=result.reason,
        digest=mutation_digest(m),
    )


def push(conn: Connection, token: str, req: PushRequest) -> PushResponse:
    """Exactly-once: results and ``last_mid`` commit with the mutations' effects."""
    raw = Raw(conn)
    generation = req.cursor.generation if req.cursor is not None else None
    start = raw.first(statements.PUSH_START, {"token_hash": auth.token_hash(token), "generation": generation})
    actor = authenticated(start)
    assert start is not None
    epoch, committed, generation_end = start[statements.TOKEN_WIDTH :]
    check_epoch(str(epoch), req.epoch)
    if req.cursor is not None:
        check_cursor(str(epoch), int(committed or 0), generation_end, req.cursor)
    client_id = str(req.client_id)
    client = raw.first(statements.CLIENT_AND_COUNTER, {"client_id": client_id})
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
                statements.STORED_RESULTS, {"client_id": client_id, "first": mids[0], "last": last_mid}
            )
        }
    counter = VersionCounter(raw, locked_at=int(client[2]))
    batch = Batch(raw, counter, actor)
    applier = Applier(batch)
    fresh = [m for m in req.mutations if m.mid > last_mid]
    batch.preload(m for m in fresh if m.op != "skip")
    out: list[MutationResult] = []
    for m in req.mutations:
        if m.mid <= last_mid:
            out.append(_replay(m, stored.get(m.mid)))
        elif m.op == "skip":
            out.append(MutationResult(mid=m.mid, status="rejected", reason=SKIPPED))
        else:
            out.append(applier.apply(m))
    results = [result_row(client_id, m, r) for m, r in zip(fresh, out[len(out) - len(fresh) :], strict=True)]
    if fresh:
        if fresh[-1].mid // PRUNE_EVERY != last_mid // PRUNE_EVERY:  # now and then, not each time
            raw.run(
                statements.PRUNE_RESULTS, {"client_id": client_id, "through": fresh[-1].mid - KEEP_RESULTS}
            )
        last_mid = fresh[-1].mid
    if raw.pg:
        new_rows, changed_rows, conflicts = batch.pending()
        raw.run(
            statements.PG_WRITE,
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
        batch.taken()
    else:
        batch.flush()
        raw.many(statements.INSERT_RESULT, results)
        counter.flush()
        raw.run(statements.SET_LAST_MID, {"client_id": client_id, "last_mid": last_mid})
    return PushResponse(results=out, last_mid=last_mid)
