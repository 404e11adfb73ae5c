"""The account page's purchases: what it bought, its last order and its totals over 12 months
(per currency), with recording a purchase or the account's feedback one click away."""

from __future__ import annotations

import html
import uuid
from datetime import date

from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from models.services import purchases
from models.services.purchases import AccountPurchases, PurchaseRow, format_amount
from ui.context import AppContext
from ui.feedback_dialog import FeedbackDialog
from ui.plural import days_ago, plural
from ui.purchase_dialog import PurchaseDialog
from ui.table import Column, RowsModel, day_text, make_table, on_selection, refill, selected_row

ENTITIES = {"purchase", "contact", "account"}


def summary_html(got: AccountPurchases, today: date) -> str:
    """The line above the list: "Last order 2026-01-02 (3 days ago): Widgets · last 12 months:
    1,250.50 EUR + 50.00 USD (4 orders)"."""
    if not got.items:
        return "None recorded yet"
    parts = []
    last = got.last_order
    if last is not None:
        days = (today - last.purchased_on).days
        money = f", {last.amount_text}" if last.amount_cents is not None else ""
        when = f"{last.purchased_on.isoformat()} ({days_ago(days)})"
        parts.append(f"last order {when}: {html.escape(last.product)}{money}")
    money = " + ".join(format_amount(cents, currency) for currency, cents in got.totals_12m)
    orders = plural(got.orders_12m, "order")
    parts.append(f"last 12 months: <b>{money}</b> ({orders})" if money else f"last 12 months: {orders}")
    text = " · ".join(parts)
    return text[:1].upper() + text[1:]


class AccountPurchasesSection(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("account_purchases")
        self.ctx = ctx
        self.account_id: uuid.UUID | None = None
        self.got: AccountPurchases | None = None
        self.dialog: QDialog | None = None
        self._gen = 0
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.model = RowsModel[PurchaseRow](
            [
                Column("Date", lambda r: day_text(r.purchased_on), width=90),
                Column("Product", lambda r: r.product, width=200),
                Column("Qty", lambda r: str(r.quantity), width=45),
                Column("Amount", lambda r: r.amount_text, width=120),
                Column("Buyer", lambda r: r.contact_name),
            ],
            self,
        )
        self.view = make_table(self.model, name="account_purchases_table")
        # Room for about four rows: the page's other lists keep theirs at 1280x720 (the whole
        # list scrolls; the line above it says what matters).
        self.view.setMaximumHeight(self.view.verticalHeader().defaultSectionSize() * 4 + 30)
        self.add_button = QPushButton("Record p&urchase…")
        self.edit_button = QPushButton("Edit…")
        self.feedback_button = QPushButton("Record feedbac&k…")
        self.add_button.clicked.connect(self.add_purchase)
        self.edit_button.clicked.connect(self.edit_purchase)
        self.feedback_button.clicked.connect(self.add_feedback)
        self.view.doubleClicked.connect(lambda _i: self.edit_purchase())
        on_selection(self.view, lambda: self.edit_button.setEnabled(self._selected() is not None))
        bar = QHBoxLayout()
        bar.addWidget(QLabel("<b>Purchases</b>"))
        bar.addStretch(1)
        for button in (self.add_button, self.edit_button, self.feedback_button):
            bar.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.summary)
        layout.addWidget(self.view, 1)
        ctx.bus.changed.connect(self._on_data_changed)
        self.show_account(None)

    def show_account(self, account_id: uuid.UUID | None) -> None:
        same = account_id is not None and account_id == self.account_id
        self.account_id = account_id
        self._gen += 1
        for button in (self.add_button, self.feedback_button):
            button.setEnabled(account_id is not None)
        if account_id is None:
            self.got = None
            self.summary.clear()
            self.model.set_rows([])
            return
        gen, today = self._gen, date.today()

        def done(got: AccountPurchases) -> None:
            if gen != self._gen:
                return
            self.got = got
            self.summary.setText(summary_html(got, today))
            if same:
                refill(self.view, self.model, got.items)
            else:
                self.model.set_rows(got.items)

        self.ctx.query(lambda s: purchases.account_purchases(s, account_id, today), done)

    def _on_data_changed(self, entities: set[str]) -> None:
        if self.account_id is not None and entities & ENTITIES:
            self.show_account(self.account_id)

    def _selected(self) -> PurchaseRow | None:
        return selected_row(self.view, self.model)

    def _show(self, dialog: QDialog) -> QDialog:
        self.dialog = dialog
        dialog.open()
        return dialog

    def add_purchase(self) -> QDialog | None:
        if self.account_id is None:
            return None
        return self._show(PurchaseDialog(self.ctx, account_id=self.account_id, parent=self))

    def edit_purchase(self) -> QDialog | None:
        row = self._selected()
        return self._show(PurchaseDialog(self.ctx, row=row, parent=self)) if row else None

    def add_feedback(self) -> QDialog | None:
        if self.account_id is None:
            return None
        return self._show(FeedbackDialog(self.ctx, account_id=self.account_id, parent=self))
