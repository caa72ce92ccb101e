"""Audit events: written on the same connection, in the same transaction, as the change.

Actions are stable dotted names (``message.unmasked``, ``keys.rotated``). An event names the
actor, their roles, the source (cli / api / web / scheduler, and address), the target, the
result and the reason given; it never holds chat text or personal data (the ledger issue makes
this log tamper-evident and lists it).
"""

from __future__ import annotations

import time
from typing import Any

import orjson
from sqlalchemy.engine import Connection

from chatkeeper.domain import Actor
from chatkeeper.store.bulk import insert_many

_COLUMNS = (
    "at", "actor", "roles", "action", "target_kind", "target_id", "source", "address",
    "reason", "result", "details",
)  # fmt: skip


def record(
    connection: Connection,
    actor: Actor,
    action: str,
    *,
    target_kind: str | None = None,
    target_id: str | None = None,
    result: str = "ok",
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Append one audit event."""
    insert_many(
        connection,
        "audit_events",
        _COLUMNS,
        [
            (
                int(time.time() * 1000),
                actor.name,
                ",".join(sorted(actor.roles)),
                action,
                target_kind,
                target_id,
                str(actor.source),
                actor.address,
                reason,
                result,
                orjson.dumps(details).decode() if details else None,
            )
        ],
    )
