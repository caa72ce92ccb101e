"""Retention durations: the written forms, calendar-correct month arithmetic, comparisons."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from chatkeeper.errors import ErrorCode
from chatkeeper.lifecycle import Duration, Unit, add_months, parse_duration
from chatkeeper.lifecycle.errors import DurationInvalid

CST = timezone(timedelta(hours=8))


@pytest.mark.parametrize(
    ("text", "amount", "unit"),
    [
        ("6 months", 6, Unit.MONTHS),
        ("6m", 6, Unit.MONTHS),
        ("6 Months", 6, Unit.MONTHS),
        ("1 month", 1, Unit.MONTHS),
        ("6个月", 6, Unit.MONTHS),
        ("1y", 1, Unit.YEARS),
        ("3 years", 3, Unit.YEARS),
        ("3年", 3, Unit.YEARS),
        ("180d", 180, Unit.DAYS),
        (" 180 days ", 180, Unit.DAYS),
        ("30天", 30, Unit.DAYS),
    ],
)
def test_written_forms(text: str, amount: int, unit: Unit) -> None:
    assert parse_duration(text) == Duration(amount, unit)


@pytest.mark.parametrize("text", ["permanent", "PERMANENT", "forever", "永久"])
def test_permanent(text: str) -> None:
    duration = parse_duration(text)
    assert duration.is_permanent
    assert duration.add_to(datetime(2026, 1, 1, tzinfo=CST)) is None
    assert str(duration) == "permanent"


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("6 monts", "is not a duration"),
        ("six months", "is not a duration"),
        ("6", "is not a duration"),
        ("m6", "is not a duration"),
        ("-6 months", "is not a duration"),
        ("1.5y", "is not a duration"),
        ("", "is not a duration"),
        ("0d", "must be at least 1"),
        ("101 years", "use 'permanent'"),
        (180, "is not a text duration"),
        (None, "is not a text duration"),
    ],
)
def test_bad_values_name_the_field_and_the_value(value: object, says: str) -> None:
    with pytest.raises(DurationInvalid) as caught:
        parse_duration(value, field="policy.rules[2].keep")
    message = str(caught.value)
    assert message.startswith("policy.rules[2].keep: ")
    assert repr(value) in message
    assert says in message
    assert caught.value.code is ErrorCode.CONFIG_INVALID
    assert caught.value.details["field"] == "policy.rules[2].keep"


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2025, 8, 31), 6, date(2026, 2, 28)),
        (date(2023, 8, 31), 6, date(2024, 2, 29)),  # leap year
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2024, 2, 29), 48, date(2028, 2, 29)),
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2025, 3, 31), 1, date(2025, 4, 30)),
        (date(2025, 11, 15), 2, date(2026, 1, 15)),
        (date(2025, 12, 31), 12, date(2026, 12, 31)),
    ],
)
def test_month_addition_clamps_to_the_end_of_the_month(
    start: date, months: int, expected: date
) -> None:
    assert add_months(start, months) == expected


def test_adding_keeps_the_time_of_day_and_the_zone() -> None:
    ended = datetime(2025, 8, 31, 21, 15, 7, tzinfo=CST)
    assert parse_duration("6 months").add_to(ended) == datetime(2026, 2, 28, 21, 15, 7, tzinfo=CST)
    assert parse_duration("1y").add_to(ended) == datetime(2026, 8, 31, 21, 15, 7, tzinfo=CST)
    assert parse_duration("180d").add_to(ended) == ended + timedelta(days=180)


def test_a_year_is_twelve_months() -> None:
    leap_day = date(2024, 2, 29)
    assert Duration.years(1).add_to(leap_day) == Duration.months(12).add_to(leap_day)
    assert Duration.years(1).at_least(Duration.months(12))
    assert Duration.months(12).at_least(Duration.years(1))


@pytest.mark.parametrize(
    ("longer", "shorter", "expected"),
    [
        ("6 months", "180d", True),  # six months are never fewer than 181 days
        ("180d", "6 months", False),
        ("184d", "6 months", True),  # ... and never more than 184
        ("183d", "6 months", False),
        ("3 years", "1095d", True),
        ("1095d", "3 years", False),  # three years can hold a leap day: 1096 days
        ("1096d", "3 years", True),
        ("1y", "11 months", True),
        ("permanent", "100 years", True),
        ("100 years", "permanent", False),
    ],
)
def test_at_least_holds_for_every_start_date(longer: str, shorter: str, expected: bool) -> None:
    assert parse_duration(longer).at_least(parse_duration(shorter)) is expected


def test_canonical_text() -> None:
    assert [str(parse_duration(t)) for t in ("1m", "6m", "1y", "2y", "1d", "30d")] == [
        "1 month",
        "6 months",
        "1 year",
        "2 years",
        "1 day",
        "30 days",
    ]
