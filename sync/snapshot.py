"""Loading a bootstrap snapshot: hundreds of thousands of rows straight into SQLite.

The paged pull validates every row with pydantic and converts each value twice (wire form to
Python, Python to SQLite); for a new laptop's 450,000 rows that was most of a first sync. Here a
row goes from its wire form to the exact value SQLAlchemy would have stored, and a batch goes to
one ``executemany``. tests/test_sync_snapshot.py loads the same rows both ways and compares the
stored bytes, so the two paths cannot drift apart.

Rows the laptop already has (pushed from here before this first pull, or a re-pull after a
restore) take the paged pull's path, which respects pending local edits.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from operator import itemgetter
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session

from models.entities import synced_class
from sync.fields import entity_fields
from sync.protocol import RowChange
from sync.store import PageCounts, SyncStore

Converter = Callable[[Any], Any]
BOOKKEEPING = ("id", "created_at", "updated_at", "deleted_at", "server_version")


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
    # SQLAlchemy's JSON type serialises with json.dumps too; most lists (phones, dates) are empty.
    return "[]" if value == [] else json.dumps(value)


_CONVERTERS: dict[str, Converter] = {
    "uuid": sqlite_uuid,
    "datetime": sqlite_datetime,
    "date": sqlite_date,
    "json": sqlite_json,
}


@dataclass(frozen=True)
class _Plan:
    table: Table
    sql: str
    defaults: dict[str, Any]  # wire form: an old server document may lack a newer field
    values: Callable[[dict[str, Any]], tuple[Any, ...]]
    converters: tuple[tuple[int, Converter], ...]


@cache
def _plan(entity: str) -> _Plan:
    fields = entity_fields()[entity]
    names = list(fields)
    columns = [*names, *BOOKKEEPING]
    table = synced_class(entity).__table__  # type: ignore[attr-defined]
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
    kinds = [fields[name].kind for name in names]
    converters = tuple((i, _CONVERTERS[kind]) for i, kind in enumerate(kinds) if kind in _CONVERTERS)
    getter = itemgetter(*names)
    return _Plan(
        table=table,
        sql=sql,
        defaults={name: spec.default for name, spec in fields.items()},
        values=getter if len(names) > 1 else lambda doc: (getter(doc),),
        converters=converters,
    )


def storage_row(entity: str, line: dict[str, Any]) -> tuple[Any, ...]:
    """One snapshot row line as the parameters of ``_plan(entity).sql``."""
    plan = _plan(entity)
    try:
        values = list(plan.values(line["d"]))
    except KeyError:  # a document written before a field existed
        values = list(plan.values({**plan.defaults, **line["d"]}))
    for i, convert in plan.converters:
        values[i] = convert(values[i])
    when = sqlite_datetime(line["u"])
    values += [sqlite_uuid(line["i"]), when, when, when if line["x"] else None, int(line["v"])]
    return tuple(values)


class SnapshotLoader:
    """Applies batches of snapshot row lines within the caller's transaction."""

    def __init__(self, store: SyncStore, session: Session) -> None:
        self.store = store
        # Ids already here, read once: a new laptop has none, so nearly every row is a plain insert.
        self.known: dict[str, set[str]] = {}
        for entity in entity_fields():
            table = synced_class(entity).__table__  # type: ignore[attr-defined]
            self.known[entity] = {
                row_id for (row_id,) in session.connection().exec_driver_sql(f"SELECT id FROM {table.name}")
            }

    def load(self, session: Session, lines: list[dict[str, Any]]) -> int:
        """Insert or update the rows of one batch; returns how many were applied."""
        fresh: dict[str, list[tuple[Any, ...]]] = {}
        existing: dict[str, list[RowChange]] = {}
        for line in lines:
            entity = line["e"]
            known = self.known.get(entity)
            if known is None:
                continue  # an entity this version does not know yet: a newer app will pull it
            row = storage_row(entity, line)
            if row[-5] in known:
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
                known.add(row[-5])
                fresh.setdefault(entity, []).append(row)
        conn = session.connection()
        for entity, rows in fresh.items():
            conn.exec_driver_sql(_plan(entity).sql, rows)
        counts = PageCounts(applied=sum(len(rows) for rows in fresh.values()))
        for entity, changes in existing.items():
            pending = self.store.pending_fields(session, [c.id for c in changes])
            self.store.apply_rows(session, _plan(entity).table, entity, changes, [], pending, counts)
        return counts.applied
