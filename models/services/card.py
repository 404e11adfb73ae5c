"""What an import reads from one card or CSV row, before it is matched against the database.

Shared by the vCard reader (``models.services.vcard``), the CSV reader
(``models.services.contact_csv``) and the import itself (``models.services.importing``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from models.errors import RapportError

# A birthday without a year (vCard ``BDAY:--0415``, Google's ``--04-15``) is stored with this
# year: ``Contact.birthday`` is a date, and the app already treats an implausible year as "no
# age" (the briefing sheet shows "Birthday" rather than "turns 422"; the contact page shows day
# and month only). 1604 is a leap year, so 29 February fits, and it is Apple Contacts' own
# placeholder (``X-APPLE-OMIT-YEAR=1604``), which the export writes back as ``--MMDD``.
NO_YEAR = 1604


class ImportRefused(RapportError):
    """A file the import will not take at all (empty, binary, cut short, wrong encoding...).

    Nothing of it is imported; the message names the line or card where the problem is."""

    title = "Cannot import this file"


@dataclass
class CardData:
    """One person as a file describes them, with values as found (phones not yet normalized)."""

    where: str  # "card 3 (line 41)" or "line 12": how the preview and its messages name it
    name: str = ""
    organization: str = ""  # becomes the contact's account
    role: str = ""
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    address: str = ""
    birthday: date | None = None
    personal_dates: list[tuple[str, date]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    about: str = ""
    # Rapport's own fields (its export's X-RAPPORT-* properties and CSV columns), as written:
    # the import checks them as the contact form does.
    kind: str = ""
    preferences: str = ""
    needs: str = ""
    cadence_days: str = ""
    # Values left out, for the preview ("phone “12” left out: not a phone number").
    warnings: list[str] = field(default_factory=list)
    # The import's cleaned values and warnings, by phone region: the preview and the import
    # itself clean each card once (normalizing phones is most of the cost).
    cleaned: dict[str | None, tuple[dict[str, Any], list[str]]] = field(default_factory=dict, repr=False)
    problem: str | None = field(default=None, repr=False)  # why it cannot be saved ("" if it can)


@dataclass(frozen=True)
class Skipped:
    where: str
    why: str


def name_from_parts(*parts: str) -> str:
    return " ".join(p.strip() for p in parts if p and p.strip())


_ISO = re.compile(r"^(\d{4})-?(\d{2})-?(\d{2})(?:[T ].*)?$")
_NO_YEAR = re.compile(r"^--(\d{2})-?(\d{2})$")
_SLASHED = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})$")
_DOTTED = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{2}|\d{4})$")


def parse_when(text: str) -> date | None:
    """A date as contact files write it, or ``None`` if there is none; ``ValueError`` if it is
    not a date.

    ``1980-04-15``, ``19800415`` and ``1980-04-15T00:00:00Z`` (vCard 3/4, Google); ``--0415`` and
    ``--04-15`` without a year (stored in :data:`NO_YEAR`); ``4/15/1980`` (Outlook: month first,
    unless the first number cannot be a month); ``15.04.1980`` (day first, as German and French
    Outlook write it). Outlook's ``0/0/00`` means none.
    """
    text = text.strip()
    if not text or text in ("0/0/00", "0/0/0000", "0.0.00"):
        return None
    if m := _ISO.match(text):
        year, month, day = int(m[1]), int(m[2]), int(m[3])
    elif m := _NO_YEAR.match(text):
        year, month, day = NO_YEAR, int(m[1]), int(m[2])
    elif m := _SLASHED.match(text):
        month, day, year = int(m[1]), int(m[2]), _full_year(m[3])
        if month > 12 >= day:
            month, day = day, month
    elif m := _DOTTED.match(text):
        day, month, year = int(m[1]), int(m[2]), _full_year(m[3])
    else:
        raise ValueError(f"“{text}” is not a date")
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"“{text}” is not a date") from None


def _full_year(text: str) -> int:
    year = int(text)
    if len(text) == 2:
        # Two-digit years in a birthday: the last century unless that is in the future.
        year += 2000 if year <= date.today().year % 100 else 1900
    return year
