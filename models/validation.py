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


def clean_described(
    cls: type[SyncedMixin], inp: object, values: dict[str, Any], errors: dict[str, str]
) -> None:
    """Clean every described field of the form ``inp`` that no rule of its own has cleaned, as
    its editor's kind says: text trimmed, list items trimmed (empty ones dropped), a date parsed,
    a count read as a whole number. A new plain field needs no cleaning code of its own; one of a
    kind with no generic rule (a choice, an account, dated entries) is refused here, loudly."""
    for field in described(cls):
        if field.name in values:
            continue
        raw = getattr(inp, field.name)
        editor = field.shown.editor
        if editor in ("line", "text"):
            values[field.name] = (raw or "").strip()
        elif editor == "list":
            values[field.name] = [item.strip() for item in raw or () if item.strip()]
        elif editor == "date":
            values[field.name] = parse_date(raw, field.name, errors)
        elif editor == "count":
            values[field.name] = _count(raw, field.name, field.shown.label, errors)
        else:
            raise TypeError(f"{cls.__name__}.{field.name} ({editor}) needs a cleaning rule of its own")


def _count(raw: object, name: str, label: str, errors: dict[str, str]) -> int | None:
    if raw is None or str(raw).strip() == "":
        return None
    try:
        return int(str(raw).strip())
    except ValueError:
        errors[name] = f"{label} is a whole number"
        return None


def raise_if(errors: dict[str, str]) -> None:
    if errors:
        raise ValidationError(errors)
