"""The contact page's record of the relationship: feedback, purchases and thank-yous, one tab
each, with their add and edit actions. It loads its own rows (off the GUI thread) for the contact
the page shows, and reloads when any of them changes."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PySide6.QtWidgets import QDialog, QHeaderView, QPushButton, QTableView, QTabWidget, QVBoxLayout, QWidget
from sqlalchemy.orm import Session

from models.services import appreciation, feedback, purchases
from models.services.appreciation import KIND_LABELS, REASON_LABELS, ThanksRow
from models.services.feedback import FeedbackRow
from models.services.purchases import PurchaseRow
from ui.context import AppContext
from ui.feedback_dialog import FeedbackDialog
from ui.plural import plural
from ui.purchase_dialog import PurchaseDialog
from ui.table import Column, RowsModel, button_bar, day_text, make_table, refill, selected_row
from ui.thanks_dialog import ThanksDialog

ENTITIES = {"feedback", "purchase", "appreciation", "contact"}


@dataclass(frozen=True)
class ContactRecord:
    feedback: list[FeedbackRow]
    purchases: list[PurchaseRow]
    thanks: list[ThanksRow]


def load_record(s: Session, contact_id: uuid.UUID) -> ContactRecord:
    return ContactRecord(
        feedback=feedback.list_feedback(s, contact_id=contact_id),
        purchases=purchases.list_purchases(s, contact_id=contact_id),
        thanks=appreciation.list_thanks(s, contact_id),
    )


def local_day(when: datetime) -> str:
    """The rep's calendar day of an instant: the time of day matters little here, width does."""
    return when.astimezone().date().isoformat()


def score_text(row: FeedbackRow) -> str:
    if row.score is None:
        return "—"
    return f"{row.score}/10 {row.category}"


class _Tab:
    """One list with its "Add…" and "Edit…" buttons."""

    def __init__(
        self, owner: ContactRecordTabs, title: str, columns: list[Column[Any]], name: str, add_text: str
    ) -> None:
        self.title = title
        self.model: RowsModel[Any] = RowsModel(columns, owner)
        self.view: QTableView = make_table(self.model, name=name)
        self.add_button = QPushButton(add_text)
        self.edit_button = QPushButton("Edit…")
        self.page = QWidget()
        layout = QVBoxLayout(self.page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        # The pane is narrow: short columns take what they need, the last one the rest.
        header = self.view.horizontalHeader()
        for column in range(self.model.columnCount() - 1):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(self.model.columnCount() - 1, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(button_bar(self.add_button, self.edit_button))

    def selected(self) -> Any:
        return selected_row(self.view, self.model)


class ContactRecordTabs(QTabWidget):
    """Feedback, purchases and thank-yous of the contact on the page."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("contact_record")
        self.ctx = ctx
        self.contact: tuple[uuid.UUID, str] | None = None
        self.record: ContactRecord | None = None
        self.dialog: QDialog | None = None  # the last one opened (tests drive it)
        self._gen = 0
        self.feedback = _Tab(
            self,
            "Feedback",
            [
                Column("When", lambda r: local_day(r.received_at)),
                Column("Score", score_text, lambda r: r.category == "detractor", 115),
                Column("Comment", lambda r: r.comment.replace("\n", " ")),
            ],
            "contact_feedback",
            "&Record feedback…",
        )
        self.purchases = _Tab(
            self,
            "Purchases",
            [
                Column("Date", lambda r: day_text(r.purchased_on), width=90),
                Column("Qty", lambda r: str(r.quantity), width=45),
                Column("Amount", lambda r: r.amount_text, width=120),
                Column("Product", lambda r: r.product),
            ],
            "contact_purchases",
            "Record p&urchase…",
        )
        self.thanks = _Tab(
            self,
            "Thank-yous",
            [
                Column("When", lambda r: local_day(r.given_at)),
                Column("Kind", lambda r: KIND_LABELS.get(r.kind, r.kind), width=60),
                Column("For", lambda r: REASON_LABELS.get(r.reason, r.reason), width=130),
                Column("What", lambda r: r.summary),
            ],
            "contact_thanks",
            "Log &thank-you…",
        )
        opens: list[tuple[_Tab, Callable[..., QDialog]]] = [
            (self.feedback, FeedbackDialog),
            (self.purchases, PurchaseDialog),
            (self.thanks, ThanksDialog),
        ]
        for tab, make in opens:
            self.addTab(tab.page, tab.title)
            tab.add_button.clicked.connect(lambda _=False, m=make: self._open(m))
            tab.edit_button.clicked.connect(lambda _=False, t=tab, m=make: self._edit(t, m))
            tab.view.doubleClicked.connect(lambda _i, t=tab, m=make: self._edit(t, m))
        ctx.bus.changed.connect(self._on_data_changed)

    def set_contact(self, contact: tuple[uuid.UUID, str] | None) -> None:
        same = self.contact is not None and contact is not None and self.contact[0] == contact[0]
        self.contact = contact
        self._gen += 1
        if contact is None:
            self.record = None
            for tab in (self.feedback, self.purchases, self.thanks):
                tab.model.set_rows([])
            return
        gen, contact_id = self._gen, contact[0]

        def done(record: ContactRecord) -> None:
            if gen == self._gen:
                self._fill(record, keep_place=same)

        self.ctx.query(lambda s: load_record(s, contact_id), done)

    def _fill(self, record: ContactRecord, *, keep_place: bool) -> None:
        self.record = record
        for tab, rows in (
            (self.feedback, record.feedback),
            (self.purchases, record.purchases),
            (self.thanks, record.thanks),
        ):
            if keep_place:
                refill(tab.view, tab.model, rows)
            else:
                tab.model.set_rows(rows)
            self.setTabText(self.indexOf(tab.page), f"{tab.title} ({len(rows)})" if rows else tab.title)
        self.setToolTip(
            f"{plural(len(record.feedback), 'feedback', 'feedbacks')}, "
            f"{plural(len(record.purchases), 'purchase')}, {plural(len(record.thanks), 'thank-you')}"
        )

    def _on_data_changed(self, entities: set[str]) -> None:
        if self.contact is not None and entities & ENTITIES:
            self.set_contact(self.contact)

    def _open(self, make: Callable[..., QDialog]) -> QDialog | None:
        if self.contact is None:
            return None
        self.dialog = make(self.ctx, contact=self.contact, parent=self)
        self.dialog.open()
        return self.dialog

    def _edit(self, tab: _Tab, make: Callable[..., QDialog]) -> QDialog | None:
        row = tab.selected()
        if row is None:
            return None
        self.dialog = make(self.ctx, row=row, parent=self)
        self.dialog.open()
        return self.dialog
