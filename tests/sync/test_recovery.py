"""Scenario 9: a cursor older than tombstone retention, and a server restored from a backup
(new epoch). Both recover with the outbox intact and no ghost rows.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from models.types import utcnow
from sync.errors import ServerUnreachable
from sync.store import K_CLIENT, K_CURSOR, K_EPOCH, K_NEXT_MID
from tests.support.sync_support import (
    PG_URL,
    ROOT,
    CutBodyTransport,
    FaultyTransport,
    Laptop,
    ServerProcess,
    contact,
    raw_post,
    raw_snapshot,
    sync_state,
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
    """The admin's ``new-epoch`` after a restore: the work synced after the backup comes back
    from Bob's laptop, the outbox survives, and a row deleted and collected before the backup is
    not brought back by a laptop that never heard of the delete (no ghost)."""
    ann, bob, cat = laptops("ann"), laptops("bob"), laptops("cat")
    before = ann.add(contact("Before the backup"))
    changed = ann.add(contact("Changed after the backup"))
    collected = ann.add(contact("Deleted and collected before the backup"))
    for lap in (ann, bob, cat):
        lap.sync()
    ann.edit("contact", collected, deleted_at=utcnow())
    ann.sync()
    assert "purged 1 tombstone(s)" in _cli(server, "purge-tombstones", "--older-than-days", "0")
    server.stop()
    saved = _backup(server, tmp_path / "backup.sqlite")
    server.start()
    lost = ann.add(contact("After the backup"))
    ann.edit("contact", changed, role="an edit made after the backup")
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
    assert bob.sync().given_back == 2  # the row and the edit the restored server lacked
    assert sync_state(bob, K_EPOCH) != old_epoch
    assert bob.outbox() == 0
    assert cat.sync().given_back == 0  # Cat saw nothing after the backup
    assert cat.get("contact", collected) is None  # and keeps no ghost of the collected row
    ann.sync()
    for lap in (ann, bob, cat):
        assert lap.get("contact", lost).name == "After the backup"
        assert lap.get("contact", changed).role == "an edit made after the backup"
        assert lap.get("contact", pending).name == "Made while the server was down"
        assert lap.get("contact", before).role == "edited after the restore"
        assert lap.get("contact", collected) is None
        assert sync_state(lap, K_CURSOR)["epoch"] == sync_state(bob, K_EPOCH)
    assert _live(ann) == _live(bob) == _live(cat)


def _restore_and_restart(server: ServerProcess, saved: str, *, admin_step: bool) -> None:
    server.stop()
    _restore(server, saved)
    if admin_step:
        assert "new epoch" in _cli(server, "new-epoch")
    server.start()


def _names(rows: dict[tuple[str, str], dict[str, Any]]) -> list[str]:
    return sorted(str(v["name"]) for (entity, _), v in rows.items() if entity == "contact")


@pytest.mark.parametrize("admin_step", [False, True], ids=["detected", "new-epoch"])
def test_restore_loses_nothing_a_laptop_holds(
    laptops: Callable[..., Laptop], server: ServerProcess, tmp_path: Path, tag: str, admin_step: bool
) -> None:
    """Invariant 7. Creates, edits and deletes synced after the backup come back from whichever
    laptop still holds them (Ann's laptop is lost with the restore); the idle laptop notices by
    itself; deletes stay deleted whatever order the laptops return in; Bob's outbox survives."""
    ann, bob, cat = laptops("ann"), laptops("bob"), laptops("cat")
    before = [ann.add(contact(f"Before {i}")) for i in range(4)]
    for lap in (ann, bob, cat):
        lap.sync()
    server.stop()
    saved = _backup(server, tmp_path / "backup.sqlite")
    server.start()
    server.stop()  # a restart after the backup: a generation the restored database never saw
    server.start()
    made_by_ann = [ann.add(contact(f"Ann after {i}")) for i in range(3)]
    ann.edit("contact", before[0], role="edited after the backup")
    ann.edit("contact", before[1], deleted_at=utcnow())
    ann.sync()
    made_by_bob = bob.add(contact("Bob after"))
    bob.sync()
    gone = ann.add(contact("Made and deleted after the backup"))
    ann.sync()
    bob.sync()  # Bob holds it live ...
    ann.edit("contact", gone, deleted_at=utcnow())
    ann.sync()
    cat.sync()  # ... Cat holds its delete, and then stays idle
    bob.edit("contact", before[2], role="pending on Bob")
    expected = server.snapshot(f"team:north-{tag}")
    expected[("contact", str(before[2]))]["role"] = "pending on Bob"

    _restore_and_restart(server, saved, admin_step=admin_step)
    first, second = (bob, cat) if admin_step else (cat, bob)
    summary = first.sync()
    assert summary.given_back > 0, "the laptop did not notice that the server went back in time"
    second.sync()
    for lap in (first, second):
        lap.sync()
    dan = laptops("dan")
    dan.sync()

    held = server.snapshot(f"team:north-{tag}")
    assert held == expected
    for row_id in [*made_by_ann, made_by_bob]:
        assert dan.get("contact", row_id).deleted_at is None
    assert len(_names(held)) == len(set(_names(held))) == 4 + 3 + 1 + 1
    assert held[("contact", str(gone))]["deleted"] and held[("contact", str(before[1]))]["deleted"]
    assert bob.outbox() == cat.outbox() == 0
    assert _live(dan) == _live(bob) == _live(cat)
    assert {k for k, v in expected.items() if not v["deleted"]} == set(_live(dan))
    # Nothing more to give back: the next sync of each is an ordinary one.
    assert cat.sync().given_back == bob.sync().given_back == 0


def test_restore_noticed_after_new_writes_reuse_the_versions(
    laptops: Callable[..., Laptop], server: ServerProcess, tmp_path: Path
) -> None:
    """Writes made after the restore push the counter past the idle laptop's cursor: the cursor
    looks valid by its number, but its generation says it came from a history the server lost."""
    ann, cat = laptops("ann"), laptops("cat")
    ann.sync()
    cat.sync()
    server.stop()
    saved = _backup(server, tmp_path / "backup.sqlite")
    server.start()
    lost = [ann.add(contact(f"Lost {i}")) for i in range(3)]
    ann.sync()
    cat.sync()  # Cat holds them, then stays idle
    _restore_and_restart(server, saved, admin_step=False)
    ann.close()  # Ann's laptop is gone too; Dora starts fresh after the restore
    dora = laptops("dora")
    fresh = [dora.add(contact(f"New {i}")) for i in range(6)]
    assert dora.sync().given_back == 0
    assert cat.sync().given_back == 3
    dora.sync()
    for row_id in [*lost, *fresh]:
        assert cat.get("contact", row_id).deleted_at is None
        assert dora.get("contact", row_id).deleted_at is None
    assert _live(cat) == _live(dora)


def test_acknowledged_delete_not_yet_pulled_stays_deleted(
    laptops: Callable[..., Laptop], server: ServerProcess, tmp_path: Path, tag: str
) -> None:
    """Ann's delete and edit were acknowledged but her pull never came back before the restore:
    her cursor is from before the backup, yet she notices (the server forgot her acknowledged
    mutations) and gives both back."""
    ann, bob = laptops("ann"), laptops("bob")
    doomed, edited = ann.add(contact("Doomed")), ann.add(contact("Edited"))
    ann.sync()
    bob.sync()
    server.stop()
    saved = _backup(server, tmp_path / "backup.sqlite")
    server.start()
    ann.edit("contact", doomed, deleted_at=utcnow())
    ann.edit("contact", edited, role="acknowledged, never pulled")
    cut = FaultyTransport()
    cut.add("/pull", "cut_before", times=100)
    with pytest.raises(ServerUnreachable):
        ann.sync(cut)
    assert ann.outbox() == 0
    _restore_and_restart(server, saved, admin_step=False)
    assert ann.sync().given_back == 2
    bob.sync()
    held = server.snapshot(f"team:north-{tag}")
    assert held[("contact", str(doomed))]["deleted"]
    assert held[("contact", str(edited))]["role"] == "acknowledged, never pulled"
    for lap in (ann, bob):
        assert ("contact", str(doomed)) not in _live(lap)
        assert lap.get("contact", edited).role == "acknowledged, never pulled"
    assert _live(ann) == _live(bob)


def test_the_later_of_two_lost_versions_wins(
    laptops: Callable[..., Laptop], server: ServerProcess, tmp_path: Path, tag: str
) -> None:
    """Bob and Cat hold different versions of the same rows from the lost history: whichever
    gives back first, the later version is what the server keeps, with no conflict record."""
    ann, bob, cat = laptops("ann"), laptops("bob"), laptops("cat")
    x, y = ann.add(contact("X")), ann.add(contact("Y"))
    for lap in (ann, bob, cat):
        lap.sync()
    server.stop()
    saved = _backup(server, tmp_path / "backup.sqlite")
    server.start()
    ann.edit("contact", x, role="first")
    ann.edit("contact", y, role="first")
    ann.sync()
    bob.sync()
    ann.edit("contact", x, role="second")
    ann.sync()
    cat.sync()  # Cat: X second, Y first
    bob.edit("contact", y, role="second")
    cut = FaultyTransport()
    cut.add("/pull", "cut_before", times=100)
    with pytest.raises(ServerUnreachable):
        bob.sync(cut)  # Bob: X first, Y second (acknowledged, not pulled)
    expected = server.snapshot(f"team:north-{tag}")
    assert expected[("contact", str(x))]["role"] == expected[("contact", str(y))]["role"] == "second"
    _restore_and_restart(server, saved, admin_step=False)
    assert bob.sync().given_back == 2
    assert cat.sync().given_back == 2
    bob.sync()
    assert server.snapshot(f"team:north-{tag}") == expected
    assert _live(bob) == _live(cat)
    assert bob.table("sync_conflicts") == []


def test_restore_during_a_first_download(
    laptops: Callable[..., Laptop], server: ServerProcess, tmp_path: Path, tag: str
) -> None:
    """Dan's first download is cut after it kept rows written after the backup; the server is
    restored before it resumes: the resumed snapshot is refused, and Dan gives those rows back
    instead of keeping rows the server does not have."""
    ann, dan = laptops("ann"), laptops("dan")  # Dan signs in now and first syncs later
    for i in range(40):
        ann.add(contact(f"Old {i}"))
    ann.sync()
    server.stop()
    saved = _backup(server, tmp_path / "backup.sqlite")
    server.start()
    for i in range(40):
        ann.add(contact(f"Lost {i}"))
    ann.sync()  # then Ann's laptop is lost
    cut = CutBodyTransport("/snapshot", limit=len(raw_snapshot(dan)) * 3 // 4)
    with pytest.raises(ServerUnreachable):
        dan.sync(transport=cut, snapshot_batch=10, retries=0)
    kept = {name for name in _names(_live(dan)) if name.startswith("Lost")}
    assert kept, "the cut came before any row written after the backup was kept"
    _restore_and_restart(server, saved, admin_step=False)
    assert dan.sync().given_back >= len(kept)
    held = server.snapshot(f"team:north-{tag}")
    assert set(_names(held)) == {f"Old {i}" for i in range(40)} | kept
    assert len(_names(held)) == 40 + len(kept)
    assert _live(dan) == {k: v for k, v in held.items() if not v["deleted"]}


def test_a_forged_give_back_is_an_ordinary_merge(
    laptops: Callable[..., Laptop], server: ServerProcess
) -> None:
    """A give-back names where the histories part; a number that is no such point gets no
    special treatment: Ann's edit is not overwritten without a conflict record."""
    ann, bob = laptops("ann"), laptops("bob")
    row = ann.add(contact("X"))
    ann.sync()
    bob.sync()
    ann.edit("contact", row, role="Ann's edit")
    ann.sync()
    forged = {
        "mid": int(sync_state(bob, K_NEXT_MID) or 1),  # Bob has pushed nothing yet
        "entity": "contact",
        "row_id": str(row),
        "op": "create",
        "patch": {"name": "X", "role": "forged"},  # a give-back is a whole row, like any create
        "base": {"_restored": 10**12, "_was": 10**12},
    }
    body = {"client_id": sync_state(bob, K_CLIENT), "epoch": sync_state(bob, K_EPOCH), "mutations": [forged]}
    answer = raw_post(bob, "/push", body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["results"][0]["status"] == "conflict"
    bob.sync()
    kept = [c for c in bob.table("sync_conflicts") if c.field == "role"]
    assert [(c.kind, json.loads(c.lost)) for c in kept] == [("field", "Ann's edit")]
