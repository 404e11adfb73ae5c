"""What a rep could not reach or read (issue 9, items 3-7, 9, 10), driven through the real
window over a real SQLite file, offscreen."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtPrintSupport import QPrintPreviewWidget
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QPushButton, QTableView, QWidget
from pytestqt.qtbot import QtBot

from models.db import Database
from models.rows import ContactDetail, KeptRate
from models.services import commitments, contacts
from models.services.commitments import CommitmentInput
from models.services.contacts import ContactInput
from sync.status import SyncStatus
from tests.support.gui_helpers import (
    WAIT,
    idle,
    open_window,
    seed_commitment,
    seed_contact,
    seed_note,
    visible,
)
from tests.support.silent_server import SilentServer, refused_port
from ui.contact_detail import profile_html
from ui.dialogs import CommitmentDialog, ContactDialog, NoteDialog
from ui.errors import ErrorPresenter
from ui.main_window import PAGES, MainWindow
from ui.printing.preview import save_briefing_pdf
from ui.sync_controller import status_text


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    with SilentServer() as server:
        yield server


def on_screen(widget: QWidget, window: QWidget) -> bool:
    """Shown, and wholly inside the window (not folded away, not cut off by its edge)."""
    if not widget.isVisible():
        return False
    top_left = widget.mapTo(window, QPoint(0, 0))
    return window.rect().contains(QRect(top_left, widget.size()))


def column_in_view(view: QTableView, column: int) -> bool:
    left = view.columnViewportPosition(column)
    return left >= 0 and left + view.columnWidth(column) <= view.viewport().width()


def shown(window: MainWindow) -> object:
    """The contact whose page has loaded (None while it loads, or when there is none)."""
    pane = window.contacts.detail
    page = pane.page
    return page.detail.id if page is not None and page.detail.id == pane.contact_id else None


def open_contact(qtbot: QtBot, window: MainWindow, contact_id: object) -> None:
    window.open_contact(contact_id)  # type: ignore[arg-type]
    qtbot.waitUntil(lambda: shown(window) == contact_id, timeout=WAIT)
    idle(qtbot, window)


# -- item 3: the first window fits the screen ---------------------------------------------------
def test_first_window_fits_the_screens_free_area(qtbot: QtBot, window: MainWindow) -> None:
    free = (window.screen() or QGuiApplication.primaryScreen()).availableGeometry()
    qtbot.wait(300)  # the frame check runs once the window is mapped
    assert free.contains(window.frameGeometry()), (free, window.frameGeometry())
    assert window.statusBar().isVisible()
    assert free.contains(QRect(window.sync_button.mapToGlobal(QPoint(0, 0)), window.sync_button.size()))


# -- item 4: dialogs open with the first field focused ------------------------------------------
def test_dialogs_open_with_the_first_field_to_fill_focused(
    qtbot: QtBot, window: MainWindow, db: Database
) -> None:
    window.new_contact_action.trigger()
    dialog = visible(ContactDialog)
    qtbot.waitUntil(lambda: dialog.focusWidget() is dialog.editor("name"), timeout=WAIT)
    dialog.reject()

    window.new_commitment_action.trigger()  # no contact on screen: the contact comes first
    cdialog = visible(CommitmentDialog)
    qtbot.waitUntil(lambda: cdialog.focusWidget() is cdialog.contact, timeout=WAIT)
    cdialog.reject()

    cid = seed_contact(db, "Greta Lind")
    window.contacts.model.reload()
    open_contact(qtbot, window, cid)
    window.new_note_action.trigger()  # from the contact's page: it is filled in, the summary is next
    ndialog = visible(NoteDialog)
    qtbot.waitUntil(lambda: ndialog.focusWidget() is ndialog.summary_edit, timeout=WAIT)
    ndialog.reject()

    sign_in = window.sign_in()
    qtbot.waitUntil(lambda: sign_in.focusWidget() is sign_in.server, timeout=WAIT)
    sign_in.reject()


# -- item 5: every action on the contact page is reachable, and Mark done shows -----------------
def test_contact_page_actions_are_reachable_at_1280x720_and_mark_done_shows(
    qtbot: QtBot, db: Database, presenter: ErrorPresenter
) -> None:
    cid = seed_contact(db, "Hugo Martins", account="Atlântico Lda")
    seed_commitment(db, cid, "Send the price list for the autumn range", "2030-03-01")
    window = open_window(qtbot, db, presenter)
    window.resize(1280, 720)
    open_contact(qtbot, window, cid)
    pane = window.contacts.detail
    qtbot.waitUntil(lambda: pane.commitments.rowCount() == 1, timeout=WAIT)
    record = pane.record.findChildren(QPushButton)
    for button in window.contacts.detail.findChildren(QPushButton):
        if button in (pane.done_button, pane.cancel_button, pane.reopen_button):
            continue  # they wait for a selected commitment (checked below)
        if button in record:
            continue  # on the feedback, purchases and thank-yous tabs (checked below)
        assert on_screen(button, window), button.text()
    for tab in range(pane.record.count()):
        pane.record.setCurrentIndex(tab)
        for button in pane.record.widget(tab).findChildren(QPushButton):
            assert on_screen(button, window), button.text()

    status_column = [pane.commitments.headerData(i, Qt.Orientation.Horizontal) for i in range(4)].index(
        "Status"
    )
    assert column_in_view(pane.commitment_view, status_column)
    pane.commitment_view.selectRow(0)
    assert on_screen(pane.done_button, window)
    qtbot.mouseClick(pane.done_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: pane.commitments.data(pane.commitments.index(0, status_column)) == "Done", timeout=WAIT
    )
    assert column_in_view(pane.commitment_view, status_column)

    with qtbot.waitSignal(window.undo_offered, timeout=WAIT):
        qtbot.mouseClick(pane.print_button, Qt.MouseButton.LeftButton)
        qtbot.waitSignal(window.preview.opened, timeout=10_000).wait()
        window.preview.dialog.reject()  # type: ignore[union-attr]
        qtbot.mouseClick(pane.delete_button, Qt.MouseButton.LeftButton)
    with db.read() as s:
        assert contacts.list_contacts(s) == []
    window.close()
    window.ctx.tasks.wait_idle()


# -- item 6: the list and the contact's page stay in step ---------------------------------------
def test_filter_keeps_the_page_in_step_and_down_enter_open_the_first_match(
    qtbot: QtBot, db: Database, presenter: ErrorPresenter
) -> None:
    anna = seed_contact(db, "Anna Weber")
    bruno = seed_contact(db, "Bruno Costa")
    seed_contact(db, "Bruna Lopes")
    window = open_window(qtbot, db, presenter)
    view = window.contacts
    open_contact(qtbot, window, anna)

    window.find_action.trigger()
    qtbot.keyClicks(view.filter, "brun")
    qtbot.waitUntil(lambda: view.model.rowCount() == 2 and not view.model.busy, timeout=WAIT)
    idle(qtbot, window)
    listed = {view.model.row_at(i).id for i in range(view.model.rowCount())}  # type: ignore[union-attr]
    assert anna not in listed
    assert view.detail.contact_id in listed | {None}  # never someone the list does not show

    qtbot.keyClick(view.filter, Qt.Key.Key_Return)  # Enter opens the first match
    first = view.model.row_at(0)
    assert first is not None
    qtbot.waitUntil(lambda: shown(window) == first.id, timeout=WAIT)
    assert view.table.hasFocus()

    view.filter.setFocus()
    qtbot.keyClicks(view.filter, "o")  # "bruno": one match
    qtbot.waitUntil(lambda: view.model.rowCount() == 1 and not view.model.busy, timeout=WAIT)
    idle(qtbot, window)
    qtbot.keyClick(view.filter, Qt.Key.Key_Down)  # Down goes on into the list
    qtbot.waitUntil(lambda: shown(window) == bruno, timeout=WAIT)
    assert view.table.hasFocus()
    window.close()
    window.ctx.tasks.wait_idle()


def test_opening_a_contact_from_today_shows_it_in_the_list_too(
    qtbot: QtBot, db: Database, presenter: ErrorPresenter
) -> None:
    anna = seed_contact(db, "Zora Weber", cadence_days=7)  # no interaction: overdue on Today
    with db.write() as s:
        for i in range(60):
            contacts.create_contact(s, ContactInput(name=f"Bruno Costa {i:02}"))
    window = open_window(qtbot, db, presenter)
    window.resize(1280, 720)
    view = window.contacts
    view.filter.setText("bruno")
    qtbot.waitUntil(lambda: view.model.rowCount() == 60 and not view.model.busy, timeout=WAIT)
    window.show_page(PAGES.index("Today"))
    qtbot.waitUntil(lambda: window.today.row_of(f"checkin:{anna}") >= 0, timeout=WAIT)
    table = window.today.findChild(QTableView, "today_items")
    table.setFocus()
    table.selectRow(window.today.row_of(f"checkin:{anna}"))
    qtbot.keyClick(table, Qt.Key.Key_Return)  # Enter opens the contact, as a double-click does
    qtbot.waitUntil(lambda: shown(window) == anna, timeout=WAIT)
    idle(qtbot, window)
    selected = view.table.selectionModel().selectedRows()
    assert [view.model.row_at(i.row()).id for i in selected] == [anna]  # type: ignore[union-attr]
    row_rect = view.table.visualRect(selected[0])
    assert view.table.viewport().rect().contains(row_rect)  # scrolled to, at the end of the list
    window.close()
    window.ctx.tasks.wait_idle()


def test_a_note_goes_to_the_contact_selected_not_the_page_still_loading(
    qtbot: QtBot, db: Database, presenter: ErrorPresenter
) -> None:
    anna = seed_contact(db, "Anna Weber")
    seed_contact(db, "Bruno Costa")
    window = open_window(qtbot, db, presenter)
    view = window.contacts
    open_contact(qtbot, window, anna)
    view.table.selectRow(view.model.row_of(anna) ^ 1)  # Bruno: his page starts loading
    window.new_note_action.trigger()  # before it has arrived
    dialog = visible(NoteDialog)
    assert dialog.contact.contact_id() != anna
    dialog.reject()
    window.close()
    window.ctx.tasks.wait_idle()


# -- item 7: counts are counts ------------------------------------------------------------------
def test_today_shows_true_counts_not_the_row_limit(
    qtbot: QtBot, db: Database, presenter: ErrorPresenter
) -> None:
    today = date.today()
    with db.write() as s:
        for i in range(205):  # a cadence and no interaction yet: every one is overdue
            contacts.create_contact(s, ContactInput(name=f"Contact {i:03}", cadence_days=14))
        cid = contacts.create_contact(s, ContactInput(name="Zoe Quinn"))
        for i in range(502):
            due = today - timedelta(days=1 + i % 30)
            commitments.add_commitment(s, CommitmentInput(what=f"Late {i}", contact_id=cid, due_date=due))
        for days in (0, 3):
            due = today + timedelta(days=days)
            commitments.add_commitment(s, CommitmentInput(what=f"Soon {days}", contact_id=cid, due_date=due))
    window = open_window(qtbot, db, presenter)
    window.show_page(PAGES.index("Today"))
    qtbot.waitUntil(lambda: "check-ins due" in window.today.headline.text(), timeout=WAIT)
    headline = window.today.headline.text()
    assert "205 check-ins due" in headline
    assert "502 overdue commitments" in headline
    due = window.today.section("commitments")
    assert due is not None and due.count == 503 and len(due.items) == 200  # 502 late, 1 due today
    model = window.today.model
    titles = [str(model.data(model.index(i, 0))) for i in range(model.rowCount()) if model.is_title(i)]
    assert "Commitments due (503) — the first 200 shown" in titles
    assert "Check-ins due (205) — the first 200 shown" in titles
    assert window.sidebar.item(PAGES.index("Commitments")).text() == "Commitments (502 overdue)"
    window.close()
    window.ctx.tasks.wait_idle()


# -- item 9: sign in ----------------------------------------------------------------------------
def test_sign_in_with_the_server_down_explains_it_in_full(qtbot: QtBot, window: MainWindow) -> None:
    unused_port = refused_port()
    dialog = window.sign_in()
    button = dialog.buttons.button(QDialogButtonBox.StandardButton.Save)
    assert button.text() == "Sign in"
    dialog.server.setText(f"http://127.0.0.1:{unused_port}")
    dialog.username.setText("rita")
    dialog.password.setText("secret")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.summary.isVisible(), timeout=WAIT)
    message = dialog.summary.text()
    assert "could not reach" in message and f"127.0.0.1:{unused_port}" in message
    assert "Errno" not in message and "Error" not in message
    assert dialog.error_text("password") == ""
    qtbot.wait(50)
    label = dialog.summary
    assert label.height() >= label.heightForWidth(label.width())  # every line of it shows
    assert on_screen(label, dialog)
    # …and not by squeezing the fields: the password is still there to correct.
    viewport = dialog.scroll_area.viewport()
    password = QRect(dialog.password.mapTo(viewport, QPoint(0, 0)), dialog.password.size())
    assert viewport.rect().contains(password)
    assert button.isEnabled() and dialog.password.text() == "secret"  # try again: nothing to retype
    dialog.reject()


def test_sign_in_can_be_cancelled_while_the_server_is_silent(
    qtbot: QtBot, window: MainWindow, silent: SilentServer
) -> None:
    dialog = window.sign_in()
    dialog.server.setText(f"http://127.0.0.1:{silent.port}")
    dialog.username.setText("rita")
    dialog.password.setText("secret")
    button = dialog.buttons.button(QDialogButtonBox.StandardButton.Save)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    cancel = dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel)
    assert cancel.isEnabled() and not button.isEnabled()
    qtbot.wait(200)
    qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    assert window.ctx.tasks.wait_idle(2_000)  # the attempt itself stopped too
    qtbot.wait(50)
    assert window.sync.status is not None and not window.sync.status.linked


# -- item 10: the smaller things ----------------------------------------------------------------
def test_undo_is_withdrawn_once_the_trash_has_restored_it(
    qtbot: QtBot, db: Database, presenter: ErrorPresenter
) -> None:
    cid = seed_contact(db, "Ivo Novak")
    window = open_window(qtbot, db, presenter)
    open_contact(qtbot, window, cid)
    with qtbot.waitSignal(window.undo_offered, timeout=WAIT):
        window.delete_action.trigger()
    window.show_page(PAGES.index("Trash"))
    qtbot.waitUntil(lambda: window.trash.model.rowCount() == 1, timeout=WAIT)
    assert not window.trash.restore_button.isEnabled()  # nothing selected yet
    window.trash.table.selectRow(0)
    qtbot.mouseClick(window.trash.restore_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.trash.model.rowCount() == 0, timeout=WAIT)
    idle(qtbot, window)
    assert not window.undo_action.isEnabled()
    assert not window.undo_button.isVisible()
    window.close()
    window.ctx.tasks.wait_idle()


def test_ctrl_z_in_the_filter_box_undoes_the_delete(
    qtbot: QtBot, db: Database, presenter: ErrorPresenter
) -> None:
    cid = seed_contact(db, "Jana Horak")
    window = open_window(qtbot, db, presenter)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=WAIT)
    open_contact(qtbot, window, cid)
    with qtbot.waitSignal(window.undo_offered, timeout=WAIT):
        window.delete_action.trigger()
    window.find_action.trigger()
    qtbot.keyClicks(window.contacts.filter, "ja")
    qtbot.keyClick(window.contacts.filter, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: "Restored" in window.statusBar().currentMessage(), timeout=WAIT)
    with db.read() as s:
        assert contacts.get_contact(s, cid).name == "Jana Horak"
    assert window.contacts.filter.text() == "ja"
    window.close()
    window.ctx.tasks.wait_idle()


def test_commitment_buttons_wait_for_a_selection_and_mark_done_can_be_undone(
    qtbot: QtBot, db: Database, presenter: ErrorPresenter
) -> None:
    cid = seed_contact(db, "Kofi Mensah")
    seed_commitment(db, cid, "Call back about the invoice", "2030-01-10")
    window = open_window(qtbot, db, presenter)
    window.show_page(PAGES.index("Commitments"))
    view = window.commitments
    qtbot.waitUntil(lambda: view.model.rowCount() == 1, timeout=WAIT)
    view.table.clearSelection()
    for button in (view.done_button, view.cancel_button, view.reopen_button, view.open_button):
        assert not button.isEnabled(), button.text()
    view.table.selectRow(0)
    assert view.done_button.isEnabled() and view.open_button.isEnabled()
    assert not view.reopen_button.isEnabled()  # it is open already
    with qtbot.waitSignal(window.undo_offered, timeout=WAIT) as offered:
        qtbot.mouseClick(view.done_button, Qt.MouseButton.LeftButton)
    assert "Marked done" in offered.args[0]
    qtbot.mouseClick(window.undo_button, Qt.MouseButton.LeftButton)
    idle(qtbot, window)
    with db.read() as s:
        (row,) = commitments.list_commitments(s, status=None)
    assert row.status == "open" and row.done_at is None
    qtbot.waitUntil(lambda: view.model.rowCount() == 1, timeout=WAIT)
    window.close()
    window.ctx.tasks.wait_idle()


def test_saving_a_pdf_says_where_it_went(
    qtbot: QtBot, window: MainWindow, db: Database, tmp_path: Path
) -> None:
    cid = seed_contact(db, "Lea Brandt", account="Brandt & Söhne")
    target = tmp_path / "lea.pdf"
    export = save_briefing_pdf(window, window.ctx, contact_id=cid, path=target)
    assert export is not None
    with qtbot.waitSignal(export.saved, timeout=20_000):
        pass
    assert target.exists()
    assert str(target) in window.statusBar().currentMessage()


def test_a_fields_error_goes_once_it_is_fixed(qtbot: QtBot, window: MainWindow) -> None:
    window.new_contact_action.trigger()
    dialog = visible(ContactDialog)
    dialog.editor("name").setText("Mia Roth")
    dialog.editor("emails").setText("mia-at-roth")
    dialog.buttons.accepted.emit()
    assert "not an email address" in dialog.error_text("emails")
    dialog.editor("emails").setText("mia@roth.de")
    assert dialog.error_text("emails") == ""
    dialog.reject()


def test_print_preview_opens_at_the_page_width(qtbot: QtBot, db: Database, presenter: ErrorPresenter) -> None:
    cid = seed_contact(db, "Nora Fischer", account="Fischer KG")
    window = open_window(qtbot, db, presenter)
    open_contact(qtbot, window, cid)
    preview = window.print_briefing(cid)
    with qtbot.waitSignal(preview.opened, timeout=10_000) as opened:
        pass
    dialog = opened.args[0]
    widget = dialog.findChild(QPrintPreviewWidget)
    qtbot.waitUntil(lambda: widget.zoomFactor() > 0, timeout=WAIT)
    assert widget.zoomMode() == QPrintPreviewWidget.ZoomMode.FitToWidth
    assert widget.zoomFactor() >= 0.6
    dialog.reject()
    window.close()
    window.ctx.tasks.wait_idle()


def test_accounts_list_shows_every_column(qtbot: QtBot, db: Database, presenter: ErrorPresenter) -> None:
    seed_contact(db, "Olga Petrova", account="Baltic Timber & Board Trading Company")
    window = open_window(qtbot, db, presenter)
    window.resize(1280, 720)
    window.show_page(PAGES.index("Accounts"))
    table = window.accounts.table
    qtbot.waitUntil(lambda: window.accounts.list.rowCount() == 1, timeout=WAIT)
    qtbot.wait(50)
    for column in range(window.accounts.list.columnCount()):
        assert column_in_view(table, column), column
    window.close()
    window.ctx.tasks.wait_idle()


def test_accounts_list_keeps_its_width_after_a_run_that_never_showed_it(
    qtbot: QtBot, db: Database, presenter: ErrorPresenter
) -> None:
    """A run that never opened Accounts must not save its unlaid-out sizes: they squeezed the
    list to a sliver of cut-off names on the next start (seen switching to the sample data)."""
    seed_contact(db, "Olga Petrova", account="Baltic Timber & Board Trading Company")
    first = open_window(qtbot, db, presenter)
    first.close()
    first.ctx.tasks.wait_idle()
    window = open_window(qtbot, db, presenter)
    window.resize(1280, 720)
    window.show_page(PAGES.index("Accounts"))
    qtbot.waitUntil(lambda: window.accounts.list.rowCount() == 1, timeout=WAIT)
    qtbot.wait(50)
    left, right = window.accounts.splitter.sizes()
    assert left >= (left + right) // 3, (left, right)
    for column in range(window.accounts.list.columnCount()):
        assert column_in_view(window.accounts.table, column), column
    window.close()
    window.ctx.tasks.wait_idle()


def test_counted_words_read_as_a_rep_writes_them(
    qtbot: QtBot, db: Database, presenter: ErrorPresenter
) -> None:
    today = date.today()
    now = datetime.now(UTC)
    detail = ContactDetail(
        uuid.uuid4(), "Pia Keller", "customer", None, "", "", (), (), "", None, (), "", "", (), "",
        cadence_days=1, cadence_max_days=None, stake_role="", referred_by_id=None, last_contact_at=now,
        created_at=now, updated_at=now,
    )  # fmt: skip
    text = profile_html(detail, KeptRate(0, 0, 0), today)
    assert "Last contact today" in text and "0 days" not in text
    assert "next check-in tomorrow" in text and "1 days" not in text
    unlinked = SyncStatus(None, None, pending=1, last_synced_at=None, conflicts=0, rejections=0)
    assert "· 1 change kept on this laptop" in status_text(unlinked, offline=False, running=False, now=now)

    cid = seed_contact(db, "Pia Keller")
    seed_note(db, cid, "Called")
    window = open_window(qtbot, db, presenter)
    open_contact(qtbot, window, cid)
    assert window.contacts.detail.timeline_title.text().endswith("— 1 note")
    window.close()
    window.ctx.tasks.wait_idle()


def test_review_and_account_buttons_wait_for_a_selection(
    qtbot: QtBot, db: Database, presenter: ErrorPresenter
) -> None:
    seed_contact(db, "Quentin Roy", account="Roy Frères")
    window = open_window(qtbot, db, presenter)
    review = window.conflicts
    for button in (review.reapply_button, review.dismiss_button, review.dismiss_rejection_button):
        assert not button.isEnabled(), button.text()
    window.show_page(PAGES.index("Accounts"))
    accounts = window.accounts
    qtbot.waitUntil(lambda: accounts.list.rowCount() == 1, timeout=WAIT)
    accounts.table.selectRow(0)
    qtbot.waitUntil(lambda: accounts.people.rowCount() == 1, timeout=WAIT)
    assert not accounts.print_person_button.isEnabled()
    accounts.people_view.selectRow(0)
    assert accounts.print_person_button.isEnabled()
    window.close()
    window.ctx.tasks.wait_idle()
