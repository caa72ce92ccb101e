"""The daily job's schedule: cron parsing, next fire times in a zone, missed runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatkeeper.lifecycle import DEFAULT_SCHEDULE, missed_runs, next_after, parse_cron
from chatkeeper.lifecycle.errors import ScheduleInvalid

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


class TestParsing:
    def test_the_default(self) -> None:
        schedule = parse_cron(DEFAULT_SCHEDULE)
        assert (schedule.minutes, schedule.hours, schedule.zone) == ((0,), (22,), "Asia/Shanghai")
        assert schedule.any_day and schedule.any_weekday

    @pytest.mark.parametrize(
        ("expression", "field", "expected"),
        [
            ("*/15 * * * *", "minutes", (0, 15, 30, 45)),
            ("5,10-12 * * * *", "minutes", (5, 10, 11, 12)),
            ("0-30/10 * * * *", "minutes", (0, 10, 20, 30)),
            ("50/5 * * * *", "minutes", (50, 55)),
            ("0 9-17/4 * * *", "hours", (9, 13, 17)),
            ("0 0 * jan,jul *", "months", frozenset({1, 7})),
            ("0 0 * * mon-fri", "weekdays", frozenset({1, 2, 3, 4, 5})),
            ("0 0 * * 7", "weekdays", frozenset({0})),  # 7 is Sunday too
            ("0 0 1,15 * *", "days", frozenset({1, 15})),
        ],
    )
    def test_lists_ranges_steps_names(self, expression: str, field: str, expected: object) -> None:
        assert getattr(parse_cron(expression), field) == expected

    @pytest.mark.parametrize(
        ("expression", "says"),
        [
            ("0 25 * * *", "field 'hour' (2nd) value 25 is out of range 0-23"),
            ("60 * * * *", "field 'minute' (1st) value 60 is out of range 0-59"),
            ("0 0 0 * *", "field 'day-of-month' (3rd) value 0 is out of range 1-31"),
            ("0 0 * 13 *", "field 'month' (4th) value 13 is out of range 1-12"),
            ("0 0 * * 8", "field 'day-of-week' (5th) value 8 is out of range 0-7"),
            ("0 0 * * funday", "field 'day-of-week' (5th) has 'funday', which is not a number"),
            ("*/0 * * * *", "field 'minute' (1st) has step '0'"),
            ("0 17-9 * * *", "field 'hour' (2nd) has range '17-9', which runs backwards"),
            ("0 1,,2 * * *", "field 'hour' (2nd) has an empty item"),
            ("0 22 * *", "has 4 fields; it needs 5"),
            ("0 0 30 2 *", "field 'day-of-month' (3rd) asks for day 30"),
        ],
    )
    def test_errors_name_the_field(self, expression: str, says: str) -> None:
        with pytest.raises(ScheduleInvalid) as caught:
            parse_cron(expression)
        assert says in str(caught.value)
        assert repr(expression) in str(caught.value)

    def test_an_unknown_zone_is_named(self) -> None:
        with pytest.raises(ScheduleInvalid, match="'Asia/Shangai' is not an IANA time zone"):
            parse_cron("0 22 * * *", "Asia/Shangai")


class TestNextAfter:
    def test_the_default_fires_at_22_shanghai_time(self) -> None:
        assert next_after(DEFAULT_SCHEDULE, sh(2026, 3, 1, 9, 0)) == sh(2026, 3, 1, 22, 0)
        assert next_after(DEFAULT_SCHEDULE, sh(2026, 3, 1, 22, 0)) == sh(2026, 3, 2, 22, 0)
        assert next_after(DEFAULT_SCHEDULE, sh(2026, 12, 31, 23, 0)) == sh(2027, 1, 1, 22, 0)

    def test_a_moment_in_another_zone_is_the_same_instant(self) -> None:
        moment = datetime(2026, 3, 1, 13, 59, tzinfo=UTC)  # 21:59 in Shanghai
        fired = next_after(DEFAULT_SCHEDULE, moment)
        assert fired == datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
        assert fired.tzinfo == SHANGHAI and fired.hour == 22

    def test_shanghai_has_no_daylight_saving_time(self) -> None:
        """Every daily fire is exactly 24 hours after the previous one, all year round."""
        moment, fires = sh(2026, 1, 1, 0, 0), []
        for _ in range(366):
            moment = next_after("30 2 * * *", moment)
            fires.append(moment)
        gaps = {later - earlier for earlier, later in pairwise(fires)}
        assert gaps == {timedelta(hours=24)}
        assert {f.utcoffset() for f in fires} == {timedelta(hours=8)}

    @pytest.mark.parametrize(
        ("expression", "after", "expected"),
        [
            ("0 9 * * mon", sh(2026, 3, 4, 12, 0), sh(2026, 3, 9, 9, 0)),  # Wed → next Monday
            ("0 0 1 * *", sh(2026, 1, 31, 0, 0), sh(2026, 2, 1, 0, 0)),
            ("0 0 31 * *", sh(2026, 2, 1, 0, 0), sh(2026, 3, 31, 0, 0)),  # skips short months
            ("0 0 29 2 *", sh(2026, 3, 1, 0, 0), sh(2028, 2, 29, 0, 0)),  # leap day
            ("*/20 * * * *", sh(2026, 3, 1, 10, 59, 30), sh(2026, 3, 1, 11, 0)),
            ("0 12 13 * fri", sh(2026, 3, 1, 0, 0), sh(2026, 3, 6, 12, 0)),  # either day field
            ("@daily", sh(2026, 3, 1, 0, 0), sh(2026, 3, 2, 0, 0)),
        ],
    )
    def test_next_fire(self, expression: str, after: datetime, expected: datetime) -> None:
        assert next_after(expression, after) == expected

    def test_in_a_zone_with_daylight_saving_time(self) -> None:
        # 29 March 2026, Berlin: 02:00 → 03:00. 02:30 does not exist: it fires at 03:30 CEST.
        spring = next_after(
            "30 2 * * *", datetime(2026, 3, 29, 0, 0, tzinfo=BERLIN), "Europe/Berlin"
        )
        assert spring.astimezone(UTC) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
        # 25 October 2026: 02:30 happens twice; it fires once, at the first.
        autumn = next_after(
            "30 2 * * *", datetime(2026, 10, 25, 0, 0, tzinfo=BERLIN), "Europe/Berlin"
        )
        assert autumn.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
        after = next_after("30 2 * * *", autumn, "Europe/Berlin")
        assert after.astimezone(UTC) == datetime(2026, 10, 26, 1, 30, tzinfo=UTC)

    def test_a_naive_moment_is_refused(self) -> None:
        with pytest.raises(ValueError, match="timezone-aware"):
            next_after(DEFAULT_SCHEDULE, datetime(2026, 1, 1))


@settings(max_examples=200, deadline=None)
@given(
    minute=st.sampled_from(["*", "0", "*/7", "5-10", "59"]),
    hour=st.sampled_from(["*", "22", "0-5/2", "9,17"]),
    day=st.sampled_from(["*", "1", "15-20", "31"]),
    weekday=st.sampled_from(["*", "1-5", "0"]),
    moment=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1)),
)
def test_next_fire_is_the_first_matching_minute(
    minute: str, hour: str, day: str, weekday: str, moment: datetime
) -> None:
    """Property: the fire time matches the expression, and no minute in between does."""
    schedule = parse_cron(f"{minute} {hour} {day} * {weekday}")
    start = moment.replace(tzinfo=SHANGHAI)
    fired = schedule.next_after(start)
    assert fired > start

    def matches(t: datetime) -> bool:
        days_ok = t.day in schedule.days
        weekdays_ok = (t.weekday() + 1) % 7 in schedule.weekdays
        either = (
            (days_ok and weekdays_ok)
            if schedule.any_day or schedule.any_weekday
            else (days_ok or weekdays_ok)
        )
        return t.minute in schedule.minutes and t.hour in schedule.hours and either

    assert matches(fired)
    probe = start.replace(second=0, microsecond=0) + timedelta(minutes=1)
    steps = 0
    while probe < fired and steps < 3000:  # check the first 3000 minutes in between
        assert not matches(probe)
        probe += timedelta(minutes=1)
        steps += 1


class TestMissedRuns:
    def test_up_to_date(self) -> None:
        assert missed_runs(DEFAULT_SCHEDULE, sh(2026, 3, 1, 22, 0, 3), sh(2026, 3, 2, 21, 59)) == ()

    def test_a_run_that_did_not_happen(self) -> None:
        """The server was down over the 22:00 run: the scheduler sees it was missed."""
        missed = missed_runs(DEFAULT_SCHEDULE, sh(2026, 3, 1, 22, 0, 3), sh(2026, 3, 2, 23, 15))
        assert missed == (sh(2026, 3, 2, 22, 0),)

    def test_several_days_missed(self) -> None:
        missed = missed_runs(DEFAULT_SCHEDULE, sh(2026, 3, 1, 22, 0), sh(2026, 3, 5, 22, 0))
        assert missed == tuple(sh(2026, 3, d, 22, 0) for d in (2, 3, 4, 5))

    def test_the_list_is_capped(self) -> None:
        missed = missed_runs("* * * * *", sh(2026, 1, 1, 0, 0), sh(2026, 3, 1, 0, 0), limit=10)
        assert len(missed) == 10 and missed[0] == sh(2026, 1, 1, 0, 1)

    def test_a_last_run_in_the_future_misses_nothing(self) -> None:
        assert missed_runs(DEFAULT_SCHEDULE, sh(2026, 3, 9, 22, 0), sh(2026, 3, 1, 0, 0)) == ()
