"""Backups and restores of the local database (models/backup.py, models/restore.py), on real
files: made while the app writes, checked, kept N days, listed, restored after a safety copy."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from models import errors
from models.backup import (
    DAILY,
    MANUAL,
    BackupCheckFailed,
    backup_due,
    list_backups,
    make_backup,
    prune_backups,
)
from models.db import Database, open_database
from models.entities import Contact, Meta
from models.restore import RESTORED_KEY, restore_backup
from models.services.contacts import ContactInput, create_contact

NOON = datetime(2026, 12, 1, 12, 0, 0)


def _add(db: Database, name: str) -> None:
    with db.write() as s:
        create_contact(s, ContactInput(name=name))


def _names(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return sorted(r[0] for r in conn.execute("SELECT name FROM contacts"))
    finally:
        conn.close()


def test_backup_is_a_checked_self_contained_copy_made_while_the_app_writes(
    db: Database, tmp_path: Path
) -> None:
    _add(db, "Committed")
    folder = tmp_path / "backups"
    # A write transaction open on the live WAL database: the backup is a snapshot of what was
    # committed, and the app's write goes on afterwards.
    with db.write() as s:
        create_contact(s, ContactInput(name="Not yet committed"))
        s.flush()
        result = make_backup(db.path, folder, MANUAL, now=NOON)
    made = result.backup
    assert made.path.name == "rapport.backup-manual-20261201-120000.sqlite"
    assert made.label == MANUAL and made.made == NOON and made.size == made.path.stat().st_size
    assert list(folder.iterdir()) == [made.path]  # no -wal beside it, no .partial left
    assert _names(made.path) == ["Committed"]
    conn = sqlite3.connect(made.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    assert result.seconds >= 0 and result.check_seconds >= 0
    # Two in the same second do not overwrite each other.
    again = make_backup(db.path, folder, MANUAL, now=NOON).backup
    assert again.path != made.path and again.path.name.endswith("-2.sqlite")


def test_a_backup_that_fails_its_check_is_removed_and_the_rep_is_told(db: Database, tmp_path: Path) -> None:
    for i in range(300):
        _add(db, f"Person {i:03}")
    db.close()
    # Damage a page of the contacts' name index: the backup API copies pages as they are.
    conn = sqlite3.connect(db.path)
    root = conn.execute(
        "SELECT rootpage FROM sqlite_master WHERE name = 'ix_contacts_name_nocase'"
    ).fetchone()
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()
    assert root is not None
    with db.path.open("r+b") as f:
        f.seek((root[0] - 1) * page_size + 8)
        f.write(b"\xff" * 64)
    folder = tmp_path / "backups"
    with pytest.raises(BackupCheckFailed, match="failed its integrity check"):
        make_backup(db.path, folder, DAILY)
    assert list(folder.iterdir()) == []


def test_backups_older_than_the_days_kept_are_removed_but_never_the_newest(
    db: Database, tmp_path: Path
) -> None:
    folder = tmp_path / "backups"
    old = [make_backup(db.path, folder, DAILY, now=NOON - timedelta(days=d)).backup for d in (30, 20, 9, 8)]
    recent = make_backup(db.path, folder, DAILY, now=NOON - timedelta(days=2)).backup
    # Another database's backups in the same folder are not ours to remove.
    other = folder / "other.backup-daily-20200101-000000.sqlite"
    other.write_bytes(b"")
    result = make_backup(db.path, folder, MANUAL, keep_days=7, now=NOON)
    assert set(result.removed) == {b.path for b in old}
    assert [b.path for b in list_backups(db.path, [folder])] == [result.backup.path, recent.path]
    assert other.exists()
    # A laptop left off for a month keeps its one backup, however old.
    assert prune_backups(db.path, folder, 7, now=NOON + timedelta(days=60)) == (recent.path,)
    assert [b.path for b in list_backups(db.path, [folder])] == [result.backup.path]


def test_a_backup_is_due_once_a_day(db: Database, tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    assert backup_due(db.path, folder, NOON)
    make_backup(db.path, folder, DAILY, now=NOON)
    assert not backup_due(db.path, folder, NOON + timedelta(hours=23))
    assert backup_due(db.path, folder, NOON + timedelta(hours=24))


def test_the_list_holds_every_kind_with_dates_and_sizes_newest_first(db: Database, tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    make_backup(db.path, folder, DAILY, now=NOON)
    make_backup(db.path, db.path.parent, MANUAL, now=NOON + timedelta(hours=1))
    (folder / "rapport.backup-daily-20261201-130000.sqlite.partial").write_bytes(b"x")  # half made
    found = list_backups(db.path, [folder, db.path.parent, folder])
    assert [(b.label, b.made) for b in found] == [(MANUAL, NOON + timedelta(hours=1)), (DAILY, NOON)]
    assert all(b.size > 0 for b in found)
    assert [b.kind for b in found] == ["Backed up by hand", "Daily"]


def test_restore_makes_a_safety_copy_first_and_marks_the_file_for_the_next_sync(
    db: Database, tmp_path: Path
) -> None:
    folder = tmp_path / "backups"
    _add(db, "In the backup")
    backup = make_backup(db.path, folder, MANUAL, now=NOON).backup
    _add(db, "Made after the backup")
    db.close()

    result = restore_backup(db.path, backup, folder)

    assert _names(db.path) == ["In the backup"]
    assert result.safety_copy is not None and result.safety_copy.name.startswith(
        "rapport.backup-before-restore-"
    )
    assert _names(result.safety_copy) == ["In the backup", "Made after the backup"]
    assert result.safety_copy in [b.path for b in list_backups(db.path, [folder])]  # can be undone
    assert [p.name for p in db.path.parent.iterdir() if ".restoring" in p.name] == []
    reopened = open_database(db.path)
    with reopened.read() as s:
        mark = s.get(Meta, RESTORED_KEY)
        assert mark is not None and mark.value["backup"] == backup.path.name
        # Both creates were in the outbox: the backup held the first.
        assert mark.value["outbox_through"] == 1
        assert [c.name for c in s.scalars(select(Contact))] == ["In the backup"]
    reopened.close()


def test_a_damaged_backup_is_not_restored(db: Database, tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    _add(db, "Mine")
    backup = make_backup(db.path, folder, MANUAL, now=NOON).backup
    db.close()
    with backup.path.open("r+b") as f:
        f.seek(100)
        f.write(b"\x00" * 4000)
    with pytest.raises((BackupCheckFailed, errors.DatabaseError)):
        restore_backup(db.path, backup, folder)
    assert _names(db.path) == ["Mine"]


def test_a_database_another_program_holds_is_not_restored(db: Database, tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    _add(db, "Mine")
    backup = make_backup(db.path, folder, MANUAL, now=NOON).backup
    with db.write() as s:  # this process's own connection stands for "another program"
        create_contact(s, ContactInput(name="Open elsewhere"))
        s.flush()
        with pytest.raises(errors.DatabaseLockedError, match="in use by another program"):
            restore_backup(db.path, backup, folder)
    assert sorted(_names(db.path)) == ["Mine", "Open elsewhere"]
