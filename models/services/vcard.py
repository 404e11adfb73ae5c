"""vCard (2.1, 3.0, 4.0) -> contact fields: the one place that says which property is which field.

Reading: the file is cut into cards here (so a message can name the card and its line, and a
cut-short file is refused whole), each card's lines are unfolded here (vobject does not join
2.1's quoted-printable soft line breaks), and each content line is parsed by vobject's line
grammar (``vobject.base.parseLine``: groups, parameters, quoting). vobject's full object model
(``readComponents``) costs about 1.3 ms a card on the bench machine, 13 s for 10,000 cards
against a 10 s target for the whole import; the line grammar alone is a tenth of that.

The mapping (File › Export, ``models.services.export.contact_vcard``, writes it the same way, so
Rapport's own export imports back whole):

=============================  ===============================================================
vCard                          contact
=============================  ===============================================================
FN, else N, NICKNAME, ORG      name (N as prefix given additional family suffix)
ORG (first unit)               account (matched by name, else a new account)
TITLE (else ROLE), ORG units   role ("Buyer, Sales / EMEA")
EMAIL, TEL (preferred first)   emails, phones (normalized; types are not kept)
ADR (preferred first), LABEL   address (ADR's LABEL parameter as is, else street, then locality
                               region code, then country)
BDAY                           birthday (``--MMDD``: year :data:`models.services.card.NO_YEAR`)
ANNIVERSARY, X-ABDATE, ...     personal dates (the label from X-ABLabel, else "Anniversary")
NOTE                           about
CATEGORIES                     tags
X-RAPPORT-KIND, -PREFERENCES,  kind, preferences, needs, check-in cadence (Rapport's own; checked
-NEEDS, -CADENCE-DAYS          as the contact form checks them when the import cleans the card)
PHOTO, LOGO, SOUND, KEY        left out (photos are not stored)
=============================  ===============================================================
"""

from __future__ import annotations

import base64
import binascii
import quopri
import re
import threading
from collections.abc import Callable, Iterator
from datetime import date

from vobject.base import ParseError, parseLine

from models.errors import Cancelled
from models.services.card import NO_YEAR, CardData, ImportRefused, Skipped, name_from_parts, parse_when

Progress = Callable[[int, int], None]  # (done, total), in lines of the file
_BINARY = ("PHOTO", "LOGO", "SOUND", "KEY")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_APPLE_LABEL = re.compile(r"^_\$!<(.*)>!\$_$")
_DATE_PROPS = {"ANNIVERSARY": "Anniversary", "X-ANNIVERSARY": "Anniversary", "X-ABDATE": "Anniversary"}
# Google's own groups, in every contact it exports: not the rep's tags.
_GOOGLE_GROUPS = {"mycontacts", "starred"}
_UNESCAPE = re.compile(r"\\(.)", re.DOTALL)
# RFC 6868: how a parameter value carries a double quote (^'), a line break (^n) and a caret (^^).
_CARET = re.compile(r"\^([\^nN'])")
_CARETS = {"^": "^", "n": "\n", "N": "\n", "'": '"'}


def _unescape_char(m: re.Match[str]) -> str:
    c = m.group(1)
    return "\n" if c in "nN" else c


def unescape(text: str) -> str:
    return _UNESCAPE.sub(_unescape_char, text) if "\\" in text else text


