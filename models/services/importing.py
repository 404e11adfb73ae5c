"""Importing contacts: match the cards a file holds against the database, preview, write, undo.

``plan_import`` (a read) says what an import would do; ``apply_import`` does it in the caller's
one transaction, matching again against what the database holds then; ``undo_import`` takes it
back as a whole. Every write goes through the ORM, so each created, merged or deleted contact
reaches the outbox and syncs like a change typed by the rep.

Matching: a card is the same person as a contact with one of its emails (case-insensitive) or
phones (normalized), or, for a card with neither, the same name at the same account. A matched
contact is only *filled in*: empty fields take the card's value, and emails, phones, tags and
personal dates the card adds are appended; nothing the rep typed is overwritten, and the name
and the kind never change. Importing the same file twice therefore changes nothing the second time.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from models.changes import bulk_create, bulk_delete
from models.entities import Account, Commitment, Contact, ImportRecord, Note
from models.errors import NotFoundError
from models.services.card import CardData, Skipped
from models.services.contacts import DAYS_RULE, KINDS, parse_days
from models.types import to_wire, utcnow
from models.validation import check_email, check_storable, normalize_phone
from models.values import described

LIST_FIELDS = ("emails", "phones", "tags", "personal_dates")
TEXT_FIELDS = ("role", "address", "about", "preferences", "needs")
_LABELS = {f.name: f.shown.label for f in described(Contact)}
_CHUNK = 500
# The fields of a new contact whose definition can refuse a value an import cleaned.
_LIMITED = ("name", "role", "emails", "tags")


@dataclass(frozen=True)
class Merge:
    """A card that matches a contact: who, and what it fills in (field labels, "Phones (+1)")."""

    where: str
    contact_name: str
    fills: tuple[str, ...]
    into_new: bool = False  # the contact is one this file creates (a second card of one person)


@dataclass(frozen=True)
class ImportPlan:
    """What an import will do, for the preview and the command line."""

    cards: int
    new: tuple[str, ...]  # the names of the contacts it creates
    merges: tuple[Merge, ...]  # matches that fill something in
    unchanged: tuple[str, ...]  # matches with nothing to add (already imported)
    new_accounts: tuple[str, ...]
    skipped: tuple[Skipped, ...]
    warnings: tuple[str, ...]  # values left out of cards that are imported

    @property
    def matched(self) -> int:
        return len(self.merges) + len(self.unchanged)

    @property
    def writes(self) -> bool:
        return bool(self.new or any(not m.into_new for m in self.merges))


@dataclass(frozen=True)
class ImportResult:
    import_id: uuid.UUID | None  # None when it changed nothing (every card already there)
    created: int
    merged: int
    accounts: int
    plan: ImportPlan


@dataclass
class _Target:
    """A contact the import creates (``contact_id`` None) or fills in, with its values so far."""

    contact_id: uuid.UUID | None
    where: str
    values: dict[str, Any]
    account_name: str = ""  # a new account to create for it, by name
    original: dict[str, Any] = field(default_factory=dict)
    cards: list[str] = field(default_factory=list)


@dataclass
class _Index:
    emails: dict[str, uuid.UUID] = field(default_factory=dict)
    phones: dict[str, uuid.UUID] = field(default_factory=dict)
    names: dict[tuple[str, uuid.UUID | None], uuid.UUID] = field(default_factory=dict)
    accounts: dict[str, uuid.UUID] = field(default_factory=dict)


def _key(name: str) -> str:
    return " ".join(name.casefold().split())


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
# The contacts holding one of the file's emails or phones, or (for cards with neither) its
# names: SQLite walks the JSON lists itself, so a 100,000-contact database is not loaded into
# Python (that cost 4 s of UUIDs and JSON decoding). SQLite's lower() folds ASCII only, so
# both sides are folded the same way here and casefolded in Python after.
_BY_EMAIL = text(
    "SELECT c.id, j.value FROM contacts AS c, json_each(c.emails) AS j WHERE c.deleted_at IS NULL "
    "AND lower(j.value) IN (SELECT value FROM json_each(:keys)) ORDER BY c.rowid"
)
_BY_PHONE = text(
    "SELECT c.id, j.value FROM contacts AS c, json_each(c.phones) AS j WHERE c.deleted_at IS NULL "
    "AND j.value IN (SELECT value FROM json_each(:keys)) ORDER BY c.rowid"
)
_BY_NAME = text(
    "SELECT id, name, account_id FROM contacts WHERE deleted_at IS NULL "
    "AND name COLLATE NOCASE IN (SELECT value FROM json_each(:keys)) ORDER BY rowid"
)


def _uuid(raw: Any) -> uuid.UUID | None:
    return None if raw is None else raw if isinstance(raw, uuid.UUID) else uuid.UUID(str(raw))


def _load_index(session: Session, cleaned: Sequence[tuple[CardData, dict[str, Any]]]) -> _Index:
    """The match keys of the live contacts that share an email, a phone or a name with the file."""
    index = _Index()
    emails = {e.translate(_ASCII_LOWER) for _, v in cleaned for e in v["emails"]}
    phones = {p for _, v in cleaned for p in v["phones"]}
    names = {v["name"] for _, v in cleaned if not v["emails"] and not v["phones"]}
    if emails:
        for cid, value in session.execute(_BY_EMAIL, {"keys": json.dumps(sorted(emails))}):
            index.emails.setdefault(value.casefold(), _uuid(cid))  # type: ignore[arg-type]
    if phones:
        for cid, value in session.execute(_BY_PHONE, {"keys": json.dumps(sorted(phones))}):
            index.phones.setdefault(value, _uuid(cid))  # type: ignore[arg-type]
    if names:
        for cid, name, account_id in session.execute(_BY_NAME, {"keys": json.dumps(sorted(names))}):
            index.names.setdefault((_key(name), _uuid(account_id)), _uuid(cid))  # type: ignore[arg-type]
    for aid, name in session.execute(select(Account.id, Account.name).where(Account.deleted_at.is_(None))):
        index.accounts.setdefault(_key(name), aid)
    return index


def _clean_card(card: CardData, region: str | None, all_warnings: list[str]) -> dict[str, Any]:
    """The card's values as the contact's columns hold them; unusable ones left out (with a
    warning) rather than the whole card."""
    if region not in card.cleaned:
        warnings: list[str] = []
        card.cleaned[region] = (_cleaned(card, region, warnings), warnings)
    values, warnings = card.cleaned[region]
    all_warnings.extend(warnings)
    return {k: list(v) if isinstance(v, list) else v for k, v in values.items()}


def _cleaned(card: CardData, region: str | None, warnings: list[str]) -> dict[str, Any]:
    emails = []
    for e in card.emails:
        if check_email(e) is None:
            emails.append(e)
        else:
            warnings.append(f"{card.where}: email “{e}” left out: not an email address")
    phones: list[str] = []
    for p in card.phones:
        try:
            normalized = normalize_phone(p, region)
        except ValueError as exc:
            warnings.append(f"{card.where}: phone left out: {exc}")
            continue
        if normalized not in phones:
            phones.append(normalized)
    birthday = card.birthday
    if birthday is not None and birthday > date.today():
        warnings.append(f"{card.where}: birthday {birthday} left out: it is in the future")
        birthday = None
    warnings.extend(f"{card.where}: {w}" for w in card.warnings)
    # Rapport's own fields, checked as the contact form checks them (a spreadsheet's "Partner"
    # is the kind partner); a bad value is left out, never the card.
    kind = card.kind.strip().casefold() or None
    if kind is not None and kind not in KINDS:
        warnings.append(f"{card.where}: kind “{card.kind.strip()}” left out: not one of {', '.join(KINDS)}")
        kind = None
    cadence = None
    if card.cadence_days.strip():
        try:
            cadence = parse_days(card.cadence_days)
        except ValueError:
            warnings.append(
                f"{card.where}: check-in cadence “{card.cadence_days.strip()}” left out: {DAYS_RULE}"
            )
    return {
        "name": card.name.strip(),
        "role": card.role.strip(),
        "emails": emails,
        "phones": phones,
        "address": card.address.strip(),
        "birthday": birthday,
        "personal_dates": [{"label": label, "date": when.isoformat()} for label, when in card.personal_dates],
        "tags": list(card.tags),
        "about": card.about.strip(),
        "preferences": card.preferences.strip(),
        "needs": card.needs.strip(),
        "cadence_days": cadence,
        "kind": kind,  # None: the default a new contact takes; never written over a match's
    }


def _fill(target: dict[str, Any], card: dict[str, Any], where: str, warnings: list[str]) -> None:
    """Fill ``target``'s empty fields from ``card`` and add the list items it lacks."""
    for name in TEXT_FIELDS:
        if not target.get(name) and card.get(name):
            target[name] = card[name]
    if target.get("birthday") is None and card.get("birthday") is not None:
        target["birthday"] = card["birthday"]
    cadence, longest = card.get("cadence_days"), target.get("cadence_max_days")
    if target.get("cadence_days") is None and cadence is not None:
        if longest is not None and cadence > longest:  # the form refuses that pair too
            warnings.append(
                f"{where}: check-in cadence {cadence} left out: longer than “Losing touch after” "
                f"({longest} days)"
            )
        else:
            target["cadence_days"] = cadence
    for name in LIST_FIELDS:
        have = list(target.get(name) or [])
        seen = {_fold(v) for v in have}
        added = [v for v in card.get(name) or [] if _fold(v) not in seen]
        if added:
            target[name] = have + added


