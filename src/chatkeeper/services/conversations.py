"""Reading one conversation: its details and its transcript."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from chatkeeper.domain import Actor
from chatkeeper.errors import NotFound
from chatkeeper.services.authz import authorize, check_reach
from chatkeeper.services.context import Context
from chatkeeper.services.holds import holds_for
from chatkeeper.services.retention import retention_of
from chatkeeper.services.search import format_time


@dataclass(frozen=True, slots=True)
class Transcript:
    """A conversation and every record stored for it, in time order."""

    conversation: dict[str, Any]
    messages: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        """The ``--json`` shape."""
        return {"conversation": self.conversation, "messages": self.messages}


def show_conversation(
    ctx: Context, actor: Actor, conversation_id: str, platform: str | None = None
) -> Transcript:
    """The transcript of a conversation (``NotFound`` if there is none)."""
    permit = authorize(ctx, actor, "conversation.view")
    offset = ctx.settings.display.utc_offset_minutes
    with ctx.archive.reader() as connection:
        row = ctx.archive.find_conversation(connection, conversation_id, platform)
        check_reach(permit, actor, row["id"], row["department_id"], conversation_id)
        if row["state"] in ("recycle_bin", "purged"):
            state = row["state"].replace("_", " ")
            raise NotFound(f"conversation '{conversation_id}' is {state}",
                           conversation=conversation_id)  # fmt: skip
        messages = ctx.archive.transcript(connection, row["id"])
        agents = ctx.archive.agents_of(connection, row["id"])
    grants = permit.grants_for(row["id"], row["department_id"])
    with ctx.archive.writer() as writer:
        writer.audit(actor, "conversation.viewed", target_kind="conversation",
                     target_id=f"{row['platform']}:{row['external_id']}",
                     details={"grants": grants} if grants else None)  # fmt: skip
    conversation = {
        "conversation_id": row["external_id"],
        "platform": row["platform"],
        "department": row["department"],
        "service_type": row["service_type"],
        "customer_id": row["customer"],
        "customer_name": row["customer_name"],
        "agents": agents,
        "started_at": format_time(row["started_at"], offset),
        "ended_at": format_time(row["ended_at"], offset),
        "service_date": format_time(row["ended_at"], offset)[:10],
        "message_count": row["message_count"],
        "state": row["state"],
        "retention": retention_of(ctx, row["id"]),
        "holds": list(holds_for(ctx, [row["id"]]).get(row["id"], ())),
    }
    out = [
        {
            "message_id": m["message_id"],
            "sent_at": format_time(m["sent_at"], m["utc_offset"]),
            "sender_role": m["sender_role"],
            "sender_id": m["sender_id"],
            "sender_name": m["sender_name"],
            "msgtype": m["msgtype"],
            "kind": m["kind"],
            "text": m["text"],
            "recalled": m["recalled_at"] is not None,
            "payload": orjson.loads(m["payload"]) if m["payload"] else None,
        }
        for m in messages
    ]
    return Transcript(conversation, out)
