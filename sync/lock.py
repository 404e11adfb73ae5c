"""One sync per database at a time, across processes: an OS lock on a file beside the database.

The GUI's timer and ``main.py sync`` may start a sync of the same file at once; two interleaved
syncs number the same outbox entries and insert the same pulled rows. The lock is ``flock`` on
POSIX (a second open of the file in the same process conflicts too, unlike ``fcntl`` record
locks) and ``msvcrt.locking`` on Windows; the OS drops it when a process dies, so a crashed
sync never leaves the database locked.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from models.errors import Cancelled
from sync.errors import SyncBusy, SyncFailed

POLL = 0.1


def lock_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".sync-lock")


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock(fd: int) -> None:
    if sys.platform == "win32":
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_UN)


def _open_locked(path: Path) -> int | None:
    """The lock file's descriptor, locked; None if another sync holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        # The holder before us may have removed the file between our open and our lock: then
        # we would hold a lock nobody else can see, so start again on the file now there.
        if _try_lock(fd) and (sys.platform == "win32" or _same_file(fd, path)):
            return fd
        os.close(fd)
    except BaseException:
        os.close(fd)
        raise
    return None


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except FileNotFoundError:
        return False


@contextmanager
def sync_lock(db_path: Path, *, wait: float, cancel: threading.Event | None = None) -> Iterator[None]:
    """Hold this database's sync lock; wait up to ``wait`` seconds for another sync to finish.

    The lock file is removed on release (still locked, so a waiting process notices, see
    ``_open_locked``): the database's folder holds nothing new after a sync.
    """
    path = lock_path(db_path)
    deadline = time.monotonic() + wait
    while True:
        try:
            fd = _open_locked(path)
        except OSError as exc:
            raise SyncFailed(
                f"Cannot sync: the lock file {path} cannot be made ({exc.strerror or exc}). "
                "Check that the database's folder may be written to and the disk is not full."
            ) from exc
        if fd is not None:
            break
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        if time.monotonic() >= deadline:
            raise SyncBusy(
                "Another sync of this database is already running (the Rapport window's, or "
                "another `rapport sync`). Your changes are kept; try again when it has finished."
            )
        time.sleep(POLL)
    try:
        yield
    finally:
        if sys.platform != "win32":  # Windows cannot remove a file that is open
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        _unlock(fd)
        os.close(fd)
