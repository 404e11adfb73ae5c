"""What each synced field may hold, declared once and checked on both ends.

A field's type and length limit come from its ORM column (``models.entities``); its choices and,
for a JSON field, its shape from the column's ``info``. The app's services check the values a
rep typed with :func:`field_errors` before anything is saved (the forms show the messages and
the limits), and the sync server checks every pushed value with :func:`check_value` before it
stores it (``sync.fields``): a value the server stores can always be sent back to every laptop
(valid Unicode, no NUL, no NaN, bounded nesting, the documented shape), and a bad one refuses
that one change, in words a rep can read.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import JSON, Date, Integer, String, Text, Uuid, inspect

from models.entities import SYNCED_CLASSES, SyncedMixin
from models.shown import Shown
from models.types import UTCDateTime, to_wire

# Ids, counts and amounts fit a signed 64-bit column and a JSON number exactly.
MAX_INT = 2**53
# The shapes a JSON field may declare (``mapped_column(JSON, info={"shape": ...})``); each is a
# flat list, so nesting is bounded by construction and NaN has nowhere to go.
SHAPES = {
    "texts": "a list of texts",
    "uuids": "a list of ids",
    "dates": "a list of {label, date} entries",
}


@dataclass(frozen=True)
class FieldSpec:
    kind: str  # "str" | "int" | "uuid" | "datetime" | "date" | "json"
    nullable: bool
    max_length: int | None
    default: Any
    choices: tuple[str, ...] | None = None
    shape: str | None = None  # for "json": a key of SHAPES
    merge: str | None = None  # a sync merge policy other than the default: "set" | "copy"
    # The entity whose ids the field holds (a foreign key's, or ``info={"refers": ...}`` on a
    # JSON set of ids): a merge of two contacts re-points every field that refers to "contact".
    refers: str | None = None


class FieldError(ValueError):
    """A value the field cannot hold; the message names the field and says why, for a rep."""


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


def _spec(col: Any) -> FieldSpec:
    kind = _kind(col.type)
    default = None
    if col.default is not None and col.default.is_scalar:
        default = col.default.arg
    elif col.default is not None and col.default.is_callable and kind == "json":
        default = []
    shape = col.info.get("shape")
    if kind == "json" and shape not in SHAPES:
        # An undeclared shape would let any JSON through (NaN, 900 levels deep...).
        raise TypeError(f"JSON column {col.name} must declare its shape: one of {sorted(SHAPES)}")
    choices = col.info.get("choices")
    return FieldSpec(
        kind=kind,
        nullable=bool(col.nullable),
        max_length=getattr(col.type, "length", None),
        default=default,
        choices=tuple(choices) if choices is not None else None,
        shape=shape,
        merge=col.info.get("merge"),
        refers=_refers(col),
    )


def _refers(col: Any) -> str | None:
    if "refers" in col.info:
        return str(col.info["refers"])
    for fk in col.foreign_keys:
        for cls in SYNCED_CLASSES:
            if cls.__tablename__ == fk.target_fullname.split(".")[0]:  # type: ignore[attr-defined]
                return cls.__entity__
    return None


@cache
def entity_fields() -> dict[str, dict[str, FieldSpec]]:
    """Every synced entity's editable fields (bookkeeping columns left out), by entity name."""
    out: dict[str, dict[str, FieldSpec]] = {}
    for cls in SYNCED_CLASSES:
        out[cls.__entity__] = {
            attr.key: _spec(attr.columns[0])
            for attr in inspect(cls).column_attrs
            if attr.key not in SyncedMixin.bookkeeping
        }
    return out


@dataclass(frozen=True)
class Described:
    """One field as the rep sees it (``shown``) with what it may hold (``spec``)."""

    name: str
    shown: Shown
    spec: FieldSpec


def described(cls: type[SyncedMixin]) -> tuple[Described, ...]:
    """The fields of ``cls`` that declare how they are shown, in declaration order: the order of
    the form, of the contact page's sections and of the sheet's Remember lines."""
    return _described()[cls.__entity__]


