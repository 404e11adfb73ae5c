"""Merging two contacts into one, and undoing it.

The rep picks, field by field, which contact's value the survivor keeps. Every row that names
the merged-away contact moves to the survivor: the rows found from the table definitions (a
column with a foreign key to ``contacts.id``, or a set of contact ids declared with
``info={"refers": "contact"}``), so a table another change adds is covered without a list to
keep up. The merged-away contact is tombstoned and names its survivor (``merged_into``); the
sync server sends a late edit of it to the survivor (docs/sync.md "Merged contacts").

Everything goes through the ORM, so each change is queued for sync by the change hook.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from sqlalchemy import JSON, String, Table, cast, select, update
from sqlalchemy.orm import Session

from models.entities import Account, Base, Contact, SyncedMixin
from models.errors import NotFoundError, ValidationError
from models.services.common import get_live
from models.types import utcnow
from models.values import Described, described

Pick = Literal["survivor", "other", "both"]


@dataclass(frozen=True)
class MergeField:
    """One row of the merge dialog: a field and both contacts' values (as stored)."""

    name: str
    label: str
    survivor: Any
    other: Any
    is_list: bool
    default: Pick  # what the dialog proposes
    survivor_text: str = ""  # the values as the rep reads them (an account's name, a list...)
    other_text: str = ""

    @property
    def same(self) -> bool:
        return _norm(self.survivor) == _norm(self.other)


@dataclass(frozen=True)
class Merged:
    """What :func:`merge_contacts` did, enough for :func:`undo_merge` to put it back."""

    survivor_id: uuid.UUID
    merged_id: uuid.UUID
    merged_name: str
    survivor_before: tuple[tuple[str, Any], ...]  # fields the merge changed: their old values
    survivor_after: tuple[tuple[str, Any], ...]
    moved: tuple[tuple[str, uuid.UUID, str], ...]  # (table, row id, column) re-pointed
    sets: tuple[tuple[str, uuid.UUID, str, bool], ...]  # (table, row id, column, survivor was in)


