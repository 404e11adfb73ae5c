"""Record or edit a purchase: what, when, how many, for how much, by whom.

The amount is typed as the rep writes it ("1,250.50", "1.250,50" or "1250,50": the hint under
the field says how it is read) and stored in cents. Once a new purchase by a contact is saved,
the window offers a thank-you (``ui.thanks_dialog``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCompleter, QLineEdit, QWidget
from sqlalchemy.orm import Session

from models.entities import Purchase
from models.services import purchases
from models.services.purchases import AMOUNT_HINT, CURRENCIES, PurchaseInput, PurchaseRow
from ui.context import AppContext
from ui.dialogs import _picker, saving
from ui.forms import FormDialog, OptionalDateEdit
from ui.offers import ThanksOffer, offer_thanks
from ui.record_fields import picked_contact


def currency_field(code: str) -> QLineEdit:
    """Three letters, upper-cased as typed, completed from the known codes."""
    line = QLineEdit(code)
    line.setMaxLength(3)
    line.setMaximumWidth(line.fontMetrics().horizontalAdvance("WWWW") + 24)
    completer = QCompleter(sorted(CURRENCIES), line)
    completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    line.setCompleter(completer)
    line.textEdited.connect(lambda text: line.setText(text.upper()) if text != text.upper() else None)
    return line


class OrderFields:
    """The product, quantity, amount and currency of an order: the purchase dialog's and the
    visit wrap-up's, read the same way."""

    def __init__(self, row: PurchaseRow | None = None, currency: str = "EUR") -> None:
        inp = purchases.purchase_input(row) if row else PurchaseInput(product="", currency=currency)
        self.product = QLineEdit(inp.product)
        self.product.setPlaceholderText("What they bought")
        self.quantity = QLineEdit(str(inp.quantity))
        self.quantity.setMaximumWidth(self.quantity.fontMetrics().horizontalAdvance("0000000") + 24)
        self.amount = QLineEdit(str(inp.amount or ""))
        self.amount.setPlaceholderText("e.g. 1,250.50 (empty if unknown)")
        self.currency = currency_field(inp.currency)

    def value(self, purchased_on: str | date | None, contact_id: uuid.UUID | None) -> PurchaseInput:
        return PurchaseInput(
            product=self.product.text(),
            purchased_on=purchased_on,
            quantity=self.quantity.text(),
            amount=self.amount.text(),
            currency=self.currency.text(),
            contact_id=contact_id,
        )


def quick_checks(inp: PurchaseInput) -> None:
    """The checks that need no database, said at once on the GUI thread."""
    purchases.clean_purchase(None, inp)


class PurchaseDialog(FormDialog):
    """Record (or edit, given ``row``) a purchase by a contact, or by an account as a whole."""

    entity = Purchase

    def __init__(
        self,
        ctx: AppContext,
        *,
        contact: tuple[uuid.UUID, str] | None = None,
        account_id: uuid.UUID | None = None,
        row: PurchaseRow | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(ctx, "Edit purchase" if row else "Record a purchase", parent)
        self._row = row
        self._account_id = row.account_id if row else account_id
        if row is not None and row.contact_id is not None:
            contact = (row.contact_id, row.contact_name)
        hint = "Empty: bought by the account as a whole" if self._account_id else ""
        self.contact = self.add_field("contact_id", "&Buyer", _picker(ctx, contact), hint)
        self.on = self.add_field(
            "purchased_on", "&Date", OptionalDateEdit(row.purchased_on if row else date.today())
        )
        self.order = OrderFields(row)
        self.add_field("product", "&Product", self.order.product)
        self.add_field("quantity", "&Quantity", self.order.quantity, "A whole number above 0")
        self.add_field("amount", "&Amount", self.order.amount, AMOUNT_HINT)
        self.add_field("currency", "C&urrency", self.order.currency, "Three letters: EUR, USD, GBP…")
        self._sent: PurchaseInput | None = None
        self.saved.connect(self._after_save)

    def collect(self) -> PurchaseInput:
        contact_id = picked_contact(self.contact, self._account_id)
        inp = self.order.value(self.on.date_text(), contact_id)
        inp.account_id = None if contact_id else self._account_id
        return inp

    def save_action(self) -> Callable[[Session], uuid.UUID]:
        inp = self._sent = self.collect()
        quick_checks(inp)
        return saving(
            self._row.id if self._row else None,
            lambda s: purchases.add_purchase(s, inp),
            lambda s, i: purchases.update_purchase(s, i, inp),
        )

    def _after_save(self, purchase_id: object) -> None:
        inp = self._sent
        new = self._row is None and isinstance(purchase_id, uuid.UUID)
        if new and inp is not None and inp.contact_id is not None:
            assert isinstance(purchase_id, uuid.UUID)
            offer_purchase_thanks(self.ctx, purchase_id, inp.contact_id, self.contact.text(), inp)


def offer_purchase_thanks(
    ctx: AppContext, purchase_id: uuid.UUID, contact_id: uuid.UUID, name: str, inp: PurchaseInput
) -> None:
    offer_thanks(
        ctx, ThanksOffer(contact_id, name, "purchase", purchase_id, f"{name} bought {inp.product.strip()}.")
    )
