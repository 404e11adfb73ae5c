"""The typed date conversions give what PySide6's own conversions gave (the dialogs used those)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from PySide6.QtCore import QDate, QDateTime

from ui.qt_dates import from_qdate, from_qdatetime, to_qdatetime


@pytest.fixture(params=["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"])
def local_zone(request: pytest.FixtureRequest) -> Iterator[str]:
    """The rep's time zone: Qt and Python both read TZ."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    yield request.param
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    time.tzset()


STORED = [  # as the database holds them: UTC
    datetime(2026, 7, 1, 10, 30, 15, 123456, tzinfo=UTC),
    datetime(2026, 1, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2026, 3, 29, 1, 30, tzinfo=UTC),  # the hour Europe skips
    datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # the hour Europe repeats
]
TYPED = [datetime(2026, 12, 9, 9, 0), datetime(2026, 3, 8, 2, 30), datetime(2024, 2, 29, 0, 0, 0, 1000)]


@pytest.mark.usefixtures("local_zone")
@pytest.mark.parametrize("value", [*(v.astimezone() for v in STORED), *TYPED])
def test_to_qdatetime_is_pyside_own_conversion(value: datetime) -> None:
    ours = to_qdatetime(value)
    theirs = QDateTime(value)  # type: ignore[call-overload]  # the stubs lack this constructor
    assert ours == theirs
    assert ours.timeSpec() == theirs.timeSpec()
    assert from_qdatetime(ours) == theirs.toPython()


@pytest.mark.usefixtures("local_zone")
@pytest.mark.parametrize("stored", STORED)
def test_a_stored_time_comes_back_from_the_edit_as_it_went_in(stored: datetime) -> None:
    shown = to_qdatetime(stored.astimezone())
    back = from_qdatetime(shown).astimezone(UTC)  # what NoteDialog saves
    assert back == stored.replace(microsecond=stored.microsecond // 1000 * 1000)


@pytest.mark.parametrize("day", [date(2026, 1, 1), date(2024, 2, 29), date(1, 1, 1), date(9999, 12, 31)])
def test_from_qdate_is_pyside_own_conversion(day: date) -> None:
    qdate = QDate(day.year, day.month, day.day)
    assert from_qdate(qdate) == qdate.toPython() == day
