"""Sync from the window, against a real server process on loopback: sign in, sync, status line,
offline, and the Conflicts page with re-apply and dismiss."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from models.db import Database
from models.services import contacts
from models.services.contacts import ContactInput
from sync.status import SyncStatus, sync_status
from tests.support.gui_helpers import seed_contact, visible
from tests.support.keyrings import MemoryKeyring
from tests.support.sync_support import Laptop, ServerProcess
from ui.app import build_window
from ui.errors import ErrorPresenter
from ui.main_window import PAGES, MainWindow
from ui.sync_controller import status_text
from ui.sync_views import SignInDialog

WAIT = 20_000


@pytest.fixture
def srv(tmp_path: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(f"sqlite:///{tmp_path / 'server.sqlite'}", tmp_path / "server.log")
    server.start()
    server.add_user("rita", "secret", team="north")
    server.add_user("sam", "pw", team="north")
    yield server
    server.stop()
    server.close_admin()


@pytest.fixture
def window(qtbot: QtBot, db: Database) -> Iterator[MainWindow]:
    presenter = ErrorPresenter(None)
    presenter.interactive = False
    win = build_window(db, presenter)
    qtbot.addWidget(win)
    win.show()
    win.start()
    qtbot.waitUntil(lambda: win.sync.status is not None, timeout=WAIT)
    yield win
    win.close()
    win.ctx.tasks.wait_idle()


def sign_in(qtbot: QtBot, window: MainWindow, srv: ServerProcess, password: str = "secret") -> SignInDialog:
    window.sign_in()
    dialog = visible(SignInDialog)
    dialog.server.setText(srv.base)
    dialog.username.setText("rita")
    dialog.password.setText(password)
    return dialog


def test_status_line_words() -> None:
    now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    linked = SyncStatus("https://s", "rita", 12, now - timedelta(minutes=3), 1, 1)
    assert status_text(linked, offline=False, running=False, now=now) == (
        "Synced 3 min ago · 12 changes waiting · 2 to review"
    )
    assert status_text(linked, offline=True, running=False, now=now).startswith("Offline · 12 changes")
    assert status_text(linked, offline=False, running=True, now=now).startswith("Syncing…")
    alone = SyncStatus(None, None, 3, None, 0, 0)
    assert status_text(alone, offline=False, running=False, now=now) == (
        "Not signed in to a sync server · 3 changes kept on this laptop"
    )


def test_sign_in_sync_and_see_the_other_laptops_rows(
    qtbot: QtBot,
    window: MainWindow,
    db: Database,
    srv: ServerProcess,
    keychain: MemoryKeyring,
    tmp_path: Path,
) -> None:
    seed_contact(db, "Anna Schmidt")
    window.ctx.bus.notify({"contact"})  # written beside the window: tell it, as its own actions do
    qtbot.waitUntil(lambda: "1 change" in window.sync_label.text(), timeout=WAIT)
    assert window.sync_label.text().startswith("Not signed in")

    dialog = sign_in(qtbot, window, srv, password="wrong")
    dialog.submit()
    qtbot.waitUntil(lambda: dialog.error_text("password") != "", timeout=WAIT)
    assert dialog.error_text("password") == "The server did not accept this user name and password."
    assert keychain.saved == {}

    dialog.password.setText("secret")
    progress: list[str] = []
    window.sync.progressed.connect(progress.append)
    with qtbot.waitSignal(window.sync.sync_finished, timeout=WAIT) as done:
        dialog.submit()
    assert "pushed 1" in str(done.args[0])
    assert progress[0] == "Sync: sending changes, 0 of 1"
    # A first sync downloads the team's records, then pulls what changed meanwhile.
    assert "Sync: downloading your records, 0 of 1" in progress
    assert "Sync: downloading your records, 1 of 1" in progress
    assert progress[-1] == "Sync: receiving changes, 100%"
    assert list(keychain.saved) == [("rapport-sync", f"{srv.base} rita")]
    qtbot.waitUntil(lambda: window.sync_label.text().startswith("Synced just now"), timeout=WAIT)
    with db.read() as s:
        assert sync_status(s).pending == 0

    # Another rep of the team adds a contact; F5 on this laptop brings it in and lists it.
    sam = Laptop(tmp_path / "sam.sqlite", srv, "sam")
    sam.login()
    sam.sync()
    assert sam.count() == 1
    with sam.db.write() as s:
        contacts.create_contact(s, ContactInput(name="Bruno Costa"))
    sam.sync()
    sam.close()
    with qtbot.waitSignal(window.sync.sync_finished, timeout=WAIT) as done:
        window.sync_action.trigger()
    assert "pulled 1" in str(done.args[0])
    qtbot.waitUntil(lambda: window.contacts.model.rowCount() == 2, timeout=WAIT)


def test_unreachable_server_says_offline_and_keeps_the_changes(
    qtbot: QtBot, window: MainWindow, db: Database, srv: ServerProcess, keychain: MemoryKeyring
) -> None:
    dialog = sign_in(qtbot, window, srv)
    with qtbot.waitSignal(window.sync.sync_finished, timeout=WAIT):
        dialog.submit()
    srv.stop()
    seed_contact(db, "Carla Ruiz")
    window.ctx.bus.notify({"contact"})
    with qtbot.waitSignal(window.sync.sync_failed, timeout=60_000) as failed:
        window.sync.sync_now()
    assert "Cannot reach the sync server" in failed.args[0]
    qtbot.waitUntil(lambda: window.sync_label.text().startswith("Offline · 1 change waiting"), timeout=WAIT)
    with db.read() as s:
        assert contacts.count_contacts(s) == 1
        assert sync_status(s).pending == 1


def test_conflict_is_listed_and_the_value_set_aside_can_be_reapplied(
    qtbot: QtBot,
    window: MainWindow,
    db: Database,
    srv: ServerProcess,
    keychain: MemoryKeyring,
    tmp_path: Path,
) -> None:
    cid = seed_contact(db, "Dora Diaz", role="Buyer")
    dialog = sign_in(qtbot, window, srv)
    with qtbot.waitSignal(window.sync.sync_finished, timeout=WAIT):
        dialog.submit()
    sam = Laptop(tmp_path / "sam.sqlite", srv, "sam")
    sam.login()
    sam.sync()
    sam.edit("contact", cid, role="Head of purchasing")  # sam's edit reaches the server first
    sam.sync()
    sam.close()
    with db.write() as s:  # this laptop changed the same field meanwhile
        inp = contacts.contact_input(contacts.get_contact(s, cid))
        inp.role = "Category manager"
        contacts.update_contact(s, cid, inp)
    with qtbot.waitSignal(window.sync.sync_finished, timeout=WAIT) as done:
        window.sync.sync_now()
    assert done.args[0].conflicts == 1

    window.show_page(PAGES.index("Conflicts"))
    view = window.conflicts
    qtbot.waitUntil(lambda: view.conflicts.rowCount() == 1, timeout=WAIT)
    item = view.conflicts.row_at(0)
    assert item is not None
    assert (item.field, item.kept, item.lost) == ("role", "Category manager", "Head of purchasing")
    assert item.title == "Dora Diaz"
    assert window.sidebar.item(PAGES.index("Conflicts")).text() == "Conflicts (1)"

    view.conflict_view.selectRow(0)
    view.reapply_button.click()
    qtbot.waitUntil(lambda: view.conflicts.rowCount() == 0, timeout=WAIT)
    with db.read() as s:
        assert contacts.get_contact(s, cid).role == "Head of purchasing"
        assert sync_status(s).pending == 1  # the re-applied value is a new edit, queued to sync


def test_it_syncs_by_itself_every_few_minutes(
    qtbot: QtBot, window: MainWindow, db: Database, srv: ServerProcess, keychain: MemoryKeyring
) -> None:
    dialog = sign_in(qtbot, window, srv)
    with qtbot.waitSignal(window.sync.sync_finished, timeout=WAIT):
        dialog.submit()
    seed_contact(db, "Emil Nowak")
    window.sync.set_interval(200)  # five minutes in the app; the same timer, shortened
    with qtbot.waitSignal(window.sync.sync_finished, timeout=WAIT) as done:
        pass  # nobody asks: the timer does
    assert done.args[0].pushed == 1
    window.sync.set_interval(3_600_000)
