"""What a push reads and writes: the rows its mutations touch, the rows and conflict records it
makes, and its few other statements (evictions, give-back notes).

``merge.Applier`` decides; a ``Batch`` holds the rows as the push's transaction last read or wrote
them and writes them all at the end (``flush``, or the caller from ``pending``: the PostgreSQL push
writes them in its one statement). A batch then costs a few statements rather than three per
mutation, and on PostgreSQL each statement is a round trip. Evictions and give-back notes, rare,
are written as they happen. Everything runs inside the push transaction with the version counter
locked (no other writer).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from typing import Any

from sync.fields import PARENT_FIELDS, entity_fields
from sync.protocol import Mutation
from sync.server import statements, tables
from sync.server.auth import Actor
from sync.server.db import VersionCounter, now_iso
from sync.server.raw import Raw, Sql, json_out


@dataclass(frozen=True)
class RowState:
    """A row of ``tables.rows`` as this transaction last wrote or read it (its columns, in order)."""

    entity: str
    id: str
    scope: str
    data: dict[str, Any]
    version: int
    deleted_at: str | None
    deleted_version: int | None
    updated_at: str
    writer: str


@dataclass(frozen=True)
class ConflictRow:
    """A row of ``tables.conflicts`` this batch made (its columns, in order)."""

    id: str
    entity: str
    row_id: str
    field: str | None
    kind: str
    kept: Any
    lost: Any
    user_name: str
    at: str
    scope: str
    version: int


# The statements name every column of their tables and take these as parameters: a column
# missing here would be an error on SQLite and NULL on PostgreSQL (``statements.PG_WRITE``).
assert tuple(f.name for f in fields(RowState)) == statements.ROW_COLUMNS
assert tuple(f.name for f in fields(ConflictRow)) == statements.columns(tables.conflicts)

_ROW_JSON = statements.json_columns(tables.rows)
_CONFLICT_JSON = statements.json_columns(tables.conflicts)


def _state(row: tuple[Any, ...]) -> RowState:
    entity, row_id, scope, data, version, deleted_at, deleted_version, updated_at, writer = row
    return RowState(
        entity, row_id, scope, json_out(data), int(version), deleted_at,
        None if deleted_version is None else int(deleted_version), updated_at, writer,
    )  # fmt: skip


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


class Batch:
    """The rows one push reads and writes, kept as its transaction last saw them."""

    def __init__(self, raw: Raw, counter: VersionCounter, actor: Actor) -> None:
        self.raw = raw
        self.counter = counter
        self.actor = actor
        self.rows: dict[tuple[str, str], RowState | None] = {}
        self.new_rows: dict[tuple[str, str], RowState] = {}  # created by this batch, not inserted yet
        self.changed: dict[tuple[str, str], RowState] = {}  # existing rows written, not updated yet
        self.conflicts: list[ConflictRow] = []
        self.forks: dict[int, bool] = {}  # give-back points checked (``is_fork``)

    def preload(self, mutations: Iterable[Mutation]) -> None:
        """Read, in one statement, every row the mutations name and every parent their creates
        refer to."""
        keys: set[tuple[str, str]] = set()
        for m in mutations:
            # Only what ``Applier.apply`` would read: unchecked text can be refused by the
            # database (PostgreSQL and NUL), and that must reject one mutation, not fail the batch.
            if m.entity not in entity_fields():
                continue
            keys.add((m.entity, str(m.row_id)))
            if m.op == "create":
                for field, parent_entity in PARENT_FIELDS.items():
                    parent_id = m.patch.get(field)
                    if isinstance(parent_id, str) and _is_uuid(parent_id):
                        keys.add((parent_entity, parent_id))
        keys -= self.rows.keys()
        if not keys:
            return
        params: dict[str, Any] = {}
        entities = self.raw.in_list("e", sorted({e for e, _ in keys}), params)
        ids = self.raw.in_list("i", sorted({i for _, i in keys}), params)
        found = self.raw.rows(Sql.of(statements.ROWS_IN.format(entities=entities, ids=ids)), params)
        self.rows.update(dict.fromkeys(keys))
        for row in found:
            if (row[0], row[1]) in keys:
                self.rows[(row[0], row[1])] = _state(row)

    def load(self, entity: str, row_id: str) -> RowState | None:
        key = (entity, row_id)
        if key not in self.rows:
            row = self.raw.first(statements.ROW, {"entity": entity, "id": row_id})
            self.rows[key] = _state(row) if row is not None else None
        return self.rows[key]

    def insert(self, state: RowState) -> None:
        key = (state.entity, state.id)
        self.new_rows[key] = self.rows[key] = state

    def write(self, row: RowState, version: int | None = None, **values: Any) -> None:
        """A new version of ``row`` with ``values``, written by this batch's user now."""
        key = (row.entity, row.id)
        values.update(version=version or self.counter.next(), updated_at=now_iso(), writer=self.actor.name)
        self.rows[key] = written = replace(row, **values)
        if key in self.new_rows:
            self.new_rows[key] = written  # still to be inserted: no UPDATE needed
        else:
            self.changed[key] = written

    def conflict(
        self, *, entity: str, row_id: str, field: str | None, kind: str, kept: Any, lost: Any, scope: str
    ) -> None:
        self.conflicts.append(
            ConflictRow(
                id=str(uuid.uuid4()),
                entity=entity,
                row_id=row_id,
                field=field,
                kind=kind,
                kept=kept,
                lost=lost,
                user_name=self.actor.name,
                at=now_iso(),
                scope=scope,
                version=self.counter.next(),
            )
        )

    def evict(self, entity: str, row_id: str, scope: str) -> None:
        """Tell ``scope``'s laptops to drop the row (at a version after its own)."""
        self.raw.run(
            statements.INSERT_EVICTION,
            {"entity": entity, "row_id": row_id, "scope": scope, "version": self.counter.next()},
        )

    def left_from(self, row: RowState) -> str | None:
        """The user's scope ``row`` was moved out of, if it was (its eviction from there).
        Rare (a foreign parent): one statement, on the evictions of the user's scopes only."""
        params: dict[str, Any] = {"entity": row.entity, "row_id": row.id}
        scopes = self.raw.in_list("s", sorted(self.actor.scopes), params)
        found = self.raw.first(Sql.of(statements.LEFT_FROM.format(scopes=scopes)), params)
        return None if found is None else str(found[0])

    def is_fork(self, fork: int) -> bool:
        """Whether ``fork`` is 0 or the end of a generation (see ``Applier._is_fork``)."""
        if fork not in self.forks:
            self.forks[fork] = (
                fork == 0 or self.raw.first(statements.GENERATION_END, {"version": fork}) is not None
            )
        return self.forks[fork]

    def given_back_at(self, row: RowState) -> int | None:
        """The lost version a give-back wrote this row from, if no other write came since."""
        found = self.raw.first(
            statements.GIVEN_BACK, {"entity": row.entity, "id": row.id, "version": row.version}
        )
        return None if found is None else int(found[0])

    def note_given_back(self, entity: str, row_id: str, was: int) -> None:
        """Remember that the row's current version is a give-back of lost version ``was``."""
        current = self.rows[(entity, row_id)]
        assert current is not None
        params = {"entity": entity, "id": row_id, "old_version": was, "version": current.version}
        self.raw.run(statements.FORGET_GIVEN_BACK, params)
        self.raw.run(statements.NOTE_GIVEN_BACK, params)

    def _params(self, values: dict[str, Any], json_columns: frozenset[str]) -> dict[str, Any]:
        for name in json_columns:
            values[name] = self.raw.json_in(values[name])
        return values

    def flush(self) -> None:
        """Write what the batch did: each row's last state, once, and its conflict records."""
        new_rows, changed_rows, conflicts = self.pending()
        self.raw.many(statements.INSERT_ROW, [self._params(v, _ROW_JSON) for v in new_rows])
        self.raw.many(statements.UPDATE_ROW, [self._params(v, _ROW_JSON) for v in changed_rows])
        self.raw.many(statements.INSERT_CONFLICT, [self._params(v, _CONFLICT_JSON) for v in conflicts])
        self.taken()

    def pending(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
        """What ``flush`` would write, as plain values keyed by column (new rows, changed rows,
        conflict records), for a caller that writes it its own way; then call ``taken``."""
        return (
            [dict(vars(state)) for state in self.new_rows.values()],
            [dict(vars(state)) for state in self.changed.values()],
            [dict(vars(record)) for record in self.conflicts],
        )

    def taken(self) -> None:
        self.new_rows.clear()
        self.changed.clear()
        self.conflicts.clear()
