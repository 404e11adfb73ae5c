"""Conflict records for the rep: list them, re-apply the value that was set aside, or dismiss one.

Services in the models style: they take the caller's session (``db.write()``), so a re-applied
value goes through the change hook into the outbox like any other edit.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models.entities import sync_conflicts, synced_class
from models.errors import NotFoundError
from models.types import utcnow
from sync.fields import entity_fields
from sync.store import from_wire


def list_conflicts(session: Session, *, include_dismissed: bool = False) -> list[Any]:
    """Conflict records for the Conflicts view, newest first (value kept, value set aside, who)."""
    stmt = select(sync_conflicts).order_by(sync_conflicts.c.server_version.desc())
    if not include_dismissed:
        stmt = stmt.where(sync_conflicts.c.dismissed_at.is_(None))
    return list(session.execute(stmt))


def dismiss(session: Session, conflict_id: uuid.UUID) -> None:
    """Hide a conflict record on this laptop (the record stays on the server)."""
    session.execute(
        update(sync_conflicts).where(sync_conflicts.c.id == conflict_id).values(dismissed_at=utcnow())
    )


def reapply(session: Session, conflict_id: uuid.UUID) -> None:
    """Write the set-aside value back as a new local edit; it syncs like any other change."""
    record = session.execute(select(sync_conflicts).where(sync_conflicts.c.id == conflict_id)).first()
    if record is None:
        raise NotFoundError("That conflict no longer exists.")
    obj = session.get(synced_class(record.entity), record.row_id)
    if obj is None:
        raise NotFoundError("The row this conflict is about is no longer on this laptop.")
    specs = entity_fields()[record.entity]
    values: dict[str, Any]
    if record.kind == "field" and record.field:
        values = {record.field: record.lost}
    elif record.kind == "delete_edit" and isinstance(record.lost, dict):
        if obj.deleted_at is not None:
            raise NotFoundError("The row was deleted: restore it from the trash first, then re-apply.")
        values = {k: v for k, v in record.lost.items() if k in specs}
    else:
        raise NotFoundError("There is no single value to re-apply for this conflict.")
    for name, value in values.items():
        setattr(obj, name, from_wire(specs[name].kind, value))
    dismiss(session, conflict_id)
