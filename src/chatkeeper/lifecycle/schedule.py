"""When the daily lifecycle job runs: five-field cron expressions in an IANA time zone.

``minute hour day-of-month month day-of-week``, each a ``*``, a number, a range ``a-b``, a step
(``*/15``, ``a-b/2``, ``a/5`` = from ``a`` to the field's end), or a comma-separated list of
these; months and weekdays also take English names (``jan``, ``mon``); weekday 0 and 7 are
Sunday. The macros ``@yearly``, ``@monthly``, ``@weekly``, ``@daily`` (``@midnight``) and
``@hourly`` are accepted. As in Vixie cron, when both day fields are restricted a day matches if
*either* does, and a field that starts with ``*`` counts as unrestricted.

Times are wall-clock times in the schedule's zone (default ``Asia/Shanghai``, which has no
daylight-saving time). In a zone that has it, a wall time skipped by the spring-forward jump fires
at the same distance after the jump (02:30 → 03:30), and a wall time that occurs twice in the
autumn fires once, at its first occurrence.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chatkeeper.lifecycle.errors import ScheduleInvalid

DEFAULT_SCHEDULE = "0 22 * * *"
DEFAULT_ZONE = "Asia/Shanghai"

_FIELDS = (  # name, ordinal, low, high
    ("minute", "1st", 0, 59),
    ("hour", "2nd", 0, 23),
    ("day-of-month", "3rd", 1, 31),
    ("month", "4th", 1, 12),
    ("day-of-week", "5th", 0, 7),
)
_NAMES = {
    "month": {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name},
    "day-of-week": {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6},
}
_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_SEARCH_YEARS = 9  # 29 February on a given weekday can be 8 years away (2096 → 2104)


def zone_info(name: str, *, field: str = "timezone") -> ZoneInfo:
    """The IANA zone ``name``; :class:`ScheduleInvalid` naming ``field`` if unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleInvalid(
            f"{field}: {name!r} is not an IANA time zone (e.g. Asia/Shanghai)", field=field
        ) from exc


@dataclass(frozen=True, slots=True)
class CronSchedule:
    """A parsed cron expression in a time zone; build it with :func:`parse_cron`."""

    expression: str
    zone: str
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    any_day: bool  # day-of-month unrestricted
    any_weekday: bool  # day-of-week unrestricted

    def next_after(self, moment: datetime) -> datetime:
        """The first fire time strictly after ``moment`` (timezone-aware), in the zone."""
        if moment.tzinfo is None:
            raise ValueError("moment must be timezone-aware")
        zone = ZoneInfo(self.zone)
        wall = moment.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0)
        wall += timedelta(minutes=1)
        while True:
            found = self._next_wall(wall)
            if found is None:
                raise ScheduleInvalid(
                    f"cron expression {self.expression!r} never fires after {moment.isoformat()}",
                    field="schedule",
                )
            instant = found.replace(tzinfo=zone)  # fold=0: first occurrence; a gap shifts on
            if instant > moment:
                return instant.astimezone(UTC).astimezone(zone)
            wall = found + timedelta(minutes=1)

    def runs_between(self, after: datetime, until: datetime) -> Iterator[datetime]:
        """Every fire time in ``(after, until]``, in order."""
        moment = after
        while True:
            moment = self.next_after(moment)
            if moment > until:
                return
            yield moment

    def _day_matches(self, moment: datetime) -> bool:
        day_ok = moment.day in self.days
        weekday_ok = (moment.weekday() + 1) % 7 in self.weekdays
        if self.any_day or self.any_weekday:
            return day_ok and weekday_ok
        return day_ok or weekday_ok

    def _next_wall(self, wall: datetime) -> datetime | None:
        """The first matching wall-clock minute at or after ``wall`` (naive), within the horizon."""
        limit = wall.year + _SEARCH_YEARS
        while wall.year <= limit:
            if wall.month not in self.months:
                year, month = divmod(wall.month, 12)  # month is 1..12: next month, rolling over
                wall = datetime(wall.year + year, month + 1, 1)
            elif not self._day_matches(wall):
                wall = datetime(wall.year, wall.month, wall.day) + timedelta(days=1)
            elif wall.hour not in self.hours:
                later = [h for h in self.hours if h > wall.hour]
                day = datetime(wall.year, wall.month, wall.day)
                wall = day.replace(hour=later[0]) if later else day + timedelta(days=1)
            elif wall.minute not in self.minutes:
                later = [m for m in self.minutes if m > wall.minute]
                hour = wall.replace(minute=0)
                wall = hour.replace(minute=later[0]) if later else hour + timedelta(hours=1)
            else:
                return wall
        return None


