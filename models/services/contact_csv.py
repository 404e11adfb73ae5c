"""Contacts from CSV: Rapport's own export, Google Contacts' and Outlook's, and any other table
once the rep has said which column is which (remembered per set of headers, in ``meta``).

A mapping gives each column a field of :data:`FIELDS` (or ``""``: left out). Rapport's, Google's
and Outlook's columns are known by name, so their files need no mapping step.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from models.entities import Meta
from models.errors import Cancelled
from models.services.card import CardData, ImportRefused, Skipped, name_from_parts, parse_when
from models.services.export import CONTACT_COLUMNS, LIST_SEPARATOR

# What a column can be, and how the mapping step names it.
FIELDS: dict[str, str] = {
    "": "(leave out)",
    "name": "Full name",
    "prefix": "Name prefix",
    "first_name": "First name",
    "middle_name": "Middle name",
    "last_name": "Last name",
    "suffix": "Name suffix",
    "nickname": "Nickname",
    "organization": "Company (account)",
    "department": "Department",
    "role": "Job title (role)",
    "email": "Email",
    "phone": "Phone",
    "address": "Address",
    "street": "Street",
    "city": "City",
    "region": "State / region",
    "postcode": "Postal code",
    "country": "Country",
    "birthday": "Birthday",
    "anniversary": "Anniversary",
    "personal_dates": "Personal dates (Label: YYYY-MM-DD; …)",
    "tags": "Tags",
    "about": "Notes (About)",
    "kind": "Kind (customer, partner…)",
    "preferences": "Preferences",
    "needs": "Needs and pain points",
    "cadence_days": "Check in every (days)",
}
RAPPORT = "Rapport"
MAX_FIELD = 10 * 1024 * 1024  # one cell: a long note, never a whole file
_MAPPING_KEY = "import.csv_mapping."


@dataclass(frozen=True)
class CsvTable:
    headers: tuple[str, ...]
    rows: tuple[tuple[int, tuple[str, ...]], ...]  # (line number, cells)
    delimiter: str


def _delimiter(text: str) -> str:
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def read_table(
    text: str, progress: Callable[[int, int], None] | None = None, cancel: threading.Event | None = None
) -> CsvTable:
    """The header row and the data rows (with the line each starts on); empty rows are dropped."""
    delimiter = _delimiter(text)
    csv.field_size_limit(MAX_FIELD)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    headers: tuple[str, ...] | None = None
    rows: list[tuple[int, tuple[str, ...]]] = []
    total = text.count("\n") + 1
    start = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise ImportRefused(
                f"Line {start} of the CSV file cannot be read ({exc}); if it is the last line, the file "
                "looks cut short. Nothing was imported."
            ) from exc
        here, start = start, reader.line_num + 1
        if not any(c.strip() for c in cells):
            continue
        if headers is None:
            headers = tuple(c.strip() for c in cells)
            continue
        rows.append((here, tuple(cells)))
        if len(rows) % 500 == 0:
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            if progress is not None:
                progress(here, total)
    if headers is None:
        raise ImportRefused("The CSV file holds no rows. Nothing was imported.")
    if not rows:
        raise ImportRefused("The CSV file has a header row but no contacts under it. Nothing was imported.")
    return CsvTable(headers, tuple(rows), delimiter)


# -- known formats ---------------------------------------------------------------------------

# File › Export's columns (``models.services.export.CONTACT_COLUMNS``): each is a field of its
# own; the id and the times are the exporting database's, not the contact's.
_RAPPORT = {"account": "organization", "emails": "email", "phones": "phone"}
_NOT_IMPORTED = ("id", "created_at", "updated_at")

_GOOGLE: list[tuple[str, str]] = [
    (r"name", "name"),
    (r"(given|first) name", "first_name"),
    (r"(additional|middle) name", "middle_name"),
    (r"(family|last) name", "last_name"),
    (r"name prefix", "prefix"),
    (r"name suffix", "suffix"),
    (r"nickname", "nickname"),
    (r"organization( 1 -)? name", "organization"),
    (r"organization( 1 -)? title", "role"),
    (r"organization( 1 -)? department", "department"),
    (r"birthday", "birthday"),
    (r"notes", "about"),
    (r"group membership|labels", "tags"),
    (r"e-mail \d+ - value", "email"),
    (r"phone \d+ - value", "phone"),
    (r"address \d+ - formatted", "address"),
]
_OUTLOOK: list[tuple[str, str]] = [
    (r"title", "prefix"),
    (r"first name", "first_name"),
    (r"middle name", "middle_name"),
    (r"last name", "last_name"),
    (r"suffix", "suffix"),
    (r"nickname", "nickname"),
    (r"company", "organization"),
    (r"department", "department"),
    (r"job title", "role"),
    (r"e-mail( \d)? address", "email"),
    (r"(business|home|mobile|primary|other|car|company main|assistant's|radio) phone( \d)?", "phone"),
    (r"business street( \d)?", "street"),
    (r"business city", "city"),
    (r"business state", "region"),
    (r"business postal code", "postcode"),
    (r"business country(/region)?", "country"),
    (r"birthday", "birthday"),
    (r"anniversary", "anniversary"),
    (r"categories", "tags"),
    (r"notes", "about"),
]
# A guess for any other table, which the rep checks in the mapping step.
_GUESS: list[tuple[str, str]] = [
    (r"(full )?name|contact( name)?|display name", "name"),
    (r"(first|given|fore) ?name|vorname|pr[ée]nom", "first_name"),
    (r"(last|family|sur) ?name|nachname|nom", "last_name"),
    (r".*e-?mail.*|courriel", "email"),
    (r".*(phone|mobile|cell|tel|telefon|handy|portable).*", "phone"),
    (r"company|organi[sz]ation|account|firma|soci[ée]t[ée]|employer", "organization"),
    (r"(job )?title|position|role|funktion", "role"),
    (r"department|abteilung", "department"),
    (r"address|adresse|anschrift", "address"),
    (r"street|stra(ss|ß)e|rue", "street"),
    (r"city|town|ort|stadt|ville", "city"),
    (r"(zip|post(al)?) ?code|plz|code postal", "postcode"),
    (r"state|region|county|province", "region"),
    (r"country|land|pays", "country"),
    (r"birthday|date of birth|dob|geburtstag|anniversaire", "birthday"),
    (r"notes?|comments?|remarks?|bemerkung(en)?|notizen", "about"),
    (r"tags?|categories|labels|groups?|kategorien", "tags"),
]


def _match(headers: Sequence[str], rules: list[tuple[str, str]]) -> list[str]:
    compiled = [(re.compile(f"^(?:{pattern})$", re.IGNORECASE), name) for pattern, name in rules]
    return [next((name for rx, name in compiled if rx.match(h.strip())), "") for h in headers]


def known_format(headers: Sequence[str]) -> tuple[str, list[str]] | None:
    """("Rapport" | "Google Contacts" | "Outlook", mapping) when the headers are one of those
    exports'."""
    if [h.strip().casefold() for h in headers] == list(CONTACT_COLUMNS):
        return RAPPORT, ["" if c in _NOT_IMPORTED else _RAPPORT.get(c, c) for c in CONTACT_COLUMNS]
    folded = {h.strip().casefold() for h in headers}
    if any(re.fullmatch(r"e-mail \d+ - value|phone \d+ - value", h) for h in folded):
        return "Google Contacts", _match(headers, _GOOGLE)
    if {"first name", "last name"} <= folded and ("e-mail address" in folded or "business phone" in folded):
        return "Outlook", _match(headers, _OUTLOOK)
    return None