@cache
def _described() -> dict[str, tuple[Described, ...]]:
    specs = entity_fields()
    return {
        cls.__entity__: tuple(
            Described(attr.key, attr.columns[0].info["shown"], specs[cls.__entity__][attr.key])
            for attr in inspect(cls).column_attrs
            if "shown" in attr.columns[0].info
        )
        for cls in SYNCED_CLASSES
    }


def label(name: str) -> str:
    return name.removesuffix("_id").replace("_", " ").capitalize()


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored and sent back as it is, or ``None``.

    PostgreSQL refuses NUL in text and JSON; a lone surrogate (from a ``\\ud800`` escape) is not
    Unicode at all: SQLite's driver, and every JSON encoder writing UTF-8, fail on it.
    """
    if "\x00" in text:
        return "contains a NUL character, which cannot be stored"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a broken character (a lone surrogate), which cannot be stored"
    return None


def _is_uuid(value: Any) -> bool:
    # One spelling: the canonical lower-case form the app writes (``str(uuid)``).
    try:
        return isinstance(value, str) and str(uuid.UUID(value)) == value
    except ValueError:
        return False


def _is_date(value: Any) -> bool:
    try:
        return isinstance(value, str) and value.isascii() and bool(date.fromisoformat(value))
    except ValueError:
        return False


def _shape_ok(shape: str, value: Any) -> bool:
    if not isinstance(value, list):
        return False
    if shape == "texts":
        return all(isinstance(v, str) and text_problem(v) is None for v in value)
    if shape == "uuids":
        return all(_is_uuid(v) for v in value)
    return all(
        isinstance(v, dict)
        and v.keys() == {"label", "date"}
        and isinstance(v["label"], str)
        and text_problem(v["label"]) is None
        and _is_date(v["date"])
        for v in value
    )


def check_value(spec: FieldSpec, name: str, value: Any) -> None:
    """Raise :class:`FieldError` unless ``value`` (wire form) fits the field."""
    what = label(name)
    if value is None:
        if not spec.nullable:
            raise FieldError(f"{what} cannot be empty")
        return
    if spec.kind == "str":
        if not isinstance(value, str):
            raise FieldError(f"{what} must be text")
        problem = text_problem(value)
        if problem:
            raise FieldError(f"{what} {problem}")
        if spec.max_length is not None and len(value) > spec.max_length:
            raise FieldError(f"{what} is too long: {len(value)} characters (at most {spec.max_length})")
        if spec.choices is not None and value not in spec.choices:
            raise FieldError(f"{what} must be one of: {', '.join(spec.choices)}")
    elif spec.kind == "int":
        if not isinstance(value, int) or isinstance(value, bool) or abs(value) >= MAX_INT:
            raise FieldError(f"{what} must be a whole number")
    elif spec.kind == "uuid":
        if not _is_uuid(value):
            raise FieldError(f"{what} is not a valid reference ({name} must be a UUID in lower case)")
    elif spec.kind == "datetime":
        try:
            ok = (
                isinstance(value, str)
                and value.isascii()
                and datetime.fromisoformat(value).tzinfo is not None
            )
        except ValueError:
            ok = False
        if not ok:
            raise FieldError(f"{what} must be a date and time with a time zone")
    elif spec.kind == "date":
        if not _is_date(value):
            raise FieldError(f"{what} is not a date (use YYYY-MM-DD)")
    elif spec.kind == "json":
        assert spec.shape is not None
        if not _shape_ok(spec.shape, value):
            raise FieldError(f"{what} must be {SHAPES[spec.shape]}")


def field_errors(cls: type[SyncedMixin], values: Mapping[str, Any]) -> dict[str, str]:
    """The problems of cleaned column values (Python form), one message per field: what the
    services add to their own checks so the app never saves what the server would refuse."""
    specs = entity_fields()[cls.__entity__]
    errors: dict[str, str] = {}
    for name, value in values.items():
        spec = specs.get(name)
        if spec is None:
            continue
        try:
            check_value(spec, name, to_wire(value))
        except FieldError as exc:
            errors[name] = str(exc)
    return errors


def max_length(cls: type[SyncedMixin], name: str) -> int | None:
    """The field's length limit (the forms show it and stop typing there)."""
    return entity_fields()[cls.__entity__][name].max_length
