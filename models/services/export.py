"""Export: contacts to vCard 4.0 and CSV, and one account's whole history to a folder or a zip a
rep can hand over (a CSV per kind of record, the people as vCards, and a README.txt).

The vCard mapping of one contact is :func:`contact_vcard` (``vobject``); the importer's
(``models.services.vcard``, ``contact_csv``'s "Rapport" format) reads both files back to the same
contacts. CSV files are UTF-8 with a byte order mark, which spreadsheet programs need to read
accents right, and comma separated.
"""

from __future__ import annotations

import csv
import io
import uuid
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import vobject
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from models import errors
from models.entities import (
    Account,
    Appreciation,
    Commitment,
    Contact,
    Feedback,
    Note,
    Purchase,
    SyncedMixin,
    Visit,
)
from models.services.card import NO_YEAR
from models.services.contacts import matching_contact_ids

# Several values in one CSV cell (emails, phones, tags): "; " never appears inside one of them
# in practice, and a spreadsheet shows it as it is meant.
LIST_SEPARATOR = "; "
CONTACT_COLUMNS = (
    "id",
    "name",
    "kind",
    "account",
    "role",
    "emails",
    "phones",
    "address",
    "birthday",
    "personal_dates",
    "tags",
    "preferences",
    "needs",
    "about",
    "cadence_days",
    "created_at",
    "updated_at",
)
BATCH = 500  # ids per IN (...) when reading a selection


@dataclass(frozen=True)
class ExportedContact:
    """A contact as exported: plain values, the account's name instead of its id."""

    id: uuid.UUID
    name: str
    kind: str
    account: str
    role: str
    emails: tuple[str, ...]
    phones: tuple[str, ...]
    address: str
    birthday: date | None
    personal_dates: tuple[tuple[str, str], ...]  # (label, ISO date)
    tags: tuple[str, ...]
    preferences: str
    needs: str
    about: str
    cadence_days: int | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class ExportCounts:
    files: tuple[Path, ...]
    counts: dict[str, int]

    def __str__(self) -> str:
        return ", ".join(
            f"{n:,} {what.removesuffix('s') if n == 1 else what}" for what, n in self.counts.items()
        )


def _contact_select() -> Select[Contact, str]:
    return (
        select(Contact, Account.name)
        .outerjoin(Account, (Account.id == Contact.account_id) & Account.deleted_at.is_(None))
        .where(Contact.deleted_at.is_(None))
    )


def _exported(c: Contact, account: str | None) -> ExportedContact:
    return ExportedContact(
        id=c.id,
        name=c.name,
        kind=c.kind,
        account=account or "",
        role=c.role,
        emails=tuple(c.emails or ()),
        phones=tuple(c.phones or ()),
        address=c.address,
        birthday=c.birthday,
        personal_dates=tuple(
            (str(d.get("label", "")), str(d.get("date", ""))) for d in c.personal_dates or ()
        ),
        tags=tuple(c.tags or ()),
        preferences=c.preferences,
        needs=c.needs,
        about=c.about,
        cadence_days=c.cadence_days,
        created_at=c.created_at,
        updated_at=c.updated_at,
    )


def contacts_for_export(
    session: Session,
    *,
    ids: Sequence[uuid.UUID] | None = None,
    search: str = "",
    kind: str | None = None,
    account_id: uuid.UUID | None = None,
) -> list[ExportedContact]:
    """The live contacts to export, sorted by name: the given ``ids`` (a selection), or those
    the contact list's filter shows (``search``, ``kind``; nothing: all of them)."""
    if ids is None:
        ids = matching_contact_ids(session, search, kind=kind, account_id=account_id)
    out: list[ExportedContact] = []
    for start in range(0, len(ids), BATCH):
        chunk = list(ids[start : start + BATCH])
        out.extend(
            _exported(c, a) for c, a in session.execute(_contact_select().where(Contact.id.in_(chunk)))
        )
    out.sort(key=lambda c: (c.name.casefold(), str(c.id)))
    return out


# -- vCard 4.0 ---------------------------------------------------------------------------------
def _name_parts(name: str) -> vobject.vcard.Name:
    """N from the one name Rapport keeps: the last word as the family name ("Anna Müller")."""
    words = name.split()
    if len(words) < 2:
        return vobject.vcard.Name(given=name)
    return vobject.vcard.Name(family=words[-1], given=" ".join(words[:-1]))


def _vcard_date(when: date | str) -> str:
    """A date as vCard writes it; one without a year (stored in :data:`NO_YEAR`) as RFC 6350's
    ``--MMDD``. A personal date comes as ISO text (the column's shape)."""
    if isinstance(when, str):
        try:
            day = date.fromisoformat(when)
        except ValueError:
            return when.replace("-", "")  # not a date the form wrote: as it is
    else:
        day = when
    return day.strftime("--%m%d") if day.year == NO_YEAR else day.strftime("%Y%m%d")


