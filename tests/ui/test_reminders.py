"""Reminders' Qt side (ui/reminders.py) with pytest-qt, offscreen.

Offscreen there is no system tray (``isSystemTrayAvailable()`` is False), so the bubble itself
cannot be watched: the tests give the notifier to call instead, and check what the app does
with no tray (says so, quietly, and checks nothing)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from models.db import Database
from models.entities import Commitment, Contact, Visit
from tests.support.gui_helpers import WAIT
from ui.context import AppContext
from ui.main_window import MainWindow
from ui.reminders import Reminders, reminders_hint, tray_available
from ui.settings import load_preferences

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _seed(db: Database) -> None:
    today = NOW.astimezone().date()
    with db.write() as s:
        anna = Contact(name="Anna", birthday=today.replace(year=1980))
        s.add(anna)
        s.flush()
        s.add(Commitment(what="Send the quote", due_date=today, contact_id=anna.id))
        s.add(Visit(starts_at=NOW + timedelta(minutes=30), contact_ids=[str(anna.id)], purpose="Renewal"))


def _reminders(ctx: AppContext, qtbot: QtBot, shown: list[tuple[str, str]]) -> Reminders:
    parent = QWidget()
    qtbot.addWidget(parent)
    return Reminders(ctx, parent, notify=lambda title, body: shown.append((title, body)), clock=lambda: NOW)


def test_due_items_are_shown_once_a_day_even_after_a_restart(
    qtbot: QtBot, ctx: AppContext, db: Database
) -> None:
    _seed(db)
    shown: list[tuple[str, str]] = []
    rem = _reminders(ctx, qtbot, shown)
    rem.set_enabled(True)
    assert rem.timer.isActive() and rem.timer.interval() == 60_000
    with qtbot.waitSignal(rem.reminded, timeout=WAIT):
        rem.check_now()
    at = (NOW + timedelta(minutes=30)).astimezone().strftime("%H:%M")  # the rep's local time
    assert shown == [
        (
            "3 reminders",
            f"Visit at {at} (in 30 min): Anna — Renewal\n"
            "Due today: Send the quote (for Anna)\n"
            f"Birthday today: Anna (turns {NOW.astimezone().year - 1980})",
        )
    ]
    rem.check_now()  # the next minute: nothing new
    assert ctx.tasks.wait_idle(WAIT)
    qtbot.wait(50)
    assert len(shown) == 1
    again = _reminders(ctx, qtbot, shown)  # the app restarted the same day
    again.set_enabled(True)
    again.check_now()
    assert ctx.tasks.wait_idle(WAIT)
    qtbot.wait(50)
    assert len(shown) == 1
    rem.stop()
    again.stop()


def test_turned_off_nothing_is_checked(qtbot: QtBot, ctx: AppContext, db: Database) -> None:
    _seed(db)
    shown: list[tuple[str, str]] = []
    rem = _reminders(ctx, qtbot, shown)
    rem.set_enabled(True)
    rem.set_enabled(False)
    assert not rem.timer.isActive() and not rem.first.isActive()
    rem.check_now()
    assert ctx.tasks.pending == 0  # no query was even started
    assert shown == []


def test_without_a_tray_it_says_so_and_does_not_check(
    qtbot: QtBot, ctx: AppContext, caplog: pytest.LogCaptureFixture
) -> None:
    if tray_available():
        pytest.skip("this desktop has a system tray; the no-tray path needs one without")
    parent = QWidget()
    qtbot.addWidget(parent)
    rem = Reminders(ctx, parent)
    with caplog.at_level(logging.INFO, logger="ui.reminders"):
        rem.set_enabled(True)
        rem.set_enabled(True)  # said once, not at every Preferences save
    assert [r.message for r in caplog.records] == [
        "No system tray on this desktop: reminders cannot be shown."
    ]
    assert not rem.timer.isActive()
    rem.check_now()
    assert ctx.tasks.pending == 0
    assert "no system tray" in reminders_hint()


def test_the_preferences_switch_turns_the_window_reminders_on_and_off(
    qtbot: QtBot, window: MainWindow
) -> None:
    assert load_preferences().reminders  # on by default
    assert window.reminders.enabled
    dialog = window.preferences.edit()
    dialog.reminders.setChecked(False)
    dialog.submit()
    assert not window.reminders.enabled and not window.reminders.timer.isActive()
    assert not load_preferences().reminders