def _fold(value: Any) -> Any:
    if isinstance(value, str):
        return value.casefold()
    if isinstance(value, dict):
        return (value.get("label", "").casefold(), value.get("date"))
    return value


def _fills(before: dict[str, Any], after: dict[str, Any]) -> tuple[str, ...]:
    out = []
    for name in ("account_id", *TEXT_FIELDS, "birthday", "cadence_days", *LIST_FIELDS):
        old, new = before.get(name), after.get(name)
        if old == new or (name == "account_id" and new is None):
            continue
        label = _LABELS[name]
        if name in LIST_FIELDS:
            label += f" (+{len(new or []) - len(old or [])})"
        out.append(label)
    return tuple(out)


def _existing_values(session: Session, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    cols = ("name", "account_id", *TEXT_FIELDS, "birthday", "cadence_days", "cadence_max_days", *LIST_FIELDS)
    out: dict[uuid.UUID, dict[str, Any]] = {}
    ids = list(ids)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        stmt = select(Contact.id, *(getattr(Contact, c) for c in cols)).where(Contact.id.in_(chunk))
        for row in session.execute(stmt):
            out[row[0]] = {
                c: (list(v) if isinstance(v, list) else v) for c, v in zip(cols, row[1:], strict=True)
            }
    return out


def _build(
    session: Session, cards: Sequence[CardData], skipped: Sequence[Skipped], region: str | None
) -> tuple[ImportPlan, list[_Target]]:
    warnings: list[str] = []
    skips = list(skipped)
    targets: list[_Target] = []
    by_existing: dict[uuid.UUID, _Target] = {}
    # Keys of the contacts this file creates, so a second card of one person merges into the first.
    file_emails: dict[str, _Target] = {}
    file_phones: dict[str, _Target] = {}
    file_names: dict[tuple[str, str], _Target] = {}
    cleaned: list[tuple[CardData, dict[str, Any]]] = [(c, _clean_card(c, region, warnings)) for c in cards]
    index = _load_index(session, cleaned)
    matched_ids = set()
    for card, values in cleaned:
        for e in values["emails"]:
            if (cid := index.emails.get(e.casefold())) is not None:
                matched_ids.add(cid)
        for p in values["phones"]:
            if (cid := index.phones.get(p)) is not None:
                matched_ids.add(cid)
        if not values["emails"] and not values["phones"]:
            account_id = index.accounts.get(_key(card.organization)) if card.organization else None
            if (cid := index.names.get((_key(values["name"]), account_id))) is not None:
                matched_ids.add(cid)
    existing = _existing_values(session, matched_ids)

    for card, values in cleaned:
        org_key = _key(card.organization)
        account_id = index.accounts.get(org_key) if org_key else None
        cid = next((index.emails[k] for e in values["emails"] if (k := e.casefold()) in index.emails), None)
        if cid is None:
            cid = next((index.phones[p] for p in values["phones"] if p in index.phones), None)
        if cid is None and not values["emails"] and not values["phones"]:
            cid = index.names.get((_key(values["name"]), account_id))
        target: _Target | None = None
        if cid is not None and cid in existing:
            target = by_existing.get(cid)
            if target is None:
                before = existing[cid]
                target = _Target(cid, card.where, dict(before), original=before)
                by_existing[cid] = target
                targets.append(target)
        else:
            target = next(
                (file_emails[e.casefold()] for e in values["emails"] if e.casefold() in file_emails), None
            )
            target = target or next((file_phones[p] for p in values["phones"] if p in file_phones), None)
            if target is None and not values["emails"] and not values["phones"]:
                target = file_names.get((_key(values["name"]), org_key))
        if target is None:
            if card.problem is None:  # checked once for the preview and the import (no phones in it)
                card.problem = _invalid(values, card)
            problem = card.problem
            if problem:
                skips.append(Skipped(card.where, problem))
                continue
            target = _Target(None, card.where, dict(values))
            target.values["account_id"] = account_id
            target.account_name = card.organization.strip() if org_key and account_id is None else ""
            targets.append(target)
        else:
            _fill(target.values, values, card.where, warnings)
            if target.values.get("account_id") is None and not target.account_name and org_key:
                target.values["account_id"] = account_id
                target.account_name = card.organization.strip() if account_id is None else ""
        target.cards.append(card.where)
        if target.contact_id is None:
            for e in target.values["emails"]:
                file_emails.setdefault(e.casefold(), target)
            for p in target.values["phones"]:
                file_phones.setdefault(p, target)
            file_names.setdefault((_key(target.values["name"]), org_key), target)

    merges: list[Merge] = []
    unchanged: list[str] = []
    new_names: list[str] = []
    for t in targets:
        if t.contact_id is None:
            new_names.append(t.values["name"])
            merges.extend(Merge(w, t.values["name"], (), into_new=True) for w in t.cards[1:])
            continue
        fills = _fills(t.original, t.values)
        if t.account_name:
            fills = (_LABELS["account_id"], *fills)
        errs: dict[str, str] = {}
        check_storable(Contact, {k: v for k, v in t.values.items() if k != "name"}, errs)
        if errs:
            skips.append(Skipped(t.where, "; ".join(errs.values())))
            t.values, t.account_name = dict(t.original), ""
            continue
        if fills:
            merges.append(Merge(", ".join(t.cards), t.original["name"], fills))
        else:
            unchanged.append(t.original["name"])
    new_accounts = sorted({t.account_name for t in targets if t.account_name}, key=str.casefold)
    plan = ImportPlan(
        cards=len(cards) + len(skipped),
        new=tuple(new_names),
        merges=tuple(merges),
        unchanged=tuple(unchanged),
        new_accounts=tuple(new_accounts),
        skipped=tuple(sorted(skips, key=lambda s: _order(s.where))),
        warnings=tuple(warnings),
    )
    return plan, targets


def _order(where: str) -> int:
    digits = "".join(ch if ch.isdigit() else " " for ch in where).split()
    return int(digits[0]) if digits else 0


def _invalid(values: dict[str, Any], card: CardData) -> str:
    """Why a new contact from this card cannot be saved, or ''. The values are clean already
    (emails checked, phones normalized, control characters refused with the file): what is left
    to check is what the field definitions limit (lengths)."""
    errs: dict[str, str] = {}
    check_storable(Contact, {k: values[k] for k in _LIMITED}, errs)
    if card.organization:
        check_storable(Account, {"name": card.organization.strip()}, errs)
    return "; ".join(errs.values())


def plan_import(
    session: Session, cards: Sequence[CardData], skipped: Sequence[Skipped] = (), region: str | None = None
) -> ImportPlan:
    """What importing ``cards`` would do; writes nothing."""
    return _build(session, cards, skipped, region)[0]


def apply_import(
    session: Session,
    cards: Sequence[CardData],
    skipped: Sequence[Skipped] = (),
    *,
    source: str,
    region: str | None = None,
) -> ImportResult:
    """Import ``cards`` in the caller's transaction (matched again against the database as it is
    now) and keep a record to undo it by."""
    plan, targets = _build(session, cards, skipped, region)
    accounts: dict[str, dict[str, Any]] = {}
    for t in targets:
        if t.account_name:
            accounts.setdefault(_key(t.account_name), {"id": uuid.uuid4(), "name": t.account_name})
    bulk_create(session, Account, list(accounts.values()))
    merged: dict[str, dict[str, Any]] = {}
    new_rows = []
    for t in targets:
        if t.account_name:
            t.values["account_id"] = accounts[_key(t.account_name)]["id"]
        if t.contact_id is None:
            new_rows.append(t.values)
    created = bulk_create(session, Contact, new_rows)
    existing = {t.contact_id: t for t in targets if t.contact_id is not None and t.values != t.original}
    for start in range(0, len(ids := list(existing)), _CHUNK):
        for contact in session.scalars(select(Contact).where(Contact.id.in_(ids[start : start + _CHUNK]))):
            t = existing[contact.id]
            record: dict[str, Any] = {"set": {}, "added": {}}
            for name, value in t.values.items():
                old = t.original.get(name)
                if value == old:
                    continue
                setattr(contact, name, value)
                if name in LIST_FIELDS:
                    seen = {_fold_wire(v) for v in old or []}
                    record["added"][name] = [v for v in value if _fold_wire(v) not in seen]
                else:
                    record["set"][name] = [to_wire(old), to_wire(value)]
            merged[str(contact.id)] = record
    if not created and not merged:
        return ImportResult(None, 0, 0, 0, plan)  # nothing changed: nothing to undo
    rec = ImportRecord(
        id=uuid.uuid4(),
        source=source[:300],
        summary={
            "created": len(created),
            "merged": len(merged),
            "accounts": len(accounts),
            "skipped": len(plan.skipped),
        },
        created_contacts=[str(i) for i in created],
        created_accounts=[str(a["id"]) for a in accounts.values()],
        merged=merged,
    )
    session.add(rec)
    session.flush()
    return ImportResult(rec.id, len(created), len(merged), len(accounts), plan)


def _fold_wire(value: Any) -> Any:
    return _fold(value)


@dataclass(frozen=True)
class ImportHistoryRow:
    id: uuid.UUID
    at: Any
    source: str
    created: int
    merged: int
    undone: bool


def list_imports(session: Session, limit: int = 50) -> list[ImportHistoryRow]:
    rows = session.scalars(select(ImportRecord).order_by(ImportRecord.at.desc()).limit(limit))
    return [
        ImportHistoryRow(
            r.id,
            r.at,
            r.source,
            r.summary.get("created", 0),
            r.summary.get("merged", 0),
            r.undone_at is not None,
        )
        for r in rows
    ]


@dataclass(frozen=True)
class UndoResult:
    deleted: int
    reverted: int
    kept: int  # contacts left as they are: edited since, so their edits are not thrown away


def undo_import(session: Session, import_id: uuid.UUID) -> UndoResult:
    """Take an import back: its new contacts (and accounts nobody else is at) go to the Trash
    with whatever was added to them since; what it filled in on existing contacts is emptied
    again, and what it added to their lists removed, unless the rep changed that field since."""
    rec = session.get(ImportRecord, import_id)
    if rec is None or rec.undone_at is not None:
        raise NotFoundError("That import has already been undone.")
    now = utcnow()
    ids = [uuid.UUID(i) for i in rec.created_contacts]
    deleted = len(bulk_delete(session, Contact, ids))
    child: type[Note] | type[Commitment]
    for child in (Note, Commitment):
        # What was added to an imported contact since goes to the Trash with them, as a delete does.
        children: list[uuid.UUID] = []
        for start in range(0, len(ids), _CHUNK):
            children.extend(
                session.scalars(
                    select(child.id).where(
                        child.contact_id.in_(ids[start : start + _CHUNK]), child.deleted_at.is_(None)
                    )
                )
            )
        bulk_delete(session, child, children)
    for aid in (uuid.UUID(a) for a in rec.created_accounts):
        account = session.get(Account, aid)
        if account is None or account.deleted_at is not None:
            continue
        in_use = session.scalar(
            select(Contact.id).where(Contact.account_id == aid, Contact.deleted_at.is_(None)).limit(1)
        )
        if in_use is None:
            account.deleted_at = now
    reverted = kept = 0
    for cid, record in rec.merged.items():
        contact = session.get(Contact, uuid.UUID(cid))
        if contact is None or contact.deleted_at is not None:
            continue
        touched = False
        for name, (old, new) in record.get("set", {}).items():
            if to_wire(getattr(contact, name)) == new:
                setattr(contact, name, _from_wire(name, old))
                touched = True
            else:
                kept += 1
        for name, added in record.get("added", {}).items():
            gone = {_fold_wire(v) for v in added}
            current = list(getattr(contact, name) or [])
            remaining = [v for v in current if _fold_wire(v) not in gone]
            if remaining != current:
                setattr(contact, name, remaining)
                touched = True
        reverted += touched
    rec.undone_at = now
    session.flush()
    return UndoResult(deleted, reverted, kept)


def _from_wire(name: str, value: Any) -> Any:
    if name == "birthday" and value is not None:
        return date.fromisoformat(value)
    if name == "account_id" and value is not None:
        return uuid.UUID(value)
    return value


__all__ = [
    "ImportPlan",
    "ImportResult",
    "Merge",
    "apply_import",
    "list_imports",
    "plan_import",
    "undo_import",
]
