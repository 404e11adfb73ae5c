"""The real main window driven with pytest-qt, over a real SQLite file, offscreen."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from models.db import Database
from models.errors import NotFoundError
from models.paths import sample_db_path
from models.services import commitments, contacts, notes, trash
from tests.support.gui_helpers import (
    WAIT,
    idle,
    open_window,
    seed_commitment,
    seed_contact,
    seed_note,
    visible,
)
from ui.contacts_model import ContactTableModel
from ui.dialogs import CommitmentDialog, ContactDialog, NoteDialog
from ui.errors import ErrorPresenter
from ui.main_window import PAGES, MainWindow


def test_empty_database_offers_to_add_or_load_sample_data(qtbot: QtBot, window: MainWindow) -> None:
    view = window.contacts
    assert view.list_stack.currentWidget() is view.empty
    assert "No contacts yet" in view.empty_label.text()
    # Sample data opens in a database of its own (tests/ui/test_sample_data.py): this one stays empty.
    with qtbot.waitSignal(window.switch_requested, timeout=WAIT) as asked:
        qtbot.mouseClick(view.demo_button, Qt.MouseButton.LeftButton)
    assert asked.args == [sample_db_path()]
    idle(qtbot, window)
    assert view.list_stack.currentWidget() is view.empty


def test_create_contact_through_the_dialog_explains_bad_fields_first(
    qtbot: QtBot, window: MainWindow, db: Database
) -> None:
    window.new_contact_action.trigger()
    dialog = visible(ContactDialog)
    qtbot.keyClicks(dialog.editor("name"), "Anna Schmidt")
    qtbot.keyClicks(dialog.editor("emails"), "anna-at-acme")
    qtbot.keyClicks(dialog.editor("phones"), "12")
    qtbot.keyClicks(dialog.editor("cadence_days"), "often")
    dialog.buttons.accepted.emit()
    assert "not an email address" in dialog.error_text("emails")
    assert "phone number" in dialog.error_text("phones")
    assert "between 1 and 3650" in dialog.error_text("cadence_days")
    assert dialog.error_text("name") == ""
    assert dialog.isVisible()
    with db.read() as s:
        assert contacts.count_contacts(s) == 0  # nothing saved half-way

    dialog.editor("emails").setText("anna@acme.de")
    dialog.editor("phones").setText("+49 30 1234567")
    dialog.editor("cadence_days").setText("14")
    qtbot.keyClicks(dialog.editor("tags"), "VIP, golf")
    with qtbot.waitSignal(dialog.saved, timeout=WAIT):
        dialog.buttons.accepted.emit()
    qtbot.waitUntil(lambda: window.contacts.detail.page is not None, timeout=WAIT)
    idle(qtbot, window)
    assert not dialog.isVisible()
    page = window.contacts.detail.page
    assert page is not None and page.detail.name == "Anna Schmidt"
    assert page.detail.tags == ("VIP", "golf")
    assert window.contacts.model.rowCount() == 1
    assert "Anna Schmidt" in window.contacts.detail.profile.text()


def test_invalid_birthday_is_explained_in_the_form(qtbot: QtBot, window: MainWindow, db: Database) -> None:
    window.new_contact_action.trigger()
    dialog = visible(ContactDialog)
    dialog.editor("name").setText("Ben")
    dialog.editor("birthday").setText("31/12/1980")
    dialog.buttons.accepted.emit()
    assert "not a date" in dialog.error_text("birthday")
    dialog.reject()


def test_log_a_note_and_complete_a_commitment(qtbot: QtBot, db: Database, presenter: ErrorPresenter) -> None:
    cid = seed_contact(db, "Carla Ruiz", account="Acme")
    seed_note(db, cid, "First call")
    window = open_window(qtbot, db, presenter)
    window.open_contact(cid)
    pane = window.contacts.detail
    qtbot.waitUntil(lambda: pane.page is not None and pane.page.detail.id == cid, timeout=WAIT)

    pane.note_button.click()  # may sit in the bar's » menu on a small screen
    dialog = visible(NoteDialog)
    assert dialog.contact.contact_id() == cid
    dialog.summary_edit.setText("Discussed the spring order")
    dialog.body.setPlainText("Wants <b>samples</b> by Friday")
    with qtbot.waitSignal(dialog.saved, timeout=WAIT):
        dialog.buttons.accepted.emit()
    qtbot.waitUntil(lambda: pane.timeline.rowCount() == 2, timeout=WAIT)
    newest = pane.timeline.row_at(0)
    assert newest is not None and newest.summary == "Discussed the spring order"

    pane.commit_button.click()  # may sit in the bar's » menu on a small screen
    cdialog = visible(CommitmentDialog)
    cdialog.what.setText("Send samples")
    cdialog.due.setText((date.today() - timedelta(days=2)).isoformat())
    with qtbot.waitSignal(cdialog.saved, timeout=WAIT):
        cdialog.buttons.accepted.emit()
    qtbot.waitUntil(lambda: pane.commitments.rowCount() == 1, timeout=WAIT)
    index = pane.commitments.index(0, 0)
    assert pane.commitments.data(index).endswith("2 d late")
    assert pane.commitments.data(index, Qt.ItemDataRole.ForegroundRole) is not None
    # Overdue ones are marked everywhere: Today and the Commitments view list it too.
    qtbot.waitUntil(lambda: getattr(window.today.section("commitments"), "count", 0) == 1, timeout=WAIT)
    sidebar_item = window.sidebar.item(PAGES.index("Commitments"))
    qtbot.waitUntil(lambda: "1 overdue" in sidebar_item.text(), timeout=WAIT)

    pane.commitment_view.selectRow(0)
    qtbot.mouseClick(pane.done_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: getattr(pane.commitments.row_at(0), "status", "") == "done", timeout=WAIT)
    with db.read() as s:
        (row,) = commitments.list_commitments(s, status="done", contact_id=cid)
    assert row.done_at is not None
    qtbot.waitUntil(lambda: getattr(window.today.section("commitments"), "count", 1) == 0, timeout=WAIT)
    window.close()
    window.ctx.tasks.wait_idle()


def test_filter_narrows_the_list_as_you_type(qtbot: QtBot, db: Database, presenter: ErrorPresenter) -> None:
    for name in ("Anna Schmidt", "Annabel Lee", "Ben Okafor", "Carla Ruiz", "中村 美咲"):
        seed_contact(db, name)
    seed_contact(db, "Dora Diaz", account="Schmidt Logistics")
    window = open_window(qtbot, db, presenter)
    view = window.contacts
    assert view.model.rowCount() == 6
    window.find_action.trigger()
    assert view.filter.hasFocus()
    qtbot.keyClicks(view.filter, "ann")
    qtbot.waitUntil(lambda: view.model.rowCount() == 2, timeout=WAIT)
    assert {view.model.row_at(i).name for i in range(2)} == {"Anna Schmidt", "Annabel Lee"}  # type: ignore[union-attr]
    view.filter.setText("schmidt")  # matches a name and an account's name
    qtbot.waitUntil(lambda: view.model.rowCount() == 2, timeout=WAIT)
    qtbot.waitUntil(lambda: view.count.text() == "2 contacts", timeout=WAIT)
    view.filter.setText("中村")
    qtbot.waitUntil(lambda: view.model.rowCount() == 1, timeout=WAIT)
    view.filter.setText("zzzz")
    qtbot.waitUntil(lambda: view.list_stack.currentWidget() is view.no_match, timeout=WAIT)
    view.filter.clear()
    qtbot.waitUntil(lambda: view.model.rowCount() == 6, timeout=WAIT)
    window.close()
    window.ctx.tasks.wait_idle()


def test_delete_then_undo_brings_the_contact_and_its_notes_back(
    qtbot: QtBot, db: Database, presenter: ErrorPresenter
) -> None:
    cid = seed_contact(db, "Erik Berg")
    seed_note(db, cid, "Met at the fair")
    seed_commitment(db, cid, "Send brochure", "2030-01-01")
    window = open_window(qtbot, db, presenter)
    window.open_contact(cid)
    qtbot.waitUntil(lambda: window.contacts.detail.page is not None, timeout=WAIT)
    with qtbot.waitSignal(window.undo_offered, timeout=WAIT):
        window.delete_action.trigger()
    qtbot.waitUntil(lambda: window.contacts.model.rowCount() == 0, timeout=WAIT)
    with db.read() as s, pytest.raises(NotFoundError):
        contacts.get_contact(s, cid)
    window.show_page(PAGES.index("Trash"))  # hidden pages load when shown
    qtbot.waitUntil(lambda: window.trash.model.rowCount() == 1, timeout=WAIT)

    window.undo_action.trigger()
    qtbot.waitUntil(lambda: window.contacts.model.rowCount() == 1, timeout=WAIT)
    idle(qtbot, window)
    with db.read() as s:
        assert contacts.get_contact(s, cid).name == "Erik Berg"
        assert [n.summary for n in notes.timeline(s, contact_id=cid)] == ["Met at the fair"]
        assert len(commitments.list_commitments(s, contact_id=cid)) == 1
        assert trash.list_trash(s) == []
    assert not window.undo_action.isEnabled()
    window.close()
    window.ctx.tasks.wait_idle()


def test_restore_from_the_trash(qtbot: QtBot, db: Database, presenter: ErrorPresenter) -> None:
    cid = seed_contact(db, "Farid Haddad")
    with db.write() as s:
        contacts.delete_contact(s, cid)
    window = open_window(qtbot, db, presenter)
    window.show_page(PAGES.index("Trash"))
    qtbot.waitUntil(lambda: window.trash.model.rowCount() == 1, timeout=WAIT)
    window.trash.table.selectRow(0)
    qtbot.mouseClick(window.trash.restore_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.contacts.model.rowCount() == 1, timeout=WAIT)
    qtbot.waitUntil(lambda: window.trash.model.rowCount() == 0, timeout=WAIT)
    window.close()
    window.ctx.tasks.wait_idle()


def test_contact_list_fetches_pages_lazily_as_the_rep_scrolls(
    qtbot: QtBot, qtmodeltester: object, db: Database, presenter: ErrorPresenter
) -> None:
    from models.demo import fill_demo

    fill_demo(db, contacts=450, notes_per_contact=0)
    window = open_window(qtbot, db, presenter)
    model = window.contacts.model
    assert model.rowCount() == 200  # only the first page is loaded at start
    assert model.canFetchMore()
    qtmodeltester.check(model)  # type: ignore[attr-defined]
    while model.canFetchMore() or model.busy:
        if model.canFetchMore():
            window.contacts.table.scrollToBottom()
            model.fetchMore()
        idle(qtbot, window)
    shown = [model.row_at(i).id for i in range(model.rowCount())]  # type: ignore[union-attr]
    assert len(shown) == len(set(shown)) == 450
    with db.read() as s:  # the same order as one query over the whole list
        assert shown == [r.id for r in contacts.list_contacts(s, limit=1000)]
    window.close()
    window.ctx.tasks.wait_idle()


def test_window_geometry_and_column_widths_are_remembered_and_today_starts(
    qtbot: QtBot, db: Database, presenter: ErrorPresenter
) -> None:
    window = open_window(qtbot, db, presenter)
    first = window.size()
    # Smaller than the first-start size (the offscreen screen is 800x600). The window may come
    # out a little wider than asked: its minimum width depends on the fonts installed (780 px
    # with DejaVu only), so what must hold is that the size the rep left is the size restored.
    window.resize(760, 560)
    qtbot.waitUntil(lambda: window.size() != first, timeout=WAIT)
    left = window.size()
    window.contacts.table.horizontalHeader().resizeSection(1, 321)
    window.show_page(PAGES.index("Accounts"))
    window.close()
    window.ctx.tasks.wait_idle()

    again = open_window(qtbot, db, presenter)
    assert again.contacts.table.horizontalHeader().sectionSize(1) == 321
    assert again.stack.currentWidget() is again.today  # the start screen, whatever was open last
    assert again.size() == left
    assert left.height() == 560 and left.width() >= 760
    again.close()
    again.ctx.tasks.wait_idle()


def test_errors_in_workers_reach_the_rep_with_the_log_location(
    qtbot: QtBot, window: MainWindow, presenter: ErrorPresenter
) -> None:
    def broken(_s: object) -> None:
        raise RuntimeError("boom")

    with qtbot.waitSignal(presenter.error_shown, timeout=WAIT) as signal:
        window.ctx.query(broken)
    title, message = signal.args
    assert title == "Rapport hit an unexpected problem"
    assert "/tmp/rapport-test.log" in message


def test_a_rep_error_is_shown_as_written(qtbot: QtBot, window: MainWindow, presenter: ErrorPresenter) -> None:
    import uuid

    with qtbot.waitSignal(presenter.error_shown, timeout=WAIT) as signal:
        window.ctx.act(lambda s: contacts.delete_contact(s, uuid.uuid4()))
    assert signal.args[1] == "That contact no longer exists (it may have been deleted)."


def test_stale_filter_results_are_dropped(qtbot: QtBot, window: MainWindow, db: Database) -> None:
    seed_contact(db, "Gina Rossi")
    seed_contact(db, "Hiro Tanaka")
    model: ContactTableModel = window.contacts.model
    model.set_filter("gina")
    model.set_filter("hiro")  # the first query's answer arrives after this one was asked
    idle(qtbot, window)
    assert model.rowCount() == 1
    assert model.row_at(0).name == "Hiro Tanaka"  # type: ignore[union-attr]
    assert QApplication.instance() is not None


def test_keyboard_shortcuts_open_the_dialogs(qtbot: QtBot, window: MainWindow) -> None:
    ctrl, shift = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWindow() is not None, timeout=WAIT)
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    dialog = visible(ContactDialog)
    dialog.reject()
    qtbot.keyClick(window, Qt.Key.Key_N, ctrl | shift)
    visible(NoteDialog).reject()
    qtbot.keyClick(window, Qt.Key.Key_C, ctrl | shift)
    visible(CommitmentDialog).reject()
    qtbot.keyClick(window, Qt.Key.Key_4, ctrl)
    assert window.stack.currentWidget() is window.accounts
    qtbot.keyClick(window, Qt.Key.Key_2, ctrl)
    assert window.stack.currentWidget() is window.visits
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.stack.currentWidget() is window.contacts
    assert window.contacts.filter.hasFocus()


def test_new_note_without_a_selected_contact_picks_one_by_name(
    qtbot: QtBot, window: MainWindow, db: Database
) -> None:
    cid = seed_contact(db, "Gina Rossi", account="Rossi Foods")
    window.show_page(PAGES.index("Commitments"))
    window.new_note_action.trigger()
    dialog = visible(NoteDialog)
    assert dialog.contact.contact_id() is None
    dialog.summary_edit.setText("Called about the delivery")
    dialog.buttons.accepted.emit()
    assert "Choose a contact" in dialog.error_text("contact_id")
    qtbot.keyClicks(dialog.contact, "gin")
    model = dialog.contact.completer().model()
    qtbot.waitUntil(lambda: model.rowCount() == 1, timeout=WAIT)
    label = model.index(0, 0).data()
    assert label == "Gina Rossi (Rossi Foods)"
    dialog.contact.setText(label)
    assert dialog.contact.contact_id() == cid
    with qtbot.waitSignal(dialog.saved, timeout=WAIT):
        dialog.buttons.accepted.emit()
    with db.read() as s:
        assert [n.summary for n in notes.timeline(s, contact_id=cid)] == ["Called about the delivery"]


def test_accounts_page_create_add_people_and_delete_with_undo(
    qtbot: QtBot, window: MainWindow, db: Database
) -> None:
    from ui.dialogs import AccountDialog

    view = window.accounts
    window.show_page(PAGES.index("Accounts"))
    qtbot.mouseClick(view.new_button, Qt.MouseButton.LeftButton)
    dialog = visible(AccountDialog)
    dialog.buttons.accepted.emit()
    assert dialog.error_text("name") == "A name is required"
    dialog.editor("name").setText("Nordwind GmbH")
    dialog.editor("segment").setText("Wholesale")
    with qtbot.waitSignal(dialog.saved, timeout=WAIT):
        dialog.buttons.accepted.emit()
    qtbot.waitUntil(lambda: view.list.rowCount() == 1, timeout=WAIT)
    view.table.selectRow(0)
    qtbot.waitUntil(lambda: view.page is not None, timeout=WAIT)

    view.add_contact_button.click()  # may sit in the bar's » menu on a small screen
    cdialog = visible(ContactDialog)
    qtbot.waitUntil(lambda: cdialog.editor("account_id").currentText() == "Nordwind GmbH", timeout=WAIT)
    cdialog.editor("name").setText("Ida Lund")
    with qtbot.waitSignal(cdialog.saved, timeout=WAIT):
        cdialog.buttons.accepted.emit()
    qtbot.waitUntil(lambda: view.people.rowCount() == 1, timeout=WAIT)

    view.commit_button.click()  # may sit in the bar's » menu on a small screen
    commit = visible(CommitmentDialog)
    commit.what.setText("Quote for the new warehouse")
    with qtbot.waitSignal(commit.saved, timeout=WAIT):
        commit.buttons.accepted.emit()
    qtbot.waitUntil(lambda: view.owed.rowCount() == 1, timeout=WAIT)

    window.delete_action.trigger()  # the account has a person: the rep is asked what goes
    qtbot.waitUntil(lambda: view.delete_box is not None and view.delete_box.isVisible(), timeout=WAIT)
    keep = next(b for b in view.delete_box.buttons() if b.text() == "Keep the people")
    with qtbot.waitSignal(window.undo_offered, timeout=WAIT):
        keep.click()
    qtbot.waitUntil(lambda: view.list.rowCount() == 0, timeout=WAIT)
    window.undo_action.trigger()
    qtbot.waitUntil(lambda: view.list.rowCount() == 1, timeout=WAIT)
    idle(qtbot, window)
    with db.read() as s:
        assert len(commitments.list_commitments(s)) == 1
        assert contacts.list_contacts(s)[0].account_name == "Nordwind GmbH"


def test_print_briefing_from_the_contact_page_opens_the_preview(
    qtbot: QtBot, db: Database, presenter: ErrorPresenter
) -> None:
    cid = seed_contact(db, "Hana Kobayashi", account="Sakura Foods")
    window = open_window(qtbot, db, presenter)
    window.open_contact(cid)
    qtbot.waitUntil(lambda: window.contacts.detail.page is not None, timeout=WAIT)
    window.contacts.detail.print_button.click()
    with qtbot.waitSignal(window.preview.opened, timeout=10_000) as opened:
        pass
    dialog = opened.args[0]
    assert "Hana Kobayashi" in dialog.windowTitle()
    dialog.reject()
    window.close()
    window.ctx.tasks.wait_idle()


def test_an_edit_does_not_send_a_rep_scrolled_far_down_back_to_the_top(
    qtbot: QtBot, db: Database, presenter: ErrorPresenter
) -> None:
    from models.demo import fill_demo
    from models.services.notes import NoteInput

    fill_demo(db, contacts=450, notes_per_contact=0)
    window = open_window(qtbot, db, presenter)
    view, model = window.contacts, window.contacts.model
    while model.canFetchMore() or model.busy:
        if model.canFetchMore():
            model.fetchMore()
        idle(qtbot, window)
    view.table.selectRow(420)
    target = model.row_at(420)
    assert target is not None
    qtbot.waitUntil(lambda: view.detail.contact_id == target.id, timeout=WAIT)
    view.table.scrollToBottom()
    scrolled = view.table.verticalScrollBar().value()
    assert scrolled > 0

    window.ctx.act(lambda s: notes.add_note(s, NoteInput(summary="Quick call", contact_id=target.id)))
    qtbot.waitUntil(lambda: view.detail.timeline.rowCount() == 1, timeout=WAIT)
    idle(qtbot, window)
    assert model.rowCount() == 450
    assert view.table.currentIndex().row() == 420
    # Still down there: at most nudged to keep the selected contact (row 420) in view.
    assert 400 <= view.table.verticalScrollBar().value() <= scrolled
    window.close()
    window.ctx.tasks.wait_idle()


def test_marking_a_commitment_done_keeps_it_selected_in_the_commitments_view(
    qtbot: QtBot, db: Database, presenter: ErrorPresenter
) -> None:
    cid = seed_contact(db, "Ines Alves")
    for i in range(3):
        seed_commitment(db, cid, f"Promise {i}", f"2030-01-0{i + 1}")
    window = open_window(qtbot, db, presenter)
    window.show_page(PAGES.index("Commitments"))
    view = window.commitments
    qtbot.waitUntil(lambda: view.model.rowCount() == 3, timeout=WAIT)
    view.status.setCurrentIndex(view.status.findData(None))  # All: the row stays listed once done
    qtbot.waitUntil(lambda: view.status.currentData() is None and view.model.rowCount() == 3, timeout=WAIT)
    view.table.selectRow(1)
    chosen = view.selected()
    assert chosen is not None
    view.done_button.click()
    qtbot.waitUntil(lambda: getattr(view.selected(), "status", "") == "done", timeout=WAIT)
    assert view.selected().id == chosen.id  # type: ignore[union-attr]
    window.close()
    window.ctx.tasks.wait_idle()
