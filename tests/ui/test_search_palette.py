"""Ctrl+K: type, move with the arrows, Enter opens the result where it lives (pytest-qt, real
window, real database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from models.db import Database
from models.services import accounts, commitments, contacts, notes, visits
from models.services.accounts import AccountInput
from models.services.commitments import CommitmentInput
from models.services.notes import NoteInput
from models.services.search import SearchHit
from models.services.visits import VisitInput
from tests.support.gui_helpers import WAIT, idle, seed_contact, seed_note
from ui.main_window import MainWindow
from ui.search_palette import SearchPalette, hit_html

CTRL = Qt.KeyboardModifier.ControlModifier


def palette_search(qtbot: QtBot, window: MainWindow, text: str) -> SearchPalette:
    window.activateWindow()  # a closed dialog leaves no active window offscreen
    qtbot.waitUntil(window.isActiveWindow, timeout=WAIT)
    qtbot.keyClick(window, Qt.Key.Key_K, CTRL)
    palette = window.palette_dialog
    assert palette is not None and palette.isVisible()
    qtbot.waitUntil(palette.box.hasFocus, timeout=WAIT)
    with qtbot.waitSignal(palette.results_shown, timeout=WAIT, check_params_cb=lambda shown: shown == text):
        qtbot.keyClicks(palette.box, text)  # letter by letter, as the rep types
    return palette


def current_hit(palette: SearchPalette) -> SearchHit:
    item = palette.list.currentItem()
    assert item is not None
    hit = item.data(Qt.ItemDataRole.UserRole + 1)
    assert isinstance(hit, SearchHit)
    return hit


def test_ctrl_k_enter_opens_the_note_in_its_contacts_timeline(
    qtbot: QtBot, db: Database, window: MainWindow
) -> None:
    anna = seed_contact(db, "Anna Müller", account="Delta Bakery")
    with db.write() as s:
        older = notes.add_note(
            s,
            NoteInput(
                summary="Prices",
                body="Talked about zucchini prices.",
                contact_id=anna,
                occurred_at=datetime.now(UTC) - timedelta(days=100),
            ),
        )
    for i in range(30):  # the note is not the first row of her timeline
        with db.write() as s:
            notes.add_note(
                s,
                NoteInput(
                    summary=f"Call {i}", contact_id=anna, occurred_at=datetime.now(UTC) - timedelta(days=i)
                ),
            )
    palette = palette_search(qtbot, window, "zucch")
    assert [k for k in palette.results.groups] == ["note"]
    assert current_hit(palette).id == older
    qtbot.keyClick(palette.box, Qt.Key.Key_Return)
    assert not palette.isVisible()
    assert window.stack.currentWidget() is window.contacts
    detail = window.contacts.detail
    qtbot.waitUntil(lambda: detail.page is not None and detail.page.detail.id == anna, timeout=WAIT)
    qtbot.waitUntil(lambda: bool(detail.timeline_view.selectionModel().selectedRows()), timeout=WAIT)
    row = detail.timeline_view.selectionModel().selectedRows()[0].row()
    note = detail.timeline.row_at(row)
    assert note is not None and note.id == older
    assert "zucchini" in detail.note_body.toPlainText()
    idle(qtbot, window)


def test_arrows_move_through_the_groups_and_escape_closes(
    qtbot: QtBot, db: Database, window: MainWindow
) -> None:
    anna = seed_contact(db, "Anna Verona", account="Verona Foods")
    seed_note(db, anna, "Verona trip planned")
    palette = palette_search(qtbot, window, "veron")
    assert list(palette.results.groups) == ["contact", "account", "note"]
    kinds = [current_hit(palette).kind]
    for _ in range(3):
        qtbot.keyClick(palette.box, Qt.Key.Key_Down)  # group titles are skipped
        kinds.append(current_hit(palette).kind)
    assert kinds == ["contact", "account", "note", "note"]
    qtbot.keyClick(palette.box, Qt.Key.Key_Up)
    assert current_hit(palette).kind == "account"
    assert "<b>Verona</b>" in hit_html(current_hit(palette))
    qtbot.keyClick(palette.box, Qt.Key.Key_Escape)
    assert not palette.isVisible()
    idle(qtbot, window)


def test_enter_opens_an_account_a_commitment_and_a_visit_where_they_live(
    qtbot: QtBot, db: Database, window: MainWindow
) -> None:
    with db.write() as s:
        quarry = accounts.create_account(s, AccountInput(name="Quarry Optics"))
    anna = seed_contact(db, "Anna Becker")
    with db.write() as s:
        owed = commitments.add_commitment(
            s, CommitmentInput(what="Send the pelican brochure", contact_id=anna)
        )
        commitments.set_status(s, owed, "done")  # not on the default (open) list
        when = datetime.now(UTC) + timedelta(days=9)
        visit = visits.create_visit(s, VisitInput(starts_at=when, account_id=quarry, purpose="Lens workshop"))

    palette = palette_search(qtbot, window, "quarry")
    qtbot.keyClick(palette.box, Qt.Key.Key_Return)
    assert window.stack.currentWidget() is window.accounts
    qtbot.waitUntil(
        lambda: window.accounts.account_id == quarry and window.accounts.page is not None, timeout=WAIT
    )
    idle(qtbot, window)

    palette = palette_search(qtbot, window, "pelican")
    qtbot.keyClick(palette.box, Qt.Key.Key_Return)
    assert window.stack.currentWidget() is window.commitments
    qtbot.waitUntil(
        lambda: (row := window.commitments.selected()) is not None and row.id == owed, timeout=WAIT
    )
    idle(qtbot, window)

    palette = palette_search(qtbot, window, "lens work")
    qtbot.keyClick(palette.box, Qt.Key.Key_Return)
    assert window.stack.currentWidget() is window.visits
    qtbot.waitUntil(lambda: (row := window.visits.selected()) is not None and row.id == visit, timeout=WAIT)
    assert window.visits.day == when.astimezone().date()
    idle(qtbot, window)


def test_stale_answers_never_replace_newer_ones(qtbot: QtBot, db: Database, window: MainWindow) -> None:
    seed_contact(db, "Anna Alpha")
    seed_contact(db, "Annabel Beta")
    palette = palette_search(qtbot, window, "annab")
    # Every keystroke was typed while earlier searches ran; what is shown is for the last text.
    assert palette.results.text == "annab"
    assert [h.title for h in palette.results.hits()] == ["\x02Annabel\x03 Beta"]
    idle(qtbot, window)


def test_ctrl_k_is_listed_among_the_shortcuts(qtbot: QtBot, window: MainWindow) -> None:
    dialog = window.show_shortcuts()
    texts = [
        dialog.tree.topLevelItem(i).child(j).text(1)
        for i in range(dialog.tree.topLevelItemCount())
        for j in range(dialog.tree.topLevelItem(i).childCount())
    ]
    assert window.search_action.shortcut().toString() == "Ctrl+K"
    assert "Ctrl+K" in texts
    dialog.close()


def test_ctrl_k_from_a_filter_box_opens_the_palette(qtbot: QtBot, window: MainWindow) -> None:
    """A line edit takes Ctrl+K for "delete to the end of the line" on Linux and macOS: in the
    window's filter boxes it opens the search instead, and the text typed there stays."""
    for page, box in (
        (window.contacts, window.contacts.filter),
        (window.accounts, window.accounts.filter),
        (window.commitments, window.commitments.filter),
    ):
        window.show_page(window.stack.indexOf(page))
        window.activateWindow()
        qtbot.waitUntil(window.isActiveWindow, timeout=WAIT)
        box.setText("keep me")
        box.setFocus()
        box.setCursorPosition(0)
        qtbot.waitUntil(box.hasFocus, timeout=WAIT)
        qtbot.keyClick(box, Qt.Key.Key_K, CTRL)
        palette = window.palette_dialog
        assert palette is not None and palette.isVisible(), page
        assert box.text() == "keep me"
        palette.reject()
        box.clear()
    idle(qtbot, window)


def test_the_trash_only_when_asked_and_enter_opens_the_trash(
    qtbot: QtBot, db: Database, window: MainWindow
) -> None:
    gone = seed_contact(db, "Quentin Gone")
    with db.write() as s:
        contacts.delete_contact(s, gone)
    palette = palette_search(qtbot, window, "quentin")
    assert palette.results.groups == {}
    assert palette.status.text() == "Nothing matches."
    with qtbot.waitSignal(palette.results_shown, timeout=WAIT):
        qtbot.keyClick(palette.trash, Qt.Key.Key_Space)  # "Include the trash"
    assert current_hit(palette).id == gone and current_hit(palette).in_trash
    assert "(in the trash)" in hit_html(current_hit(palette))
    palette.box.setFocus()
    qtbot.keyClick(palette.box, Qt.Key.Key_Return)
    assert window.stack.currentWidget() is window.trash
    idle(qtbot, window)
