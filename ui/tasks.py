"""The task runner: database and network work off the GUI thread, results back on it.

Modelled on Anki's ``aqt/taskman.py``: a function is submitted with a success slot and,
optionally, an error slot; both are called on the GUI thread through a queued signal, so only
they touch widgets. Exceptions without an error slot go to the one error presenter.

Writes go through a pool of one thread (SQLite has one writer, and actions then apply in the
order the rep made them); reads use a separate small pool so a slow write never stalls a list.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import partial
from typing import TypeVar

from PySide6.QtCore import QObject, QRunnable, QThread, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)

ErrorHandler = Callable[[BaseException], None]
T = TypeVar("T")


class _Relay(QObject):
    """Lives on the GUI thread; its signals carry results across threads (queued)."""

    # What to call on the GUI thread: the success slot with its result already bound, or the
    # error slot (None for the presenter) and the error. Binding the result in the worker
    # keeps its type between the function and its slot (a signal's arguments have none).
    finished = Signal(object, object, object)  # deliver, on_error, error


class _Job(QRunnable):
    def __init__(
        self, run: Callable[[], Callable[[], None] | None], relay: _Relay, on_error: ErrorHandler | None
    ) -> None:
        super().__init__()
        self._run, self._relay, self._on_error = run, relay, on_error
        self.setAutoDelete(True)

    def run(self) -> None:
        try:
            deliver = self._run()
        except BaseException as exc:  # handed to the GUI thread, never swallowed
            self._relay.finished.emit(None, self._on_error, exc)
        else:
            self._relay.finished.emit(deliver, None, None)


class TaskRunner(QObject):
    """Runs callables in worker threads and calls back on the GUI thread."""

    busy_changed = Signal(bool)

    def __init__(self, on_unhandled: ErrorHandler, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._on_unhandled = on_unhandled
        self._relay = _Relay(self)
        self._relay.finished.connect(self._on_finished)
        self._writes = QThreadPool(self)
        self._writes.setMaxThreadCount(1)
        self._reads = QThreadPool(self)
        self._reads.setMaxThreadCount(2)
        # Long jobs (a sync, a bulk export) get a lane of their own, so the rep's edits and
        # lists never queue behind them.
        self._long = QThreadPool(self)
        self._long.setMaxThreadCount(1)
        # Background housekeeping (the daily backup's minute-long integrity check on a big
        # file): at low priority, and beside a sync rather than in front of it.
        self._background = QThreadPool(self)
        self._background.setMaxThreadCount(1)
        self._background.setThreadPriority(QThread.Priority.LowPriority)
        self._pending = 0
        self._lock = threading.Lock()
        self._stopped = False

    def read(
        self,
        fn: Callable[[], T],
        on_done: Callable[[T], None] | None = None,
        on_error: ErrorHandler | None = None,
    ) -> None:
        """Run a read-only query in the background."""
        self._submit(self._reads, fn, on_done, on_error)

    def write(
        self,
        fn: Callable[[], T],
        on_done: Callable[[T], None] | None = None,
        on_error: ErrorHandler | None = None,
    ) -> None:
        """Run a write (one user action, one transaction) on the single writer thread."""
        self._submit(self._writes, fn, on_done, on_error)

    def long(
        self,
        fn: Callable[[], T],
        on_done: Callable[[T], None] | None = None,
        on_error: ErrorHandler | None = None,
    ) -> None:
        """Run a long job (it manages its own transactions) beside reads and writes."""
        self._submit(self._long, fn, on_done, on_error)

    def background(
        self,
        fn: Callable[[], T],
        on_done: Callable[[T], None] | None = None,
        on_error: ErrorHandler | None = None,
    ) -> None:
        """Run housekeeping (it manages its own connections) at low priority, beside the rest."""
        self._submit(self._background, fn, on_done, on_error)

    def _submit(
        self,
        pool: QThreadPool,
        fn: Callable[[], T],
        on_done: Callable[[T], None] | None,
        on_error: ErrorHandler | None,
    ) -> None:
        if self._stopped:
            # The window is closed and its database about to be: a timer or a late signal of
            # the closed window must not start a query on a file being closed or replaced.
            log.info("task dropped: the runner is stopped")
            return

        def run() -> Callable[[], None] | None:
            result = fn()
            return None if on_done is None else partial(on_done, result)

        self._pending += 1
        if self._pending == 1:
            self.busy_changed.emit(True)
        pool.start(_Job(run, self._relay, on_error))

    @Slot(object, object, object)
    def _on_finished(
        self, deliver: Callable[[], None] | None, on_error: ErrorHandler | None, error: BaseException | None
    ) -> None:
        self._pending -= 1
        if self._pending == 0:
            self.busy_changed.emit(False)
        try:
            if error is not None:
                if on_error is not None:
                    on_error(error)
                else:
                    self._on_unhandled(error)
            elif deliver is not None:
                deliver()
        except Exception as exc:  # a bug in a slot: report it, keep the app alive
            log.exception("error in task callback")
            self._on_unhandled(exc)

    @property
    def pending(self) -> int:
        return self._pending

    def stop(self, msecs: int = 30_000) -> bool:
        """Take no more jobs and wait for those running: before the database is closed."""
        self._stopped = True
        return self.wait_idle(msecs)

    def wait_idle(self, msecs: int = 30_000) -> bool:
        """Block until both pools are idle (for shutdown and tests, never from a slot)."""
        pools = (self._background, self._long, self._writes, self._reads)
        return all(pool.waitForDone(msecs) for pool in pools)
