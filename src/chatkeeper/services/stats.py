"""Counts of the archive by platform, service type, department and day."""

from __future__ import annotations

from typing import Any

from chatkeeper.domain import Actor
from chatkeeper.services.context import Context


def archive_stats(ctx: Context, actor: Actor) -> dict[str, Any]:
    """Totals, and conversations and messages per platform, service type, department, day."""
    archive = ctx.archive
    with archive.reader() as connection:
        result: dict[str, Any] = dict(archive.counts(connection))
        for dimension in ("platform", "service_type", "department"):
            result[f"by_{dimension}"] = [
                {"value": value, "conversations": convs, "messages": msgs}
                for value, convs, msgs in archive.counts_by(connection, dimension)
            ]
        result["by_day"] = [
            {"day": day, "messages": count}
            for day, count in archive.messages_per_day(
                connection, ctx.settings.display.utc_offset_minutes
            )
        ]
    with archive.writer() as writer:
        writer.audit(actor, "stats.viewed")
    return result