def _norm(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [_norm(v) for v in value]
    if isinstance(value, str):
        return value.strip()
    return value


def _mergeable() -> tuple[Described, ...]:
    return described(Contact)


def _is_list(field: Described) -> bool:
    return field.spec.kind == "json"


def merge_fields(session: Session, survivor_id: uuid.UUID, other_id: uuid.UUID) -> list[MergeField]:
    """Both contacts' values of every field the rep sees, with a proposal for each: the
    survivor's value, the other's where the survivor's is empty, and both for lists."""
    survivor = get_live(session, Contact, survivor_id, "contact")
    other = get_live(session, Contact, other_id, "contact")
    out: list[MergeField] = []
    for field in _mergeable():
        a, b = getattr(survivor, field.name), getattr(other, field.name)
        is_list = _is_list(field)
        default: Pick = "survivor"
        if is_list and a and b and _norm(a) != _norm(b):
            default = "both"
        elif a in (None, "", []) and b not in (None, "", []):
            default = "other"
        out.append(
            MergeField(
                field.name,
                field.shown.label,
                a,
                b,
                is_list,
                default,
                _text(session, field, a),
                _text(session, field, b),
            )
        )
    return out


def _text(session: Session, field: Described, value: Any) -> str:
    if value in (None, "", []):
        return ""
    if field.shown.editor == "account":
        account = session.get(Account, value)
        return account.name if account is not None and account.deleted_at is None else ""
    if field.spec.shape == "dates":
        return "; ".join(f"{d.get('label', '')}: {d.get('date', '')}" for d in value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _combined(a: list[Any], b: list[Any]) -> list[Any]:
    """Both lists, the survivor's first, each value once (texts compared case-insensitively)."""
    out: list[Any] = []
    seen: set[str] = set()
    for item in [*(a or []), *(b or [])]:
        key = item.strip().casefold() if isinstance(item, str) else repr(sorted(item.items()))
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def contact_references() -> list[tuple[Table, str, bool]]:
    """Every (table, column, is a set) that holds contact ids, from the table definitions."""
    contacts_id = Contact.__table__.c.id  # type: ignore[attr-defined]
    out: list[tuple[Table, str, bool]] = []
    for table in Base.metadata.sorted_tables:
        for col in table.columns:
            if col.name == "merged_into":
                continue
            keyed = any(fk.column is contacts_id for fk in col.foreign_keys)
            if keyed or col.info.get("refers") == "contact":
                # A JSON column holds a set of ids (``visit.contact_ids``); any other, one id.
                out.append((table, col.name, isinstance(col.type, JSON)))
    return out


def _mapped() -> dict[str, type[SyncedMixin]]:
    """Synced classes by table name: their rows change through the ORM (queued for sync)."""
    out: dict[str, type[SyncedMixin]] = {}
    for mapper in Base.registry.mappers:
        cls = mapper.class_
        if issubclass(cls, SyncedMixin):
            out[cls.__tablename__] = cls  # type: ignore[attr-defined]
    return out


def _rows(session: Session, table: Table, column: str, contact_id: uuid.UUID, is_set: bool) -> Iterator[Any]:
    """ORM objects (synced tables) naming ``contact_id`` in ``column``, deleted ones too (they
    come back with the survivor if restored)."""
    cls = _mapped().get(table.name)
    assert cls is not None
    attr = getattr(cls, column)
    # A set is JSON text: a LIKE narrows it, the exact check is the caller's.
    cond = cast(attr, String).like(f"%{contact_id}%") if is_set else attr == contact_id
    yield from session.scalars(select(cls).where(cond))


def merge_contacts(
    session: Session, survivor_id: uuid.UUID, other_id: uuid.UUID, picks: Mapping[str, Pick]
) -> Merged:
    """Merge ``other`` into ``survivor``: the survivor takes the picked values, everything that
    named ``other`` names the survivor, and ``other`` is tombstoned pointing at the survivor."""
    if survivor_id == other_id:
        raise ValidationError({"contact": "Choose two different contacts to merge."})
    survivor = get_live(session, Contact, survivor_id, "contact")
    other = get_live(session, Contact, other_id, "contact")
    before: list[tuple[str, Any]] = []
    after: list[tuple[str, Any]] = []
    for field in _mergeable():
        pick = picks.get(field.name, "survivor")
        current = getattr(survivor, field.name)
        theirs = getattr(other, field.name)
        if pick == "other":
            value = theirs
        elif pick == "both" and _is_list(field):
            value = _combined(current, theirs)
        else:
            value = current
        if value != current:
            before.append((field.name, current))
            after.append((field.name, value))
            setattr(survivor, field.name, value)
    moved: list[tuple[str, uuid.UUID, str]] = []
    sets: list[tuple[str, uuid.UUID, str, bool]] = []
    mapped = _mapped()
    text_other, text_survivor = str(other_id), str(survivor_id)
    for table, column, is_set in contact_references():
        if table.name not in mapped:
            # A local table (not synced) that names contacts: re-pointed in place.
            if not is_set:
                session.execute(
                    update(table).where(table.c[column] == other_id).values({column: survivor_id})
                )
            continue
        for row in _rows(session, table, column, other_id, is_set):
            if is_set:
                held = list(getattr(row, column) or [])
                if text_other not in held:
                    continue
                had = text_survivor in held
                setattr(
                    row,
                    column,
                    [text_survivor if i == text_other else i for i in held if not (had and i == text_other)],
                )
                sets.append((table.name, row.id, column, had))
            else:
                # The survivor's own link to the contact merged into it (referred by it) goes.
                setattr(row, column, None if row.id == survivor_id else survivor_id)
                moved.append((table.name, row.id, column))
    # The pointer first, then the delete: the server applies them in this order, and an edit of
    # a deleted row would be set aside rather than applied.
    other.merged_into = survivor_id
    session.flush()
    other.deleted_at = utcnow()
    session.flush()
    return Merged(survivor_id, other_id, other.name, tuple(before), tuple(after), tuple(moved), tuple(sets))


def undo_merge(session: Session, merged: Merged) -> None:
    """Put back what :func:`merge_contacts` did, where nothing has changed it since: the merged
    contact comes back, the rows it had go back to it, the survivor gets its old values."""
    other = session.get(Contact, merged.merged_id)
    if other is None or other.deleted_at is None or other.merged_into != merged.survivor_id:
        raise NotFoundError("That merge can no longer be undone: the contacts were changed since.")
    # The pointer is cleared first (the server allows that on the tombstone), then the restore.
    other.merged_into = None
    session.flush()
    other.deleted_at = None
    mapped = _mapped()
    for table_name, row_id, column in merged.moved:
        row = session.get(mapped[table_name], row_id)
        points_at = None if row_id == merged.survivor_id else merged.survivor_id
        if row is not None and getattr(row, column) == points_at:
            setattr(row, column, merged.merged_id)
    text_other, text_survivor = str(merged.merged_id), str(merged.survivor_id)
    for table_name, row_id, column, had in merged.sets:
        row = session.get(mapped[table_name], row_id)
        held = list(getattr(row, column) or []) if row is not None else []
        if row is None or text_survivor not in held:
            continue
        if had:
            if text_other not in held:
                held.append(text_other)
        else:
            held = [text_other if i == text_survivor else i for i in held]
        setattr(row, column, held)
    survivor = session.get(Contact, merged.survivor_id)
    if survivor is not None and survivor.deleted_at is None:
        now = dict(merged.survivor_after)
        for name, old in merged.survivor_before:
            if getattr(survivor, name) == now[name]:  # not changed since the merge
                setattr(survivor, name, old)
    session.flush()


def resolve(session: Session, contact_id: uuid.UUID) -> uuid.UUID:
    """The contact to open for ``contact_id``: its survivor if it was merged away."""
    seen: set[uuid.UUID] = set()
    current = contact_id
    while current not in seen:
        seen.add(current)
        target = session.scalar(
            select(Contact.merged_into).where(Contact.id == current, Contact.deleted_at.is_not(None))
        )
        if target is None:
            break
        current = target
    return current
