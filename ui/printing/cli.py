"""``main.py brief``: briefing sheets to PDF from the command line (headless)."""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime
from pathlib import Path

from models import errors
from models.paths import default_db_path
from models.services.briefing import BriefingSheet, contact_sheet, day_sheets, resolve_reference, visit_sheet
from models.services.contacts import find_contacts

MAX_CANDIDATES = 10


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "brief",
        help="write briefing sheets to a PDF: one contact, or every visit of a day",
        description="Write briefing sheets to a PDF: one contact, or one sheet per visit of a day.",
    )
    parser.add_argument("--db", type=Path, default=default_db_path())
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--contact", metavar="NAME_OR_ID", help="a name, an id, or a sheet's reference code")
    what.add_argument("--day", metavar="YYYY-MM-DD", help="every visit of that day ('today' works too)")
    parser.add_argument("--out", type=Path, required=True, metavar="FILE.pdf")
    parser.add_argument("--paper", choices=["A4", "Letter"], help="default: from the locale")
    parser.set_defaults(func=run_brief)


def ensure_gui_application() -> object:
    """A QGuiApplication for text layout; offscreen when there is no display (servers, CI)."""
    from PySide6.QtGui import QGuiApplication

    from ui.headless import offscreen_without_display

    app = QGuiApplication.instance()
    if app is None:
        offscreen_without_display()
        app = QGuiApplication(sys.argv[:1])
    return app


def parse_day(text: str) -> date:
    if text.strip().lower() == "today":
        return datetime.now().astimezone().date()
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise errors.ValidationError({"day": f"“{text}” is not a date (use YYYY-MM-DD)"}) from None


def gather(db: object, *, contact: str | None = None, day: date | None = None) -> list[BriefingSheet]:
    """The sheets the command asks for, or a rep-readable error (nothing found, ambiguous)."""
    from models.db import Database

    assert isinstance(db, Database)
    with db.read() as s:
        if day is not None:
            sheets = day_sheets(s, day)
            if not sheets:
                raise errors.NotFoundError(f"There are no visits planned on {day:%A %d %B %Y} ({day}).")
            return sheets
        assert contact is not None
        text = contact.strip()
        if not text:
            raise errors.ValidationError({"contact": "Give a name, an id or a reference code"})
        if text[:2].upper() in ("C-", "V-"):
            try:
                kind, row_id = resolve_reference(s, text)
            except errors.NotFoundError:
                pass  # maybe a name that happens to start like a code
            else:
                return [contact_sheet(s, row_id) if kind == "contact" else visit_sheet(s, row_id)]
        found = find_contacts(s, text, limit=MAX_CANDIDATES + 1)
        if not found:
            raise errors.NotFoundError(f"No contact matches “{text}”.")
        if len(found) > 1:
            lines = [
                f"  {r.name}" + (f" ({r.account_name})" if r.account_name else "") + f"  id {r.id}"
                for r in found[:MAX_CANDIDATES]
            ]
            more = "\n  …and more" if len(found) > MAX_CANDIDATES else ""
            raise errors.AmbiguousError(
                f"“{text}” matches more than one contact; use the full name or the id:\n"
                + "\n".join(lines)
                + more
            )
        return [contact_sheet(s, found[0].id)]


def run_brief(args: argparse.Namespace) -> int:
    from models.db import open_database

    if not Path(args.db).exists():
        raise errors.DatabaseError(f"There is no database at {args.db}.")
    if not Path(args.out).resolve().parent.is_dir():
        raise errors.RapportError(
            f"Cannot write {args.out}: the folder {Path(args.out).parent} does not exist."
        )
    day = parse_day(args.day) if args.day else None
    db = open_database(args.db)
    try:
        sheets = gather(db, contact=args.contact, day=day)
    finally:
        db.close()
    ensure_gui_application()
    from ui.printing.fonts import font_warning
    from ui.printing.render import write_pdf

    missing: list[set[str]] = []
    try:
        pages = write_pdf(sheets, args.out, paper=args.paper, missing=missing)
    except OSError as exc:
        raise errors.RapportError(f"Cannot write {args.out}: {exc.strerror or exc}") from exc
    # The PDF is still worth having (exit 0): only the named script prints blank.
    warning = font_warning(sheets, missing)
    if warning:
        print(f"Warning: {warning}", file=sys.stderr)
    print(
        f"{len(sheets)} sheet{'s' if len(sheets) != 1 else ''}, {pages} page{'s' if pages != 1 else ''}"
        f" written to {args.out}"
    )
    return 0