def _label(address: str) -> str:
    r"""The address as ADR's LABEL parameter. vobject writes a parameter as given (quoted when it
    holds a comma) and refuses a double quote, so: line breaks as ``\n`` and backslashes doubled,
    as RFC 6350 writes its LABEL; a double quote as RFC 6868's ``^'`` (a caret as ``^^``)."""
    return (
        address.replace("\\", "\\\\")
        .replace("^", "^^")
        .replace('"', "^'")
        .replace("\r\n", "\n")
        .replace("\n", "\\n")
    )


def contact_vcard(c: ExportedContact) -> vobject.base.Component:
    """One contact as a vCard 4.0 (RFC 6350). What has no standard property goes in ``X-RAPPORT-``
    ones, which other programs ignore and Rapport's importer can read back."""
    card = vobject.vCard()
    card.add("version").value = "4.0"
    card.add("uid").value = f"urn:uuid:{c.id}"
    card.add("fn").value = c.name
    card.add("n").value = _name_parts(c.name)
    card.add("kind").value = "individual"
    if c.account:
        card.add("org").value = [c.account]
    if c.role:
        card.add("title").value = c.role
    for i, email in enumerate(c.emails):
        prop = card.add("email")
        prop.value = email
        if i == 0:
            prop.params["PREF"] = ["1"]
    for i, phone in enumerate(c.phones):
        prop = card.add("tel")
        prop.value = phone
        prop.params["VALUE"] = ["text"]
        if i == 0:
            prop.params["PREF"] = ["1"]
    if c.address:
        adr = card.add("adr")
        adr.value = vobject.vcard.Address(street=c.address)
        adr.params["LABEL"] = [_label(c.address)]
    if c.birthday is not None:
        card.add("bday").value = _vcard_date(c.birthday)
    # Apple's and Google's labelled dates (what Rapport's importer and most address books read).
    for i, (label, when) in enumerate(c.personal_dates, start=1):
        for key, value in (("x-abdate", _vcard_date(when)), ("x-ablabel", label)):
            prop = card.add(key)
            prop.value, prop.group = value, f"item{i}"
    if c.tags:
        card.add("categories").value = list(c.tags)
    if c.about:
        card.add("note").value = c.about
    card.add("rev").value = c.updated_at.strftime("%Y%m%dT%H%M%SZ")
    extra = {
        "x-rapport-kind": c.kind,
        "x-rapport-preferences": c.preferences,
        "x-rapport-needs": c.needs,
        "x-rapport-cadence-days": "" if c.cadence_days is None else str(c.cadence_days),
    }
    for key, value in extra.items():
        if value:
            card.add(key).value = value
    return card


def vcard_text(contacts: Iterable[ExportedContact]) -> str:
    return "".join(contact_vcard(c).serialize() for c in contacts)


# -- CSV ---------------------------------------------------------------------------------------
def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, tuple | list):
        return LIST_SEPARATOR.join(": ".join(v) if isinstance(v, tuple) else str(v) for v in value)
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return str(value)


def _csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([_cell(v) for v in row] for row in rows)
    return out.getvalue()


def contacts_csv(contacts: Iterable[ExportedContact]) -> str:
    return _csv_text(CONTACT_COLUMNS, ([getattr(c, col) for col in CONTACT_COLUMNS] for c in contacts))


def _write(path: Path, text: str) -> None:
    """UTF-8 with a byte order mark for CSV (spreadsheets), plain UTF-8 for the rest."""
    try:
        path.write_text(text, encoding="utf-8-sig" if path.suffix.lower() == ".csv" else "utf-8", newline="")
    except OSError as exc:
        raise errors.RapportError(f"{path} could not be written ({exc.strerror or exc}).") from exc


def write_contacts(contacts: Sequence[ExportedContact], path: Path) -> int:
    """To ``.vcf`` (vCard 4.0) or ``.csv``, by the file's extension; returns how many."""
    _write(path, contacts_csv(contacts) if path.suffix.lower() == ".csv" else vcard_text(contacts))
    return len(contacts)


# -- one account's history ---------------------------------------------------------------------
@dataclass(frozen=True)
class _Kind:
    file: str
    cls: type[SyncedMixin]
    columns: tuple[str, ...]
    order: str


HISTORY: tuple[_Kind, ...] = (
    _Kind("notes.csv", Note, ("occurred_at", "contact", "channel", "summary", "body"), "occurred_at"),
    _Kind(
        "commitments.csv",
        Commitment,
        ("due_date", "contact", "direction", "what", "status", "done_at", "created_at"),
        "created_at",
    ),
    _Kind(
        "visits.csv",
        Visit,
        ("starts_at", "duration_minutes", "status", "location", "people", "purpose", "agenda"),
        "starts_at",
    ),
    _Kind("feedback.csv", Feedback, ("received_at", "contact", "score", "comment"), "received_at"),
    _Kind(
        "purchases.csv",
        Purchase,
        ("purchased_on", "contact", "product", "quantity", "amount", "currency"),
        "purchased_on",
    ),
    _Kind("thanks.csv", Appreciation, ("given_at", "contact", "kind", "reason", "summary"), "given_at"),
)

