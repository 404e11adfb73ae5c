"""Loading a bootstrap snapshot: hundreds of thousands of rows straight into SQLite.

The paged pull validates every row with pydantic and converts each value twice (wire form to
Python, Python to SQLite); for a new laptop's 450,000 rows that was most of a first sync. Here a
row goes from its wire form to the exact value SQLAlchemy would have stored, and a batch goes to
one ``executemany``. tests/sync/test_snapshot.py loads the same rows both ways and compares the
stored bytes, so the two paths cannot drift apart.

Rows the laptop already has (pushed from here before this first pull, or a re-pull after a
restore) take the paged pull's path, which respects pending local edits.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from operator import itemgetter
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.orm import Session

from models.entities import synced_class
from models.types import json_text
from sync.apply import PageCounts, apply_rows, pending_fields
from sync.fields import entity_fields
from sync.protocol import RowChange

RowFunction = Callable[[dict[str, Any], dict[str, Any]], tuple[Any, ...]]  # (line, document) -> params
BOOKKEEPING = ("id", "created_at", "updated_at", "deleted_at", "server_version")
_ID = itemgetter(-len(BOOKKEEPING))  # a row's id among its INSERT parameters


def sqlite_uuid(value: str | None) -> str | None:
    """A UUID as SQLAlchemy stores it in SQLite: 32 lowercase hex digits."""
    if value is None:
        return None
    digits = value.replace("-", "").lower()
    return digits if len(digits) == 32 else uuid.UUID(value).hex


def sqlite_datetime(value: str | None) -> str | None:
    """An aware ISO time as ``UTCDateTime`` stores it: naive UTC, always with microseconds."""
    if value is None:
        return None
    # The usual shapes of to_wire's output, sliced rather than parsed; anything else is parsed.
    if value.endswith("+00:00") and value[10:11] == "T":
        if len(value) == 32:
            return f"{value[:10]} {value[11:26]}"
        if len(value) == 25:
            return f"{value[:10]} {value[11:19]}.000000"
    return datetime.fromisoformat(value).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def sqlite_date(value: str | None) -> str | None:
    return None if value is None else date.fromisoformat(value).isoformat()


def sqlite_json(value: Any) -> str:
    # The engine's own serialiser (models.types.json_text); most lists (phones, dates) are empty.
    return "[]" if value == [] else json_text(value)


@dataclass(frozen=True)
class _Plan:
    table: Table
    sql: str
    defaults: dict[str, Any]  # wire form: an old server document may lack a newer field
    row: RowFunction


def _row_function(entity: str) -> RowFunction:
    """A function written for this entity's columns: ``(line, doc) -> INSERT parameters``.

    Generated (as dataclasses generates ``__init__``) because a loop over the columns with a
    converter lookup per value was the largest single cost of a first sync; one flat tuple
    expression per entity is about twice as fast. The names come from our own ORM classes.
    """
    fields = entity_fields()[entity]
    names = {"uuid": "to_uuid", "datetime": "to_datetime", "date": "to_date", "json": "to_json"}
    values = []
    for name, spec in fields.items():
        assert name.isidentifier()
        get = f"doc[{name!r}]"
        values.append(f"{names[spec.kind]}({get})" if spec.kind in names else get)
    source = (
        "def row(line, doc):\n"
        "    when = to_datetime(line['u'])\n"
        f"    return ({', '.join(values)}, to_uuid(line['i']), when, when, "
        "when if line['x'] else None, int(line['v']))\n"
    )
    scope: dict[str, Any] = {
        "to_uuid": sqlite_uuid,
        "to_datetime": sqlite_datetime,
        "to_date": sqlite_date,
        "to_json": sqlite_json,
    }
    exec(compile(source, f"<snapshot row: {entity}>", "exec"), scope)
    return cast(RowFunction, scope["row"])


@cache
def _plan(entity: str) -> _Plan:
    fields = entity_fields()[entity]
    columns = [*fields, *BOOKKEEPING]
    table = synced_class(entity).__table__  # type: ignore[attr-defined]
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
    return _Plan(
        table=table,
        sql=sql,
        defaults={name: spec.default for name, spec in fields.items()},
        row=_row_function(entity),
    )


def insert_sql(entity: str) -> str:
    """The INSERT that takes ``storage_row``'s parameters."""
    return _plan(entity).sql


def storage_row(entity: str, line: dict[str, Any]) -> tuple[Any, ...]:
    """One snapshot row line as the parameters of ``_plan(entity).sql``."""
    plan = _plan(entity)
    try:
        return plan.row(line, line["d"])
    except KeyError:  # a document written before a field existed
        return plan.row(line, {**plan.defaults, **line["d"]})


@dataclass
class Prepared:
    """One batch, converted: plain inserts per entity, and rows the laptop already has."""

    fresh: dict[str, list[tuple[Any, ...]]]
    existing: dict[str, list[RowChange]]
    last: tuple[str, int]  # (scope, version) of the batch's last row: where a resume starts
    size: int


class SnapshotLoader:
    """Converts batches of snapshot row lines (``prepare``) and writes them (``write``, inside
    the caller's transaction). The two halves may run on different threads, one batch apart."""

    def __init__(self, session: Session) -> None:
        # Ids already here, read once: a new laptop has none, so nearly every row is a plain insert.
        self.known: dict[str, set[str]] = {}
        for entity in entity_fields():
            table = synced_class(entity).__table__  # type: ignore[attr-defined]
            self.known[entity] = {
                row_id for (row_id,) in session.connection().exec_driver_sql(f"SELECT id FROM {table.name}")
            }

    def prepare(self, lines: list[dict[str, Any]]) -> Prepared:
        fresh: dict[str, list[tuple[Any, ...]]] = {}
        existing: dict[str, list[RowChange]] = {}
        for line in lines:
            entity = line["e"]
            known = self.known.get(entity)
            if known is None:
                continue  # an entity this version does not know yet: a newer app will pull it
            row = storage_row(entity, line)
            row_id = _ID(row)
            if row_id in known:
                existing.setdefault(entity, []).append(
                    RowChange.model_construct(
                        entity=entity,
                        id=uuid.UUID(line["i"]),
                        version=int(line["v"]),
                        deleted=bool(line["x"]),
                        data=line["d"],
                        updated_at=line["u"],
                    )
                )
            else:
                known.add(row_id)
                fresh.setdefault(entity, []).append(row)
        for rows in fresh.values():
            # In id order the inserts walk the (random UUID) primary key index once, left to
            # right, instead of touching a random page per row: a third less work for SQLite.
            rows.sort(key=_ID)
        last = (str(lines[-1]["s"]), int(lines[-1]["v"])) if lines else ("", 0)
        return Prepared(fresh, existing, last, len(lines))

    def write(self, session: Session, batch: Prepared) -> int:
        """Insert or update the rows of one prepared batch; returns how many were applied."""
        conn = session.connection()
        for entity, rows in batch.fresh.items():
            conn.exec_driver_sql(_plan(entity).sql, rows)
        counts = PageCounts(applied=sum(len(rows) for rows in batch.fresh.values()))
        for entity, changes in batch.existing.items():
            pending = pending_fields(session, [c.id for c in changes])
            apply_rows(session, _plan(entity).table, entity, changes, [], pending, counts)
        return counts.applied

    def load(self, session: Session, lines: list[dict[str, Any]]) -> int:
        return self.write(session, self.prepare(lines))
