"""Backups of the local database: made with SQLite's online backup API (never a file copy of a
live WAL database), checked with ``PRAGMA integrity_check`` when made, kept N days, listed, and
restored.

Every backup is a file named ``<stem>.backup-<label>-<YYYYmmdd-HHMMSS>.sqlite`` (the name the
backup made before a migration has always had, ``models.db.backup_file``): ``daily`` (made
automatically), ``manual`` (Back up now), ``before-restore`` (the safety copy a restore makes
first) or a schema revision (before a migration). No Qt here; the desktop runs these on a worker.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from models import errors

log = logging.getLogger(__name__)

DAILY, MANUAL, BEFORE_RESTORE = "daily", "manual", "before-restore"
KEEP_DAYS = (1, 365)  # the bounds Preferences holds "keep backups for N days" to
STAMP = "%Y%m%d-%H%M%S"
_NAME = re.compile(r"^(?P<stem>.+)\.backup-(?P<label>.+)-(?P<stamp>\d{8}-\d{6})(?:-\d+)?(?P<suffix>\.[^.]+)$")


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    label: str
    made: datetime  # local time, from the name (what the rep reads in the list)
    size: int

    @property
    def kind(self) -> str:
        """In words, for the restore list."""
        return {
            DAILY: "Daily",
            MANUAL: "Backed up by hand",
            BEFORE_RESTORE: "Before a restore",
        }.get(self.label, "Before an update")


@dataclass(frozen=True)
class BackupResult:
    backup: BackupInfo
    seconds: float  # copying
    check_seconds: float  # PRAGMA integrity_check of the copy
    removed: tuple[Path, ...]  # older than the days kept


class BackupCheckFailed(errors.RapportError):
    """The copy just made failed its integrity check; it was removed."""

    title = "The backup failed its check"


def backup_name(db_path: Path, label: str, when: datetime) -> str:
    return f"{db_path.stem}.backup-{label}-{when.strftime(STAMP)}{db_path.suffix or '.sqlite'}"


def free_name(folder: Path, db_path: Path, label: str, when: datetime) -> Path:
    """A name nobody holds (two backups in the same second get ``-2``, ``-3``...)."""
    first = Path(backup_name(db_path, label, when))
    target, n = folder / first, 2
    while target.exists() or target.with_name(target.name + ".partial").exists():
        target, n = folder / f"{first.stem}-{n}{first.suffix}", n + 1
    return target


def copy_database(source: Path, target: Path, *, standalone: bool = True) -> None:
    """SQLite's online backup API, in one step: one read transaction over the whole copy, so it
    is a consistent snapshot while the app goes on writing (WAL readers do not block writers).
    ``standalone``: the copy is one self-contained file (rollback journal), with no ``-wal``
    beside it to lose or forget when it is moved."""
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
            if standalone:
                dst.execute("PRAGMA journal_mode = DELETE")
        finally:
            dst.close()
    finally:
        src.close()


def integrity_problems(path: Path, *, quick: bool = False) -> list[str]:
    """``PRAGMA integrity_check`` of a closed file: [] when it is sound. ``quick``:
    ``quick_check``, which reads every page and record but does not compare indexes with their
    tables (a minute against a few seconds on a 670 MB file; bench/backup_bench.py)."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        pragma = "quick_check" if quick else "integrity_check"
        found = [str(row[0]) for row in conn.execute(f"PRAGMA {pragma}(5)")]
    except sqlite3.DatabaseError as exc:
        return [str(exc)]
    finally:
        conn.close()
    return [] if found == ["ok"] else found


def check_room(source: Path, folder: Path) -> None:
    size = source.stat().st_size
    wal = source.with_name(source.name + "-wal")
    if wal.exists():
        size += wal.stat().st_size
    if shutil.disk_usage(folder).free < size * 1.2:
        raise errors.DiskFullError(
            f"There is not enough free disk space in {folder} for a backup of your database "
            f"({size / 1e6:,.0f} MB). Free some space or choose another backup folder in Preferences."
        )


