"""What the desktop shows about sync: linked server, changes waiting, last success, what needs
the rep's eye (conflicts, rejected changes). Plain services over the local database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models.entities import sync_conflicts, sync_rejections, synced_class
from models.types import utcnow
from sync.conflicts import list_conflicts
from sync.store import K_SERVER, K_USER, SyncStore

K_LAST_SYNC = "sync.last_synced_at"


@dataclass(frozen=True)
class SyncStatus:
    server: str | None
    username: str | None
    pending: int
    last_synced_at: datetime | None
    conflicts: int
    rejections: int

    @property
    def linked(self) -> bool:
        return bool(self.server and self.username)


def sync_status(session: Session) -> SyncStatus:
    last = SyncStore.get(session, K_LAST_SYNC)
    return SyncStatus(
        server=SyncStore.get(session, K_SERVER) or None,
        username=SyncStore.get(session, K_USER) or None,
        pending=SyncStore.pending_count(session),
        last_synced_at=datetime.fromisoformat(last) if isinstance(last, str) else None,
        conflicts=int(
            session.scalar(
                select(func.count())
                .select_from(sync_conflicts)
                .where(sync_conflicts.c.dismissed_at.is_(None))
            )
            or 0
        ),
        rejections=int(
            session.scalar(
                select(func.count())
                .select_from(sync_rejections)
                .where(sync_rejections.c.dismissed_at.is_(None))
            )
            or 0
        ),
    )


def link_server(session: Session, server: str, username: str) -> None:
    """Remember which server and user this database syncs with (not secrets; the token is not)."""
    SyncStore.put(session, K_SERVER, server.rstrip("/"))
    SyncStore.put(session, K_USER, username)


def record_success(session: Session) -> None:
    SyncStore.put(session, K_LAST_SYNC, utcnow().isoformat())


def list_rejections(session: Session, *, include_dismissed: bool = False) -> list[Any]:
    """Changes the server refused (out of territory, invalid), kept so the rep can redo them."""
    stmt = select(sync_rejections).order_by(sync_rejections.c.id.desc())
    if not include_dismissed:
        stmt = stmt.where(sync_rejections.c.dismissed_at.is_(None))
    return list(session.execute(stmt))


def dismiss_rejection(session: Session, rejection_id: int) -> None:
    """Hide a rejected change on this laptop once the rep has dealt with it."""
    session.execute(
        update(sync_rejections).where(sync_rejections.c.id == rejection_id).values(dismissed_at=utcnow())
    )


@dataclass(frozen=True)
class ConflictItem:
    id: Any
    entity: str
    row_id: Any
    title: str
    field: str | None
    kind: str  # field | note_copy | delete_edit | orphan
    kept: Any
    lost: Any
    user_name: str
    at: str


@dataclass(frozen=True)
class RejectionItem:
    id: int
    entity: str
    row_id: Any
    title: str
    op: str
    patch: dict[str, Any]
    reason: str
    at: datetime


_TITLE_FIELD = {
    "account": "name",
    "contact": "name",
    "note": "summary",
    "commitment": "what",
    "visit": "purpose",
    "feedback": "comment",
    "purchase": "product",
    "appreciation": "summary",
    "snooze": "item",
}


def _title(session: Session, entity: str, row_id: Any, fallback: dict[str, Any] | None = None) -> str:
    field = _TITLE_FIELD.get(entity, "id")
    try:
        cls = synced_class(entity)
    except KeyError:
        return str(row_id)
    value = session.scalar(select(getattr(cls, field)).where(cls.id == row_id))
    if value is None and fallback:
        value = fallback.get(field)
    return str(value) if value else f"(a {entity} no longer on this laptop)"


def review_items(session: Session) -> tuple[list[ConflictItem], list[RejectionItem]]:
    """Conflicts and rejected changes not yet dismissed, newest first, with what they are about."""
    conflicts = [
        ConflictItem(
            r.id,
            r.entity,
            r.row_id,
            _title(session, r.entity, r.row_id),
            r.field,
            r.kind,
            r.kept,
            r.lost,
            r.user_name,
            r.at,
        )
        for r in list_conflicts(session)
    ]
    rejections = [
        RejectionItem(
            r.id,
            r.entity,
            r.row_id,
            _title(session, r.entity, r.row_id, r.patch),
            r.op,
            r.patch or {},
            r.reason,
            r.at,
        )
        for r in list_rejections(session)
    ]
    return conflicts, rejections
