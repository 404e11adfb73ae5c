"""What every view needs, built once by the app: the database, the task runner, the error
presenter, and a bus that tells views which kinds of rows changed."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget
from sqlalchemy.orm import Session

from models.changes import changed_entities
from models.db import Database
from ui.errors import ErrorPresenter
from ui.tasks import ErrorHandler, TaskRunner

T = TypeVar("T")


class ChangeBus(QObject):
    """Bursts of changes are merged into one refresh (a 0 ms single-shot timer per burst)."""

    changed = Signal(object)  # set[str] of entity names, e.g. {"contact", "note"}

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pending: set[str] = set()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._flush)

    def notify(self, entities: set[str]) -> None:
        if not entities:
            return
        self._pending |= entities
        self._timer.start()

    def _flush(self) -> None:
        pending, self._pending = self._pending, set()
        self.changed.emit(pending)


class AppContext(QObject):
    def __init__(self, db: Database, presenter: ErrorPresenter, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.presenter = presenter
        self.tasks = TaskRunner(presenter.present, self)
        self.bus = ChangeBus(self)

    def query(
        self,
        fn: Callable[[Session], T],
        on_done: Callable[[T], None] | None = None,
        on_error: ErrorHandler | None = None,
    ) -> None:
        """Run ``fn`` in a read transaction off the GUI thread."""

        def job() -> T:
            with self.db.read() as s:
                return fn(s)

        self.tasks.read(job, on_done, on_error)

    def act(
        self,
        fn: Callable[[Session], T],
        on_done: Callable[[T], None] | None = None,
        on_error: ErrorHandler | None = None,
    ) -> None:
        """Run one user action (one write transaction) off the GUI thread, then tell the views."""

        def job() -> tuple[T, set[str]]:
            with self.db.write() as s:
                result = fn(s)
                s.flush()
                return result, changed_entities(s)

        def done(out: tuple[T, set[str]]) -> None:
            result, entities = out
            self.bus.notify(entities)
            if on_done is not None:
                on_done(result)

        self.tasks.write(job, done, on_error)

    def run_write(
        self, fn: Callable[[], T], entities: set[str], on_done: Callable[[T], None] | None = None
    ) -> None:
        """Writes that manage their own transactions (sample data, sync)."""

        def done(result: T) -> None:
            self.bus.notify(entities)
            if on_done is not None:
                on_done(result)

        self.tasks.write(fn, done)


class RefreshWhenShown(QObject):
    """Reload a view now if it is on screen, else the next time it is shown.

    Hidden pages (the trash, 5,000 commitments) then cost nothing while the rep types notes.
    """

    def __init__(self, view: QWidget, reload: Callable[[], None]) -> None:
        super().__init__(view)
        self._view, self._reload, self._stale = view, reload, True
        view.installEventFilter(self)

    def request(self) -> None:
        if self._view.isVisible():
            self._stale = False
            self._reload()
        else:
            self._stale = True

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._view and event.type() == QEvent.Type.Show and self._stale:
            self._stale = False
            self._reload()
        return False
