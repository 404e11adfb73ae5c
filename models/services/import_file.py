"""Reading a file to import: its bytes to text (or a clear refusal), then to cards.

Refused whole, with the line named: an empty file, one over :data:`MAX_BYTES`, binary data,
text that is not UTF-8 (for CSV, not Windows-1252 either: Excel and Outlook on Windows write
that), a vCard cut short or with text outside its cards, a CSV with an unclosed quote.
"""

from __future__ import annotations

import codecs
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from models.services import contact_csv
from models.services.card import CardData, ImportRefused, Skipped
from models.services.export import LIST_SEPARATOR
from models.services.vcard import read_vcards

MAX_BYTES = 100 * 1024 * 1024
VCARD_SUFFIXES = (".vcf", ".vcard")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class SourceFile:
    name: str
    kind: str  # "vcard" | "csv"
    text: str


@dataclass
class Prepared:
    """A file read into cards, or (``needs_mapping``) a CSV waiting for the rep's mapping."""

    source: SourceFile
    format: str  # "vCard", "Rapport", "Google Contacts", "Outlook", "CSV"
    cards: list[CardData] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    table: contact_csv.CsvTable | None = None
    mapping: list[str] | None = None
    needs_mapping: bool = False


def _line_of(data: bytes | str, offset: int) -> int:
    return (data.count(b"\n", 0, offset) if isinstance(data, bytes) else data.count("\n", 0, offset)) + 1


def decode(data: bytes, kind: str) -> str:
    """The file's text; :class:`ImportRefused` naming the line where it stops being text."""
    if not data.strip():
        raise ImportRefused("The file is empty. Nothing was imported.")
    for bom, codec in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(codec)
            except UnicodeDecodeError as exc:
                line = _line_of(data[len(bom) : len(bom) + exc.start].decode(codec, "ignore"), exc.start)
                raise ImportRefused(f"Line {line} is not valid UTF-16 text. Nothing was imported.") from exc
            return _checked(text)
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = _line_of(data, exc.start)
        if kind != "csv":
            nul = data.find(b"\x00")
            if nul != -1:
                raise _binary(_line_of(data, nul)) from exc
            raise ImportRefused(
                f"Line {line} is not UTF-8 text (byte {data[exc.start]:#04x}): the file was saved in "
                "another encoding. Export it again as a UTF-8 vCard. Nothing was imported."
            ) from exc
        try:
            text = data.decode("cp1252")  # Excel's and Outlook's CSV on Windows
        except UnicodeDecodeError as exc2:
            raise ImportRefused(
                f"Line {_line_of(data, exc2.start)} is neither UTF-8 nor Windows-1252 text: the file is in "
                "an encoding Rapport does not read. Save it again as CSV UTF-8. Nothing was imported."
            ) from exc2
    return _checked(text)


def _binary(line: int) -> ImportRefused:
    return ImportRefused(
        f"This is not a text file: line {line} holds binary data. Choose a vCard (.vcf) or CSV "
        "file. Nothing was imported."
    )


def _checked(text: str) -> str:
    if m := _CONTROL.search(text):
        raise _binary(_line_of(text, m.start()))
    return text


def read_source(path: Path) -> SourceFile:
    """The file's text and what kind of contacts file it is."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ImportRefused(
                f"{path.name} is {size / 1024 / 1024:,.0f} MB; Rapport imports files of up to "
                f"{MAX_BYTES // 1024 // 1024} MB. Export your contacts in smaller parts. "
                "Nothing was imported."
            )
        data = path.read_bytes()
    except OSError as exc:
        raise ImportRefused(f"{path} cannot be read ({exc.strerror or exc}). Nothing was imported.") from exc
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").upper()
    kind = "vcard" if path.suffix.lower() in VCARD_SUFFIXES or head.startswith(b"BEGIN:VCARD") else "csv"
    return SourceFile(path.name, kind, decode(data, kind))


def prepare(
    source: SourceFile,
    session: Session | None,
    mapping: Sequence[str] | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> Prepared:
    """The file's cards. A CSV in none of Rapport's, Google's or Outlook's formats takes ``mapping``, else
    the one remembered for its headers (``session``), else it comes back ``needs_mapping`` with
    a guessed mapping for the rep to check."""
    if source.kind == "vcard":
        cards, skipped = read_vcards(source.text, progress, cancel)
        return Prepared(source, "vCard", cards, skipped)
    table = contact_csv.read_table(source.text, progress, cancel)
    known = contact_csv.known_format(table.headers)
    if mapping is not None:
        fmt, chosen = "CSV", list(mapping)
    elif known is not None:
        fmt, chosen = known
    else:
        remembered = contact_csv.remembered_mapping(session, table.headers) if session is not None else None
        if remembered is None:
            return Prepared(
                source,
                "CSV",
                table=table,
                mapping=contact_csv.guess_mapping(table.headers),
                needs_mapping=True,
            )
        fmt, chosen = "CSV", remembered
    if len(chosen) != len(table.headers):
        raise ImportRefused(
            f"The column mapping names {len(chosen)} columns but the file has {len(table.headers)}. "
            "Nothing was imported."
        )
    if why := contact_csv.check_mapping(chosen):
        raise ImportRefused(why)
    # Rapport's own export separates the items of a list cell with "; " (a tag may hold a comma).
    lists = LIST_SEPARATOR if fmt == contact_csv.RAPPORT else None
    cards, skipped = contact_csv.cards_from_table(table, chosen, lists)
    return Prepared(source, fmt, cards, skipped, table=table, mapping=chosen)
