"""Retention durations: ``180d``, ``6 months``, ``1y``, ``3 years``, ``permanent``.

A duration is an amount of calendar units, not a number of seconds: six months after 31 August is
the last day of February (28th or 29th), one year after 29 February is 28 February, and the time
of day is kept. Years are twelve months, so ``1y`` and ``12 months`` always agree. Adding days is
wall-clock arithmetic in the datetime's own time zone.

Comparing a number of days with a number of months depends on the start date (six months are
181 to 184 days), so :meth:`Duration.at_least` answers "for every start date", which is what a
statutory floor needs.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import TypeVar

from chatkeeper.lifecycle.errors import DurationInvalid

_Moment = TypeVar("_Moment", date, datetime)


class Unit(StrEnum):
    """The calendar unit of a duration."""

    DAYS = "days"
    MONTHS = "months"
    YEARS = "years"


# Written forms of each unit, English and Chinese; "m" is months (retention is never minutes).
_UNITS = {
    **dict.fromkeys(("d", "day", "days", "天", "日"), Unit.DAYS),
    **dict.fromkeys(("m", "mo", "mon", "month", "months", "个月", "月"), Unit.MONTHS),
    **dict.fromkeys(("y", "yr", "yrs", "year", "years", "年"), Unit.YEARS),
}
_PERMANENT = frozenset({"permanent", "forever", "永久"})
_PATTERN = re.compile(r"\s*(\d{1,6})\s*([^\d\s].*?)\s*")
# Beyond a century the answer is "permanent"; the cap also keeps every deadline inside datetime.
_MAX_AMOUNT = {Unit.DAYS: 36_600, Unit.MONTHS: 1_200, Unit.YEARS: 100}
_HINT = "use a whole number of days, months or years (e.g. 180d, 6 months, 1y) or 'permanent'"


@dataclass(frozen=True, slots=True)
class Duration:
    """A retention period: ``amount`` whole ``unit``s, or permanent (``unit`` is ``None``).

    ``str()`` gives the canonical written form (``6 months``, ``1 year``, ``permanent``).
    """

    amount: int
    unit: Unit | None

    def __post_init__(self) -> None:
        if self.unit is None and self.amount != 0:
            raise ValueError("a permanent duration has no amount")
        if self.unit is not None and not 1 <= self.amount <= _MAX_AMOUNT[self.unit]:
            raise ValueError(f"amount must be 1..{_MAX_AMOUNT[self.unit]} {self.unit}")

    @classmethod
    def days(cls, amount: int) -> Duration:
        """``amount`` days."""
        return cls(amount, Unit.DAYS)

    @classmethod
    def months(cls, amount: int) -> Duration:
        """``amount`` calendar months."""
        return cls(amount, Unit.MONTHS)

    @classmethod
    def years(cls, amount: int) -> Duration:
        """``amount`` calendar years (twelve months each)."""
        return cls(amount, Unit.YEARS)

    @classmethod
    def permanent(cls) -> Duration:
        """Kept for ever: no deadline."""
        return cls(0, None)

    @property
    def is_permanent(self) -> bool:
        """True when the duration never ends."""
        return self.unit is None

    def add_to(self, moment: _Moment) -> _Moment | None:
        """The moment this duration after ``moment`` (same time of day); ``None`` if permanent."""
        if self.unit is Unit.DAYS:
            return moment + timedelta(days=self.amount)
        if self.unit is Unit.MONTHS:
            return add_months(moment, self.amount)
        if self.unit is Unit.YEARS:
            return add_months(moment, 12 * self.amount)
        return None

    def day_bounds(self) -> tuple[int, int] | None:
        """The fewest and most days this duration can span, over every start date."""
        if self.unit is None:
            return None
        if self.unit is Unit.DAYS:
            return self.amount, self.amount
        return _month_bounds(self.amount * (12 if self.unit is Unit.YEARS else 1))

    def at_least(self, other: Duration) -> bool:
        """True if, from every start date, this duration ends no earlier than ``other``."""
        if self.unit is None:
            return True
        if other.unit is None:
            return False
        if (self.unit is Unit.DAYS) == (other.unit is Unit.DAYS):
            return self._in_base_units() >= other._in_base_units()
        mine, theirs = self.day_bounds(), other.day_bounds()
        assert mine is not None and theirs is not None
        return mine[0] >= theirs[1]

    def _in_base_units(self) -> int:
        return self.amount * 12 if self.unit is Unit.YEARS else self.amount

    def __str__(self) -> str:
        if self.unit is None:
            return "permanent"
        name = str(self.unit)
        return f"{self.amount} {name[:-1] if self.amount == 1 else name}"

    def __repr__(self) -> str:
        return f"Duration({str(self)!r})"


def parse_duration(value: object, *, field: str = "duration") -> Duration:
    """Parse a written duration; the error names ``field`` and the bad value.

    Accepted: ``permanent`` (or ``forever``, ``永久``), or a whole number and a unit:
    ``d``, ``day(s)``, ``天``; ``m``, ``mo``, ``month(s)``, ``个月``, ``月``; ``y``, ``yr``,
    ``year(s)``, ``年`` (case-insensitive, spaces optional): ``180d``, ``6 months``, ``6m``,
    ``1y``, ``3 years``.
    """
    if isinstance(value, Duration):
        return value
    if not isinstance(value, str):
        raise DurationInvalid(field, value, f"is not a text duration; {_HINT}")
    text = value.strip().lower()
    if text in _PERMANENT:
        return Duration.permanent()
    match = _PATTERN.fullmatch(text)
    unit = _UNITS.get(match.group(2)) if match else None
    if match is None or unit is None:
        raise DurationInvalid(field, value, f"is not a duration; {_HINT}")
    amount = int(match.group(1))
    if amount < 1:
        raise DurationInvalid(field, value, "must be at least 1; for no deadline use 'permanent'")
    if amount > _MAX_AMOUNT[unit]:
        raise DurationInvalid(
            field, value, f"is more than {_MAX_AMOUNT[unit]} {unit}; use 'permanent'"
        )
    return Duration(amount, unit)


def add_months(moment: _Moment, months: int) -> _Moment:
    """``moment`` plus ``months`` calendar months, clamped to the last day of the target month.

    31 August + 6 months is 28 February (29 in a leap year); the time of day and ``tzinfo`` are
    kept.
    """
    total = moment.month - 1 + months
    year, month = moment.year + total // 12, total % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


@cache
def _month_bounds(months: int) -> tuple[int, int]:
    """Fewest and most days that ``months`` months span, over a whole 400-year Gregorian cycle.

    From a day that exists in the target month the span is the sum of the month lengths (the
    most); from the start month's last day it shrinks by the clamp (the fewest).
    """
    fewest, most = 1 << 30, 0
    for year in range(2000, 2400):
        for month in range(1, 13):
            first = date(year, month, 1)
            span = (add_months(first, months) - first).days
            last = first.replace(day=calendar.monthrange(year, month)[1])
            fewest = min(fewest, (add_months(last, months) - last).days)
            most = max(most, span)
    return fewest, most
