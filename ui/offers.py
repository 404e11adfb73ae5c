"""Offers of a thank-you, posted by whatever saw something worth one (a purchase, a referral, a
promise kept) and shown by the window's offer bar (``ui.thanks_dialog.ThanksOfferBar``).

A module of its own, with no dialogs in it, so the contact form can post an offer without
importing the thank-you dialog (which imports the forms).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from ui.context import AppContext


@dataclass(frozen=True)
class ThanksOffer:
    """Something worth a thank-you: who to thank, for what, and the words of the offer."""

    contact_id: uuid.UUID
    contact_name: str
    reason: str
    reason_id: uuid.UUID | None
    message: str


class ThanksOffers(QObject):
    """Where dialogs and pages post offers; the window's offer bar shows the latest."""

    offered = Signal(object)  # ThanksOffer


def thanks_offers(ctx: AppContext) -> ThanksOffers:
    """The context's offer hub (made on first use, so no other module has to build it)."""
    hub = ctx.findChild(ThanksOffers, "thanks_offers")
    if hub is None:
        hub = ThanksOffers(ctx)
        hub.setObjectName("thanks_offers")
    return hub


def offer_thanks(ctx: AppContext, offer: ThanksOffer) -> None:
    thanks_offers(ctx).offered.emit(offer)