def guess_mapping(headers: Sequence[str]) -> list[str]:
    return _match(headers, _GUESS)


def _mapping_key(headers: Sequence[str]) -> str:
    digest = hashlib.sha1(json.dumps([h.strip().casefold() for h in headers]).encode()).hexdigest()
    return _MAPPING_KEY + digest[:20]


def remembered_mapping(session: Session, headers: Sequence[str]) -> list[str] | None:
    row = session.get(Meta, _mapping_key(headers))
    if row is None or len(row.value.get("fields", [])) != len(headers):
        return None
    return [f if f in FIELDS else "" for f in row.value["fields"]]


def remember_mapping(session: Session, headers: Sequence[str], mapping: Sequence[str]) -> None:
    key = _mapping_key(headers)
    value = {"headers": list(headers), "fields": list(mapping)}
    row = session.get(Meta, key)
    if row is None:
        session.add(Meta(key=key, value=value))
    else:
        row.value = value


def check_mapping(mapping: Sequence[str]) -> str:
    """Why a mapping cannot import anything, or ''."""
    chosen = set(mapping)
    if not chosen & {"name", "first_name", "last_name", "nickname", "organization", "email", "phone"}:
        return "Choose at least one column with a name, a company, an email or a phone."
    return ""


# -- rows to cards ---------------------------------------------------------------------------

_GOOGLE_SEP = " ::: "
_SKIP_LABELS = {"* mycontacts", "* starred", "mycontacts", "starred"}


