"""Audit events: written on the same connection, in the same transaction, as the change.

Actions are stable dotted names (``message.unmasked``, ``keys.rotated``). An event names the
actor, their roles, the source (cli / api / web / scheduler, and address), the target, the
result and the reason given; it never holds chat text or personal data. Each event is also a
leaf of the audit log (ledger log 2), appended in the same transaction, so that an edited,
reordered or deleted event is found by ``chatkeeper ledger verify``.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy.engine import Connection

from chatkeeper.domain import Actor
from chatkeeper.ledger import AuditLeaf, details_digest
from chatkeeper.store.bulk import insert_many
from chatkeeper.store.ledger import AUDIT_LOG, LedgerSigner, LedgerWriter

_COLUMNS = (
    "at", "actor", "roles", "action", "target_kind", "target_id", "source", "address",
    "reason", "result", "details", "ledger_index", "approval_id",
)  # fmt: skip


def audit_leaf(row: dict[str, Any]) -> AuditLeaf:
    """The ledger leaf of an audit row (the same function records and verifies it)."""
    details = orjson.loads(row["details"]) if row["details"] else {}
    committed = {"reason": row["reason"], **details} if row["reason"] else details
    source = str(row["source"]) + (f"@{row['address']}" if row["address"] else "")
    return AuditLeaf(
        event_id=str(row["ledger_index"]),
        occurred_at=datetime.fromtimestamp(int(row["at"]) / 1000, UTC),
        actor_id=str(row["actor"]),
        actor_role=str(row["roles"]),
        action=str(row["action"]),
        target_type=str(row["target_kind"] or ""),
        target_id=str(row["target_id"] or ""),
        result=str(row["result"]),
        source=source,
        approval_id=str(row["approval_id"]) if row.get("approval_id") is not None else "",
        details_digest=details_digest(committed),
    )


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
    signer: LedgerSigner | None = None,
    approval_id: int | None = None,
) -> None:
    """Append one audit event, and its leaf in the audit log, in the caller's transaction."""
    ledger = LedgerWriter(
        connection, AUDIT_LOG, signer.origin(AUDIT_LOG) if signer else "chatkeeper/audit"
    )
    row: dict[str, Any] = {
        "at": int(time.time() * 1000),
        "actor": actor.name,
        "roles": ",".join(sorted(actor.roles)),
        "action": action,
        "target_kind": target_kind,
        "target_id": target_id,
        "source": str(actor.source),
        "address": actor.address,
        "reason": reason,
        "result": result,
        "details": orjson.dumps(details).decode() if details else None,
        "ledger_index": ledger.size,
        "approval_id": approval_id,
    }
    insert_many(connection, "audit_events", _COLUMNS, [tuple(row[c] for c in _COLUMNS)])
    ledger.append([audit_leaf(row).leaf_hash()])
    if signer is not None:
        ledger.checkpoint(signer.key)
