"""The laptop's own files under trouble (issue 10 items 15-16): a full disk, a file size limit, a
damaged database, another program's file, sample data twice, an unwritable log folder.

``main.py`` runs as a real process against files in ``tmp_path``; each refusal must say what is
wrong in words, exit non-zero and leave the folder byte for byte as it was. A full disk is a real
one (a small tmpfs; mounting needs root, the tests say so and skip otherwise) or a real
RLIMIT_FSIZE in the child process.
"""

from __future__ import annotations

import hashlib
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from models.db import open_database
from models.entities import Contact
from models.sample import SAMPLE_KEY
from tests.support.sync_support import ROOT, Backend, ServerProcess


def listing(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with a digest of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def run(
    tmp_path: Path, *args: str, stdin: str = "", limit: int | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "RAPPORT_DATA_DIR": str(tmp_path / "data"),
        "QT_QPA_PLATFORM": "offscreen",
        "HOME": str(tmp_path / "home"),
        "XDG_DATA_HOME": str(tmp_path / "xdg"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring",
    }

    def cap() -> None:  # in the child: every file it writes stops at ``limit`` bytes
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run(
        [sys.executable, "main.py", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        text=True,
        capture_output=True,
        timeout=180,
        preexec_fn=cap,
    )


def refused(out: subprocess.CompletedProcess[str], words: str) -> None:
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert words in out.stderr, out.stderr
    assert "Traceback" not in out.stderr


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """Mount a tmpfs of the given size (``"256k"``) under ``tmp_path``: a disk that really fills."""
    mounted: list[Path] = []

    def mount(size: str) -> Path:
        where = tmp_path / f"disk{len(mounted)}"
        where.mkdir()
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            pytest.skip(f"cannot mount a small tmpfs here (needs root): {done.stderr.strip()}")
        mounted.append(where)
        return where

    yield mount
    for where in mounted:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill_up(folder: Path, leave: int) -> None:
    """Write a filler file until only about ``leave`` bytes are free on ``folder``'s disk."""
    free = shutil.disk_usage(folder).free
    with (folder / "filler").open("wb") as f:
        try:
            f.write(b"\0" * max(0, free - leave))
            f.flush()
        except OSError:
            pass


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small database with sample data (made once, copied by the tests)."""
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    out = run(path.parent, "demo", "--db", str(path), "--contacts", "60")
    assert out.returncode == 0, out.stderr
    return path


def _copy(src: Path, dst: Path) -> Path:
    shutil.copyfile(src, dst)
    return dst


# -- item 15: brief --out ----------------------------------------------------------------------
def test_brief_onto_a_full_disk_fails_and_leaves_the_folder_as_it_was(
    tmp_path: Path, demo_db: Path, small_disk: Callable[[str], Path]
) -> None:
    disk = small_disk("32k")  # a day's sheets are about 85 kB
    (disk / "yesterday.pdf").write_bytes(b"%PDF-1.4 an older briefing\n%%EOF\n")
    before = listing(disk)
    for name in ("today.pdf", "yesterday.pdf"):
        out = run(tmp_path, "brief", "--db", str(demo_db), "--day", "today", "--out", str(disk / name))
        refused(out, "Nothing was saved as")
        assert "written to" not in out.stdout
        assert listing(disk) == before
    fine = tmp_path / "fine.pdf"
    out = run(tmp_path, "brief", "--db", str(demo_db), "--day", "today", "--out", str(fine))
    assert out.returncode == 0, out.stderr
    assert fine.read_bytes().rstrip().endswith(b"%%EOF")


def test_brief_cut_off_by_a_file_size_limit_fails(tmp_path: Path, demo_db: Path) -> None:
    """The same failure by another real means: the OS stops every file the process writes at
    48 kB (RLIMIT_FSIZE; the database's 32 kB shared-memory file still fits)."""
    folder = tmp_path / "out"
    folder.mkdir()
    out = run(
        tmp_path,
        "brief",
        "--db",
        str(demo_db),
        "--day",
        "today",
        "--out",
        str(folder / "d.pdf"),
        limit=48_000,
    )
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert "Traceback" not in out.stderr and "written to" not in out.stdout
    assert "Nothing was saved as d.pdf" in out.stderr or "File too large" in out.stderr
    assert listing(folder) == {}


# -- item 16: the database file ---------------------------------------------------------------
def _make_own_records(path: Path) -> None:
    """`demo` makes a sample database, which never syncs: unmark the copy so it stands for a
    rep's own file full of records."""
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("DELETE FROM meta WHERE key = ?", (SAMPLE_KEY,))
    conn.close()


def _damage_contacts(path: Path) -> None:
    """Overwrite every leaf page of the contacts table (the middle of the file) with noise."""
    conn = sqlite3.connect(path)
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    pages = [
        p for (p,) in conn.execute("SELECT pageno FROM dbstat WHERE name = 'contacts' AND pagetype = 'leaf'")
    ]
    total = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.close()
    assert pages and min(pages) > 1 and max(pages) < total
    with path.open("r+b") as f:
        for page in pages:
            f.seek((page - 1) * page_size)
            f.write(os.urandom(page_size))


def test_damaged_middle_of_the_database(tmp_path: Path, demo_db: Path, backend: Backend) -> None:
    """`demo`, `brief` and `sync` each refuse a file damaged in the middle, in words, and change
    nothing; `sync` checks the file before it pushes, so nothing reaches the server."""
    srv = ServerProcess(backend.new_url(), tmp_path / "server.log")
    srv.start()
    try:
        srv.add_user("rita", password="s3cret", team="west")
        laptop = tmp_path / "laptop"
        laptop.mkdir()
        path = _copy(demo_db, laptop / "rita.sqlite")
        _make_own_records(path)
        login = ("login", "--db", str(path), "--server", srv.base, "--username", "rita")
        assert run(tmp_path, *login, stdin="s3cret\n").returncode == 0
        db = open_database(path)
        with db.write() as s:
            s.add(Contact(name="Pending Paula"))  # a change waiting to be pushed
        db.close()
        _damage_contacts(path)
        before = listing(laptop)
        refused(run(tmp_path, "demo", "--db", str(path), "--seed", "8"), "is damaged")
        assert listing(laptop) == before
        refused(
            run(tmp_path, "brief", "--db", str(path), "--contact", "Paula", "--out", str(laptop / "p.pdf")),
            "damaged",
        )
        assert listing(laptop) == before
        refused(run(tmp_path, "sync", "--db", str(path)), "is damaged")
        assert listing(laptop) == before
        assert srv.rows("team:west") == {}
    finally:
        srv.stop()
        srv.close_admin()


def test_another_programs_empty_looking_file_is_refused(tmp_path: Path) -> None:
    """A SQLite file holding only a view has no table, yet it is somebody's: never taken over."""
    folder = tmp_path / "files"
    folder.mkdir()
    path = folder / "other.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE VIEW answer AS SELECT 42 AS value")
    conn.close()
    before = listing(folder)
    refused(run(tmp_path, "demo", "--db", str(path)), "not a Rapport one")
    assert listing(folder) == before


def _wal_file(path: Path, sql: str) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(sql)
    conn.commit()
    conn.close()


def test_refused_files_get_nothing_beside_them(tmp_path: Path, demo_db: Path) -> None:
    """Files in WAL mode that we refuse (another program's, a newer Rapport's): a read-only look
    made -wal/-shm files beside them; now the folder stays as it was."""
    folder = tmp_path / "files"
    folder.mkdir()
    foreign = folder / "foreign.sqlite"
    _wal_file(foreign, "CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    newer = _copy(demo_db, folder / "newer.sqlite")
    _wal_file(newer, "UPDATE alembic_version SET version_num = '9999_from_the_future'")
    before = listing(folder)
    assert set(before) == {"foreign.sqlite", "newer.sqlite"}
    refused(run(tmp_path, "demo", "--db", str(foreign)), "not a Rapport one")
    refused(
        run(tmp_path, "brief", "--db", str(newer), "--day", "today", "--out", str(folder / "x.pdf")),
        "newer version",
    )
    refused(run(tmp_path, "sync", "--db", str(newer)), "newer version")
    assert listing(folder) == before


def test_demo_twice_on_one_file(tmp_path: Path, demo_db: Path) -> None:
    folder = tmp_path / "files"
    folder.mkdir()
    path = _copy(demo_db, folder / "demo.sqlite")
    before = listing(folder)
    refused(run(tmp_path, "demo", "--db", str(path), "--contacts", "60"), "already holds the sample data")
    assert listing(folder) == before
    out = run(tmp_path, "demo", "--db", str(path), "--contacts", "10", "--seed", "99")
    assert out.returncode == 0, out.stderr  # other sample data is welcome


def test_unwritable_log_folder(tmp_path: Path) -> None:
    """The log folder cannot be made (a file is in its place; root may write anywhere, so no
    chmod): a clear message before anything else is touched."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "logs").write_text("not a folder")
    folder = tmp_path / "files"
    folder.mkdir()
    refused(run(tmp_path, "demo", "--db", str(folder / "new.sqlite")), "cannot write the log file")
    assert listing(folder) == {}


def test_demo_onto_a_full_disk(tmp_path: Path, small_disk: Callable[[str], Path]) -> None:
    """A new file that cannot even get its schema, and an existing one that cannot take the
    sample data: a clear message, and the disk as it was."""
    tiny = small_disk("192k")  # an empty Rapport database is about 270 kB
    refused(run(tmp_path, "demo", "--db", str(tiny / "new.sqlite")), "disk is full")
    assert listing(tiny) == {}
    disk = small_disk("2m")  # a one-contact sample and its write-ahead log: about 1 MB
    made = run(tmp_path, "demo", "--db", str(disk / "rapport.sqlite"), "--contacts", "1")
    assert made.returncode == 0, made.stderr
    fill_up(disk, leave=64_000)
    before, content = settled(disk), dumped(disk / "rapport.sqlite")
    refused(run(tmp_path, "demo", "--db", str(disk / "rapport.sqlite"), "--seed", "3"), "disk is full")
    # The database file is byte for byte as it was and holds the same rows. The write-ahead log
    # may hold frames of the rolled-back transaction: SQLite wrote them into the space the log
    # already had (the first demo's log), and never reads them, as nothing committed them.
    assert settled(disk) == before and dumped(disk / "rapport.sqlite") == content


def settled(folder: Path) -> dict[str, str]:
    """``listing`` without SQLite's write-ahead log and its index."""
    return {k: v for k, v in listing(folder).items() if not k.endswith(("-wal", "-shm"))}


def dumped(path: Path) -> list[str]:
    """Every row and schema statement of a database, read (not written) as SQLite sees them."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def test_sync_onto_a_full_disk(tmp_path: Path, backend: Backend, small_disk: Callable[[str], Path]) -> None:
    """A pull that does not fit: a clear message; what was committed stays, and once there is
    room the next sync finishes with every change where it belongs, pushed exactly once."""
    srv = ServerProcess(backend.new_url(), tmp_path / "server.log")
    srv.start()
    try:
        srv.add_user("rita", password="s3cret", team="west")
        srv.add_user("sam", password="s3cret", team="west")
        other = tmp_path / "sam.sqlite"
        assert (
            run(
                tmp_path,
                "login",
                "--db",
                str(other),
                "--server",
                srv.base,
                "--username",
                "sam",
                stdin="s3cret\n",
            ).returncode
            == 0
        )
        db = open_database(other)
        with db.write() as s:
            for i in range(150):
                s.add(Contact(name=f"Team {i}", about=os.urandom(1500).hex()))  # ~450 kB in all
        db.close()
        assert run(tmp_path, "sync", "--db", str(other)).returncode == 0
        disk = small_disk("4m")
        path = disk / "rita.sqlite"
        login = ("login", "--db", str(path), "--server", srv.base, "--username", "rita")
        assert run(tmp_path, *login, stdin="s3cret\n").returncode == 0
        db = open_database(path)
        with db.write() as s:
            mine = Contact(name="Rita's own")
            s.add(mine)
            s.flush()
            mine_id = mine.id
        db.close()
        fill_up(disk, leave=200_000)
        refused(run(tmp_path, "sync", "--db", str(path)), "disk is full")
        (disk / "filler").unlink()
        out = run(tmp_path, "sync", "--db", str(path))
        assert out.returncode == 0, out.stderr
        db = open_database(path)
        with db.read() as s:
            names = set(s.scalars(select(Contact.name)))
        db.close()
        assert names == {"Rita's own"} | {f"Team {i}" for i in range(150)}
        rows = srv.rows("team:west")
        assert ("contact", str(mine_id)) in rows and len(rows) == 151
    finally:
        srv.stop()
        srv.close_admin()
