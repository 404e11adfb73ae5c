"""What each entity's fields may hold, derived from the client's ORM classes.

The server keeps rows as JSON documents; these checks make sure a document only ever holds the
fields and types the app knows (a forged or buggy patch is rejected, never stored).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import JSON, Date, Integer, String, Text, Uuid, inspect

from models.entities import SYNCED_CLASSES, SyncedMixin
from models.types import UTCDateTime

# Fields merged as sets (additions and removals on both sides both survive).
SET_FIELDS = {("contact", "tags"), ("visit", "contact_ids")}
# Fields whose overwritten value is kept as a separate copy of the row, not only in a record.
COPY_FIELDS = {("note", "body")}
# References to a parent row: a child created under a parent deleted elsewhere is reported.
PARENT_FIELDS = {"account_id": "account", "contact_id": "contact"}


@dataclass(frozen=True)
class FieldSpec:
    kind: str  # "str" | "int" | "uuid" | "datetime" | "date" | "json"
    nullable: bool
    max_length: int | None
    default: Any


class FieldError(ValueError):
    pass


def _kind(column_type: Any) -> str:
    if isinstance(column_type, UTCDateTime):
        return "datetime"
    if isinstance(column_type, Uuid):
        return "uuid"
    if isinstance(column_type, Date):
        return "date"
    if isinstance(column_type, Integer):
        return "int"
    if isinstance(column_type, String | Text):
        return "str"
    if isinstance(column_type, JSON):
        return "json"
    raise TypeError(f"no wire kind for {column_type!r}")


@cache
def entity_fields() -> dict[str, dict[str, FieldSpec]]:
    out: dict[str, dict[str, FieldSpec]] = {}
    for cls in SYNCED_CLASSES:
        mapper = inspect(cls)
        specs: dict[str, FieldSpec] = {}
        for attr in mapper.column_attrs:
            if attr.key in SyncedMixin.bookkeeping:
                continue
            col = attr.columns[0]
            default = None
            if col.default is not None and col.default.is_scalar:
                default = col.default.arg
            elif col.default is not None and col.default.is_callable and _kind(col.type) == "json":
                default = []
            specs[attr.key] = FieldSpec(
                kind=_kind(col.type),
                nullable=bool(col.nullable),
                max_length=getattr(col.type, "length", None),
                default=default,
            )
        out[cls.__entity__] = specs
    return out


def check_value(spec: FieldSpec, name: str, value: Any) -> None:
    if value is None:
        if not spec.nullable:
            raise FieldError(f"{name} cannot be empty")
        return
    ok = True
    try:
        if spec.kind == "str":
            ok = isinstance(value, str) and (spec.max_length is None or len(value) <= spec.max_length)
        elif spec.kind == "int":
            ok = isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**53
        elif spec.kind == "uuid":
            # One spelling (canonical lowercase with hyphens): references are compared as text
            # on the server (moves, parents), so "{ABC...}" must not name a row a second way.
            ok = isinstance(value, str) and str(uuid.UUID(value)) == value
        elif spec.kind == "datetime":
            ok = isinstance(value, str) and datetime.fromisoformat(value).tzinfo is not None
        elif spec.kind == "date":
            ok = isinstance(value, str) and bool(date.fromisoformat(value))
        elif spec.kind == "json":
            ok = isinstance(value, list | dict)
    except ValueError:
        ok = False
    if not ok:
        raise FieldError(f"{name} has the wrong type or is too long")


def check_patch(entity: str, patch: dict[str, Any], *, complete: bool) -> dict[str, Any]:
    """Validate a patch; for a create (``complete``) fill the fields it leaves out with defaults."""
    specs = entity_fields().get(entity)
    if specs is None:
        raise FieldError(f"unknown entity {entity!r}")
    for name, value in patch.items():
        spec = specs.get(name)
        if spec is None:
            raise FieldError(f"unknown field {entity}.{name}")
        check_value(spec, name, value)
    if not complete:
        return dict(patch)
    full = {name: spec.default for name, spec in specs.items()}
    full.update(patch)
    missing = [n for n, s in specs.items() if full[n] is None and not s.nullable]
    if missing:
        raise FieldError(f"missing required field(s): {', '.join(sorted(missing))}")
    return full
