"""``main.py login`` and ``main.py sync`` as real processes against a real server (SQLite)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from models.db import open_database
from models.entities import Contact, OutboxEntry
from tests.support.sync_support import ROOT, ServerProcess


@pytest.fixture
def cli_server(tmp_path: Path) -> Iterator[ServerProcess]:
    srv = ServerProcess(f"sqlite:///{tmp_path / 'server.sqlite'}", tmp_path / "server.log")
    srv.start()
    srv.add_user("rita", password="s3cret", team="west")
    yield srv
    srv.stop()
    srv.close_admin()


def _login(
    tmp_path: Path, db_path: Path, server: ServerProcess, stdin: str, keyring_backend: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``main.py login`` as rita, the password on standard input."""
    args = ("login", "--db", str(db_path), "--server", server.base, "--username", "rita")
    return _run(tmp_path, *args, stdin=stdin, keyring_backend=keyring_backend)


def _run(
    tmp_path: Path, *args: str, stdin: str = "", keyring_backend: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.update(
        HOME=str(tmp_path / "home"),
        XDG_DATA_HOME=str(tmp_path / "xdg"),
        RAPPORT_DATA_DIR=str(tmp_path / "data"),
        PYTHON_KEYRING_BACKEND=keyring_backend or "keyrings.alt.file.PlaintextKeyring",
    )
    return subprocess.run(
        [sys.executable, *(args if args[0] == "-c" else ("main.py", *args))],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _outbox(db_path: Path) -> int:
    db = open_database(db_path)
    try:
        with db.read() as s:
            return len(list(s.scalars(select(OutboxEntry.seq))))
    finally:
        db.close()


def test_login_then_sync(cli_server: ServerProcess, tmp_path: Path) -> None:
    db_path = tmp_path / "rita.sqlite"
    db = open_database(db_path)
    with db.write() as s:
        s.add(Contact(name="Walter"))
    db.close()
    out = _login(tmp_path, db_path, cli_server, "s3cret\n")
    assert out.returncode == 0, out.stderr
    assert "keychain" in out.stdout
    out = _run(tmp_path, "sync", "--db", str(db_path))
    assert out.returncode == 0, out.stderr
    assert "pushed 1, pulled 1, conflicts 0, rejected 0" in out.stdout
    # The token is in the keychain (here keyrings.alt's file), never in the database.
    probe = _run(
        tmp_path,
        "-c",
        f"import keyring; print(keyring.get_password('rapport-sync', '{cli_server.base} rita'))",
    )
    secret = probe.stdout.strip()
    assert len(secret) > 20 and secret != "None"
    db_bytes = b"".join(p.read_bytes() for p in tmp_path.glob("rita.sqlite*"))
    assert secret.encode() not in db_bytes
    assert _outbox(db_path) == 0


def test_wrong_password_unreachable_and_no_keychain(cli_server: ServerProcess, tmp_path: Path) -> None:
    db_path = tmp_path / "rita.sqlite"
    out = _login(tmp_path, db_path, cli_server, "nope\n")
    assert out.returncode != 0 and "did not accept your login" in out.stderr
    out = _run(tmp_path, "sync", "--db", str(db_path))
    assert out.returncode != 0 and "rapport login" in out.stderr
    out = _login(tmp_path, db_path, cli_server, "s3cret\n")
    assert out.returncode == 0
    db = open_database(db_path)
    with db.write() as s:
        s.add(Contact(name="Offline change"))
    db.close()
    cli_server.stop()
    out = _run(tmp_path, "sync", "--db", str(db_path))
    assert out.returncode != 0 and "Cannot reach the sync server" in out.stderr
    assert _outbox(db_path) == 1  # a failed sync leaves the local data as it was
    cli_server.start()
    out = _login(tmp_path, db_path, cli_server, "s3cret\n", keyring_backend="keyring.backends.fail.Keyring")
    assert out.returncode == 0 and "no keychain" in out.stdout and "this run only" in out.stdout
