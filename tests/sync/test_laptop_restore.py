"""A laptop restored from one of its own backups (models/restore.py), the mirror of a server
restored from one (test_recovery.py): the server is ahead of the laptop now. What was synced
after the backup comes back, what only the backup held reaches the server, nothing is applied
twice or duplicated, and edits made after the restore are not taken for replays."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from models.backup import make_backup
from models.db import open_database
from models.restore import RESTORED_KEY, restore_backup
from sync.store import K_CLIENT
from tests.support.sync_support import Laptop, contact


def _restore(lap: Laptop, folder: Path, backup_path: Path) -> None:
    """What Restore from backup… does: the app closes the file, restores, opens it again."""
    from models.backup import list_backups

    lap.close()
    chosen = next(b for b in list_backups(lap.path, [folder]) if b.path == backup_path)
    restore_backup(lap.path, chosen, folder)
    lap.db = open_database(lap.path, backup=False)


def _names(lap: Laptop) -> list[str]:
    return sorted(v["name"] for (entity, _id), v in lap.snapshot().items() if entity == "contact")


def test_restored_laptop_gets_back_what_it_synced_and_sends_what_it_made(
    laptops: Callable[..., Laptop], tmp_path: Path
) -> None:
    ann, bob = laptops("ann"), laptops("bob")
    folder = tmp_path / "backups"
    shared = ann.add(contact("Shared", role="first"))
    ann.sync()
    bob.sync()

    # The backup holds an edit not yet sent; the laptop goes on and syncs it, and more.
    ann.edit("contact", shared, role="ann before the backup")
    backup = make_backup(ann.path, folder).backup.path
    ann.sync()
    after = ann.add(contact("Made after the backup"))
    ann.sync()
    bob.sync()
    bob.edit("contact", shared, role="bob, later")  # newer than the edit the backup still holds
    bob.sync()

    _restore(ann, folder, backup)
    assert ann.get("contact", after) is None  # the backup is older
    with ann.db.read() as s:
        from models.entities import Meta

        mark = s.get(Meta, RESTORED_KEY)
        old_client = s.get(Meta, K_CLIENT)
    assert mark is not None and mark.value["outbox_through"] > 0
    assert old_client is not None
    # An edit after the restore, before the first sync: numbered after the backup's entries,
    # i.e. with ids the laptop already spent on other changes after the backup.
    since = ann.add(contact("Made after the restore"))
    ann.edit("contact", shared, tags=["restored"])

    ann.sync()
    bob.sync()

    assert ann.table("sync_rejections") == []  # nothing taken for a replay of another change
    assert ann.table("sync_conflicts") == [] and bob.table("sync_conflicts") == []
    assert ann.outbox() == 0
    # Synced after the backup: back on the restored laptop.
    assert ann.get("contact", after).name == "Made after the backup"
    # The edit the backup still held had been applied: it is not applied again over Bob's.
    assert ann.get("contact", shared).role == "bob, later"
    assert bob.get("contact", shared).role == "bob, later"
    # Made after the restore: on the server, and so on Bob's laptop.
    assert bob.get("contact", since).name == "Made after the restore"
    assert bob.get("contact", shared).tags == ["restored"]
    # Nothing twice, and both replicas agree.
    assert _names(ann) == ["Made after the backup", "Made after the restore", "Shared"]
    assert ann.snapshot() == bob.snapshot()
    with ann.db.read() as s:
        from models.entities import Meta

        assert s.get(Meta, RESTORED_KEY).value is None  # settled once
        assert s.get(Meta, K_CLIENT).value != old_client.value  # registered afresh

    # Later syncs are ordinary ones.
    ann.edit("contact", since, role="one more")
    ann.sync()
    bob.sync()
    assert bob.get("contact", since).role == "one more"


def test_what_only_the_backup_held_reaches_the_server(laptops: Callable[..., Laptop], tmp_path: Path) -> None:
    ann, bob = laptops("ann"), laptops("bob")
    folder = tmp_path / "backups"
    ann.add(contact("Synced"))
    ann.sync()
    only = ann.add(contact("Only in the backup"))
    backup = make_backup(ann.path, folder).backup.path
    lost = ann.add(contact("Lost with the disk"))  # never synced, not in the backup

    _restore(ann, folder, backup)
    ann.sync()
    bob.sync()

    assert bob.get("contact", only).name == "Only in the backup"
    assert ann.get("contact", lost) is None and bob.get("contact", lost) is None
    assert _names(bob) == ["Only in the backup", "Synced"]
    assert ann.snapshot() == bob.snapshot()
    assert ann.table("sync_rejections") == []
