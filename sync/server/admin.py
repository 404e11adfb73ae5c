"""The administrator's writes (``python -m sync.server move-account``, ``purge-tombstones``) and
the counts the tests and benchmarks read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, delete, func, insert, select, update

from sync.server import tables
from sync.server.db import VersionCounter, get_meta, now_iso, set_meta
from sync.server.ops import OpError


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
