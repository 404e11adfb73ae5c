"""Restoring the local database from one of its backups (``models.backup``).

The laptop that comes back from a backup is older than the server: what it synced after the
backup comes back with the next pull, and what the backup still had to send is sent. The one
thing it must not do is number new changes with mutation ids it already spent after the backup
(the server would take them for replays). So the restored file is marked (``RESTORED_KEY`` in
``meta``) with the last outbox entry the backup held; the next sync (``sync.client``) settles
those entries under the laptop's old registration, then registers afresh for anything newer.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

from models import errors
from models.backup import (
    BEFORE_RESTORE,
    BackupCheckFailed,
    BackupInfo,
    check_room,
    copy_database,
    free_name,
    integrity_problems,
)
from models.db import open_database, remove_database
from models.entities import Meta, OutboxEntry

log = logging.getLogger(__name__)

RESTORED_KEY = "backup.restored"


@dataclass(frozen=True)
class RestoreResult:
    restored: BackupInfo
    safety_copy: Path | None  # the database as it was just before (a backup itself), if any


def restore_backup(db_path: Path, backup: BackupInfo, folder: Path) -> RestoreResult:
    """Put ``backup`` in place of ``db_path``, which no connection of this process may hold.

    In an order that loses nothing whatever fails: the backup is read through (quick_check);
    the current file is copied into ``folder`` as a ``before-restore`` backup (it is listed with
    the others, so a restore can itself be undone); the backup is copied to a scratch file
    beside the database, opened there (an older schema is migrated) and marked for the next
    sync; only then is the
    scratch copy written over the database with the backup API, in one transaction (a crash
    half-way leaves the old file). A damaged current file is still copied first, unchecked: it
    is the rep's, and may hold what the backup does not.
    """
    # Fully checked when it was made; read through once more for damage to its pages since
    # (quick_check: seconds where integrity_check takes a minute on a big file).
    problems = integrity_problems(backup.path, quick=True)
    if problems:
        raise BackupCheckFailed(
            f"The backup {backup.path.name} is damaged ({problems[0]}), so it was not restored. "
            "Your database has not been changed; choose another backup."
        )
    safety: Path | None = None
    if db_path.exists():
        _refuse_if_open(db_path)
        folder.mkdir(parents=True, exist_ok=True)
        check_room(db_path, folder)
        safety = free_name(folder, db_path, BEFORE_RESTORE, datetime.now())
        copy_database(db_path, safety)
    scratch = db_path.with_name(db_path.name + ".restoring")
    remove_database(scratch)
    try:
        copy_database(backup.path, scratch)
        db = open_database(scratch, backup=False)
        try:
            with db.write() as s:
                through = s.scalar(select(func.max(OutboxEntry.seq))) or 0
                s.merge(
                    Meta(
                        key=RESTORED_KEY,
                        value={"outbox_through": int(through), "backup": backup.path.name},
                    )
                )
        finally:
            db.close()
        copy_database(scratch, db_path, standalone=False)
    finally:
        remove_database(scratch)
    log.info("restored %s from %s (the file before: %s)", db_path, backup.path, safety)
    return RestoreResult(backup, safety)


def _refuse_if_open(db_path: Path) -> None:
    """Another program (another Rapport window) holding the file must not have it replaced
    under it: an exclusive lock, tried once, tells."""
    conn = sqlite3.connect(db_path, timeout=0.5)
    try:
        conn.execute("BEGIN EXCLUSIVE")
        conn.rollback()
    except sqlite3.OperationalError as exc:
        raise errors.DatabaseLockedError(
            f"The database {db_path} is in use by another program (perhaps another Rapport "
            "window), so it was not restored. Close it and try again."
        ) from exc
    finally:
        conn.close()
