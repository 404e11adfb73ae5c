"""What every operation of the server shares: the refusal it answers with, the token check, the
judgement of a laptop's cursor, and registering a laptop.

The operations themselves: ``push`` (applying mutations exactly once), ``reads`` (pull, the
bootstrap snapshot, id lists) and ``admin`` (moving an account, collecting tombstones), each one
transaction.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Connection, insert

from sync.protocol import Cursor
from sync.server import auth, observe, statements, tables
from sync.server.auth import Actor
from sync.server.db import get_meta, now_iso
from sync.server.raw import Raw


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


def check_epoch(current: str, sent: str) -> None:
    """Refuse a request made under another epoch (``new-epoch``: every laptop starts over)."""
    if sent != current:
        raise OpError(410, "the server was restored from a backup: re-bootstrap", "epoch_changed")


def server_restored() -> OpError:
    """The refusal that tells a laptop to give back what the server lost (invariant 7)."""
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
    check_epoch(epoch, cursor.epoch)
    restored = cursor.version > committed
    if cursor.generation is not None:
        restored |= generation_end is None or 0 <= generation_end < cursor.version
    if restored:
        raise server_restored()


def authenticated(row: tuple[Any, ...] | None) -> Actor:
    """The user of a ``statements.token_query`` row, or the 401 every route answers."""
    try:
        actor = auth.actor_from(row)
    except auth.AuthError as exc:
        raise OpError(401, str(exc), "bad_token") from exc
    observe.note_user(actor.name)  # for the access log
    return actor


def authenticate(conn: Connection, token: str) -> Actor:
    """The token's user, checked in the request's own transaction (no cache: a revoked token is
    refused from the next request on); 401 otherwise."""
    return authenticated(Raw(conn).first(statements.TOKEN_USER, {"token_hash": auth.token_hash(token)}))


def register(conn: Connection, actor: Actor, first_mid: int) -> tuple[uuid.UUID, str]:
    client_id = uuid.uuid4()
    conn.execute(
        insert(tables.clients).values(
            id=str(client_id), user_id=actor.user_id, last_mid=first_mid - 1, created_at=now_iso()
        )
    )
    return client_id, get_meta(conn, "epoch")
