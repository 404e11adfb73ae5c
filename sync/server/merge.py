"""The merge rules of a push: for each mutation, the scope checks, the per-field three-way
merge, the conflicts it records, and the give-back of rows a laptop holds after the server was
restored from a backup.

An ``Applier`` decides; the ``batch.Batch`` it is given reads and writes the rows. Everything
runs inside the push transaction (``sync.server.push.push``), with the version counter locked,
so the outcome is decided by arrival order on the server and never by a client's clock.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from sync.fields import (
    CONTACT_REFS,
    COPY_FIELDS,
    MERGED_INTO,
    PARENT_FIELDS,
    SET_FIELDS,
    FieldError,
    check_patch,
    entity_fields,
)
from sync.protocol import GIVE_BACK, GIVE_BACK_VERSION, Mutation, MutationResult
from sync.server.batch import Batch, RowState
from sync.server.db import now_iso

# The same words whether the row does not exist or belongs to another team: nothing leaks.
NOT_YOURS = "no such row in your territory"

# A chain of merges (A into B, then B into C) is followed this far, and no further (a loop).
MAX_MERGE_HOPS = 20

# A contact sits under an account: a new row follows the nearest parent it names.
_NEAREST_PARENT_FIRST = ("contact_id", "account_id")
assert set(_NEAREST_PARENT_FIRST) == set(PARENT_FIELDS)


@dataclass
class Outcome:
    changed: bool = False
    conflict: bool = False


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


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
    """Applies a batch's mutations, in arrival order, to the rows of ``batch``."""

    def __init__(self, batch: Batch) -> None:
        self.batch = batch
        self.actor = batch.actor
        self.counter = batch.counter
        # Contacts whose merge into another this batch refused (see ``_merge_target``): the
        # delete that follows the pointer in the same outbox is not applied either.
        self.refused_merges: set[str] = set()

    def apply(self, m: Mutation) -> MutationResult:
        if m.entity not in entity_fields():
            return MutationResult(mid=m.mid, status="rejected", reason=f"unknown entity {m.entity[:30]!r}")
        # A contact merged away lives on in its survivor: edits of it, and rows naming it, go
        # there (docs/sync.md "Merged contacts"), so a laptop that never heard of the merge
        # neither revives it nor leaves a note on its tombstone.
        sent = m
        m, merged_away = self._redirected(m)
        row_id = str(m.row_id)
        try:
            if m.op == "create":
                # Checked before the id is looked up, so a bad create reads the same whether its id
                # is free or another team's (no existence oracle).
                data = check_patch(m.entity, m.patch, complete=True)
            row = self.batch.load(m.entity, row_id)
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
            elif row.data.get(MERGED_INTO) and row.deleted_at is not None:
                # Only an undo of the merge (which clears the pointer first) brings a merged
                # contact back; a restore from a laptop that had not heard of the merge does not.
                # Its tombstone is re-versioned so that laptop pulls it again.
                self.batch.write(row)
                outcome = Outcome(changed=True)
            else:
                outcome = self._restore(row)
        except FieldError as exc:
            return MutationResult(mid=m.mid, status="rejected", reason=str(exc))
        if merged_away is not None:
            # A new version of the tombstone, after the survivor's: the laptop that sent the edit
            # is told (by its acknowledgement, then its next pull) that the contact is merged.
            self.batch.write(merged_away)
            row_id = merged_away.id
        elif m is not sent and not outcome.changed and (written := self.batch.load(m.entity, row_id)):
            # The ids were re-pointed to a survivor and that changed nothing here: the sender
            # still holds the old id, so the row gets a new version for it to pull.
            self.batch.write(written)
        current = self.batch.load(m.entity, row_id)
        return MutationResult(
            mid=m.mid,
            status="conflict" if outcome.conflict else "applied",
            version=current.version if current is not None else None,
        )

    def _survivor(self, contact_id: Any) -> RowState | None:
        """The live contact that ``contact_id`` was merged into (through a chain of merges), if
        it was merged and the survivor is in the user's territory; else None."""
        if not isinstance(contact_id, str):
            return None
        row = self.batch.load("contact", contact_id)
        found: RowState | None = None
        for _hop in range(MAX_MERGE_HOPS):
            if row is None or row.deleted_at is None or not row.data.get(MERGED_INTO):
                break
            row = self.batch.load("contact", str(row.data[MERGED_INTO]))
            if row is None or row.scope not in self.actor.scopes:
                break
            found = row
        return found if found is not None and found.deleted_at is None else None

    def _repointed(self, value: Any) -> Any:
        """``value`` (a contact id, or a list of them) with merged-away contacts' survivors."""
        if isinstance(value, list):
            out: list[Any] = []
            for item in value:
                survivor = self._survivor(item)
                item = survivor.id if survivor is not None else item
                if item not in out:
                    out.append(item)
            return out
        survivor = self._survivor(value)
        return survivor.id if survivor is not None else value

    def _merge_target(self, row: RowState, target: Any) -> str | None:
        """The live contact a merge of ``row`` into ``target`` should point at (``target``, or
        its survivor if it was merged away since), or None if that is ``row`` itself or none."""
        found = self.batch.load("contact", target) if isinstance(target, str) else None
        if found is not None and found.deleted_at is not None:
            found = self._survivor(found.id)
        if found is None or found.id == row.id or found.scope not in self.actor.scopes:
            return None
        return found.id

    def _redirected(self, m: Mutation) -> tuple[Mutation, RowState | None]:
        """``m`` sent on to the survivor of a merged contact it edits or names, and the merged
        contact's tombstone when the edit itself moved (to be re-versioned)."""
        if m.op not in ("create", "update"):
            return m, None
        changes: dict[str, Any] = {}
        refs = [name for (entity, name) in CONTACT_REFS if entity == m.entity]
        if any(name in m.patch for name in refs):
            patch, base = dict(m.patch), dict(m.base)
            for name in refs:
                if name in patch:
                    patch[name] = self._repointed(patch[name])
                if name in base:
                    base[name] = self._repointed(base[name])
            changes.update(patch=patch, base=base)
        merged_away: RowState | None = None
        if m.entity == "contact" and m.op == "update" and MERGED_INTO not in m.patch:
            row = self.batch.load("contact", str(m.row_id))
            if row is not None and row.scope in self.actor.scopes:
                survivor = self._survivor(row.id)
                if survivor is not None:
                    merged_away = row
                    changes["row_id"] = uuid.UUID(survivor.id)
        return (m.model_copy(update=changes) if changes else m), merged_away

    def _create(self, m: Mutation, row_id: str, data: dict[str, Any]) -> Outcome:
        out = Outcome(changed=True)
        parents = self._parents(data)
        # A child follows its nearest parent's scope at the time the server applies it, so a note
        # written offline under a contact moved meanwhile reaches the contact's new owners.
        scope, left = (parents[0][1].scope, parents[0][2]) if parents else (self.actor.home_scope, None)
        self.batch.insert(
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
            self.batch.evict(m.entity, row_id, left)
        # A child made offline under a parent deleted elsewhere is kept, and the rep is told.
        for field, parent, _left in parents:
            if parent.deleted_at is not None:
                self.batch.conflict(
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
            parent = self.batch.load(PARENT_FIELDS[field], parent_id) if parent_id else None
            if parent is None:
                continue
            if parent.scope in self.actor.scopes:
                found.append((field, parent, None))
            elif (left := self.batch.left_from(parent)) is not None:
                found.append((field, parent, left))
        return found

    def _update(self, m: Mutation, row: RowState, *, strict_base: bool) -> Outcome:
        patch = check_patch(m.entity, m.patch, complete=False)
        out = Outcome()
        if m.entity == "contact" and patch.get(MERGED_INTO) and row.deleted_at is None:
            target = self._merge_target(row, patch[MERGED_INTO])
            if target is None:
                # Merged the other way round meanwhile (another rep merged the target into this
                # contact): both are already one, this one stays, the merge is not applied.
                self.refused_merges.add(row.id)
                patch.pop(MERGED_INTO)
                if not patch:
                    self.batch.write(row)  # re-versioned: the merging laptop pulls it back
                    return Outcome(changed=True)
            else:
                patch[MERGED_INTO] = target
        m = m.model_copy(update={"patch": patch})
        if row.deleted_at is not None:
            if self._unmerge(m, row, patch):
                return Outcome(changed=True)
            # Delete wins; the edit is kept in a conflict record so nothing is lost, and a stale
            # edit never brings the row back (only an explicit restore does).
            if patch:
                self.batch.conflict(
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
                self.batch.conflict(
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
            self.batch.write(row, data=merged)
            out.changed = True
        for field, lost in pending_copies:
            self._copy_note(row, merged, field, lost)
        return out

    def _unmerge(self, m: Mutation, row: RowState, patch: dict[str, Any]) -> bool:
        """An undo of a merge clears the merged contact's pointer (then restores it, a separate
        mutation): allowed on the tombstone when it still points where the undoer saw it point."""
        current = row.data.get(MERGED_INTO)
        if m.entity != "contact" or set(patch) != {MERGED_INTO} or patch[MERGED_INTO] is not None:
            return False
        if current is None or m.base.get(MERGED_INTO) != current:
            return False
        self.batch.write(row, data={**row.data, MERGED_INTO: None})
        return True

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
        elif row.version <= fork or (isinstance(was, int) and self.batch.given_back_at(row) is not None):
            prior = self.batch.given_back_at(row) if row.version > fork else None
            if prior is not None and isinstance(was, int) and was <= prior:
                return Outcome()  # this server already holds that version of the lost history, or a later one
            if row.deleted_at is not None:
                self._restore(row)
                row = self.batch.rows[(row.entity, row.id)] or row
            base = {field: row.data.get(field) for field in m.patch}
            out = self._update(m.model_copy(update={"base": base}), row, strict_base=False)
        else:
            return self._keep_newer(m, row)
        if isinstance(was, int):
            self.batch.note_given_back(m.entity, row_id, was)
        return out

    def _is_fork(self, fork: Any) -> bool:
        """Only a point where this database's history can have parted from a laptop's (the end
        of a generation, or 0) makes a give-back: any other number would let a client write over
        other reps' edits without the conflict records the normal merge keeps."""
        if not isinstance(fork, int) or isinstance(fork, bool) or fork < 0:
            return False
        return self.batch.is_fork(fork)

    def _keep_newer(self, m: Mutation, row: RowState) -> Outcome:
        """A give-back onto a row written here since the restore: that write is the newer one."""
        if row.deleted_at is not None:
            return self._update(m, row, strict_base=True)
        out = Outcome()
        for field, value in check_patch(m.entity, m.patch, complete=False).items():
            current = row.data.get(field)
            if _key(value) != _key(current):
                self.batch.conflict(
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
        self.batch.insert(
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
        if m.entity == "contact" and row.id in self.refused_merges:
            self.batch.write(row)  # the second half of a refused merge: the contact stays
            return Outcome(changed=True)
        out = Outcome(changed=True)
        # A delete given back after a restore was made after the last version both histories share.
        seen = m.base.get("_version", m.base.get(GIVE_BACK))
        if isinstance(seen, int) and row.version > seen and row.writer != self.actor.name:
            # Someone edited the row after this rep last saw it: the delete wins, their edit is
            # kept in a record (the tombstone also keeps it, for a restore).
            self.batch.conflict(
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
        self.batch.write(row, version, deleted_at=now_iso(), deleted_version=version)
        return out

    def _restore(self, row: RowState) -> Outcome:
        if row.deleted_at is None:
            return Outcome()
        self.batch.write(row, deleted_at=None, deleted_version=None)
        return Outcome(changed=True)