README = """{account} — exported from Rapport on {when}

What is here
- account.csv: the account itself (address, segment, tier, about).
- contacts.vcf: its people as vCard 4.0 cards; most address books and CRMs import them.
- contacts.csv: the same people as a table (several emails, phones or tags are separated by "; ").
{listing}
Every .csv file is UTF-8 text, comma separated, one row per record, with a header row; times
are in UTC (ISO 8601, e.g. 2026-12-03T09:30:00+00:00). Deleted records are not included.
"""

_DESCRIBE = {
    "notes.csv": "every note of a call, visit, email or message, newest last",
    "commitments.csv": "what we promised them and they promised us, open or done",
    "visits.csv": "meetings, planned and past, with who was there",
    "feedback.csv": "feedback and scores they gave",
    "purchases.csv": "what they bought (amounts in the currency shown)",
    "thanks.csv": "thank-yous sent to them",
}


def _history_rows(
    session: Session, kind: _Kind, account_id: uuid.UUID, people: dict[uuid.UUID, str]
) -> list[list[Any]]:
    cls: Any = kind.cls
    conds = [cls.account_id == account_id]
    if hasattr(cls, "contact_id") and people:
        conds.append(cls.contact_id.in_(list(people)))
    stmt = select(cls).where(or_(*conds), cls.deleted_at.is_(None)).order_by(getattr(cls, kind.order), cls.id)
    rows: list[list[Any]] = []
    for obj in session.scalars(stmt):
        values = {col: getattr(obj, col, None) for col in kind.columns}
        if "contact" in kind.columns:
            values["contact"] = people.get(obj.contact_id, "") if obj.contact_id else ""
        if "people" in kind.columns:
            values["people"] = [people.get(uuid.UUID(i), "") for i in obj.contact_ids or ()]
        if "amount" in kind.columns:
            cents = obj.amount_cents
            values["amount"] = "" if cents is None else f"{cents / 100:.2f}"
        rows.append([values[col] for col in kind.columns])
    return rows


def export_account(
    session: Session,
    account_id: uuid.UUID,
    target: Path,
    *,
    as_zip: bool,
    now: Callable[[], datetime] = datetime.now,
) -> ExportCounts:
    """One account's whole history into the folder ``target`` (made if missing) or the zip file
    ``target``. The account's people are its live contacts; their notes, commitments... count
    wherever they were filed (under the person or the account)."""
    account = session.get(Account, account_id)
    if account is None or account.deleted_at is not None:
        raise errors.NotFoundError(
            "That account no longer exists (it was deleted, perhaps on another laptop)."
        )
    people_rows = contacts_for_export(session, account_id=account_id)
    people = {c.id: c.name for c in people_rows}
    files: dict[str, str] = {
        "account.csv": _csv_text(
            ("id", "name", "address", "segment", "tier", "about", "created_at", "updated_at"),
            [
                [
                    account.id,
                    account.name,
                    account.address,
                    account.segment,
                    account.tier,
                    account.about,
                    account.created_at,
                    account.updated_at,
                ]
            ],
        ),
        "contacts.vcf": vcard_text(people_rows),
        "contacts.csv": contacts_csv(people_rows),
    }
    counts = {"contacts": len(people_rows)}
    listing = []
    for kind in HISTORY:
        rows = _history_rows(session, kind, account_id, people)
        files[kind.file] = _csv_text(kind.columns, rows)
        counts[kind.file.removesuffix(".csv")] = len(rows)
        listing.append(f"- {kind.file}: {_DESCRIBE[kind.file]} ({len(rows):,}).")
    files["README.txt"] = README.format(
        account=account.name, when=now().strftime("%d %B %Y, %H:%M"), listing="\n".join(listing)
    )
    written: list[Path] = []
    try:
        if as_zip:
            with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as z:
                folder = safe_name(account.name)
                for name, text in files.items():
                    data = text.encode("utf-8-sig" if name.endswith(".csv") else "utf-8")
                    z.writestr(f"{folder}/{name}", data)
            written.append(target)
        else:
            target.mkdir(parents=True, exist_ok=True)
            for name, text in files.items():
                _write(target / name, text)
                written.append(target / name)
    except OSError as exc:
        raise errors.RapportError(f"{target} could not be written ({exc.strerror or exc}).") from exc
    return ExportCounts(tuple(written), counts)


def safe_name(name: str) -> str:
    """A file or folder name from an account's name, on every system."""
    cleaned = "".join(ch if ch.isalnum() or ch in " -_.,&()" else "_" for ch in name).strip(" .")
    return cleaned[:80] or "account"
