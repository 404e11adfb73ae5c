"""Rapport: the offline-first CRM for field sales reps.

``python main.py`` opens the app; subcommands do headless work (see ``--help``). This module
only wires the pieces together: paths, logging, the database, and the subcommands.
"""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from models import errors
from models.paths import default_db_path, log_dir, sample_db_path
from models.version import VERSION as __version__

Command = Callable[[argparse.Namespace], int]


def setup_logging() -> Path:
    """Log to a rotating file in the user's log folder; returns the file's path."""
    folder = log_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "rapport.log"
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    return path


def _cmd_demo(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import IntegrityError

    from models.db import check_integrity, open_database, remove_database, typed_errors
    from models.demo import fill_demo
    from models.sample import prepare_sample

    path = Path(args.db).expanduser().resolve()
    made = not path.exists()
    db = open_database(path)
    try:
        if not made:
            check_integrity(db)  # never pile sample data onto a damaged file
        with typed_errors(path):
            prepare_sample(db)  # refuses a database with the rep's own records
            counts = fill_demo(
                db, contacts=args.contacts, notes_per_contact=args.notes_per_contact, seed=args.seed
            )
    except IntegrityError as exc:
        raise errors.RapportError(
            f"{args.db} already holds the sample data made with seed {args.seed}; nothing was added. "
            "Use another --seed, or a new database file."
        ) from exc
    except BaseException:
        if made:  # a file this command made and could not fill is not left behind
            db.close()
            remove_database(path)
        raise
    finally:
        db.close()
    print(
        ", ".join(f"{n:,} {what}" for what, n in counts.items())
        + f" added to {args.db} (a sample database: it never syncs)"
    )
    return 0


def _cmd_gui(args: argparse.Namespace) -> int:
    from ui.app import run_app

    return run_app(Path(args.db), log_file=args.log_file)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rapport", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"Rapport {__version__}")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check that this installation has every part it needs (in a temporary folder), then exit",
    )
    parser.add_argument(
        "--db", type=Path, default=default_db_path(), help="database file (default: %(default)s)"
    )
    parser.set_defaults(func=_cmd_gui)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser(
        "demo", help="fill a new database with realistic sample data (never one with your records)"
    )
    demo.add_argument("--db", type=Path, default=sample_db_path())
    demo.add_argument("--contacts", type=int, default=200)
    demo.add_argument("--notes-per-contact", type=float, default=10.0)
    demo.add_argument("--seed", type=int, default=7)
    demo.set_defaults(func=_cmd_demo)

    for register in _extra_commands():
        register(sub)
    return parser


def _extra_commands() -> list[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]]:
    """Subcommands owned by other packages (briefing sheets, sync), registered here."""
    from models.import_cli import register as register_import
    from sync.cli import register as register_sync
    from ui.printing.cli import register as register_brief

    return [register_brief, register_import, register_sync]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.self_test:  # before logging: it touches nothing of the user's, not even the log
        from ui.self_test import run_self_test

        return run_self_test()
    try:
        args.log_file = setup_logging()
    except OSError as exc:
        print(
            f"rapport: cannot write the log file in {log_dir()} ({exc.strerror or exc}). "
            "Make that folder writable, or set RAPPORT_DATA_DIR to a folder that is; "
            "nothing was changed.",
            file=sys.stderr,
        )
        return 2
    try:
        return int(args.func(args))
    except errors.Cancelled:
        return 1
    except errors.RapportError as exc:
        print(f"rapport: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
