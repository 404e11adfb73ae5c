"""Opening databases: creation, migration with backup, and every file we must refuse untouched."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Connection, create_engine, func, select, text

from models import errors
from models.db import APPLICATION_ID, open_database
from models.entities import Contact, OutboxEntry
from models.migrate import head_revision, upgrade
from models.services.contacts import ContactInput, create_contact, list_contacts

ROOT = Path(__file__).resolve().parents[2]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_new_file_gets_schema_wal_and_our_application_id(db_path: Path) -> None:
    db = open_database(db_path)
    db.close()
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == head_revision()
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"accounts", "contacts", "notes", "commitments", "outbox", "contacts_fts"} <= tables
    conn.close()


def test_connections_enforce_foreign_keys(db_path: Path) -> None:
    db = open_database(db_path)
    with pytest.raises(Exception, match="FOREIGN KEY"), db.write() as s:
        s.execute(
            text(
                "INSERT INTO contacts (id, name, kind, account_id, role, emails, phones, address, "
                "personal_dates, preferences, needs, tags, about, created_at, updated_at) VALUES "
                "('00000000000000000000000000000001', 'x', 'customer', "
                "'00000000000000000000000000000099', '', '[]', '[]', '', '[]', '', '', '[]', '', "
                "'2026-01-01', '2026-01-01')"
            )
        )
    db.close()


def test_reopening_a_current_file_makes_no_backup(db_path: Path) -> None:
    open_database(db_path).close()
    open_database(db_path).close()
    assert not list(db_path.parent.glob("*.backup-*"))


@contextmanager
def older_database(db_path: Path, revision: str) -> Iterator[Connection]:
    """A file as an older Rapport left it: schema at ``revision``, rows added by the caller."""
    engine = create_engine(f"sqlite:///{db_path}")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f"PRAGMA application_id = {APPLICATION_ID}")
            upgrade(conn, revision)
            yield conn
            conn.commit()
    finally:
        engine.dispose()


def test_upgrade_from_an_older_revision_backs_up_first_and_keeps_data(db_path: Path) -> None:
    with older_database(db_path, "0001") as conn:
        conn.exec_driver_sql(
            "INSERT INTO accounts (id, name, address, segment, tier, about, created_at, updated_at) "
            "VALUES ('0123456789abcdef0123456789abcdef', 'Old Co', '', '', '', '', "
            "'2025-01-01 00:00:00', '2025-01-01 00:00:00')"
        )

    db = open_database(db_path)
    with db.read() as s:
        assert s.execute(text("SELECT name FROM accounts")).scalar_one() == "Old Co"
        assert s.execute(text("SELECT count(*) FROM visits")).scalar_one() == 0
    db.close()
    backups = list(db_path.parent.glob("*.backup-0001-*"))
    assert len(backups) == 1
    old = sqlite3.connect(backups[0])
    assert old.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "0001"
    old.close()


def test_upgrade_unescapes_json_so_search_finds_non_ascii_tags(db_path: Path) -> None:
    with older_database(db_path, "0004") as conn:
        # As 0004-era Rapport wrote it: json.dumps' default escapes.
        conn.exec_driver_sql(
            "INSERT INTO contacts (id, name, kind, role, emails, phones, address, personal_dates, "
            "preferences, needs, tags, about, created_at, updated_at) VALUES "
            "('0123456789abcdef0123456789abcdef', 'Anna Berg', 'customer', '', "
            "'[\"j\\u00fcrgen@example.de\"]', '[]', '', '[]', '', '', '[\"caf\\u00e9\"]', '', "
            "'2025-01-01 00:00:00', '2025-01-01 00:00:00')"
        )
        assert conn.exec_driver_sql("SELECT tags FROM contacts").scalar_one() == '["caf\\u00e9"]'

    db = open_database(db_path)
    with db.read() as s:
        stored = s.execute(text("SELECT tags, emails FROM contacts")).one()
        assert tuple(stored) == ('["café"]', '["jürgen@example.de"]')
        assert [c.name for c in list_contacts(s, "café")] == ["Anna Berg"]
        assert [c.name for c in list_contacts(s, "jürgen")] == ["Anna Berg"]
        assert s.scalar(select(func.count()).select_from(OutboxEntry)) == 0  # same JSON: nothing to sync
    db.close()


def test_corrupt_file_is_refused_and_untouched(db_path: Path) -> None:
    db_path.write_bytes(b"SQLite format 3\x00" + os.urandom(4096))
    before = digest(db_path)
    with pytest.raises(errors.DatabaseCorruptError, match="damaged"):
        open_database(db_path)
    assert digest(db_path) == before


def test_text_file_is_refused_and_untouched(db_path: Path) -> None:
    db_path.write_text("name,email\nAnna,anna@example.com\n")
    before = digest(db_path)
    with pytest.raises(errors.DatabaseError):
        open_database(db_path)
    assert digest(db_path) == before


def test_someone_elses_database_is_refused_and_untouched(db_path: Path) -> None:
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    conn.commit()
    conn.close()
    before = digest(db_path)
    with pytest.raises(errors.NotARapportDatabaseError, match="not a Rapport one"):
        open_database(db_path)
    assert digest(db_path) == before


def test_database_from_a_newer_rapport_is_refused_and_untouched(db_path: Path) -> None:
    open_database(db_path).close()
    conn = sqlite3.connect(db_path)
    conn.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    conn.commit()
    conn.close()
    before = digest(db_path)
    with pytest.raises(errors.DatabaseTooNewError, match="newer version"):
        open_database(db_path)
    assert digest(db_path) == before


NOBODY = 65534  # the unprivileged account on Debian; the number works even without its name


def open_as_nobody(path: Path) -> str:
    """Open ``path`` in a forked child that has dropped root for ``nobody`` (real and effective
    ids, no groups), as a rep's own account would: what happened, as text.

    A fork, not a new interpreter: the child needs no access to the virtualenv or the checkout
    (CI may keep those under /root), only to the database's folder.
    """
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():
        # Python 3.12+ warns that forking a threaded process may deadlock; the child here only
        # opens one SQLite file and exits, touching no lock another thread could hold.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        status = 1
        try:
            os.close(read_end)
            os.setgroups([])
            os.setresgid(NOBODY, NOBODY, NOBODY)
            os.setresuid(NOBODY, NOBODY, NOBODY)
            try:
                open_database(path, backup=False).close()
                result = "opened"
            except errors.DatabaseReadOnlyError as exc:
                result = f"refused: {exc}"
            except BaseException as exc:
                result = f"{type(exc).__name__}: {exc}"
            os.write(write_end, result.encode())
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        result = pipe.read().decode()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, result
    return result


def test_read_only_file_is_refused(tmp_path: Path) -> None:
    """The real refusal by the OS. Root may write anything (and CI runs as root), so as root
    the check runs as an unprivileged user; elsewhere as the user running the tests."""
    if os.geteuid() != 0:
        db_path = tmp_path / "rapport.sqlite"
        open_database(db_path).close()
        db_path.chmod(0o444)
        before = digest(db_path)
        try:
            with pytest.raises(errors.DatabaseReadOnlyError, match="cannot be written"):
                open_database(db_path)
        finally:
            db_path.chmod(0o644)
        assert digest(db_path) == before
        return
    # tmp_path sits in root's private folder; nobody needs a folder of its own it can reach.
    home = Path(tempfile.mkdtemp(prefix="rapport-ro-"))
    try:
        home.chmod(0o755)
        folder = home / "data"
        folder.mkdir()
        db_path = folder / "rapport.sqlite"
        open_database(db_path).close()
        for path in (folder, *folder.iterdir()):
            os.chown(path, NOBODY, NOBODY)
        db_path.chmod(0o644)
        assert open_as_nobody(db_path) == "opened"  # the same user may open it while writable
        db_path.chmod(0o444)
        before = digest(db_path)
        result = open_as_nobody(db_path)
        assert result.startswith("refused:") and "cannot be written" in result, result
        assert digest(db_path) == before
    finally:
        shutil.rmtree(home)


def test_file_the_os_will_not_let_us_write_is_refused_untouched(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The OS's answer simulated (the real chmod case above runs everywhere): the refusal must
    # come before anything is written, whatever the reason the OS gives.
    open_database(db_path).close()
    before = digest(db_path)
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if mode == os.W_OK else real_access(p, mode))
    with pytest.raises(errors.DatabaseReadOnlyError, match="cannot be written"):
        open_database(db_path)
    assert digest(db_path) == before


def test_path_under_a_file_is_refused(tmp_path: Path) -> None:
    # A file on a read-only mount cannot be written by anyone; we simulate it with a path
    # whose parent is a file, which no user can create anything under.
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    with pytest.raises(errors.DatabaseError):
        open_database(blocker / "rapport.sqlite")


def test_locked_database_gets_a_clear_error(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import models.db

    monkeypatch.setattr(models.db, "BUSY_TIMEOUT_MS", 200)
    db = open_database(db_path)
    db.close()
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(errors.DatabaseLockedError, match="in use"):
            open_database(db_path)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_full_disk_is_reported_and_saved_data_survives(db_path: Path) -> None:
    db = open_database(db_path)
    with db.write() as s:
        create_contact(s, ContactInput(name="Saved Before"))
    with db.read() as s:
        pages = s.execute(text("PRAGMA page_count")).scalar_one()
    # SQLite's max_page_count is per connection: cap every writer connection at the current size.
    from sqlalchemy import event

    @event.listens_for(db.write_engine, "connect")
    def _cap(dbapi_conn: sqlite3.Connection, _rec: object) -> None:
        dbapi_conn.execute(f"PRAGMA max_page_count = {pages}")

    db.write_engine.dispose()
    with pytest.raises(errors.DiskFullError, match="disk is full"), db.write() as s:
        for i in range(2000):
            create_contact(s, ContactInput(name=f"Filler {i}", about="x" * 500))
    with db.read() as s:
        names = list(s.scalars(select(Contact.name)))
        assert names == ["Saved Before"]
        assert s.scalar(select(func.count()).select_from(OutboxEntry)) == 1
    db.close()


def test_killed_in_the_middle_of_an_edit_leaves_the_database_consistent(db_path: Path) -> None:
    db = open_database(db_path)
    with db.write() as s:
        create_contact(s, ContactInput(name="Kept"))
    db.close()
    script = textwrap.dedent(
        f"""
        import os
        from models.db import open_database
        from models.services.contacts import ContactInput, create_contact, list_contacts
        db = open_database({str(db_path)!r})
        with db.write() as s:
            create_contact(s, ContactInput(name="Half written"))
            s.flush()
            os.kill(os.getpid(), 9)
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, timeout=60)
    assert proc.returncode == -9
    db = open_database(db_path)
    with db.read() as s:
        assert list(s.scalars(select(Contact.name))) == ["Kept"]
        assert s.scalar(select(func.count()).select_from(OutboxEntry)) == 1
        assert s.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
    db.close()
