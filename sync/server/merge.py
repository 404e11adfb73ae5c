"""Applying one mutation on the server: scope checks, the per-field three-way merge, conflicts,
and the give-back of rows a laptop holds after the server was restored from a backup.

Everything here runs inside the push transaction (``sync.server.ops.push``), with the version
counter locked, so the outcome is decided by arrival order on the server and never by a client's
clock.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sync.fields import COPY_FIELDS, PARENT_FIELDS, SET_FIELDS, FieldError, check_patch, entity_fields
from sync.protocol import GIVE_BACK, GIVE_BACK_VERSION, ConflictRecord, Mutation, MutationResult
from sync.server.db import VersionCounter
from sync.server.raw import Raw, Sql, json_out

# The same words whether the row does not exist or belongs to another team: nothing leaks.
NOT_YOURS = "no such row in your territory"


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


@dataclass(frozen=True)
class Actor:
    user_id: int
    name: str
    scopes: frozenset[str]  # what this user may read and write
    home_scope: str  # where the rows this user creates belong


@dataclass(frozen=True)
class RowState:
    """A row of ``tables.rows`` as this transaction last wrote or read it."""

    entity: str
    id: str
    scope: str
    data: dict[str, Any]
    version: int
    deleted_at: str | None
    deleted_version: int | None
    updated_at: str
    writer: str


_ROW_COLUMNS = (
    "entity, id, scope, CAST(data AS TEXT), version, deleted_at, deleted_version, updated_at, writer"
)
_ROW = Sql(f'SELECT {_ROW_COLUMNS} FROM "rows" WHERE entity = :entity AND id = :id')
_INSERT_ROW = Sql(
    'INSERT INTO "rows" (entity, id, scope, data, version, deleted_at, deleted_version, updated_at, writer) '
    "VALUES (:entity, :id, :scope, :data, :version, :deleted_at, :deleted_version, :updated_at, :writer)"
)
# The whole row but its key and scope: ``Applier.rows`` holds what this transaction read, so
# writing every column back is the same as writing the changed ones, and one statement serves
# every kind of write.
_UPDATE_ROW = Sql(
    'UPDATE "rows" SET data = :data, version = :version, deleted_at = :deleted_at, '
    "deleted_version = :deleted_version, updated_at = :updated_at, writer = :writer "
    "WHERE entity = :entity AND id = :id"
)
_INSERT_EVICTION = Sql(
    "INSERT INTO evictions (entity, row_id, scope, version) VALUES (:entity, :row_id, :scope, :version)"
)
# A contact sits under an account: a new row follows the nearest parent it names.
_NEAREST_PARENT_FIRST = ("contact_id", "account_id")
assert set(_NEAREST_PARENT_FIRST) == set(PARENT_FIELDS)
_GIVEN_BACK = Sql(
    "SELECT old_version FROM given_back WHERE entity = :entity AND id = :id AND version = :version"
)
_GENERATION_END = Sql("SELECT 1 FROM generations WHERE last_version = :version")
_FORGET_GIVEN_BACK = Sql("DELETE FROM given_back WHERE entity = :entity AND id = :id")
_NOTE_GIVEN_BACK = Sql(
    "INSERT INTO given_back (entity, id, old_version, version) VALUES (:entity, :id, :old_version, :version)"
)
_INSERT_CONFLICT = Sql(
    "INSERT INTO conflicts (id, entity, row_id, field, kind, kept, lost, user_name, at, scope, version) "
    "VALUES (:id, :entity, :row_id, :field, :kind, :kept, :lost, :user_name, :at, :scope, :version)"
)


def _state(row: tuple[Any, ...]) -> RowState:
    entity, row_id, scope, data, version, deleted_at, deleted_version, updated_at, writer = row
    return RowState(
        entity, row_id, scope, json_out(data), int(version), deleted_at,
        None if deleted_version is None else int(deleted_version), updated_at, writer,
    )  # fmt: skip


@dataclass
class Outcome:
    changed: bool = False
    conflict: bool = False


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def merge_set(current: list[Any], base: list[Any], new: list[Any]) -> list[Any]:
    """Removals and additions made on this side apply to the current set; the order is kept."""
    base_keys = {_key(v) for v in base}
    removed = base_keys - {_key(v) for v in new}
    out = [v for v in current if _key(v) not in removed]
    seen = {_key(v) for v in out}
    for v in new:
        if _key(v) not in base_keys and _key(v) not in seen:  # added here, not just kept
            out.append(v)
            seen.add(_key(v))
    return out


class Applier:
    """Applies a batch's mutations in one transaction (the counter is locked: no other writer).

    The rows the batch touches are read once (``preload``) and kept as this transaction writes
    them; the rows it creates or changes and the conflict records it makes are written together
    by ``flush``, or by the caller from ``pending`` (the PostgreSQL push writes them in its one
    statement), before the transaction ends: a batch costs a few statements rather than three
    per mutation, and on PostgreSQL each statement is a round trip. Evictions and give-back
    notes, rare, are written as they happen.
    """

    def __init__(self, raw: Raw, counter: VersionCounter, actor: Actor) -> None:
        self.raw = raw
        self.counter = counter
        self.actor = actor
        self.rows: dict[tuple[str, str], RowState | None] = {}
        self.new_rows: dict[tuple[str, str], RowState] = {}  # created by this batch, not inserted yet
        self.changed: dict[tuple[str, str], RowState] = {}  # existing rows written, not updated yet
        self.conflicts: list[dict[str, Any]] = []
        self.forks: dict[int, bool] = {}  # give-back points checked (``_is_fork``)

    def preload(self, mutations: Iterable[Mutation]) -> None:
        """Read, in one statement, every row the mutations name and every parent their creates
        refer to."""
        keys: set[tuple[str, str]] = set()
        for m in mutations:
            # Only what ``apply`` would read: unchecked text can be refused by the database
            # (PostgreSQL and NUL), and that must reject one mutation, not fail the batch.
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
        found = self.raw.rows(
            Sql.of(f'SELECT {_ROW_COLUMNS} FROM "rows" WHERE entity {entities} AND id {ids}'), params
        )
        self.rows.update(dict.fromkeys(keys))
        for row in found:
            if (row[0], row[1]) in keys:
                self.rows[(row[0], row[1])] = _state(row)

    def load(self, entity: str, row_id: str) -> RowState | None:
        key = (entity, row_id)
        if key not in self.rows:
            row = self.raw.first(_ROW, {"entity": entity, "id": row_id})
            self.rows[key] = _state(row) if row is not None else None
        return self.rows[key]

    def conflict(
        self, *, entity: str, row_id: str, field: str | None, kind: str, kept: Any, lost: Any, scope: str
    ) -> None:
        self.conflicts.append(
            dict(
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

    def _params(self, state: RowState) -> dict[str, Any]:
        values = dict(vars(state))
        values["data"] = self.raw.json_in(state.data)
        return values

    def flush(self) -> None:
        """Write what the batch did: each row's last state, once, and its conflict records."""
        self.raw.many(_INSERT_ROW, [self._params(state) for state in self.new_rows.values()])
        self.raw.many(_UPDATE_ROW, [self._params(state) for state in self.changed.values()])
        self.raw.many(
            _INSERT_CONFLICT,
            [
                dict(c, kept=self.raw.json_in(c["kept"]), lost=self.raw.json_in(c["lost"]))
                for c in self.conflicts
            ],
        )
        self.taken()

    def pending(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
        """What ``flush`` would write, as plain values (new rows, changed rows, conflict records),
        for a caller that writes it its own way; then call ``taken``."""
        return (
            [dict(vars(state)) for state in self.new_rows.values()],
            [dict(vars(state)) for state in self.changed.values()],
            list(self.conflicts),
        )

    def taken(self) -> None:
        self.new_rows.clear()
        self.changed.clear()
        self.conflicts.clear()

    def _insert(self, state: RowState) -> None:
        key = (state.entity, state.id)
        self.new_rows[key] = self.rows[key] = state

    def _write(self, row: RowState, version: int | None = None, **values: Any) -> None:
        key = (row.entity, row.id)
        values.update(version=version or self.counter.next(), updated_at=now_iso(), writer=self.actor.name)
        self.rows[key] = written = replace(row, **values)
        if key in self.new_rows:
            self.new_rows[key] = written  # still to be inserted: no UPDATE needed
        else:
            self.changed[key] = written

    def apply(self, m: Mutation) -> MutationResult:
        row_id = str(m.row_id)
        if m.entity not in entity_fields():
            return MutationResult(mid=m.mid, status="rejected", reason=f"unknown entity {m.entity[:30]!r}")
        try:
            if m.op == "create":
                # Checked before the id is looked up, so a bad create reads the same whether its id
                # is free or another team's (no existence oracle).
                data = check_patch(m.entity, m.patch, complete=True)
            row = self.load(m.entity, row_id)
            if row is not None and row.scope not in self.actor.scopes:
                return MutationResult(mid=m.mid, status="rejected", reason=NOT_YOURS)
            fork = m.base.get(GIVE_BACK)
            if m.op == "create" and self._is_fork(fork):
                assert isinstance(fork, int)
                outcome = self._give_back(m, row, row_id, fork, data)
            elif m.op == "create":
                # The same id again (e.g. a copied database) merges as an edit with no base.
                outcome = (
                    self._create(m, row_id, data) if row is None else self._update(m, row, strict_base=True)
                )
            elif row is None:
                return MutationResult(mid=m.mid, status="rejected", reason=NOT_YOURS)
            elif m.op == "update":
                outcome = self._update(m, row, strict_base=False)
            elif m.op == "delete":
                outcome = self._delete(m, row)
            else:
                outcome = self._restore(row)
        except FieldError as exc:
            return MutationResult(mid=m.mid, status="rejected", reason=str(exc))
        current = self.load(m.entity, row_id)
        return MutationResult(
            mid=m.mid,
            status="conflict" if outcome.conflict else "applied",
            version=current.version if current is not None else None,
        )

    def _create(self, m: Mutation, row_id: str, data: dict[str, Any]) -> Outcome:
        out = Outcome(changed=True)
        parents = self._parents(data)
        # A child follows its nearest parent's scope at the time the server applies it, so a note
        # written offline under a contact moved meanwhile reaches the contact's new owners.
        scope, left = (parents[0][1].scope, parents[0][2]) if parents else (self.actor.home_scope, None)
        self._insert(
            RowState(
                entity=m.entity,
                id=row_id,
                scope=scope,
                data=data,
                version=self.counter.next(),
                deleted_at=None,
                deleted_version=None,
                updated_at=now_iso(),
                writer=self.actor.name,
            )
        )
        if left is not None:
            # The author's laptop drops it as it drops the parent (this version is the later).
            self.raw.run(
                _INSERT_EVICTION,
                {"entity": m.entity, "row_id": row_id, "scope": left, "version": self.counter.next()},
            )
        # A child made offline under a parent deleted elsewhere is kept, and the rep is told.
        for field, parent, _left in parents:
            if parent.deleted_at is not None:
                self.conflict(
                    entity=m.entity,
                    row_id=row_id,
                    field=field,
                    kind="orphan",
                    kept=parent.id,
                    lost=None,
                    scope=scope,
                )
                out.conflict = True
        return out

    def _parents(self, data: dict[str, Any]) -> list[tuple[str, RowState, str | None]]:
        """(field, parent, the author's scope it was moved out of or None) for each parent a new
        row names that its author may know of, nearest first: parents in the author's territory,
        and parents moved out of it (the child may have been written offline before the author's
        laptop heard of the move). Other teams' rows count as absent: a create tells nothing
        about them (no conflict record, no other scope)."""
        found: list[tuple[str, RowState, str | None]] = []
        for field in _NEAREST_PARENT_FIRST:
            parent_id = data.get(field)
            parent = self.load(PARENT_FIELDS[field], parent_id) if parent_id else None
            if parent is None:
                continue
            if parent.scope in self.actor.scopes:
                found.append((field, parent, None))
            elif (left := self._left_from(parent)) is not None:
                found.append((field, parent, left))
        return found

    def _left_from(self, row: RowState) -> str | None:
        """The author's scope ``row`` was moved out of, if it was (its eviction from there).
        Rare (a foreign parent): one statement, on the evictions of the author's scopes only."""
        params: dict[str, Any] = {"entity": row.entity, "row_id": row.id}
        scopes = self.raw.in_list("s", sorted(self.actor.scopes), params)
        found = self.raw.first(
            Sql.of(
                f"SELECT scope FROM evictions WHERE scope {scopes} AND entity = :entity "
                "AND row_id = :row_id ORDER BY version DESC LIMIT 1"
            ),
            params,
        )
        return None if found is None else str(found[0])

    def _update(self, m: Mutation, row: RowState, *, strict_base: bool) -> Outcome:
        patch = check_patch(m.entity, m.patch, complete=False)
        out = Outcome()
        if row.deleted_at is not None:
            # Delete wins; the edit is kept in a conflict record so nothing is lost, and a stale
            # edit never brings the row back (only an explicit restore does).
            if patch:
                self.conflict(
                    entity=m.entity,
                    row_id=row.id,
                    field=None,
                    kind="delete_edit",
                    kept=None,
                    lost=patch,
                    scope=row.scope,
                )
                out.conflict = True
            return out
        data = dict(row.data)
        merged = dict(data)
        pending_copies: list[tuple[str, Any]] = []
        for field, new in patch.items():
            current = data.get(field)
            # No base sent (an older client): assume it started from the current value.
            base = m.base.get(field, None if strict_base else current)
            if (m.entity, field) in SET_FIELDS and isinstance(new, list):
                merged[field] = merge_set(
                    current if isinstance(current, list) else [],
                    base if isinstance(base, list) else [],
                    new,
                )
            elif _key(new) == _key(current):
                continue
            elif _key(current) == _key(base):
                merged[field] = new
            else:
                # Both sides changed it: the later arrival is written, the value it overwrites is
                # kept in a conflict record (and, for note bodies, as a copy of the note).
                merged[field] = new
                kind = "note_copy" if (m.entity, field) in COPY_FIELDS else "field"
                self.conflict(
                    entity=m.entity,
                    row_id=row.id,
                    field=field,
                    kind=kind,
                    kept=new,
                    lost=current,
                    scope=row.scope,
                )
                out.conflict = True
                if kind == "note_copy":
                    pending_copies.append((field, current))
        if merged != data:
            self._write(row, data=merged)
            out.changed = True
        for field, lost in pending_copies:
            self._copy_note(row, merged, field, lost)
        return out

    def _give_back(
        self, m: Mutation, row: RowState | None, row_id: str, fork: int, data: dict[str, Any]
    ) -> Outcome:
        """A laptop's copy of a row, written in a history this database lost (after ``fork``).

        Missing here: created, as the rep's work. Unchanged here since the fork: the copy is the
        later state, applied as an edit that started from what is here (restored first if it is
        deleted here: only a restore undeletes). Last written here by another give-back: the
        later of the two lost versions wins (``tables.given_back``). Written here since the
        restore: that is the newer state, it stays, and each value of the copy it differs from
        is kept in a conflict record (delete still wins over an edit).
        """
        was = m.base.get(GIVE_BACK_VERSION)
        if row is None:
            out = self._create(m, row_id, data)
        elif row.version <= fork or (isinstance(was, int) and self._given_back_at(row) is not None):
            prior = self._given_back_at(row) if row.version > fork else None
            if prior is not None and isinstance(was, int) and was <= prior:
                return Outcome()  # this server already holds that version of the lost history, or a later one
            if row.deleted_at is not None:
                self._restore(row)
                row = self.rows[(row.entity, row.id)] or row
            base = {field: row.data.get(field) for field in m.patch}
            out = self._update(m.model_copy(update={"base": base}), row, strict_base=False)
        else:
            return self._keep_newer(m, row)
        if isinstance(was, int):
            self._note_given_back(m.entity, row_id, was)
        return out

    def _is_fork(self, fork: Any) -> bool:
        """Only a point where this database's history can have parted from a laptop's (the end
        of a generation, or 0) makes a give-back: any other number would let a client write over
        other reps' edits without the conflict records the normal merge keeps."""
        if not isinstance(fork, int) or isinstance(fork, bool) or fork < 0:
            return False
        if fork not in self.forks:
            self.forks[fork] = fork == 0 or self.raw.first(_GENERATION_END, {"version": fork}) is not None
        return self.forks[fork]

    def _given_back_at(self, row: RowState) -> int | None:
        """The lost version a give-back wrote this row from, if no other write came since."""
        found = self.raw.first(_GIVEN_BACK, {"entity": row.entity, "id": row.id, "version": row.version})
        return None if found is None else int(found[0])

    def _note_given_back(self, entity: str, row_id: str, was: int) -> None:
        current = self.rows[(entity, row_id)]
        assert current is not None
        params = {"entity": entity, "id": row_id, "old_version": was, "version": current.version}
        self.raw.run(_FORGET_GIVEN_BACK, params)
        self.raw.run(_NOTE_GIVEN_BACK, params)

    def _keep_newer(self, m: Mutation, row: RowState) -> Outcome:
        """A give-back onto a row written here since the restore: that write is the newer one."""
        if row.deleted_at is not None:
            return self._update(m, row, strict_base=True)
        out = Outcome()
        for field, value in check_patch(m.entity, m.patch, complete=False).items():
            current = row.data.get(field)
            if _key(value) != _key(current):
                self.conflict(
                    entity=m.entity,
                    row_id=row.id,
                    field=field,
                    kind="field",
                    kept=current,
                    lost=value,
                    scope=row.scope,
                )
                out.conflict = True
        return out

    def _copy_note(self, row: RowState, merged: dict[str, Any], field: str, lost: Any) -> None:
        copy = dict(merged)
        copy[field] = lost
        copy["summary"] = f"{merged.get('summary', '')} (conflicted copy)"[:500]
        version = self.counter.next()
        self._insert(
            RowState(
                entity=row.entity,
                # Deterministic, so every replica agrees on the copy's id.
                id=str(uuid.uuid5(uuid.UUID(row.id), f"copy-{version}")),
                scope=row.scope,
                data=copy,
                version=version,
                deleted_at=None,
                deleted_version=None,
                updated_at=now_iso(),
                writer=self.actor.name,
            )
        )

    def _delete(self, m: Mutation, row: RowState) -> Outcome:
        if row.deleted_at is not None:
            return Outcome()
        out = Outcome(changed=True)
        # A delete given back after a restore was made after the last version both histories share.
        seen = m.base.get("_version", m.base.get(GIVE_BACK))
        if isinstance(seen, int) and row.version > seen and row.writer != self.actor.name:
            # Someone edited the row after this rep last saw it: the delete wins, their edit is
            # kept in a record (the tombstone also keeps it, for a restore).
            self.conflict(
                entity=m.entity,
                row_id=row.id,
                field=None,
                kind="delete_edit",
                kept=None,
                lost=dict(row.data),
                scope=row.scope,
            )
            out.conflict = True
        version = self.counter.next()
        self._write(row, version, deleted_at=now_iso(), deleted_version=version)
        return out

    def _restore(self, row: RowState) -> Outcome:
        if row.deleted_at is None:
            return Outcome()
        self._write(row, deleted_at=None, deleted_version=None)
        return Outcome(changed=True)


def conflict_record(row: Any) -> ConflictRecord:
    return ConflictRecord(
        id=uuid.UUID(row.id),
        entity=row.entity,
        row_id=uuid.UUID(row.row_id),
        field=row.field,
        kind=row.kind,
        kept=row.kept,
        lost=row.lost,
        user=row.user_name,
        at=row.at,
        version=row.version,
    )
