"""Contacts: create, edit, soft delete and restore, browse and filter."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal_column, or_, select, text
from sqlalchemy.orm import Session

from models.entities import Account, Commitment, CommitmentStatus, Contact, ContactKind, Note, StakeRole
from models.errors import ValidationError
from models.rows import ContactDetail, ContactRow
from models.services.common import children_of, fts_query, get_live
from models.services.search import match_expression, parse, phone_digits
from models.types import utcnow
from models.validation import (
    check_email,
    check_storable,
    clean_described,
    normalize_phone,
    parse_date,
    raise_if,
    require,
)
from models.values import Described, described

KINDS = [k.value for k in ContactKind]
STAKE_ROLES = [r.value for r in StakeRole]
# The contacts filter looks in notes once this many words are typed (see _filters).
NOTE_PHRASE_WORDS = 2
NOTE_MATCHES = 500


@dataclass
class ContactInput:
    """What the contact form collects. Strings are as typed; the service cleans and checks them."""

    name: str
    kind: str = ContactKind.CUSTOMER.value
    account_id: uuid.UUID | None = None
    role: str = ""
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    address: str = ""
    birthday: str | date | None = None
    personal_dates: list[tuple[str, str | date]] = field(default_factory=list)
    preferences: str = ""
    needs: str = ""
    tags: list[str] = field(default_factory=list)
    about: str = ""
    cadence_days: int | str | None = None
    cadence_max_days: int | str | None = None
    stake_role: str = ""
    referred_by_id: uuid.UUID | None = None


MAX_DAYS = 3650
DAYS_RULE = f"a number of days between 1 and {MAX_DAYS}"


def parse_days(raw: int | str) -> int:
    """A cadence as the form takes it (the import checks a file's the same way); ValueError if
    it is not a whole number of days between 1 and :data:`MAX_DAYS`."""
    days = int(str(raw).strip())
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"{days} is out of bounds")
    return days


def _days(raw: int | str | None, field: str, what: str, errs: dict[str, str]) -> int | None:
    if raw in (None, ""):
        return None
    try:
        return parse_days(raw)
    except ValueError:
        errs[field] = f"{what} is {DAYS_RULE}"
        return None


def clean_contact(inp: ContactInput, session: Session | None = None) -> dict[str, Any]:
    """Validated column values, or :class:`ValidationError` naming every bad field at once."""
    errs: dict[str, str] = {}
    values: dict[str, Any] = {"name": require(inp.name, "name", errs, "A name")}
    if inp.kind not in KINDS:
        errs["kind"] = f"Choose one of: {', '.join(KINDS)}"
    values["kind"] = inp.kind
    emails = [e.strip() for e in inp.emails if e.strip()]
    bad = [why for e in emails if (why := check_email(e))]
    if bad:
        errs["emails"] = bad[0]
    values["emails"] = emails
    phones: list[str] = []
    for raw in (p for p in inp.phones if p.strip()):
        try:
            phones.append(normalize_phone(raw))
        except ValueError as exc:
            errs["phones"] = str(exc)
            break
    values["phones"] = phones
    values["birthday"] = parse_date(inp.birthday, "birthday", errs)
    if values["birthday"] and values["birthday"] > date.today():
        errs["birthday"] = "A birthday cannot be in the future"
    dates: list[dict[str, str]] = []
    for label, when in inp.personal_dates:
        parsed = parse_date(when, "personal_dates", errs)
        if parsed and label.strip():
            dates.append({"label": label.strip(), "date": parsed.isoformat()})
        elif parsed:
            errs["personal_dates"] = "Each personal date needs a label (e.g. “Work anniversary”)"
    values["personal_dates"] = dates
    values["cadence_days"] = _days(inp.cadence_days, "cadence_days", "The check-in cadence", errs)
    values["cadence_max_days"] = _days(inp.cadence_max_days, "cadence_max_days", "“Losing touch after”", errs)
    if (
        values["cadence_days"]
        and values["cadence_max_days"]
        and values["cadence_max_days"] < values["cadence_days"]
    ):
        errs["cadence_max_days"] = "“Losing touch after” cannot be shorter than the check-in cadence"
    if inp.stake_role not in STAKE_ROLES:
        errs["stake_role"] = f"Choose one of: {', '.join(r or 'none' for r in STAKE_ROLES)}"
    values["stake_role"] = inp.stake_role
    values["referred_by_id"] = inp.referred_by_id
    if inp.referred_by_id is not None and session is not None:
        referrer = session.get(Contact, inp.referred_by_id)
        if referrer is None or referrer.deleted_at is not None:
            errs["referred_by_id"] = "The contact who referred them no longer exists"
    # Tags are a set: trimmed, de-duplicated case-insensitively, order kept.
    seen: set[str] = set()
    tags: list[str] = []
    for tag in (t.strip() for t in inp.tags):
        if tag and tag.casefold() not in seen:
            seen.add(tag.casefold())
            tags.append(tag)
    values["tags"] = tags
    if inp.account_id is not None and session is not None:
        acc = session.get(Account, inp.account_id)
        if acc is None or acc.deleted_at is not None:
            errs["account_id"] = "That account no longer exists"
    values["account_id"] = inp.account_id
    clean_described(Contact, inp, values, errs)
    check_storable(Contact, values, errs)
    raise_if(errs)
    return values


def create_contact(session: Session, inp: ContactInput) -> uuid.UUID:
    contact = Contact(**clean_contact(inp, session))
    session.add(contact)
    session.flush()
    return contact.id


def update_contact(session: Session, contact_id: uuid.UUID, inp: ContactInput) -> None:
    values = clean_contact(inp, session)
    contact = get_live(session, Contact, contact_id, "contact")
    if values["referred_by_id"] == contact_id:
        raise ValidationError({"referred_by_id": "A contact cannot have referred themselves"})
    if values["account_id"] != contact.account_id:
        follow_contact(session, contact_id, contact.account_id, values["account_id"])
    for key, value in values.items():
        if getattr(contact, key) != value:  # unchanged fields stay out of the sync patch
            setattr(contact, key, value)


def follow_contact(
    session: Session, contact_id: uuid.UUID, old: uuid.UUID | None, new: uuid.UUID | None
) -> None:
    """A contact moves from account ``old`` to ``new``: their notes and open commitments filed
    under the old account move with them (done and cancelled ones stay where they were made).

    Each moved row is an ordinary edit, so it reaches the outbox and other laptops like any
    other change.
    """
    cls: type[Note] | type[Commitment]
    for cls in (Note, Commitment):
        stmt = select(cls).where(
            cls.contact_id == contact_id,
            cls.deleted_at.is_(None),
            cls.account_id.is_(None) if old is None else cls.account_id == old,
        )
        if cls is Commitment:
            stmt = stmt.where(Commitment.status == CommitmentStatus.OPEN.value)
        rows: list[Note | Commitment] = list(session.scalars(stmt))
        for row in rows:
            row.account_id = new


def delete_contact(session: Session, contact_id: uuid.UUID) -> None:
    """Soft delete, with the contact's notes and commitments (restored together)."""
    contact = get_live(session, Contact, contact_id, "contact")
    now = utcnow()
    contact.deleted_at = now
    for row in children_of(session, "contact_id", contact_id):
        row.deleted_at = now


def _filters(
    session: Session, search: str, kind: str | None, account_id: uuid.UUID | None
) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = [Contact.deleted_at.is_(None)]
    if kind:
        conds.append(Contact.kind == kind)
    if account_id:
        conds.append(Contact.account_id == account_id)
    query = fts_query(search)
    letter = search.strip()
    matches: list[ColumnElement[bool]] = []
    if len(letter) == 1 and letter.isalnum():
        # One letter matches most of the index, and building that FTS result set costs more
        # than walking the name index in order until a page is full: match word starts in
        # the name instead (what a rep typing one letter is after).
        matches.append(or_(Contact.name.ilike(f"{letter}%"), Contact.name.ilike(f"% {letter}%")))
    elif query:
        matches.append(literal_column("contacts.rowid").in_(_fts_rowids("contacts_fts", query)))
        matches.append(
            Contact.account_id.in_(
                select(Account.id).where(
                    literal_column("accounts.rowid").in_(_fts_rowids("accounts_fts", query))
                )
            )
        )
        words = parse(search)
        if len(words.words) >= NOTE_PHRASE_WORDS:
            # Words from a note (issue 13) find the person it was said with: every word in
            # the note, the last one possibly unfinished. From two words on, and among the
            # newest NOTE_MATCHES notes that have them: one word, or a phrase said in a tenth
            # of a million notes, would make the list wait for every one (2-3 s); a phrase a
            # rep remembers is rarer than that, and then every note that has it counts.
            match = match_expression(session.connection(), "notes_fts", words, expand=True)
            newest = text(
                "SELECT rowid FROM notes_fts WHERE notes_fts MATCH :q_notes "
                "ORDER BY rowid DESC LIMIT :n_notes"
            ).bindparams(q_notes=match, n_notes=NOTE_MATCHES)
            in_notes = select(Note.contact_id).where(
                Note.deleted_at.is_(None), literal_column("notes.rowid").in_(newest)
            )
            matches.append(Contact.id.in_(in_notes))
    digits = phone_digits(search)
    if digits is not None:
        # A phone number however it is typed ("020 7946 0958" finds "+44 20 7946 0958").
        matches.append(
            literal_column("contacts.rowid").in_(_fts_rowids("contacts_phones_fts", f'"{digits}"'))
        )
    if matches:
        conds.append(or_(*matches))
    return conds


def _fts_rowids(table: str, match: str) -> Any:
    return text(f"SELECT rowid FROM {table} WHERE {table} MATCH :q_{table}").bindparams(
        **{f"q_{table}": match}
    )


def _row_select() -> Select:
    return select(
        Contact.id,
        Contact.name,
        Contact.kind,
        Contact.account_id,
        func.coalesce(Account.name, ""),
        Contact.role,
        Contact.emails,
        Contact.phones,
        Contact.tags,
        Contact.cadence_days,
        Contact.last_contact_at,
    ).outerjoin(Account, (Account.id == Contact.account_id) & Account.deleted_at.is_(None))


def _to_row(r: Any) -> ContactRow:
    return ContactRow(
        id=r[0],
        name=r[1],
        kind=r[2],
        account_id=r[3],
        account_name=r[4],
        role=r[5],
        email=(r[6] or [""])[0],
        phone=(r[7] or [""])[0],
        tags=tuple(r[8] or ()),
        cadence_days=r[9],
        last_contact_at=r[10],
    )


SortKey = tuple[str, str]


def list_contacts(
    session: Session,
    search: str = "",
    *,
    kind: str | None = None,
    account_id: uuid.UUID | None = None,
    after: SortKey | None = None,
    limit: int = 200,
) -> list[ContactRow]:
    """One page of live contacts sorted by name, starting after the ``after`` key (keyset paging).

    ``sort_key(row)`` of the last row of a page is the ``after`` of the next.
    """
    name_key = Contact.name.collate("NOCASE")
    page = select(Contact.id).where(*_filters(session, search, kind, account_id))
    if after is not None:
        page = page.where(
            or_(name_key > after[0], (name_key == after[0]) & (Contact.id > uuid.UUID(after[1])))
        )
    # Pick the page's ids first, then fetch their columns: when a filter matches thousands of
    # contacts SQLite sorts the matches, and computing the columns (last contact is a subquery)
    # for every match before that sort cost 100+ ms on 100,000 contacts; this way 200 rows pay.
    ids = page.order_by(name_key, Contact.id).limit(limit).subquery()
    stmt = _row_select().join(ids, ids.c.id == Contact.id).order_by(name_key, Contact.id)
    return [_to_row(r) for r in session.execute(stmt)]


def sort_key(row: ContactRow) -> SortKey:
    return (row.name, str(row.id))


def count_contacts(
    session: Session, search: str = "", *, kind: str | None = None, account_id: uuid.UUID | None = None
) -> int:
    stmt = select(func.count()).select_from(Contact).where(*_filters(session, search, kind, account_id))
    return int(session.scalar(stmt) or 0)


def contact_rows(session: Session, ids: list[uuid.UUID]) -> list[ContactRow]:
    rows = {r.id: r for r in map(_to_row, session.execute(_row_select().where(Contact.id.in_(ids))))}
    return [rows[i] for i in ids if i in rows]


def get_contact(session: Session, contact_id: uuid.UUID) -> ContactDetail:
    c = get_live(session, Contact, contact_id, "contact")
    account_name = ""
    if c.account_id is not None:
        acc = session.get(Account, c.account_id)
        account_name = acc.name if acc is not None and acc.deleted_at is None else ""
    return ContactDetail(
        id=c.id,
        account_name=account_name,
        last_contact_at=c.last_contact_at,
        created_at=c.created_at,
        updated_at=c.updated_at,
        **{f.name: _detail_value(f, getattr(c, f.name)) for f in described(Contact)},
    )


def _detail_value(field: Described, value: Any) -> Any:
    """A column's value as a frozen row holds it: lists become tuples, dated entries pairs."""
    if field.spec.shape == "dates":
        return tuple((d["label"], d["date"]) for d in value or ())
    if field.spec.kind == "json":
        return tuple(value or ())
    return value


def contact_input(detail: ContactDetail) -> ContactInput:
    """The form values of an existing contact (for editing)."""
    values: dict[str, Any] = {}
    for f in described(Contact):
        value = getattr(detail, f.name)
        values[f.name] = list(value) if isinstance(value, tuple) else value
    return ContactInput(**values)


def find_contacts(session: Session, name_or_id: str, limit: int = 20) -> list[ContactRow]:
    """Contacts matching an id, an exact name (case-insensitive), or else every word typed."""
    try:
        cid = uuid.UUID(name_or_id.strip())
    except ValueError:
        cid = None
    if cid is not None:
        return contact_rows(session, [cid])
    exact = session.execute(
        _row_select()
        .where(Contact.deleted_at.is_(None), func.lower(Contact.name) == name_or_id.strip().lower())
        .limit(limit)
    )
    rows = [_to_row(r) for r in exact]
    return rows or list_contacts(session, name_or_id, limit=limit)


def matching_contact_ids(
    session: Session, search: str = "", *, kind: str | None = None, account_id: uuid.UUID | None = None
) -> list[uuid.UUID]:
    """Every live contact the list's filter shows, in the list's order (an export of the
    filter's results: all of them, not the pages loaded)."""
    stmt = (
        select(Contact.id)
        .where(*_filters(session, search, kind, account_id))
        .order_by(Contact.name.collate("NOCASE"), Contact.id)
    )
    return list(session.scalars(stmt))
