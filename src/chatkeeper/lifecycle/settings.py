"""The lifecycle's own settings: when conversations go cold, the bin window, the daily schedule."""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from chatkeeper.lifecycle.durations import Duration
from chatkeeper.lifecycle.schedule import DEFAULT_SCHEDULE, DEFAULT_ZONE, parse_cron, zone_info


@dataclass(frozen=True, slots=True)
class LifecycleSettings:
    """How the lifecycle runs.

    ``cold_after``: how long after its end (service date) an active conversation is archived to
    cold segments. ``recycle_bin_window``: how long a conversation stays recoverable in the
    recycle bin before it is purged. ``schedule`` and ``timezone``: when the daily job runs;
    the zone is also the calendar that month and year arithmetic uses.
    """

    cold_after: Duration = field(default_factory=lambda: Duration.days(30))
    recycle_bin_window: Duration = field(default_factory=lambda: Duration.days(30))
    schedule: str = DEFAULT_SCHEDULE
    timezone: str = DEFAULT_ZONE

    def __post_init__(self) -> None:
        zone_info(self.timezone)
        parse_cron(self.schedule, self.timezone)

    @property
    def zone(self) -> ZoneInfo:
        """The time zone as an object."""
        return ZoneInfo(self.timezone)
