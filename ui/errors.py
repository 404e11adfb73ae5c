"""One place that shows errors to the rep, and the hooks that route stray exceptions to it.

Errors are presented by class (``models.errors``), never by parsing messages: a
:class:`RapportError` is something the rep can act on and is shown as written; a cancellation is
silent; anything else is a bug, logged with its traceback and reported with the log's location.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from models import errors

log = logging.getLogger(__name__)


def describe(exc: BaseException) -> tuple[str, str]:
    """(title, message) for the rep."""
    if isinstance(exc, errors.RapportError):
        return exc.title, str(exc)
    return (
        "Rapport hit an unexpected problem",
        "Something went wrong that Rapport did not expect. Your saved data is safe; the action "
        "that failed was not applied.",
    )


class ErrorPresenter(QObject):
    """Shows errors in a dialog; safe to call from any thread (it hops to the GUI thread)."""

    error_shown = Signal(str, str)  # title, message (tests and the status bar listen)
    _posted = Signal(object)

    def __init__(self, log_file: Path | None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.log_file = log_file
        self.interactive = True  # tests turn dialogs off and listen to error_shown instead
        self._posted.connect(self._show, Qt.ConnectionType.QueuedConnection)

    def present(self, exc: BaseException, parent: QWidget | None = None) -> None:
        if isinstance(exc, errors.Cancelled):
            return
        if not isinstance(exc, errors.RapportError):
            log.error("unexpected error", exc_info=(type(exc), exc, exc.__traceback__))
        if threading.current_thread() is threading.main_thread():
            self._show(exc, parent)
        else:
            self._posted.emit(exc)

    @Slot(object)
    def _show(self, exc: BaseException, parent: QWidget | None = None) -> None:
        title, message = describe(exc)
        details = ""
        if not isinstance(exc, errors.RapportError):
            where = f"\n\nDetails were written to the log file:\n{self.log_file}" if self.log_file else ""
            message += where
            details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        self.error_shown.emit(title, message)
        if not self.interactive:
            return
        box = QMessageBox(
            QMessageBox.Icon.Warning if isinstance(exc, errors.RapportError) else QMessageBox.Icon.Critical,
            title,
            message,
            QMessageBox.StandardButton.Ok,
            parent or QApplication.activeWindow(),
        )
        if details:
            box.setDetailedText(details)
        box.exec()


def install_excepthooks(presenter: ErrorPresenter) -> None:
    """Route exceptions nobody caught (GUI thread, Python threads) to the log and the presenter."""

    def _hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, exc, tb)
            return
        presenter.present(exc.with_traceback(tb))

    def _thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            presenter.present(args.exc_value)

    sys.excepthook = _hook
    threading.excepthook = _thread_hook
