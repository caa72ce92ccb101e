"""The recycle bin: conversations past their deadline wait here, recoverable, before the purge.

A binned conversation has the state ``recycle_bin``: its messages leave the search index, and
views refuse it; nothing is deleted or decrypted. ``restore_from_bin`` brings it back (index
entries and all) within the bin window (``LifecycleSettings.recycle_bin_window``, 30 days by
default) and is a key operation (``bin.restore``); after the window only the purge is left.
The daily job calls :func:`move_to_bin` as the system; legal may call it by hand. A conversation
under a legal hold is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from chatkeeper.domain import Actor
from chatkeeper.errors import ErrorCode, NotFound
from chatkeeper.governance import GovernanceError, require
from chatkeeper.lifecycle import LifecycleSettings, State, default_settings
from chatkeeper.lifecycle.errors import LegalHoldActive, LifecycleError
from chatkeeper.services.authz import authorize, authorized
from chatkeeper.services.context import Context
from chatkeeper.services.holds import holds_for
from chatkeeper.services.search import format_time
from chatkeeper.store import purge as rows

#: Conversations named per ``conversation.binned`` audit event (its details stay small).
AUDIT_GROUP = 200


class NotInRecycleBin(LifecycleError):
    """A restore asked for a conversation that is not in the recycle bin (wanted code:
    ``not_in_recycle_bin``)."""

    code, http_status, exit_code = ErrorCode.NOT_FOUND, 404, 4


class BinWindowElapsed(LifecycleError):
    """A restore asked after the bin window: the conversation is due for purge (wanted code:
    ``bin_window_elapsed``)."""

    code, http_status, exit_code = ErrorCode.GOVERNANCE_INVALID, 409, 64


def purge_due_at(binned_at: int, settings: LifecycleSettings | None = None) -> int | None:
    """When the bin window of a conversation binned at ``binned_at`` (epoch ms) ends, in the
    lifecycle calendar (``None``: a permanent window, never)."""
    settings = settings or default_settings()
    moment = datetime.fromtimestamp(binned_at / 1000, settings.zone)
    due = settings.recycle_bin_window.add_to(moment)
    return None if due is None else int(due.timestamp() * 1000)


def _need_reason(reason: str) -> None:
    if not reason.strip():
        raise GovernanceError("a recycle-bin step needs a reason", field="reason")


def refuse_held(ctx: Context, facts: dict[int, dict[str, Any]]) -> None:
    """``LegalHoldActive`` naming the first of these conversations (``store.purge``
    ``conversation_facts``) that an active hold covers: for the bin and the purge."""
    held = holds_for(ctx, sorted(facts))
    for pk, holds in held.items():
        raise LegalHoldActive(facts[pk]["ref"], tuple(str(h) for h in holds))


def move_to_bin(
    ctx: Context,
    actor: Actor,
    conversation_pks: Sequence[int],
    reason: str,
    *,
    run_id: int | None = None,
) -> dict[str, Any]:
    """Put conversations (by database id) in the recycle bin: state ``recycle_bin``, out of the
    search index, the time recorded. Refused as a whole if one is under a legal hold, purged,
    or does not exist; those already in the bin are left as they are."""
    _need_reason(reason)
    authorize(ctx, actor, "bin.move")
    with ctx.archive.reader() as connection:
        facts = rows.conversation_facts(connection, conversation_pks)
    for pk in sorted(set(conversation_pks) - set(facts)):
        raise NotFound(f"no conversation with database id {pk}")
    for fact in facts.values():
        if fact["state"] == State.PURGED:
            raise NotInRecycleBin(f"conversation {fact['ref']} is purged already")
    refuse_held(ctx, facts)
    moving = sorted(pk for pk, f in facts.items() if f["state"] != State.RECYCLE_BIN)
    already = sorted(facts[pk]["ref"] for pk in facts if pk not in moving)
    now = ctx.now_ms()
    with ctx.archive.writer() as writer:
        conn = writer.connection
        rows.put_in_bin(
            conn, [(pk, now, actor.name, reason, facts[pk]["state"], run_id) for pk in moving]
        )
        rows.set_state(conn, moving, State.RECYCLE_BIN, now)
        unindexed = rows.unindex(conn, ctx.archive.index, moving, ctx.archive.cold(conn))
        refs = [facts[pk]["ref"] for pk in moving]
        for start in range(0, len(refs), AUDIT_GROUP):
            group = refs[start : start + AUDIT_GROUP]
            writer.audit(
                actor,
                "conversation.binned",
                target_kind="conversation",
                target_id=group[0] if len(group) == 1 else f"{len(group)} conversations",
                reason=reason,
                details={"conversations": group, "run": run_id},
            )
    return {"binned": refs, "already_in_bin": already, "messages_unindexed": unindexed}


def _entry(ctx: Context, row: dict[str, Any], settings: LifecycleSettings | None) -> dict[str, Any]:
    offset = ctx.settings.display.utc_offset_minutes
    due = purge_due_at(row["binned_at"], settings)
    return {
        "conversation_id": row["external_id"],
        "platform": row["platform"],
        "department": row["department"],
        "service_type": row["service_type"],
        "messages": row["message_count"],
        "binned_at": format_time(row["binned_at"], offset),
        "binned_by": row["binned_by"],
        "reason": row["reason"],
        "purge_due_at": None if due is None else format_time(due, offset),
        "restorable": due is None or ctx.now_ms() < due,
    }


def list_bin(
    ctx: Context, actor: Actor, settings: LifecycleSettings | None = None
) -> list[dict[str, Any]]:
    """Every conversation in the recycle bin, oldest first: when it went in, by whom, why, and
    when its window ends (the purge is due)."""
    authorize(ctx, actor, "bin.list")
    with ctx.archive.reader() as connection:
        found = rows.bin_rows(connection)
    with ctx.archive.writer() as writer:
        writer.audit(actor, "bin.listed", details={"conversations": len(found)})
    return [_entry(ctx, row, settings) for row in found]


def bin_times(connection: Connection, pks: Sequence[int] | None = None) -> dict[int, int]:
    """For the lifecycle service (which authorises and audits its own run), on its
    connection: when each conversation in the bin (all, or those of ``pks``) entered it, in
    epoch ms: the planner's ``ConversationFacts.state_since``."""
    return {r["conversation_id"]: r["binned_at"] for r in rows.bin_rows(connection, pks)}


