"""Sync from the desktop: on demand, every few minutes, and when the network comes back; always
in the task runner's long lane, with progress, so the window never waits on the network.

The core (``sync.client``) knows nothing of Qt; this object turns its progress callback into a
queued signal (Electrum's labels plugin does the same with its hook) and keeps the status line.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
from PySide6.QtCore import QObject, QTimer, Signal

from models import errors
from models.entities import SYNCED_CLASSES
from sync import errors as sync_errors
from sync.client import SyncClient, SyncSummary, login
from sync.keychain import load_token, save_token
from sync.status import SyncStatus, link_server, record_success, sync_status
from ui.context import AppContext
from ui.plural import plural

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_MS = 5 * 60_000
ALL_ENTITIES = {cls.__entity__ for cls in SYNCED_CLASSES}


def ago(when: datetime, now: datetime) -> str:
    minutes = int((now - when).total_seconds() // 60)
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes} min ago"
    if minutes < 48 * 60:
        return f"{minutes // 60} h ago"
    return f"{minutes // (24 * 60)} days ago"


def status_text(status: SyncStatus | None, *, offline: bool, running: bool, now: datetime) -> str:
    """The status bar's words: "Synced 3 min ago · 12 changes waiting", "Offline", …"""
    if status is None:
        return ""
    if not status.linked:
        waiting = f" · {plural(status.pending, 'change')} kept on this laptop" if status.pending else ""
        return "Not signed in to a sync server" + waiting
    if running:
        head = "Syncing…"
    elif offline:
        head = "Offline"
    elif status.last_synced_at is None:
        head = "Not synced yet"
    else:
        head = f"Synced {ago(status.last_synced_at, now)}"
    parts = [head]
    if status.pending:
        parts.append(f"{plural(status.pending, 'change')} waiting")
    review = status.conflicts + status.rejections
    if review:
        parts.append(f"{review} to review")
    return " · ".join(parts)


class _Progress(QObject):
    """Emitted from the worker; Qt queues it to the GUI thread."""

    moved = Signal(str, int, object)


