"""Field checks shared by the forms (which show them inline) and the services (which enforce them)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

import phonenumbers

from models.entities import SyncedMixin
from models.errors import ValidationError
from models.values import described, field_errors

# Deliberately permissive: one @, a dot in the domain, no spaces. Real validation is delivery.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def check_email(value: str) -> str | None:
    """Why ``value`` is not an email address, or ``None`` if it is one."""
    if not _EMAIL.match(value.strip()):
        return f"“{value}” is not an email address (expected something like name@example.com)"
    return None


def normalize_phone(value: str, region: str | None = None) -> str:
    """The number in international format; raises ``ValueError`` with a rep-readable reason."""
    text = value.strip()
    try:
        number = phonenumbers.parse(text, region if not text.startswith("+") else None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(
            f"“{value}” is not a phone number (use the international form, e.g. +44 20 7946 0958)"
        ) from exc
    if not phonenumbers.is_possible_number(number):
        raise ValueError(f"“{value}” does not look like a complete phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def parse_date(value: str | date | None, field: str, errors: dict[str, str]) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        errors[field] = f"“{value}” is not a date (use YYYY-MM-DD)"
        return None


def require(value: str, field: str, errors: dict[str, str], what: str = "This field") -> str:
    text = (value or "").strip()
    if not text:
        errors[field] = f"{what} is required"
    return text


def check_storable(cls: type[SyncedMixin], values: Mapping[str, Any], errors: dict[str, str]) -> None:
    """Add what the field definitions refuse (too long, a NUL, not a known choice...) for every
    field that has no error yet: the limits the sync server holds every change to."""
    for name, why in field_errors(cls, values).items():
        errors.setdefault(name, why)


def trimmed_texts(cls: type[SyncedMixin], inp: object, values: dict[str, Any]) -> None:
    """Add every text field of the form ``inp`` that no rule of its own has cleaned: trimmed.

    A new plain text field (a ``line`` or ``text`` editor) needs no cleaning code of its own.
    """
    for field in described(cls):
        if field.name not in values and field.shown.editor in ("line", "text"):
            values[field.name] = (getattr(inp, field.name) or "").strip()


def raise_if(errors: dict[str, str]) -> None:
    if errors:
        raise ValidationError(errors)
