"""The daily lifecycle job: plan every conversation's step, then act.

``run_lifecycle`` reads each conversation's facts (service type, department, platform, tags,
service date, state and since when, the legal holds that cover it), plans with the pure
``chatkeeper.lifecycle.decide`` under the retention policy in force and the statutory floors,
and — unless ``dry_run`` — moves expired conversations to the recycle bin and purges those whose
bin window has passed (writing a deletion certificate). ``as_of`` asks what would happen on
another date. Each run is recorded in the audit log (``lifecycle.ran``), failed runs too, which
is what ``lifecycle_status`` reads to show the last run and any scheduled run that did not
happen.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import orjson

from chatkeeper.domain import Actor
from chatkeeper.errors import ChatKeeperError, SearchError
from chatkeeper.lifecycle import ConversationFacts, Duration, LifecycleSettings, decide
from chatkeeper.lifecycle.plan import Action
from chatkeeper.lifecycle.schedule import missed_runs, next_after, zone_info
from chatkeeper.services.authz import authorize
from chatkeeper.services.context import Context
from chatkeeper.services.holds import held_conversations
from chatkeeper.services.retention import _stored_policy, facts, floors
from chatkeeper.services.search import format_time
from chatkeeper.store import lifecycle as rows

RAN = "lifecycle.ran"


def lifecycle_settings(ctx: Context) -> LifecycleSettings:
    """The pure core's settings, from configuration."""
    config = ctx.settings.lifecycle
    return LifecycleSettings(
        cold_after=Duration.days(config.cold_after_days),
        recycle_bin_window=Duration.days(config.recycle_bin_days),
        schedule=config.schedule,
        timezone=config.timezone,
    )


def _facts(ctx: Context, connection: Any, holds: dict[int, tuple[str, ...]],
           since: dict[int, int]) -> Iterator[ConversationFacts]:  # fmt: skip
    for row in rows.conversation_rows(connection):
        fact = facts(row)
        pk = int(row["id"])
        extra: dict[str, Any] = {}
        if pk in holds:
            extra["hold_ids"] = holds[pk]
        if pk in since:
            extra["state_since"] = datetime.fromtimestamp(since[pk] / 1000, UTC)
        yield fact._replace(**extra) if extra else fact


def _bin_times(ctx: Context, connection: Any) -> dict[int, int]:
    from chatkeeper.services.recycle import bin_times

    return bin_times(connection)


def run_lifecycle(
    ctx: Context,
    actor: Actor,
    *,
    as_of: datetime | None = None,
    dry_run: bool = False,
    scheduled_for: datetime | None = None,
) -> dict[str, Any]:
    """Plan, and unless ``dry_run`` act; the summary (``archived``, ``to_recycle_bin``,
    ``purged``, ``held``, ``kept_by_floor``, per rule too). ``scheduled_for``: the fire time
    the scheduler runs this for (recorded, so that missed fire times can be found)."""
    authorize(ctx, actor, "lifecycle.run")
    now_ms = ctx.now_ms()
    if as_of is not None:
        if as_of.tzinfo is None:
            raise SearchError("--as-of needs a date with a UTC offset", field="as_of")
        if not dry_run and as_of.timestamp() * 1000 > now_ms + 60_000:
            raise SearchError("a date in the future can only be planned: add --dry-run",
                              field="as_of")  # fmt: skip
    moment = as_of or datetime.fromtimestamp(now_ms / 1000, UTC)
    slot = {"scheduled_for": scheduled_for.isoformat()} if scheduled_for else {}
    try:
        summary = _run(ctx, actor, moment, dry_run, slot)
    except ChatKeeperError as exc:
        with ctx.archive.writer() as writer:
            writer.audit(actor, RAN, result="failed",
                         details={"dry_run": dry_run, "error": str(exc.code), **slot})  # fmt: skip
        raise
    return summary


def _run(
    ctx: Context, actor: Actor, moment: datetime, dry_run: bool, slot: dict[str, str]
) -> dict[str, Any]:
    covered = held_conversations(ctx)
    holds: dict[int, tuple[str, ...]] = {}
    for hold_id, pks in covered.items():
        for pk in pks:
            holds[pk] = (*holds.get(pk, ()), str(hold_id))
    to_bin: list[int] = []
    to_purge: list[int] = []
    to_cold: list[int] = []
    with ctx.archive.writer() as writer:  # the policy in force is written once if not yet
        policy = _stored_policy(writer.connection, ctx.now_ms())
    with ctx.archive.reader() as connection:
        since = _bin_times(ctx, connection)
        plan = decide(_facts(ctx, connection, holds, since), policy, floors(), [], moment,
                      lifecycle_settings(ctx))  # fmt: skip
        for decision in plan:
            if decision.action is Action.TO_RECYCLE_BIN:
                to_bin.append(int(decision.conversation_id))
            elif decision.action is Action.PURGE:
                to_purge.append(int(decision.conversation_id))
            elif decision.action is Action.ARCHIVE:
                to_cold.append(int(decision.conversation_id))
        totals = plan.totals()
        overall = plan.overall()
    summary: dict[str, Any] = {
        "as_of": moment.isoformat(timespec="seconds"),
        "dry_run": dry_run,
        "policy_version": policy.version,
        "archived": overall.archived,
        "to_recycle_bin": overall.to_recycle_bin,
        "purged": overall.purged,
        "held": overall.held,
        "kept_by_floor": overall.kept_by_floor,
        "stayed": overall.stayed,
        "by_rule": {rule: asdict(t) for rule, t in totals.items()},
        "certificate": None,
    }
    if not dry_run:
        summary.update(_act(ctx, actor, to_bin, to_purge, to_cold))
    with ctx.archive.writer() as writer:
        details = {k: v for k, v in summary.items() if k != "by_rule"}
        writer.audit(actor, RAN, details={**details, **slot})
    return summary