class SyncController(QObject):
    status_changed = Signal(str)  # the status line
    sync_started = Signal()
    sync_finished = Signal(object)  # SyncSummary
    sync_failed = Signal(str)  # what went wrong, for the rep ("" when cancelled)
    progressed = Signal(str)  # "Pulling 2,000 of 50,000"
    login_needed = Signal()

    def __init__(
        self,
        ctx: AppContext,
        parent: QObject | None = None,
        *,
        interval_ms: int = DEFAULT_INTERVAL_MS,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.status: SyncStatus | None = None
        self.offline = False
        self.running = False
        self._transport = transport
        self._cancel = threading.Event()
        self._sign_in_cancel = threading.Event()
        self._progress = _Progress(self)
        self._progress.moved.connect(self._on_progress)
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(lambda: self.sync_now(quiet=True))
        self._clock = QTimer(self)  # keeps "3 min ago" true
        self._clock.setInterval(30_000)
        self._clock.timeout.connect(self._emit_status)
        ctx.bus.changed.connect(lambda _e: self.refresh_status())
        self._watch_network()

    def set_interval(self, msecs: int) -> None:
        """How often to sync by itself (a setting; tests shorten it)."""
        self._timer.setInterval(msecs)

    def start(self) -> None:
        self.refresh_status()
        self._timer.start()
        self._clock.start()

    def stop(self) -> None:
        """Window closing: stop timers and stop a running sync or sign-in now (mid-request)."""
        self._timer.stop()
        self._clock.stop()
        self._cancel.set()
        self._sign_in_cancel.set()

    def cancel(self) -> None:
        """The rep's Cancel: the sync stops at once; what it committed stays, the outbox too."""
        self._cancel.set()

    def cancel_sign_in(self) -> None:
        self._sign_in_cancel.set()

    # -- status --------------------------------------------------------------------------------
    def refresh_status(self, then: Callable[[], object] | None = None) -> None:
        def done(status: SyncStatus) -> None:
            self.status = status
            self._emit_status()
            if then is not None:
                then()

        self.ctx.query(sync_status, done)

    def _emit_status(self) -> None:
        now = datetime.now(UTC)
        self.status_changed.emit(
            status_text(self.status, offline=self.offline, running=self.running, now=now)
        )

    def _on_progress(self, phase: str, done: int, total: object) -> None:
        if phase == "download":  # a new laptop's first sync: records, which a rep can picture
            of = f" of {total:,}" if isinstance(total, int) else ""
            self.progressed.emit(f"Sync: downloading your records, {done:,}{of}")
        # Pull progress counts server versions: say how far along, not a row count.
        elif phase == "pull" and isinstance(total, int) and total:
            self.progressed.emit(f"Sync: receiving changes, {min(100, done * 100 // total)}%")
        else:
            of = f" of {total:,}" if isinstance(total, int) else ""
            self.progressed.emit(f"Sync: sending changes, {done:,}{of}")

    # -- network -------------------------------------------------------------------------------
    def _watch_network(self) -> None:
        try:
            from PySide6.QtNetwork import QNetworkInformation
        except ImportError:  # a trimmed Qt: the timer still syncs every few minutes
            return
        if not QNetworkInformation.loadDefaultBackend() or QNetworkInformation.instance() is None:
            log.info("no network-information backend; syncing on a timer only")
            return
        info = QNetworkInformation.instance()
        online = QNetworkInformation.Reachability.Online

        def changed(reachability: QNetworkInformation.Reachability) -> None:
            if reachability == online:
                self.sync_now(quiet=True)  # the network is back: send what piled up
            elif reachability == QNetworkInformation.Reachability.Disconnected:
                self.offline = True
                self._emit_status()

        info.reachabilityChanged.connect(changed)
        # The network object outlives this window (switching to or from sample data closes it).
        self.destroyed.connect(lambda: info.reachabilityChanged.disconnect(changed))

    # -- actions -------------------------------------------------------------------------------
    def sync_now(self, quiet: bool = False) -> bool:
        """Start a sync unless one runs. ``quiet``: from a timer, so no dialogs. True if started."""
        if self.running:
            return False
        status = self.status
        if status is None or not status.linked:
            if not quiet:
                self.login_needed.emit()
            return False
        assert status.server is not None and status.username is not None
        server, username = status.server, status.username
        db, transport, cancel, progress = self.ctx.db, self._transport, self._cancel, self._progress

        def job() -> SyncSummary:
            token = load_token(server, username)  # the keychain may be slow: not on the GUI thread
            if token is None:
                raise sync_errors.NotLoggedIn(
                    f"Please sign in to {server} again (no saved login for {username})."
                )
            with SyncClient(
                db, server, token, transport, progress=lambda *a: progress.moved.emit(*a), cancel=cancel
            ) as client:
                summary = client.sync()
            with db.write() as s:
                record_success(s)
            return summary

        self.running = True
        self._cancel.clear()
        self._emit_status()
        self.sync_started.emit()
        self.ctx.tasks.long(job, self._on_done, lambda exc: self._on_failed(exc, quiet))
        return True

    def _on_done(self, summary: SyncSummary) -> None:
        self.running = False
        self.offline = False
        self.ctx.bus.notify(ALL_ENTITIES | {"conflict"})
        self.refresh_status(lambda: self.sync_finished.emit(summary))

    def _on_failed(self, exc: BaseException, quiet: bool) -> None:
        self.running = False
        if isinstance(exc, errors.Cancelled):
            self.sync_failed.emit("")
        elif isinstance(exc, sync_errors.ServerUnreachable):
            self.offline = True  # normal on the road: no dialog, the changes wait
            self.sync_failed.emit(str(exc))
        elif isinstance(exc, errors.RapportError):
            self.sync_failed.emit(str(exc))
            if isinstance(exc, sync_errors.AuthRejected | sync_errors.NotLoggedIn) and not quiet:
                self.login_needed.emit()
            elif not quiet:
                self.ctx.presenter.present(exc)
        else:
            self.sync_failed.emit("Sync stopped because of an unexpected problem.")
            self.ctx.presenter.present(exc)
        # Whatever failed, the local data is as it was and the outbox is intact (sync contract).
        self.refresh_status()

    def sign_in(
        self,
        server: str,
        username: str,
        password: str,
        on_done: Callable[[bool], None],
        on_error: Callable[[BaseException], None],
    ) -> None:
        """Log in off the GUI thread; ``on_done(saved_in_keychain)``."""
        db, transport = self.ctx.db, self._transport
        server = server.strip().rstrip("/")
        self._sign_in_cancel = cancel = threading.Event()  # a fresh one: an old Cancel stays old

        def job() -> bool:
            info = login(server, username.strip(), password, transport, cancel)
            with db.write() as s:
                link_server(s, server, info.username)
            return save_token(server, info.username, info.token)

        def done(saved: bool) -> None:
            self.offline = False
            self.refresh_status()
            on_done(saved)

        self.ctx.tasks.long(job, done, on_error)
