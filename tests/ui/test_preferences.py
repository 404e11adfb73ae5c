"""Preferences, Help and the appearance (issue 14), through the real window offscreen: a wrong
value is explained and nothing saved; a saved one takes effect without a restart; the shortcut
list is the window's own; dark and light recolour the palette and the icons."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import version

import pytest
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QColor, QPalette
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from models.db import Database
from models.paths import data_dir
from models.services import accounts, cadence
from tests.support.gui_helpers import WAIT, idle, open_window, seed_commitment, seed_contact, visible
from ui.appearance import follow_appearance, icon, is_dark, scheme_colours
from ui.dialogs import ContactDialog
from ui.errors import ErrorPresenter
from ui.help import shortcut_rows
from ui.main_window import PAGES, MainWindow
from ui.settings import app_settings, load_preferences
from ui.sync_views import SignInDialog


@pytest.fixture
def plain_look(qapp: QApplication) -> Iterator[None]:
    """Tests that switch the appearance leave the application as they found it."""
    yield
    qapp.setStyleSheet("")
    qapp.setPalette(QPalette())


def tab_order(dialog: QWidget, start: QWidget) -> list[QWidget]:
    """The widgets Tab visits, in order, from ``start`` round to the one before it."""
    order: list[QWidget] = []
    widget = start
    while widget not in order:
        takes_tab = widget.focusPolicy() & Qt.FocusPolicy.TabFocus
        if takes_tab and widget.isVisibleTo(dialog) and widget.isEnabled():
            order.append(widget)
        widget = widget.nextInFocusChain()
        if widget is start:
            break
    return order


def test_wrong_values_are_explained_and_nothing_is_saved(
    qtbot: QtBot, window: MainWindow, plain_look: None
) -> None:
    dialog = window.preferences.edit()
    qtbot.waitExposed(dialog)
    qtbot.waitUntil(lambda: dialog.playbook_loaded, timeout=WAIT)
    dialog.server.setText("htp:/sync example")
    dialog.sync_minutes.setText("0")
    dialog.cadence["customer"].setText("often")
    qtbot.keyClick(dialog.sync_minutes, Qt.Key.Key_Return)  # Enter saves the form
    assert dialog.isVisible()
    assert "whole address" in dialog.error_text("server")
    assert "1 to 1,440 minutes" in dialog.error_text("sync_minutes")
    assert "number of days" in dialog.error_text("cadence_customer")
    assert not [k for k in app_settings().allKeys() if k.startswith(("preferences/", "cadence/"))]
    assert window.sync._timer.interval() == 5 * 60_000
    dialog.cadence["customer"].setText("30")
    dialog.cadence_max["customer"].setText("20")  # losing touch before the ideal interval
    dialog.followup_first.setText("30")
    dialog.followup_second.setText("7")
    qtbot.keyClick(dialog.sync_minutes, Qt.Key.Key_Return)
    assert "larger number" in dialog.error_text("cadence_customer")
    assert "first smaller" in dialog.error_text("followups")
    window.ctx.tasks.wait_idle()
    with window.ctx.db.read() as s:
        assert cadence.load_defaults(s) == cadence.CadenceDefaults()
    dialog.reject()


def test_saved_preferences_apply_at_once(qtbot: QtBot, window: MainWindow, plain_look: None) -> None:
    with window.ctx.db.write() as s:  # a tier in use gets a row of its own
        accounts.create_account(s, accounts.AccountInput(name="Acme", tier="A"))
    dialog = window.preferences.edit()
    qtbot.waitExposed(dialog)
    qtbot.waitUntil(lambda: dialog.playbook_loaded, timeout=WAIT)
    qtbot.waitUntil(lambda: dialog.tier_ideal["A"].isVisible(), timeout=WAIT)  # added once read
    # The first field has the focus, and Tab follows the form top to bottom, then the buttons.
    assert dialog.focusWidget() is dialog.server
    fields = [dialog.server, dialog.paper, dialog.sync_minutes, dialog.reminders, dialog.appearance]
    fields += [dialog.backup_folder, dialog.choose_backup_button, dialog.backup_days]
    fields += [dialog.open_folder_button, dialog.followup_first, dialog.followup_second]
    for kind in dialog.cadence:
        fields += [dialog.cadence[kind], dialog.cadence_max[kind]]
    fields += [dialog.tier_ideal["A"], dialog.tier_max["A"], *dialog.buttons.buttons()]
    assert tab_order(dialog, dialog.server) == fields
    assert dialog.folder_label.text() == str(data_dir())
    assert (dialog.followup_first.text(), dialog.followup_second.text()) == ("7", "30")

    dialog.server.setText("https://sync.example.com/")
    dialog.paper.setCurrentIndex(dialog.paper.findData("Letter"))
    dialog.sync_minutes.setText("2")
    dialog.reminders.setChecked(False)
    dialog.appearance.setCurrentIndex(dialog.appearance.findData("dark"))
    dialog.cadence["customer"].setText("30")
    dialog.cadence_max["customer"].setText("60")
    dialog.tier_ideal["A"].setText("14")
    dialog.followup_first.setText("10")
    qtbot.keyClick(dialog.sync_minutes, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT)
    window.ctx.tasks.wait_idle()

    prefs = load_preferences()
    assert (prefs.server, prefs.paper, prefs.sync_minutes, prefs.reminders) == (
        "https://sync.example.com",
        "Letter",
        2,
        False,
    )
    with window.ctx.db.read() as s:  # in the database, where the services read them
        assert cadence.load_defaults(s) == cadence.CadenceDefaults(
            kinds={"customer": cadence.Cadence(30, 60)}, tiers={"A": cadence.Cadence(14, None)}
        )
        assert cadence.load_followup_days(s) == (10, 30)
    assert window.sync._timer.interval() == 2 * 60_000  # no restart
    assert window.visits.paper.currentText() == "Letter" and window.preferences.paper() == "Letter"
    assert is_dark()
    assert QApplication.palette().color(QPalette.ColorRole.Window).lightness() < 80
    # A new server address is used by signing in there: the form opens with it filled in.
    form = visible(SignInDialog)
    assert form.server.text() == "https://sync.example.com"
    form.reject()

    # The defaults apply when read: a new contact's cadence stays empty and follows them.
    new = ContactDialog(window.ctx, parent=window)
    assert new.editor("cadence_days").text() == ""
    new.reject()


def test_about_names_the_version_and_where_the_files_are(window: MainWindow, qtbot: QtBot) -> None:
    about = window.show_about()
    text = about.text.text()
    assert version("rapport") in text
    assert str(data_dir()) in text
    assert str(window.ctx.presenter.log_file) in text
    assert "Qt" in text and "Python" in text
    about.reject()


def test_the_shortcut_list_is_read_from_the_window(window: MainWindow, qtbot: QtBot) -> None:
    rows = shortcut_rows(window)
    assert ("Edit", "Preferences", "Ctrl+,") in rows
    assert ("Sync", "Sync now", "F5") in rows
    keyed = [a for a in window.actions() if not a.shortcut().isEmpty()]
    # Today's own keys are listed too, under its name.
    today_keys = [a for a in window.today.actions() if not a.shortcut().isEmpty()]
    assert ("Today", "Mark done", "D") in rows and ("Today", "Snooze 1 week", "W") in rows
    assert len(rows) == len(keyed) + len(today_keys) == len(keyed) + 6
    extra = QAction("Jump to the moon", window)
    extra.setShortcut("Ctrl+Shift+M")
    window.addAction(extra)
    assert ("Window", "Jump to the moon", "Ctrl+Shift+M") in shortcut_rows(window)
    dialog = window.show_shortcuts()
    assert dialog.tree.topLevelItemCount() == len({menu for menu, _t, _k in shortcut_rows(window)})
    dialog.reject()


def _ink(pixmap_colour: QColor, text: QColor) -> bool:
    return abs(pixmap_colour.lightness() - text.lightness()) < 40


def test_dark_and_light_recolour_the_palette_and_the_icons(qapp: QApplication, plain_look: None) -> None:
    users = icon("users")
    for mode in ("dark", "light"):
        follow_appearance(mode)
        text = QApplication.palette().color(QPalette.ColorRole.WindowText)
        assert (text.lightness() > 180) == (mode == "dark")
        image = users.pixmap(QSize(24, 24), 2.0).toImage()
        assert image.size() == QSize(48, 48)  # drawn for the screen's pixel ratio, not scaled up
        inked = [
            image.pixelColor(x, y)
            for x in range(48)
            for y in range(48)
            if image.pixelColor(x, y).alpha() == 255
        ]
        assert inked and all(_ink(c, text) for c in inked)
        assert ("#27282c" in qapp.styleSheet()) == (mode == "dark")  # the sidebar's dark colour


def test_colours_drawn_by_hand_follow_a_switch(
    qtbot: QtBot, db: Database, presenter: ErrorPresenter, plain_look: None
) -> None:
    kofi = seed_contact(db, "Kofi Mensah")
    seed_commitment(db, kofi, "Send the price list", "2001-01-01")  # long overdue
    window = open_window(qtbot, db, presenter)
    item = window.sidebar.item(PAGES.index("Commitments"))
    qtbot.waitUntil(lambda: "overdue" in item.text(), timeout=WAIT)
    for mode in ("dark", "light"):
        follow_appearance(mode)
        red = QColor(scheme_colours(mode == "dark")["error"])
        qtbot.waitUntil(lambda red=red: item.foreground().color() == red, timeout=WAIT)
        idle(qtbot, window)
    window.close()
    window.ctx.tasks.wait_idle()


def test_following_the_system_switches_when_the_system_does(
    qapp: QApplication, plain_look: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ui.appearance

    follow_appearance("system")
    assert not is_dark()  # this test platform reports no scheme: light
    # The desktop turns dark: Qt says so with colorSchemeChanged (no platform here can be asked).
    monkeypatch.setattr(ui.appearance, "system_is_dark", lambda _app: True)
    qapp.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert is_dark()
    assert QApplication.palette().color(QPalette.ColorRole.Window).lightness() < 80
    monkeypatch.setattr(ui.appearance, "system_is_dark", lambda _app: False)
    qapp.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Light)
    assert not is_dark()
    follow_appearance("dark")  # the rep's own choice outranks the system's
    qapp.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Light)
    assert is_dark()