def restore_from_bin(
    ctx: Context,
    actor: Actor,
    conversation_id: str,
    reason: str,
    approval: int | None = None,
    *,
    platform: str | None = None,
    settings: LifecycleSettings | None = None,
) -> dict[str, Any]:
    """Take a conversation out of the bin within its window (a key operation: ``bin.restore``):
    the state it had before, its messages back in the search index. After the window,
    ``BinWindowElapsed``."""
    _need_reason(reason)
    require("bin.restore", actor.name, actor.roles)  # who may, before reading anything
    found: dict[str, Any] = {}

    def restorable(_: object) -> None:
        with ctx.archive.reader() as connection:
            row = ctx.archive.find_conversation(connection, conversation_id, platform)
            entries = rows.bin_rows(connection, [row["id"]])
        ref = f"{row['platform']}:{row['external_id']}"
        if not entries:
            raise NotInRecycleBin(f"conversation {ref} is not in the recycle bin ({row['state']})")
        due = purge_due_at(entries[0]["binned_at"], settings)
        if due is not None and ctx.now_ms() >= due:
            when = format_time(due, ctx.settings.display.utc_offset_minutes)
            raise BinWindowElapsed(
                f"conversation {ref} cannot be restored: its recycle-bin window ended at {when};"
                " it is due for purge",
                conversation=ref,
            )
        found.update(pk=row["id"], ref=ref, entry=entries[0])

    with ctx.archive.reader() as connection:
        target = ctx.archive.find_conversation(connection, conversation_id, platform)
    params = {"conversation": f"{target['platform']}:{target['external_id']}"}
    with (
        authorized(
            ctx, actor, "bin.restore", params, approval, reason=reason, check=restorable
        ) as permit,
        ctx.archive.writer() as writer,
    ):
        conn = writer.connection
        if not rows.take_from_bin(conn, found["pk"]):
            raise NotInRecycleBin(f"conversation {found['ref']} is not in the recycle bin")
        state = found["entry"]["previous_state"]
        rows.set_state(conn, [found["pk"]], state, ctx.now_ms())
        indexed = rows.reindex(conn, ctx.archive.index, [found["pk"]], ctx.archive.cold(conn))
        writer.audit(
            actor,
            "conversation.restored",
            target_kind="conversation",
            target_id=found["ref"],
            reason=reason,
            approval_id=permit.approval_id,
            details={"binned_at": found["entry"]["binned_at"]},
        )
    return {
        "conversation": found["ref"],
        "state": state,
        "messages_indexed": indexed,
        "approval": permit.approval_id,
    }