def _act(
    ctx: Context, actor: Actor, to_bin: list[int], to_purge: list[int], to_cold: list[int]
) -> dict[str, Any]:
    from chatkeeper.services.purge import purge
    from chatkeeper.services.recycle import move_to_bin
    from chatkeeper.services.retention import deadlines

    out: dict[str, Any] = {}
    deadlines(ctx, actor)  # every conversation records its deadline and the policy version
    if to_bin:
        move_to_bin(ctx, actor, to_bin, "retention deadline reached")
    if to_purge:
        certificate = purge(ctx, actor, to_purge, reason="recycle-bin window elapsed")
        out["certificate"] = certificate.get("id") if isinstance(certificate, dict) else None
    out["cold"] = move_to_cold(ctx, actor, to_cold)
    # Segments a crash left holding purged blocks:
    out["cold"]["segments_rewritten"] = len(ctx.archive.compact_segments(None, ctx.now_ms()))
    with ctx.archive.reader() as connection:
        out["cold"]["orphans_removed"] = len(ctx.archive.cold(connection).sweep())
    return out


def move_to_cold(ctx: Context, actor: Actor, pks: Sequence[int]) -> dict[str, Any]:
    """Move conversations (database ids; those not active are skipped) to cold segments, one
    segment (one transaction, one ``conversation.archived`` audit event) at a time, a segment
    per service day (in the lifecycle time zone) up to ``segment_mb``: the daily job's step,
    for those whose ``cold_after_days`` passed."""
    authorize(ctx, actor, "lifecycle.run")
    totals = {"conversations": 0, "messages": 0, "bytes": 0, "segments": 0}
    if not pks:
        return totals
    ctx.load_keys()
    zone = zone_info(ctx.settings.lifecycle.timezone)
    with ctx.archive.reader() as connection:
        ended = rows.ended_at(connection, pks)
    days: dict[str, list[int]] = {}
    for pk in sorted(pks, key=lambda p: (ended.get(p, 0), p)):
        if pk in ended:
            day = datetime.fromtimestamp(ended[pk] / 1000, zone).strftime("%Y%m%d")
            days.setdefault(day, []).append(pk)
    max_bytes = ctx.settings.lifecycle.segment_mb * 1024 * 1024
    for day, group in sorted(days.items()):
        pending = group
        while pending:
            with ctx.archive.writer() as writer:
                cold = ctx.archive.cold(writer.connection)
                taken, moved = cold.archive_segment(
                    f"cold-{day}", pending, ctx.now_ms(), max_bytes=max_bytes
                )
                if moved.conversations:
                    details = {"segment": moved.segments[0], "conversations": moved.conversations,
                               "messages": moved.messages, "bytes": moved.bytes}  # fmt: skip
                    writer.audit(actor, "conversation.archived", target_kind="segment",
                                 target_id=moved.segments[0], details=details)  # fmt: skip
            pending = pending[max(taken, 1) :]
            totals["conversations"] += moved.conversations
            totals["messages"] += moved.messages
            totals["bytes"] += moved.bytes
            totals["segments"] += len(moved.segments)
    return totals


def lifecycle_status(ctx: Context, actor: Actor) -> dict[str, Any]:
    """The last runs, the next scheduled one, and scheduled runs that did not happen."""
    authorize(ctx, actor, "lifecycle.run")
    config = ctx.settings.lifecycle
    offset = ctx.settings.display.utc_offset_minutes
    now = datetime.fromtimestamp(ctx.now_ms() / 1000, UTC)
    with ctx.archive.writer() as writer:
        runs = writer.connection.exec_driver_sql(
            "SELECT at, actor, source, result, details FROM audit_events"
            f" WHERE action = '{RAN}' ORDER BY id DESC LIMIT 20"
        ).all()
        cold = ctx.archive.cold(writer.connection).totals()
        writer.audit(actor, "lifecycle.status_viewed")
    recent = [
        {"at": format_time(int(at), offset), "actor": who, "source": source, "result": result,
         "details": orjson.loads(details) if details else None}
        for at, who, source, result, details in runs
    ]  # fmt: skip
    # The fire times the scheduler ran for (recorded by it), newest first.
    slots = sorted(
        (
            datetime.fromisoformat(r["details"]["scheduled_for"])
            for r in recent
            if r["result"] == "ok" and r["details"] and r["details"].get("scheduled_for")
        ),
        reverse=True,
    )
    missed: list[str] = []
    if slots:
        last = slots[0]
        missed = [
            format_time(int(m.timestamp() * 1000), offset)
            for m in missed_runs(config.schedule, last, now, config.timezone)
        ]
    upcoming = next_after(config.schedule, now, config.timezone)
    return {
        "schedule": config.schedule,
        "timezone": config.timezone,
        "next_run": format_time(int(upcoming.timestamp() * 1000), offset),
        "last_runs": recent,
        "last_failed": next((r for r in recent if r["result"] != "ok"), None),
        "never_run_by_scheduler": not slots,
        "missed_runs": missed,
        "cold": cold,
    }
