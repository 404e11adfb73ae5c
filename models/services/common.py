"""Pieces the services share: lookups, soft delete, the full-text query builder."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from models.entities import Commitment, Note, SyncedMixin
from models.errors import NotFoundError

T = TypeVar("T", bound=SyncedMixin)


def children_of(
    session: Session, column: str, parent_id: uuid.UUID, deleted_at: datetime | None = None
) -> list[Note | Commitment]:
    """The notes and commitments of a contact or account (``column`` is ``contact_id`` or
    ``account_id``): live ones, or those deleted at the moment ``deleted_at`` (deleted with it)."""
    rows: list[Note | Commitment] = []
    for cls in (Note, Commitment):
        when = cls.deleted_at.is_(None) if deleted_at is None else cls.deleted_at == deleted_at
        rows.extend(session.scalars(select(cls).where(getattr(cls, column) == parent_id, when)))
    return rows


_TOKEN = re.compile(r"\w+", re.UNICODE)


def fts_query(text: str) -> str | None:
    """Turn what the rep typed into an FTS5 query: every word, as a prefix, must match.

    Quoting each token keeps FTS5 syntax characters (``"``, ``*``, ``:``, ``-``) typed by the rep
    from being read as operators.
    """
    tokens = _TOKEN.findall(text)
    if not tokens:
        return None
    return " AND ".join(f'"{tok}"*' for tok in tokens)


def get_live(session: Session, cls: type[T], row_id: uuid.UUID, what: str) -> T:
    obj = session.get(cls, row_id)
    if obj is None or obj.deleted_at is not None:
        raise NotFoundError(f"That {what} no longer exists (it may have been deleted).")
    return obj


def live(stmt: Select, cls: type[SyncedMixin]) -> Select:
    return stmt.where(cls.deleted_at.is_(None))


def ids_of(session: Session, stmt: Select) -> list[uuid.UUID]:
    return list(session.scalars(stmt))


__all__ = ["children_of", "fts_query", "get_live", "ids_of", "live", "select"]
