"""Dates between Python and Qt's date widgets, typed.

PySide6 converts a ``datetime`` passed to ``QDateTime(...)`` by its wall-clock fields (any
``tzinfo`` is dropped), but its stubs list no such constructor, and they type ``toPython()`` as
``object``. These helpers do the same conversions field by field, so the types say what goes in
and what comes out.
"""

from __future__ import annotations

from datetime import date, datetime

from PySide6.QtCore import QDate, QDateTime, QTime
from PySide6.QtWidgets import QDateTimeEdit


def to_qdatetime(value: datetime) -> QDateTime:
    """``value``'s wall-clock fields as a local QDateTime: callers pass the rep's local time
    (``astimezone()`` on a stored UTC value, or a naive local one)."""
    return QDateTime(
        QDate(value.year, value.month, value.day),
        QTime(value.hour, value.minute, value.second, value.microsecond // 1000),
    )


def from_qdatetime(value: QDateTime) -> datetime:
    """The naive local datetime a QDateTimeEdit shows (to the millisecond, as Qt keeps it)."""
    day, clock = value.date(), value.time()
    return datetime(
        day.year(), day.month(), day.day(), clock.hour(), clock.minute(), clock.second(), clock.msec() * 1000
    )


def from_qdate(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())


def datetime_edit(value: datetime | None) -> QDateTimeEdit:
    """A date-and-time field with a calendar, on ``value`` in local time (now when None)."""
    edit = QDateTimeEdit(QDateTime.currentDateTime() if value is None else to_qdatetime(value.astimezone()))
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd HH:mm")
    return edit
