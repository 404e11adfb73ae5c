"""Desktop reminders through the system tray: commitments due today, a visit within the hour,
birthdays today (what is due: ``models/services/reminders.py``).

A timer checks every minute while the app runs, the query off the GUI thread; each item is shown
once a day (remembered in the settings, so a restart does not repeat the morning's). Preferences
turns them on or off. Where the desktop has no system tray (some Wayland desktops, offscreen
tests) it is logged once and nothing else happens; Preferences says why nothing arrives.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication, QSystemTrayIcon, QWidget

from models.services import reminders
from models.services.reminders import Reminder, ShownToday
from models.types import utcnow
from ui.context import AppContext
from ui.settings import app_settings

log = logging.getLogger(__name__)

CHECK_EVERY_MS = 60_000
FIRST_CHECK_MS = 5_000  # after start, once the first pages have loaded
SHOWN_KEY = "reminders/shown"

Notify = Callable[[str, str], None]


def tray_available() -> bool:
    return QSystemTrayIcon.isSystemTrayAvailable()


def reminders_hint() -> str:
    """Preferences' words under the switch: the one place a rep learns why none arrive."""
    if tray_available():
        return "A notification from the system tray, once a day per item, while Rapport is open"
    return "This desktop has no system tray, so Rapport cannot show reminders here"


class Reminders(QObject):
    """Checks on a timer and shows what is new as one tray message.

    ``notify`` and ``clock`` are for tests: the tray cannot be watched offscreen, and "now" is
    whatever the test needs (a visit 40 minutes ahead)."""

    reminded = Signal(str, str)  # title, body: what was shown

    def __init__(
        self,
        ctx: AppContext,
        window: QWidget,
        *,
        notify: Notify | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        super().__init__(window)
        self.ctx, self.window, self.clock = ctx, window, clock
        self.enabled = False
        self._checking = False
        self._shown = ShownToday.load(str(app_settings().value(SHOWN_KEY, "")))
        self.tray: QSystemTrayIcon | None = None
        self._notify = notify
        self.available = notify is not None or tray_available()
        self._said_unavailable = False
        self.timer = QTimer(self)
        self.timer.setInterval(CHECK_EVERY_MS)
        self.timer.timeout.connect(self.check_now)
        self.first = QTimer(self)
        self.first.setSingleShot(True)
        self.first.setInterval(FIRST_CHECK_MS)
        self.first.timeout.connect(self.check_now)

    def set_enabled(self, on: bool) -> None:
        """Preferences' switch: on starts the timer (and a check soon), off stops it and hides
        the tray icon."""
        self.enabled = on
        if not on:
            self.timer.stop()
            self.first.stop()
            if self.tray is not None:
                self.tray.hide()
            return
        if not self.available:
            if not self._said_unavailable:
                self._said_unavailable = True
                log.info("No system tray on this desktop: reminders cannot be shown.")
            return
        self.timer.start()
        self.first.start()

    def stop(self) -> None:
        self.set_enabled(False)

    def check_now(self) -> None:
        if not self.enabled or not self.available or self._checking:
            return  # a slow check is still running: the next tick asks again
        self._checking = True
        now = self.clock()
        today = now.astimezone().date()  # the rep's calendar day

        def done(found: list[Reminder]) -> None:
            self._checking = False
            self._deliver(found, today)

        def failed(exc: BaseException) -> None:
            self._checking = False
            self.ctx.presenter.present(exc)

        self.ctx.query(lambda s: reminders.due_reminders(s, today=today, now=now), done, failed)

    def _deliver(self, found: list[Reminder], today: date) -> None:
        if not self.enabled:
            return  # turned off while the query ran
        new = self._shown.take_new(found, today)
        app_settings().setValue(SHOWN_KEY, self._shown.dump())
        if not new:
            return
        title, body = reminders.summary(new)
        self._show(title, body)
        self.reminded.emit(title, body)

    def _show(self, title: str, body: str) -> None:
        if self._notify is not None:
            self._notify(title, body)
            return
        if self.tray is None:
            self.tray = QSystemTrayIcon(QApplication.windowIcon(), self)
            self.tray.setToolTip("Rapport")
            self.tray.messageClicked.connect(self._on_message_clicked)
            self.tray.activated.connect(lambda _reason: self._on_message_clicked())
        self.tray.show()
        self.tray.showMessage(title, body, QSystemTrayIcon.MessageIcon.Information, 15_000)

    def _on_message_clicked(self) -> None:
        # The rep wants the details: bring the window up on Today.
        self.window.showNormal()
        self.window.raise_()
        self.window.activateWindow()
        show_today = getattr(self.window, "show_today", None)
        if callable(show_today):
            show_today()
