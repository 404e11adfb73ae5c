"""Today's to-do list driven as a rep drives it: the arrow keys through the items (titles passed
over), then each action by its key and by a click: log a note, mark done, snooze a day, a week
or to a picked date, open the contact."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QTableView
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from models.db import Database
from models.entities import Commitment, Contact, Feedback, Note, Snooze
from models.services import today as today_service
from models.services.today import Kind
from tests.support.gui_helpers import WAIT, idle, open_window, visible
from ui.context import AppContext
from ui.dialogs import NoteDialog
from ui.errors import ErrorPresenter
from ui.main_window import PAGES, MainWindow
from ui.today_view import PickDateDialog, TodayView


def seed(db: Database) -> dict[str, uuid.UUID]:
    today = date.today()
    with db.write() as s:
        anna = Contact(name="Anna Check", cadence_days=7)  # never contacted: a check-in is due
        ben = Contact(name="Ben Promise")
        soon = today + timedelta(days=2)
        carla = Contact(name="Carla Birthday", birthday=date(1981, soon.month, min(soon.day, 28)))
        dan = Contact(name="Dan Detractor")
        s.add_all([anna, ben, carla, dan])
        s.flush()
        s.add(Commitment(what="Send the quote", due_date=today - timedelta(days=2), contact_id=ben.id))
        s.add(Feedback(received_at=datetime.now(UTC) - timedelta(days=1), score=3, contact_id=dan.id))
        s.flush()
        return {"anna": anna.id, "ben": ben.id, "carla": carla.id, "dan": dan.id}


def snoozed(db: Database, item: str) -> date | None:
    with db.read() as s:
        row = s.scalars(select(Snooze).where(Snooze.item == item)).one()
        return row.until


def on_today(qtbot: QtBot, db: Database, presenter: ErrorPresenter) -> tuple[MainWindow, TodayView]:
    window = open_window(qtbot, db, presenter)
    window.resize(1280, 720)
    assert window.stack.currentWidget() is window.today  # the start screen
    view = window.today
    qtbot.waitUntil(lambda: view.section("detractors") is not None, timeout=WAIT)
    window.activateWindow()
    view.list.setFocus()
    return window, view


def press(qtbot: QtBot, view: TodayView, key: Qt.Key) -> None:
    # Back in the list, in the active window (a dialog that just closed had both).
    view.window().activateWindow()
    view.list.setFocus()
    qtbot.waitUntil(view.list.hasFocus, timeout=WAIT)
    qtbot.keyClick(view.list, key)


def go_to(qtbot: QtBot, view: TodayView, kind: Kind) -> None:
    """Down arrow until the selected item is of ``kind`` (Up from the bottom first)."""
    for _ in range(view.model.rowCount()):
        press(qtbot, view, Qt.Key.Key_Up)
    for _ in range(view.model.rowCount()):
        item = view.current()
        if item is not None and item.kind is kind:
            return
        press(qtbot, view, Qt.Key.Key_Down)
    raise AssertionError(f"no {kind} item reached with the arrow keys")


def test_arrow_keys_walk_the_items_and_pass_over_the_titles(
    qtbot: QtBot, db: Database, presenter: ErrorPresenter
) -> None:
    seed(db)
    window, view = on_today(qtbot, db, presenter)
    seen: list[Kind] = []
    press(qtbot, view, Qt.Key.Key_Home)
    for _ in range(8):
        item = view.current()
        assert item is not None  # never a title
        if not seen or seen[-1] is not item.kind:
            seen.append(item.kind)
        press(qtbot, view, Qt.Key.Key_Down)
    assert seen == [Kind.COMMITMENT, Kind.CHECKIN, Kind.DATE, Kind.DETRACTOR]
    window.close()
    window.ctx.tasks.wait_idle()


def test_each_action_by_its_key(qtbot: QtBot, db: Database, presenter: ErrorPresenter) -> None:
    ids = seed(db)
    today = date.today()
    window, view = on_today(qtbot, db, presenter)

    go_to(qtbot, view, Kind.COMMITMENT)
    press(qtbot, view, Qt.Key.Key_D)  # done: the promise is kept
    qtbot.waitUntil(lambda: getattr(view.section("commitments"), "count", 1) == 0, timeout=WAIT)
    with db.read() as s:
        assert s.scalars(select(Commitment.status)).one() == "done"

    go_to(qtbot, view, Kind.CHECKIN)
    press(qtbot, view, Qt.Key.Key_S)  # snooze 1 day
    qtbot.waitUntil(lambda: view.row_of(f"checkin:{ids['anna']}") == -1, timeout=WAIT)
    assert snoozed(db, f"checkin:{ids['anna']}") == today + timedelta(days=1)

    go_to(qtbot, view, Kind.DATE)
    key = view.current().key  # type: ignore[union-attr]
    press(qtbot, view, Qt.Key.Key_W)  # snooze 1 week
    qtbot.waitUntil(lambda: view.row_of(key) == -1, timeout=WAIT)
    assert snoozed(db, key) == today + timedelta(days=7)

    go_to(qtbot, view, Kind.DETRACTOR)
    press(qtbot, view, Qt.Key.Key_N)  # log a note: the contact is filled in
    note = visible(NoteDialog)
    assert note.contact.contact_id() == ids["dan"]
    note.summary_edit.setText("Called Dan about the delay")
    with qtbot.waitSignal(note.saved, timeout=WAIT):
        qtbot.keyClick(note.summary_edit, Qt.Key.Key_Return)
    # A note after the feedback is its follow-up: the detractor leaves Today.
    qtbot.waitUntil(lambda: getattr(view.section("detractors"), "count", 1) == 0, timeout=WAIT)
    with db.read() as s:
        assert s.scalars(select(Note.summary)).one() == "Called Dan about the delay"
    window.close()
    window.ctx.tasks.wait_idle()


def test_snooze_to_a_picked_date_and_open_the_contact(
    qtbot: QtBot, db: Database, presenter: ErrorPresenter
) -> None:
    ids = seed(db)
    today = date.today()
    window, view = on_today(qtbot, db, presenter)
    go_to(qtbot, view, Kind.DETRACTOR)
    press(qtbot, view, Qt.Key.Key_P)
    picker = visible(PickDateDialog)
    days = picker.calendar.findChild(QTableView)  # the calendar's grid of days takes the keys
    days.setFocus()
    qtbot.keyClick(days, Qt.Key.Key_Right)  # a week from today, then one day on
    qtbot.keyClick(days, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not picker.isVisible(), timeout=WAIT)
    with db.read() as s:
        (fid,) = s.scalars(select(Feedback.id))
    qtbot.waitUntil(lambda: view.row_of(f"detractor:{fid}") == -1, timeout=WAIT)
    assert snoozed(db, f"detractor:{fid}") == today + timedelta(days=8)

    go_to(qtbot, view, Kind.CHECKIN)
    press(qtbot, view, Qt.Key.Key_O)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.contacts, timeout=WAIT)
    qtbot.waitUntil(lambda: window.contacts.detail.current() == (ids["anna"], "Anna Check"), timeout=WAIT)
    window.show_page(PAGES.index("Today"))
    view.list.setFocus()
    go_to(qtbot, view, Kind.DATE)
    press(qtbot, view, Qt.Key.Key_Return)  # Enter opens the contact too
    qtbot.waitUntil(
        lambda: window.contacts.detail.current() == (ids["carla"], "Carla Birthday"), timeout=WAIT
    )
    idle(qtbot, window)
    window.close()
    window.ctx.tasks.wait_idle()


def test_each_action_by_a_click(qtbot: QtBot, db: Database, presenter: ErrorPresenter) -> None:
    ids = seed(db)
    today = date.today()
    window, view = on_today(qtbot, db, presenter)

    def click(name: str) -> None:
        button = view.buttons[name]
        assert button.isEnabled(), name
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

    view.list.selectRow(view.row_of(f"checkin:{ids['anna']}"))
    click("snooze_week")
    qtbot.waitUntil(lambda: view.row_of(f"checkin:{ids['anna']}") == -1, timeout=WAIT)
    assert snoozed(db, f"checkin:{ids['anna']}") == today + timedelta(days=7)

    go_to(qtbot, view, Kind.DATE)
    key = view.current().key  # type: ignore[union-attr]
    assert view.buttons["done"].text() == "Dismiss [D]"
    click("done")
    qtbot.waitUntil(lambda: view.row_of(key) == -1, timeout=WAIT)
    assert snoozed(db, key) is None  # dismissed for good

    go_to(qtbot, view, Kind.COMMITMENT)
    click("snooze_pick")
    picker = visible(PickDateDialog)
    picker.calendar.setSelectedDate(QDate(today.year, today.month, today.day).addDays(3))
    picker.accept()
    qtbot.waitUntil(lambda: getattr(view.section("commitments"), "count", 1) == 0, timeout=WAIT)
    with db.read() as s:
        assert s.scalars(select(Commitment.due_date)).one() == today + timedelta(days=3)

    go_to(qtbot, view, Kind.DETRACTOR)
    click("snooze_day")
    qtbot.waitUntil(lambda: getattr(view.section("detractors"), "count", 1) == 0, timeout=WAIT)
    assert view.model.rowCount() == 0 and not view.buttons["done"].isEnabled()
    assert "nothing else is due today" in view.headline.text()
    window.close()
    window.ctx.tasks.wait_idle()


def _hold(monkeypatch: pytest.MonkeyPatch, step: str) -> tuple[threading.Event, threading.Event]:
    """Hold ``today_service.<step>`` until the first event is set; the second is set once read."""
    release, read = threading.Event(), threading.Event()
    real = getattr(today_service, step)

    def held(s: Any, day: date) -> Any:
        release.wait(10)
        try:
            return real(s, day)
        finally:
            read.set()

    monkeypatch.setattr(today_service, step, held)
    return release, read


def _watched_view(qtbot: QtBot, ctx: AppContext) -> tuple[TodayView, list[object]]:
    """A Today view and the boards its ``board_loaded`` has said are whole."""
    view = TodayView(ctx)
    qtbot.addWidget(view)
    loaded: list[object] = []
    view.board_loaded.connect(loaded.append)
    return view, loaded


def test_the_first_sections_show_before_the_slower_ones_are_read(
    qtbot: QtBot, ctx: AppContext, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The slower sections (thank-yous, follow-ups, detractors) held back until released: what a
    # rep acts on first is listed meanwhile, and board_loaded waits for the whole board.
    seed(db)
    release, _ = _hold(monkeypatch, "today_later")
    view, loaded = _watched_view(qtbot, ctx)
    try:
        view.reload()
        qtbot.waitUntil(lambda: view.section("commitments") is not None, timeout=WAIT)
        assert view.section("detractors") is None and loaded == []
        assert {i.kind for r in range(view.model.rowCount()) if (i := view.model.item_at(r))} == {
            Kind.COMMITMENT,
            Kind.CHECKIN,
            Kind.DATE,
        }
    finally:
        release.set()
    qtbot.waitUntil(lambda: loaded != [], timeout=WAIT)
    assert getattr(view.section("detractors"), "count", 0) == 1
    assert view.row_of(f"detractor:{view.section('detractors').items[0].row_id}") > 0  # type: ignore[union-attr]


def test_the_slower_sections_read_first_wait_for_the_first_ones(
    qtbot: QtBot, ctx: AppContext, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both steps are read at once: the first one held back, the slower one arrives first and is
    # shown with it, the whole board at once, board_loaded once.
    seed(db)
    release, _ = _hold(monkeypatch, "today_first")
    unheld, later_read = _hold(monkeypatch, "today_later")
    unheld.set()
    view, loaded = _watched_view(qtbot, ctx)
    try:
        view.reload()
        assert later_read.wait(10)  # read while the first step is still held: at once, not after
        qtbot.wait(200)  # its result delivered to the view, which keeps it
        assert view.board is None and view.model.rowCount() == 0 and loaded == []
    finally:
        release.set()
    qtbot.waitUntil(lambda: loaded != [], timeout=WAIT)
    qtbot.wait(200)
    assert len(loaded) == 1
    assert getattr(view.section("detractors"), "count", 0) == 1
    assert getattr(view.section("commitments"), "count", 0) > 0
    kinds = {i.kind for r in range(view.model.rowCount()) if (i := view.model.item_at(r))}
    assert {Kind.COMMITMENT, Kind.DETRACTOR} <= kinds