def _split(value: str, lists: str | None) -> list[str]:
    sep = lists or _GOOGLE_SEP
    parts = value.split(sep) if sep in value else [value]
    return [p.strip() for p in parts if p.strip()]


def _tags(value: str, lists: str | None) -> list[str]:
    if lists:  # Rapport's own: a tag may hold a comma ("bio, organic")
        return _split(value, lists)
    parts = _split(value, None) if _GOOGLE_SEP in value else re.split(r"[;,]", value)
    return [
        p.strip().removeprefix("* ") for p in parts if p.strip() and p.strip().casefold() not in _SKIP_LABELS
    ]


def _personal_dates(card: CardData, value: str) -> None:
    """Rapport's "Label: YYYY-MM-DD; Label: YYYY-MM-DD". A label may hold "; " itself ("Start;
    first order: 2015-09-01"): a piece without ": " begins the next one's label."""
    pending = ""
    for piece in value.split(LIST_SEPARATOR):
        text = f"{pending}{LIST_SEPARATOR}{piece}" if pending else piece
        if ": " not in text:
            pending = text
            continue
        pending = ""
        label, _, raw = text.rpartition(": ")
        try:
            when = parse_when(raw)
        except ValueError:
            when = None
        if when is None:
            card.warnings.append(f"personal date “{text.strip()}” left out: not a date")
        elif not label.strip():
            card.warnings.append(f"personal date “{text.strip()}” left out: it has no label")
        else:
            card.personal_dates.append((label.strip(), when))
    if pending.strip():
        card.warnings.append(f"personal date “{pending.strip()}” left out: not “Label: YYYY-MM-DD”")


def card_from_row(
    line: int, cells: Sequence[str], mapping: Sequence[str], lists: str | None = None
) -> CardData | Skipped:
    """One row as a card. ``lists`` separates several emails, phones or tags in one cell
    (Rapport's own "; "); otherwise Google's " ::: " does, and tags split on commas too."""
    card = CardData(where=f"line {line}")
    got: dict[str, list[str]] = {}
    for value, name in zip(cells, mapping, strict=False):
        if name and value.strip():
            got.setdefault(name, []).append(value.strip())

    def one(name: str) -> str:
        return " ".join(got.get(name, []))

    card.name = one("name") or name_from_parts(
        one("prefix"), one("first_name"), one("middle_name"), one("last_name"), one("suffix")
    )
    card.organization = (got.get("organization") or [""])[0]
    card.role = ", ".join(p for p in (one("role"), one("department")) if p)
    for value in got.get("email", []):
        card.emails.extend(
            e for e in _split(value, lists) if e.casefold() not in (x.casefold() for x in card.emails)
        )
    for value in got.get("phone", []):
        card.phones.extend(p for p in _split(value, lists) if p not in card.phones)
    address = (got.get("address") or [""])[0]
    if not address:
        place = " ".join(p for p in (one("postcode"), one("city")) if p)
        lines = [*got.get("street", []), ", ".join(p for p in (place, one("region")) if p), one("country")]
        address = "\n".join(p for p in lines if p)
    card.address = address
    for name, label in (("birthday", ""), ("anniversary", "Anniversary")):
        text = (got.get(name) or [""])[0]
        try:
            when = parse_when(text)
        except ValueError:
            card.warnings.append(f"{name} “{text}” left out: not a date")
            continue
        if when is not None and label:
            card.personal_dates.append((label, when))
        elif when is not None:
            card.birthday = when
    for value in got.get("personal_dates", []):
        _personal_dates(card, value)
    for value in got.get("tags", []):
        card.tags.extend(t for t in _tags(value, lists) if t not in card.tags)
    card.about = "\n\n".join(got.get("about", []))
    card.preferences = "\n\n".join(got.get("preferences", []))
    card.needs = "\n\n".join(got.get("needs", []))
    card.kind = one("kind")
    card.cadence_days = one("cadence_days")
    if not card.name:
        card.name = one("nickname") or card.organization or (card.emails or card.phones or [""])[0]
    if not card.name:
        return Skipped(card.where, "it has no name, email or phone")
    return card


def cards_from_table(
    table: CsvTable, mapping: Sequence[str], lists: str | None = None
) -> tuple[list[CardData], list[Skipped]]:
    cards: list[CardData] = []
    skipped: list[Skipped] = []
    for line, cells in table.rows:
        got = card_from_row(line, cells, mapping, lists)
        (skipped if isinstance(got, Skipped) else cards).append(got)  # type: ignore[arg-type]
    return cards, skipped