@lru_cache(maxsize=64)
def parse_cron(expression: str, zone: str = DEFAULT_ZONE) -> CronSchedule:
    """Parse a five-field cron expression; errors name the field and the bad value."""
    zone_info(zone)
    text = _MACROS.get(expression.strip().lower(), expression)
    parts = text.split()
    if len(parts) != 5:
        raise ScheduleInvalid(
            f"cron expression {expression!r} has {len(parts)} fields; it needs 5: "
            "minute hour day-of-month month day-of-week (e.g. '0 22 * * *')",
            field="schedule",
        )
    values = [
        _parse_field(expression, part, *spec) for part, spec in zip(parts, _FIELDS, strict=True)
    ]
    weekdays = frozenset(day % 7 for day in values[4])
    schedule = CronSchedule(
        expression=expression,
        zone=zone,
        minutes=tuple(sorted(values[0])),
        hours=tuple(sorted(values[1])),
        days=frozenset(values[2]),
        months=frozenset(values[3]),
        weekdays=weekdays,
        any_day=parts[2].startswith("*"),
        any_weekday=parts[4].startswith("*"),
    )
    longest = max(calendar.monthrange(2024, month)[1] for month in schedule.months)
    if schedule.any_weekday and min(schedule.days) > longest:
        raise ScheduleInvalid(
            f"cron expression {expression!r}: field 'day-of-month' (3rd) asks for day "
            f"{min(schedule.days)}, which none of the chosen months has",
            field="day-of-month",
        )
    return schedule


def _parse_field(
    expression: str, text: str, name: str, ordinal: str, low: int, high: int
) -> set[int]:
    def fail(reason: str) -> ScheduleInvalid:
        return ScheduleInvalid(
            f"cron expression {expression!r}: field '{name}' ({ordinal}) {reason}", field=name
        )

    def number(token: str) -> int:
        value = _NAMES.get(name, {}).get(token.lower())
        if value is None:
            if not token.isdigit():
                raise fail(f"has {token!r}, which is not a number")
            value = int(token)
        if not low <= value <= high:
            raise fail(f"value {value} is out of range {low}-{high}")
        return value

    found: set[int] = set()
    for item in text.split(","):
        span, _, step_text = item.partition("/")
        step = 1
        if step_text or item.endswith("/"):
            if not step_text.isdigit() or int(step_text) < 1:
                raise fail(f"has step {step_text!r} in {item!r}; a step is a whole number ≥ 1")
            step = int(step_text)
        if span == "*":
            first, last = low, high
        elif "-" in span:
            start, _, end = span.partition("-")
            first, last = number(start), number(end)
            if first > last:
                raise fail(f"has range {span!r}, which runs backwards")
        elif span:
            first = number(span)
            last = high if step_text else first
        else:
            raise fail(f"has an empty item in {text!r}")
        found.update(range(first, last + 1, step))
    return found


def next_after(expression: str, moment: datetime, zone: str = DEFAULT_ZONE) -> datetime:
    """The first time ``expression`` fires strictly after ``moment``, in ``zone``."""
    return parse_cron(expression, zone).next_after(moment)


def missed_runs(
    expression: str,
    last_run: datetime,
    now: datetime,
    zone: str = DEFAULT_ZONE,
    *,
    limit: int = 1000,
) -> tuple[datetime, ...]:
    """The fire times after ``last_run`` and up to ``now`` that no run has covered.

    Empty when the job is up to date. At most ``limit`` times (the earliest ones) are returned;
    a scheduler that finds any runs the job once, not once per missed time.
    """
    schedule = parse_cron(expression, zone)
    missed = []
    for moment in schedule.runs_between(last_run, now):
        missed.append(moment)
        if len(missed) >= limit:
            break
    return tuple(missed)
