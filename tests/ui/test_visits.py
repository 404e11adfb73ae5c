"""Visits: the service (validation, the local day, completing with a note and commitments)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from PySide6.QtCore import QDate, QEvent, Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QLabel
from pytestqt.qtbot import QtBot
from shiboken6 import isValid
from sqlalchemy import func, select

from models import errors
from models.db import Database
from models.entities import Commitment, Note, Visit
from models.services import visits
from models.services.accounts import AccountInput, create_account
from models.services.commitments import CommitmentInput
from models.services.contacts import ContactInput, create_contact
from models.services.visits import VisitInput, VisitOutcome
from tests.support.briefing_data import TODAY, at
from ui.contact_detail import ContactDetailPane
from ui.context import AppContext
from ui.forms import FormDialog, error_style
from ui.today_view import TodayView
from ui.visit_dialog import CommitmentLine, CompleteVisitDialog, VisitDialog
from ui.visits_view import VisitsView


@pytest.fixture
def people(db: Database) -> dict[str, uuid.UUID]:
    with db.write() as s:
        acc = create_account(s, AccountInput("Cedar Foods", address="Via Roma 3, Milan"))
        anna = create_contact(s, ContactInput("Anna Rossi", account_id=acc))
        ben = create_contact(s, ContactInput("Ben Costa", account_id=acc))
    return {"account": acc, "anna": anna, "ben": ben}


def count(db: Database, cls: type) -> int:
    with db.read() as s:
        return int(s.scalar(select(func.count()).select_from(cls)) or 0)


def test_invalid_visit_names_every_bad_field_and_saves_nothing(db: Database) -> None:
    with pytest.raises(errors.ValidationError) as info, db.write() as s:
        visits.create_visit(s, VisitInput(starts_at="tomorrow-ish", duration_minutes="0"))
    assert set(info.value.field_errors) == {"starts_at", "duration_minutes", "account_id"}
    assert "not a date and time" in info.value.field_errors["starts_at"]
    with pytest.raises(errors.ValidationError) as info, db.write() as s:
        visits.create_visit(s, VisitInput(starts_at=None, account_id=uuid.uuid4()))
    assert set(info.value.field_errors) == {"starts_at", "account_id"}
    assert count(db, Visit) == 0


def test_location_defaults_to_the_account_address_and_account_to_the_contacts(
    db: Database, people: dict[str, uuid.UUID]
) -> None:
    with db.write() as s:
        vid = visits.create_visit(
            s, VisitInput(at(TODAY, 10), "30", contact_ids=[people["anna"], people["anna"]])
        )
    with db.read() as s:
        row = visits.get_visit(s, vid)
    assert row.location == "Via Roma 3, Milan"
    assert row.account_id == people["account"] and row.account_name == "Cedar Foods"
    assert row.contact_ids == (people["anna"],) and row.contact_names == ("Anna Rossi",)
    assert row.duration_minutes == 30 and row.status == "planned"


def test_a_day_lists_its_visits_in_time_order(db: Database, people: dict[str, uuid.UUID]) -> None:
    with db.write() as s:
        for hour in (16, 8, 12):
            visits.create_visit(
                s, VisitInput(at(TODAY, hour), account_id=people["account"], purpose=f"at {hour}")
            )
        visits.create_visit(s, VisitInput(at(TODAY + timedelta(days=1), 0, 30), account_id=people["account"]))
        visits.create_visit(
            s, VisitInput(at(TODAY - timedelta(days=1), 23, 30), account_id=people["account"])
        )
    with db.read() as s:
        day = visits.visits_on(s, TODAY)
    assert [v.purpose for v in day] == ["at 8", "at 12", "at 16"]
    assert all(v.starts_at.astimezone().date() == TODAY for v in day)


def test_edit_and_cancel(db: Database, people: dict[str, uuid.UUID]) -> None:
    with db.write() as s:
        vid = visits.create_visit(s, VisitInput(at(TODAY, 9), account_id=people["account"]))
    with db.write() as s:
        inp = visits.visit_input(visits.get_visit(s, vid))
        inp.agenda, inp.location = "Price list", "Their warehouse"
        visits.update_visit(s, vid, inp)
        visits.cancel_visit(s, vid)
    with db.read() as s:
        row = visits.get_visit(s, vid)
        assert (row.agenda, row.location, row.status) == ("Price list", "Their warehouse", "cancelled")
        assert visits.visits_on(s, TODAY, include_cancelled=False) == []
    with pytest.raises(errors.ValidationError), db.write() as s:
        visits.complete_visit(s, vid)


def test_completing_logs_a_visit_note_per_person_and_the_commitments(
    db: Database, people: dict[str, uuid.UUID]
) -> None:
    with db.write() as s:
        vid = visits.create_visit(s, VisitInput(at(TODAY, 9), contact_ids=[people["anna"], people["ben"]]))
    outcome = VisitOutcome(
        note_summary="Agreed the Christmas volumes",
        note_body="Both happy.",
        commitments=[
            CommitmentInput("Send the contract", due_date=TODAY + timedelta(days=3)),
            CommitmentInput("Confirm quantities", direction="they"),
        ],
    )
    with db.write() as s:
        visits.complete_visit(s, vid, outcome)
    with db.read() as s:
        assert visits.get_visit(s, vid).status == "done"
        logged = s.execute(select(Note.contact_id, Note.channel, Note.summary)).all()
        made = s.execute(select(Commitment.what, Commitment.contact_id, Commitment.account_id)).all()
    assert sorted(logged) == sorted(
        [(people[p], "visit", "Agreed the Christmas volumes") for p in ("anna", "ben")]
    )
    assert {m[0] for m in made} == {"Send the contract", "Confirm quantities"}
    assert all(m[1] == people["anna"] and m[2] == people["account"] for m in made)


def test_a_bad_commitment_rolls_the_whole_completion_back(db: Database, people: dict[str, uuid.UUID]) -> None:
    with db.write() as s:
        vid = visits.create_visit(s, VisitInput(at(TODAY, 9), contact_ids=[people["anna"]]))
    outcome = VisitOutcome(note_summary="Met", commitments=[CommitmentInput("  ", due_date="soon")])
    with pytest.raises(errors.ValidationError) as info, db.write() as s:
        visits.complete_visit(s, vid, outcome)
    assert set(info.value.field_errors) == {"commitments.0.what", "commitments.0.due_date"}
    with db.read() as s:
        assert visits.get_visit(s, vid).status == "planned"
    assert count(db, Note) == 0 and count(db, Commitment) == 0


# --- the Visits page and the visit dialogs (pytest-qt) -------------------------------------------


@pytest.fixture
def view(qtbot: QtBot, ctx: AppContext) -> VisitsView:
    widget = VisitsView(ctx)
    qtbot.addWidget(widget)
    # The data is made for TODAY (fixed when the tests were collected); pin the view to it, so a
    # run that crosses midnight does not look at the next day.
    with qtbot.waitSignal(widget.refreshed):
        widget.set_day(TODAY)
    return widget


def wait_loaded(qtbot: QtBot, dialog: VisitDialog) -> None:
    save = dialog.buttons.button(QDialogButtonBox.StandardButton.Save)
    qtbot.waitUntil(lambda: save.isEnabled() and dialog.contacts.count() > 0, timeout=5_000)


def test_day_view_lists_the_day_in_order_and_moves_between_days(
    qtbot: QtBot, view: VisitsView, db: Database, people: dict[str, uuid.UUID], qtmodeltester: object
) -> None:
    with db.write() as s:
        for hour in (14, 9):
            visits.create_visit(
                s, VisitInput(at(TODAY, hour), contact_ids=[people["anna"]], purpose=f"p{hour}")
            )
    with qtbot.waitSignal(view.refreshed):
        view.refresh()
    assert [view.model.row_at(i).purpose for i in range(view.model.rowCount())] == ["p9", "p14"]
    assert view.model.data(view.model.index(0, 0)).startswith("09:00")
    qtmodeltester.check(view.model)  # type: ignore[attr-defined]
    with qtbot.waitSignal(view.refreshed):
        view.set_day(TODAY + timedelta(days=1))
    assert view.model.rowCount() == 0 and not view.print_btn.isEnabled()


def test_new_visit_through_the_dialog_explains_bad_input_then_saves(
    qtbot: QtBot, view: VisitsView, db: Database, people: dict[str, uuid.UUID]
) -> None:
    with qtbot.waitSignal(view.refreshed):
        view.refresh()
    dialog = view.new_visit()
    wait_loaded(qtbot, dialog)
    # No account and nobody chosen: the form says why, next to the account field, and saves nothing.
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Save), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.error_text("account_id") != "", timeout=5_000)
    assert dialog.isVisible()
    assert "Choose the account" in dialog.error_text("account_id")
    assert count(db, Visit) == 0

    dialog.select_account(people["account"])
    qtbot.waitUntil(lambda: dialog.contacts.count() == 2, timeout=5_000)
    assert "Via Roma 3, Milan" in dialog.location.placeholderText()
    dialog.contacts.item(0).setCheckState(Qt.CheckState.Checked)  # Anna Rossi (sorted by name)
    dialog.purpose.setText("Tasting <b>new</b> range")
    dialog.agenda.setPlainText("1. Prices\n2. Samples")
    with qtbot.waitSignals([dialog.saved, view.refreshed], timeout=5_000):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    assert not isValid(dialog) or not dialog.isVisible()  # closed (and deleted on close)
    (row,) = view.model.rows()
    assert row.purpose == "Tasting <b>new</b> range" and row.contact_names == ("Anna Rossi",)
    assert row.location == "Via Roma 3, Milan"
    assert view.selected() == row


def test_complete_visit_through_the_dialog(
    qtbot: QtBot, view: VisitsView, db: Database, people: dict[str, uuid.UUID]
) -> None:
    with db.write() as s:
        visits.create_visit(s, VisitInput(at(TODAY, 9), contact_ids=[people["anna"]], purpose="Review"))
    with qtbot.waitSignal(view.refreshed):
        view.refresh()
    view.table.selectRow(0)
    assert view.complete_btn.isEnabled()
    dialog = view.complete_selected()
    assert isinstance(dialog, CompleteVisitDialog)
    assert dialog.note_summary.text() == "Review"
    line = dialog.add_commitment()
    line.what.setText("Send samples")
    with qtbot.waitSignals([dialog.saved, view.refreshed], timeout=5_000):
        dialog.done_button.click()
    assert view.model.rows()[0].status == "done"
    assert not view.complete_btn.isEnabled()
    with db.read() as s:
        assert s.scalar(select(Note.channel)) == "visit"
        assert s.scalar(select(Commitment.what)) == "Send samples"


def test_print_days_briefings_opens_the_preview(
    qtbot: QtBot, view: VisitsView, db: Database, people: dict[str, uuid.UUID]
) -> None:
    from PySide6.QtPrintSupport import QPrintPreviewDialog

    with db.write() as s:
        visits.create_visit(s, VisitInput(at(TODAY, 9), contact_ids=[people["anna"]], agenda="Prices"))
    with qtbot.waitSignal(view.refreshed):
        view.refresh()
    assert view.print_btn.isEnabled()
    view.paper.setCurrentText("Letter")
    view.print_btn.click()
    qtbot.waitUntil(lambda: view.findChild(QPrintPreviewDialog) is not None, timeout=10_000)
    dialog = view.findChild(QPrintPreviewDialog)
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible)
    assert dialog.printer().pageLayout().pageSize().id().name == "Letter"
    dialog.close()


def test_editing_a_visit_with_people_outside_any_account_keeps_them(
    qtbot: QtBot, view: VisitsView, db: Database
) -> None:
    with db.write() as s:
        solo = create_contact(s, ContactInput("Freelance Fred"))
        visits.create_visit(s, VisitInput(at(TODAY, 10), contact_ids=[solo], purpose="Coffee"))
    with qtbot.waitSignal(view.refreshed):
        view.refresh()
    view.table.selectRow(0)
    dialog = view.edit_visit()
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.contacts.count() == 1 and "Fred" in dialog.contacts.item(0).text())
    assert dialog.contacts.item(0).checkState() == Qt.CheckState.Checked
    dialog.purpose.setText("Coffee and cake")
    with qtbot.waitSignal(view.refreshed, timeout=5_000):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    (row,) = view.model.rows()
    assert row.purpose == "Coffee and cake" and row.contact_names == ("Freelance Fred",)


@pytest.fixture
def new_york(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    import time as time_module

    monkeypatch.setenv("TZ", "America/New_York")
    time_module.tzset()
    yield
    monkeypatch.undo()
    time_module.tzset()


def test_the_day_is_the_reps_local_day(new_york: None, db: Database, people: dict[str, uuid.UUID]) -> None:
    # 23:30 in New York is already tomorrow in UTC; it still belongs to today's route.
    with db.write() as s:
        visits.create_visit(s, VisitInput(at(TODAY, 23, 30), account_id=people["account"], purpose="late"))
        visits.create_visit(s, VisitInput(at(TODAY, 0, 15), account_id=people["account"], purpose="early"))
        visits.create_visit(
            s, VisitInput(at(TODAY + timedelta(days=1), 0, 5), account_id=people["account"], purpose="next")
        )
    with db.read() as s:
        assert [v.purpose for v in visits.visits_on(s, TODAY)] == ["early", "late"]
        assert [v.purpose for v in visits.visits_on(s, TODAY + timedelta(days=1))] == ["next"]


def _completion_with_a_commitment(
    qtbot: QtBot, view: VisitsView, db: Database, people: dict[str, uuid.UUID]
) -> tuple[CompleteVisitDialog, CommitmentLine]:
    """A visit to Anna today, its wrap-up open with one commitment typed."""
    with db.write() as s:
        visits.create_visit(s, VisitInput(at(TODAY, 9), contact_ids=[people["anna"]], purpose="Review"))
    with qtbot.waitSignal(view.refreshed):
        view.refresh()
    view.table.selectRow(0)
    dialog = view.complete_selected()
    assert isinstance(dialog, CompleteVisitDialog)
    line = dialog.add_commitment()
    qtbot.keyClicks(line.what, "Send samples")
    return dialog, line


def test_a_due_date_typed_in_the_wrap_up_is_kept(
    qtbot: QtBot, view: VisitsView, db: Database, people: dict[str, uuid.UUID]
) -> None:
    dialog, line = _completion_with_a_commitment(qtbot, view, db, people)
    # The rep clicks into the date field and types, as a rep would.
    qtbot.mouseClick(line.due, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(line.due, "2026-12-09")
    assert line.due.text() == "2026-12-09"
    with qtbot.waitSignals([dialog.saved, view.refreshed], timeout=5_000):
        dialog.done_button.click()
    with db.read() as s:
        assert s.scalar(select(Commitment.due_date)) == date(2026, 12, 9)


def test_a_due_date_that_is_not_a_date_is_refused_in_words_and_nothing_is_saved(
    qtbot: QtBot, view: VisitsView, db: Database, people: dict[str, uuid.UUID]
) -> None:
    dialog, line = _completion_with_a_commitment(qtbot, view, db, people)
    qtbot.mouseClick(line.due, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(line.due, "9 Dec")
    dialog.done_button.click()
    qtbot.waitUntil(lambda: dialog.error_text("commitments") != "", timeout=5_000)
    said = dialog.error_text("commitments")  # under the commitments, by number
    assert "Commitment 1" in said and "9 Dec" in said and "YYYY-MM-DD" in said
    assert dialog.focusWidget() is line.due  # the field to fix, not the box the lines sit in
    assert dialog.isVisible() and line.due.text() == "9 Dec"  # what the rep typed stays
    assert count(db, Commitment) == 0 and count(db, Note) == 0
    dialog.reject()


def test_an_empty_due_date_is_no_date_and_the_calendar_opens_on_today(
    qtbot: QtBot, view: VisitsView, db: Database, people: dict[str, uuid.UUID]
) -> None:
    dialog, line = _completion_with_a_commitment(qtbot, view, db, people)
    assert line.due.text() == ""
    calendar = line.due.open_calendar()
    today = date.today()
    assert calendar.selectedDate().toPython() == today
    assert (calendar.yearShown(), calendar.monthShown()) == (today.year, today.month)
    # Picking a day in the calendar fills the field; clearing it again means "no date".
    calendar.clicked.emit(QDate(2027, 1, 15))
    assert line.due.text() == "2027-01-15" and not calendar.isVisible()
    line.due.clear()
    with qtbot.waitSignals([dialog.saved, view.refreshed], timeout=5_000):
        dialog.done_button.click()
    with db.read() as s:
        assert s.scalar(select(Commitment.what)) == "Send samples"
        assert s.scalar(select(Commitment.due_date)) is None


# --- the visit dialogs on the shared context and the form base -----------------------------------


def test_a_completed_visit_refreshes_today_and_the_contacts_page_through_the_bus(
    qtbot: QtBot, ctx: AppContext, view: VisitsView, db: Database
) -> None:
    # No main window: the pages hear of the dialog's write from the context's bus alone.
    with db.write() as s:
        anna = create_contact(s, ContactInput("Anna Rossi", cadence_days=30))  # never met: overdue
    today = TodayView(ctx)
    detail = ContactDetailPane(ctx)
    qtbot.addWidget(today)
    qtbot.addWidget(detail)
    with qtbot.waitSignal(today.board_loaded):
        today.reload()
    with qtbot.waitSignal(detail.loaded):
        detail.show_contact(anna)
    assert today.row_of(f"checkin:{anna}") >= 0
    assert detail.timeline.rowCount() == 0
    dialog, line = _completion_with_a_commitment(qtbot, view, db, {"anna": anna})
    line.due.setText(date.today().isoformat())
    with qtbot.waitSignals([today.board_loaded, detail.loaded], timeout=5_000):
        dialog.done_button.click()
    assert today.row_of(f"checkin:{anna}") == -1  # the visit is her last contact now
    due = today.section("commitments")
    assert due is not None and [i.title for i in due.items] == ["We owe: Send samples"]
    assert [n.channel for n in detail.timeline.rows()] == ["visit"]
    assert [c.what for c in detail.commitments.rows()] == ["Send samples"]


def test_a_bug_while_saving_a_visit_is_shown_once_naming_the_logs_place(
    qtbot: QtBot,
    ctx: AppContext,
    view: VisitsView,
    people: dict[str, uuid.UUID],
    shown_errors: list[tuple[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_args: object) -> uuid.UUID:
        raise RuntimeError("a bug in the service")

    monkeypatch.setattr("ui.visit_dialog.create_visit", broken)
    dialog = view.new_visit()
    wait_loaded(qtbot, dialog)
    dialog.select_account(people["account"])
    dialog.purpose.setText("Tasting")
    save = dialog.buttons.button(QDialogButtonBox.StandardButton.Save)
    save.click()
    qtbot.waitUntil(lambda: bool(shown_errors) and save.isEnabled(), timeout=5_000)
    qtbot.wait(50)  # room for a second report, were there one
    (shown,) = shown_errors
    assert shown[0] == "Rapport hit an unexpected problem"
    assert str(ctx.presenter.log_file) in shown[1]
    # The form does not repeat it: no field, no line above the buttons.
    assert dialog.summary.isHidden()
    assert all(dialog.error_text(k) == "" for k in ("starts_at", "account_id", "contact_ids", "purpose"))
    assert dialog.isVisible() and dialog.purpose.text() == "Tasting"  # nothing typed is lost
    shown_errors.clear()
    dialog.reject()


def test_the_visit_dialog_explains_bad_fields_like_every_form(
    qtbot: QtBot, view: VisitsView, people: dict[str, uuid.UUID], db: Database
) -> None:
    dialog = view.new_visit()
    assert isinstance(dialog, FormDialog)
    wait_loaded(qtbot, dialog)
    dialog.buttons.accepted.emit()
    qtbot.waitUntil(lambda: dialog.error_text("account_id") != "", timeout=5_000)
    # The base's label under the field, in the base's colour, and the field ready for the fix.
    label = dialog.findChild(QLabel, "error_account_id")
    assert label is not None and label.isVisibleTo(dialog) and label.styleSheet() == error_style()
    assert "Choose the account" in label.text()
    assert dialog.focusWidget() in (dialog.account, dialog.account.lineEdit())
    assert dialog.summary.isHidden()
    # The purpose is held to the server's limit as in the other forms, and says so.
    assert dialog.purpose.maxLength() == 500
    assert dialog.findChild(QLabel, "error_purpose") is not None
    # Changing the field takes the red words away.
    dialog.select_account(people["account"])
    assert dialog.error_text("account_id") == ""
    assert count(db, Visit) == 0
    dialog.reject()


def test_the_visit_dialogs_labels_take_the_rep_to_their_field(qtbot: QtBot, view: VisitsView) -> None:
    dialog = view.new_visit()
    wait_loaded(qtbot, dialog)
    for text, field in (("&Location", dialog.location), ("P&urpose", dialog.purpose)):
        (label,) = [w for w in dialog.findChildren(QLabel) if w.text() == text]
        assert label.buddy() is field
    dialog.reject()


def test_tab_goes_through_the_visit_dialog_in_the_forms_order(qtbot: QtBot, view: VisitsView) -> None:
    dialog = view.new_visit()
    wait_loaded(qtbot, dialog)
    save = dialog.buttons.button(QDialogButtonBox.StandardButton.Save)
    cancel = dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel)
    dialog.when.setFocus()
    order = [QApplication.focusWidget()]
    for _ in range(9):
        dialog.focusNextChild()  # what Tab does
        order.append(QApplication.focusWidget())
    expected = [dialog.when, dialog.duration, dialog.account, dialog.contacts, dialog.location]
    expected += [dialog.purpose, dialog.agenda, save, cancel, dialog.when]
    assert order == expected
    dialog.reject()


def test_a_bad_commitment_is_named_by_the_line_the_rep_sees(
    qtbot: QtBot, view: VisitsView, db: Database, people: dict[str, uuid.UUID]
) -> None:
    dialog, first = _completion_with_a_commitment(qtbot, view, db, people)
    first.what.clear()  # left empty: not sent, but still the first line on screen
    second = dialog.add_commitment()
    second.what.setText("Call back")
    second.due.setText("soon")
    dialog.done_button.click()
    qtbot.waitUntil(lambda: dialog.error_text("commitments") != "", timeout=5_000)
    assert dialog.error_text("commitments").startswith("Commitment 2:")
    assert dialog.focusWidget() is second.due
    dialog.reject()


def test_closing_the_dialog_while_it_saves_keeps_the_visit_and_shows_no_error(
    qtbot: QtBot, view: VisitsView, db: Database, people: dict[str, uuid.UUID]
) -> None:
    dialog = view.new_visit()
    wait_loaded(qtbot, dialog)
    dialog.select_account(people["account"])
    dialog.purpose.setText("Escape pressed at once")
    with qtbot.waitSignal(view.refreshed, timeout=5_000):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
        dialog.reject()  # Esc while the write is in flight; the dialog deletes itself on close
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        assert not isValid(dialog)
    assert [r.purpose for r in view.model.rows()] == ["Escape pressed at once"]
    # (the ctx fixture fails the test if the presenter showed anything)
