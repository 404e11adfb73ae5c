"""Scenario 9: a cursor older than tombstone retention, and a server restored from a backup
(new epoch). Both recover with the outbox intact and no ghost rows.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from models.types import utcnow
from sync.store import K_CURSOR, K_EPOCH
from tests.sync_support import (  # fixtures are imported by name
    PG_URL,
    ROOT,
    Laptop,
    ServerProcess,
    backend,
    contact,
    laptops,
    server,
    shared_server,
    sync_state,
    tag,
)


def _cli(server: ServerProcess, *args: str) -> str:
    server.close_admin()
    done = subprocess.run(
        [sys.executable, "-m", "sync.server", *args, "--database-url", server.url_db],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


def _live(lap: Laptop) -> dict[tuple[str, str], dict[str, Any]]:
    return {k: v for k, v in lap.snapshot().items() if not v["deleted"]}


def test_cursor_older_than_tombstone_retention(laptops: Callable[..., Laptop], server: ServerProcess) -> None:
    ann, bob = laptops("ann"), laptops("bob")
    ids = [ann.add(contact(f"T{i}")) for i in range(5)]
    ann.sync()
    bob.sync()
    for cid in ids[:2]:
        ann.edit("contact", cid, deleted_at=utcnow())
    ann.sync()
    assert "purged 2 tombstone(s)" in _cli(server, "purge-tombstones", "--older-than-days", "0")
    bob.edit("contact", ids[4], role="offline edit")
    new = bob.add(contact("Made offline"))
    summary = bob.sync()
    assert summary.reconciled == 2  # the collected deletes reached Bob through the id lists
    assert bob.get("contact", ids[0]) is None and bob.get("contact", ids[1]) is None
    assert bob.outbox() == 0
    ann.sync()
    assert ann.get("contact", ids[4]).role == "offline edit"
    assert ann.get("contact", new).name == "Made offline"
    assert _live(ann) == _live(bob)


def _backup(server: ServerProcess, dest: Path) -> str:
    """Copy the stopped server's database; returns what ``_restore`` needs."""
    server.close_admin()
    if server.url_db.startswith("sqlite"):
        src = Path(server.url_db.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            if Path(f"{src}{suffix}").exists():
                shutil.copy(f"{src}{suffix}", f"{dest}{suffix}")
        return str(dest)
    import psycopg

    name = server.url_db.rsplit("/", 1)[1]
    copy = f"{name}_bak"
    with psycopg.connect(PG_URL.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{name}"')
    return copy


def _restore(server: ServerProcess, saved: str) -> None:
    server.close_admin()
    if server.url_db.startswith("sqlite"):
        dst = Path(server.url_db.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{dst}{suffix}").unlink(missing_ok=True)
            if Path(f"{saved}{suffix}").exists():
                shutil.copy(f"{saved}{suffix}", f"{dst}{suffix}")
        return
    import psycopg

    name = server.url_db.rsplit("/", 1)[1]
    with psycopg.connect(PG_URL.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{saved}"')
        conn.execute(f'DROP DATABASE "{saved}"')


def test_server_restored_from_backup(
    laptops: Callable[..., Laptop], server: ServerProcess, tmp_path: Path
) -> None:
    ann, bob = laptops("ann"), laptops("bob")
    before = ann.add(contact("Before the backup"))
    changed = ann.add(contact("Changed after the backup"))
    ann.sync()
    bob.sync()
    server.stop()
    saved = _backup(server, tmp_path / "backup.sqlite")
    server.start()
    lost = ann.add(contact("After the backup"))
    ann.edit("contact", changed, role="an edit the restore loses")
    ann.sync()
    bob.sync()
    assert bob.get("contact", lost) is not None
    server.stop()
    _restore(server, saved)
    assert "new epoch" in _cli(server, "new-epoch")
    server.start()
    old_epoch = sync_state(bob, K_EPOCH)
    pending = bob.add(contact("Made while the server was down"))
    bob.edit("contact", before, role="edited after the restore")
    bob.sync()
    assert sync_state(bob, K_EPOCH) != old_epoch
    assert bob.outbox() == 0
    # The row the restored server never heard of is not kept as a ghost.
    assert bob.get("contact", lost) is None
    ann.sync()
    assert ann.get("contact", lost) is None
    assert ann.get("contact", pending).name == "Made while the server was down"
    assert ann.get("contact", before).role == "edited after the restore"
    assert sync_state(ann, K_CURSOR)["epoch"] == sync_state(bob, K_EPOCH)
    # Versions from before the restore do not make the restored row look stale.
    assert ann.get("contact", changed).role == bob.get("contact", changed).role == ""
    assert _live(ann) == _live(bob)
