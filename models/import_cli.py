"""``main.py import``: contacts from a vCard or CSV file, headless; ``--dry-run`` only previews.

Prints the preview's figures; a file it refuses (empty, binary, cut short...) exits non-zero
with the reason, and nothing is written.
"""

from __future__ import annotations

import argparse
import locale
from pathlib import Path

from models import errors
from models.paths import default_db_path
from models.services import contact_csv
from models.services.import_file import Prepared, prepare, read_source
from models.services.importing import ImportPlan, apply_import, plan_import

SHOWN = 10  # skipped cards and left-out values listed by name; the rest counted


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "import",
        help="import contacts from a vCard (.vcf) or CSV file (Rapport's, Google's, Outlook's or mapped)",
        description="Import contacts from a vCard or CSV file; --dry-run only says what it would do.",
    )
    parser.add_argument("--db", type=Path, default=default_db_path())
    parser.add_argument("file", type=Path, metavar="FILE")
    parser.add_argument("--dry-run", action="store_true", help="show what would be imported; write nothing")
    parser.add_argument(
        "--region",
        default=default_region(),
        help="country for phone numbers written without +country code (default: %(default)s)",
    )
    parser.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="HEADER=FIELD",
        help="for a CSV of your own: which field a column is (fields: "
        + ", ".join(f for f in contact_csv.FIELDS if f)
        + "); columns not named are left out",
    )
    parser.set_defaults(func=run_import)


def default_region() -> str | None:
    """The country of the user's locale (``en_GB`` -> ``GB``), or None."""
    name = locale.getlocale()[0] or ""
    region = name.split("_")[1][:2] if "_" in name else ""
    return region.upper() if region.isalpha() and len(region) == 2 else None


def _mapping(prepared: Prepared, pairs: list[str]) -> list[str]:
    assert prepared.table is not None
    headers = [h.casefold() for h in prepared.table.headers]
    mapping = [""] * len(headers)
    for pair in pairs:
        header, _, name = pair.rpartition("=")
        if header.strip().casefold() not in headers:
            raise errors.ValidationError({"map": f"The file has no column “{header}”"})
        if name.strip() not in contact_csv.FIELDS:
            raise errors.ValidationError({"map": f"“{name}” is not a field"})
        mapping[headers.index(header.strip().casefold())] = name.strip()
    return mapping


def run_import(args: argparse.Namespace) -> int:
    from models.db import open_database

    source = read_source(args.file.expanduser())
    db = open_database(Path(args.db).expanduser().resolve())
    try:
        with db.read() as s:
            prepared = prepare(source, s)
        if prepared.needs_mapping and args.map:
            prepared = prepare(source, None, _mapping(prepared, args.map))
        if prepared.needs_mapping:
            assert prepared.table is not None
            raise errors.RapportError(
                f"{source.name} is a CSV file whose columns Rapport does not know: "
                + ", ".join(f"“{h}”" for h in prepared.table.headers)
                + ". Say which is which with --map HEADER=FIELD (e.g. --map 'E-Mail=email'), "
                "or import it once in the app, which remembers the columns. Nothing was imported."
            )
        with db.read() as s:
            plan = plan_import(s, prepared.cards, prepared.skipped, args.region)
        print(summary(source.name, prepared.format, plan))
        if args.dry_run:
            print("Dry run: nothing was written.")
            return 0
        with db.write() as s:
            result = apply_import(s, prepared.cards, prepared.skipped, source=source.name, region=args.region)
            if prepared.mapping is not None and prepared.format == "CSV" and prepared.table is not None:
                contact_csv.remember_mapping(s, prepared.table.headers, prepared.mapping)
        if result.import_id is None:
            print("Nothing to import: every card is already there.")
            return 0
        print(
            f"Imported: {_count(result.created, 'new contact')}, {result.merged:,} filled in, "
            f"{_count(result.accounts, 'new account')}. To take it back: Edit › Undo an import… in the app."
        )
        return 0
    finally:
        db.close()


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def summary(name: str, fmt: str, plan: ImportPlan) -> str:
    """The preview's figures as lines of text."""
    filled = sum(1 for m in plan.merges if not m.into_new)
    same = sum(1 for m in plan.merges if m.into_new)
    lines = [
        f"{name} ({fmt}): {_count(plan.cards, 'card' if fmt == 'vCard' else 'row')}",
        f"  new contacts:        {len(plan.new):,}",
        f"  matching existing:   {filled + len(plan.unchanged):,} "
        f"({filled:,} to fill in, {len(plan.unchanged):,} already up to date)",
    ]
    if same:
        lines.append(f"  same person again:   {same:,} (merged into a new contact from an earlier card)")
    lines.append(f"  new accounts:        {len(plan.new_accounts):,}")
    lines.append(f"  skipped:             {len(plan.skipped):,}")
    lines += [f"    {s.where}: {s.why}" for s in plan.skipped[:SHOWN]]
    if len(plan.skipped) > SHOWN:
        lines.append(f"    … and {len(plan.skipped) - SHOWN:,} more")
    if plan.warnings:
        lines.append(f"  values left out:     {len(plan.warnings):,}")
        lines += [f"    {w}" for w in plan.warnings[:SHOWN]]
        if len(plan.warnings) > SHOWN:
            lines.append(f"    … and {len(plan.warnings) - SHOWN:,} more")
    return "\n".join(lines)
