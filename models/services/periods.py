"""Periods a rep chooses (local dates) and the UTC instants stored rows are compared with.

Stored datetimes are UTC; a rep thinks in local days, months and quarters. A period here is two
local dates, both included (1 January to 31 March is the first quarter). ``tz=None`` means the
machine's local zone, with its daylight-saving rules (a naive datetime's ``astimezone()``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import ClassVar, Self


def local_midnight(day: date, tz: tzinfo | None = None) -> datetime:
    """The UTC instant the local day ``day`` starts."""
    naive = datetime.combine(day, time())
    aware = naive.replace(tzinfo=tz) if tz is not None else naive.astimezone()
    return aware.astimezone(UTC)


def utc_bounds(start: date, end: date, tz: tzinfo | None = None) -> tuple[datetime, datetime]:
    """[start of ``start``, start of the day after ``end``) in UTC: both local days included."""
    return local_midnight(start, tz), local_midnight(end + timedelta(days=1), tz)


def local_date(when: datetime, tz: tzinfo | None = None) -> date:
    return when.astimezone(tz).date()


def utc_offset_minutes(day: date, tz: tzinfo | None = None) -> int:
    """The local zone's offset from UTC at noon on ``day`` (for SQL date arithmetic)."""
    noon = datetime.combine(day, time(12))
    aware = noon.replace(tzinfo=tz) if tz is not None else noon.astimezone()
    offset = aware.utcoffset()
    return int(offset.total_seconds() // 60) if offset is not None else 0


@dataclass(frozen=True, order=True)
class _Step:
    """A calendar month or quarter: ``number`` counts from 1 within ``year``."""

    year: int
    number: int
    months: ClassVar[int] = 1

    @classmethod
    def of(cls, day: date) -> Self:
        return cls(day.year, (day.month - 1) // cls.months + 1)

    @property
    def first_day(self) -> date:
        return date(self.year, self.months * (self.number - 1) + 1, 1)

    @property
    def last_day(self) -> date:
        return self.next().first_day - timedelta(days=1)

    def next(self) -> Self:
        last = 12 // self.months
        return type(self)(self.year + 1, 1) if self.number == last else type(self)(self.year, self.number + 1)

    def previous(self) -> Self:
        last = 12 // self.months
        return type(self)(self.year - 1, last) if self.number == 1 else type(self)(self.year, self.number - 1)


class Quarter(_Step):
    months = 3

    @property
    def label(self) -> str:
        return f"Q{self.number} {self.year}"


class Month(_Step):
    @property
    def label(self) -> str:
        return self.first_day.strftime("%b %Y")


def quarters(start: date, end: date) -> list[Quarter]:
    """Every quarter that the local period [start, end] touches, oldest first."""
    found, q = [], Quarter.of(start)
    while q.first_day <= end:
        found.append(q)
        q = q.next()
    return found


def last_months(today: date, count: int) -> list[Month]:
    """The ``count`` months ending with today's, oldest first."""
    found = [Month.of(today)]
    while len(found) < count:
        found.append(found[-1].previous())
    return found[::-1]


def last_quarters(today: date, count: int) -> list[Quarter]:
    found = [Quarter.of(today)]
    while len(found) < count:
        found.append(found[-1].previous())
    return found[::-1]
