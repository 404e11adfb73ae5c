"""A field the feedback, purchase and thank-you forms share: who it is from or for."""

from __future__ import annotations

import uuid

from models.errors import ValidationError
from ui.dialogs import chosen_contact
from ui.forms import ContactPicker


def picked_contact(picker: ContactPicker, account_id: uuid.UUID | None) -> uuid.UUID | None:
    """The contact picked; None (the account's own row) only when the field is left empty: a
    name typed but not picked from the list is explained, never filed under the account."""
    contact_id = chosen_contact(picker, account_id)
    if contact_id is None and picker.text().strip():
        raise ValidationError(
            {"contact_id": f"Choose “{picker.text().strip()}” from the list, or leave it empty"}
        )
    return contact_id
