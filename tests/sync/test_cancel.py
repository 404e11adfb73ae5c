"""A server that takes the connection and never answers (issue 9, item 8): sync gives up after
its timeouts, Cancel stops it at once, and quitting does not wait for the server, all without
losing the changes waiting to be sent (the outbox is on disk)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from models.db import Database
from models.errors import Cancelled
from sync.client import SyncClient
from sync.errors import ServerUnreachable
from sync.keychain import save_token
from sync.status import link_server, sync_status
from tests.support.gui_helpers import seed_contact
from tests.support.keyrings import MemoryKeyring
from tests.support.silent_server import SilentServer
from ui.app import build_window
from ui.errors import ErrorPresenter
from ui.main_window import MainWindow

WAIT = 10_000


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    with SilentServer() as server:
        yield server


def pending(db: Database) -> int:
    with db.read() as s:
        return sync_status(s).pending


def test_a_silent_server_times_out_once_instead_of_retrying_for_minutes(
    db: Database, silent: SilentServer
) -> None:
    seed_contact(db, "Anna Weber")
    client = SyncClient(
        db, f"http://127.0.0.1:{silent.port}", "token", timeout=httpx.Timeout(1.0, connect=1.0)
    )
    started = time.monotonic()
    with client, pytest.raises(ServerUnreachable) as failed:
        client.sync()
    assert time.monotonic() - started < 3  # one request's timeout, not six retries of it
    assert "no answer within 1 second" in str(failed.value)
    assert "changes are kept" in str(failed.value)
    assert pending(db) == 1


def test_cancel_stops_a_sync_waiting_on_a_silent_server_at_once(db: Database, silent: SilentServer) -> None:
    seed_contact(db, "Anna Weber")
    cancel = threading.Event()
    outcome: list[BaseException] = []

    def run() -> None:
        # The default timeouts: Cancel must not wait for them.
        with SyncClient(db, f"http://127.0.0.1:{silent.port}", "token", cancel=cancel) as client:
            try:
                client.sync()
            except BaseException as exc:
                outcome.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    assert silent.accepted.wait(5)
    time.sleep(0.2)  # the request is sent and the client waits for an answer
    cancel.set()
    started = time.monotonic()
    worker.join(5)
    assert not worker.is_alive()
    assert time.monotonic() - started < 1.0
    assert len(outcome) == 1 and isinstance(outcome[0], Cancelled)
    assert pending(db) == 1


@pytest.fixture
def linked_window(
    qtbot: QtBot,
    db: Database,
    silent: SilentServer,
    keychain: MemoryKeyring,
) -> Iterator[MainWindow]:
    server = f"http://127.0.0.1:{silent.port}"
    with db.write() as s:
        link_server(s, server, "rita")
    save_token(server, "rita", "a-token")
    seed_contact(db, "Anna Weber")
    presenter = ErrorPresenter(log_file=Path("/tmp/rapport-test.log"))
    presenter.interactive = False
    window = build_window(db, presenter)
    qtbot.addWidget(window)
    window.show()
    window.start()
    qtbot.waitUntil(lambda: window.sync.status is not None and window.sync.status.linked, timeout=WAIT)
    yield window
    window.close()
    window.ctx.tasks.wait_idle()


def test_the_rep_can_cancel_a_sync_stuck_on_a_silent_server(
    qtbot: QtBot, linked_window: MainWindow, db: Database, silent: SilentServer
) -> None:
    window = linked_window
    qtbot.mouseClick(window.sync_button, Qt.MouseButton.LeftButton)
    assert silent.accepted.wait(5)
    assert window.sync_button.text() == "Cancel sync" and window.sync_button.isEnabled()
    qtbot.wait(200)
    started = time.monotonic()
    with qtbot.waitSignal(window.sync.sync_failed, timeout=2_000) as failed:
        qtbot.mouseClick(window.sync_button, Qt.MouseButton.LeftButton)
    assert time.monotonic() - started < 1.5
    assert failed.args == [""]  # cancelled: no error to show
    assert "Sync cancelled" in window.statusBar().currentMessage()
    assert window.sync_button.text() == "Sync" and window.sync_button.isEnabled()
    assert pending(db) == 1


def test_quitting_during_a_stuck_sync_ends_at_once_and_keeps_the_outbox(
    qtbot: QtBot, linked_window: MainWindow, db: Database, silent: SilentServer
) -> None:
    window = linked_window
    window.sync_action.trigger()
    assert silent.accepted.wait(5)
    qtbot.wait(200)
    started = time.monotonic()
    window.close()
    assert window.ctx.tasks.wait_idle(5_000)  # what the process waits for before it can exit
    assert time.monotonic() - started < 2.0
    assert pending(db) == 1