def split_structured(text: str, sep: str = ";") -> list[str]:
    """Split a structured value (N, ADR, ORG) on separators that are not escaped, then unescape."""
    if "\\" not in text:
        return text.split(sep)
    parts, current, escaped = [], [], False
    for ch in text:
        if escaped:
            current.append("\\" + ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == sep:
            parts.append(unescape("".join(current)))
            current = []
        else:
            current.append(ch)
    parts.append(unescape("".join(current)))
    return parts


class _Line:
    __slots__ = ("group", "name", "number", "params", "value")

    def __init__(self, number: int, group: str, name: str, params: dict[str, list[str]], value: str) -> None:
        self.number, self.group, self.name, self.params, self.value = number, group, name, params, value

    @property
    def types(self) -> list[str]:
        return self.params.get("TYPE", [])

    @property
    def preferred(self) -> bool:
        return "PREF" in self.types or "PREF" in self.params


def _uncaret(value: str) -> str:
    return _CARET.sub(lambda m: _CARETS[m.group(1)], value) if "^" in value else value


def _params(raw: list[list[str]]) -> dict[str, list[str]]:
    """Parameters by name. vobject's line grammar has already split an unquoted list
    (``TYPE=work,voice``) and kept a quoted value whole: ``LABEL="12 Rue X, 75001 Paris"`` is
    one address, never cut at its commas. Only TYPE is split again, for the writers that quote a
    list of types (``TYPE="work,voice"``)."""
    out: dict[str, list[str]] = {}
    for item in raw:
        if len(item) == 1:  # 2.1's bare parameters: TEL;CELL;PREF
            key, values = "TYPE", [item[0]]
        else:
            key, values = item[0].upper(), item[1:]
        bucket = out.setdefault(key, [])
        if key == "TYPE":
            bucket.extend(p.strip().upper() for v in values for p in v.split(","))
        else:
            bucket.extend(_uncaret(v).strip() for v in values)
    return out


def _decode(line: _Line) -> str:
    """The value as text: quoted-printable or base64 undone, in the CHARSET it declares."""
    encoding = (line.params.get("ENCODING") or [""])[0].upper()
    if encoding not in ("QUOTED-PRINTABLE", "B", "BASE64"):
        return line.value
    charset = (line.params.get("CHARSET") or ["utf-8"])[0]
    if encoding == "QUOTED-PRINTABLE":
        raw = quopri.decodestring(line.value.encode("utf-8"))
    else:
        try:
            raw = base64.b64decode(line.value, validate=False)
        except (binascii.Error, ValueError):
            return ""
    try:
        text = raw.decode(charset)
    except (LookupError, UnicodeDecodeError):
        text = raw.decode("latin-1")  # a 2.1 phone's 8-bit text without a usable CHARSET
    return text.replace("\r\n", "\n")  # quoted-printable line breaks are CRLF


def _logical_lines(lines: list[str], first: int) -> Iterator[tuple[int, str]]:
    """(line number, unfolded line) for one card's physical lines. A line that starts with a
    space or tab continues the previous one; a quoted-printable line ending in ``=`` continues
    on the next line whatever it starts with (2.1's soft line break)."""
    parts: list[str] = []
    start = first
    qp = skip = False
    for offset, line in enumerate(lines):
        if parts and (qp and parts[-1].endswith("=")):
            parts[-1] = parts[-1][:-1]
            if not skip:
                parts.append(line)
            continue
        if parts and line[:1] in (" ", "\t"):
            if not skip:
                parts.append(line[1:])
            continue
        if parts:
            yield start, "".join(parts)
        start, parts = first + offset, [line]
        head = line.split(":", 1)[0].upper()
        qp = "QUOTED-PRINTABLE" in head
        name = head.split(";", 1)[0].rsplit(".", 1)[-1]
        # Inline photos are most of a big export's bytes: never joined, never parsed.
        skip = name in _BINARY
        if skip:
            parts = [line.split(":", 1)[0] + ":"]
    if parts:
        yield start, "".join(parts)


def _parse_card(where: str, lines: list[str], first: int) -> CardData | Skipped:
    props: list[_Line] = []
    labels: dict[str, str] = {}
    for number, text in _logical_lines(lines, first):
        if not text.strip():
            continue
        try:
            name, params, value, group = parseLine(text, number)
        except ParseError:
            shown = text if len(text) <= 60 else text[:57] + "…"
            return Skipped(where, f"line {number} cannot be read (“{shown}”)")
        line = _Line(number, (group or "").upper(), name.upper(), _params(params), value)
        if line.name in _BINARY:
            continue
        line.value = _decode(line)
        if line.name == "X-ABLABEL" and line.group:
            m = _APPLE_LABEL.match(line.value.strip())
            labels[line.group] = (m.group(1) if m else unescape(line.value)).strip()
            continue
        props.append(line)
    return _card_from(where, props, labels)


def _sorted_pref(lines: list[_Line]) -> list[_Line]:
    return sorted(lines, key=lambda ln: not ln.preferred)


def _card_from(where: str, props: list[_Line], labels: dict[str, str]) -> CardData | Skipped:
    card = CardData(where=where)
    by_name: dict[str, list[_Line]] = {}
    for p in props:
        by_name.setdefault(p.name, []).append(p)

    def first(name: str) -> str:
        found = by_name.get(name)
        return unescape(found[0].value).strip() if found else ""

    card.name = first("FN")
    if not card.name and "N" in by_name:
        family, given, additional, prefix, suffix = (split_structured(by_name["N"][0].value) + [""] * 5)[:5]
        card.name = name_from_parts(prefix, given, additional, family, suffix)
    units: list[str] = []
    if "ORG" in by_name:
        org = [u.strip() for u in split_structured(by_name["ORG"][0].value)]
        card.organization, units = org[0], [u for u in org[1:] if u]
    title = first("TITLE") or first("ROLE")
    card.role = ", ".join(p for p in (title, " / ".join(units)) if p)
    for ln in _sorted_pref(by_name.get("EMAIL", [])):
        email = unescape(ln.value).strip().removeprefix("mailto:")
        if email and email.casefold() not in (e.casefold() for e in card.emails):
            card.emails.append(email)
    for ln in _sorted_pref(by_name.get("TEL", [])):
        phone = unescape(ln.value).strip().removeprefix("tel:")
        if phone and phone not in card.phones:
            card.phones.append(phone)
    card.address = _address(by_name)
    if "BDAY" in by_name:
        card.birthday = _date(card, by_name["BDAY"][0], "birthday")
    for name, default_label in _DATE_PROPS.items():
        for ln in by_name.get(name, []):
            when = _date(card, ln, default_label.lower())
            if when is not None:
                card.personal_dates.append((labels.get(ln.group, default_label) or default_label, when))
    card.about = "\n\n".join(unescape(ln.value).strip() for ln in by_name.get("NOTE", []) if ln.value.strip())
    card.kind = first("X-RAPPORT-KIND")
    card.preferences = first("X-RAPPORT-PREFERENCES")
    card.needs = first("X-RAPPORT-NEEDS")
    card.cadence_days = first("X-RAPPORT-CADENCE-DAYS")
    for ln in by_name.get("CATEGORIES", []):
        for tag in split_structured(ln.value, ","):
            if tag.strip() and tag.strip() not in card.tags and tag.strip().casefold() not in _GOOGLE_GROUPS:
                card.tags.append(tag.strip())
    if not card.name:
        card.name = first("NICKNAME") or card.organization or (card.emails or card.phones or [""])[0]
    if not card.name:
        return Skipped(where, "it has no name, email or phone")
    return card


def _address(by_name: dict[str, list[_Line]]) -> str:
    for ln in _sorted_pref(by_name.get("ADR", [])):
        label = ln.params.get("LABEL")
        if label:  # 4.0: the address as it is printed (its line breaks written \n, as RFC 6350 does)
            return unescape(label[0]).strip()
        pobox, ext, street, locality, region, code, country = (split_structured(ln.value) + [""] * 7)[:7]
        place = " ".join(p for p in (code.strip(), locality.strip()) if p)
        lines = [
            street.strip(),
            ext.strip(),
            pobox.strip(),
            ", ".join(p for p in (place, region.strip()) if p),
        ]
        text = "\n".join(p for p in [*lines, country.strip()] if p)
        if text:
            return text
    labels = by_name.get("LABEL")
    return unescape(labels[0].value).strip() if labels else ""


def _date(card: CardData, line: _Line, what: str) -> date | None:
    value = unescape(line.value).strip()
    try:
        when = parse_when(value)
    except ValueError:
        card.warnings.append(f"{what} “{value}” left out: not a date")
        return None
    if when is not None and "X-APPLE-OMIT-YEAR" in line.params:
        when = when.replace(year=NO_YEAR)
    return when


def read_vcards(
    text: str, progress: Progress | None = None, cancel: threading.Event | None = None
) -> tuple[list[CardData], list[Skipped]]:
    """Every card of a vCard file: those read, and those skipped with the reason.

    Raises :class:`ImportRefused` (naming the line) for a file that is not vCard, has text
    outside any card, or ends inside a card (cut short); :class:`Cancelled` when ``cancel`` is set.
    """
    lines = _LINE_BREAK.split(text)
    total = len(lines)
    cards: list[CardData] = []
    skipped: list[Skipped] = []
    begin: int | None = None
    count = 0
    for i, raw in enumerate(lines):
        stripped = raw.strip()
        upper = stripped.upper()
        if begin is None:
            if not stripped:
                continue
            if upper != "BEGIN:VCARD":
                shown = stripped if len(stripped) <= 40 else stripped[:37] + "…"
                if count == 0:
                    raise ImportRefused(
                        f"This is not a vCard file: line {i + 1} reads “{shown}” where BEGIN:VCARD "
                        "was expected. Nothing was imported."
                    )
                raise ImportRefused(
                    f"Line {i + 1} (“{shown}”) is outside any card, after card {count}: the file is "
                    "damaged. Nothing was imported."
                )
            begin = i
            count += 1
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            if progress is not None and count % 200 == 0:
                progress(i, total)
        elif upper == "END:VCARD":
            where = f"card {count} (line {begin + 1})"
            parsed = _parse_card(where, lines[begin + 1 : i], begin + 2)
            (skipped if isinstance(parsed, Skipped) else cards).append(parsed)  # type: ignore[arg-type]
            begin = None
        elif upper == "BEGIN:VCARD":
            raise ImportRefused(
                f"Card {count} (from line {begin + 1}) has no END:VCARD before the next card starts on "
                f"line {i + 1}: the file is damaged. Nothing was imported."
            )
    if begin is not None:
        raise ImportRefused(
            f"The file ends in the middle of card {count} (begun on line {begin + 1}): it looks cut "
            "short. Export it again; nothing was imported."
        )
    if count == 0:
        raise ImportRefused("The file holds no cards. Nothing was imported.")
    return cards, skipped
