"""Counts of the archive by platform, service type, department, and over time."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from chatkeeper.domain import Actor
from chatkeeper.errors import SearchError
from chatkeeper.services.authz import authorize
from chatkeeper.services.context import Context

PERIODS = ("day", "week", "month")


def _bucket(day: str, period: str) -> str:
    if period == "day":
        return day
    if period == "month":
        return day[:7]
    year, week, _ = date.fromisoformat(day).isocalendar()
    return f"{year}-W{week:02d}"


def archive_stats(ctx: Context, actor: Actor, period: str = "day") -> dict[str, Any]:
    """Totals, and conversations and messages per platform, service type, department, and per
    day, ISO week or month; within what the actor may reach."""
    permit = authorize(ctx, actor, "stats.view")
    if period not in PERIODS:
        raise SearchError(f"period must be one of {', '.join(PERIODS)}", field="period")
    scope = None if permit.everything else (permit.departments, permit.conversations)
    archive = ctx.archive
    with archive.reader() as connection:
        result: dict[str, Any] = dict(archive.counts(connection, scope))
        for dimension in ("platform", "service_type", "department"):
            result[f"by_{dimension}"] = [
                {"value": value, "conversations": convs, "messages": msgs}
                for value, convs, msgs in archive.counts_by(connection, dimension, scope)
            ]
        per_day = archive.messages_per_day(
            connection, ctx.settings.display.utc_offset_minutes, scope
        )
    buckets: Counter[str] = Counter()
    for day, count in per_day:
        buckets[_bucket(day, period)] += count
    result["period"] = period
    result[f"by_{period}"] = [{period: key, "messages": n} for key, n in sorted(buckets.items())]
    with archive.writer() as writer:
        details: dict[str, Any] = {"period": period}
        if permit.grants:
            details["grants"] = sorted(permit.grants)
        writer.audit(actor, "stats.viewed", details=details)
    return result
