"""The record lane's screens (issue 12): feedback, purchase and thank-you dialogs, the visit
wrap-up's feedback, order and next visit, and the offers that follow a save."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from models.db import Database
from models.entities import Appreciation, Commitment, Feedback, Purchase, Visit
from models.rows import CommitmentRow
from models.services import commitments, contacts, feedback, purchases, visits
from models.services.accounts import AccountInput, create_account
from models.services.contacts import ContactInput, create_contact
from models.services.purchases import PurchaseInput
from models.services.visits import VisitInput
from tests.support.briefing_data import TODAY, at
from ui.account_purchases import AccountPurchasesSection
from ui.contact_record import ContactRecordTabs
from ui.context import AppContext
from ui.dialogs import ContactDialog
from ui.feedback_dialog import FeedbackDialog, FollowUpDialog
from ui.main_window import MainWindow
from ui.offers import thanks_offers
from ui.purchase_dialog import PurchaseDialog
from ui.thanks_dialog import ThanksDialog, ThanksOfferBar, offer_for_kept
from ui.visit_dialog import CompleteVisitDialog, VisitDialog


@pytest.fixture
def people(db: Database) -> dict[str, uuid.UUID]:
    with db.write() as s:
        acc = create_account(s, AccountInput("Cedar Foods"))
        anna = create_contact(s, ContactInput("Anna Rossi", account_id=acc))
        ben = create_contact(s, ContactInput("Ben Costa", account_id=acc))
    return {"account": acc, "anna": anna, "ben": ben}


@pytest.fixture
def host(qtbot: QtBot) -> QWidget:
    """The parent of every dialog and panel a test makes, as the window is in the app: a widget
    Python owns alone could otherwise be freed by a worker thread dropping the last reference
    to it (a callback), and a Qt object with timers must not die off its own thread."""
    widget = QWidget()
    qtbot.addWidget(widget)
    return widget


def rows(db: Database, cls: type) -> list:
    with db.read() as s:
        return list(s.scalars(select(cls).where(cls.deleted_at.is_(None))))  # type: ignore[attr-defined]


def save(qtbot: QtBot, dialog: FeedbackDialog | PurchaseDialog | ThanksDialog | FollowUpDialog) -> None:
    """Enter saves, as it would for a rep on the keyboard (from a one-line field)."""
    with qtbot.waitSignal(dialog.saved, timeout=5_000):
        target = next(w for w in dialog.findChildren(QLineEdit) if w.isVisible() and w.isEnabled())
        target.setFocus()
        qtbot.keyClick(target, Qt.Key.Key_Return)


def open_dialogs(kind: type) -> list:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, kind) and w.isVisible()]


# -- feedback ----------------------------------------------------------------------------------


def test_a_score_outside_0_10_is_explained_then_a_detractor_gets_a_follow_up_linked_to_it(
    qtbot: QtBot, ctx: AppContext, db: Database, people: dict[str, uuid.UUID], host: QWidget
) -> None:
    dialog = FeedbackDialog(ctx, contact=(people["anna"], "Anna Rossi"), parent=host)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.focusWidget() is dialog.score  # the contact is filled: the score is next
    qtbot.keyClicks(dialog.score, "11")
    qtbot.keyClicks(dialog.comment, "Deliveries keep slipping")
    dialog.submit()
    assert "from 0 to 10, not 11" in dialog.error_text("score")
    assert dialog.isVisible() and dialog.comment.toPlainText() == "Deliveries keep slipping"  # nothing lost
    assert rows(db, Feedback) == []
    dialog.score.setText("4")
    save(qtbot, dialog)
    (saved,) = rows(db, Feedback)
    assert (saved.score, saved.contact_id, saved.account_id) == (4, people["anna"], people["account"])
    followup = dialog.followup
    assert isinstance(followup, FollowUpDialog) and followup.isVisible()
    assert followup.feedback_id == saved.id
    assert "4/10" in followup.what.text() and "Deliveries keep slipping" in followup.what.text()
    assert followup.due.text() == (date.today() + timedelta(days=2)).isoformat()
    qtbot.addWidget(followup)
    save(qtbot, followup)
    (made,) = rows(db, Commitment)
    assert (made.feedback_id, made.contact_id, made.direction) == (saved.id, people["anna"], "we")


def test_a_skipped_follow_up_saves_nothing_and_a_promoter_gets_none(
    qtbot: QtBot, ctx: AppContext, db: Database, people: dict[str, uuid.UUID], host: QWidget
) -> None:
    dialog = FeedbackDialog(ctx, contact=(people["anna"], "Anna Rossi"), parent=host)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.score, "6")
    save(qtbot, dialog)
    assert dialog.followup is not None
    qtbot.addWidget(dialog.followup)
    qtbot.keyClick(dialog.followup, Qt.Key.Key_Escape)  # skip it
    assert not dialog.followup.isVisible()
    promoter = FeedbackDialog(ctx, account_id=people["account"], parent=host)  # about the account as a whole
    qtbot.addWidget(promoter)
    promoter.show()
    qtbot.keyClicks(promoter.score, "9")
    save(qtbot, promoter)
    assert promoter.followup is None
    assert rows(db, Commitment) == []
    assert sorted((f.score, f.contact_id) for f in rows(db, Feedback)) == [(6, people["anna"]), (9, None)]


# -- purchases and the thank-you they prompt ---------------------------------------------------


def test_bad_purchase_fields_are_explained_then_it_saves_in_cents_and_offers_a_thank_you(
    qtbot: QtBot, ctx: AppContext, db: Database, people: dict[str, uuid.UUID], host: QWidget
) -> None:
    bar = ThanksOfferBar(ctx, host)
    qtbot.addWidget(bar)
    dialog = PurchaseDialog(ctx, contact=(people["anna"], "Anna Rossi"), parent=host)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.order.product, "Olive oil, 5 l")
    dialog.order.quantity.setText("0")
    qtbot.keyClicks(dialog.order.amount, "12,50,0")
    dialog.order.currency.setText("")
    qtbot.keyClicks(dialog.order.currency, "eue")
    assert dialog.order.currency.text() == "EUE"  # upper-cased as typed
    dialog.submit()
    assert "not an amount" in dialog.error_text("amount")
    assert "not a currency code" in dialog.error_text("currency")
    assert "above 0" in dialog.error_text("quantity")  # every field said at once
    assert rows(db, Purchase) == [] and not bar.isVisibleTo(bar.parentWidget() or bar)
    dialog.order.quantity.setText("12")
    dialog.order.amount.setText("1.250,50")
    dialog.order.currency.setText("EUR")
    save(qtbot, dialog)
    (bought,) = rows(db, Purchase)
    assert (bought.amount_cents, bought.currency, bought.quantity) == (125050, "EUR", 12)
    assert bought.purchased_on == date.today() and bought.account_id == people["account"]
    # The offer, not a question: the bar says it and its button (or Ctrl+Shift+T) opens the dialog.
    assert bar.offer is not None and "bought Olive oil" in bar.text.text()
    assert bar.take_action.isEnabled()
    thanks = bar.take()
    assert isinstance(thanks, ThanksDialog)
    qtbot.addWidget(thanks)
    assert bar.offer is None and not bar.take_action.isEnabled()
    qtbot.keyClicks(thanks.summary_edit, "A bottle of Barolo")
    thanks.kind.setCurrentIndex(thanks.kind.findData("gift"))
    save(qtbot, thanks)
    (given,) = rows(db, Appreciation)
    assert (given.reason, given.reason_id, given.kind, given.contact_id) == (
        "purchase",
        bought.id,
        "gift",
        people["anna"],
    )


def test_editing_a_purchase_shows_the_amount_back_and_offers_nothing(
    qtbot: QtBot, ctx: AppContext, db: Database, people: dict[str, uuid.UUID], host: QWidget
) -> None:
    with db.write() as s:
        pid = purchases.add_purchase(
            s, PurchaseInput("Pasta", TODAY, 3, "1250,5", "usd", contact_id=people["ben"])
        )
        row = purchases.get_purchase(s, pid)
    offered: list[object] = []
    thanks_offers(ctx).offered.connect(offered.append)
    dialog = PurchaseDialog(ctx, row=row, parent=host)
    qtbot.addWidget(dialog)
    dialog.show()
    assert (dialog.order.amount.text(), dialog.order.currency.text()) == ("1,250.50", "USD")
    dialog.order.amount.setText("99.90")
    save(qtbot, dialog)
    with db.read() as s:
        assert purchases.get_purchase(s, pid).amount_cents == 9990
    assert offered == []


def test_the_account_page_shows_its_last_order_and_12_month_totals_per_currency(
    qtbot: QtBot, ctx: AppContext, db: Database, people: dict[str, uuid.UUID], host: QWidget
) -> None:
    today = date.today()
    with db.write() as s:
        for product, days, amount, currency, who in (
            ("Old order", 400, "999", "EUR", people["anna"]),
            ("Oil", 30, "1,000.00", "EUR", people["anna"]),
            ("Salt", 3, "250,50", "EUR", people["ben"]),
            ("Flour", 10, "40", "USD", people["ben"]),
        ):
            purchases.add_purchase(
                s, PurchaseInput(product, today - timedelta(days=days), 1, amount, currency, contact_id=who)
            )
    section = AccountPurchasesSection(ctx, host)
    qtbot.addWidget(section)
    section.show_account(people["account"])
    qtbot.waitUntil(lambda: section.got is not None, timeout=5_000)
    text = section.summary.text()
    assert "Last order" in text and "Salt" in text and "3 days ago" in text
    assert "1,250.50 EUR + 40.00 USD</b> (3 orders)" in text
    assert section.model.rowCount() == 4


# -- thank-yous on the contact page ------------------------------------------------------------


def test_the_contact_page_lists_and_edits_feedback_purchases_and_thank_yous(
    qtbot: QtBot, ctx: AppContext, db: Database, people: dict[str, uuid.UUID], host: QWidget
) -> None:
    with db.write() as s:
        feedback.add_feedback(s, feedback.FeedbackInput(3, "Late again", contact_id=people["anna"]))
        purchases.add_purchase(s, PurchaseInput("Oil", TODAY, 2, "10", contact_id=people["anna"]))
    tabs = ContactRecordTabs(ctx, host)
    qtbot.addWidget(tabs)
    tabs.set_contact((people["anna"], "Anna Rossi"))
    qtbot.waitUntil(lambda: tabs.record is not None, timeout=5_000)
    assert [tabs.tabText(i) for i in range(3)] == ["Feedback (1)", "Purchases (1)", "Thank-yous"]
    assert tabs.feedback.model.data(tabs.feedback.model.index(0, 1)) == "3/10 detractor"
    # Log a thank-you from the page; the tab counts it once it is saved.
    tabs.setCurrentIndex(2)
    tabs.thanks.add_button.click()
    thanks = tabs.dialog
    assert isinstance(thanks, ThanksDialog)
    qtbot.keyClicks(thanks.summary_edit, "Card")
    save(qtbot, thanks)
    qtbot.waitUntil(lambda: tabs.tabText(2) == "Thank-yous (1)", timeout=5_000)
    # Edit it: select, Edit…, change, Enter.
    tabs.thanks.view.selectRow(0)
    tabs.thanks.edit_button.click()
    edit = tabs.dialog
    assert isinstance(edit, ThanksDialog) and edit.summary_edit.text() == "Card"
    edit.summary_edit.setText("Card and flowers")
    save(qtbot, edit)
    qtbot.waitUntil(lambda: tabs.thanks.model.data(tabs.thanks.model.index(0, 3)) == "Card and flowers")
    assert len(rows(db, Appreciation)) == 1


# -- the other prompts -------------------------------------------------------------------------


def test_a_promise_they_kept_on_time_offers_a_thank_you_and_a_late_one_does_not(
    qtbot: QtBot, ctx: AppContext, db: Database, people: dict[str, uuid.UUID], host: QWidget
) -> None:
    bar = ThanksOfferBar(ctx, host)
    qtbot.addWidget(bar)
    with db.write() as s:
        on_time = commitments.add_commitment(
            s,
            commitments.CommitmentInput(
                "Send the signed order", "they", date.today().isoformat(), contact_id=people["ben"]
            ),
        )
        late = commitments.add_commitment(
            s, commitments.CommitmentInput("Pay", "they", "2020-01-01", contact_id=people["ben"])
        )
        ours = commitments.add_commitment(
            s, commitments.CommitmentInput("Quote", "we", None, contact_id=people["ben"])
        )
        got: dict[uuid.UUID, CommitmentRow] = {
            c: commitments.get_commitment(s, c) for c in (on_time, late, ours)
        }
    for cid in (late, ours):
        offer_for_kept(ctx, got[cid], "done")
        assert bar.offer is None
    offer_for_kept(ctx, got[on_time], "cancelled")
    assert bar.offer is None
    offer_for_kept(ctx, got[on_time], "done")
    assert bar.offer is not None
    assert (bar.offer.reason, bar.offer.reason_id, bar.offer.contact_id) == (
        "commitment",
        on_time,
        people["ben"],
    )
    assert "Send the signed order" in bar.text.text()


def test_a_contact_saved_with_who_referred_them_offers_to_thank_the_referrer(
    qtbot: QtBot, ctx: AppContext, db: Database, people: dict[str, uuid.UUID], host: QWidget
) -> None:
    bar = ThanksOfferBar(ctx, host)
    qtbot.addWidget(bar)
    dialog = ContactDialog(ctx, parent=host)
    qtbot.addWidget(dialog)
    dialog.show()
    name = dialog.editor("name")
    assert isinstance(name, QLineEdit)
    qtbot.keyClicks(name, "Carla Neri")
    referrer = dialog.editor("referred_by_id")
    assert isinstance(referrer, QLineEdit)
    qtbot.keyClicks(referrer, "Nobody Known")
    dialog.submit()
    assert "from the list" in dialog.error_text("referred_by_id")
    referrer.clear()
    referrer.set_contact(people["anna"], "Anna Rossi (Cedar Foods)")  # type: ignore[attr-defined]
    with qtbot.waitSignal(dialog.saved, timeout=5_000):
        dialog.submit()
    with db.read() as s:
        (carla,) = contacts.find_contacts(s, "Carla Neri")
        detail = contacts.get_contact(s, carla.id)
    assert detail.referred_by_id == people["anna"]
    assert bar.offer is not None
    assert (bar.offer.contact_id, bar.offer.reason, bar.offer.reason_id) == (
        people["anna"],
        "referral",
        carla.id,
    )
    assert "referred Carla Neri" in bar.text.text()
    # Editing the contact shows the referrer by name, and saving again offers nothing new.
    bar.dismiss()
    again = ContactDialog(ctx, detail, host)
    qtbot.addWidget(again)
    shown = again.editor("referred_by_id")
    assert isinstance(shown, QLineEdit)
    qtbot.waitUntil(lambda: shown.text() == "Anna Rossi", timeout=5_000)
    with qtbot.waitSignal(again.saved, timeout=5_000):
        again.submit()
    assert bar.offer is None


# -- the wrap-up -------------------------------------------------------------------------------


def test_the_wrap_up_records_feedback_and_an_order_then_suggests_a_follow_up_and_books_the_next_visit(
    qtbot: QtBot, ctx: AppContext, db: Database, people: dict[str, uuid.UUID], host: QWidget
) -> None:
    with db.write() as s:
        vid = visits.create_visit(
            s, VisitInput(at(TODAY, 9), contact_ids=[people["anna"], people["ben"]], purpose="Review")
        )
        visit = visits.get_visit(s, vid)
    bar = ThanksOfferBar(ctx, host)
    qtbot.addWidget(bar)
    dialog = CompleteVisitDialog(ctx, host, visit=visit)
    qtbot.addWidget(dialog)
    dialog.show()
    extras = dialog.extras
    assert extras.who.currentText() == "Anna Rossi"  # the first person met; the account is a choice
    extras.who.setCurrentIndex(1)
    qtbot.keyClicks(extras.score, "5")
    qtbot.keyClicks(extras.comment, "Prices went up")
    qtbot.keyClicks(extras.order.product, "Oil")
    qtbot.keyClicks(extras.order.amount, "two hundred")
    extras.next_visit.setChecked(True)
    dialog.done_button.click()
    assert "not an amount" in dialog.error_text("order.amount")
    assert dialog.isVisible() and extras.score.text() == "5"  # nothing lost
    with db.read() as s:
        assert s.get(Visit, vid).status == "planned"  # type: ignore[union-attr]
    extras.order.amount.setText("200")
    with qtbot.waitSignal(dialog.saved, timeout=5_000):
        dialog.done_button.click()
    with db.read() as s:
        assert s.get(Visit, vid).status == "done"  # type: ignore[union-attr]
    (heard,) = rows(db, Feedback)
    (order,) = rows(db, Purchase)
    assert (heard.score, heard.comment, heard.contact_id) == (5, "Prices went up", people["ben"])
    assert (order.product, order.amount_cents, order.contact_id) == ("Oil", 20000, people["ben"])
    assert order.purchased_on == min(TODAY, date.today())
    assert bar.offer is not None and bar.offer.reason_id == order.id  # the order offers a thank-you
    followup = extras.followup
    assert isinstance(followup, FollowUpDialog) and followup.feedback_id == heard.id
    qtbot.addWidget(followup)
    assert extras.next_dialog is None  # one dialog at a time: the next visit waits
    save(qtbot, followup)
    next_visit = extras.next_dialog
    assert isinstance(next_visit, VisitDialog)
    qtbot.addWidget(next_visit)
    qtbot.waitUntil(lambda: next_visit.selected_account() == people["account"], timeout=5_000)
    qtbot.waitUntil(lambda: next_visit.contacts.count() == 2, timeout=5_000)
    assert next_visit.value().contact_ids and set(next_visit.value().contact_ids) == {
        people["anna"],
        people["ben"],
    }
    assert next_visit.value().starts_at.date() > date.today()  # type: ignore[union-attr]
    (made,) = rows(db, Commitment)
    assert made.feedback_id == heard.id


def test_a_wrap_up_without_feedback_or_order_saves_neither(
    qtbot: QtBot, ctx: AppContext, db: Database, people: dict[str, uuid.UUID], host: QWidget
) -> None:
    with db.write() as s:
        vid = visits.create_visit(s, VisitInput(at(TODAY, 9), account_id=people["account"]))
        visit = visits.get_visit(s, vid)
    dialog = CompleteVisitDialog(ctx, host, visit=visit)
    qtbot.addWidget(dialog)
    dialog.show()
    with qtbot.waitSignal(dialog.saved, timeout=5_000):
        dialog.done_button.click()
    assert rows(db, Feedback) == [] and rows(db, Purchase) == []
    assert dialog.extras.next_dialog is None and dialog.extras.followup is None


# -- in the window -----------------------------------------------------------------------------


def test_the_window_shows_the_record_on_its_pages_and_offers_thanks_for_a_promise_kept(
    qtbot: QtBot, window: MainWindow, db: Database, people: dict[str, uuid.UUID]
) -> None:
    with db.write() as s:
        purchases.add_purchase(s, PurchaseInput("Oil", date.today(), 1, "10", contact_id=people["anna"]))
        kept = commitments.add_commitment(
            s, commitments.CommitmentInput("Send the order", "they", None, contact_id=people["anna"])
        )
    window.open_contact(people["anna"])
    record = window.contacts.detail.record
    qtbot.waitUntil(lambda: record.tabText(1) == "Purchases (1)", timeout=5_000)
    detail = window.contacts.detail
    qtbot.waitUntil(lambda: detail.commitments.rowCount() == 1, timeout=5_000)
    detail.commitment_view.selectRow(0)
    assert not window.thanks_offer.isVisible()
    detail.done_button.click()
    qtbot.waitUntil(lambda: window.thanks_offer.isVisible(), timeout=5_000)
    assert window.thanks_offer.offer is not None and window.thanks_offer.offer.reason_id == kept
    assert window.thanks_offer.take_action in window.actions()  # Ctrl+Shift+T from anywhere
    window.accounts.show_account(people["account"])
    qtbot.waitUntil(lambda: window.accounts.purchases.got is not None, timeout=5_000)
    assert "10.00 EUR" in window.accounts.purchases.summary.text()


def test_ctrl_enter_saves_from_a_box_of_several_lines_once(
    qtbot: QtBot, ctx: AppContext, db: Database, people: dict[str, uuid.UUID], host: QWidget
) -> None:
    dialog = FeedbackDialog(ctx, contact=(people["anna"], "Anna Rossi"), parent=host)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()  # shortcuts act in the active window
    qtbot.waitUntil(dialog.isActiveWindow)
    qtbot.keyClicks(dialog.score, "8")
    dialog.comment.setFocus()
    qtbot.keyClicks(dialog.comment, "Good")
    qtbot.keyClick(dialog.comment, Qt.Key.Key_Return)  # a new line, not a save
    assert dialog.comment.toPlainText() == "Good\n" and dialog.isVisible()
    with qtbot.waitSignal(dialog.saved, timeout=5_000):
        qtbot.keyClick(dialog.comment, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        qtbot.keyClick(dialog.comment, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    ctx.tasks.wait_idle()
    assert [(f.score, f.comment) for f in rows(db, Feedback)] == [(8, "Good")]


def test_a_name_typed_but_not_picked_is_explained_not_filed_under_the_account(
    qtbot: QtBot, ctx: AppContext, db: Database, people: dict[str, uuid.UUID], host: QWidget
) -> None:
    dialog = PurchaseDialog(ctx, account_id=people["account"], parent=host)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.contact, "Anna R")  # not chosen from the list
    qtbot.keyClicks(dialog.order.product, "Oil")
    dialog.submit()
    assert "from the list, or leave it empty" in dialog.error_text("contact_id")
    assert rows(db, Purchase) == []
    dialog.contact.clear()  # the account's own purchase
    save(qtbot, dialog)
    (bought,) = rows(db, Purchase)
    assert (bought.contact_id, bought.account_id) == (None, people["account"])
