"""Recovery: after the server was restored from a backup, changed its epoch, or collected
tombstones this laptop had not seen (invariants 6 and 7). Nothing local is thrown away: rows the
server lost are given back, the outbox is kept, and rows the server no longer has are dropped
only when no local change of theirs is waiting.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from models.entities import SYNCED_CLASSES, synced_class
from models.types import to_wire, utcnow
from sync.fields import entity_fields
from sync.protocol import GIVE_BACK, GIVE_BACK_VERSION
from sync.store import (
    K_CLIENT,
    K_CURSOR,
    K_EPOCH,
    K_GENERATIONS,
    K_NEXT_MID,
    K_RECONCILE,
    K_SNAPSHOT,
    SyncStore,
    outbox,
)


def give_back(session: Session, fork: int) -> int:
    """Queue every row this laptop holds at a version above ``fork`` (written in a history
    the server lost) as a change to push again, ahead of the pending outbox; returns how many.

    A live row goes as a create with all its fields; a deleted one as that create then a
    delete, so the server keeps a tombstone and another laptop's older live copy cannot
    bring it back. The server merges each one (``sync.server.merge.Applier._give_back``).
    Rows with pending changes are given back too: their entries follow, as they were.
    The row's ``server_version`` is cleared in the same transaction, so running this again
    (after a crash before the re-download) does not queue it twice.
    """
    SyncStore.assign_mids(session)
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
    first = session.scalar(select(func.min(outbox.c.mid))) or int(SyncStore.get(session, K_NEXT_MID, 1))
    session.execute(update(outbox).values(mid=None))
    fresh = [
        session.scalar(insert(outbox).values(**item, created_at=utcnow()).returning(outbox.c.seq))
        for item in given
    ]
    for i, seq in enumerate([*fresh, *queued]):
        session.execute(update(outbox).where(outbox.c.seq == seq).values(mid=first + i))
    SyncStore.put(session, K_NEXT_MID, first + len(fresh) + len(queued))
    return sum(1 for item in given if item["op"] == "create")


def reset_for_epoch(session: Session, client_id: uuid.UUID, epoch: str, first_mid: int) -> None:
    """After the server went back in time (or its epoch changed): new registration, full
    re-pull, outbox kept (with what ``give_back`` queued at its head).

    Versions from the old history mean nothing now (a restored server hands out the same
    numbers again), so every row's ``server_version`` is cleared and the re-pull rewrites them.
    """
    SyncStore.put(session, K_CLIENT, str(client_id))
    SyncStore.put(session, K_EPOCH, epoch)
    SyncStore.put(session, K_CURSOR, None)
    SyncStore.put(session, K_SNAPSHOT, None)
    SyncStore.put(session, K_RECONCILE, True)
    SyncStore.put(session, K_GENERATIONS, [])
    _renumber(session, first_mid)
    for cls in SYNCED_CLASSES:
        table = cls.__table__  # type: ignore[attr-defined]
        session.execute(update(table).values(server_version=None))


def reconcile(session: Session, entity: str, live: set[uuid.UUID]) -> int:
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


def _renumber(session: Session, first_mid: int) -> None:
    """Give pending entries consecutive ids from ``first_mid`` (after re-registering: the
    new client id's numbering starts afresh on the server, so no id it has seen is reused).
    Within one registration ids are never renumbered (a change too large to send spends
    its id with a ``skip``)."""
    mids = list(session.scalars(select(outbox.c.seq).where(outbox.c.mid.is_not(None)).order_by(outbox.c.mid)))
    session.execute(update(outbox).values(mid=None))
    for i, seq in enumerate(mids):
        session.execute(update(outbox).where(outbox.c.seq == seq).values(mid=first_mid + i))
    SyncStore.put(session, K_NEXT_MID, first_mid + len(mids))