def make_backup(
    db_path: Path,
    folder: Path,
    label: str = MANUAL,
    *,
    keep_days: int | None = None,
    now: datetime | None = None,
) -> BackupResult:
    """Back ``db_path`` up into ``folder``, check the copy, then remove backups older than
    ``keep_days`` (never the one just made). A copy that fails its check is removed and
    :class:`BackupCheckFailed` raised: a backup nobody can restore is worse than none, because
    it would be trusted."""
    when = now or datetime.now()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise errors.DatabaseError(
            f"The backup folder {folder} cannot be made ({exc.strerror or exc}). "
            "Choose another one in Preferences."
        ) from exc
    if not os.access(folder, os.W_OK):
        raise errors.DatabaseReadOnlyError(
            f"The backup folder {folder} cannot be written to. Choose another one in Preferences."
        )
    check_room(db_path, folder)
    target = free_name(folder, db_path, label, when)
    partial = target.with_name(target.name + ".partial")  # never listed while it is being made
    started = time.perf_counter()
    try:
        copy_database(db_path, partial)
    except BaseException as exc:
        partial.unlink(missing_ok=True)
        if isinstance(exc, sqlite3.Error):
            from models.db import classify_error  # models.db imports this module

            raise classify_error(exc, db_path) from exc
        raise
    copied = time.perf_counter()
    problems = integrity_problems(partial)
    checked = time.perf_counter()
    if problems:
        partial.unlink(missing_ok=True)
        log.error("backup of %s failed its check: %s", db_path, problems)
        raise BackupCheckFailed(
            f"The backup just made of {db_path.name} failed its integrity check ({problems[0]}), so "
            "it was removed. Your database itself may be damaged: keep your earlier backups, and "
            "sync if you use a team server."
        )
    partial.rename(target)
    removed = prune_backups(db_path, folder, keep_days, keep=target, now=when) if keep_days else ()
    info = BackupInfo(target, label, when.replace(microsecond=0), target.stat().st_size)
    log.info(
        "backed up %s to %s in %.2f s (checked in %.2f s)",
        db_path,
        target,
        copied - started,
        checked - copied,
    )
    return BackupResult(info, copied - started, checked - copied, removed)


def list_backups(db_path: Path, folders: list[Path]) -> list[BackupInfo]:
    """Backups of ``db_path`` in these folders, newest first (a folder listed twice counts once)."""
    seen: set[Path] = set()
    out: list[BackupInfo] = []
    for folder in folders:
        try:
            folder = folder.resolve()
        except OSError:
            continue
        if folder in seen or not folder.is_dir():
            continue
        seen.add(folder)
        for path in folder.glob(f"{db_path.stem}.backup-*"):
            m = _NAME.match(path.name)
            if m is None or m["stem"] != db_path.stem or not path.is_file():
                continue
            try:
                made = datetime.strptime(m["stamp"], STAMP)
                size = path.stat().st_size
            except (ValueError, OSError):
                continue
            out.append(BackupInfo(path, m["label"], made, size))
    out.sort(key=lambda b: (b.made, b.path.name), reverse=True)
    return out


def newest_backup(db_path: Path, folder: Path) -> BackupInfo | None:
    backups = list_backups(db_path, [folder])
    return backups[0] if backups else None


def backup_due(db_path: Path, folder: Path, now: datetime | None = None) -> bool:
    """Once a day: due when no backup in ``folder`` was made in the last 24 hours (one made by
    hand or before a restore counts: it is just as good a copy)."""
    newest = newest_backup(db_path, folder)
    return newest is None or (now or datetime.now()) - newest.made >= timedelta(days=1)


def prune_backups(
    db_path: Path, folder: Path, keep_days: int, *, keep: Path | None = None, now: datetime | None = None
) -> tuple[Path, ...]:
    """Remove this database's backups in ``folder`` older than ``keep_days`` days. The newest
    backup always stays (a laptop left off for a month still has one), and so does ``keep``."""
    backups = list_backups(db_path, [folder])
    limit = (now or datetime.now()) - timedelta(days=keep_days)
    removed: list[Path] = []
    for b in backups[1:]:
        if b.made < limit and b.path != keep:
            try:
                b.path.unlink()
            except OSError as exc:  # a file another program holds: tried again next time
                log.warning("could not remove the old backup %s: %s", b.path, exc)
                continue
            removed.append(b.path)
    return tuple(removed)
